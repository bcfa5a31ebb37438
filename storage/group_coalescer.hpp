// Which operations of a group commit can be skipped because a later one in the group overrides
// them: while the writer is busy a message is typically queued and acknowledged within one group.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "commit_queue.hpp"

namespace tern::storage {

// Only the last write of a queue entry or an incoming QoS 2 id counts, and when the group also
// created the key and ends by erasing it, nothing needs writing at all. The group's result is
// unchanged (a session's range delete in between removes the key either way, and a kept last
// operation stays after it).
//
// Runs on the writer thread for every operation: an open-addressing table reused across groups,
// so that a key costs a hash and a probe, not a node allocation.
class GroupCoalescer {
  public:
    // One flag per operation of `group`, in order: true = skip it. Valid until the next call.
    const std::vector<bool>& plan(const std::vector<CommitQueue::Pending>& group);

  private:
    struct Slot {
        std::string_view client_id;
        uint64_t number = 0;  // seq or packet id
        uint32_t last = 0;    // index of the key's last operation so far
        bool used = false;
        bool queue = false;    // else an incoming QoS 2 id
        bool created = false;  // the group's first operation on the key created it
        bool last_erases = false;
    };
    Slot& find(bool queue, std::string_view client_id, uint64_t number);

    std::vector<Slot> _slots;  // size a power of two, at most half full
    std::vector<bool> _skip;
};

}  // namespace tern::storage
