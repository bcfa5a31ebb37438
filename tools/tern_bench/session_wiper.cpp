// Session wiping over plain blocking sockets: it runs before the load loops start and after they
// end, a few packets per identifier, where an event loop would only add machinery.
#include "session_wiper.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "codec/decoder.hpp"
#include "codec/packets.hpp"
#include "packet_writer.hpp"

namespace tern::bench {

namespace {

// Closes the descriptor when the attempt ends, however it ends.
class Socket {
  public:
    Socket() : _fd(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) {}
    ~Socket() {
        if (_fd >= 0) {
            ::close(_fd);
        }
    }
    Socket(const Socket&) = delete;
    Socket& operator=(const Socket&) = delete;
    int fd() const noexcept { return _fd; }

  private:
    int _fd;
};

std::string system_error(const char* what) {
    const int error = errno;
    if (error == EAGAIN || error == EWOULDBLOCK || error == EINPROGRESS) {
        return std::string(what) + ": timed out";
    }
    return std::string(what) + ": " + std::strerror(error);
}

bool send_all(int fd, const std::string& bytes, std::string& error) {
    std::size_t sent = 0;
    while (sent < bytes.size()) {
        const ssize_t n = ::send(fd, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n <= 0) {
            error = system_error("send");
            return false;
        }
        sent += static_cast<std::size_t>(n);
    }
    return true;
}

// Reads until one whole packet decodes: the CONNACK, or whatever the broker sent instead.
bool read_packet(int fd, codec::StreamDecoder& decoder, codec::Packet& packet, std::string& error) {
    char buffer[512];
    for (;;) {
        codec::DecodeError decode_error;
        const codec::FrameStatus status = decoder.next(packet, decode_error);
        if (status == codec::FrameStatus::Complete) {
            return true;
        }
        if (status == codec::FrameStatus::Error) {
            error = "malformed answer: " + decode_error.reason;
            return false;
        }
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n < 0 && errno == EINTR) {
            continue;
        }
        if (n == 0) {
            error = "the broker closed the connection before CONNACK";
            return false;
        }
        if (n < 0) {
            error = system_error("receive");
            return false;
        }
        decoder.feed(std::string_view(buffer, static_cast<std::size_t>(n)));
    }
}

// After DISCONNECT the client closes the connection [MQTT-3.14.4-1]: its half-close tells the
// broker, which closes its side once it is done with the session. A reset counts as a close.
bool wait_for_close(int fd, std::string& error) {
    char buffer[512];
    for (;;) {
        const ssize_t n = ::recv(fd, buffer, sizeof buffer, 0);
        if (n == 0 || (n < 0 && errno == ECONNRESET)) {
            return true;
        }
        if (n < 0 && errno != EINTR) {
            error = system_error("waiting for the broker to close");
            return false;
        }
    }
}

bool wipe_one(const BenchOptions& o, const PacketWriter& writer, const sockaddr_in& target,
              const std::string& client_id, uint32_t timeout_ms, std::string& error) {
    Socket socket;
    if (socket.fd() < 0) {
        error = system_error("socket");
        return false;
    }
    timeval timeout{};
    timeout.tv_sec = static_cast<time_t>(timeout_ms / 1000);
    timeout.tv_usec = static_cast<suseconds_t>((timeout_ms % 1000) * 1000);
    // Linux applies SO_SNDTIMEO to connect() as well.
    setsockopt(socket.fd(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    setsockopt(socket.fd(), SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    const int on = 1;
    setsockopt(socket.fd(), IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    if (::connect(socket.fd(), reinterpret_cast<const sockaddr*>(&target), sizeof target) != 0) {
        error = system_error("connect");
        return false;
    }
    std::string out;
    writer.append_connect(out, client_id, o.keep_alive, true, 0);
    if (!send_all(socket.fd(), out, error)) {
        return false;
    }
    codec::StreamDecoder decoder(o.version);
    codec::Packet packet;
    if (!read_packet(socket.fd(), decoder, packet, error)) {
        return false;
    }
    const auto* connack = std::get_if<codec::Connack>(&packet);
    if (connack == nullptr) {
        error = "expected CONNACK";
        return false;
    }
    if (connack->reason_code != 0) {
        char code[8];
        std::snprintf(code, sizeof code, "0x%02X", connack->reason_code);
        error = std::string("connection refused (CONNACK ") + code + ")";
        return false;
    }
    out.clear();
    writer.append_disconnect(out);
    if (!send_all(socket.fd(), out, error)) {
        return false;
    }
    ::shutdown(socket.fd(), SHUT_WR);
    return wait_for_close(socket.fd(), error);
}

}  // namespace

std::optional<std::string> wipe_sessions(const BenchOptions& options,
                                         const std::vector<std::string>& client_ids,
                                         uint32_t timeout_ms) {
    const PacketWriter writer(options.version);
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(options.port);
    inet_pton(AF_INET, options.host.c_str(), &target.sin_addr);
    for (const std::string& client_id : client_ids) {
        std::string error;
        if (!wipe_one(options, writer, target, client_id, timeout_ms, error)) {
            return "wiping the session of " + client_id + ": " + error;
        }
    }
    return std::nullopt;
}

}  // namespace tern::bench
