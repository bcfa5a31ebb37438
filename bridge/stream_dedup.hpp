// What SSE streams and /ws sessions share between the live feed and their client: skipping the
// live copies of replayed messages, and conflation (the latest message per topic per interval).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "core/session.hpp"
#include "stream_backlog.hpp"

namespace tern::bridge {

// Seqs replayed from the history, remembered for kForgetReplayedMs: their live copies may still
// be in flight from other loops and must be skipped.
class ReplayedSeqs {
  public:
    void remember(std::span<const uint64_t> seqs, core::MonoMillis now) {
        _seqs.insert(seqs.begin(), seqs.end());
        _forget_at = now + kForgetReplayedMs;
    }
    bool contains(uint64_t seq) const { return seq != 0 && !_seqs.empty() && _seqs.contains(seq); }
    void tick(core::MonoMillis now) {
        if (_forget_at != 0 && now >= _forget_at) {
            _forget_at = 0;
            _seqs.clear();
        }
    }

  private:
    std::unordered_set<uint64_t> _seqs;
    core::MonoMillis _forget_at = 0;
};

// Conflation: at most one message per interval goes straight out; within the interval only the
// latest message per topic is held, in first-arrival order. T is core::MessagePtr (SSE) or
// core::OutgoingMessage (/ws: with its subscription ids).
template <typename T>
class Conflator {
  public:
    explicit Conflator(core::MonoMillis interval_ms) : _interval(interval_ms) {}

    bool enabled() const noexcept { return _interval != 0; }
    // True when a message may go out now (nothing held, the interval has passed): the next
    // interval starts.
    bool send_now(core::MonoMillis now) {
        if (!_held.empty() || now < _next_flush) {
            return false;
        }
        _next_flush = now + _interval;
        return true;
    }
    // Holds `item`, replacing what was held for its topic. Returns the bytes held, which count
    // against the client's cap (many topics must not grow it without bound).
    std::size_t hold(const T& item) {
        const core::Message& message = *message_of(item);
        auto [it, inserted] = _index.try_emplace(message.topic, _held.size());
        if (inserted) {
            _held.push_back(item);
            _bytes += message.topic.size() + message.payload.size();
        } else {
            T& slot = _held[it->second];
            _bytes -= message_of(slot)->payload.size();
            _bytes += message.payload.size();
            slot = item;
        }
        return _bytes;
    }
    // The held messages once the interval has passed (the next one starts), else none.
    std::vector<T> take_due(core::MonoMillis now) {
        if (_held.empty() || now < _next_flush) {
            return {};
        }
        std::vector<T> due = std::move(_held);
        clear();
        _next_flush = now + _interval;
        return due;
    }
    void clear() {
        _held.clear();
        _index.clear();
        _bytes = 0;
    }

  private:
    static const core::MessagePtr& message_of(const core::MessagePtr& message) { return message; }
    static const core::MessagePtr& message_of(const core::OutgoingMessage& outgoing) {
        return outgoing.message;
    }

    core::MonoMillis _interval;
    std::unordered_map<std::string, std::size_t> _index;
    std::vector<T> _held;
    std::size_t _bytes = 0;
    core::MonoMillis _next_flush = 0;
};

}  // namespace tern::bridge
