// A WebSocket client of the bridge's /ws JSON protocol: opening handshake, one subscribe
// command, then the server's unmasked frames parsed as they arrive.
#pragma once

#include <cstdint>
#include <random>
#include <string>

#include "web_client.hpp"

namespace tern::bridge_bench {

class WsClient final : public WebClient {
  public:
    WsClient(ClientLoop& loop, uint32_t group, std::string filter, std::string host_header,
             std::string authorization, uint32_t seed);

  protected:
    std::string request() const override;
    bool on_head(int status, std::string_view head) override;
    void on_body(char* data, std::size_t size) override;

  private:
    // Handles the whole frames at the start of `data`; returns the bytes used.
    std::size_t scan(char* data, std::size_t size);
    void on_frame(uint8_t opcode, bool fin, char* payload, std::size_t size);
    void on_text(std::string_view text);
    void send_frame(uint8_t opcode, std::string_view payload);

    std::string _host_header;
    std::string _authorization;
    std::string _key;  // Sec-WebSocket-Key
    std::mt19937 _random;
    std::string _partial;    // a frame that has not fully arrived
    std::string _fragments;  // a fragmented text message being joined
    bool _in_fragments = false;
    bool _error_body = false;
    int _status = 0;
};

}  // namespace tern::bridge_bench
