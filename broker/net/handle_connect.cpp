// CONNECT: client id rules, will checks, the hop to the session's loop, takeover, CONNACK.
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <random>
#include <utility>

#include "broker.hpp"
#include "codec/encoder.hpp"
#include "connection.hpp"
#include "core/topic.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

constexpr uint32_t kNeverExpires = 0xFFFFFFFF;
// How long a CONNACK refusing credentials is held back: slows down password guessing.
constexpr core::MonoMillis kAuthFailureDelayMs = 1000;

// A client id the server assigns [MQTT-3.1.3-6]; chosen so that it hashes to `loop`, which saves
// moving the connection to another loop.
std::string assign_client_id(const Broker& broker, uint32_t loop) {
    thread_local std::mt19937_64 random{std::random_device{}()};
    for (;;) {
        char text[32];
        snprintf(text, sizeof(text), "tern-%016llx", static_cast<unsigned long long>(random()));
        if (broker.owner_loop(text) == loop) {
            return text;
        }
    }
}

}  // namespace

bool Connection::reject_connect(codec::ReasonCode reason, std::string_view why) {
    spdlog::info("client ({}): connection refused: {} ({})", _peer, why,
                 codec::reason_code_name(reason));
    codec::Connack refuse;
    if (_version == codec::ProtocolVersion::V5) {
        refuse.reason_code = static_cast<uint8_t>(reason);
        refuse.properties.reason_string = std::string(why);
    } else {
        refuse.reason_code = static_cast<uint8_t>(codec::to_v3_connack(reason));
    }
    send_packet(refuse);
    // A CONNACK with a failure is followed by closing the connection [MQTT-3.2.2-5].
    _will_on_close = false;
    close(why);
    return false;
}

bool Connection::handle_connect(codec::Connect& connect, std::span<const uint8_t> raw_frame,
                                std::span<const uint8_t> after) {
    _connect_received = true;
    _version = connect.version;
    const core::BrokerSettings& settings = _loop.broker().settings();

    if (connect.version == codec::ProtocolVersion::V5 && connect.properties.authentication_method) {
        // No enhanced authentication method is configured [MQTT-4.12.0-1].
        return reject_connect(codec::ReasonCode::BadAuthenticationMethod,
                              "authentication method not supported");
    }
    std::string assigned_id;
    if (connect.client_id.empty()) {
        // 3.1.1 allows an empty id only with a clean session [MQTT-3.1.3-8]; 3.1 never.
        if (connect.version == codec::ProtocolVersion::V31 ||
            (connect.version == codec::ProtocolVersion::V311 && !connect.clean_start)) {
            return reject_connect(codec::ReasonCode::ClientIdentifierNotValid,
                                  "empty client id needs a clean session");
        }
        if (!settings.allow_zero_length_client_id) {
            return reject_connect(codec::ReasonCode::ClientIdentifierNotValid,
                                  "empty client ids are not allowed");
        }
        assigned_id = assign_client_id(_loop.broker(), _loop.index());
        connect.client_id = assigned_id;
    } else if (connect.client_id.size() > settings.limits.max_client_id_length) {
        return reject_connect(codec::ReasonCode::ClientIdentifierNotValid, "client id too long");
    }
    if (!validate_will(connect)) {
        return false;
    }
    const uint32_t owner = _loop.broker().owner_loop(connect.client_id);
    if (owner != _loop.index()) {
        return migrate_to(owner, raw_frame, after);
    }
    if (!memory_allows(connect)) {
        return reject_connect(codec::ReasonCode::ServerBusy, "server busy (memory limit)");
    }
    if (!apply_transport_identity(connect)) {
        return false;
    }
    if (!authenticate(connect)) {
        return false;
    }
    if (!_loop.broker().try_reserve_client()) {
        return reject_connect(codec::ReasonCode::ServerBusy, "too many connections");
    }
    attach_session(connect, assigned_id);
    return !_closing;
}

bool Connection::authenticate(const codec::Connect& connect) {
    const Broker& broker = _loop.broker();
    const auto passwords = broker.passwords();
    // The password is never logged; the user name and client id are.
    const auto refuse = [&](codec::ReasonCode reason, std::string why) {
        LoopStats::add(_loop.stats().auth_failures, 1);
        spdlog::warn("client {} ({}), user '{}': authentication failed: {}", connect.client_id,
                     _peer, connect.username.value_or(""), why);
        refuse_later(reason, std::move(why));
        return false;
    };
    if (connect.username) {
        // A user name taken from a verified client certificate needs no password.
        if (passwords && !_user_from_transport &&
            (!connect.password || !passwords->verify(*connect.username, *connect.password))) {
            // [MQTT-3.1.4-2]: the server may refuse a client that fails authentication.
            return refuse(codec::ReasonCode::BadUserNameOrPassword, "bad user name or password");
        }
    } else if (!broker.settings().auth.allow_anonymous) {
        return refuse(codec::ReasonCode::NotAuthorized, "anonymous access not allowed");
    }
    if (connect.will && broker.acl_enabled()) {
        const auto acl = broker.acl();
        if (acl && !acl->can_publish(connect.username, connect.client_id, connect.will->topic)) {
            return refuse(codec::ReasonCode::NotAuthorized, "will topic not authorized");
        }
    }
    return true;
}

