// TLS transport: OpenSSL with memory BIOs; the handshake advances whenever ciphertext arrives.
#include "tls_transport.hpp"

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>

#include <limits>

#include "openssl_text.hpp"
#include "tls_context.hpp"

namespace tern::net {

namespace {

// A memory BIO whose buffer grew past this is replaced by a fresh one once it is empty.
constexpr std::size_t kShrinkAbove = 128 * 1024;

}  // namespace

TlsTransport::TlsTransport(const TlsContext& context)
    : _identity_as_username(context.identity_as_username()) {
    _ssl = context.new_ssl();
    _read_bio = BIO_new(BIO_s_mem());
    _write_bio = BIO_new(BIO_s_mem());
    if (_ssl == nullptr || _read_bio == nullptr || _write_bio == nullptr) {
        BIO_free(_read_bio);
        BIO_free(_write_bio);
        SSL_free(_ssl);
        throw TlsError("cannot allocate a TLS connection: " + openssl_error_text());
    }
    // An empty read BIO means "wait for more" (SSL_ERROR_WANT_READ), never end of stream.
    BIO_set_mem_eof_return(_read_bio, -1);
    BIO_set_mem_eof_return(_write_bio, -1);
    SSL_set_bio(_ssl, _read_bio, _write_bio);
}

TlsTransport::~TlsTransport() {
    SSL_free(_ssl);  // frees both BIOs
}

Transport::Status TlsTransport::receive(std::span<const char> wire, std::string& wire_out) {
    if (_failed) {
        return Status::Error;
    }
    if (!wire.empty()) {
        const int size = static_cast<int>(wire.size());  // at most one socket read
        if (BIO_write(_read_bio, wire.data(), size) != size) {
            _failed = true;
            _error = "out of memory buffering TLS records";
            return Status::Error;
        }
    }
    return _ready ? Status::Ok : handshake(wire_out);
}

Transport::Status TlsTransport::handshake(std::string& wire_out) {
    ERR_clear_error();
    const int result = SSL_do_handshake(_ssl);
    if (result == 1) {
        _ready = true;
        if (_identity_as_username) {
            // Only a certificate that verified against ca_file names a user.
            const X509* certificate = SSL_get0_peer_certificate(_ssl);
            if (certificate != nullptr && SSL_get_verify_result(_ssl) == X509_V_OK) {
                _peer_name = x509_common_name(certificate);
            }
        }
        drain(wire_out);  // the last flight (TLS 1.2 Finished, TLS 1.3 session tickets)
        return Status::Ok;
    }
    const Status status = fail(result);
    drain(wire_out);  // the next flight, or the alert that tells the client why
    return status;
}

Transport::Status TlsTransport::fail(int result) {
    const int code = SSL_get_error(_ssl, result);
    if (code == SSL_ERROR_WANT_READ || code == SSL_ERROR_WANT_WRITE) {
        ERR_clear_error();
        return Status::Ok;  // needs more ciphertext; memory BIOs never refuse a write
    }
    if (code == SSL_ERROR_ZERO_RETURN) {
        ERR_clear_error();
        return Status::Closed;  // close_notify
    }
    _failed = true;
    _error = openssl_error_text();
    const long verify = SSL_get_verify_result(_ssl);
    if (verify != X509_V_OK) {
        _error += std::string(_error.empty() ? "" : ": ") +
                  "client certificate: " + X509_verify_cert_error_string(verify);
    }
    if (_error.empty()) {
        _error = code == SSL_ERROR_SYSCALL ? "unexpected end of the TLS stream"
                                           : "TLS error " + std::to_string(code);
    }
    return Status::Error;
}

Transport::Status TlsTransport::read(std::span<char> buffer, std::size_t& got,
                                     std::string& wire_out) {
    got = 0;
    if (_failed) {
        return Status::Error;
    }
    if (!_ready) {
        const Status status = handshake(wire_out);
        if (status != Status::Ok || !_ready) {
            return status;
        }
    }
    // SSL_read yields one record (at most 16 KiB) per call: fill the buffer so that the codec
    // sees as many whole packets at once as a plain TCP read would give it.
    Status status = Status::Ok;
    while (got < buffer.size()) {
        ERR_clear_error();
        std::size_t count = 0;
        const int result = SSL_read_ex(_ssl, buffer.data() + got, buffer.size() - got, &count);
        if (result != 1) {
            status = fail(result);
            break;
        }
        got += count;
    }
    drain(wire_out);  // post-handshake messages (TLS 1.3 KeyUpdate answers)
    if (got > 0) {
        // Bytes first. An error or close_notify right behind them is reported by the next call:
        // a failed transport stays failed, and OpenSSL reports close_notify again.
        return Status::Ok;
    }
    if (status == Status::Ok) {
        shrink_if_idle(true);
    }
    return status;
}

Transport::Status TlsTransport::write(std::string_view data, std::string& wire_out) {
    if (_failed || _shut_down || !_ready) {
        if (_error.empty()) {
            _error = _shut_down ? "TLS stream already shut down" : "TLS handshake not complete";
        }
        return Status::Error;
    }
    if (data.empty()) {
        return Status::Ok;
    }
    ERR_clear_error();
    std::size_t written = 0;
    // Without SSL_MODE_ENABLE_PARTIAL_WRITE and with a memory BIO, everything is written at once.
    if (SSL_write_ex(_ssl, data.data(), data.size(), &written) != 1) {
        if (fail(0) != Status::Error) {
            _failed = true;
            _error = "TLS write did not complete";
        }
        drain(wire_out);
        return Status::Error;
    }
    drain(wire_out);
    shrink_if_idle(false);
    return Status::Ok;
}

void TlsTransport::shutdown(std::string& wire_out) {
    if (_shut_down) {
        return;
    }
    _shut_down = true;
    // After a fatal error OpenSSL must not be asked for close_notify.
    if (_failed || !_ready) {
        return;
    }
    ERR_clear_error();
    SSL_shutdown(_ssl);  // sends close_notify; the peer's answer is not waited for
    ERR_clear_error();
    drain(wire_out);
}

void TlsTransport::drain(std::string& wire_out) {
    const std::size_t pending = BIO_ctrl_pending(_write_bio);
    if (pending == 0) {
        return;
    }
    const std::size_t old_size = wire_out.size();
    wire_out.resize(old_size + pending);
    const int size =
        static_cast<int>(std::min<std::size_t>(pending, std::numeric_limits<int>::max()));
    const int taken = BIO_read(_write_bio, wire_out.data() + old_size, size);
    wire_out.resize(old_size + static_cast<std::size_t>(taken > 0 ? taken : 0));
}

void TlsTransport::shrink_if_idle(bool read_side) {
    BIO* bio = read_side ? _read_bio : _write_bio;
    if (BIO_ctrl_pending(bio) != 0) {
        return;
    }
    BUF_MEM* memory = nullptr;
    BIO_get_mem_ptr(bio, &memory);
    if (memory == nullptr || memory->max <= kShrinkAbove) {
        return;
    }
    BIO* fresh = BIO_new(BIO_s_mem());
    if (fresh == nullptr) {
        return;  // keep the big one
    }
    BIO_set_mem_eof_return(fresh, -1);
    if (read_side) {
        SSL_set0_rbio(_ssl, fresh);  // frees the old one
        _read_bio = fresh;
    } else {
        SSL_set0_wbio(_ssl, fresh);
        _write_bio = fresh;
    }
}

std::string TlsTransport::describe() const {
    std::string text = std::string(SSL_get_version(_ssl)) + " " + SSL_get_cipher_name(_ssl);
    if (const X509* certificate = SSL_get0_peer_certificate(_ssl)) {
        text += ", client certificate " + x509_name_text(X509_get_subject_name(certificate));
    }
    return text;
}

TransportIdentity TlsTransport::identity() const {
    return {_identity_as_username, _peer_name};
}

}  // namespace tern::net
