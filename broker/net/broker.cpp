// Broker wiring: loops, listeners, publishing (retain + route), $SYS and the shutdown sequence.
#include "broker.hpp"

#include <spdlog/spdlog.h>

#include <chrono>
#include <functional>
#include <stdexcept>
#include <thread>

#include "history.hpp"
#include "listener.hpp"
#include "local_router.hpp"
#include "publish_encoder.hpp"
#include "state_loader.hpp"
#include "sys_topics.hpp"
#include "tls_context.hpp"
#include "worker_loop.hpp"

namespace tern::net {

Broker::Broker(core::BrokerSettings settings) : _settings(std::move(settings)) {
    uint32_t workers = _settings.workers;
    if (workers == 0) {
        workers = std::max(1u, std::thread::hardware_concurrency());
    }
    _loops.reserve(workers);
    _memory = std::make_unique<MemoryBudget>(_settings.limits.max_memory, workers);
    for (uint32_t i = 0; i < workers; ++i) {
        _loops.push_back(std::make_unique<WorkerLoop>(*this, i));
    }
    _router = std::make_unique<LocalRouter>(*this);
    _started_at_ms = core::mono_now_ms();
    const core::LimitSettings& limits = _settings.limits;
    _slow_subscriber_messages = limits.slow_subscriber_messages;
    if (limits.max_queued_messages != 0) {
        _slow_subscriber_messages =
            std::min(_slow_subscriber_messages, std::max(2u, limits.max_queued_messages / 2));
    }
}

Broker::~Broker() {
    request_stop();
    wait();
    // After a failed start() the loops never ran: close their handles while the listeners they
    // point at still exist.
    for (auto& loop : _loops) {
        loop->close_unstarted();
    }
}

void Broker::open_storage() {
    const core::StorageConfig& config = _settings.storage;
    if (config.durability == "memory") {
        spdlog::info("storage: memory only (nothing survives a restart)");
        _history = std::make_unique<History>(config, nullptr, _settings.bridge.enabled);
        return;
    }
    storage::StorageSettings storage_settings;
    storage_settings.data_dir = _settings.data_dir;
    storage_settings.durability =
        config.durability == "sync" ? storage::Durability::Sync : storage::Durability::Async;
    for (const core::HistoryConfig& policy : config.history) {
        storage_settings.history.push_back({policy.filter, policy.max_messages, policy.max_age_s});
    }
    storage_settings.max_retained_messages = config.max_retained_messages;
    storage_settings.max_retained_bytes = config.max_retained_bytes;
    storage_settings.write_delay = std::chrono::milliseconds{config.write_delay_ms};
    _store = storage::open_rocksdb_store(storage_settings);
    const storage::LoadSummary summary = load_state(*this, *_store);
    spdlog::info(
        "storage: {} durability in {}: loaded {} retained message(s), {} session(s), {} queued "
        "message(s), {} history entries; removed {} expired; in {} ms",
        config.durability, _settings.data_dir, summary.retained, summary.sessions, summary.queued,
        summary.history, summary.expired_removed, summary.milliseconds);
    for (auto& loop : _loops) {
        loop->persistence().set_store(_store.get());
    }
    // Loops that stopped reading for the backlog (WorkerLoop::check_storage_backlog) read again
    // once the writer has caught up.
    _store->set_drained_listener(WorkerLoop::kStorageBacklogLow, [this] {
        for (auto& loop : _loops) {
            loop->storage_drained();
        }
    });
    _history = std::make_unique<History>(config, _store.get(), _settings.bridge.enabled);
}

void Broker::start() {
    if (!_tls_loaded) {
        load_tls();
    }
    open_storage();
    // Listeners are opened on loop 0 before its thread runs, so that a bad address fails here,
    // synchronously, with a message naming it.
    for (std::size_t i = 0; i < _settings.listeners.size(); ++i) {
        const auto& listener_settings = _settings.listeners[i];
        auto listener = std::make_unique<Listener>(*_loops[0], listener_settings);
        listener->open();
        _bound_ports.push_back(listener->bound_port());
        if (_tls[i]) {
            listener->set_tls(_tls[i]);
            spdlog::info("listening for MQTT over TLS on {}:{} ({})", listener_settings.address,
                         listener->bound_port(), _tls[i]->current()->certificate_summary());
        } else {
            spdlog::info("listening for MQTT on {}:{}", listener_settings.address,
                         listener->bound_port());
        }
        _listeners.push_back(std::move(listener));
    }
    for (auto& loop : _loops) {
        loop->start(nullptr);
    }
    if (_settings.sys_interval_s != 0) {
        // $SYS is retained from the start, before the first client can subscribe.
        _loops[0]->post([this](WorkerLoop& loop) {
            _next_sys_publish = loop.now() + uint64_t{_settings.sys_interval_s} * 1000;
            publish_sys_topics(*this, loop);
        });
    }
    spdlog::info("tern started with {} worker loop(s)", _loops.size());
}

void Broker::request_stop() {
    if (_stop_requested.exchange(true)) {
        return;
    }
    if (_loops.empty()) {
        return;
    }
    // Listeners first, on their own loop, so that no new client arrives while we drain.
    _loops[0]->post([this](WorkerLoop&) {
        for (auto& listener : _listeners) {
            listener->close();
        }
    });
    for (auto& loop : _loops) {
        loop->stop();
    }
}

void Broker::on_loop_drained(WorkerLoop&) {
    // Every loop has closed its connections. Deliveries of wills may still sit in inboxes ahead
    // of this task; each loop records them and submits its last batch.
    if (_loops_drained.fetch_add(1) + 1 == _loops.size()) {
        for (auto& loop : _loops) {
            loop->post([this](WorkerLoop& self) {
                self.persistence().submit();
                on_loop_flushed(self);
            });
        }
    }
}

void Broker::on_loop_flushed(WorkerLoop&) {
    if (_loops_flushed.fetch_add(1) + 1 != _loops.size()) {
        return;
    }
    if (_store) {
        _store->close();  // waits for the writer to commit everything submitted
    }
    for (auto& loop : _loops) {
        loop->post([](WorkerLoop& self) { self.close_handles(); });
    }
}

void Broker::wait() {
    for (auto& loop : _loops) {
        loop->join();
    }
}

uint32_t Broker::owner_loop(std::string_view client_id) const noexcept {
    return static_cast<uint32_t>(std::hash<std::string_view>{}(client_id) % _loops.size());
}

bool Broker::try_reserve_client() {
    const uint32_t limit = _settings.limits.max_connections;
    uint64_t current = _clients.load(std::memory_order_relaxed);
    do {
        if (limit != 0 && current >= limit) {
            return false;
        }
    } while (!_clients.compare_exchange_weak(current, current + 1, std::memory_order_relaxed));
    return true;
}

void Broker::release_client() {
    _clients.fetch_sub(1, std::memory_order_relaxed);
}

StatsSnapshot Broker::stats() const {
    StatsSnapshot total;
    for (const auto& loop : _loops) {
        const LoopStats& s = loop->stats();
        total.messages_received += s.messages_received.load(std::memory_order_relaxed);
        total.messages_sent += s.messages_sent.load(std::memory_order_relaxed);
        total.bytes_received += s.bytes_received.load(std::memory_order_relaxed);
        total.bytes_sent += s.bytes_sent.load(std::memory_order_relaxed);
        total.publish_dropped += s.publish_dropped.load(std::memory_order_relaxed);
        total.retained_refused += s.retained_refused.load(std::memory_order_relaxed);
        total.connections += s.connections.load(std::memory_order_relaxed);
        total.clients += s.clients.load(std::memory_order_relaxed);
        total.sessions += s.sessions.load(std::memory_order_relaxed);
        total.auth_failures += s.auth_failures.load(std::memory_order_relaxed);
        total.tls_handshakes += s.tls_handshakes.load(std::memory_order_relaxed);
        total.tls_handshake_failures += s.tls_handshake_failures.load(std::memory_order_relaxed);
        for (int qos = 0; qos < 3; ++qos) {
            total.messages_received_by_qos[qos] +=
                s.messages_received_by_qos[qos].load(std::memory_order_relaxed);
            total.messages_sent_by_qos[qos] +=
                s.messages_sent_by_qos[qos].load(std::memory_order_relaxed);
            total.payload_bytes_received_by_qos[qos] +=
                s.payload_bytes_received_by_qos[qos].load(std::memory_order_relaxed);
            total.payload_bytes_sent_by_qos[qos] +=
                s.payload_bytes_sent_by_qos[qos].load(std::memory_order_relaxed);
        }
        total.refused_per_ip += s.refused_per_ip.load(std::memory_order_relaxed);
        total.refused_rate += s.refused_rate.load(std::memory_order_relaxed);
        total.refused_memory += s.refused_memory.load(std::memory_order_relaxed);
        total.rate_limited += s.rate_limited.load(std::memory_order_relaxed);
        total.shed += s.shed.load(std::memory_order_relaxed);
        total.storage_holds += s.storage_holds.load(std::memory_order_relaxed);
        total.slow_subscribers += s.slow_subscribers.load(std::memory_order_relaxed);
        total.publisher_pauses += s.publisher_pauses.load(std::memory_order_relaxed);
    }
    return total;
}

void Broker::load_auth() {
    const core::AuthConfig& auth = _settings.auth;
    if (!auth.password_file.empty()) {
        _passwords.store(core::PasswordFile::load(auth.password_file));
    }
    if (!auth.acl_file.empty()) {
        _acl.store(core::AclFile::load(auth.acl_file));
    }
}

bool Broker::reload_auth() {
    // Each file is swapped in on its own: a broken ACL does not hold back a good password file.
    const core::AuthConfig& auth = _settings.auth;
    bool ok = true;
    if (!auth.password_file.empty()) {
        try {
            auto passwords = core::PasswordFile::load(auth.password_file);
            spdlog::info("reloaded {} users from {}", passwords->size(), auth.password_file);
            _passwords.store(std::move(passwords));
        } catch (const core::AuthFileError& error) {
            spdlog::error("password file not reloaded, keeping the previous users: {}",
                          error.what());
            ok = false;
        }
    }
    if (!auth.acl_file.empty()) {
        try {
            auto acl = core::AclFile::load(auth.acl_file);
            spdlog::info("reloaded {} ACL rules from {}", acl->size(), auth.acl_file);
            _acl.store(std::move(acl));
        } catch (const core::AuthFileError& error) {
            spdlog::error("ACL file not reloaded, keeping the previous rules: {}", error.what());
            ok = false;
        }
    }
    if (auth.password_file.empty() && auth.acl_file.empty()) {
        spdlog::info("SIGHUP: no password or ACL file configured, nothing to reload");
    }
    return ok;
}

void Broker::load_tls() {
    std::vector<std::shared_ptr<TlsListenerContext>> contexts;
    for (const auto& listener : _settings.listeners) {
        contexts.push_back(
            listener.type == "mqtt+tls" ? std::make_shared<TlsListenerContext>(listener) : nullptr);
    }
    _tls = std::move(contexts);
    _tls_loaded = true;
}

bool Broker::reload_tls() {
    bool ok = true;
    for (const auto& context : _tls) {
        if (context && !context->reload()) {
            ok = false;
        }
    }
    return ok;
}

uint64_t Broker::uptime_seconds() const {
    return (core::mono_now_ms() - _started_at_ms) / 1000;
}

std::vector<uint16_t> Broker::bound_ports() const {
    return _bound_ports;
}

RouteResult Broker::publish(WorkerLoop& origin, const core::MessagePtr& message) {
    if (message->retain) {
        // A retained message replaces the topic's previous one; an empty payload clears it
        // [MQTT-3.3.1-5, 3.3.1-6, 3.3.1-7].
        Persistence& persistence = origin.persistence();
        const bool durable = persistence.enabled() && !message->topic.starts_with("$SYS");
        if (message->payload.empty()) {
            _retained.erase(message->topic);
            if (durable) {
                persistence.add(storage::WriteBatch::EraseRetained{message->topic},
                                origin.publishing_barrier());
            }
        } else if (!retained_fits(*message)) {
            LoopStats::add(origin.stats().retained_refused, 1);
        } else {
            _retained.set(message);
            if (durable) {
                persistence.add(storage::WriteBatch::PutRetained{Persistence::to_record(
                                    *message, origin.now())},
                                origin.publishing_barrier());
            }
        }
    }
    if (_history && _history->numbers_messages()) {
        // The message has just been built by its publisher and is not shared with any other
        // thread yet: giving it its stream position now is safe.
        _history->record(origin, const_cast<core::Message&>(*message));
    }
    return _router->route(origin, message);
}

bool Broker::retained_fits(const core::Message& message) const {
    const uint64_t max_messages = _settings.storage.max_retained_messages;
    const uint64_t max_bytes = _settings.storage.max_retained_bytes;
    if ((max_messages == 0 && max_bytes == 0) || message.topic.starts_with("$SYS")) {
        return true;
    }
    if (_retained.contains(message.topic)) {
        return true;  // a replacement: the count does not grow (bytes may, within reason)
    }
    if (max_messages != 0 && _retained.size() >= max_messages) {
        return false;
    }
    return max_bytes == 0 ||
           _retained.bytes() + message.topic.size() + message.payload.size() <= max_bytes;
}

void Broker::publish_will(WorkerLoop& origin, codec::Will&& will, uint64_t publisher_uid) {
    // Will Delay Interval is about the will, not the message; it does not travel.
    will.properties.will_delay_interval.reset();
    publish(origin, make_message(std::move(will.topic), will.payload, will.qos, will.retain,
                                 std::move(will.properties), publisher_uid, origin.now()));
}

core::MessagePtr Broker::make_message(std::string topic, std::string_view payload, uint8_t qos,
                                      bool retain, codec::Properties&& properties,
                                      uint64_t publisher_uid, core::MonoMillis now,
                                      std::optional<core::MonoMillis> expires_at) {
    auto message = core::Message::create(payload);
    message->topic = std::move(topic);
    message->qos = qos;
    message->retain = retain;
    message->publisher_uid = publisher_uid;
    if (expires_at) {
        message->expires_at = *expires_at;
    } else if (properties.message_expiry_interval) {
        message->expires_at = now + uint64_t{*properties.message_expiry_interval} * 1000;
    }
    properties.topic_alias.reset();
    properties.subscription_identifiers.clear();
    properties.message_expiry_interval.reset();
    if (properties.empty()) {
        return message;  // every MQTT 3.1.1 message, most MQTT 5 ones
    }
    message->encoded_properties = encode_message_properties(properties);
    message->set_properties(std::move(properties));
    return message;
}

void Broker::on_tick(WorkerLoop& loop, core::MonoMillis now) {
    _retained.purge_expired(core::mono_now_ms());  // cheap unless something can expire
    const uint32_t interval = _settings.sys_interval_s;
    if (interval == 0 || now < _next_sys_publish) {
        return;
    }
    _next_sys_publish = now + uint64_t{interval} * 1000;
    publish_sys_topics(*this, loop);
}

}  // namespace tern::net