void Connection::refuse_later(codec::ReasonCode reason, std::string why) {
    // Nothing more is read; the loop's tick sends the CONNACK and closes (check_timeouts).
    uv_read_stop(reinterpret_cast<uv_stream_t*>(&_handle));
    Rare& rare = this->rare();
    rare.refuse_at = _loop.now() + kAuthFailureDelayMs;
    rare.refuse_reason = reason;
    rare.refuse_why = std::move(why);
}

bool Connection::validate_will(const codec::Connect& connect) {
    if (!connect.will) {
        return true;
    }
    const core::BrokerSettings& settings = _loop.broker().settings();
    const codec::Will& will = *connect.will;
    if (!core::is_valid_topic_name(will.topic, settings.limits.max_topic_length,
                                   settings.limits.max_topic_levels)) {
        return reject_connect(codec::ReasonCode::TopicNameInvalid, "invalid will topic");
    }
    if (will.qos > settings.maximum_qos) {
        // [MQTT-3.2.2-12]
        return reject_connect(codec::ReasonCode::QosNotSupported, "will QoS not supported");
    }
    if (will.retain && !settings.retain_available) {
        // [MQTT-3.2.2-13]
        return reject_connect(codec::ReasonCode::RetainNotSupported, "retain not supported");
    }
    return true;
}

bool Connection::migrate_to(uint32_t loop, std::span<const uint8_t> raw_frame,
                            std::span<const uint8_t> after) {
    // Sessions are pinned to a loop by their client id, so every session change (takeover,
    // delivery) happens on one thread. Move the socket there with everything read after it.
    if (_transport && writing()) {
        // TLS records must reach the socket in order; a write still pending on this loop could
        // be overtaken by the target loop's first write. Clients send CONNECT only after reading
        // the whole handshake, so this does not happen with a well-behaved client.
        close("cannot move a TLS connection while a write is pending");
        return false;
    }
    uv_os_fd_t fd = -1;
    if (uv_fileno(reinterpret_cast<uv_handle_t*>(&_handle), &fd) != 0) {
        close("cannot move connection");
        return false;
    }
    const int copy = ::dup(fd);
    if (copy < 0) {
        close("cannot move connection");
        return false;
    }
    std::string carried(reinterpret_cast<const char*>(raw_frame.data()), raw_frame.size());
    carried.append(reinterpret_cast<const char*>(after.data()), after.size());
    _migrating = true;
    _will_on_close = false;
    // The socket's place in the per-address count moves with it.
    const bool ip_counted = std::exchange(_ip_counted, false);
    // A TLS connection's state moves too (one thread at a time uses it), with the records it
    // has not written yet (TLS 1.3 session tickets): the target loop writes them first. Boxed
    // because tasks must be copyable.
    auto transport = std::make_shared<std::unique_ptr<Transport>>(std::move(_transport));
    std::string wire;
    if (_rare) {
        wire = std::move(_rare->wire);
        _rare->wire.clear();
    }
    const core::MonoMillis accepted = _phase_since;  // before close() starts the closing phase
    close("moved to worker " + std::to_string(loop));
    _loop.broker().loop(loop).post([copy, carried = std::move(carried), peer = _peer, accepted,
                                    ip_counted, transport,
                                    wire = std::move(wire)](WorkerLoop& target) mutable {
        Connection* moved = Connection::adopt(target, copy, std::move(carried), peer, accepted,
                                              std::move(*transport), std::move(wire));
        if (moved != nullptr) {
            moved->_ip_counted = ip_counted;
            moved->start();
        } else if (ip_counted) {
            target.broker().ip_limiter().release_peer(peer, target.now());
        }
    });
    return false;
}

void Connection::take_over(SessionSlot& slot, bool clean_start) {
    Connection* old = slot.connection;
    core::Session& session = slot.session;
    spdlog::info("client {}: session taken over by {} (was {})", session.client_id(), _peer,
                 old->_peer);
    if (session.will) {
        // The old connection ended without DISCONNECT, so its will is due; with a delay it is
        // cancelled when the session continues [MQTT-3.1.3-9], published when it ends.
        if (session.will->delay_s == 0 || clean_start) {
            codec::Will will = std::move(session.will->will);
            session.will.reset();
            _loop.broker().publish_will(_loop, std::move(will), session.uid());
        }
        session.will.reset();
    }
    old->release_session();
    old->_will_on_close = false;
    // [MQTT-3.1.4-3]: DISCONNECT 0x8E (MQTT 5), then close the old connection.
    old->disconnect(codec::ReasonCode::SessionTakenOver, "session taken over");
}

