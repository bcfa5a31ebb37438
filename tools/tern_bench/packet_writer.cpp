// PacketWriter: every packet goes through tern_codec's encoder once; acks are cached templates.
#include "packet_writer.hpp"

#include <stdexcept>

#include "codec/encoder.hpp"
#include "codec/packets.hpp"

namespace tern::bench {

PacketWriter::PacketWriter(codec::ProtocolVersion version) : _version(version) {
    for (std::size_t i = 0; i < _acks.size(); ++i) {
        codec::Ack ack;
        ack.type = static_cast<codec::PacketType>(kFirstAckType + i);
        ack.packet_id = 1;
        std::string bytes;
        codec::encode(ack, version, bytes);
        if (bytes.size() != 4) {
            throw std::logic_error("the codec did not encode a four-byte acknowledgement");
        }
        std::copy(bytes.begin(), bytes.end(), _acks[i].begin());
    }
    codec::encode(codec::Pingreq{}, version, _pingreq);
    codec::encode(codec::Pingresp{}, version, _pingresp);
    codec::encode(codec::Disconnect{}, version, _disconnect);
}

void PacketWriter::append_connect(std::string& out, std::string_view client_id, uint16_t keep_alive,
                                  bool clean_start, uint32_t session_expiry_s) const {
    codec::Connect connect;
    connect.version = _version;
    connect.clean_start = clean_start;
    connect.keep_alive = keep_alive;
    if (_version == codec::ProtocolVersion::V5 && session_expiry_s > 0) {
        connect.properties.session_expiry_interval = session_expiry_s;
    }
    connect.client_id = std::string(client_id);
    codec::encode(connect, _version, out);
}

void PacketWriter::append_subscribe(std::string& out, uint16_t packet_id, std::string_view filter,
                                    uint8_t qos) const {
    codec::Subscribe subscribe;
    subscribe.packet_id = packet_id;
    codec::SubscribeEntry entry;
    entry.filter = std::string(filter);
    entry.qos = qos;
    subscribe.entries.push_back(std::move(entry));
    codec::encode(subscribe, _version, out);
}

}  // namespace tern::bench
