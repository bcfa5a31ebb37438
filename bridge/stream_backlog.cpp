// Retained snapshots and history replays for streaming clients (SSE and /ws share them).
#include "stream_backlog.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

#include "bridge.hpp"
#include "handlers.hpp"
#include "net/broker.hpp"

namespace tern::bridge {

namespace {

constexpr core::MonoMillis kMaxDurationMs = 3'600'000;

}  // namespace

std::vector<core::MessagePtr> retained_snapshot(Bridge& bridge, const Identity& who,
                                                std::span<const std::string> filters,
                                                core::MonoMillis now) {
    std::vector<core::MessagePtr> messages;
    for (const std::string& filter : filters) {
        bridge.broker().retained().match(filter, now, messages);
    }
    // Overlapping filters match a topic twice: once is enough.
    std::sort(
        messages.begin(), messages.end(),
        [](const core::MessagePtr& a, const core::MessagePtr& b) { return a->topic < b->topic; });
    messages.erase(std::unique(messages.begin(), messages.end(),
                               [](const core::MessagePtr& a, const core::MessagePtr& b) {
                                   return a->topic == b->topic;
                               }),
                   messages.end());
    std::erase_if(messages, [&](const core::MessagePtr& message) {
        return !may_receive(bridge, who, message->topic);
    });
    return messages;
}

Replay replay_history(Bridge& bridge, const Identity& who, std::span<const std::string> filters,
                      const net::StreamPosition& from) {
    Replay replay;
    net::History& history = bridge.broker().history();
    if (!history.enabled()) {
        replay.gap = true;
        replay.gap_reason = "no history is kept on this server";
        return replay;
    }
    std::vector<net::HistoryEntry> entries;
    for (const std::string& filter : filters) {
        net::HistoryRead read = history.read(filter, from, kReplayLimit);
        replay.gap = replay.gap || read.gap;
        std::move(read.entries.begin(), read.entries.end(), std::back_inserter(entries));
    }
    std::sort(entries.begin(), entries.end(),
              [](const net::HistoryEntry& a, const net::HistoryEntry& b) { return a.seq < b.seq; });
    entries.erase(std::unique(entries.begin(), entries.end(),
                              [](const net::HistoryEntry& a, const net::HistoryEntry& b) {
                                  return a.seq == b.seq;
                              }),
                  entries.end());
    if (entries.size() > kReplayLimit) {
        replay.gap = true;
        entries.erase(entries.begin(), entries.end() - static_cast<std::ptrdiff_t>(kReplayLimit));
    }
    if (replay.gap) {
        replay.gap_reason = "the history no longer covers everything since this position";
    }
    replay.seqs.reserve(entries.size());
    for (net::HistoryEntry& entry : entries) {
        replay.seqs.push_back(entry.seq);
        if (may_receive(bridge, who, entry.message->topic)) {
            replay.entries.push_back(std::move(entry));
        }
    }
    return replay;
}

std::optional<core::MonoMillis> parse_duration_ms(std::string_view text) {
    uint64_t scale = 1;
    if (text.ends_with("ms")) {
        text.remove_suffix(2);
    } else if (text.ends_with("s")) {
        text.remove_suffix(1);
        scale = 1000;
    }
    uint64_t value = 0;
    const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (text.empty() || error != std::errc{} || end != text.data() + text.size() || value == 0 ||
        value > kMaxDurationMs / scale) {
        return std::nullopt;
    }
    return value * scale;
}

}  // namespace tern::bridge
