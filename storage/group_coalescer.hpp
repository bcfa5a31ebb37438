// Which operations the writer can leave out: a queue entry created and erased while its batches
// wait to be written (a message its subscribers acknowledged first) needs no write at all, and
// within one group commit only the last write of a key counts.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "commit_queue.hpp"

namespace tern::storage {

// Writer thread only. Keys are queue entries (client id, seq) and incoming QoS 2 ids (client
// id, packet id); the client ids are views into the batches, which must not move while known.
// Queue seqs are unique across clients (the broker takes them from one counter).
class GroupCoalescer {
  public:
    // A batch joined the window of batches waiting to be written. Each key it erases that was
    // created within the window (so is not stored) and not written again since is cancelled:
    // the erase and the write are marked in their batches' `skip`, and their `live` counts drop.
    // Returns how many operations it cancelled.
    std::size_t add(CommitQueue::Pending& pending);

    // The batch leaves the window to be written: its keys are stored from now on, so a later
    // erase of them must be written.
    void remove(const CommitQueue::Pending& pending);

    // Within `group` (written as one atomic database batch), marks every live write of a key
    // that a later live operation of the group overrides, and all of a key the group creates
    // and erases. A session's range delete in between removes the key either way, and the kept
    // last operation stays after it.
    void plan_group(std::vector<CommitQueue::Pending>& group);

    // The most slots the ring of waiting queue entries grows to (24 bytes each), see _ring.
    static constexpr std::size_t kMaxRingSlots = std::size_t{1} << 19;

    // Keys currently known (tests).
    std::size_t size() const noexcept { return _window_size; }

  private:
    struct Key {
        std::string_view client_id;
        uint64_t number = 0;  // seq or packet id
        bool queue = false;   // else an incoming QoS 2 id
        // The client id last: it is read from the batch, where it is rarely in the cache.
        bool operator==(const Key& other) const noexcept {
            return number == other.number && queue == other.queue && client_id == other.client_id;
        }
    };

    // The window's keys: each queue entry or QoS 2 id the window created, with its one write so
    // far. A second write of the key (a rewrite, which never waits: its batch is written with
    // everything before it) ends the tracking, and the key is then simply written. A key may
    // be forgotten only once its write is certain to reach the database before any erase of it
    // (see _ring).
    struct Tracked {
        CommitQueue::Pending* batch = nullptr;  // null = not tracked
        uint32_t op = 0;
    };
    Tracked* find_tracked(const Key& key);
    // False when another entry had to be forgotten to make room.
    bool track(const Key& key, CommitQueue::Pending* batch, uint32_t op);
    void forget(const Key& key, Tracked* tracked);
    void prefetch_slot(const Key& key) const;  // asks for the key's slot (see add())

    // Queue entries, by seq, direct-mapped (slot = seq modulo the ring's size). Seqs come from
    // one node-wide counter, and the window's entries are the last write delay's worth of them:
    // consecutive entries share cache lines, and an acknowledgement finds its entry where the
    // recent ones are, in the cache, where a hash would scatter both over the whole table.
    // Two waiting seqs that map to one slot grow the ring, up to kMaxRingSlots; past that the
    // older one is forgotten, and the newer one's batch is written at once (must_write) with
    // everything before it, so that no erase of either can reach the database before it.
    struct SeqSlot {
        uint64_t seq = 0;
        Tracked tracked;
        uint32_t client_hash = 0;  // the client id checked without reading the older batch
    };
    static uint32_t client_hash(std::string_view client_id) noexcept;
    SeqSlot& ring_slot(uint64_t seq) noexcept { return _ring[seq & (_ring.size() - 1)]; }
    void grow_ring();
    std::vector<SeqSlot> _ring;  // size 0 or a power of two

    // Incoming QoS 2 ids (a few per QoS 2 publisher): open addressing with linear probing and
    // backward-shift deletion, at most half full.
    struct Entry {
        Key key;
        Tracked tracked;
    };
    static std::size_t hash(const Key& key) noexcept;
    Entry* find_entry(const Key& key);
    void insert_entry(const Key& key, Tracked tracked);
    void erase_entry(Entry* entry);
    std::vector<Entry> _entries;  // size 0 or a power of two
    std::size_t _entry_count = 0;
    std::size_t _window_size = 0;  // keys tracked in both tables

    // plan_group's table: open addressing, reused across groups.
    struct Slot {
        Key key;
        CommitQueue::Pending* batch = nullptr;
        uint32_t op = 0;
        bool used = false;
        bool created = false;  // the group's first operation on the key created it
        bool last_erases = false;
    };
    Slot& find(const Key& key);
    std::vector<Slot> _slots;  // size a power of two, at most half full
};

}  // namespace tern::storage
