// Malformed and forbidden inputs: each hand-written packet fails with the MQTT 5 reason code the
// spec assigns and a reason naming the broken rule.
#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

constexpr ReasonCode kMalformed = ReasonCode::MalformedPacket;
constexpr ReasonCode kProtocol = ReasonCode::ProtocolError;
constexpr ReasonCode kTopicName = ReasonCode::TopicNameInvalid;
constexpr ProtocolVersion V31 = ProtocolVersion::V31;
constexpr ProtocolVersion V311 = ProtocolVersion::V311;
constexpr ProtocolVersion V5 = ProtocolVersion::V5;

struct BadInput {
    const char* what;
    ProtocolVersion version;
    std::string wire;
    ReasonCode code;
    const char* reason_fragment;  // must appear in DecodeError::reason
};

const std::vector<BadInput> kBadInputs = {
    // Fixed header: reserved types and flags [MQTT-2.1.3-1], Remaining Length [MQTT-1.5.5-1].
    {"packet type 0", V311, bytes({0x00, 0x00}), kMalformed, "type 0"},
    {"AUTH before MQTT 5", V311, bytes({0xF0, 0x00}), kMalformed, "AUTH"},
    {"AUTH in MQTT 3.1", V31, bytes({0xF0, 0x00}), kMalformed, "AUTH"},
    {"five length bytes", V311, bytes({0x30, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), kMalformed,
     "Remaining Length"},
    {"non-minimal length", V5, bytes({0xC0, 0x80, 0x00}), kMalformed, "Remaining Length"},
    {"PUBREL flags 0000", V311, bytes({0x60, 0x02, 0x00, 0x01}), kMalformed,
     "PUBREL fixed header flags"},
    {"SUBSCRIBE flags 0000", V5, bytes({0x80, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x00}),
     kMalformed, "SUBSCRIBE fixed header flags"},
    {"UNSUBSCRIBE flags 0000", V311, bytes({0xA0, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}), kMalformed,
     "UNSUBSCRIBE fixed header flags"},
    {"PINGREQ flags 0001", V311, bytes({0xC1, 0x00}), kMalformed, "PINGREQ fixed header"},
    {"DISCONNECT flags 0010", V5, bytes({0xE2, 0x00}), kMalformed, "DISCONNECT fixed header"},
    {"PUBACK flags 0001", V5, bytes({0x41, 0x02, 0x00, 0x01}), kMalformed, "PUBACK fixed header"},
    {"AUTH flags 0001", V5, bytes({0xF1, 0x00}), kMalformed, "AUTH fixed header"},
    {"CONNECT flags 0001", V311,
     bytes({0x11, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 'c'}),
     kMalformed, "CONNECT fixed header"},

    // PUBLISH [MQTT-3.3.1-4] [MQTT-3.3.1-2] [MQTT-3.3.2-1] [MQTT-3.3.2-2] [MQTT-1.5.4-1/2].
    {"PUBLISH QoS 3", V311, bytes({0x36, 0x05, 0x00, 0x01, 'a', 0x00, 0x01}), kMalformed,
     "QoS is 3"},
    {"PUBLISH DUP at QoS 0", V311, bytes({0x38, 0x03, 0x00, 0x01, 'a'}), kMalformed, "DUP"},
    {"topic byte 0xFF", V311, bytes({0x30, 0x03, 0x00, 0x01, 0xFF}), kMalformed, "UTF-8"},
    {"topic overlong slash", V311, bytes({0x30, 0x04, 0x00, 0x02, 0xC0, 0xAF}), kMalformed,
     "UTF-8"},
    {"topic surrogate U+D800", V5, bytes({0x30, 0x06, 0x00, 0x03, 0xED, 0xA0, 0x80, 0x00}),
     kMalformed, "UTF-8"},
    {"topic U+0000", V311, bytes({0x30, 0x05, 0x00, 0x03, 'a', 0x00, 'b'}), kMalformed, "UTF-8"},
    {"topic above U+10FFFF", V5, bytes({0x30, 0x07, 0x00, 0x04, 0xF4, 0x90, 0x80, 0x80, 0x00}),
     kMalformed, "UTF-8"},
    {"topic with +", V311, bytes({0x30, 0x05, 0x00, 0x03, 'a', '/', '+'}), kTopicName, "wildcard"},
    {"topic with #", V5, bytes({0x30, 0x06, 0x00, 0x03, 'a', '/', '#', 0x00}), kTopicName,
     "wildcard"},
    {"empty topic before 5.0", V311, bytes({0x30, 0x02, 0x00, 0x00}), kProtocol, "empty"},
    {"empty topic without alias", V5, bytes({0x30, 0x03, 0x00, 0x00, 0x00}), kProtocol, "empty"},
    {"topic length past the end", V311, bytes({0x30, 0x03, 0x00, 0x05, 'a'}), kMalformed,
     "runs past"},
    {"QoS 1 without packet id", V5, bytes({0x32, 0x04, 0x00, 0x01, 'a', 0x00}), kMalformed,
     "Packet Identifier runs past"},

    // Properties (section 2.2.2).
    {"unknown property 0x05", V5, bytes({0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x05, 0x00}),
     kMalformed, "unknown property"},
    {"unknown property 0x80", V5, bytes({0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x80, 0x00}),
     kMalformed, "unknown property"},
    {"Session Expiry in PUBLISH", V5,
     bytes({0x30, 0x09, 0x00, 0x01, 'a', 0x05, 0x11, 0x00, 0x00, 0x00, 0x01}), kMalformed,
     "Session Expiry Interval (0x11) is not allowed"},
    {"Will Delay in PUBLISH", V5,
     bytes({0x30, 0x09, 0x00, 0x01, 'a', 0x05, 0x18, 0x00, 0x00, 0x00, 0x01}), kMalformed,
     "not allowed"},
    {"Topic Alias in PUBACK", V5, bytes({0x40, 0x07, 0x00, 0x01, 0x00, 0x03, 0x23, 0x00, 0x01}),
     kMalformed, "not allowed"},
    {"Topic Alias in CONNECT", V5,
     bytes({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, 0x03, 0x23, 0x00,
            0x01, 0x00, 0x01, 'c'}),
     kMalformed, "not allowed"},
    {"Topic Alias twice", V5,
     bytes({0x30, 0x0A, 0x00, 0x01, 'a', 0x06, 0x23, 0x00, 0x01, 0x23, 0x00, 0x02}), kProtocol,
     "more than once"},
    {"two Subscription Identifiers in SUBSCRIBE", V5,
     bytes({0x82, 0x0B, 0x00, 0x01, 0x04, 0x0B, 0x01, 0x0B, 0x02, 0x00, 0x01, 'a', 0x00}),
     kProtocol, "more than once"},
    {"Reason String twice", V5,
     bytes({0xE0, 0x0A, 0x80, 0x08, 0x1F, 0x00, 0x01, 'a', 0x1F, 0x00, 0x01, 'b'}), kProtocol,
     "more than once"},
    {"Payload Format Indicator 2", V5, bytes({0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x01, 0x02}),
     kProtocol, "must be 0 or 1"},
    {"Request Problem Information 2", V5,
     bytes({0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, 0x02, 0x17, 0x02,
            0x00, 0x01, 'c'}),
     kProtocol, "must be 0 or 1"},
    {"Request Response Information 2", V5,
     bytes({0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, 0x02, 0x19, 0x02,
            0x00, 0x01, 'c'}),
     kProtocol, "must be 0 or 1"},
    {"Maximum QoS 2", V5, bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x24, 0x02}), kProtocol,
     "must be 0 or 1"},
    {"Retain Available 3", V5, bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x25, 0x03}), kProtocol,
     "must be 0 or 1"},
    {"Shared Subscription Available 2", V5, bytes({0x20, 0x05, 0x00, 0x00, 0x02, 0x2A, 0x02}),
     kProtocol, "must be 0 or 1"},
    {"Receive Maximum 0", V5,
     bytes({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x02, 0x00, 0x3C, 0x03, 0x21, 0x00,
            0x00, 0x00, 0x01, 'c'}),
     kProtocol, "Receive Maximum (0x21) is 0"},
    {"Maximum Packet Size 0", V5,
     bytes({0x10, 0x13, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x02, 0x00,
            0x3C, 0x05, 0x27, 0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 'c'}),
     kProtocol, "Maximum Packet Size (0x27) is 0"},
    {"Subscription Identifier 0", V5, bytes({0x30, 0x06, 0x00, 0x01, 'a', 0x02, 0x0B, 0x00}),
     kProtocol, "Subscription Identifier (0x0B) is 0"},
    {"Subscription Identifier over 268435455", V5,
     bytes({0x30, 0x0A, 0x00, 0x01, 'a', 0x06, 0x0B, 0xFF, 0xFF, 0xFF, 0xFF, 0x01}), kMalformed,
     "Variable Byte Integer"},
    {"Topic Alias 0", V5, bytes({0x30, 0x07, 0x00, 0x01, 'a', 0x03, 0x23, 0x00, 0x00}),
     ReasonCode::TopicAliasInvalid, "Topic Alias (0x23) is 0"},
    {"Property Length past the packet", V5, bytes({0x30, 0x05, 0x00, 0x01, 'a', 0x09, 0x01}),
     kMalformed, "Property Length runs past"},
    {"property value past its block", V5,
     bytes({0x30, 0x07, 0x00, 0x01, 'a', 0x02, 0x02, 0x00, 0x00}), kMalformed,
     "runs past the property block"},
    {"non-minimal Property Length", V5, bytes({0x30, 0x05, 0x00, 0x01, 'a', 0x80, 0x00}),
     kMalformed, "Property Length is not a valid"},
    {"User Property value not UTF-8", V5,
     bytes({0x30, 0x0B, 0x00, 0x01, 'a', 0x07, 0x26, 0x00, 0x01, 'k', 0x00, 0x01, 0xFF}),
     kMalformed, "User Property (0x26) is not valid UTF-8"},
    {"Response Topic with wildcard", V5,
     bytes({0x30, 0x08, 0x00, 0x01, 'a', 0x04, 0x08, 0x00, 0x01, '#'}), kProtocol, "wildcard"},
    {"Authentication Data without Method", V5,
     bytes({0x10, 0x12, 0x00, 0x04, 'M',  'Q',  'T', 'T',  0x05, 0x02,
            0x00, 0x3C, 0x04, 0x16, 0x00, 0x01, 'x', 0x00, 0x01, 'c'}),
     kProtocol, "Authentication Data without"},

    // Lengths and trailing bytes.
    {"PUBACK Remaining Length 3 before 5.0", V311, bytes({0x40, 0x03, 0x00, 0x01, 0x00}),
     kMalformed, "Remaining Length is not 2"},
    {"PUBACK Remaining Length 1", V311, bytes({0x40, 0x01, 0x00}), kMalformed, "too short"},
    {"PUBACK bytes after properties", V5, bytes({0x40, 0x05, 0x00, 0x01, 0x00, 0x00, 0xAA}),
     kMalformed, "bytes after"},
    {"CONNECT bytes after password", V311,
     bytes({0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 'c',
            0x00}),
     kMalformed, "bytes after"},
    {"PINGREQ with a body", V311, bytes({0xC0, 0x01, 0x00}), kMalformed,
     "Remaining Length is not 0"},
    {"DISCONNECT with a body before 5.0", V311, bytes({0xE0, 0x01, 0x00}), kMalformed,
     "Remaining Length is not 0"},
    {"UNSUBACK Remaining Length 3 before 5.0", V311, bytes({0xB0, 0x03, 0x00, 0x01, 0x00}),
     kMalformed, "Remaining Length is not 2"},
    {"CONNACK bytes after properties", V5, bytes({0x20, 0x04, 0x00, 0x00, 0x00, 0x00}), kMalformed,
     "bytes after"},
    {"CONNACK Remaining Length 3 before 5.0", V311, bytes({0x20, 0x03, 0x00, 0x00, 0x00}),
     kMalformed, "bytes after"},
    {"DISCONNECT bytes after properties", V5, bytes({0xE0, 0x03, 0x00, 0x00, 0xAA}), kMalformed,
     "bytes after"},
    {"AUTH with a reason but no Property Length", V5, bytes({0xF0, 0x01, 0x18}), kMalformed,
     "Property Length runs past"},

    // Packet Identifier 0 [MQTT-2.2.1-3] [MQTT-2.2.1-5] (3.1.1 [MQTT-2.3.1-1]).
    {"PUBACK packet id 0", V311, bytes({0x40, 0x02, 0x00, 0x00}), kProtocol,
     "Packet Identifier is 0"},
    {"PUBCOMP packet id 0", V5, bytes({0x70, 0x02, 0x00, 0x00}), kProtocol,
     "Packet Identifier is 0"},
    {"PUBLISH QoS 2 packet id 0", V5, bytes({0x34, 0x06, 0x00, 0x01, 'a', 0x00, 0x00, 0x00}),
     kProtocol, "Packet Identifier is 0"},
    {"SUBSCRIBE packet id 0", V311, bytes({0x82, 0x06, 0x00, 0x00, 0x00, 0x01, 'a', 0x00}),
     kProtocol, "Packet Identifier is 0"},
    {"UNSUBSCRIBE packet id 0", V5, bytes({0xA2, 0x06, 0x00, 0x00, 0x00, 0x00, 0x01, 'a'}),
     kProtocol, "Packet Identifier is 0"},
    {"SUBACK packet id 0", V311, bytes({0x90, 0x03, 0x00, 0x00, 0x00}), kProtocol,
     "Packet Identifier is 0"},

    // SUBSCRIBE / UNSUBSCRIBE payloads [MQTT-3.8.3-3] [MQTT-3.10.3-2] [MQTT-3-8.3-4]
    // [MQTT-3.8.3-5] [MQTT-3.8.3-4].
    {"SUBSCRIBE without filters", V311, bytes({0x82, 0x02, 0x00, 0x01}), kProtocol,
     "no Topic Filter"},
    {"SUBSCRIBE without filters in 5.0", V5, bytes({0x82, 0x03, 0x00, 0x01, 0x00}), kProtocol,
     "no Topic Filter"},
    {"UNSUBSCRIBE without filters", V311, bytes({0xA2, 0x02, 0x00, 0x01}), kProtocol,
     "no Topic Filter"},
    {"UNSUBSCRIBE without filters in 5.0", V5, bytes({0xA2, 0x03, 0x00, 0x01, 0x00}), kProtocol,
     "no Topic Filter"},
    {"option bit 2 before 5.0", V311, bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x04}),
     kMalformed, "reserved option bits"},
    {"option bit 7 before 5.0", V311, bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x80}),
     kMalformed, "reserved option bits"},
    {"requested QoS 3", V311, bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03}), kMalformed,
     "QoS is 3"},
    {"requested QoS 3 in 3.1", V31, bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x03}),
     kMalformed, "QoS is 3"},
    {"option bit 6", V5, bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x40}), kMalformed,
     "bits 6-7"},
    {"Maximum QoS 3", V5, bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x03}), kProtocol,
     "Maximum QoS is 3"},
    {"Retain Handling 3", V5, bytes({0x82, 0x07, 0x00, 0x01, 0x00, 0x00, 0x01, 'a', 0x30}),
     kProtocol, "Retain Handling is 3"},
    {"No Local on a shared subscription", V5,
     bytes({0x82, 0x10, 0x00, 0x01, 0x00, 0x00, 0x0A, '$', 's', 'h', 'a', 'r', 'e', '/', 'g', '/',
            't', 0x04}),
     kProtocol, "No Local"},
    {"filter without options", V311, bytes({0x82, 0x05, 0x00, 0x01, 0x00, 0x01, 'a'}), kMalformed,
     "without Subscription Options"},
    {"filter not UTF-8", V311, bytes({0x82, 0x06, 0x00, 0x01, 0x00, 0x01, 0x80, 0x00}), kMalformed,
     "UTF-8"},
    {"UNSUBSCRIBE filter truncated UTF-8", V5,
     bytes({0xA2, 0x06, 0x00, 0x01, 0x00, 0x00, 0x01, 0xC3}), kMalformed, "UTF-8"},
    {"SUBACK return code 3 before 5.0", V311, bytes({0x90, 0x03, 0x00, 0x01, 0x03}), kProtocol,
     "not defined"},
    {"SUBACK reason 0x03", V5, bytes({0x90, 0x04, 0x00, 0x01, 0x00, 0x03}), kProtocol,
     "not defined"},
    {"SUBACK without reason codes", V5, bytes({0x90, 0x03, 0x00, 0x01, 0x00}), kProtocol,
     "no reason codes"},
    {"UNSUBACK reason 0x01", V5, bytes({0xB0, 0x04, 0x00, 0x01, 0x00, 0x01}), kProtocol,
     "not defined"},

    // CONNECT (section 3.1.2) and CONNACK (section 3.2.2).
    {"protocol name MQTX", V311,
     bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'X', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 'c'}),
     kMalformed, "protocol name"},
    {"CONNECT reserved flag", V311,
     bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x03, 0x00, 0x3C, 0x00, 0x01, 'c'}),
     kMalformed, "reserved flag"},
    {"Will QoS without Will Flag", V311,
     bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x0A, 0x00, 0x3C, 0x00, 0x01, 'c'}),
     kMalformed, "without Will Flag"},
    {"Will Retain without Will Flag", V5,
     bytes({0x10, 0x0E, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x05, 0x22, 0x00, 0x3C, 0x00, 0x00, 0x01,
            'c'}),
     kMalformed, "without Will Flag"},
    {"Will QoS 3", V311, bytes({0x10, 0x12, 0x00, 0x04, 'M', 'Q',  'T',  'T', 0x04, 0x1E,
                                0x00, 0x3C, 0x00, 0x01, 'c', 0x00, 0x01, 't', 0x00, 0x00}),
     kMalformed, "Will QoS is 3"},
    {"password without user name", V311,
     bytes({0x10, 0x10, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x42, 0x00, 0x3C, 0x00, 0x01, 'c',
            0x00, 0x01, 'p'}),
     kMalformed, "Password Flag"},
    {"password without user name in 3.1", V31,
     bytes({0x10, 0x12, 0x00, 0x06, 'M',  'Q',  'I', 's',  'd',  'p',
            0x03, 0x42, 0x00, 0x3C, 0x00, 0x01, 'c', 0x00, 0x01, 'p'}),
     kMalformed, "Password Flag"},
    {"client id not UTF-8", V311,
     bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 0xC3}),
     kMalformed, "Client Identifier is not valid UTF-8"},
    {"client id past the end", V311,
     bytes({0x10, 0x0C, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x05}),
     kMalformed, "Client Identifier runs past"},
    {"CONNECT without flags", V311, bytes({0x10, 0x07, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04}),
     kMalformed, "too short for flags"},
    {"Will Flag without Will Topic", V311,
     bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x06, 0x00, 0x3C, 0x00, 0x01, 'c'}),
     kMalformed, "Will Topic runs past"},
    {"empty Will Topic", V311,
     bytes({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x06, 0x00, 0x3C, 0x00, 0x01, 'c',
            0x00, 0x00, 0x00, 0x00}),
     kProtocol, "Will Topic is empty"},
    {"Will Topic with wildcard", V5,
     bytes({0x10, 0x16, 0x00, 0x04, 'M',  'Q',  'T',  'T', 0x05, 0x06, 0x00, 0x3C,
            0x00, 0x00, 0x01, 'c',  0x00, 0x00, 0x03, 'a', '/',  '#',  0x00, 0x00}),
     kTopicName, "Will Topic contains a wildcard"},
    {"Topic Alias in Will Properties", V5,
     bytes({0x10, 0x17, 0x00, 0x04, 'M',  'Q',  'T',  'T',  0x05, 0x06, 0x00, 0x3C, 0x00,
            0x00, 0x01, 'c',  0x03, 0x23, 0x00, 0x01, 0x00, 0x01, 't',  0x00, 0x00}),
     kMalformed, "not allowed"},
    {"user name not UTF-8", V311,
     bytes({0x10, 0x11, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x04, 0x82, 0x00, 0x3C, 0x00, 0x01, 'c',
            0x00, 0x02, 0xC0, 0x80}),
     kMalformed, "User Name is not valid UTF-8"},
    {"CONNACK Session Present with failure", V5, bytes({0x20, 0x03, 0x01, 0x80, 0x00}), kProtocol,
     "Session Present"},
    {"CONNACK Session Present with return code 1", V311, bytes({0x20, 0x02, 0x01, 0x01}), kProtocol,
     "Session Present"},
    {"CONNACK reserved flag bits", V311, bytes({0x20, 0x02, 0x02, 0x00}), kMalformed,
     "reserved flag bits"},
    {"CONNACK return code 6", V311, bytes({0x20, 0x02, 0x00, 0x06}), kProtocol, "not defined"},
    {"CONNACK reason 0x8B", V5, bytes({0x20, 0x03, 0x00, 0x8B, 0x00}), kProtocol, "not defined"},

    // Reason codes outside each packet's table.
    {"PUBACK reason 0x01", V5, bytes({0x40, 0x03, 0x00, 0x01, 0x01}), kProtocol, "not defined"},
    {"PUBREL reason 0x10", V5, bytes({0x62, 0x03, 0x00, 0x01, 0x10}), kProtocol, "not defined"},
    {"DISCONNECT reason 0x05", V5, bytes({0xE0, 0x01, 0x05}), kProtocol, "not defined"},
    {"AUTH reason 0x01", V5, bytes({0xF0, 0x02, 0x01, 0x00}), kProtocol, "not defined"},
};

}  // namespace

