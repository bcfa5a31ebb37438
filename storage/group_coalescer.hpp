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
    static std::size_t hash(const Key& key) noexcept;

    // The window's keys: each queue entry or QoS 2 id the window created, with its one write so
    // far. A second write of the key (a rewrite, which never waits: its batch is written with
    // everything before it) ends the tracking, and the key is then simply written.
    //
    // Open addressing with linear probing and backward-shift deletion, at most half full: a
    // lookup per operation on the writer thread, which sees every message, costs a probe or
    // two and no allocation. Queue keys hash by their seq, not their client id (see hash()).
    struct Entry {
        Key key;
        CommitQueue::Pending* batch = nullptr;  // null = empty slot
        uint32_t op = 0;
    };
    // Asks for the slot of `key` (see add()).
    void prefetch_slot(const Key& key) const;
    Entry* find_entry(const Key& key);
    void insert_entry(const Key& key, CommitQueue::Pending* batch, uint32_t op);
    void erase_entry(Entry* entry);
    std::vector<Entry> _entries;  // size 0 or a power of two
    std::size_t _window_size = 0;

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
