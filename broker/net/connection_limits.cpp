// Abuse limits on connections: per-address admission, the publish rate, and the memory cap's
// accounting of connection buffers and session queues.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <memory>

#include "broker.hpp"
#include "connection.hpp"
#include "worker_loop.hpp"

namespace tern::net {

namespace {

constexpr core::MonoMillis kRefusalLogIntervalMs = 10'000;
// Bytes one connection may read per loop iteration. Small enough that a flooding client holds
// the loop for a fraction of a millisecond per turn; libuv itself would read up to 32 buffers
// of 64 KiB from one socket per turn.
constexpr uint32_t kReadBudgetPerIteration = 16 * 1024;

}  // namespace

bool Connection::admit() {
    IpLimiter& limiter = _loop.broker().ip_limiter();
    if (!limiter.enabled()) {
        return true;
    }
    const auto address = IpLimiter::parse_peer(_peer);
    if (!address) {
        return true;  // the peer was already gone ("?"): its first read will fail
    }
    const core::MonoMillis now = _loop.now();
    const IpLimiter::Verdict verdict = limiter.try_admit(*address, now);
    if (verdict == IpLimiter::Verdict::Admitted) {
        _ip_counted = true;
        return true;
    }
    const bool too_many = verdict == IpLimiter::Verdict::TooMany;
    LoopStats::add(too_many ? _loop.stats().refused_per_ip : _loop.stats().refused_rate, 1);
    uint64_t suppressed = 0;
    if (limiter.should_log_refusal(now, kRefusalLogIntervalMs, suppressed)) {
        spdlog::warn("client ({}): connection refused: {}; {} other refusal(s) not logged", _peer,
                     too_many ? "too many connections from this address "
                                "(limits.max_connections_per_ip)"
                              : "connecting too often from this address "
                                "(limits.connection_rate_per_ip)",
                     suppressed);
    }
    // Nothing can be answered before a CONNECT, and reading one would already spend what the
    // limit protects. A reset (SO_LINGER 0) frees the socket at once and leaves no TIME_WAIT
    // state behind on the broker's side.
    _closing = true;
    _phase_since = now;
    _will_on_close = false;
    _handle_closed = true;
    if (uv_tcp_close_reset(&_handle, &Connection::on_close) != 0) {
        uv_close(reinterpret_cast<uv_handle_t*>(&_handle), &Connection::on_close);
    }
    return false;
}

void Connection::track_memory() noexcept {
    MemoryBudget& memory = _loop.broker().memory();
    if (!memory.enabled()) {
        return;
    }
    const uint64_t bytes = pending_output() + _pending.size();
    if (bytes != _tracked_bytes) {
        memory.add(_loop.index(),
                   static_cast<int64_t>(bytes) - static_cast<int64_t>(_tracked_bytes));
        _tracked_bytes = bytes;
    }
}

void Connection::release_limits() noexcept {
    if (_tracked_bytes != 0) {
        _loop.broker().memory().add(_loop.index(), -static_cast<int64_t>(_tracked_bytes));
        _tracked_bytes = 0;
    }
    if (_ip_counted) {
        // A connection that moved to another loop handed its count over (migrate_to).
        _ip_counted = false;
        _loop.broker().ip_limiter().release_peer(_peer, _loop.now());
    }
}

void WorkerLoop::track_queue_memory(SessionSlot& slot) noexcept {
    MemoryBudget& memory = _broker.memory();
    if (!memory.enabled()) {
        return;
    }
    const uint64_t bytes = slot.session.queued_bytes();
    if (bytes != slot.tracked_queue_bytes) {
        memory.add(_index,
                   static_cast<int64_t>(bytes) - static_cast<int64_t>(slot.tracked_queue_bytes));
        slot.tracked_queue_bytes = bytes;
    }
}

std::size_t Connection::read_allowance(std::size_t size) noexcept {
    if (reads_held()) {
        return 0;
    }
    const uint32_t epoch = _loop.read_epoch();
    if (_read_epoch != epoch) {
        _read_epoch = epoch;
        _read_used = 0;
    }
    if (_read_used >= kReadBudgetPerIteration) {
        return 0;
    }
    return std::min<std::size_t>(size, kReadBudgetPerIteration - _read_used);
}

bool Connection::memory_allows(const codec::Connect& connect) {
    if (!_loop.broker().memory().shedding()) {
        return true;
    }
    // Resuming a stored session lets its client drain the queue that holds memory: refusing it
    // would keep the broker over the cap for good.
    if (!connect.clean_start && _loop.find_session(connect.client_id) != nullptr) {
        return true;
    }
    LoopStats::add(_loop.stats().refused_memory, 1);
    return false;
}

bool Connection::refuse_over_limits(const codec::Publish& publish, codec::PacketType ack_type) {
    Broker& broker = _loop.broker();
    const core::LimitSettings& limits = broker.settings().limits;
    const core::MonoMillis now = _loop.now();
    bool rate_limited = false;
    if (limits.max_publish_rate != 0 || limits.max_publish_bytes_rate != 0) {
        if (!_publish_quota) {
            _publish_quota = std::make_unique<PublishQuota>(limits.max_publish_rate,
                                                            limits.max_publish_bytes_rate, now);
        }
        rate_limited =
            !_publish_quota->try_take(publish.topic.size() + publish.payload.size(),
                                      limits.max_publish_rate, limits.max_publish_bytes_rate, now);
    }
    // Over the memory cap only QoS 0 is still taken: QoS 1/2 messages are what session queues
    // hold on to, and their publishers learn of the refusal (MQTT 5) and may retry later.
    const bool shed = !rate_limited && publish.qos > 0 && broker.memory().shedding();
    if (!rate_limited && !shed) {
        return false;
    }
    core::Session& session = _slot->session;
    if (publish.qos == 2) {
        if (!session.on_incoming_qos2(publish.packet_id)) {
            // A retransmission of a QoS 2 PUBLISH accepted before: it already has its PUBREC,
            // and must not be taken for a new message [MQTT-4.3.3-9].
            ack_publish(ack_type, publish.packet_id, codec::ReasonCode::Success);
            return true;
        }
        if (_version == codec::ProtocolVersion::V5) {
            // A PUBREC with a failure code ends the exchange: no PUBREL follows for this id.
            // (MQTT 3.1.1 gets a plain PUBREC below: its exchange goes on to PUBREL/PUBCOMP.)
            session.on_pubrel(publish.packet_id);
        }
    }
    LoopStats::add(_loop.stats().publish_dropped, 1);
    LoopStats::add(rate_limited ? _loop.stats().rate_limited : _loop.stats().shed, 1);
    if (publish.qos > 0) {
        // MQTT 5 refuses with 0x97 Quota exceeded. MQTT 3.1/3.1.1 acknowledgements carry no
        // reason, so the PUBLISH is acknowledged and dropped (counted, logged), as EMQX does for
        // its per-client publish limits and as this broker does for an ACL refusal: withholding
        // the acknowledgement would hold the packet id (and the client's window) until a
        // reconnect, and disconnecting would make a persistent client resend the same burst on
        // reconnection, a reconnect storm the per-address limits would then have to absorb.
        ack_publish(ack_type, publish.packet_id,
                    _version == codec::ProtocolVersion::V5 ? codec::ReasonCode::QuotaExceeded
                                                           : codec::ReasonCode::Success);
    }
    uint64_t refused = 0;
    if (rate_limited && _publish_quota->count_refusal(now, refused)) {
        spdlog::warn(
            "client {} ({}): publishing faster than limits.max_publish_rate / "
            "max_publish_bytes_rate; {} PUBLISH(es) refused since the last report",
            session.client_id(), _peer, refused);
    }
    return true;
}

}  // namespace tern::net
