// Encodes the packets tern-bench sends (CONNECT, SUBSCRIBE, acks, PINGREQ, DISCONNECT, and the
// sink's replies) with tern_codec, caching the fixed-size ones so the hot path is a memcpy.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/protocol.hpp"

namespace tern::bench {

class PacketWriter {
  public:
    explicit PacketWriter(codec::ProtocolVersion version);

    codec::ProtocolVersion version() const noexcept { return _version; }

    // A clean session by default. With `clean_start` false the broker resumes or creates a
    // session that outlives the connection (3.1.1 [MQTT-3.1.2-4]); in MQTT 5 it outlives it only
    // with a Session Expiry Interval above 0 [MQTT-3.1.2-23]: `session_expiry_s`, sent only in
    // MQTT 5 and when not 0.
    void append_connect(std::string& out, std::string_view client_id, uint16_t keep_alive,
                        bool clean_start = true, uint32_t session_expiry_s = 0) const;
    void append_subscribe(std::string& out, uint16_t packet_id, std::string_view filter,
                          uint8_t qos) const;

    // PUBACK, PUBREC, PUBREL or PUBCOMP for `packet_id` with reason Success: always four bytes,
    // MQTT 5 included, because the Reason Code and Property Length may be omitted when the
    // reason is Success and there are no properties (sections 3.4.2.1, 3.5.2.1, 3.6.2.1, 3.7.2.1).
    void append_ack(std::string& out, codec::PacketType type, uint16_t packet_id) const {
        const auto& form = _acks[static_cast<std::size_t>(type) - kFirstAckType];
        out.append(form.data(), 2);
        out.push_back(static_cast<char>(packet_id >> 8));
        out.push_back(static_cast<char>(packet_id & 0xFF));
    }

    void append_pingreq(std::string& out) const { out.append(_pingreq); }
    void append_pingresp(std::string& out) const { out.append(_pingresp); }
    void append_disconnect(std::string& out) const { out.append(_disconnect); }

  private:
    static constexpr std::size_t kFirstAckType =
        static_cast<std::size_t>(codec::PacketType::Puback);

    codec::ProtocolVersion _version;
    std::array<std::array<char, 4>, 4> _acks{};
    std::string _pingreq;
    std::string _pingresp;
    std::string _disconnect;
};

}  // namespace tern::bench
