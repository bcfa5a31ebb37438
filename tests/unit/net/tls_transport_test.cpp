// Tests for the TLS transport and contexts: handshakes through memory BIOs, bytes both ways split
// at every offset, versions, client certificates, close_notify, and start-up errors.
#include "net/tls_transport.hpp"

#include <doctest/doctest.h>

#include <string>

#include "net/tls_context.hpp"
#include "tls_test_support.hpp"

using tern::core::ListenerSettings;
using tern::net::TlsContext;
using tern::net::TlsError;
using tern::net::TlsTransport;
using tern::net::Transport;
using tern::test::Pki;
using tern::test::pump;
using tern::test::TlsClient;
using Status = Transport::Status;

namespace {

ListenerSettings tls_settings(const Pki& pki) {
    ListenerSettings settings;
    settings.type = "mqtt+tls";
    settings.port = 8883;
    settings.cert_file = pki.server_cert;
    settings.key_file = pki.server_key;
    return settings;
}

ListenerSettings mtls_settings(const Pki& pki) {
    ListenerSettings settings = tls_settings(pki);
    settings.ca_file = pki.ca;
    settings.require_certificate = true;
    settings.use_identity_as_username = true;
    return settings;
}

std::string load_error(const ListenerSettings& settings) {
    try {
        TlsContext::load(settings);
    } catch (const TlsError& error) {
        return error.what();
    }
    return "(no error)";
}

// 2000 bytes that look like nothing in particular.
std::string sample_bytes(std::size_t size) {
    std::string bytes(size, '\0');
    for (std::size_t i = 0; i < size; ++i) {
        bytes[i] = static_cast<char>((i * 31 + 7) & 0xff);
    }
    return bytes;
}

}  // namespace

TEST_CASE("a TLS 1.3 handshake completes through memory buffers and carries bytes both ways") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    TlsClient client;
    std::string received;
    CHECK(pump(client, server, &received) == Status::Ok);
    REQUIRE(server.ready());
    CHECK(SSL_is_init_finished(client.ssl()) == 1);
    CHECK(server.describe().rfind("TLSv1.3 ", 0) == 0);
    CHECK(server.identity().as_username == false);

    const std::string connect("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);
    client.write(connect);
    CHECK(pump(client, server, &received) == Status::Ok);
    CHECK(received == connect);

    std::string wire;
    const std::string connack("\x20\x02\x00\x00", 4);
    REQUIRE(server.write(connack, wire) == Status::Ok);
    CHECK(wire.find(connack) == std::string::npos);  // encrypted
    client.give_input(wire);
    CHECK(client.read_all() == connack);
}

TEST_CASE("a TLS 1.2 handshake works with the default minimum version") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    TlsClient client(TLS1_2_VERSION);
    CHECK(pump(client, server, nullptr) == Status::Ok);
    REQUIRE(server.ready());
    CHECK(server.describe().rfind("TLSv1.2 ", 0) == 0);
}

TEST_CASE("the client's handshake fed one byte at a time completes") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    TlsClient client;
    std::string received;
    CHECK(pump(client, server, &received, 1) == Status::Ok);
    CHECK(server.ready());
}

TEST_CASE("application records split at every byte offset decode to the same bytes") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    const std::string payload = sample_bytes(300);
    std::size_t record_size = 1;
    for (std::size_t split = 0; split <= record_size; ++split) {
        // Each split gets its own session: a record can be decrypted only once, in order.
        TlsTransport server(*context);
        TlsClient client;
        REQUIRE(pump(client, server, nullptr) == Status::Ok);
        client.write(payload);
        const std::string records = client.take_output();
        record_size = records.size();
        std::string wire;
        std::string got;
        char buffer[4096];
        std::size_t count = 0;
        REQUIRE(server.receive({records.data(), split}, wire) == Status::Ok);
        REQUIRE(server.read({buffer, sizeof buffer}, count, wire) == Status::Ok);
        got.append(buffer, count);
        REQUIRE(server.receive({records.data() + split, records.size() - split}, wire) ==
                Status::Ok);
        do {
            REQUIRE(server.read({buffer, sizeof buffer}, count, wire) == Status::Ok);
            got.append(buffer, count);
        } while (count > 0);
        CHECK(got == payload);
    }
    CHECK(record_size == 300 + 22);  // TLS 1.3: 5-byte header, content type, 16-byte tag
}

