// SUBSCRIBE and UNSUBSCRIBE: filter checks, the tree, SUBACK codes, then retained messages.
#include <spdlog/spdlog.h>

#include <algorithm>

#include "broker.hpp"
#include "connection.hpp"
#include "core/topic.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

bool has_wildcard(std::string_view filter) {
    return filter.find_first_of("+#") != std::string_view::npos;
}

}  // namespace

bool Connection::handle_subscribe(codec::Subscribe& subscribe) {
    const core::BrokerSettings& settings = _loop.broker().settings();
    core::Session& session = _slot->session;
    const bool v5 = _version == codec::ProtocolVersion::V5;
    uint32_t subscription_id = 0;
    if (!subscribe.properties.subscription_identifiers.empty()) {
        if (!settings.subscription_identifiers) {
            return protocol_error(codec::ReasonCode::SubscriptionIdentifiersNotSupported,
                                  "subscription identifiers not supported");
        }
        subscription_id = subscribe.properties.subscription_identifiers.front();
    }
    // Null without an ACL file: then every filter is allowed.
    const std::shared_ptr<const core::AclFile> acl =
        _loop.broker().acl_enabled() ? _loop.broker().acl() : nullptr;
    codec::Suback suback;
    suback.packet_id = subscribe.packet_id;  // [MQTT-3.8.4-2]
    std::vector<std::pair<std::string, core::SubscriptionOptions>> send_retained_for;
    for (codec::SubscribeEntry& entry : subscribe.entries) {
        const bool shared = core::is_shared_filter(entry.filter);
        std::optional<core::SharedFilter> parsed;
        if (shared) {
            parsed = core::parse_shared_filter(entry.filter);
        }
        const std::string_view plain =
            shared ? (parsed ? parsed->filter : std::string_view{}) : entry.filter;
        codec::ReasonCode code = codec::ReasonCode::Success;
        if ((shared && !parsed) ||
            !core::is_valid_topic_filter(plain, settings.limits.max_topic_length,
                                         settings.limits.max_topic_levels)) {
            code = codec::ReasonCode::TopicFilterInvalid;
        } else if (shared && !settings.shared_subscriptions) {
            code = codec::ReasonCode::SharedSubscriptionsNotSupported;
        } else if (shared && entry.no_local) {
            // No Local on a shared subscription is a Protocol Error [MQTT-3.8.3-4].
            return protocol_error(codec::ReasonCode::ProtocolError, "no local on shared filter");
        } else if (has_wildcard(plain) && !settings.wildcard_subscriptions) {
            code = codec::ReasonCode::WildcardSubscriptionsNotSupported;
        } else if (acl &&
                   !acl->can_subscribe(session.username, session.client_id(), entry.filter)) {
            // 3.1.1 reports it as the generic failure 0x80 below.
            code = codec::ReasonCode::NotAuthorized;
        } else if (settings.limits.max_subscriptions_per_client != 0 &&
                   session.subscriptions.size() >= settings.limits.max_subscriptions_per_client &&
                   !session.subscriptions.contains(entry.filter)) {
            code = codec::ReasonCode::QuotaExceeded;
        }
        if (code != codec::ReasonCode::Success) {
            // 3.1.1 knows only one failure code [MQTT-3.9.3-2].
            suback.reason_codes.push_back(v5 ? static_cast<uint8_t>(code) : codec::kSubackFailure);
            continue;
        }
        core::SubscriptionOptions options;
        options.qos = std::min(entry.qos, settings.maximum_qos);
        options.no_local = entry.no_local;
        options.retain_as_published = entry.retain_as_published;
        options.retain_handling = entry.retain_handling;
        options.subscription_id = subscription_id;
        // A repeated filter replaces the subscription [MQTT-3.8.4-3].
        const bool is_new = _loop.broker().subscriptions().subscribe(session.key(), entry.filter,
                                                                     options, &session.subscriber);
        session.subscriptions[entry.filter] = options;
        suback.reason_codes.push_back(options.qos);
        // Retain Handling: 0 always, 1 only for a new subscription, 2 never
        // [MQTT-3.3.1-9, 3.3.1-10, 3.3.1-11]. Shared subscriptions get none [MQTT-4.8.2-?].
        if (!shared && (entry.retain_handling == 0 || (entry.retain_handling == 1 && is_new))) {
            send_retained_for.emplace_back(entry.filter, options);
        }
    }
    // A persistent session's SUBACK waits until its subscriptions are durable; retained
    // messages follow the SUBACK.
    AckBarrierPtr barrier;
    if (session.persistent()) {
        barrier = make_barrier(suback);
        _loop.persistence().put_session(session, _loop.now(), true, barrier);
        _slot->stored = _slot->stored || barrier != nullptr;
    }
    if (barrier || acks_waiting()) {
        if (!barrier) {
            barrier = std::make_shared<AckBarrier>(_loop, _id, std::move(suback));
        }
        barrier->after_send = [this, retained = std::move(send_retained_for)] {
            for (const auto& [filter, options] : retained) {
                send_retained(filter, options);
            }
        };
        send_ordered_ack({}, barrier);
        return true;
    }
    send_packet(suback);
    for (const auto& [filter, options] : send_retained_for) {
        send_retained(filter, options);
    }
    return true;
}

void Connection::send_retained(const std::string& filter,
                               const core::SubscriptionOptions& options) {
    std::vector<core::MessagePtr> retained;
    _loop.broker().retained().match(filter, core::mono_now_ms(), retained);
    const uint64_t uid = _slot->session.uid();
    for (core::MessagePtr& message : retained) {
        core::OutgoingMessage outgoing;
        outgoing.qos = std::min(message->qos, options.qos);
        // Retained messages sent for a new subscription keep RETAIN 1 [MQTT-3.3.1-8].
        outgoing.retain = true;
        if (options.subscription_id != 0) {
            outgoing.subscription_ids.push_back(options.subscription_id);
        }
        outgoing.message = std::move(message);
        _loop.deliver_local(uid, std::move(outgoing));
    }
}

bool Connection::handle_unsubscribe(const codec::Unsubscribe& unsubscribe) {
    core::Session& session = _slot->session;
    codec::Unsuback unsuback;
    unsuback.packet_id = unsubscribe.packet_id;  // [MQTT-3.10.4-4]
    for (const std::string& filter : unsubscribe.filters) {
        auto it = session.subscriptions.find(filter);
        const bool existed = it != session.subscriptions.end();
        if (existed) {
            session.subscriptions.erase(it);
            _loop.broker().subscriptions().unsubscribe(session.key(), filter);
        }
        if (_version == codec::ProtocolVersion::V5) {
            unsuback.reason_codes.push_back(static_cast<uint8_t>(
                existed ? codec::ReasonCode::Success : codec::ReasonCode::NoSubscriptionExisted));
        }
    }
    AckBarrierPtr barrier;
    if (session.persistent()) {
        barrier = make_barrier(unsuback);
        _loop.persistence().put_session(session, _loop.now(), true, barrier);
    }
    send_ordered_ack(std::move(unsuback), barrier);
    return true;
}

}  // namespace tern::net
