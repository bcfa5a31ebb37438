// Test support for the TLS transport: certificates made in memory, written as PEM files, and an
// OpenSSL client driven through memory BIOs.
#pragma once

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>

#include "net/transport.hpp"

namespace tern::test {

struct KeyFree {
    void operator()(EVP_PKEY* key) const noexcept { EVP_PKEY_free(key); }
};
struct CertFree {
    void operator()(X509* cert) const noexcept { X509_free(cert); }
};
using KeyPtr = std::unique_ptr<EVP_PKEY, KeyFree>;
using CertPtr = std::unique_ptr<X509, CertFree>;

inline void require(bool ok, const char* what) {
    if (!ok) {
        throw std::runtime_error(std::string("test certificate set-up failed: ") + what);
    }
}

inline KeyPtr make_key() {
    KeyPtr key(EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"));
    require(key != nullptr, "EC key");
    return key;
}

inline void add_extension(X509* cert, X509* issuer, int nid, const char* value) {
    X509V3_CTX context;
    X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
    X509_EXTENSION* extension = X509V3_EXT_conf_nid(nullptr, &context, nid, value);
    require(extension != nullptr, "extension");
    X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
}

// A certificate for `key` named CN=`common_name` (no CN when empty), signed by `issuer`
// (self-signed when null). A CA gets basicConstraints CA:TRUE.
inline CertPtr make_certificate(EVP_PKEY* key, const std::string& common_name, long serial,
                                X509* issuer, EVP_PKEY* issuer_key, bool ca) {
    CertPtr cert(X509_new());
    require(cert != nullptr, "X509_new");
    X509_set_version(cert.get(), 2);
    ASN1_INTEGER_set(X509_get_serialNumber(cert.get()), serial);
    X509_gmtime_adj(X509_getm_notBefore(cert.get()), -60);
    X509_gmtime_adj(X509_getm_notAfter(cert.get()), 24 * 3600);
    X509_set_pubkey(cert.get(), key);
    X509_NAME* name = X509_get_subject_name(cert.get());
    X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                               reinterpret_cast<const unsigned char*>("Tern tests"), -1, -1, 0);
    if (!common_name.empty()) {
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8,
                                   reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                   -1, 0);
    }
    X509* signer = issuer != nullptr ? issuer : cert.get();
    X509_set_issuer_name(cert.get(), X509_get_subject_name(signer));
    if (ca) {
        add_extension(cert.get(), signer, NID_basic_constraints, "critical,CA:TRUE");
    }
    require(X509_sign(cert.get(), issuer_key != nullptr ? issuer_key : key, EVP_sha256()) > 0,
            "sign");
    return cert;
}

// A temporary directory removed at the end of the test.
class TempDir {
  public:
    TempDir() {
        static std::atomic<int> counter{0};
        _path = std::filesystem::temp_directory_path() /
                ("tern-tls-test-" + std::to_string(::getpid()) + "-" + std::to_string(++counter));
        std::filesystem::create_directories(_path);
    }
    ~TempDir() {
        std::error_code ignored;
        std::filesystem::remove_all(_path, ignored);
    }
    std::string file(const std::string& name) const { return (_path / name).string(); }

  private:
    std::filesystem::path _path;
};

inline void write_pem(const std::string& path, X509* cert) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    require(file != nullptr, "open for writing");
    PEM_write_X509(file, cert);
    std::fclose(file);
}

inline void write_pem(const std::string& path, EVP_PKEY* key) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    require(file != nullptr, "open for writing");
    PEM_write_PrivateKey(file, key, nullptr, nullptr, 0, nullptr, nullptr);
    std::fclose(file);
}

// A CA, a server certificate (CN=localhost) and a client certificate (CN=device-7) signed by it,
// another CA's client certificate, and a client certificate without a CN, all as PEM files.
struct Pki {
    TempDir dir;
    std::string ca = dir.file("ca.pem");
    std::string server_cert = dir.file("server.pem");
    std::string server_key = dir.file("server.key");
    std::string client_cert = dir.file("client.pem");
    std::string client_key = dir.file("client.key");
    std::string rogue_cert = dir.file("rogue.pem");
    std::string rogue_key = dir.file("rogue.key");
    std::string nameless_cert = dir.file("nameless.pem");
    std::string nameless_key = dir.file("nameless.key");
    std::string other_key = dir.file("other.key");

    Pki() {
        KeyPtr ca_key = make_key();
        CertPtr ca_cert = make_certificate(ca_key.get(), "Tern Test CA", 1, nullptr, nullptr, true);
        write_pem(ca, ca_cert.get());
        issue(ca_cert.get(), ca_key.get(), "localhost", 0x1001, server_cert, server_key);
        issue(ca_cert.get(), ca_key.get(), "device-7", 0x2001, client_cert, client_key);
        issue(ca_cert.get(), ca_key.get(), "", 0x2002, nameless_cert, nameless_key);
        KeyPtr rogue_ca_key = make_key();
        CertPtr rogue_ca =
            make_certificate(rogue_ca_key.get(), "Rogue CA", 1, nullptr, nullptr, true);
        issue(rogue_ca.get(), rogue_ca_key.get(), "device-7", 0x3001, rogue_cert, rogue_key);
        write_pem(other_key, make_key().get());
    }

