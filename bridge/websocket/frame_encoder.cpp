// Frame headers in their minimal length form, unmasked server frames and masked client frames.
#include "websocket/frame_encoder.hpp"

#include <stdexcept>

namespace tern::websocket {

namespace {

void check_frame(Opcode opcode, uint64_t payload_size, bool fin) {
    if (!is_known_opcode(static_cast<uint8_t>(opcode))) {
        throw std::invalid_argument("websocket: unknown opcode");
    }
    if (is_control(opcode) && (!fin || payload_size > kMaxControlPayload)) {
        throw std::invalid_argument(
            "websocket: a control frame is unfragmented and carries at most 125 bytes");
    }
}

// Writes the header with the mask bit given by `mask_bit` (0x80 or 0).
void write_header(std::string& out, Opcode opcode, uint64_t payload_size, bool fin,
                  uint8_t mask_bit) {
    check_frame(opcode, payload_size, fin);
    out.push_back(static_cast<char>((fin ? 0x80 : 0x00) | static_cast<uint8_t>(opcode)));
    if (payload_size < 126) {
        out.push_back(static_cast<char>(mask_bit | payload_size));
        return;
    }
    const int bytes = payload_size <= 0xFFFF ? 2 : 8;
    out.push_back(static_cast<char>(mask_bit | (bytes == 2 ? 126 : 127)));
    for (int shift = (bytes - 1) * 8; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((payload_size >> shift) & 0xFF));
    }
}

}  // namespace

std::size_t frame_header_size(uint64_t payload_size) noexcept {
    return payload_size < 126 ? 2 : payload_size <= 0xFFFF ? 4 : 10;
}

void append_frame_header(std::string& out, Opcode opcode, uint64_t payload_size, bool fin) {
    write_header(out, opcode, payload_size, fin, 0);
}

void append_frame(std::string& out, Opcode opcode, std::span<const uint8_t> payload, bool fin) {
    out.reserve(out.size() + frame_header_size(payload.size()) + payload.size());
    write_header(out, opcode, payload.size(), fin, 0);
    out.append(reinterpret_cast<const char*>(payload.data()), payload.size());
}

void append_frame(std::string& out, Opcode opcode, std::string_view payload, bool fin) {
    append_frame(out, opcode, {reinterpret_cast<const uint8_t*>(payload.data()), payload.size()},
                 fin);
}

void append_close(std::string& out, uint16_t code, std::string_view reason) {
    if (!is_valid_close_code(code)) {
        // 1005, 1006 and 1015 stand for "no code" and must not be sent (§7.4.1).
        write_header(out, Opcode::Close, 0, true, 0);
        return;
    }
    const std::string_view kept = utf8_prefix(reason, kMaxCloseReason);
    write_header(out, Opcode::Close, 2 + kept.size(), true, 0);
    out.push_back(static_cast<char>(code >> 8));
    out.push_back(static_cast<char>(code & 0xFF));
    out.append(kept);
}

void append_masked_frame(std::string& out, Opcode opcode, std::span<const uint8_t> payload,
                         const MaskKey& key, bool fin) {
    write_header(out, opcode, payload.size(), fin, 0x80);
    out.append(reinterpret_cast<const char*>(key.data()), key.size());
    const std::size_t start = out.size();
    out.resize(start + payload.size());
    copy_masked(payload.data(), reinterpret_cast<uint8_t*>(out.data() + start), payload.size(), key,
                0);
}

std::string_view utf8_prefix(std::string_view text, std::size_t max_size) noexcept {
    if (text.size() <= max_size) {
        return text;
    }
    std::size_t size = max_size;
    // Back off over continuation bytes so the cut falls before a lead byte.
    while (size > 0 && (static_cast<uint8_t>(text[size]) & 0xC0) == 0x80) {
        --size;
    }
    return text.substr(0, size);
}

}  // namespace tern::websocket
