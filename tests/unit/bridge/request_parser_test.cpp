// HTTP request parsing: targets and queries, pipelining, split reads, limits (414/431/413),
// keep-alive, upgrade and Expect: 100-continue.
#include "request_parser.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using tern::bridge::HttpRequest;
using tern::bridge::RequestParser;
using Status = RequestParser::Status;

namespace {

RequestParser::Limits limits(std::size_t headers = 8192, std::size_t body = 1024) {
    return {headers, body};
}

// Feeds `text` in pieces of `step` bytes; returns the complete requests and the final status.
struct Outcome {
    std::vector<HttpRequest> requests;
    Status status = Status::NeedMore;
    int error = 0;
};

Outcome parse_all(const std::string& text, RequestParser::Limits l, std::size_t step) {
    RequestParser parser(l);
    Outcome outcome;
    std::string pending;
    for (std::size_t offset = 0; offset < text.size(); offset += step) {
        pending += text.substr(offset, step);
        for (;;) {
            std::size_t consumed = 0;
            outcome.status = parser.feed(pending, consumed);
            pending.erase(0, consumed);
            if (outcome.status == Status::Error) {
                outcome.error = parser.error_status();
                return outcome;
            }
            if (outcome.status != Status::Complete) {
                break;
            }
            outcome.requests.push_back(std::move(parser.request()));
            parser.reset();
        }
    }
    return outcome;
}

}  // namespace

TEST_CASE("a GET with a percent-encoded query") {
    const Outcome outcome = parse_all(
        "GET /events?topic=sensors%2F%23&topic=a+b&presence=1&empty&last_event_id= HTTP/1.1\r\n"
        "Host: x\r\nLast-Event-ID: 3-4\r\n\r\n",
        limits(), 4096);
    REQUIRE(outcome.requests.size() == 1);
    const HttpRequest& request = outcome.requests[0];
    CHECK(request.method == "GET");
    CHECK(request.path == "/events");
    CHECK(request.query_values("topic") == std::vector<std::string>{"sensors/#", "a b"});
    REQUIRE(request.query_value("presence") != nullptr);
    CHECK(*request.query_value("presence") == "1");
    REQUIRE(request.query_value("empty") != nullptr);
    CHECK(request.query_value("empty")->empty());
    CHECK(request.query_value("missing") == nullptr);
    REQUIRE(request.header("last-event-id") != nullptr);  // names are lower-cased
    CHECK(*request.header("last-event-id") == "3-4");
    CHECK(request.keep_alive);
    CHECK_FALSE(request.upgrade);
}

TEST_CASE("pipelined requests come out one at a time, at any split") {
    const std::string text =
        "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n"
        "POST /api/publish HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello"
        "POST /api/publish HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n"
        "GET /metrics HTTP/1.1\r\nConnection: close\r\n\r\n";
    for (std::size_t step = 1; step <= text.size(); ++step) {
        CAPTURE(step);
        const Outcome outcome = parse_all(text, limits(), step);
        REQUIRE(outcome.requests.size() == 4);
        CHECK(outcome.requests[0].path == "/healthz");
        CHECK(outcome.requests[1].body == "hello");
        CHECK(outcome.requests[2].body == "abcde");
        CHECK(outcome.requests[3].path == "/metrics");
        CHECK_FALSE(outcome.requests[3].keep_alive);
    }
}

TEST_CASE("HTTP/1.0 closes unless it asks for keep-alive") {
    Outcome outcome = parse_all("GET / HTTP/1.0\r\n\r\n", limits(), 100);
    REQUIRE(outcome.requests.size() == 1);
    CHECK_FALSE(outcome.requests[0].keep_alive);
    outcome = parse_all("GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", limits(), 100);
    REQUIRE(outcome.requests.size() == 1);
    CHECK(outcome.requests[0].keep_alive);
    CHECK(outcome.requests[0].http_minor == 0);
}

