// OpenSSL client handshake used only to explain TLS connect failures.
#include "tls_probe.hpp"

#include <arpa/inet.h>
#include <netdb.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <memory>

namespace tern::tools {
namespace {

constexpr int kProbeTimeoutSeconds = 3;

struct ContextFree {
    void operator()(SSL_CTX* context) const { SSL_CTX_free(context); }
};
struct SslFree {
    void operator()(SSL* ssl) const { SSL_free(ssl); }
};

// A blocking TCP socket with send/receive timeouts, or -1.
int connect_socket(const Endpoint& endpoint) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* addresses = nullptr;
    std::string port = std::to_string(endpoint.port);
    if (::getaddrinfo(endpoint.host.c_str(), port.c_str(), &hints, &addresses) != 0) {
        return -1;
    }
    int fd = -1;
    for (const addrinfo* address = addresses; address != nullptr; address = address->ai_next) {
        fd =
            ::socket(address->ai_family, address->ai_socktype | SOCK_CLOEXEC, address->ai_protocol);
        if (fd < 0) {
            continue;
        }
        timeval timeout{kProbeTimeoutSeconds, 0};
        ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
        ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof(timeout));
        if (::connect(fd, address->ai_addr, address->ai_addrlen) == 0) {
            break;
        }
        ::close(fd);
        fd = -1;
    }
    ::freeaddrinfo(addresses);
    return fd;
}

bool is_ip_address(const std::string& host) {
    unsigned char buffer[sizeof(in6_addr)];
    return ::inet_pton(AF_INET, host.c_str(), buffer) == 1 ||
           ::inet_pton(AF_INET6, host.c_str(), buffer) == 1;
}

std::string last_openssl_error() {
    unsigned long code = ERR_peek_last_error();
    ERR_clear_error();
    if (code == 0) {
        return "the connection closed during the handshake";
    }
    const char* reason = ERR_reason_error_string(code);
    return reason != nullptr ? reason : "unknown OpenSSL error";
}

// Loads trust anchors and the client certificate; returns a complaint or an empty string.
std::string configure_context(SSL_CTX* context, const TlsSettings& settings) {
    SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nullptr);
    if (settings.cafile || settings.capath) {
        const char* file = settings.cafile ? settings.cafile->c_str() : nullptr;
        const char* path = settings.capath ? settings.capath->c_str() : nullptr;
        if (SSL_CTX_load_verify_locations(context, file, path) != 1) {
            return "cannot load the CA certificates (--cafile/--capath): " + last_openssl_error();
        }
    } else {
        SSL_CTX_set_default_verify_paths(context);
    }
    if (settings.cert && settings.key) {
        if (SSL_CTX_use_certificate_chain_file(context, settings.cert->c_str()) != 1) {
            return "cannot load --cert " + *settings.cert + ": " + last_openssl_error();
        }
        if (SSL_CTX_use_PrivateKey_file(context, settings.key->c_str(), SSL_FILETYPE_PEM) != 1) {
            return "cannot load --key " + *settings.key + ": " + last_openssl_error();
        }
    }
    return {};
}

void set_expected_host(SSL* ssl, const std::string& host, bool check_host) {
    bool ip = is_ip_address(host);
    if (!ip) {
        SSL_set_tlsext_host_name(ssl, host.c_str());
    }
    if (!check_host) {
        return;
    }
    X509_VERIFY_PARAM* params = SSL_get0_param(ssl);
    if (ip) {
        X509_VERIFY_PARAM_set1_ip_asc(params, host.c_str());
    } else {
        X509_VERIFY_PARAM_set1_host(params, host.c_str(), 0);
    }
}

}  // namespace

std::string probe_tls(const Endpoint& endpoint, const TlsSettings& settings) {
    ERR_clear_error();
    std::unique_ptr<SSL_CTX, ContextFree> context(SSL_CTX_new(TLS_client_method()));
    if (!context) {
        return "cannot create a TLS context: " + last_openssl_error();
    }
    std::string problem = configure_context(context.get(), settings);
    if (!problem.empty()) {
        return problem;
    }
    int fd = connect_socket(endpoint);
    if (fd < 0) {
        return "the TCP connection for the TLS check failed";
    }
    std::unique_ptr<SSL, SslFree> ssl(SSL_new(context.get()));
    SSL_set_fd(ssl.get(), fd);
    set_expected_host(ssl.get(), endpoint.host, settings.check_host);
    int result = SSL_connect(ssl.get());
    if (result != 1) {
        long verify = SSL_get_verify_result(ssl.get());
        problem = verify != X509_V_OK ? std::string("certificate verify failed: ") +
                                            X509_verify_cert_error_string(verify)
                                      : last_openssl_error();
    } else {
        SSL_shutdown(ssl.get());
    }
    ssl.reset();
    ::close(fd);
    return problem;
}

}  // namespace tern::tools
