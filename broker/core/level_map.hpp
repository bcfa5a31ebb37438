// The children of a subscription tree node, by topic level: a flat hash map for the match path.
#pragma once

#include <cstdint>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::core {

// Seeded once per process, so that which level names collide cannot be worked out in advance.
uint64_t level_hash_seed() noexcept;

// A hash of one topic level, eight bytes at a time (levels are short: ids, names, numbers).
inline uint64_t level_hash(std::string_view level, uint64_t seed) noexcept {
    constexpr uint64_t kMultiplier = 0x9E3779B97F4A7C15ULL;
    uint64_t hash = seed ^ (level.size() * kMultiplier);
    const char* bytes = level.data();
    std::size_t left = level.size();
    for (; left >= 8; left -= 8, bytes += 8) {
        uint64_t word;
        std::memcpy(&word, bytes, 8);
        hash = (hash ^ word) * kMultiplier;
        hash ^= hash >> 29;
    }
    if (left != 0) {
        // The last 1-7 bytes in at most two loads (overlapping when fewer than 8), not byte by
        // byte: the length is already in the hash, so the overlap loses nothing.
        uint64_t word;
        if (left >= 4) {
            uint32_t low;
            uint32_t high;
            std::memcpy(&low, bytes, 4);
            std::memcpy(&high, bytes + left - 4, 4);
            word = (uint64_t{high} << 32) | low;
        } else {
            const auto byte = [bytes](std::size_t at) {
                return uint64_t{static_cast<unsigned char>(bytes[at])};
            };
            word = (byte(0) << 16) | (byte(left / 2) << 8) | byte(left - 1);
        }
        hash = (hash ^ word) * kMultiplier;
        hash ^= hash >> 29;
    }
    hash *= kMultiplier;
    return hash ^ (hash >> 32);
}

// Topic level → Value. Every publish looks up one level per tree node it visits, so a lookup is
// one hash, a masked index into a power-of-two table and, on a hash match, one string compare;
// std::unordered_map's prime bucket count costs an integer division per lookup instead (a third
// of matching in a profile of 50 QoS 1 pairs). Entries are dense (swap-and-pop), the table holds
// their index + 1 and stays at most half full; linear probing, backward-shift deletion. An empty
// map allocates nothing. Pointers to entries are invalidated by emplace and erase.
template <typename Value>
class LevelMap {
  public:
    struct Entry {
        std::string key;
        Value value;
        uint64_t hash = 0;
    };

    bool empty() const noexcept { return _entries.empty(); }
    std::size_t size() const noexcept { return _entries.size(); }
    auto begin() noexcept { return _entries.begin(); }
    auto end() noexcept { return _entries.end(); }
    auto begin() const noexcept { return _entries.begin(); }
    auto end() const noexcept { return _entries.end(); }

    Entry* find(std::string_view key) noexcept {
        if (_entries.empty()) {
            return nullptr;
        }
        const std::size_t slot = find_slot(level_hash(key, _seed), key);
        return slot == kNone ? nullptr : &_entries[_table[slot] - 1];
    }
    const Entry* find(std::string_view key) const noexcept {
        return const_cast<LevelMap*>(this)->find(key);
    }

    // Adds `key`, which must not be present.
    Entry& emplace(std::string_view key, Value value) {
        if ((_entries.size() + 1) * 2 > _table.size()) {
            rehash(_table.empty() ? kInitialSlots : _table.size() * 2);
        }
        const uint64_t hash = level_hash(key, _seed);
        _entries.push_back(Entry{std::string(key), std::move(value), hash});
        _table[free_slot(hash)] = static_cast<uint32_t>(_entries.size());
        return _entries.back();
    }

    // Removes `key`; false when it was not there.
    bool erase(std::string_view key) {
        if (_entries.empty()) {
            return false;
        }
        const std::size_t slot = find_slot(level_hash(key, _seed), key);
        if (slot == kNone) {
            return false;
        }
        const std::size_t index = _table[slot] - 1;
        remove_slot(slot);
        const std::size_t last = _entries.size() - 1;
        if (index != last) {
            // The last entry fills the hole; its slot now points at its new place.
            _table[slot_of_index(_entries[last].hash, last)] = static_cast<uint32_t>(index + 1);
            _entries[index] = std::move(_entries[last]);
        }
        _entries.pop_back();
        if (_entries.empty()) {
            // A node that had many children and lost them gives the memory back.
            std::vector<Entry>().swap(_entries);
            std::vector<uint32_t>().swap(_table);
        }
        return true;
    }

  private:
    static constexpr std::size_t kNone = ~std::size_t{0};
    static constexpr std::size_t kInitialSlots = 4;

    std::size_t mask() const noexcept { return _table.size() - 1; }

    std::size_t find_slot(uint64_t hash, std::string_view key) const noexcept {
        for (std::size_t slot = hash & mask();; slot = (slot + 1) & mask()) {
            const uint32_t index = _table[slot];
            if (index == 0) {
                return kNone;
            }
            const Entry& entry = _entries[index - 1];
            if (entry.hash == hash && entry.key == key) {
                return slot;
            }
        }
    }

    std::size_t slot_of_index(uint64_t hash, std::size_t index) const noexcept {
        std::size_t slot = hash & mask();
        while (_table[slot] != index + 1) {
            slot = (slot + 1) & mask();
        }
        return slot;
    }

    std::size_t free_slot(uint64_t hash) const noexcept {
        std::size_t slot = hash & mask();
        while (_table[slot] != 0) {
            slot = (slot + 1) & mask();
        }
        return slot;
    }

    // Empties `hole` and moves back the entries after it that probed past it, so that every
    // entry stays reachable from its home slot without tombstones.
    void remove_slot(std::size_t hole) noexcept {
        _table[hole] = 0;
        for (std::size_t next = (hole + 1) & mask(); _table[next] != 0;
             next = (next + 1) & mask()) {
            const std::size_t home = _entries[_table[next] - 1].hash & mask();
            // The entry at `next` may move to `hole` unless its home lies cyclically in
            // (hole, next]: then `hole` is before where its probe starts.
            const bool home_after_hole =
                hole <= next ? (home > hole && home <= next) : (home > hole || home <= next);
            if (!home_after_hole) {
                _table[hole] = _table[next];
                _table[next] = 0;
                hole = next;
            }
        }
    }

    void rehash(std::size_t slots) {
        _table.assign(slots, 0);
        for (std::size_t index = 0; index < _entries.size(); ++index) {
            _table[free_slot(_entries[index].hash)] = static_cast<uint32_t>(index + 1);
        }
    }

    std::vector<Entry> _entries;
    std::vector<uint32_t> _table;  // entry index + 1, 0 = free; size a power of two
    uint64_t _seed = level_hash_seed();
};

}  // namespace tern::core
