// Tests of the one-line connect failure messages.
#include "common/connect_failure.hpp"

#include <doctest/doctest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

using namespace tern::tools;

namespace {

// A 127.0.0.1 port nobody listens on: bound, then closed.
int unused_port() {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address));
    socklen_t length = sizeof(address);
    ::getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length);
    ::close(fd);
    return ntohs(address.sin_port);
}

}  // namespace

TEST_CASE("a refusing CONNACK is named with its code") {
    Endpoint endpoint{Transport::kTcp, "broker", 1883, "/mqtt"};
    ConnectFailure v5{0x86, 5, "", ""};
    CHECK(describe_connect_failure(v5, endpoint, {}) ==
          "cannot connect to broker:1883: broker refused the connection: "
          "bad user name or password (0x86)");
    ConnectFailure v311{4, 4, "", ""};
    CHECK(describe_connect_failure(v311, endpoint, {}) ==
          "cannot connect to broker:1883: broker refused the connection: "
          "bad user name or password (0x04)");
    ConnectFailure banned{0x8A, 5, "", ""};
    CHECK(describe_connect_failure(banned, endpoint, {}) ==
          "cannot connect to broker:1883: broker refused the connection: banned (0x8A)");
}

TEST_CASE("a generic failure on a closed port says connection refused") {
    int port = unused_port();
    Endpoint endpoint{Transport::kTcp, "127.0.0.1", port, "/mqtt"};
    ConnectFailure failure{-1, 4, "TCP/TLS connect failure", ""};
    CHECK(describe_connect_failure(failure, endpoint, {}) ==
          "cannot connect to 127.0.0.1:" + std::to_string(port) + ": connection refused");
}

TEST_CASE("other Paho errors keep Paho's text") {
    Endpoint endpoint{Transport::kTcp, "h", 1, "/mqtt"};
    ConnectFailure failure{-14, 4, "Bad protocol", ""};
    CHECK(describe_connect_failure(failure, endpoint, {}) == "cannot connect to h:1: Bad protocol");
}
