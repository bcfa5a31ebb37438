// Unit tests for tern-bench's command line: defaults per scenario, refusals, exit codes.
#include "bench_options.hpp"

#include <doctest/doctest.h>

#include <string>
#include <variant>
#include <vector>

using namespace tern::bench;

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

}  // namespace

TEST_CASE("scenario defaults: fan-in 8->1, fan-out 1->100, pairs 50, latency 10 at 10000/s") {
    auto o = parse_ok({"--scenario", "fan-in"});
    CHECK(o.publishers == 8);
    CHECK(o.subscribers == 1);
    o = parse_ok({"--scenario", "fan-out"});
    CHECK(o.publishers == 1);
    CHECK(o.subscribers == 100);
    o = parse_ok({});
    CHECK(o.scenario == Scenario::Pairs);
    CHECK(o.publishers == 50);
    CHECK(o.subscribers == 50);
    CHECK(o.window == 1000);
    CHECK_FALSE(o.open_loop);
    o = parse_ok({"--scenario", "latency"});
    CHECK(o.publishers == 10);
    CHECK(o.rate == 10000.0);
    o = parse_ok({"--scenario", "idle", "--connections", "19000"});
    CHECK(o.connections == 19000);
    CHECK(o.source_ips == 4);
    o = parse_ok({"--scenario", "publish"});
    CHECK(o.open_loop);
}

TEST_CASE("MQTT version spellings and the byte-capped window") {
    CHECK(parse_ok({"-V", "5"}).version == tern::codec::ProtocolVersion::V5);
    CHECK(parse_ok({"-V", "3.1.1"}).version == tern::codec::ProtocolVersion::V311);
    const auto o = parse_ok({"--payload", "65536", "--window-bytes", "4194304"});
    CHECK(o.effective_window() == 64);
    CHECK(parse_ok({"--payload", "64", "--window-bytes", "4194304"}).effective_window() == 1000);
}

TEST_CASE("bad arguments exit with status 2") {
    CHECK(exit_code({"--qos", "3"}) == 2);
    CHECK(exit_code({"--payload", "15"}) == 2);
    CHECK(exit_code({"--threads", "3"}) == 2);
    CHECK(exit_code({"--scenario", "storm"}) == 2);
    CHECK(exit_code({"--no-such-flag"}) == 2);
    CHECK(exit_code({"--scenario", "fan-in", "--subscribers", "3"}) == 2);
    CHECK(exit_code({"--scenario", "idle", "--rate", "10"}) == 2);
    CHECK(exit_code({"--scenario", "latency", "--rate", "0"}) == 2);
    CHECK(exit_code({"--duration", "0"}) == 2);
    CHECK(exit_code({"--pid", "0"}) == 2);
}

TEST_CASE("only loopback targets and sources are accepted") {
    CHECK(exit_code({"--host", "192.0.2.1"}) == 2);
    CHECK(exit_code({"--host", "0.0.0.0"}) == 2);
    CHECK(exit_code({"--host", "::1"}) == 2);
    CHECK(exit_code({"--host", "example.com"}) == 2);
    CHECK(exit_code({"--source-base", "10.0.0.2", "--scenario", "idle"}) == 2);
    CHECK(exit_code({"--scenario", "idle", "--source-base", "127.255.255.255", "--source-ips",
                     "2"}) == 2);
    CHECK(parse_ok({"--host", "localhost"}).host == "127.0.0.1");
    CHECK(parse_ok({"--host", "127.1.2.3"}).host == "127.1.2.3");
}

TEST_CASE("parse_loopback accepts 127.0.0.0/8 only") {
    std::string normalized;
    CHECK(parse_loopback("127.0.0.1", normalized));
    CHECK(normalized == "127.0.0.1");
    CHECK(parse_loopback("127.255.255.254", normalized));
    CHECK_FALSE(parse_loopback("128.0.0.1", normalized));
    CHECK_FALSE(parse_loopback("126.255.255.255", normalized));
    CHECK_FALSE(parse_loopback("", normalized));
    CHECK_FALSE(parse_loopback("127.0.0.1:1883", normalized));
}
