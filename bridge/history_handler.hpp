// GET /api/history?topic=T[&limit=N]: the messages kept in the history for one topic, oldest
// first, as envelopes carrying their stream positions (what the dashboard's charts start from).
#pragma once

#include <cstddef>
#include <optional>
#include <string>

#include "core/settings.hpp"
#include "http_response.hpp"
#include "request_auth.hpp"

namespace tern::bridge {

class HttpConnection;

struct HistoryQuery {
    static constexpr std::size_t kDefaultLimit = 100;
    static constexpr std::size_t kMaxLimit = 1000;  // as much as an SSE resume replays

    std::string topic;
    std::size_t limit = kDefaultLimit;
};

// Reads and checks the query: `topic` must be a topic name (no wildcards) within `limits`,
// `limit` a whole number from 1 to kMaxLimit. Returns the 400 answer when it is not.
std::optional<HttpResponse> parse_history_query(const HttpRequest& request,
                                                const core::LimitSettings& limits,
                                                HistoryQuery& out);

namespace handlers {

// 200 with a JSON list of envelopes (the newest `limit` ones); 400 for a bad query; 403 when the
// ACL does not let the user read the topic; 404 when no history is kept for the topic.
void history(HttpConnection& connection, const HttpRequest& request, const Identity& who);

}  // namespace handlers

}  // namespace tern::bridge