void Connection::attach_session(codec::Connect& connect, const std::string& assigned_id) {
    SessionSlot* slot = _loop.find_session(connect.client_id);
    const bool takeover = slot != nullptr && slot->connection != nullptr;
    if (takeover) {
        take_over(*slot, connect.clean_start);
    }
    if (slot != nullptr && connect.clean_start) {
        // Clean Start discards any existing session [MQTT-3.1.2-4].
        _loop.destroy_session(*slot);
        slot = nullptr;
    }
    // Session Present is 1 only when an existing session is resumed [MQTT-3.2.2-2, 3.2.2-3].
    const bool session_present = slot != nullptr;
    if (slot == nullptr) {
        slot = &_loop.create_session(connect.client_id);
    }
    _slot = slot;
    slot->connection = this;
    slot->expires_at = 0;
    core::Session& session = slot->session;
    session.subscriber.online.store(true, std::memory_order_relaxed);
    configure_session(session, connect);
    Persistence& persistence = _loop.persistence();
    if (persistence.enabled()) {
        if (session.persistent()) {
            persistence.put_session(session, _loop.now(), true);
            slot->stored = true;
        } else if (slot->stored) {
            // Resumed without expiry: it ends with this connection, forget the stored copy.
            persistence.erase_session(session.client_id());
            slot->stored = false;
        }
    }
    LoopStats::add(_loop.stats().clients, 1);
    send_connack(session_present, connect, assigned_id);
    _loop.broker().presence().connected(session.client_id(), _peer, static_cast<uint8_t>(_version),
                                        takeover);
    spdlog::debug("client {} ({}, {}): connected, MQTT {}, session present {}", session.client_id(),
                  _peer, _transport ? _transport->name() : "tcp", static_cast<int>(_version),
                  session_present);
    // Unacknowledged messages go out again first, then the queue [MQTT-4.4.0-1].
    resend_inflight();
    pump_queue();
}

void Connection::configure_session(core::Session& session, codec::Connect& connect) {
    const core::BrokerSettings& settings = _loop.broker().settings();
    const codec::Properties& props = connect.properties;
    session.version = connect.version;
    session.username = connect.username;
    session.client_receive_maximum = props.receive_maximum.value_or(65535);
    session.client_maximum_packet_size = props.maximum_packet_size.value_or(0);
    session.request_problem_information = props.request_problem_information.value_or(1) != 0;
    session.limits.max_inflight = settings.limits.max_inflight;
    session.limits.max_queued_messages = settings.limits.max_queued_messages;
    session.limits.max_queued_bytes = settings.limits.max_queued_bytes;
    session.limits.queue_full_policy = settings.limits.queue_full_policy == "drop-oldest"
                                           ? core::QueueFullPolicy::DropOldest
                                           : core::QueueFullPolicy::RefuseNewest;
    if (connect.version == codec::ProtocolVersion::V5) {
        session.expiry_interval_s = props.session_expiry_interval.value_or(0);
    } else {
        // Clean session 0 keeps the session without expiry; 1 ends it with the connection.
        session.expiry_interval_s = connect.clean_start ? 0 : kNeverExpires;
    }
    const uint32_t cap = settings.limits.max_session_expiry;
    if (cap != 0 && session.expiry_interval_s > cap) {
        session.expiry_interval_s = cap;
    }
    _connect_expiry_zero = session.expiry_interval_s == 0;
    session.subscriber.durable.store(_loop.persistence().enabled() && session.persistent(),
                                     std::memory_order_relaxed);
    if (connect.will) {
        core::PendingWill pending;
        pending.delay_s = connect.will->properties.will_delay_interval.value_or(0);
        pending.will = std::move(*connect.will);
        session.will = std::make_unique<core::PendingWill>(std::move(pending));
    } else {
        session.will.reset();
    }
    uint16_t keep_alive = connect.keep_alive;
    const uint16_t max_keep_alive = settings.limits.max_keep_alive;
    if (max_keep_alive != 0 && (keep_alive == 0 || keep_alive > max_keep_alive)) {
        keep_alive = max_keep_alive;
        _server_keep_alive = keep_alive;  // announced as Server Keep Alive [MQTT-3.2.2-21]
    }
    _keep_alive_ms = keep_alive * 1500u;
    if (_rare) {
        _rare->topic_aliases.clear();
    }
}

