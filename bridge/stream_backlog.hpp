// What a streaming client (SSE, /ws) gets before live messages: the retained snapshot of its
// filters, or the replay from the history after a resume position, with an explicit gap.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/message.hpp"
#include "net/history.hpp"
#include "request_auth.hpp"

namespace tern::bridge {

class Bridge;

// Most history entries replayed on resume (the newest ones; a gap says the rest).
inline constexpr std::size_t kReplayLimit = 1000;
// How long replayed seqs are remembered to skip their live copies still in flight.
inline constexpr core::MonoMillis kForgetReplayedMs = 2000;

// The retained messages matching any of `filters` that `who` may receive, each topic once,
// sorted by topic. Expired ones are left out.
std::vector<core::MessagePtr> retained_snapshot(Bridge& bridge, const Identity& who,
                                                std::span<const std::string> filters,
                                                core::MonoMillis now);

struct Replay {
    // Messages on the filters published after the position that `who` may receive, oldest
    // first, each seq once, at most kReplayLimit (the newest ones).
    std::vector<net::HistoryEntry> entries;
    // Seqs of every entry read (also those the ACL hid): their live copies are skipped.
    std::vector<uint64_t> seqs;
    // Not everything since the position is in `entries`; `gap_reason` says why.
    bool gap = false;
    std::string gap_reason;
};

// Reads what was published on `filters` after `from`. Without a history policy, or when the
// history no longer covers the position, `gap` is set: the caller says so to the client and
// sends the retained snapshot (current values) before the entries.
Replay replay_history(Bridge& bridge, const Identity& who, std::span<const std::string> filters,
                      const net::StreamPosition& from);

// "250", "250ms" or "2s" → milliseconds (1 ms .. one hour); nullopt when malformed or out of
// range. For ?conflate=.
std::optional<core::MonoMillis> parse_duration_ms(std::string_view text);

}  // namespace tern::bridge
