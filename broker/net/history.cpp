// The message history: node-wide sequence numbers, appends through the loop's write batch (or a
// memory store), and merged reads over the topics of a filter with gap detection.
#include "history.hpp"

#include <algorithm>
#include <charconv>
#include <limits>

#include "persistence.hpp"
#include "storage/records.hpp"
#include "storage/retention.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

bool parse_number(std::string_view text, uint64_t& out) noexcept {
    if (text.empty()) {
        return false;
    }
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), out);
    return error == std::errc{} && end == text.data() + text.size();
}

storage::HistoryPolicy to_policy(const core::HistoryConfig& config) {
    return {config.filter, config.max_messages, config.max_age_s};
}

}  // namespace

bool StreamPosition::parse(std::string_view text, StreamPosition& out) noexcept {
    const std::size_t dash = text.find('-');
    if (dash == std::string_view::npos) {
        return false;
    }
    StreamPosition position;
    if (!parse_number(text.substr(0, dash), position.epoch) ||
        !parse_number(text.substr(dash + 1), position.seq)) {
        return false;
    }
    out = position;
    return true;
}

std::string StreamPosition::to_string() const {
    return std::to_string(epoch) + "-" + std::to_string(seq);
}

History::History(const core::StorageConfig& config, storage::Store* store, bool number_all)
    : _enabled(!config.history.empty()), _number_all(number_all) {
    for (const core::HistoryConfig& policy : config.history) {
        _policies.push_back(to_policy(policy));
    }
    if (store != nullptr) {
        // RocksDB: sequence numbers continue across restarts, the epoch counts the starts.
        _store = store;
        _epoch = store->epoch();
        _first_seq = store->next_history_seq();
    } else {
        // Memory only: nothing survives a restart; the start time tells the runs apart.
        storage::StorageSettings settings;
        settings.durability = storage::Durability::Memory;
        settings.history = _policies;
        _memory = std::make_unique<storage::MemoryStore>(settings);
        _store = _memory.get();
        _epoch = storage::unix_now_ms();
        _first_seq = 1;
    }
    _next_seq.store(_first_seq, std::memory_order_relaxed);
}

History::~History() {
    if (_memory) {
        _memory->close();
    }
}

StreamPosition History::head() const noexcept {
    return {_epoch, _next_seq.load(std::memory_order_relaxed) - 1};
}

void History::record(WorkerLoop& origin, core::Message& message) {
    message.seq = _next_seq.fetch_add(1, std::memory_order_relaxed);
    message.published_unix_ms = storage::unix_now_ms();
    if (!_enabled || storage::history_policy_for(_policies, message.topic) == nullptr) {
        return;
    }
    storage::HistoryRecord entry;
    entry.seq = message.seq;
    entry.timestamp = message.published_unix_ms;
    entry.message = Persistence::to_record(message, origin.now());
    storage::WriteBatch::AppendHistory append{std::move(entry)};
    if (_memory) {
        // Applied now, on the loop, before the publisher can be acknowledged: a client that saw
        // the acknowledgement and then reads the history finds the message.
        storage::WriteBatch batch;
        batch.add(std::move(append));
        _memory->apply_now(std::move(batch));
    } else {
        // In the loop's batch: committed with (and ordered like) the rest of its writes. The
        // publisher's acknowledgement (PUBACK / PUBREC, a bridge publish's "ok") waits for it,
        // like the retained write: read() sees only committed entries, so a client that saw the
        // acknowledgement and then resumes from an earlier position must find the message.
        origin.persistence().add(std::move(append), origin.publishing_barrier());
    }
}

HistoryRead History::read(std::string_view filter, const StreamPosition& after,
                          std::size_t limit) const {
    HistoryRead result;
    uint64_t after_seq = after.seq;
    if (after.epoch != _epoch && after.seq != 0) {
        if (_memory || after.epoch > _epoch) {
            // The history of that run is gone (memory only), or the position is not ours.
            result.gap = true;
            after_seq = 0;
        } else {
            // An earlier run of this database: its committed messages have seqs below this run's
            // first; seqs it handed out but lost in a crash were given again since.
            after_seq = std::min(after_seq, _first_seq - 1);
        }
    }
    const core::MonoMillis now = core::mono_now_ms();
    for (const std::string& topic : _store->history_topics(filter)) {
        if (_store->history_trimmed_through(topic) > after_seq) {
            result.gap = true;
        }
        for (storage::HistoryRecord& record :
             _store->read_history(topic, after_seq, std::numeric_limits<std::size_t>::max())) {
            HistoryEntry entry;
            entry.seq = record.seq;
            entry.timestamp_ms = record.timestamp;
            // Freshly built and not yet shared: completing it here is safe.
            auto message = std::const_pointer_cast<core::Message>(
                Persistence::from_record(std::move(record.message), now));
            message->seq = entry.seq;
            message->published_unix_ms = entry.timestamp_ms;
            entry.message = std::move(message);
            result.entries.push_back(std::move(entry));
        }
    }
    std::sort(result.entries.begin(), result.entries.end(),
              [](const HistoryEntry& a, const HistoryEntry& b) { return a.seq < b.seq; });
    if (result.entries.size() > limit) {
        result.gap = true;
        result.entries.erase(result.entries.begin(),
                             result.entries.end() - static_cast<std::ptrdiff_t>(limit));
    }
    return result;
}

}  // namespace tern::net
