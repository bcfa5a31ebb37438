// Request parsing on top of http-parser: one request at a time, limits turned into 4xx statuses.
#include "request_parser.hpp"

#include <algorithm>
#include <cctype>

namespace tern::bridge {

namespace {

// Bytes of the method, spaces, version and CRLF around the target, counted once per request.
constexpr std::size_t kRequestLineOverhead = 16;

int hex_value(char c) {
    if (c >= '0' && c <= '9') {
        return c - '0';
    }
    if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    }
    if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

bool percent_decode(std::string_view text, bool plus_is_space, std::string& out) {
    out.clear();
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        const char c = text[i];
        if (c == '%') {
            if (i + 2 >= text.size()) {
                return false;
            }
            const int high = hex_value(text[i + 1]);
            const int low = hex_value(text[i + 2]);
            if (high < 0 || low < 0) {
                return false;
            }
            out += static_cast<char>(high * 16 + low);
            i += 2;
        } else if (c == '+' && plus_is_space) {
            out += ' ';
        } else {
            out += c;
        }
    }
    return true;
}

std::string lower(std::string_view text) {
    std::string result(text);
    std::transform(result.begin(), result.end(), result.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return result;
}

const std::string* find_in(const HeaderList& list, std::string_view name) {
    for (const auto& [key, value] : list) {
        if (key == name) {
            return &value;
        }
    }
    return nullptr;
}

}  // namespace

const std::string* HttpRequest::header(std::string_view name) const {
    return find_in(headers, name);
}

const std::string* HttpRequest::query_value(std::string_view name) const {
    return find_in(query, name);
}

std::vector<std::string> HttpRequest::query_values(std::string_view name) const {
    std::vector<std::string> values;
    for (const auto& [key, value] : query) {
        if (key == name) {
            values.push_back(value);
        }
    }
    return values;
}

bool parse_target(std::string_view target, std::string& path, HeaderList& query) {
    query.clear();
    // Absolute form ("http://host/path", sent through proxies) names the same resource.
    for (std::string_view scheme : {std::string_view("http://"), std::string_view("https://")}) {
        if (target.starts_with(scheme)) {
            const std::size_t slash = target.find('/', scheme.size());
            target = slash == std::string_view::npos ? std::string_view("/") : target.substr(slash);
        }
    }
    if (target.empty() || target.front() != '/') {
        return false;
    }
    const std::size_t question = target.find('?');
    std::string_view raw_query;
    if (question != std::string_view::npos) {
        raw_query = target.substr(question + 1);
        target = target.substr(0, question);
    }
    if (!percent_decode(target, false, path)) {
        return false;
    }
    while (!raw_query.empty()) {
        const std::size_t amp = raw_query.find('&');
        const std::string_view pair = raw_query.substr(0, amp);
        raw_query = amp == std::string_view::npos ? std::string_view() : raw_query.substr(amp + 1);
        if (pair.empty()) {
            continue;
        }
        const std::size_t equals = pair.find('=');
        std::string key;
        std::string value;
        if (!percent_decode(pair.substr(0, equals), true, key)) {
            return false;
        }
        if (equals != std::string_view::npos &&
            !percent_decode(pair.substr(equals + 1), true, value)) {
            return false;
        }
        query.emplace_back(std::move(key), std::move(value));
    }
    return true;
}

RequestParser::RequestParser(Limits limits) : _limits(limits) {
    http_parser_settings_init(&_settings);
    _settings.on_message_begin = &RequestParser::on_message_begin;
    _settings.on_url = &RequestParser::on_url;
    _settings.on_header_field = &RequestParser::on_header_field;
    _settings.on_header_value = &RequestParser::on_header_value;
    _settings.on_headers_complete = &RequestParser::on_headers_complete;
    _settings.on_body = &RequestParser::on_body;
    _settings.on_message_complete = &RequestParser::on_message_complete;
    reset();
}

void RequestParser::reset() {
    http_parser_init(&_parser, HTTP_REQUEST);
    _parser.data = this;
    _request = HttpRequest{};
    _header_bytes = kRequestLineOverhead;
    _in_value = false;
    _started = false;
    _headers_complete = false;
    _complete = false;
    _continue = false;
}

bool RequestParser::take_continue() noexcept {
    const bool result = _continue;
    _continue = false;
    return result;
}

RequestParser::Status RequestParser::feed(std::string_view data, std::size_t& consumed) {
    consumed = 0;
    if (_error_status != 0) {
        return Status::Error;
    }
    if (data.empty()) {
        return Status::NeedMore;  // an empty execute would mean end of input to http-parser
    }
    consumed = http_parser_execute(&_parser, &_settings, data.data(), data.size());
    if (_error_status != 0) {
        return Status::Error;
    }
    if (_complete) {
        return Status::Complete;  // paused after the request, or stopped at an upgrade
    }
    const auto error = HTTP_PARSER_ERRNO(&_parser);
    if (error == HPE_OK) {
        return Status::NeedMore;
    }
    if (error == HPE_HEADER_OVERFLOW) {
        fail(431, "request headers too large");
    } else if (error == HPE_INVALID_METHOD) {
        fail(501, "method not implemented");
    } else {
        fail(400, std::string("malformed request: ") + http_errno_description(error));
    }
    return Status::Error;
}

int RequestParser::fail(int status, std::string message) {
    if (_error_status == 0) {
        _error_status = status;
        _error_message = std::move(message);
    }
    return 1;  // makes http-parser stop with a callback error
}

bool RequestParser::count_header_bytes(std::size_t length) {
    _header_bytes += length;
    return _header_bytes <= _limits.max_header_bytes;
}

int RequestParser::on_message_begin(http_parser* parser) {
    static_cast<RequestParser*>(parser->data)->_started = true;
    return 0;
}

int RequestParser::on_url(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<RequestParser*>(parser->data);
    self->_request.target.append(at, length);
    if (!self->count_header_bytes(length)) {
        return self->fail(414, "request line too long");
    }
    return 0;
}

int RequestParser::on_header_field(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<RequestParser*>(parser->data);
    HeaderList& headers = self->_request.headers;
    if (headers.empty() || self->_in_value) {
        headers.emplace_back();
        self->_in_value = false;
        self->_header_bytes += 4;  // ": " and CRLF
    }
    headers.back().first += lower(std::string_view(at, length));
    if (!self->count_header_bytes(length)) {
        return self->fail(431, "request headers too large");
    }
    return 0;
}

int RequestParser::on_header_value(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<RequestParser*>(parser->data);
    if (self->_request.headers.empty()) {
        return self->fail(400, "malformed request: header value without a name");
    }
    self->_in_value = true;
    self->_request.headers.back().second.append(at, length);
    if (!self->count_header_bytes(length)) {
        return self->fail(431, "request headers too large");
    }
    return 0;
}

int RequestParser::on_headers_complete(http_parser* parser) {
    auto* self = static_cast<RequestParser*>(parser->data);
    HttpRequest& request = self->_request;
    self->_headers_complete = true;
    request.method = http_method_str(static_cast<http_method>(parser->method));
    request.http_major = parser->http_major;
    request.http_minor = parser->http_minor;
    request.keep_alive = http_should_keep_alive(parser) != 0;
    request.upgrade =
        (parser->flags & F_UPGRADE) != 0 && (parser->flags & F_CONNECTION_UPGRADE) != 0;
    if (!parse_target(request.target, request.path, request.query)) {
        return self->fail(400, "malformed request target");
    }
    if ((parser->flags & F_CONTENTLENGTH) != 0 &&
        parser->content_length > self->_limits.max_body_bytes) {
        return self->fail(413, "request body larger than " +
                                   std::to_string(self->_limits.max_body_bytes) + " bytes");
    }
    const std::string* expect = request.header("expect");
    if (expect != nullptr && lower(*expect) == "100-continue") {
        self->_continue = true;
    }
    return 0;
}

int RequestParser::on_body(http_parser* parser, const char* at, std::size_t length) {
    auto* self = static_cast<RequestParser*>(parser->data);
    if (self->_request.body.size() + length > self->_limits.max_body_bytes) {
        return self->fail(413, "request body larger than " +
                                   std::to_string(self->_limits.max_body_bytes) + " bytes");
    }
    self->_request.body.append(at, length);
    return 0;
}

int RequestParser::on_message_complete(http_parser* parser) {
    auto* self = static_cast<RequestParser*>(parser->data);
    self->_complete = true;
    // Stop here: the caller answers this request before parsing the next (pipelining).
    http_parser_pause(parser, 1);
    return 0;
}

}  // namespace tern::bridge