    static void issue(X509* ca_cert, EVP_PKEY* ca_key, const std::string& name, long serial,
                      const std::string& cert_path, const std::string& key_path) {
        KeyPtr key = make_key();
        CertPtr cert = make_certificate(key.get(), name, serial, ca_cert, ca_key, false);
        write_pem(cert_path, cert.get());
        write_pem(key_path, key.get());
    }
};

// The client side of a TLS connection over memory BIOs.
class TlsClient {
  public:
    // `max_version` 0 = any. A client certificate is used when cert/key are given.
    explicit TlsClient(int max_version = 0, const std::string& cert = "",
                       const std::string& key = "") {
        _context = SSL_CTX_new(TLS_client_method());
        require(_context != nullptr, "client context");
        if (max_version != 0) {
            SSL_CTX_set_max_proto_version(_context, max_version);
        }
        if (!cert.empty()) {
            require(SSL_CTX_use_certificate_file(_context, cert.c_str(), SSL_FILETYPE_PEM) == 1,
                    "client certificate");
            require(SSL_CTX_use_PrivateKey_file(_context, key.c_str(), SSL_FILETYPE_PEM) == 1,
                    "client key");
        }
        _ssl = SSL_new(_context);
        _in = BIO_new(BIO_s_mem());
        _out = BIO_new(BIO_s_mem());
        BIO_set_mem_eof_return(_in, -1);
        SSL_set_bio(_ssl, _in, _out);
        SSL_set_connect_state(_ssl);
    }
    ~TlsClient() {
        SSL_free(_ssl);
        SSL_CTX_free(_context);
    }
    TlsClient(const TlsClient&) = delete;
    TlsClient& operator=(const TlsClient&) = delete;

    // Runs the client side as far as it can; returns its SSL_get_error code (or 0 when done).
    int step() {
        ERR_clear_error();
        const int result = SSL_do_handshake(_ssl);
        return result == 1 ? 0 : SSL_get_error(_ssl, result);
    }
    // Records the client wants sent.
    std::string take_output() {
        std::string bytes;
        char buffer[4096];
        int count = 0;
        while ((count = BIO_read(_out, buffer, sizeof buffer)) > 0) {
            bytes.append(buffer, static_cast<std::size_t>(count));
        }
        return bytes;
    }
    void give_input(const std::string& bytes) {
        if (!bytes.empty()) {
            BIO_write(_in, bytes.data(), static_cast<int>(bytes.size()));
        }
    }
    void write(const std::string& data) {
        std::size_t written = 0;
        require(SSL_write_ex(_ssl, data.data(), data.size(), &written) == 1, "client write");
    }
    // Everything readable now; `closed` tells whether close_notify came.
    std::string read_all(bool* closed = nullptr) {
        std::string data;
        char buffer[16384];
        for (;;) {
            std::size_t count = 0;
            const int result = SSL_read_ex(_ssl, buffer, sizeof buffer, &count);
            if (result == 1) {
                data.append(buffer, count);
                continue;
            }
            if (closed != nullptr) {
                *closed = SSL_get_error(_ssl, result) == SSL_ERROR_ZERO_RETURN;
            }
            return data;
        }
    }
    SSL* ssl() { return _ssl; }

  private:
    SSL_CTX* _context = nullptr;
    SSL* _ssl = nullptr;
    BIO* _in = nullptr;
    BIO* _out = nullptr;
};

// Exchanges records between `client` and `server` until neither has anything to say. Returns
// the server's status of the last call; application bytes the server decoded go to `received`.
inline net::Transport::Status pump(TlsClient& client, net::Transport& server, std::string* received,
                                   std::size_t chunk = 0) {
    using Status = net::Transport::Status;
    for (int round = 0; round < 20; ++round) {
        client.step();
        const std::string to_server = client.take_output();
        std::string to_client;
        Status status = Status::Ok;
        if (!to_server.empty()) {
            const std::size_t step = chunk == 0 ? to_server.size() : chunk;
            for (std::size_t at = 0; at < to_server.size() && status == Status::Ok; at += step) {
                const std::size_t size = std::min(step, to_server.size() - at);
                status = server.receive({to_server.data() + at, size}, to_client);
            }
        }
        if (status == Status::Ok && server.ready()) {
            char buffer[65536];
            std::size_t got = 0;
            do {
                status = server.read({buffer, sizeof buffer}, got, to_client);
                if (received != nullptr) {
                    received->append(buffer, got);
                }
            } while (got > 0);
        }
        client.give_input(to_client);
        if (status != Status::Ok) {
            client.step();
            return status;
        }
        if (to_server.empty() && to_client.empty()) {
            return status;
        }
    }
    return Status::Ok;
}

}  // namespace tern::test
