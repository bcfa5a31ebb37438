// Packet dispatch: decodes one frame and hands it to the handler of its packet family.
#include <spdlog/spdlog.h>

#include "broker.hpp"
#include "connection.hpp"
#include "worker_loop.hpp"

namespace tern::net {

bool Connection::handle_frame(const codec::FrameHeader& header, std::span<const uint8_t> frame,
                              std::span<const uint8_t> after) {
    const auto body = frame.subspan(header.header_size);
    const codec::PacketType type = header.type();
    if (!_connect_received && type != codec::PacketType::Connect) {
        // The first packet from a client must be CONNECT [MQTT-3.1.0-1].
        close("first packet is not CONNECT");
        return false;
    }
    if (_connect_received && type == codec::PacketType::Connect) {
        // A second CONNECT is a protocol violation [MQTT-3.1.0-2].
        return protocol_error(codec::ReasonCode::ProtocolError, "second CONNECT");
    }
    const bool ack = type == codec::PacketType::Puback || type == codec::PacketType::Pubrec ||
                     type == codec::PacketType::Pubrel || type == codec::PacketType::Pubcomp;
    if (ack && body.size() <= 3) {
        // The hot path's acknowledgements: no properties, so no Ack or Packet to build.
        codec::AckHead head;
        if (auto error = codec::decode_short_ack(header, body, _version, head)) {
            return protocol_error(error->code, error->reason);
        }
        return handle_ack(head);
    }
    PacketScratch::Lease lease(_loop.packet_scratch());
    codec::Packet& packet = lease.packet();
    if (auto error = codec::decode_packet(header, body, _version, packet)) {
        if (type == codec::PacketType::Connect) {
            _connect_received = true;
            if (error->code == codec::ReasonCode::UnsupportedProtocolVersion) {
                // Answer an unknown protocol level with CONNACK 0x01 and close [MQTT-3.1.2-2].
                codec::Connack refuse;
                refuse.reason_code =
                    static_cast<uint8_t>(codec::ConnectReturnCode::UnacceptableProtocolVersion);
                _version = codec::ProtocolVersion::V311;
                send_packet(refuse);
            }
            close(error->reason);
            return false;
        }
        return protocol_error(error->code, error->reason);
    }
    switch (type) {
        case codec::PacketType::Connect:
            return handle_connect(std::get<codec::Connect>(packet), frame, after);
        case codec::PacketType::Publish:
            return handle_publish(std::get<codec::Publish>(packet));
        case codec::PacketType::Puback:
        case codec::PacketType::Pubrec:
        case codec::PacketType::Pubrel:
        case codec::PacketType::Pubcomp: {
            const auto& full = std::get<codec::Ack>(packet);
            return handle_ack(codec::AckHead{full.type, full.packet_id, full.reason_code});
        }
        case codec::PacketType::Subscribe:
            return handle_subscribe(std::get<codec::Subscribe>(packet));
        case codec::PacketType::Unsubscribe:
            return handle_unsubscribe(std::get<codec::Unsubscribe>(packet));
        case codec::PacketType::Pingreq:
            // [MQTT-3.12.4-1]
            send_packet(codec::Pingresp{});
            return true;
        case codec::PacketType::Disconnect:
            return handle_disconnect(std::get<codec::Disconnect>(packet));
        case codec::PacketType::Auth:
            return handle_auth(std::get<codec::Auth>(packet));
        default:
            // CONNACK, SUBACK, UNSUBACK and PINGRESP only travel from server to client.
            return protocol_error(
                codec::ReasonCode::ProtocolError,
                std::string(codec::packet_type_name(type)) + " is not sent by clients");
    }
}

}  // namespace tern::net
