// PublishTemplate: locating the packet id and payload inside the codec's encoding.
#include "publish_template.hpp"

#include <cstring>
#include <stdexcept>

#include "codec/decoder.hpp"
#include "codec/encoder.hpp"
#include "codec/packets.hpp"
#include "payload_header.hpp"

namespace tern::bench {

PublishTemplate::PublishTemplate(std::string_view topic, uint8_t qos, std::size_t payload_size,
                                 uint32_t publisher_id, codec::ProtocolVersion version) {
    if (payload_size < kPayloadHeaderSize) {
        throw std::invalid_argument("payload smaller than the tern-bench header");
    }
    codec::Publish publish;
    publish.qos = qos;
    publish.packet_id = qos > 0 ? 1 : 0;
    publish.topic = std::string(topic);
    publish.payload.resize(payload_size);
    for (std::size_t i = kPayloadHeaderSize; i < payload_size; ++i) {
        publish.payload[i] = static_cast<char>('a' + i % 26);
    }
    write_payload_header(reinterpret_cast<uint8_t*>(publish.payload.data()),
                         PayloadHeader{publisher_id, 0, 0});
    codec::encode(publish, version, _bytes);

    codec::FrameHeader header;
    codec::DecodeError error;
    const auto* data = reinterpret_cast<const uint8_t*>(_bytes.data());
    if (codec::parse_fixed_header({data, _bytes.size()}, 0, header, error) !=
            codec::FrameStatus::Complete ||
        header.total_size() != _bytes.size()) {
        throw std::logic_error("the codec produced an unreadable PUBLISH");
    }
    // The payload is everything after the variable header, i.e. the last payload_size bytes.
    _payload_offset = _bytes.size() - payload_size;
    if (qos > 0) {
        // Variable header: Topic Name (2-byte length + bytes), then the Packet Identifier.
        _packet_id_offset = header.header_size + 2 + topic.size();
    }
}

void PublishTemplate::append(std::string& out, uint32_t sequence, uint64_t sent_ns,
                             uint16_t packet_id) const {
    const std::size_t start = out.size();
    out.append(_bytes);
    auto* packet = reinterpret_cast<uint8_t*>(out.data() + start);
    if (_packet_id_offset != 0) {
        packet[_packet_id_offset] = static_cast<uint8_t>(packet_id >> 8);
        packet[_packet_id_offset + 1] = static_cast<uint8_t>(packet_id & 0xFF);
    }
    store_le32(packet + _payload_offset + kSequenceOffset, sequence);
    store_le64(packet + _payload_offset + kSentTimeOffset, sent_ns);
}

}  // namespace tern::bench
