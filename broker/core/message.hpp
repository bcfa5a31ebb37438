// An application message as the broker routes it: immutable once built, shared by every receiver.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "codec/properties.hpp"

namespace tern::core {

// Milliseconds on the steady clock; 0 means "never".
using MonoMillis = uint64_t;

// Current steady-clock time in milliseconds.
MonoMillis mono_now_ms() noexcept;

struct Message {
    // The only way to make a message: its payload shares its allocation (reference counts,
    // fields, payload bytes), which saves an allocation per PUBLISH, and a queued message that
    // goes out finds its payload on the lines next to its header, not in another page.
    static std::shared_ptr<Message> create(std::string_view payload);

    // For create() only (allocate_shared needs a public constructor).
    class CreateKey {
        CreateKey() = default;
        friend struct Message;
    };
    Message(CreateKey, std::string_view bytes) noexcept;
    // `payload` points into storage this message owns: a copy would point into another's.
    Message(const Message&) = delete;
    Message& operator=(const Message&) = delete;

    std::string topic;
    const std::string_view payload;  // bytes stored with the message (create())
    uint8_t qos = 0;                 // the QoS it was published with
    bool retain = false;             // the RETAIN flag it was published with
    // PUBLISH properties minus the per-hop ones (topic alias, subscription identifiers); an empty
    // set (every MQTT 3.1.1 message, most MQTT 5 ones) when none were given.
    const codec::Properties& properties() const noexcept { return _properties.get(); }
    void set_properties(codec::Properties&& properties) {
        _properties = codec::SharedProperties(std::move(properties));
    }
    // The same set, for records that keep it without copying.
    const codec::SharedProperties& shared_properties() const noexcept { return _properties; }
    // When the message expires (steady clock), 0 = never; from Message Expiry Interval
    // [MQTT-3.3.2-5].
    MonoMillis expires_at = 0;
    // Who published it, for No Local [MQTT-3.8.3-3]: the publishing session's uid, 0 = the broker.
    uint64_t publisher_uid = 0;
    // The MQTT 5 wire form of `properties` without Message Expiry Interval, encoded once when the
    // message is built so that fan-out never re-encodes them (see net/publish_encoder).
    std::string encoded_properties;
    // The node-wide stream position given when it was published while the history is enabled
    // (net/history.hpp), 0 otherwise; with the node's epoch it makes the bridge's event ids.
    uint64_t seq = 0;
    // When it was published (Unix milliseconds), set together with seq; 0 otherwise.
    uint64_t published_unix_ms = 0;

    bool expired(MonoMillis now) const noexcept { return expires_at != 0 && now >= expires_at; }
    // Seconds left of the expiry interval, rounded up, for forwarding [MQTT-3.3.2-6].
    uint32_t remaining_expiry_seconds(MonoMillis now) const noexcept {
        if (expires_at == 0 || now >= expires_at) {
            return 0;
        }
        return static_cast<uint32_t>((expires_at - now + 999) / 1000);
    }

  private:
    codec::SharedProperties _properties;
};

using MessagePtr = std::shared_ptr<const Message>;

}  // namespace tern::core
