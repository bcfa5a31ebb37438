// The broker: worker loops, listeners, the subscription tree and retained store, start and stop.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/packets.hpp"
#include "core/auth.hpp"
#include "core/message.hpp"
#include "core/retained_store.hpp"
#include "core/settings.hpp"
#include "core/subscription_tree.hpp"
#include "ip_limiter.hpp"
#include "memory_budget.hpp"
#include "presence.hpp"
#include "router.hpp"
#include "stats.hpp"
#include "storage/store.hpp"

namespace tern::net {

class WorkerLoop;
class Listener;
class TlsListenerContext;
class History;

class Broker {
  public:
    explicit Broker(core::BrokerSettings settings);
    ~Broker();
    Broker(const Broker&) = delete;
    Broker& operator=(const Broker&) = delete;

    // Opens the listeners and starts the worker threads. Throws std::runtime_error naming the
    // address when a listener cannot be opened.
    void start();
    // Thread-safe and idempotent: begins a graceful shutdown (DISCONNECT 0x8B to MQTT 5
    // clients, wills published, loops ended). wait() returns once every loop has finished.
    void request_stop();
    void wait();

    const core::BrokerSettings& settings() const noexcept { return _settings; }
    core::SubscriptionTree& subscriptions() noexcept { return _subscriptions; }
    core::RetainedStore& retained() noexcept { return _retained; }
    Router& router() noexcept { return *_router; }
    void set_router(std::unique_ptr<Router> router) { _router = std::move(router); }

    uint32_t loop_count() const noexcept { return static_cast<uint32_t>(_loops.size()); }
    WorkerLoop& loop(uint32_t index) noexcept { return *_loops[index]; }
    // The loop that owns the session of `client_id` (sessions are pinned by a hash of the id).
    uint32_t owner_loop(std::string_view client_id) const noexcept;

    uint64_t next_session_uid() noexcept {
        return _next_uid.fetch_add(1, std::memory_order_relaxed);
    }
    // Loops whose inbox is over WorkerLoop::kInboxHigh (thread-safe); while any is, no
    // connection reads. The last one to catch up lets every loop read again.
    uint32_t congested_loops() const noexcept {
        return _congested_loops.load(std::memory_order_relaxed);
    }
    void loop_congested(bool congested);
    // Thread-safe: a congested subscriber caught up (or left); publishers paused for one
    // (Connection::pause_for_subscriber) try again on every loop.
    void subscribers_drained();
    // Queued (or in transit) messages past which an online subscriber is behind: the setting,
    // lowered to half the queue limit so that publishers pause well before anything is dropped.
    uint32_t slow_subscriber_messages() const noexcept { return _slow_subscriber_messages; }
    // Counts subscribers_drained() calls (never 0): a publisher paused in an older epoch may read.
    uint32_t drain_epoch() const noexcept { return _drain_epoch.load(std::memory_order_relaxed); }

    // Keys of durable queue entries, node-wide: a publishing loop writes the entries of remote
    // persistent sessions itself (LocalRouter), so one counter orders every writer's entries; a
    // session's entries reload in key order, which keeps each publisher's order.
    uint64_t next_store_seq() noexcept {
        return _next_store_seq.fetch_add(1, std::memory_order_relaxed);
    }
    // Start-up only: continues after the largest stored key.
    void restore_store_seq(uint64_t seq) noexcept {
        if (seq >= _next_store_seq.load(std::memory_order_relaxed)) {
            _next_store_seq.store(seq + 1, std::memory_order_relaxed);
        }
    }
    // Counts a new connection against max_connections; false when the limit is reached.
    bool try_reserve_client();
    void release_client();

    StatsSnapshot stats() const;
    uint64_t uptime_seconds() const;
    // Ports actually bound, in listener order (useful when a listener asked for port 0).
    std::vector<uint16_t> bound_ports() const;

    // Publishes a message on `origin`'s thread: updates the retained store when it carries RETAIN
    // [MQTT-3.3.1-5] and routes it to subscribers. Used for client PUBLISHes, wills and $SYS.
    // Returns how many sessions received it, and whether one of them is behind.
    RouteResult publish(WorkerLoop& origin, const core::MessagePtr& message);
    // Publishes a will message on behalf of session `publisher_uid`.
    void publish_will(WorkerLoop& origin, codec::Will&& will, uint64_t publisher_uid);