void Connection::send_connack(bool session_present, const codec::Connect& connect,
                              const std::string& assigned_id) {
    const core::BrokerSettings& settings = _loop.broker().settings();
    codec::Connack connack;
    connack.session_present = session_present;
    connack.reason_code = 0;
    if (_version == codec::ProtocolVersion::V5) {
        codec::Properties& props = connack.properties;
        if (!assigned_id.empty()) {
            props.assigned_client_identifier = assigned_id;  // [MQTT-3.2.2-16]
        }
        if (settings.limits.receive_maximum != 65535) {
            props.receive_maximum = settings.limits.receive_maximum;
        }
        props.maximum_packet_size = settings.limits.max_packet_size;
        if (settings.limits.topic_alias_maximum != 0) {
            props.topic_alias_maximum = settings.limits.topic_alias_maximum;
        }
        if (!settings.retain_available) {
            props.retain_available = 0;
        }
        if (settings.maximum_qos < 2) {
            props.maximum_qos = settings.maximum_qos;
        }
        if (!settings.wildcard_subscriptions) {
            props.wildcard_subscription_available = 0;
        }
        if (!settings.subscription_identifiers) {
            props.subscription_identifier_available = 0;
        }
        if (!settings.shared_subscriptions) {
            props.shared_subscription_available = 0;
        }
        if (_server_keep_alive != 0) {
            props.server_keep_alive = _server_keep_alive;
        }
        const uint32_t asked = connect.properties.session_expiry_interval.value_or(0);
        if (_slot->session.expiry_interval_s != asked) {
            props.session_expiry_interval = _slot->session.expiry_interval_s;
        }
    }
    send_packet(connack);
    _connack_sent = true;
}

void Connection::resend_inflight() {
    core::Session& session = _slot->session;
    for (const auto& [packet_id, inflight] : session.inflight_in_order()) {
        if (inflight->state == core::InflightMessage::State::AwaitingPubcomp) {
            codec::Ack pubrel;
            pubrel.type = codec::PacketType::Pubrel;
            pubrel.packet_id = packet_id;
            send_packet(pubrel);
        } else {
            // Resent PUBLISHes carry DUP = 1 [MQTT-3.3.1-1].
            send_publish(inflight->outgoing, packet_id, true);
        }
    }
}

void Connection::detach_session(bool publish_will) {
    if (_slot == nullptr) {
        return;
    }
    SessionSlot& slot = *_slot;
    core::Session& session = slot.session;
    const core::MonoMillis now = _loop.now();
    release_session();
    if (session.will) {
        const bool session_ends = session.expiry_interval_s == 0;
        if (!publish_will) {
            session.will.reset();
        } else if (session.will->delay_s == 0 || session_ends || _loop.stopping()) {
            // Published now, or when the session ends if that is sooner [MQTT-3.1.3-9].
            codec::Will will = std::move(session.will->will);
            session.will.reset();
            _loop.broker().publish_will(_loop, std::move(will), session.uid());
        } else {
            session.will->publish_at = now + uint64_t{session.will->delay_s} * 1000;
        }
    }
    if (session.expiry_interval_s == 0) {
        _loop.destroy_session(slot);
        return;
    }
    if (session.expiry_interval_s != kNeverExpires) {
        slot.expires_at = now + uint64_t{session.expiry_interval_s} * 1000;
    }
    // The stored copy learns when it went offline (its expiry counts from there) and the will
    // that waits for its delay.
    _loop.persistence().put_session(session, now, false);
    write_inflight_ids(session);
}

void Connection::write_inflight_ids(const core::Session& session) {
    Persistence& persistence = _loop.persistence();
    if (!persistence.enabled() || session.inflight_count() == 0) {
        return;
    }
    const core::MonoMillis now = _loop.now();
    for (const auto& [packet_id, inflight] : session.inflight_in_order()) {
        // Awaiting PUBACK: a QoS 1 message (QoS 2's ids are written before they are sent).
        if (inflight->outgoing.store_seq != 0 &&
            inflight->state == core::InflightMessage::State::AwaitingPuback) {
            persistence.add(Persistence::put_queued(session.client_id(), inflight->outgoing,
                                                    storage::QueuedRecord::State::AwaitingPuback,
                                                    packet_id, now));
        }
    }
}

void Connection::release_session() {
    if (_slot == nullptr) {
        return;
    }
    _slot->connection = nullptr;
    _slot->session.subscriber.online.store(false, std::memory_order_relaxed);
    _slot->session.offline_since = _loop.now();
    _slot = nullptr;
    LoopStats::sub(_loop.stats().clients, 1);
    _loop.broker().release_client();
}

}  // namespace tern::net
