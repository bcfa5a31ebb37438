// The decoded packet a loop lends to each frame it handles, so that frames do not build their own.
#pragma once

#include <optional>
#include <string>
#include <variant>

#include "codec/packets.hpp"

namespace tern::net {

// Decoding every frame into a fresh codec::Packet cost ~6% of the broker's CPU in 50 pairs
// QoS 1 (perf annotate, `rep stos` in handle_frame and decode_publish): building the variant and
// emplacing a Publish value-initialize them, and each zero-fills its whole object first (the
// variant is 1.2 KB; a Publish 560 bytes, 488 of them its property set). The decoder reuses the
// Publish a Packet already holds (codec's reuse_publish), so each loop keeps one Packet and lends
// it to one frame at a time. A frame handled while another one is (not expected, but nothing
// forbids it) gets a Packet of its own.
class PacketScratch {
  public:
    class Lease {
      public:
        explicit Lease(PacketScratch& scratch) : _scratch(scratch) {
            if (scratch._lent) {
                _own.emplace();
            } else {
                scratch._lent = true;
            }
        }
        ~Lease() {
            if (!_own) {
                _scratch.release();
            }
        }
        Lease(const Lease&) = delete;
        Lease& operator=(const Lease&) = delete;

        codec::Packet& packet() noexcept { return _own ? *_own : _scratch._packet; }

      private:
        PacketScratch& _scratch;
        std::optional<codec::Packet> _own;  // set when the loop's Packet was lent already
    };

  private:
    // The Publish keeps its payload buffer for the next frame (make_message copies the bytes
    // out); beyond this size it is freed instead.
    static constexpr std::size_t kKeptPayloadCapacity = 64 * 1024;

    // Keeps only what the next frame reuses: a Publish and its small strings. Any other packet
    // is dropped now, as a frame's own Packet was (a CONNECT's password does not linger).
    void release() noexcept {
        _lent = false;
        if (auto* publish = std::get_if<codec::Publish>(&_packet)) {
            if (publish->payload.capacity() > kKeptPayloadCapacity) {
                std::string().swap(publish->payload);
            }
            return;
        }
        if (!std::holds_alternative<codec::Pingreq>(_packet)) {
            _packet.emplace<codec::Pingreq>();
        }
    }

    codec::Packet _packet;
    bool _lent = false;
};

}  // namespace tern::net
