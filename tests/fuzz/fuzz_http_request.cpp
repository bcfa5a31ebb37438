// libFuzzer target for the bridge's HTTP request parser: never crashes, always ends in a complete
// request, an error with a 4xx/5xx status, or a wait for more bytes; and the same bytes give the
// same requests however they are split (the first input byte picks the split point).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "request_parser.hpp"

namespace {

using tern::bridge::RequestParser;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_http_request: %s\n", what);
    std::abort();
}

// What the parser made of a byte stream: one line per request or error, in order.
std::vector<std::string> parse_all(const std::vector<std::string_view>& chunks) {
    RequestParser parser(RequestParser::Limits{512, 1024});
    std::vector<std::string> outcome;
    for (std::string_view chunk : chunks) {
        while (true) {
            std::size_t consumed = 0;
            const RequestParser::Status status = parser.feed(chunk, consumed);
            if (consumed > chunk.size()) {
                fail("consumed more than it was given");
            }
            chunk.remove_prefix(consumed);
            if (status == RequestParser::Status::Error) {
                const int code = parser.error_status();
                if (code < 400 || code > 599 || parser.error_message().empty()) {
                    fail("an error without a 4xx/5xx status and a message");
                }
                outcome.push_back("error " + std::to_string(code));
                return outcome;  // the connection closes
            }
            if (status == RequestParser::Status::NeedMore) {
                if (!chunk.empty()) {
                    fail("NeedMore with bytes left over");
                }
                break;
            }
            const tern::bridge::HttpRequest& request = parser.request();
            if (request.body.size() > 1024) {
                fail("a body over the limit");
            }
            std::string line = request.method + " " + request.target + " " + request.path;
            for (const auto& [name, value] : request.headers) {
                line += "|" + name + ":" + value;
            }
            outcome.push_back(line + "|" + request.body);
            parser.reset();
            if (chunk.empty()) {
                break;
            }
        }
    }
    return outcome;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    if (size == 0) {
        return 0;
    }
    const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
    const std::size_t split = bytes.empty() ? 0 : data[0] % (bytes.size() + 1);
    const std::vector<std::string> whole = parse_all({bytes});
    const std::vector<std::string> halves =
        parse_all({bytes.substr(0, split), bytes.substr(split)});
    if (whole != halves) {
        fail("splitting the bytes changed the requests");
    }
    return 0;
}
