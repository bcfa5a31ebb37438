// Unit tests for tern-bench --persistent: where the flag applies, the subscribers' fixed client
// identifiers, and the CONNECT they send.
#include <doctest/doctest.h>

#include <algorithm>
#include <cctype>
#include <string>
#include <variant>
#include <vector>

#include "bench_options.hpp"
#include "codec/decoder.hpp"
#include "codec/packets.hpp"
#include "packet_writer.hpp"
#include "topology.hpp"

using namespace tern::bench;
using tern::codec::ProtocolVersion;

namespace {

std::variant<BenchOptions, int> parse(std::vector<std::string> args) {
    args.insert(args.begin(), "tern-bench");
    std::vector<char*> argv;
    for (auto& arg : args) {
        argv.push_back(arg.data());
    }
    return parse_options(static_cast<int>(argv.size()), argv.data());
}

BenchOptions parse_ok(std::vector<std::string> args) {
    auto result = parse(std::move(args));
    REQUIRE(std::holds_alternative<BenchOptions>(result));
    return std::get<BenchOptions>(result);
}

int exit_code(std::vector<std::string> args) {
    auto result = parse(std::move(args));
    REQUIRE(std::holds_alternative<int>(result));
    return std::get<int>(result);
}

tern::codec::Connect decode_connect(const std::string& bytes) {
    tern::codec::StreamDecoder decoder;
    decoder.feed(bytes);
    tern::codec::Packet packet;
    tern::codec::DecodeError error;
    REQUIRE(decoder.next(packet, error) == tern::codec::FrameStatus::Complete);
    REQUIRE(std::holds_alternative<tern::codec::Connect>(packet));
    CHECK(decoder.buffered() == 0);
    return std::get<tern::codec::Connect>(packet);
}

std::vector<std::string> ids_of(const Topology& topology, Role role) {
    std::vector<std::string> ids;
    for (const ClientSpec& spec : topology.clients) {
        if (spec.role == role) {
            ids.push_back(spec.client_id);
        }
    }
    return ids;
}

}  // namespace

TEST_CASE("--persistent is off by default and applies to every scenario with subscribers") {
    CHECK_FALSE(parse_ok({}).persistent);
    for (const char* scenario : {"pairs", "fan-in", "fan-out", "latency"}) {
        CAPTURE(scenario);
        CHECK(parse_ok({"--scenario", scenario, "--persistent"}).persistent);
    }
}

TEST_CASE("--persistent is refused without subscribers: idle, publish and --sink") {
    CHECK(exit_code({"--scenario", "idle", "--persistent"}) == 2);
    CHECK(exit_code({"--scenario", "publish", "--persistent"}) == 2);
    CHECK(exit_code({"--sink", "--persistent"}) == 2);
}

TEST_CASE("persistent subscriber ids are fixed per topic prefix, publishers stay per run") {
    auto o = parse_ok({"--pairs", "3", "--persistent"});
    // FNV-1a of "bench" is 0x626ebeb9.
    CHECK(persistent_client_id_prefix(o) == "tbp626ebeb9-s");
    const Topology first = build_topology(o, 111);
    const Topology second = build_topology(o, 222);
    const std::vector<std::string> expected{"tbp626ebeb9-s0", "tbp626ebeb9-s1", "tbp626ebeb9-s2"};
    CHECK(ids_of(first, Role::Subscriber) == expected);
    CHECK(ids_of(second, Role::Subscriber) == expected);
    CHECK(ids_of(first, Role::Publisher) ==
          std::vector<std::string>{"tb111-p0", "tb111-p1", "tb111-p2"});
    CHECK(ids_of(second, Role::Publisher) ==
          std::vector<std::string>{"tb222-p0", "tb222-p1", "tb222-p2"});

    o = parse_ok({"--pairs", "3", "--persistent", "--topic-prefix", "other"});
    CHECK(persistent_client_id_prefix(o) == "tbpc87d8df5-s");
    CHECK(ids_of(build_topology(o, 111), Role::Subscriber).front() == "tbpc87d8df5-s0");

    o = parse_ok({"--pairs", "3"});
    CHECK(ids_of(build_topology(o, 111), Role::Subscriber) ==
          std::vector<std::string>{"tb111-s0", "tb111-s1", "tb111-s2"});
}

TEST_CASE("persistent ids stay within the 23 bytes every server accepts [MQTT-3.1.3-5]") {
    const auto o = parse_ok({"--scenario", "fan-out", "--subscribers", "100000", "--persistent",
                             "--topic-prefix", "a/very/long/topic/prefix/indeed"});
    const Topology topology = build_topology(o, 4'000'000'000u);
    std::size_t longest = 0;
    std::size_t other_characters = 0;  // [MQTT-3.1.3-5] promises 0-9a-zA-Z; '-' is ours
    for (const ClientSpec& spec : topology.clients) {
        longest = std::max(longest, spec.client_id.size());
        for (const char c : spec.client_id) {
            other_characters += std::isalnum(static_cast<unsigned char>(c)) || c == '-' ? 0 : 1;
        }
    }
    CHECK(longest == 18);  // "tbp" + 8 hex + "-s99999"
    CHECK(other_characters == 0);
    CHECK(topology.clients[99'999].client_id == persistent_client_id_prefix(o) + "99999");
    CHECK(topology.clients.back().client_id == "tb4000000000-p0");
}

TEST_CASE("a persistent CONNECT: Clean Session 0; MQTT 5 adds the Session Expiry Interval") {
    const PacketWriter v311(ProtocolVersion::V311);
    std::string out;
    v311.append_connect(out, "tbp1-s0", 30, false, kPersistentSessionExpiryS);
    auto connect = decode_connect(out);
    CHECK_FALSE(connect.clean_start);
    CHECK(connect.client_id == "tbp1-s0");
    CHECK(connect.keep_alive == 30);
    CHECK_FALSE(connect.properties.session_expiry_interval.has_value());

    const PacketWriter v5(ProtocolVersion::V5);
    out.clear();
    v5.append_connect(out, "tbp1-s0", 30, false, kPersistentSessionExpiryS);
    connect = decode_connect(out);
    CHECK(connect.version == ProtocolVersion::V5);
    CHECK_FALSE(connect.clean_start);
    REQUIRE(connect.properties.session_expiry_interval.has_value());
    CHECK(*connect.properties.session_expiry_interval == 3600);

    // The wipe's CONNECT (and every default one): Clean Session 1, no expiry, so the session
    // ends with the connection.
    out.clear();
    v5.append_connect(out, "tbp1-s0", 30);
    connect = decode_connect(out);
    CHECK(connect.clean_start);
    CHECK_FALSE(connect.properties.session_expiry_interval.has_value());
}