TEST_CASE("Malformed and forbidden packets fail with the reason code the spec assigns") {
    CHECK(kBadInputs.size() >= 40);
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            for (const BadInput& input : kBadInputs) {
                if (input.version != version) {
                    continue;
                }
                const std::string what = input.what;
                CAPTURE(what);
                // Through the stream decoder, with the whole packet in one feed.
                const Decoded decoded = decode_one(input.wire, version);
                CHECK(decoded.status == FrameStatus::Error);
                if (decoded.status != FrameStatus::Error) {
                    continue;
                }
                CHECK(static_cast<int>(decoded.error.code) == static_cast<int>(input.code));
                CHECK_MESSAGE(decoded.error.reason.find(input.reason_fragment) != std::string::npos,
                              decoded.error.reason);
                // Through the two-step API, which must agree.
                const auto* data = reinterpret_cast<const uint8_t*>(input.wire.data());
                FrameHeader header;
                DecodeError error;
                const FrameStatus status =
                    parse_fixed_header({data, input.wire.size()}, 0, header, error);
                if (status == FrameStatus::Complete) {
                    REQUIRE(header.total_size() == input.wire.size());
                    Packet packet;
                    const auto failure =
                        decode_packet(header, {data + header.header_size, header.remaining_length},
                                      version, packet);
                    REQUIRE(failure.has_value());
                    CHECK(static_cast<int>(failure->code) == static_cast<int>(input.code));
                } else {
                    CHECK(status == FrameStatus::Error);
                    CHECK(static_cast<int>(error.code) == static_cast<int>(input.code));
                }
            }
        }
    }
}

