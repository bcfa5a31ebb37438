// Which MQTT clients are online, since when and where from; listeners hear of every change on
// the loop that registered them. Off until enabled: only its readers (the bridge) pay for it.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tern::net {

class WorkerLoop;

struct PresenceRecord {
    std::string client_id;
    bool online = false;
    uint64_t connected_at_ms = 0;  // Unix ms of the latest connect
    // Unix ms when the client was last known to be connected: the disconnect time once offline,
    // the time of the change (or of the snapshot, see Presence::snapshot) while online.
    uint64_t last_seen_ms = 0;
    std::string peer;              // "address:port" of the latest connection
    uint8_t protocol_version = 0;  // 3 = MQTT 3.1, 4 = 3.1.1, 5 = 5.0
};

struct PresenceEvent {
    PresenceRecord record;
    // "connected", "takeover" (a new connection took the session over; still online), or why
    // the connection ended ("client sent DISCONNECT", "keep alive timeout", ...).
    std::string reason;
};

// Thread-safe, except listen/unlisten which run on the listener's loop.
// Disabled by default: connected() and disconnected() then record nothing, so a broker whose
// presence nobody reads (no bridge) holds no record per client id. Enable it before the listeners
// accept: clients connected while it was disabled are not known until they connect again.
class Presence {
  public:
    using Listener = std::function<void(const PresenceEvent&)>;

    // Offline records beyond `max_records` are forgotten, oldest first.
    explicit Presence(std::size_t max_records = 100'000);
    ~Presence();
    Presence(const Presence&) = delete;
    Presence& operator=(const Presence&) = delete;

    // Starts recording (main does when the bridge is enabled). Thread-safe; there is no way
    // back: readers rely on the records once they exist.
    void enable() noexcept { _enabled.store(true, std::memory_order_relaxed); }
    bool enabled() const noexcept { return _enabled.load(std::memory_order_relaxed); }

    // A client's session got a connection (CONNACK sent). `takeover` when it replaced another.
    void connected(std::string_view client_id, std::string_view peer, uint8_t protocol_version,
                   bool takeover);
    // The client's connection ended (not called for the old connection of a takeover).
    void disconnected(std::string_view client_id, std::string_view reason);

    // Every known client, sorted by client id; online ones have last_seen_ms = now.
    std::vector<PresenceRecord> snapshot() const;
    std::optional<PresenceRecord> find(std::string_view client_id) const;
    std::size_t online_count() const;

    // Registers `listener`, called on `loop`'s thread for each later change. Call on that loop's
    // thread. Returns a token for unlisten().
    uint64_t listen(WorkerLoop& loop, Listener listener);
    // Call on the same loop's thread; the listener is not called after this returns.
    void unlisten(WorkerLoop& loop, uint64_t token);

    // Unix milliseconds now.
    static uint64_t unix_now_ms() noexcept;

  private:
    struct LoopListeners;
    // A record without its client id, which is the map's key (PresenceRecord carries both).
    struct Entry {
        uint64_t connected_at_ms = 0;
        uint64_t last_seen_ms = 0;
        std::string peer;
        uint8_t protocol_version = 0;
        bool online = false;
    };
    static PresenceRecord to_record(const std::string& client_id, const Entry& entry);
    void notify(const PresenceEvent& event);
    void forget_oldest_offline();  // with _mutex held

    const std::size_t _max_records;
    std::atomic<bool> _enabled{false};
    mutable std::mutex _mutex;
    std::unordered_map<std::string, Entry> _clients;
    std::size_t _online = 0;

    std::mutex _listeners_mutex;
    // Indexed by loop; an entry, once made, lives as long as this object (posted tasks use it).
    std::vector<std::unique_ptr<LoopListeners>> _by_loop;
    std::atomic<uint64_t> _next_token{1};
};

}  // namespace tern::net
