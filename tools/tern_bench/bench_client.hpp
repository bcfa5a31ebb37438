// One load connection: a publisher, a subscriber or an idle client, from TCP connect to DISCONNECT.
#pragma once

#include <netinet/in.h>
#include <uv.h>

#include <optional>
#include <string>
#include <vector>

#include "publish_template.hpp"
#include "publisher_flow.hpp"
#include "run_state.hpp"
#include "stream_connection.hpp"
#include "topology.hpp"

namespace tern::bench {

class LoadLoop;

// Lives on one LoadLoop and is driven only by it. Publishers produce in batches when the loop
// asks (produce()); subscribers count, check and acknowledge what arrives. Errors are reported
// to the loop, which decides whether they matter (not while closing).
class BenchClient final : public StreamConnection {
  public:
    BenchClient(LoadLoop& loop, const ClientSpec& spec);

    Role role() const noexcept { return _spec.role; }
    const std::string& client_id() const noexcept { return _spec.client_id; }
    bool ready() const noexcept { return _state == State::Ready; }
    int source_ip() const noexcept { return _spec.source_ip; }

    // Starts the TCP connection, bound to `source` when given. Failures are reported through
    // the loop (now or from the connect callback).
    void connect(const sockaddr_in& target, const sockaddr_in* source);

    // Publishers: rate accounting starts at `start_ns`.
    void start_publishing(uint64_t start_ns);

    // Publishers: appends the messages the flow allows now. True when the batch limit (not the
    // window, rate, acks or socket) stopped it, i.e. more could be sent right away.
    bool produce(uint64_t now_ns);

    // Sends PINGREQ when nothing was sent for a keep-alive period [MQTT-3.1.2-23].
    void keep_alive(uint64_t now_ns);

    // Sends DISCONNECT when connected, then closes. Safe in any state.
    void shutdown();

    uint64_t stalls() const noexcept { return _flow ? _flow->stalls() : 0; }

  protected:
    void on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) override;
    void on_data_arrived() override;
    void on_stream_error(const std::string& reason) override;
    void on_write_done() override;

  private:
    enum class State { Idle, Connecting, AwaitConnack, AwaitSuback, Ready, Closed };

    static void on_connect(uv_connect_t* request, int status) noexcept;
    int bind_source(const sockaddr_in& source);

    void on_connack(const codec::FrameHeader& header, std::span<const uint8_t> body);
    void on_suback(const codec::FrameHeader& header, std::span<const uint8_t> body);
    void on_publish(const codec::FrameHeader& header, std::span<const uint8_t> body);
    void on_ack(codec::PacketType type, std::span<const uint8_t> body);
    void become_ready();
    void protocol_error(const std::string& reason);
    Link* incoming_link(uint32_t publisher_id) const noexcept;
    uint32_t delivered() const noexcept;

    LoadLoop& _loop;
    const ClientSpec& _spec;
    State _state = State::Idle;
    uv_connect_t _connect_request{};
    std::vector<Link*> _links;               // publisher: outgoing; subscriber: incoming
    std::vector<Link*> _links_by_publisher;  // subscriber with several publishers: by id
    std::optional<PublishTemplate> _template;
    std::optional<PublisherFlow> _flow;
    uint64_t _last_send_ns = 0;
    uint64_t _read_ns = 0;
    uint32_t _max_batch = 1;
    bool _publishing = false;
};

}  // namespace tern::bench