TEST_CASE("A CONNECT with an unsupported protocol level says which form to answer in") {
    SUBCASE("MQTT 3.1.1") {
        // "MQTT" level 6: answer CONNACK 0x01 in 3.1.1 form [MQTT-3.1.2-2].
        const Decoded decoded = decode_one(bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x06,
                                                  0x02, 0x00, 0x3C, 0x00, 0x01, 'c'}),
                                           ProtocolVersion::V311);
        REQUIRE(decoded.status == FrameStatus::Error);
        CHECK(decoded.error.code == ReasonCode::UnsupportedProtocolVersion);
        REQUIRE(std::holds_alternative<Connect>(decoded.packet));
        CHECK(std::get<Connect>(decoded.packet).version == ProtocolVersion::V311);
        CHECK(to_v3_connack(decoded.error.code) == ConnectReturnCode::UnacceptableProtocolVersion);
    }
    SUBCASE("MQTT 3.1") {
        // "MQIsdp" with level 4 is no protocol we know: answer in 3.1 form.
        const Decoded decoded = decode_one(bytes({0x10, 0x0F, 0x00, 0x06, 'M', 'Q', 'I', 's', 'd',
                                                  'p', 0x04, 0x02, 0x00, 0x3C, 0x00, 0x01, 'c'}),
                                           ProtocolVersion::V311);
        REQUIRE(decoded.status == FrameStatus::Error);
        CHECK(decoded.error.code == ReasonCode::UnsupportedProtocolVersion);
        REQUIRE(std::holds_alternative<Connect>(decoded.packet));
        CHECK(std::get<Connect>(decoded.packet).version == ProtocolVersion::V31);
    }
    SUBCASE("MQTT 5.0") {
        // "MQTT" level 3 (a 3.1 level under the 3.1.1 name) is unsupported too.
        const Decoded decoded = decode_one(bytes({0x10, 0x0D, 0x00, 0x04, 'M', 'Q', 'T', 'T', 0x03,
                                                  0x02, 0x00, 0x3C, 0x00, 0x01, 'c'}),
                                           ProtocolVersion::V5);
        REQUIRE(decoded.status == FrameStatus::Error);
        CHECK(decoded.error.code == ReasonCode::UnsupportedProtocolVersion);
    }
}

