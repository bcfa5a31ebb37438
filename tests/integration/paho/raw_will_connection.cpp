// Encodes CONNECT with a will by hand and drives it over a blocking POSIX socket with timeouts.
#include "raw_will_connection.hpp"

#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>

#include "paho_client.hpp"
#include "test_broker.hpp"

namespace tern::paho_tests {

namespace {

void append_u16(std::vector<std::uint8_t>& out, std::size_t value) {
    out.push_back(static_cast<std::uint8_t>(value >> 8));
    out.push_back(static_cast<std::uint8_t>(value & 0xFF));
}

// A two-byte length followed by the bytes (MQTT UTF-8 string and binary data).
void append_string(std::vector<std::uint8_t>& out, const std::string& text) {
    append_u16(out, text.size());
    out.insert(out.end(), text.begin(), text.end());
}

// Variable Byte Integer, MQTT 5.0 section 1.5.5 (also 3.1.1's Remaining Length).
void append_varint(std::vector<std::uint8_t>& out, std::size_t value) {
    do {
        std::uint8_t byte = value % 128;
        value /= 128;
        if (value > 0) {
            byte |= 0x80;
        }
        out.push_back(byte);
    } while (value > 0);
}

std::runtime_error socket_error(const std::string& what) {
    return std::runtime_error(what + ": " + std::strerror(errno));
}

// CONNECT with clean session/start, keep alive 60 and the will; no other properties.
std::vector<std::uint8_t> connect_packet(int version, const std::string& client_id,
                                         const Will& will) {
    std::vector<std::uint8_t> body;
    append_string(body, "MQTT");
    body.push_back(static_cast<std::uint8_t>(version));
    // Connect flags: clean session/start (0x02), will flag (0x04), will QoS (bits 3-4), will
    // retain (0x20) [MQTT-3.1.2-9].
    std::uint8_t flags = 0x02 | 0x04 | static_cast<std::uint8_t>(will.qos << 3);
    if (will.retain) {
        flags |= 0x20;
    }
    body.push_back(flags);
    append_u16(body, 60);
    if (version == kMqtt5) {
        body.push_back(0);  // CONNECT properties: none
    }
    append_string(body, client_id);
    if (version == kMqtt5) {
        body.push_back(0);  // will properties: none
    }
    append_string(body, will.topic);
    append_string(body, will.payload);

    std::vector<std::uint8_t> packet{0x10};
    append_varint(packet, body.size());
    packet.insert(packet.end(), body.begin(), body.end());
    return packet;
}

}  // namespace

RawWillConnection::RawWillConnection() {
    const TestBroker& broker = TestBroker::get();
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* found = nullptr;
    const std::string port = std::to_string(broker.port());
    if (getaddrinfo(broker.host().c_str(), port.c_str(), &hints, &found) != 0) {
        throw std::runtime_error("cannot resolve " + broker.host());
    }
    for (addrinfo* entry = found; entry != nullptr && _fd < 0; entry = entry->ai_next) {
        _fd = ::socket(entry->ai_family, entry->ai_socktype, entry->ai_protocol);
        if (_fd >= 0 && ::connect(_fd, entry->ai_addr, entry->ai_addrlen) != 0) {
            ::close(_fd);
            _fd = -1;
        }
    }
    freeaddrinfo(found);
    if (_fd < 0) {
        throw socket_error("cannot connect to " + broker.server_uri());
    }
}

RawWillConnection::~RawWillConnection() {
    drop();
}

int RawWillConnection::connect(int version, const std::string& client_id, const Will& will) {
    send_all(connect_packet(version, client_id, will));
    const std::uint8_t type = read_byte();
    if (type != 0x20) {
        throw std::runtime_error("expected CONNACK (0x20), got first byte " + std::to_string(type));
    }
    std::size_t remaining = 0;
    for (std::size_t shift = 0;; shift += 7) {
        const std::uint8_t byte = read_byte();
        remaining |= static_cast<std::size_t>(byte & 0x7F) << shift;
        if ((byte & 0x80) == 0) {
            break;
        }
    }
    if (remaining < 2) {
        throw std::runtime_error("CONNACK shorter than 2 bytes");
    }
    read_byte();  // acknowledge flags
    const int code = read_byte();
    for (std::size_t index = 2; index < remaining; ++index) {
        read_byte();  // MQTT 5 CONNACK properties: not needed here
    }
    return code;
}

void RawWillConnection::drop() {
    if (_fd >= 0) {
        ::close(_fd);
        _fd = -1;
    }
}

void RawWillConnection::send_all(const std::vector<std::uint8_t>& bytes) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t count = ::send(_fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (count < 0) {
            throw socket_error("send to broker failed");
        }
        sent += static_cast<std::size_t>(count);
    }
}

std::uint8_t RawWillConnection::read_byte() {
    pollfd waiter{_fd, POLLIN, 0};
    const int ready = ::poll(&waiter, 1, static_cast<int>(kWait.count()));
    if (ready == 0) {
        throw std::runtime_error("no data from the broker within " + std::to_string(kWait.count()) +
                                 " ms");
    }
    std::uint8_t byte = 0;
    const ssize_t count = ready < 0 ? -1 : ::recv(_fd, &byte, 1, 0);
    if (count == 0) {
        throw std::runtime_error("broker closed the connection");
    }
    if (count < 0) {
        throw socket_error("recv from broker failed");
    }
    return byte;
}

}  // namespace tern::paho_tests
