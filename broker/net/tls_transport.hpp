// TLS over libuv: OpenSSL fed through two memory BIOs, so the handshake and every record go
// through the connection's ordinary read and write path and nothing ever blocks a loop.
#pragma once

#include <optional>
#include <string>

#include "transport.hpp"

struct ssl_st;
struct bio_st;

namespace tern::net {

class TlsContext;

// The server side of one TLS connection. Ciphertext from the socket goes into the read BIO
// (receive); SSL_read turns it into MQTT bytes (read); SSL_write turns MQTT bytes into records
// collected from the write BIO (write). See Transport for the contract.
class TlsTransport final : public Transport {
  public:
    // Throws TlsError when OpenSSL cannot allocate the connection's state.
    explicit TlsTransport(const TlsContext& context);
    ~TlsTransport() override;
    TlsTransport(const TlsTransport&) = delete;
    TlsTransport& operator=(const TlsTransport&) = delete;

    Status receive(std::span<const char> wire, std::string& wire_out) override;
    Status read(std::span<char> buffer, std::size_t& got, std::string& wire_out) override;
    Status write(std::string_view data, std::string& wire_out) override;
    void shutdown(std::string& wire_out) override;

    bool ready() const noexcept override { return _ready; }
    const std::string& error() const noexcept override { return _error; }
    std::string_view name() const noexcept override { return "tls"; }
    std::string describe() const override;
    TransportIdentity identity() const override;

  private:
    Status handshake(std::string& wire_out);
    // Records the reason of a failed OpenSSL call (`result` as it returned) and fails for good.
    Status fail(int result);
    // Moves the records OpenSSL wrote into `wire_out`.
    void drain(std::string& wire_out);
    // Gives a memory BIO that grew large back to the allocator once it is empty: an idle
    // connection then holds no buffers from its busiest moment.
    void shrink_if_idle(bool read_side);

    ssl_st* _ssl = nullptr;
    bio_st* _read_bio = nullptr;   // owned by _ssl
    bio_st* _write_bio = nullptr;  // owned by _ssl
    bool _ready = false;
    bool _failed = false;
    bool _shut_down = false;
    bool _identity_as_username = false;
    std::optional<std::string> _peer_name;  // client certificate CN (when used as user name)
    std::string _error;
};

}  // namespace tern::net