    // Called by loop 0's housekeeping tick.
    void on_tick(WorkerLoop& loop, core::MonoMillis now);
    // Called by each loop once it has closed its connections during shutdown.
    void on_loop_drained(WorkerLoop& loop);
    // Called by each loop once it has submitted its last storage batch during shutdown.
    void on_loop_flushed(WorkerLoop& loop);

    // Loads auth.password_file and auth.acl_file (when set). Throws core::AuthFileError
    // ("FILE:LINE: reason"). Called once before start().
    void load_auth();
    // SIGHUP: loads both files again and swaps them in; a file that fails to load keeps the
    // rules in use (logged at error level). Returns false when something failed.
    bool reload_auth();
    // Builds the TLS context of every "mqtt+tls" listener. Throws TlsError naming the file and
    // OpenSSL's reason. Called before start() (which calls it if it was not).
    void load_tls();
    // SIGHUP: reloads each TLS listener's certificate, key and CA into a new context for new
    // connections; live ones keep theirs. A listener whose files fail keeps its context (logged
    // at error level). Thread-safe. Returns false when something failed.
    bool reload_tls();
    // The rules in use (null when not configured). Thread-safe; the copy stays valid across
    // a reload.
    std::shared_ptr<const core::PasswordFile> passwords() const { return _passwords.load(); }
    std::shared_ptr<const core::AclFile> acl() const { return _acl.load(); }
    // Whether an ACL file is configured: delivery checks cost nothing without one.
    bool acl_enabled() const noexcept { return !_settings.auth.acl_file.empty(); }

    // Abuse limits shared by every loop (thread-safe; see their headers).
    IpLimiter& ip_limiter() noexcept { return _ip_limiter; }
    MemoryBudget& memory() noexcept { return *_memory; }
    const MemoryBudget& memory() const noexcept { return *_memory; }

    // The durable store; null with durability "memory".
    storage::Store* store() noexcept { return _store.get(); }
    // The message history for the bridge's resume (valid after start()).
    History& history() noexcept { return *_history; }
    // Which clients are online (updated on connect, disconnect, takeover, keep-alive expiry).
    Presence& presence() noexcept { return _presence; }

    // Builds a Message ready for routing: copies the payload into it and the properties that
    // travel with it, computes its expiry and pre-encodes its MQTT 5 properties once.
    // `expires_at` overrides the expiry computed from the properties (restored messages).
    // `properties` is taken apart (moved from) only when it holds something.
    static core::MessagePtr make_message(std::string topic, std::string_view payload, uint8_t qos,
                                         bool retain, codec::Properties&& properties,
                                         uint64_t publisher_uid, core::MonoMillis now,
                                         std::optional<core::MonoMillis> expires_at = {});

  private:
    // Whether a new retained message fits storage.max_retained_messages / _bytes.
    bool retained_fits(const core::Message& message) const;

    // Opens the store (unless durability is "memory") and loads its state. Throws
    // storage::StorageError naming the path and the reason.
    void open_storage();

    core::BrokerSettings _settings;
    core::SubscriptionTree _subscriptions;
    core::RetainedStore _retained;
    std::unique_ptr<Router> _router;
    std::vector<std::unique_ptr<WorkerLoop>> _loops;
    std::vector<std::unique_ptr<Listener>> _listeners;  // live on loop 0
    // Per listener, in settings order: its TLS context, null for plain TCP.
    std::vector<std::shared_ptr<TlsListenerContext>> _tls;
    bool _tls_loaded = false;
    std::atomic<uint64_t> _next_uid{1};
    std::atomic<uint64_t> _next_store_seq{1};
    std::atomic<uint64_t> _clients{0};
    std::atomic<bool> _stop_requested{false};
    uint64_t _started_at_ms = 0;
    std::vector<uint16_t> _bound_ports;
    std::atomic<uint32_t> _loops_drained{0};
    std::atomic<uint32_t> _loops_flushed{0};
    std::unique_ptr<storage::Store> _store;
    std::unique_ptr<History> _history;  // after _store: it may point at it
    std::atomic<uint32_t> _congested_loops{0};
    uint32_t _slow_subscriber_messages = 0;
    std::atomic<uint32_t> _drain_epoch{1};
    core::MonoMillis _next_sys_publish = 0;
    std::atomic<std::shared_ptr<const core::PasswordFile>> _passwords;
    std::atomic<std::shared_ptr<const core::AclFile>> _acl;
    Presence _presence;
    IpLimiter _ip_limiter{_settings.limits.max_connections_per_ip,
                          _settings.limits.connection_rate_per_ip};
    std::unique_ptr<MemoryBudget> _memory;  // sized by the number of loops
};

}  // namespace tern::net