TEST_CASE("Near misses of the rules still decode") {
    SUBCASE("MQTT 3.1") {
        // 3.1 lets PUBREL, SUBSCRIBE and UNSUBSCRIBE carry DUP on a retry.
        CHECK(decode_one(bytes({0x6A, 0x02, 0x00, 0x01}), ProtocolVersion::V31).packet ==
              Packet{Ack{PacketType::Pubrel, 1, 0, {}}});
        CHECK(
            decode_one(bytes({0x8A, 0x06, 0x00, 0x01, 0x00, 0x01, 'a', 0x01}), ProtocolVersion::V31)
                .packet == Packet{Subscribe{1, {{"a", 1, false, false, 0}}, {}}});
    }
    SUBCASE("MQTT 3.1.1") {
        // A byte order mark is a character like any other and is kept [MQTT-1.5.4-3].
        const Decoded decoded = decode_one(bytes({0x30, 0x06, 0x00, 0x04, 0xEF, 0xBB, 0xBF, 'a'}),
                                           ProtocolVersion::V311);
        REQUIRE(decoded.status == FrameStatus::Complete);
        CHECK(std::get<Publish>(decoded.packet).topic ==
              "\xEF\xBB\xBF"
              "a");
        // Topic Filters are not judged here: a bad filter is answered per entry in SUBACK.
        CHECK(decode_one(bytes({0x82, 0x08, 0x00, 0x01, 0x00, 0x03, 'a', '#', 'b', 0x00}),
                         ProtocolVersion::V311)
                  .status == FrameStatus::Complete);
    }
    SUBCASE("MQTT 5.0") {
        // No Local is fine on a filter that is not a shared subscription.
        CHECK(decode_one(
                  bytes({0x82, 0x0B, 0x00, 0x01, 0x00, 0x00, 0x05, '$', 's', 'h', 'a', 'r', 0x04}),
                  ProtocolVersion::V5)
                  .status == FrameStatus::Complete);
        // A DISCONNECT may stop after its reason code (section 3.14.2.2.1).
        CHECK(decode_one(bytes({0xE0, 0x01, 0x8E}), ProtocolVersion::V5).packet ==
              Packet{Disconnect{0x8E, {}}});
    }
}

}  // namespace tern::codec::test
