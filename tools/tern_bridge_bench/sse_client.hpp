// A Server-Sent Events client of GET /events?topic=FILTER: parses the event stream as it
// arrives and counts the message events.
#pragma once

#include <string>

#include "web_client.hpp"

namespace tern::bridge_bench {

class SseClient final : public WebClient {
  public:
    SseClient(ClientLoop& loop, uint32_t group, std::string filter, std::string host_header,
              std::string authorization, uint32_t conflate_ms);

  protected:
    std::string request() const override;
    bool on_head(int status, std::string_view head) override;
    void on_body(char* data, std::size_t size) override;

  private:
    // Handles the whole events at the start of `data`; returns the bytes used.
    std::size_t scan(std::string_view data);
    void on_event(std::string_view block);

    std::string _host_header;
    std::string _authorization;  // "Authorization: ...\r\n" or empty
    uint32_t _conflate_ms;
    std::string _partial;      // an event whose blank line has not arrived
    bool _error_body = false;  // a refused request: the body explains why
    int _status = 0;
};

// Percent-encodes a query value (RFC 3986 unreserved characters stay).
std::string url_encode(std::string_view text);

}  // namespace tern::bridge_bench
