// The packet type of each packet value.
#include "packets.hpp"

#include <type_traits>

namespace tern::codec {

PacketType packet_type(const Packet& packet) noexcept {
    return std::visit(
        [](const auto& value) noexcept -> PacketType {
            using T = std::decay_t<decltype(value)>;
            if constexpr (std::is_same_v<T, Connect>) {
                return PacketType::Connect;
            } else if constexpr (std::is_same_v<T, Connack>) {
                return PacketType::Connack;
            } else if constexpr (std::is_same_v<T, Publish>) {
                return PacketType::Publish;
            } else if constexpr (std::is_same_v<T, Ack>) {
                // PUBACK, PUBREC, PUBREL and PUBCOMP share the Ack shape; the value says which.
                return value.type;
            } else if constexpr (std::is_same_v<T, Subscribe>) {
                return PacketType::Subscribe;
            } else if constexpr (std::is_same_v<T, Suback>) {
                return PacketType::Suback;
            } else if constexpr (std::is_same_v<T, Unsubscribe>) {
                return PacketType::Unsubscribe;
            } else if constexpr (std::is_same_v<T, Unsuback>) {
                return PacketType::Unsuback;
            } else if constexpr (std::is_same_v<T, Pingreq>) {
                return PacketType::Pingreq;
            } else if constexpr (std::is_same_v<T, Pingresp>) {
                return PacketType::Pingresp;
            } else if constexpr (std::is_same_v<T, Disconnect>) {
                return PacketType::Disconnect;
            } else {
                static_assert(std::is_same_v<T, Auth>);
                return PacketType::Auth;
            }
        },
        packet);
}

}  // namespace tern::codec
