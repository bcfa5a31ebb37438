// Tests of reason code and CONNACK return code texts.
#include "common/reason_code_text.hpp"

#include <doctest/doctest.h>

using namespace tern::tools;

TEST_CASE("MQTT 5 reason codes have their spec names") {
    CHECK(describe_reason_code(0x87) == "Not authorized (0x87)");
    CHECK(describe_reason_code(0x86) == "Bad user name or password (0x86)");
    CHECK(describe_reason_code(0x97) == "Quota exceeded (0x97)");
    CHECK(describe_reason_code(0x10) == "No matching subscribers (0x10)");
    CHECK(describe_reason_code(0xA2) == "Wildcard Subscriptions not supported (0xA2)");
    CHECK(describe_reason_code(0x7F) == "Unknown reason code (0x7F)");
}

TEST_CASE("CONNACK codes use the table of the protocol version") {
    CHECK(describe_connack_code(4, 4) == "Bad user name or password (0x04)");
    CHECK(describe_connack_code(5, 3) == "Not authorized (0x05)");
    CHECK(describe_connack_code(1, 4) == "Unacceptable protocol version (0x01)");
    CHECK(describe_connack_code(0x86, 5) == "Bad user name or password (0x86)");
    CHECK(describe_connack_code(9, 4) == "Unknown return code (0x09)");
}
