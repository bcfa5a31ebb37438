// The LoadVisitor that turns stored records back into sessions, queues and retained messages.
#include "state_loader.hpp"

#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "persistence.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

class StateLoader final : public storage::LoadVisitor {
  public:
    explicit StateLoader(Broker& broker) : _broker(broker), _now(core::mono_now_ms()) {}

    void retained(storage::MessageRecord&& record) override {
        _broker.retained().set(Persistence::from_record(std::move(record), _now));
    }

    void session(storage::SessionRecord&& record) override {
        WorkerLoop& loop = _broker.loop(_broker.owner_loop(record.client_id));
        SessionSlot& slot = loop.create_session(record.client_id);
        slot.stored = true;
        core::Session& session = slot.session;
        session.version = static_cast<codec::ProtocolVersion>(record.protocol_version);
        session.expiry_interval_s = record.expiry_interval_s;
        session.username = std::move(record.username);
        session.subscriber.durable.store(session.persistent(), std::memory_order_relaxed);
        const core::BrokerSettings& settings = _broker.settings();
        session.limits.max_inflight = settings.limits.max_inflight;
        session.limits.max_queued_messages = settings.limits.max_queued_messages;
        session.limits.max_queued_bytes = settings.limits.max_queued_bytes;
        session.limits.queue_full_policy = settings.limits.queue_full_policy == "drop-oldest"
                                               ? core::QueueFullPolicy::DropOldest
                                               : core::QueueFullPolicy::RefuseNewest;
        // The expiry counts from the disconnection (a crash counts as now) [MQTT-3.1.2-23].
        const storage::UnixMillis unix_now = storage::unix_now_ms();
        const storage::UnixMillis since =
            record.disconnected_at == 0 ? unix_now : std::min(record.disconnected_at, unix_now);
        if (session.expiry_interval_s != 0xFFFFFFFF) {
            const uint64_t lifetime = uint64_t{session.expiry_interval_s} * 1000;
            const uint64_t elapsed = unix_now - since;
            slot.expires_at = _now + (lifetime > elapsed ? lifetime - elapsed : 0) + 1;
        }
        for (storage::SubscriptionRecord& subscription : record.subscriptions) {
            _broker.subscriptions().subscribe(session.key(), subscription.filter,
                                              subscription.options, &session.subscriber);
            session.subscriptions[subscription.filter] = subscription.options;
        }
        if (record.will) {
            core::PendingWill will;
            will.will = std::move(record.will->will);
            will.delay_s = record.will->delay_s;
            // A will whose connection died with the broker is due after its delay from now.
            const storage::UnixMillis at = record.will->publish_at != 0
                                               ? record.will->publish_at
                                               : unix_now + uint64_t{will.delay_s} * 1000;
            will.publish_at = _now + (at > unix_now ? at - unix_now : 0) + 1;
            session.will = std::make_unique<core::PendingWill>(std::move(will));
        }
        _slots[record.client_id] = &slot;
    }

    void queued(const std::string& client_id, storage::QueuedRecord&& entry) override {
        auto it = _slots.find(client_id);
        if (it == _slots.end()) {
            return;
        }
        core::Session& session = it->second->session;
        core::OutgoingMessage outgoing;
        outgoing.qos = entry.qos;
        outgoing.retain = entry.retain;
        outgoing.subscription_ids = std::move(entry.subscription_ids);
        outgoing.store_seq = entry.seq;
        outgoing.message = Persistence::from_record(std::move(entry.message), _now);
        _broker.restore_store_seq(entry.seq);
        using State = storage::QueuedRecord::State;
        switch (entry.state) {
            case State::Queued:
                session.enqueue(std::move(outgoing));
                break;
            case State::AwaitingPuback:
                session.restore_inflight(entry.packet_id,
                                         core::InflightMessage::State::AwaitingPuback,
                                         std::move(outgoing));
                break;
            case State::AwaitingPubrec:
                session.restore_inflight(entry.packet_id,
                                         core::InflightMessage::State::AwaitingPubrec,
                                         std::move(outgoing));
                break;
            case State::AwaitingPubcomp:
                session.restore_inflight(entry.packet_id,
                                         core::InflightMessage::State::AwaitingPubcomp,
                                         std::move(outgoing));
                break;
        }
    }

    void incoming_qos2(const std::string& client_id, uint16_t packet_id) override {
        auto it = _slots.find(client_id);
        if (it != _slots.end()) {
            it->second->session.on_incoming_qos2(packet_id);
        }
    }

  private:
    Broker& _broker;
    core::MonoMillis _now;
    std::unordered_map<std::string, SessionSlot*> _slots;
};

}  // namespace

storage::LoadSummary load_state(Broker& broker, storage::Store& store) {
    StateLoader loader(broker);
    return store.load(loader);
}

}  // namespace tern::net
