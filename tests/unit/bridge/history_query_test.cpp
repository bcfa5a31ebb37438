// GET /api/history's query: one topic name within the limits, and a bounded limit.
#include <doctest/doctest.h>

#include <string>

#include "history_handler.hpp"

using tern::bridge::HistoryQuery;
using tern::bridge::HttpRequest;
using tern::bridge::HttpResponse;
using tern::bridge::parse_history_query;
using tern::bridge::parse_target;

namespace {

struct Parsed {
    std::optional<HttpResponse> refusal;
    HistoryQuery query;
};

Parsed parse(std::string_view target, tern::core::LimitSettings limits = {}) {
    HttpRequest request;
    REQUIRE(parse_target(target, request.path, request.query));
    Parsed out;
    out.refusal = parse_history_query(request, limits, out.query);
    return out;
}

std::string message_of(const Parsed& parsed) {
    REQUIRE(parsed.refusal.has_value());
    CHECK(parsed.refusal->status == 400);
    return parsed.refusal->body;
}

}  // namespace

TEST_CASE("A topic alone asks for the newest 100 entries") {
    const Parsed parsed = parse("/api/history?topic=sensors%2Fa%20b");
    REQUIRE_FALSE(parsed.refusal.has_value());
    CHECK(parsed.query.topic == "sensors/a b");
    CHECK(parsed.query.limit == 100);
}

TEST_CASE("limit is taken from 1 to 1000") {
    CHECK(parse("/api/history?topic=t&limit=1").query.limit == 1);
    CHECK(parse("/api/history?topic=t&limit=1000").query.limit == 1000);
    for (const char* bad : {"0", "1001", "-1", "", "ten", "5x", "99999999999999999999999"}) {
        CAPTURE(bad);
        const std::string text =
            message_of(parse(std::string("/api/history?topic=t&limit=") + bad));
        CHECK(text ==
              R"({"error":"bad_request","message":"limit must be a whole number from 1 to 1000"})");
    }
}

TEST_CASE("A missing topic, a filter or an invalid topic name is refused") {
    CHECK(message_of(parse("/api/history")) ==
          R"({"error":"bad_request","message":"missing query parameter 'topic'"})");
    CHECK(message_of(parse("/api/history?topic=a%2F%23")) ==
          R"({"error":"bad_request","message":"topic 'a/#' has wildcards: give one topic name"})");
    CHECK(message_of(parse("/api/history?topic=a%2F%2B%2Fb")).find("has wildcards") !=
          std::string::npos);
    CHECK(message_of(parse("/api/history?topic=")) ==
          R"({"error":"bad_request","message":"'' is not a valid topic name"})");
    CHECK(message_of(parse("/api/history?topic=%FF")).find("is not a valid topic name") !=
          std::string::npos);
}

TEST_CASE("The server's topic length and level limits apply") {
    tern::core::LimitSettings limits;
    limits.max_topic_length = 5;
    limits.max_topic_levels = 2;
    CHECK_FALSE(parse("/api/history?topic=a%2Fb", limits).refusal.has_value());
    CHECK(message_of(parse("/api/history?topic=abcdef", limits)).find("not a valid topic name") !=
          std::string::npos);
    CHECK(message_of(parse("/api/history?topic=a%2Fb%2Fc", limits)).find("not a valid") !=
          std::string::npos);
}
