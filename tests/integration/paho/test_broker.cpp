// Reads the broker address from the environment and builds collision-free names for the tests.
#include "test_broker.hpp"

#include <cstdio>
#include <cstdlib>
#include <random>
#include <stdexcept>

namespace tern::paho_tests {

namespace {

// Eight hex digits drawn once per process.
const std::string& run_tag() {
    static const std::string tag = [] {
        std::random_device device;
        char text[9];
        std::snprintf(text, sizeof text, "%08x", static_cast<unsigned>(device()));
        return std::string(text);
    }();
    return tag;
}

}  // namespace

const TestBroker& TestBroker::get() {
    static const TestBroker broker = [] {
        const char* host = std::getenv("TERN_TEST_HOST");
        const char* port_text = std::getenv("TERN_TEST_PORT");
        if (port_text == nullptr || *port_text == '\0') {
            throw std::runtime_error("TERN_TEST_PORT is not set (port of the broker under test)");
        }
        char* end = nullptr;
        const long port = std::strtol(port_text, &end, 10);
        if (*end != '\0' || port <= 0 || port > 65535) {
            throw std::runtime_error(std::string("TERN_TEST_PORT is not a port: ") + port_text);
        }
        return TestBroker(host != nullptr && *host != '\0' ? host : "127.0.0.1",
                          static_cast<int>(port));
    }();
    return broker;
}

std::string TestBroker::server_uri() const {
    return "tcp://" + _host + ":" + std::to_string(_port);
}

std::string TestBroker::client_id(std::string_view base, int version) {
    return std::string(base) + "-" + std::string(version_label(version)) + "-" + run_tag();
}

std::string TestBroker::topic(std::string_view base, int version) {
    return "paho/" + std::string(base) + "/" + std::string(version_label(version)) + "/" +
           run_tag();
}

std::string_view version_label(int version) {
    return version == kMqtt5 ? "v5" : "v311";
}

}  // namespace tern::paho_tests
