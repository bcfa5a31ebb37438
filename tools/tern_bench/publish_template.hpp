// A PUBLISH encoded once by tern_codec and stamped per message: sequence, time and packet id are
// patched in place, so producing a message costs one memcpy.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/protocol.hpp"

namespace tern::bench {

class PublishTemplate {
  public:
    // `payload_size` >= kPayloadHeaderSize. The payload header carries `publisher_id`.
    PublishTemplate(std::string_view topic, uint8_t qos, std::size_t payload_size,
                    uint32_t publisher_id, codec::ProtocolVersion version);

    // Appends one PUBLISH; `packet_id` is ignored at QoS 0 (no identifier on the wire
    // [MQTT-2.2.1-2]) and must be non-zero otherwise [MQTT-2.2.1-3].
    void append(std::string& out, uint32_t sequence, uint64_t sent_ns, uint16_t packet_id) const;

    std::size_t packet_size() const noexcept { return _bytes.size(); }
    std::size_t payload_offset() const noexcept { return _payload_offset; }

  private:
    std::string _bytes;
    std::size_t _payload_offset = 0;
    std::size_t _packet_id_offset = 0;  // 0 at QoS 0
};

}  // namespace tern::bench
