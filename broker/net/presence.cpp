// Presence registry: online/offline per client id under a mutex; changes posted to listening loops.
#include "presence.hpp"

#include <algorithm>
#include <chrono>
#include <map>

#include "worker_loop.hpp"

namespace tern::net {

// The listeners of one loop: the vector is touched only on that loop's thread; `count` tells
// other threads whether posting there is worth it.
struct Presence::LoopListeners {
    WorkerLoop* loop = nullptr;
    std::atomic<std::size_t> count{0};
    std::map<uint64_t, std::shared_ptr<Listener>> listeners;
};

Presence::Presence(std::size_t max_records) : _max_records(std::max<std::size_t>(1, max_records)) {}

Presence::~Presence() = default;

uint64_t Presence::unix_now_ms() noexcept {
    return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                     std::chrono::system_clock::now().time_since_epoch())
                                     .count());
}

PresenceRecord Presence::to_record(const std::string& client_id, const Entry& entry) {
    PresenceRecord record;
    record.client_id = client_id;
    record.online = entry.online;
    record.connected_at_ms = entry.connected_at_ms;
    record.last_seen_ms = entry.last_seen_ms;
    record.peer = entry.peer;
    record.protocol_version = entry.protocol_version;
    return record;
}

void Presence::connected(std::string_view client_id, std::string_view peer,
                         uint8_t protocol_version, bool takeover) {
    if (!enabled()) {
        return;
    }
    PresenceEvent event;
    {
        std::lock_guard lock(_mutex);
        auto [it, inserted] = _clients.try_emplace(std::string(client_id));
        Entry& entry = it->second;
        if (!entry.online) {
            ++_online;
        }
        const uint64_t now = unix_now_ms();
        entry.online = true;
        entry.connected_at_ms = now;
        entry.last_seen_ms = now;
        entry.peer = std::string(peer);
        entry.protocol_version = protocol_version;
        event.record = to_record(it->first, entry);
        if (inserted && _clients.size() > _max_records) {
            forget_oldest_offline();
        }
    }
    event.reason = takeover ? "takeover" : "connected";
    notify(event);
}

void Presence::disconnected(std::string_view client_id, std::string_view reason) {
    if (!enabled()) {
        return;
    }
    PresenceEvent event;
    {
        std::lock_guard lock(_mutex);
        auto it = _clients.find(std::string(client_id));
        if (it == _clients.end() || !it->second.online) {
            return;
        }
        --_online;
        it->second.online = false;
        it->second.last_seen_ms = unix_now_ms();
        event.record = to_record(it->first, it->second);
    }
    event.reason = std::string(reason);
    notify(event);
}

void Presence::forget_oldest_offline() {
    // Amortized: drop a tenth of the limit at once, so the scan runs rarely.
    std::vector<std::pair<uint64_t, const std::string*>> offline;
    for (const auto& [id, entry] : _clients) {
        if (!entry.online) {
            offline.emplace_back(entry.last_seen_ms, &id);
        }
    }
    const std::size_t target = _max_records - _max_records / 10;
    const std::size_t excess = _clients.size() > target ? _clients.size() - target : 0;
    const std::size_t drop = std::min(excess, offline.size());
    if (drop == 0) {
        return;
    }
    std::nth_element(offline.begin(), offline.begin() + static_cast<long>(drop - 1), offline.end());
    std::vector<std::string> victims;
    victims.reserve(drop);
    for (std::size_t i = 0; i < drop; ++i) {
        victims.push_back(*offline[i].second);
    }
    for (const std::string& id : victims) {
        _clients.erase(id);
    }
}

std::vector<PresenceRecord> Presence::snapshot() const {
    std::vector<PresenceRecord> records;
    const uint64_t now = unix_now_ms();
    {
        std::lock_guard lock(_mutex);
        records.reserve(_clients.size());
        for (const auto& [id, entry] : _clients) {
            records.push_back(to_record(id, entry));
            if (entry.online) {
                records.back().last_seen_ms = now;
            }
        }
    }
    std::sort(records.begin(), records.end(), [](const PresenceRecord& a, const PresenceRecord& b) {
        return a.client_id < b.client_id;
    });
    return records;
}

std::optional<PresenceRecord> Presence::find(std::string_view client_id) const {
    std::lock_guard lock(_mutex);
    auto it = _clients.find(std::string(client_id));
    if (it == _clients.end()) {
        return std::nullopt;
    }
    PresenceRecord record = to_record(it->first, it->second);
    if (record.online) {
        record.last_seen_ms = unix_now_ms();
    }
    return record;
}

std::size_t Presence::online_count() const {
    std::lock_guard lock(_mutex);
    return _online;
}

uint64_t Presence::listen(WorkerLoop& loop, Listener listener) {
    LoopListeners* entry = nullptr;
    {
        std::lock_guard lock(_listeners_mutex);
        if (_by_loop.size() <= loop.index()) {
            _by_loop.resize(loop.index() + 1);
        }
        if (!_by_loop[loop.index()]) {
            _by_loop[loop.index()] = std::make_unique<LoopListeners>();
            _by_loop[loop.index()]->loop = &loop;
        }
        entry = _by_loop[loop.index()].get();
    }
    const uint64_t token = _next_token.fetch_add(1, std::memory_order_relaxed);
    entry->listeners.emplace(token, std::make_shared<Listener>(std::move(listener)));
    entry->count.store(entry->listeners.size(), std::memory_order_release);
    return token;
}

void Presence::unlisten(WorkerLoop& loop, uint64_t token) {
    LoopListeners* entry = nullptr;
    {
        std::lock_guard lock(_listeners_mutex);
        if (loop.index() < _by_loop.size()) {
            entry = _by_loop[loop.index()].get();
        }
    }
    if (entry == nullptr) {
        return;
    }
    entry->listeners.erase(token);
    entry->count.store(entry->listeners.size(), std::memory_order_release);
}

void Presence::notify(const PresenceEvent& event) {
    std::vector<LoopListeners*> targets;
    {
        std::lock_guard lock(_listeners_mutex);
        for (const auto& entry : _by_loop) {
            if (entry && entry->count.load(std::memory_order_acquire) != 0) {
                targets.push_back(entry.get());
            }
        }
    }
    for (LoopListeners* entry : targets) {
        entry->loop->post([entry, event](WorkerLoop&) {
            // A listener may unlisten itself or others while we iterate: call by token, and
            // only those still registered.
            std::vector<uint64_t> tokens;
            tokens.reserve(entry->listeners.size());
            for (const auto& [token, listener] : entry->listeners) {
                tokens.push_back(token);
            }
            for (const uint64_t token : tokens) {
                auto it = entry->listeners.find(token);
                if (it != entry->listeners.end()) {
                    const std::shared_ptr<Listener> listener = it->second;  // may unlisten itself
                    (*listener)(event);
                }
            }
        });
    }
}

}  // namespace tern::net
