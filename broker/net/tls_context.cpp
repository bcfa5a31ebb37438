// TLS server contexts: SSL_CTX set-up from a listener's settings (files, versions, ciphers, mTLS)
// and the reload on SIGHUP.
#include "tls_context.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "openssl_text.hpp"

namespace tern::net {

namespace {

struct ContextDeleter {
    void operator()(SSL_CTX* context) const noexcept { SSL_CTX_free(context); }
};
using ContextPtr = std::unique_ptr<SSL_CTX, ContextDeleter>;

// Distinguishes TLS sessions of this broker from those of other programs using the same
// certificate; needed for session resumption when client certificates are verified.
constexpr unsigned char kSessionIdContext[] = "tern";

// Names `path` and the reason it cannot be used. An unreadable file gets the system's reason
// (clearer than OpenSSL's "system lib"), anything else OpenSSL's.
[[noreturn]] void throw_file_error(const std::string& path, const std::string& what) {
    std::string reason;
    if (std::FILE* file = std::fopen(path.c_str(), "rb")) {
        std::fclose(file);
        reason = openssl_error_text();
    } else {
        reason = std::strerror(errno);
        ERR_clear_error();
    }
    throw TlsError(path + ": " + what + ": " + (reason.empty() ? "unknown error" : reason));
}

void apply_protocol(SSL_CTX* context, const core::ListenerSettings& settings,
                    const std::string& where) {
    // TLS 1.2 and 1.3 only; older versions are broken (RFC 8996). MQTT §5.4.9 leaves the choice of
    // TLS version and cipher suites to the implementation.
    const int min_version = settings.tls_min_version == "1.3" ? TLS1_3_VERSION : TLS1_2_VERSION;
    SSL_CTX_set_min_proto_version(context, min_version);
    // No renegotiation (a CPU-exhaustion vector with nothing to gain for MQTT), server cipher
    // order.
    SSL_CTX_set_options(
        context, SSL_OP_NO_RENEGOTIATION | SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
    // Idle connections (most IoT devices) give their record buffers back.
    SSL_CTX_set_mode(context, SSL_MODE_RELEASE_BUFFERS);
    if (!settings.ciphers.empty() &&
        SSL_CTX_set_cipher_list(context, settings.ciphers.c_str()) != 1) {
        throw TlsError("TLS listener " + where + ": ciphers '" + settings.ciphers +
                       "': " + openssl_error_text());
    }
    if (!settings.ciphersuites.empty() &&
        SSL_CTX_set_ciphersuites(context, settings.ciphersuites.c_str()) != 1) {
        throw TlsError("TLS listener " + where + ": ciphersuites '" + settings.ciphersuites +
                       "': " + openssl_error_text());
    }
}

void apply_certificate(SSL_CTX* context, const core::ListenerSettings& settings,
                       const std::string& where) {
    if (settings.cert_file.empty() || settings.key_file.empty()) {
        throw TlsError("TLS listener " + where + ": cert_file and key_file are required");
    }
    // An encrypted key must fail here instead of prompting for a passphrase on the terminal.
    SSL_CTX_set_default_passwd_cb(context, [](char*, int, int, void*) { return 0; });
    if (SSL_CTX_use_certificate_chain_file(context, settings.cert_file.c_str()) != 1) {
        throw_file_error(settings.cert_file, "cannot load cert_file of TLS listener " + where);
    }
    if (SSL_CTX_use_PrivateKey_file(context, settings.key_file.c_str(), SSL_FILETYPE_PEM) != 1) {
        throw_file_error(settings.key_file, "cannot load key_file of TLS listener " + where);
    }
    if (SSL_CTX_check_private_key(context) != 1) {
        throw TlsError(settings.key_file + ": key_file of TLS listener " + where +
                       " does not match cert_file " + settings.cert_file + ": " +
                       openssl_error_text());
    }
}

void apply_client_ca(SSL_CTX* context, const core::ListenerSettings& settings,
                     const std::string& where) {
    if (settings.ca_file.empty()) {
        SSL_CTX_set_verify(context, SSL_VERIFY_NONE, nullptr);
        return;
    }
    if (SSL_CTX_load_verify_locations(context, settings.ca_file.c_str(), nullptr) != 1) {
        throw_file_error(settings.ca_file, "cannot load ca_file of TLS listener " + where);
    }
    // The CA names sent in CertificateRequest help clients with several certificates choose.
    STACK_OF(X509_NAME)* names = SSL_load_client_CA_file(settings.ca_file.c_str());
    if (names == nullptr) {
        throw_file_error(settings.ca_file, "no CA certificate in ca_file of TLS listener " + where);
    }
    SSL_CTX_set_client_CA_list(context, names);
    // With a CA but without require_certificate, a certificate is asked for and verified when the
    // client sends one, and a client without one is still let in.
    int mode = SSL_VERIFY_PEER;
    if (settings.require_certificate) {
        mode |= SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
    }
    SSL_CTX_set_verify(context, mode, nullptr);
    SSL_CTX_set_session_id_context(context, kSessionIdContext, sizeof(kSessionIdContext) - 1);
}

// "CN=localhost, serial 1001, expires Jan  1 00:00:00 2030 GMT" for the served certificate.
std::string summarize(SSL_CTX* context) {
    X509* certificate = SSL_CTX_get0_certificate(context);
    if (certificate == nullptr) {
        return "no certificate";
    }
    std::string summary = x509_name_text(X509_get_subject_name(certificate));
    summary += ", serial " + x509_serial_text(certificate);
    summary += ", expires " + asn1_time_text(X509_get0_notAfter(certificate));
    return summary;
}

}  // namespace

TlsContext::TlsContext(SSL_CTX* context, bool identity_as_username, std::string summary)
    : _context(context),
      _identity_as_username(identity_as_username),
      _summary(std::move(summary)) {}

TlsContext::~TlsContext() {
    SSL_CTX_free(_context);
}

std::shared_ptr<const TlsContext> TlsContext::load(const core::ListenerSettings& settings) {
    const std::string where = listener_name(settings);
    ERR_clear_error();
    ContextPtr context(SSL_CTX_new(TLS_server_method()));
    if (!context) {
        throw TlsError("TLS listener " + where + ": " + openssl_error_text());
    }
    apply_protocol(context.get(), settings, where);
    apply_certificate(context.get(), settings, where);
    apply_client_ca(context.get(), settings, where);
    std::string summary = summarize(context.get());
    return std::shared_ptr<const TlsContext>(
        new TlsContext(context.release(), settings.use_identity_as_username, std::move(summary)));
}

SSL* TlsContext::new_ssl() const {
    SSL* ssl = SSL_new(_context);
    if (ssl != nullptr) {
        SSL_set_accept_state(ssl);
    }
    return ssl;
}

TlsListenerContext::TlsListenerContext(core::ListenerSettings settings)
    : _settings(std::move(settings)), _current(TlsContext::load(_settings)) {}

bool TlsListenerContext::reload() {
    try {
        auto fresh = TlsContext::load(_settings);
        spdlog::info("TLS listener {}: reloaded {} ({})", listener_name(_settings),
                     _settings.cert_file, fresh->certificate_summary());
        _current.store(std::move(fresh));
        return true;
    } catch (const TlsError& error) {
        spdlog::error("TLS listener {}: certificate not reloaded, keeping the previous one: {}",
                      listener_name(_settings), error.what());
        return false;
    }
}

std::string listener_name(const core::ListenerSettings& settings) {
    const bool ipv6 = settings.address.find(':') != std::string::npos;
    return (ipv6 ? "[" + settings.address + "]" : settings.address) + ":" +
           std::to_string(settings.port);
}

}  // namespace tern::net
