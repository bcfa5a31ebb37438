// Human-readable text for MQTT 5 reason codes and MQTT 3.1.1 CONNACK return codes.
#pragma once

#include <string>
#include <string_view>

namespace tern::tools {

// The MQTT 5 name of a reason code (spec §2.4, Table 2-6), e.g. 0x87 -> "Not authorized";
// "Unknown reason code" for values the spec does not define.
std::string_view reason_code_name(int code);

// The MQTT 3.1/3.1.1 name of a CONNACK return code (spec 3.1.1 §3.2.2.3), e.g. 4 ->
// "Bad user name or password".
std::string_view connack_v3_name(int code);

// "<name> (0xNN)", e.g. "Not authorized (0x87)".
std::string describe_reason_code(int code);

// "<name> (0xNN)" for a CONNACK: the MQTT 5 table when mqtt_version is 5, else the 3.x one.
std::string describe_connack_code(int code, int mqtt_version);

// "0x87": the code as two upper-case hex digits.
std::string hex_code(int code);

}  // namespace tern::tools
