// Broker settings: the values the configuration file and command line set for the broker.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tern::core {

struct ListenerSettings {
    std::string type = "mqtt";  // "mqtt" (TCP) or "mqtt+tls" (MQTT over TLS, usually 8883)
    std::string address = "127.0.0.1";
    uint16_t port = 1883;  // 0 = pick a free port (logged at start-up)
    // TLS ("mqtt+tls" only). PEM files; reloaded on SIGHUP.
    std::string cert_file;                  // server certificate chain (required)
    std::string key_file;                   // its private key (required, unencrypted)
    std::string ca_file;                    // CAs that sign client certificates (mTLS)
    bool require_certificate = false;       // refuse clients without a valid certificate
    bool use_identity_as_username = false;  // the client certificate's subject CN is the user
    std::string tls_min_version = "1.2";    // "1.2" or "1.3"
    std::string ciphers;       // TLS 1.2 cipher list (OpenSSL syntax); "" = OpenSSL's default
    std::string ciphersuites;  // TLS 1.3 cipher suites; "" = OpenSSL's default
};

struct LimitSettings {
    uint32_t max_connections = 100'000;            // 0 = unlimited
    uint32_t max_packet_size = 1024 * 1024;        // bytes, both directions' cap for clients
    uint32_t connect_timeout_ms = 10'000;          // a socket must send CONNECT within this
    uint32_t max_subscriptions_per_client = 1000;  // 0 = unlimited
    uint32_t max_topic_length = 1024;              // bytes, 0 = 65535
    uint32_t max_topic_levels = 64;                // 0 = unlimited
    uint32_t max_client_id_length = 256;
    uint16_t max_keep_alive = 0;     // seconds; 0 = accept the client's value
    uint16_t receive_maximum = 100;  // QoS 1/2 PUBLISHes a client may have unacked to us
    uint16_t max_inflight = 100;     // QoS 1/2 we send unacked, capped by client's Receive Maximum
    uint32_t max_queued_messages = 1000;  // per session, offline or over the in-flight window
    uint64_t max_queued_bytes = 0;        // per session, 0 = unlimited
    bool queue_qos0_offline = false;      // queue QoS 0 for offline persistent sessions
    uint16_t topic_alias_maximum = 10;    // aliases a client may set (MQTT 5), 0 = none
    uint32_t max_session_expiry = 0;      // cap on Session Expiry Interval, 0 = no cap
    uint64_t max_outgoing_buffer = 8 * 1024 * 1024;   // bytes queued on a socket before QoS 0 drops
    std::string queue_full_policy = "refuse-newest";  // or "drop-oldest"
    // Backpressure instead of queueing: an online subscriber with more than slow_subscriber_
    // messages queued behind its in-flight window (or half its queue limits) or _bytes waiting on
    // its socket is slow; with pause_publishers, the clients publishing to it are not read until
    // it is back under half of that.
    bool pause_publishers = true;
    uint32_t slow_subscriber_messages = 1000;
    uint64_t slow_subscriber_bytes = 256 * 1024;
    // Abuse limits (0 = off each): sockets per client IP address, new sockets per second per
    // IP address, PUBLISHes and PUBLISH bytes per second per connection (bursts of one second),
    // and the bytes of buffers and queues past which the broker sheds load (see MemoryBudget).
    uint32_t max_connections_per_ip = 0;
    uint32_t connection_rate_per_ip = 0;
    uint32_t max_publish_rate = 0;
    uint64_t max_publish_bytes_rate = 0;
    uint64_t max_memory = 0;
};

// One [[storage.history]] table: the recent messages kept per topic for the bridge's resume.
struct HistoryConfig {
    std::string filter = "#";     // topics it covers (MQTT filter)
    uint32_t max_messages = 100;  // per topic
    uint32_t max_age_s = 3600;    // seconds, 0 = no age limit
};

struct StorageConfig {
    std::string durability = "async";    // "memory", "async" (survives kill -9) or "sync" (fsync)
    std::vector<HistoryConfig> history;  // [[storage.history]]; first match wins
    uint64_t max_retained_messages = 0;  // 0 = unlimited
    uint64_t max_retained_bytes = 0;     // 0 = unlimited
    // Most milliseconds new queue entries wait before they are written; 0 = at once.
    uint32_t write_delay_ms = kDefaultWriteDelayMs;
    static constexpr uint32_t kDefaultWriteDelayMs = 50;
};

// [auth]: who may connect, and what each client may publish, subscribe to and receive.
struct AuthConfig {
    bool allow_anonymous = true;       // clients without a user name may connect
    bool allow_anonymous_set = false;  // allow_anonymous was written in the file (not a key)
    std::string password_file;         // "" = no password file (any user name is accepted)
    std::string acl_file;              // "" = no ACL (everything allowed)
};

// [bridge]: the HTTP port for web clients (REST, Server-Sent Events, later WebSocket).
struct BridgeSettings {
    bool enabled = false;
    std::string address = "127.0.0.1";
    uint16_t port = 8080;                      // 0 = pick a free port (logged at start-up)
    uint32_t max_header_bytes = 8 * 1024;      // request line + headers of one request
    uint32_t max_body_bytes = 1024 * 1024;     // one request body
    uint32_t header_timeout_ms = 10'000;       // a request's headers (and then its body) must
                                               // arrive within this (slowloris)
    uint32_t idle_timeout_ms = 60'000;         // keep-alive connection without a request
    uint32_t max_connections = 10'000;         // HTTP connections, 0 = unlimited
    uint32_t heartbeat_interval_ms = 15'000;   // SSE comment when nothing else was sent
    uint64_t max_client_buffer = 1024 * 1024;  // bytes queued for one client before cut-off
    // Bytes queued for all streaming clients together: with many clients each one's cap shrinks
    // to this divided by their number (not below 64 KiB), so a CPU-bound bridge cuts clients
    // off instead of buffering gigabytes.
    uint64_t max_total_buffer = 64 * 1024 * 1024;
    std::vector<std::string> allowed_origins;  // CORS / WebSocket Origin allow-list; "*" = any
    // Bearer tokens (JWT, HS256): accepted once a secret is set. jwt_secret holds the key itself,
    // read from jwt_secret_file by the loader when that is given (at least 32 bytes).
    std::string jwt_secret;
    std::string jwt_secret_file;
    std::string jwt_username_claim = "sub";  // the claim that names the MQTT user
    std::string jwt_issuer;                  // required "iss" when not empty
    std::string jwt_audience;                // required in "aud" when not empty
    uint32_t jwt_leeway_s = 30;              // clock skew allowed on exp, nbf and iat
    // https and wss on the bridge port: the same PEM files and options as a "mqtt+tls"
    // listener, reloaded on SIGHUP.
    bool tls = false;
    std::string cert_file;
    std::string key_file;
    std::string ca_file;
    bool require_certificate = false;
    std::string tls_min_version = "1.2";
    std::string ciphers;
    std::string ciphersuites;
};

struct BrokerSettings {
    uint32_t workers = 0;  // 0 = one per core
    std::string log_level = "info";
    uint32_t sys_interval_s = 10;  // $SYS publish period, 0 = off
    bool allow_zero_length_client_id = true;
    bool retain_available = true;
    uint8_t maximum_qos = 2;
    bool wildcard_subscriptions = true;
    bool shared_subscriptions = true;
    bool subscription_identifiers = true;
    std::vector<ListenerSettings> listeners{ListenerSettings{}};
    LimitSettings limits;
    std::string data_dir = "data";
    StorageConfig storage;
    AuthConfig auth;
    BridgeSettings bridge;
};

}  // namespace tern::core
