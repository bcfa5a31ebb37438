// TLS server configuration: an OpenSSL SSL_CTX built from a listener's settings, and the slot per
// listener that SIGHUP reloads.
#pragma once

#include <atomic>
#include <memory>
#include <stdexcept>
#include <string>

#include "core/settings.hpp"

struct ssl_ctx_st;
struct ssl_st;

namespace tern::net {

// A TLS listener that cannot be set up: what() names the file (or the key) and gives OpenSSL's
// reason, e.g. "/etc/tern/server.key: cannot load key_file of TLS listener 0.0.0.0:8883: ...".
class TlsError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// One immutable server-side TLS configuration. Each connection's SSL object holds a reference
// on the SSL_CTX (OpenSSL counts them), so a context replaced by a reload stays alive until the
// last connection made with it ends. Thread-safe once built.
class TlsContext {
  public:
    // Reads the certificate chain, key and client CA of a "mqtt+tls" listener and applies its
    // minimum version, ciphers and client-certificate policy. Throws TlsError. Blocking file
    // reads: call at start-up or from the signal thread, never on a loop.
    static std::shared_ptr<const TlsContext> load(const core::ListenerSettings& settings);

    ~TlsContext();
    TlsContext(const TlsContext&) = delete;
    TlsContext& operator=(const TlsContext&) = delete;

    // A new server-side SSL object in accept state, or null when OpenSSL cannot allocate one.
    ssl_st* new_ssl() const;
    // Whether the client certificate's subject CN becomes the MQTT user name.
    bool identity_as_username() const noexcept { return _identity_as_username; }
    // The served certificate, for logs: "CN=broker.example, serial 1A2B, expires ...".
    const std::string& certificate_summary() const noexcept { return _summary; }

  private:
    TlsContext(ssl_ctx_st* context, bool identity_as_username, std::string summary);

    ssl_ctx_st* _context;
    bool _identity_as_username;
    std::string _summary;
};

// The context a TLS listener uses for new connections. Thread-safe: the listener's loop calls
// current() for every accepted socket while the signal thread may reload().
class TlsListenerContext {
  public:
    // Loads the context. Throws TlsError.
    explicit TlsListenerContext(core::ListenerSettings settings);

    std::shared_ptr<const TlsContext> current() const { return _current.load(); }
    // SIGHUP: loads the certificate, key and CA again into a new context used by connections
    // accepted from now on; live connections keep theirs. A file that fails keeps the context in
    // use; the reason is logged at error level and false is returned.
    bool reload();
    const core::ListenerSettings& settings() const noexcept { return _settings; }

  private:
    core::ListenerSettings _settings;
    std::atomic<std::shared_ptr<const TlsContext>> _current;
};

// "127.0.0.1:8883", "[::1]:8883": how logs and errors name a listener.
std::string listener_name(const core::ListenerSettings& settings);

}  // namespace tern::net