TEST_CASE("a megabyte written at once reaches the client in records and back") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    TlsClient client;
    REQUIRE(pump(client, server, nullptr) == Status::Ok);
    const std::string big = sample_bytes(1024 * 1024);
    std::string wire;
    REQUIRE(server.write(big, wire) == Status::Ok);
    CHECK(wire.size() > big.size());  // record headers and tags
    client.give_input(wire);
    CHECK(client.read_all() == big);
    client.write(big);
    std::string received;
    CHECK(pump(client, server, &received) == Status::Ok);
    CHECK(received == big);
}

TEST_CASE("a TLS 1.2 client is refused when the minimum version is 1.3") {
    Pki pki;
    ListenerSettings settings = tls_settings(pki);
    settings.tls_min_version = "1.3";
    auto context = TlsContext::load(settings);
    TlsTransport server(*context);
    TlsClient client(TLS1_2_VERSION);
    CHECK(pump(client, server, nullptr) == Status::Error);
    CHECK_FALSE(server.ready());
    CHECK(server.error() == "unsupported protocol (SSL routines)");
    // Later calls keep failing without touching OpenSSL again.
    std::string wire;
    CHECK(server.receive({"x", 1}, wire) == Status::Error);
    CHECK(wire.empty());
}

TEST_CASE("garbage instead of a ClientHello fails the handshake with OpenSSL's reason") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    std::string wire;
    const std::string request = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";
    CHECK(server.receive({request.data(), request.size()}, wire) == Status::Error);
    CHECK(server.error() == "http request (SSL routines)");
    // An MQTT CONNECT sent in the clear to the TLS port.
    TlsTransport other(*context);
    const std::string connect("\x10\x0c\x00\x04MQTT\x04\x02\x00\x3c\x00\x00", 14);
    wire.clear();
    CHECK(other.receive({connect.data(), connect.size()}, wire) == Status::Error);
    CHECK(other.error() == "wrong version number (SSL routines)");
}

TEST_CASE("require_certificate refuses a client without a certificate") {
    Pki pki;
    auto context = TlsContext::load(mtls_settings(pki));
    TlsTransport server(*context);
    TlsClient client;
    CHECK(pump(client, server, nullptr) == Status::Error);
    CHECK(server.error() == "peer did not return a certificate (SSL routines)");
}

TEST_CASE("require_certificate refuses a certificate from another CA") {
    Pki pki;
    auto context = TlsContext::load(mtls_settings(pki));
    TlsTransport server(*context);
    TlsClient client(0, pki.rogue_cert, pki.rogue_key);
    CHECK(pump(client, server, nullptr) == Status::Error);
    CHECK(server.error() ==
          "certificate verify failed (SSL routines): client certificate: unable to get local "
          "issuer certificate");
}

TEST_CASE("use_identity_as_username gives the client certificate's CN") {
    Pki pki;
    auto context = TlsContext::load(mtls_settings(pki));
    SUBCASE("TLS 1.3") {
        TlsTransport server(*context);
        TlsClient client(0, pki.client_cert, pki.client_key);
        REQUIRE(pump(client, server, nullptr) == Status::Ok);
        REQUIRE(server.ready());
        CHECK(server.identity().as_username);
        CHECK(server.identity().username == std::optional<std::string>("device-7"));
        CHECK(server.describe().find("client certificate CN=device-7,O=Tern tests") !=
              std::string::npos);
    }
    SUBCASE("TLS 1.2") {
        TlsTransport server(*context);
        TlsClient client(TLS1_2_VERSION, pki.client_cert, pki.client_key);
        REQUIRE(pump(client, server, nullptr) == Status::Ok);
        CHECK(server.identity().username == std::optional<std::string>("device-7"));
    }
    SUBCASE("a certificate without CN gives no name") {
        TlsTransport server(*context);
        TlsClient client(0, pki.nameless_cert, pki.nameless_key);
        REQUIRE(pump(client, server, nullptr) == Status::Ok);
        CHECK(server.identity().as_username);
        CHECK_FALSE(server.identity().username.has_value());
    }
}

TEST_CASE("a CA without require_certificate lets clients without a certificate in") {
    Pki pki;
    ListenerSettings settings = tls_settings(pki);
    settings.ca_file = pki.ca;
    auto context = TlsContext::load(settings);
    TlsTransport server(*context);
    TlsClient client;
    CHECK(pump(client, server, nullptr) == Status::Ok);
    CHECK(server.ready());
}

TEST_CASE("close_notify from the client ends the stream after the bytes before it") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    TlsClient client;
    REQUIRE(pump(client, server, nullptr) == Status::Ok);
    client.write("last words");
    SSL_shutdown(client.ssl());
    std::string wire;
    const std::string records = client.take_output();
    REQUIRE(server.receive({records.data(), records.size()}, wire) == Status::Ok);
    char buffer[256];
    std::size_t count = 0;
    CHECK(server.read({buffer, sizeof buffer}, count, wire) == Status::Ok);
    CHECK(std::string(buffer, count) == "last words");
    CHECK(server.read({buffer, sizeof buffer}, count, wire) == Status::Closed);
    CHECK(count == 0);
}