TEST_CASE("a request line over the limit is 414, headers over it 431") {
    const std::string long_target = "GET /" + std::string(300, 'a') + " HTTP/1.1\r\n\r\n";
    CHECK(parse_all(long_target, limits(256), 7).error == 414);
    std::string headers = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 20; ++i) {
        headers += "X-Filler-" + std::to_string(i) + ": " + std::string(20, 'v') + "\r\n";
    }
    headers += "\r\n";
    CHECK(parse_all(headers, limits(256), 5).error == 431);
    CHECK(parse_all(headers, limits(4096), 5).requests.size() == 1);
    // A header line that never ends is stopped at the limit, not buffered.
    const std::string endless = "GET / HTTP/1.1\r\nX-Long: " + std::string(5000, 'x');
    const Outcome outcome = parse_all(endless, limits(1024), 100);
    CHECK(outcome.status == Status::Error);
    CHECK(outcome.error == 431);
}

TEST_CASE("a body over the limit is 413, by Content-Length or by chunks") {
    CHECK(parse_all("POST /api/publish HTTP/1.1\r\nContent-Length: 1025\r\n\r\n", limits(), 64)
              .error == 413);
    std::string chunked = "POST /api/publish HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) {
        chunked += "200\r\n" + std::string(512, 'x') + "\r\n";
    }
    chunked += "0\r\n\r\n";
    CHECK(parse_all(chunked, limits(), 100).error == 413);
    const Outcome fits = parse_all(
        "POST /p HTTP/1.1\r\nContent-Length: 1024\r\n\r\n" + std::string(1024, 'y'), limits(), 100);
    REQUIRE(fits.requests.size() == 1);
    CHECK(fits.requests[0].body.size() == 1024);
}

TEST_CASE("malformed requests are 400, unknown methods 501") {
    CHECK(parse_all("GARBAGE\r\n\r\n", limits(), 100).error == 501);
    CHECK(parse_all("GET / HTTP/1.1\r\nBad Header\r\n\r\n", limits(), 100).error == 400);
    CHECK(parse_all("GET /%zz HTTP/1.1\r\n\r\n", limits(), 100).error == 400);
    CHECK(parse_all("GET nopath HTTP/1.1\r\n\r\n", limits(), 100).error == 400);
}

TEST_CASE("absolute-form targets name the same path") {
    const Outcome outcome =
        parse_all("GET http://host:8080/healthz?x=1 HTTP/1.1\r\n\r\n", limits(), 100);
    REQUIRE(outcome.requests.size() == 1);
    CHECK(outcome.requests[0].path == "/healthz");
    CHECK(*outcome.requests[0].query_value("x") == "1");
}

TEST_CASE("a WebSocket upgrade stops the parser after the request") {
    RequestParser parser(limits());
    const std::string text =
        "GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
        "\x81\x85"
        "frame";
    std::size_t consumed = 0;
    REQUIRE(parser.feed(text, consumed) == Status::Complete);
    CHECK(parser.request().upgrade);
    CHECK(text.substr(consumed) ==
          "\x81\x85"
          "frame");
}

TEST_CASE("Expect: 100-continue is reported once, and not for a body over the limit") {
    RequestParser parser(limits());
    std::size_t consumed = 0;
    CHECK(parser.feed("POST /p HTTP/1.1\r\nContent-Length: 3\r\nExpect: 100-continue\r\n\r\n",
                      consumed) == Status::NeedMore);
    CHECK(parser.headers_complete());
    CHECK(parser.take_continue());
    CHECK_FALSE(parser.take_continue());
    CHECK(parser.feed("abc", consumed) == Status::Complete);
    CHECK(parser.request().body == "abc");

    RequestParser big(limits());
    CHECK(big.feed("POST /p HTTP/1.1\r\nContent-Length: 5000\r\nExpect: 100-continue\r\n\r\n",
                   consumed) == Status::Error);
    CHECK(big.error_status() == 413);
    CHECK_FALSE(big.take_continue());
}

TEST_CASE("started and headers_complete follow the request for timeouts") {
    RequestParser parser(limits());
    CHECK_FALSE(parser.started());
    std::size_t consumed = 0;
    CHECK(parser.feed("GE", consumed) == Status::NeedMore);
    CHECK(parser.started());
    CHECK_FALSE(parser.headers_complete());
    CHECK(parser.feed("T / HTTP/1.1\r\n\r\n", consumed) == Status::Complete);
    parser.reset();
    CHECK_FALSE(parser.started());
}
