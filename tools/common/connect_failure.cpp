// Diagnosis of connect failures: CONNACK codes, DNS and TCP probes, TLS errors.
#include "connect_failure.hpp"

#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>

#include "reason_code_text.hpp"

namespace tern::tools {
namespace {

constexpr int kProbeTimeoutMs = 3000;
// Paho C's MQTTASYNC_FAILURE: a socket, TLS or WebSocket failure before CONNACK.
constexpr int kPahoGenericFailure = -1;

std::string lower_first(std::string text) {
    if (text.size() > 1 && std::isupper(static_cast<unsigned char>(text[0])) &&
        std::islower(static_cast<unsigned char>(text[1]))) {
        text[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(text[0])));
    }
    return text;
}

// Connects a non-blocking socket with a timeout; returns 0 or the errno that ended it.
int probe_address(const addrinfo* address) {
    int fd = ::socket(address->ai_family, address->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
                      address->ai_protocol);
    if (fd < 0) {
        return errno;
    }
    int error = 0;
    if (::connect(fd, address->ai_addr, address->ai_addrlen) != 0) {
        error = errno;
        if (error == EINPROGRESS) {
            pollfd poller{fd, POLLOUT, 0};
            int ready = ::poll(&poller, 1, kProbeTimeoutMs);
            socklen_t length = sizeof(error);
            if (ready == 0) {
                error = ETIMEDOUT;
            } else if (ready < 0 || ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) != 0) {
                error = errno;
            }
        }
    }
    ::close(fd);
    return error;
}

// Empty when a TCP connection to the endpoint works, else why it does not.
std::string probe_tcp(const Endpoint& endpoint) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    std::string port = std::to_string(endpoint.port);
    int status = ::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addresses);
    if (status != 0) {
        return "unknown host (" + std::string(::gai_strerror(status)) + ")";
    }
    int error = ENETUNREACH;
    for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        error = probe_address(address);
        if (error == 0) {
            break;
        }
    }
    ::freeaddrinfo(addresses);
    if (error == 0) {
        return {};
    }
    return lower_first(std::strerror(error));
}

// OpenSSL error lines look like "[pid:]error:0A000086:SSL routines:function:certificate
// verify failed:file:line:"; the reason, fourth field after "error:", is the readable part.
std::string readable_tls_error(const std::string& error) {
    size_t start = error.find("error:");
    if (start == std::string::npos) {
        return error;
    }
    std::string rest = error.substr(start + 6);
    for (int field = 0; field < 3; ++field) {
        size_t colon = rest.find(':');
        if (colon == std::string::npos) {
            return error;
        }
        rest = rest.substr(colon + 1);
    }
    return rest.substr(0, rest.find(':'));
}

std::string describe_tls_failure(const ConnectFailure& failure, const Endpoint& endpoint,
                                 const TlsSettings& tls) {
    std::string problem = probe_tls(endpoint, tls);
    if (problem.empty() && !failure.tls_error.empty()) {
        problem = readable_tls_error(failure.tls_error);
    }
    return problem.empty() ? "TLS handshake failed" : "TLS handshake failed: " + problem;
}

std::string describe_transport_failure(const ConnectFailure& failure, const Endpoint& endpoint,
                                       const TlsSettings& tls) {
    std::string tcp_problem = probe_tcp(endpoint);
    if (!tcp_problem.empty()) {
        return tcp_problem;
    }
    if (is_tls(endpoint.transport)) {
        return describe_tls_failure(failure, endpoint, tls);
    }
    if (endpoint.transport == Transport::kWebSocket) {
        return "WebSocket handshake failed or the connection closed before CONNACK";
    }
    return "the broker closed the connection before CONNACK";
}

}  // namespace

std::string describe_connect_failure(const ConnectFailure& failure, const Endpoint& endpoint,
                                     const TlsSettings& tls) {
    std::string prefix = "cannot connect to " + endpoint_label(endpoint) + ": ";
    if (failure.return_code > 0) {
        // The broker answered with a refusing CONNACK (MQTT 5 §3.2.2.2, 3.1.1 §3.2.2.3).
        return prefix + "broker refused the connection: " +
               lower_first(describe_connack_code(failure.return_code, failure.mqtt_version));
    }
    if (failure.return_code == kPahoGenericFailure) {
        return prefix + describe_transport_failure(failure, endpoint, tls);
    }
    std::string message = failure.paho_message.empty()
                              ? "error " + std::to_string(failure.return_code)
                              : failure.paho_message;
    return prefix + message;
}

}  // namespace tern::tools