TEST_CASE("shutdown sends close_notify after the last bytes and refuses further writes") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    TlsClient client;
    REQUIRE(pump(client, server, nullptr) == Status::Ok);
    std::string wire;
    REQUIRE(server.write("bye", wire) == Status::Ok);
    server.shutdown(wire);
    CHECK(server.write("more", wire) == Status::Error);
    client.give_input(wire);
    bool closed = false;
    CHECK(client.read_all(&closed) == "bye");
    CHECK(closed);
}

TEST_CASE("shutdown before the handshake completed sends nothing") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    TlsTransport server(*context);
    std::string wire;
    server.shutdown(wire);
    CHECK(wire.empty());
}

TEST_CASE("a context made before a reload keeps serving its connections") {
    Pki pki;
    tern::net::TlsListenerContext listener(tls_settings(pki));
    auto before = listener.current();
    TlsTransport old_connection(*before);
    CHECK(listener.reload());
    CHECK(listener.current() != before);
    before.reset();  // only the connection's SSL object holds the old SSL_CTX now
    TlsClient client;
    CHECK(pump(client, old_connection, nullptr) == Status::Ok);
    CHECK(old_connection.ready());
}

TEST_CASE("a reload with a broken file keeps the context in use") {
    Pki pki;
    ListenerSettings settings = tls_settings(pki);
    const std::string copy = pki.dir.file("copy.pem");
    std::filesystem::copy_file(pki.server_cert, copy);
    settings.cert_file = copy;
    tern::net::TlsListenerContext listener(settings);
    auto before = listener.current();
    {
        std::FILE* file = std::fopen(copy.c_str(), "wb");
        std::fputs("not a certificate\n", file);
        std::fclose(file);
    }
    CHECK_FALSE(listener.reload());
    CHECK(listener.current() == before);
}

TEST_CASE("loading names the file and the reason") {
    Pki pki;
    SUBCASE("missing certificate") {
        ListenerSettings settings = tls_settings(pki);
        settings.cert_file = pki.dir.file("missing.pem");
        CHECK(load_error(settings) ==
              settings.cert_file +
                  ": cannot load cert_file of TLS listener 127.0.0.1:8883: No such file or "
                  "directory");
    }
    SUBCASE("not a certificate") {
        ListenerSettings settings = tls_settings(pki);
        settings.cert_file = pki.server_key;
        CHECK(load_error(settings) == pki.server_key +
                                          ": cannot load cert_file of TLS listener "
                                          "127.0.0.1:8883: no start line (PEM routines)");
    }
    SUBCASE("a key that does not belong to the certificate") {
        ListenerSettings settings = tls_settings(pki);
        settings.key_file = pki.other_key;
        CHECK(load_error(settings).rfind(pki.other_key + ": cannot load key_file of TLS listener "
                                                         "127.0.0.1:8883: key values mismatch",
                                         0) == 0);
    }
    SUBCASE("missing CA file") {
        ListenerSettings settings = mtls_settings(pki);
        settings.ca_file = pki.dir.file("no-ca.pem");
        CHECK(load_error(settings) ==
              settings.ca_file +
                  ": cannot load ca_file of TLS listener 127.0.0.1:8883: No such file or "
                  "directory");
    }
    SUBCASE("unknown TLS 1.2 ciphers") {
        ListenerSettings settings = tls_settings(pki);
        settings.ciphers = "NO-SUCH-CIPHER";
        CHECK(load_error(settings) ==
              "TLS listener 127.0.0.1:8883: ciphers 'NO-SUCH-CIPHER': no cipher match (SSL "
              "routines)");
    }
    SUBCASE("unknown TLS 1.3 cipher suites") {
        ListenerSettings settings = tls_settings(pki);
        settings.ciphersuites = "TLS_NOPE";
        CHECK(load_error(settings) ==
              "TLS listener 127.0.0.1:8883: ciphersuites 'TLS_NOPE': no cipher match (SSL "
              "routines)");
    }
}

TEST_CASE("the context summarizes the served certificate") {
    Pki pki;
    auto context = TlsContext::load(tls_settings(pki));
    CHECK(context->certificate_summary().rfind("CN=localhost,O=Tern tests, serial 1001, expires ",
                                               0) == 0);
}
