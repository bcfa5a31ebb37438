// The per-topic history of recent messages that the bridge replays on resume: sequence numbers,
// appends on the publishing loop, and reads from any thread.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.hpp"
#include "core/settings.hpp"
#include "storage/memory_store.hpp"
#include "storage/store.hpp"

namespace tern::net {

class WorkerLoop;

// A position in the node's message stream, written "<epoch>-<seq>" in event ids.
struct StreamPosition {
    uint64_t epoch = 0;
    uint64_t seq = 0;
    // Parses "<epoch>-<seq>" (both decimal); false on anything else.
    static bool parse(std::string_view text, StreamPosition& out) noexcept;
    std::string to_string() const;
};

struct HistoryEntry {
    uint64_t seq = 0;
    uint64_t timestamp_ms = 0;  // Unix milliseconds when it was published
    core::MessagePtr message;
};

struct HistoryRead {
    std::vector<HistoryEntry> entries;  // ascending seq
    // Some message published after the position on a matching topic is not in `entries`: it was
    // trimmed by the history policy, expired, lost with a memory-only history at a restart, or
    // cut by the read's limit (then `entries` holds the newest ones).
    bool gap = false;
};

// Thread-safe.
class History {
  public:
    // `store` is the broker's durable store (null with durability "memory": the history then
    // lives in memory only and starts empty at each start). With `number_all` (the bridge is
    // on) every message gets a position and a timestamp even when no policy keeps history.
    History(const core::StorageConfig& config, storage::Store* store, bool number_all = false);
    ~History();

    // Whether any [[storage.history]] policy is configured.
    bool enabled() const noexcept { return _enabled; }
    // Whether published messages get a position and a timestamp (record() is to be called).
    bool numbers_messages() const noexcept { return _enabled || _number_all; }
    // This run's epoch: changes at every start of the broker.
    uint64_t epoch() const noexcept { return _epoch; }
    // The position of the newest message published so far (seq 0 before the first).
    StreamPosition head() const noexcept;

    // Gives `message` its sequence number and timestamp (every published message, while
    // numbers_messages(), so that live events carry ids) and, when a policy covers its topic,
    // appends it to the history: through `origin`'s write batch, held by `origin`'s publishing
    // barrier, or at once in the memory-only history. Either way the publisher is acknowledged
    // only once read() can return the entry. Called by
    // Broker::publish on `origin`'s thread before routing, while the message is not yet shared.
    void record(WorkerLoop& origin, core::Message& message);

    // The messages on topics matching `filter` published after `after`, oldest first, at most
    // `limit` (the newest ones when there are more, with gap set).
    HistoryRead read(std::string_view filter, const StreamPosition& after, std::size_t limit) const;

  private:
    bool _enabled = false;
    bool _number_all = false;
    storage::Store* _store = nullptr;               // the broker's store, or _memory.get()
    std::unique_ptr<storage::MemoryStore> _memory;  // the memory-only history
    uint64_t _epoch = 0;
    uint64_t _first_seq = 1;  // the first seq of this epoch
    std::atomic<uint64_t> _next_seq{1};
    std::vector<storage::HistoryPolicy> _policies;
};

}  // namespace tern::net
