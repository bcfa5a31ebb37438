// Tests of tern-sub -F format strings.
#include "format_string.hpp"

#include <doctest/doctest.h>

#include "common/tool_error.hpp"

using namespace tern::tools;

namespace {

std::string render(const std::string& format, const mqtt::message& message,
                   const MessageProperties& properties = {}) {
    // 2021-01-02T03:04:05.123456789Z
    auto when = std::chrono::system_clock::time_point(std::chrono::seconds(1609556645)) +
                std::chrono::nanoseconds(123456789);
    return FormatString::parse(format).render(message, properties, when);
}

}  // namespace

TEST_CASE("message fields") {
    mqtt::message message("a/b", "Hi!", 3, 1, true);
    CHECK(render("%t %p %q %r %l %m", message) == "a/b Hi! 1 1 3 0");
    CHECK(render("%x %X", mqtt::message("t", "\x0a\xff", 2, 0, false)) == "0aff 0AFF");
    CHECK(render("%%t", message) == "%t");
}

TEST_CASE("width, alignment, zero padding and precision") {
    mqtt::message message("topic", "abc", 3, 0, false);
    CHECK(render("[%7t]", message) == "[  topic]");
    CHECK(render("[%-7t]", message) == "[topic  ]");
    CHECK(render("[%05l]", message) == "[00003]");
    CHECK(render("[%-05l]", message) == "[3    ]");
    CHECK(render("[%07t]", message) == "[  topic]");  // '0' applies to numbers only
    CHECK(render("[%.3t]", message) == "[top]");
    CHECK(render("[%6.2t]", message) == "[    to]");
}

TEST_CASE("escapes and literal @") {
    mqtt::message message("t", "p", 1, 0, false);
    CHECK(render("a\\tb\\nc\\\\d\\0e\\ef@@", message) == std::string("a\tb\nc\\d\0e\x1B"
                                                                     "f@",
                                                                     12));
    CHECK(render("\\a\\r\\v", message) == "\a\r\v");
}

TEST_CASE("time fields") {
    setenv("TZ", "UTC", 1);
    tzset();
    mqtt::message message("t", "p", 1, 0, false);
    CHECK(render("%U", message) == "1609556645.123456789");
    CHECK(render("%I", message) == "2021-01-02T03:04:05+0000");
    CHECK(render("@Y-@m-@d @H:@M:@S.@N", message) == "2021-01-02 03:04:05.123456789");
}

TEST_CASE("MQTT 5 property fields, empty when absent") {
    mqtt::message message("t", "p", 1, 0, false);
    MessageProperties properties;
    CHECK(render("[%C|%D|%E|%F|%R|%S|%P|%A]", message, properties) == "[|||||||]");
    properties.content_type = "text/plain";
    properties.correlation_data = "cd";
    properties.message_expiry_interval = 60;
    properties.payload_format_indicator = 1;
    properties.response_topic = "r";
    properties.subscription_identifiers = {4, 9};
    properties.user_properties = {{"k", "v"}, {"k", "w"}};
    properties.topic_alias = 2;
    CHECK(render("[%C|%D|%E|%F|%R|%S|%P|%A]", message, properties) ==
          "[text/plain|cd|60|1|r|4,9|k:v k:w|2]");
}

TEST_CASE("unknown or unfinished sequences are usage errors") {
    CHECK_THROWS_WITH_AS(FormatString::parse("%z"), "-F: unknown field %z", UsageError);
    CHECK_THROWS_WITH_AS(FormatString::parse("%j"), "-F: unknown field %j", UsageError);
    CHECK_THROWS_WITH_AS(FormatString::parse("\\q"), "-F: unknown escape \\q", UsageError);
    CHECK_THROWS_WITH_AS(FormatString::parse("x%"), "-F: the format ends inside a '%' sequence",
                         UsageError);
    CHECK_THROWS_WITH_AS(FormatString::parse("%-5"), "-F: the format ends inside a '%' sequence",
                         UsageError);
    CHECK_THROWS_WITH_AS(FormatString::parse("x@"), "-F: the format ends inside a '@' sequence",
                         UsageError);
}
