// The MQTT side of the benchmark: publisher connections (MQTT 3.1.1, QoS 0) that publish the
// devices' telemetry at a fixed total rate, paced every millisecond (open loop).
#pragma once

#include <uv.h>

#include <array>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "bridge_bench_options.hpp"
#include "client_loop.hpp"
#include "packet_writer.hpp"
#include "stream_connection.hpp"

namespace tern::bridge_bench {

// One MQTT connection that the devices publish through.
class DevicePublisher final : public bench::StreamConnection {
  public:
    DevicePublisher(bench::IoContext& io, const bench::PacketWriter& writer, std::string client_id);

    // Connects and sends CONNECT; false with `error` when libuv refuses at once.
    bool connect(const sockaddr_in& target, std::string& error);
    bool ready() const noexcept { return _ready; }
    const std::string& error() const noexcept { return _error; }
    bool handle_closed() const noexcept { return _handle_closed; }

  protected:
    void on_packet(const codec::FrameHeader& header, std::span<const uint8_t> body) override;
    void on_stream_error(const std::string& reason) override;
    void on_handle_closed() override { _handle_closed = true; }

  private:
    static void on_connect(uv_connect_t* request, int status) noexcept;

    const bench::PacketWriter& _writer;
    std::string _client_id;
    uv_connect_t _connect{};
    bool _ready = false;
    bool _handle_closed = false;
    std::string _error;
};

// What the devices sent, and the deliveries that owes.
struct PublishTotals {
    uint64_t sent = 0;
    std::array<uint64_t, kKinds> expected{};  // per kind: each message times its live clients
    uint64_t late_ticks = 0;  // pacing ticks that found more than 50 ms of messages due
    uint64_t max_queued = 0;  // largest output queued on one publisher connection (bytes)
};

class DeviceFleet {
  public:
    DeviceFleet(const Options& options, bench::IoContext& io, SharedCounters& shared);

    void connect(std::string& error);
    // Every connection has its CONNACK; `error` is set when one failed.
    bool all_ready(std::string& error) const;
    // Sends what is due at `now_ns` since `start_ns` (CLOCK_MONOTONIC).
    void publish_due(uint64_t start_ns, uint64_t now_ns);
    void disconnect();
    bool all_closed() const;
    const PublishTotals& totals() const noexcept { return _totals; }

  private:
    void publish_one();

    const Options& _options;
    bench::IoContext& _io;
    SharedCounters& _shared;
    bench::PacketWriter _writer;
    std::vector<std::unique_ptr<DevicePublisher>> _connections;
    std::vector<std::string> _topics;  // per device
    std::vector<uint32_t> _groups;     // per device
    std::string _padding;
    PublishTotals _totals;
};

}  // namespace tern::bridge_bench
