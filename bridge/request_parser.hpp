// HTTP/1.1 requests from bytes (Debian's http-parser), with the bridge's size limits. No sockets.
#pragma once

#include <http_parser.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace tern::bridge {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

struct HttpRequest {
    std::string method;  // "GET", "POST", ...
    std::string target;  // the request target as sent ("/events?topic=a%2Fb")
    std::string path;    // percent-decoded path ("/events")
    HeaderList query;    // percent-decoded query parameters, in order ('+' is a space)
    HeaderList headers;  // names lower-cased, in order
    std::string body;
    uint16_t http_major = 1;
    uint16_t http_minor = 1;
    bool keep_alive = true;  // the connection may carry another request after this one
    bool upgrade = false;    // asked for another protocol (Upgrade + Connection: upgrade)

    // The first header / query parameter of that name (header names are matched lower-case),
    // null when absent.
    const std::string* header(std::string_view name) const;
    const std::string* query_value(std::string_view name) const;
    // Every query parameter of that name, in order.
    std::vector<std::string> query_values(std::string_view name) const;
};

// Splits a request target into its percent-decoded path and query parameters. False when it is
// not an origin-form target ("/..."), or its percent-encoding is broken.
bool parse_target(std::string_view target, std::string& path, HeaderList& query);

// Feeds bytes into http-parser one request at a time: it stops after each complete request so
// that the caller answers it before the next one (pipelining), and enforces the limits.
class RequestParser {
  public:
    struct Limits {
        std::size_t max_header_bytes = 8 * 1024;  // request line + headers
        std::size_t max_body_bytes = 1024 * 1024;
    };
    enum class Status : uint8_t {
        NeedMore,  // every byte given was consumed; the request is not complete yet
        Complete,  // request() is complete; bytes after it were not consumed
        Error,     // error_status() and error_message() say why; the connection must close
    };

    explicit RequestParser(Limits limits);
    RequestParser(const RequestParser&) = delete;
    RequestParser& operator=(const RequestParser&) = delete;

    // Parses from `data`; `consumed` is how many bytes were used. After Complete, take request()
    // and call reset() before feeding the rest.
    Status feed(std::string_view data, std::size_t& consumed);
    // Forgets the request and gets ready for the next one.
    void reset();

    HttpRequest& request() noexcept { return _request; }
    int error_status() const noexcept { return _error_status; }
    const std::string& error_message() const noexcept { return _error_message; }

    // Whether the first byte of a request arrived / its headers are complete (for timeouts).
    bool started() const noexcept { return _started; }
    bool headers_complete() const noexcept { return _headers_complete; }
    // True once after headers that ask "Expect: 100-continue" and fit the limits: the caller
    // sends "100 Continue" so that the client sends its body.
    bool take_continue() noexcept;

  private:
    static int on_message_begin(http_parser* parser);
    static int on_url(http_parser* parser, const char* at, std::size_t length);
    static int on_header_field(http_parser* parser, const char* at, std::size_t length);
    static int on_header_value(http_parser* parser, const char* at, std::size_t length);
    static int on_headers_complete(http_parser* parser);
    static int on_body(http_parser* parser, const char* at, std::size_t length);
    static int on_message_complete(http_parser* parser);

    int fail(int status, std::string message);
    bool count_header_bytes(std::size_t length);

    Limits _limits;
    http_parser _parser{};
    http_parser_settings _settings{};
    HttpRequest _request;
    std::size_t _header_bytes = 0;
    bool _in_value = false;
    bool _started = false;
    bool _headers_complete = false;
    bool _complete = false;
    bool _continue = false;
    int _error_status = 0;
    std::string _error_message;
};

}  // namespace tern::bridge
