// Session QoS state machines: packet id allocation, the outgoing window and the queue.
#include "session.hpp"

#include <algorithm>

namespace tern::core {

Session::Session(std::string client_id, uint64_t uid, uint32_t loop)
    : _client_id(std::move(client_id)), _uid(uid), _loop(loop) {
    subscriber.client_id = &_client_id;
}

Session::QosFlows& Session::flows() {
    if (!_flows) {
        _flows = std::make_unique<QosFlows>();
    }
    return *_flows;
}

const Session::InflightOrder& Session::inflight_in_order() const {
    static const InflightOrder kNone;
    return _flows ? _flows->order : kNone;
}

std::size_t Session::window() const noexcept {
    // The client's Receive Maximum caps how many QoS 1/2 PUBLISHes may be unacknowledged
    // [MQTT-3.3.4-7]; our own max_inflight caps it further.
    return std::min<std::size_t>(client_receive_maximum, limits.max_inflight);
}

bool Session::enqueue(OutgoingMessage message, std::vector<OutgoingMessage>* evicted,
                      uint32_t headroom) {
    const uint64_t bytes = message.message->payload.size() + message.message->topic.size();
    auto full = [&] {
        const bool over_count = limits.max_queued_messages != 0 &&
                                _queue.size() >= uint64_t{limits.max_queued_messages} * headroom;
        const bool over_bytes = limits.max_queued_bytes != 0 &&
                                _queued_bytes + bytes > limits.max_queued_bytes * headroom;
        return over_count || over_bytes;
    };
    if (full()) {
        if (limits.queue_full_policy == QueueFullPolicy::RefuseNewest || _queue.empty()) {
            ++_dropped;
            return false;
        }
        // Drop the oldest messages until the new one fits.
        while (!_queue.empty() && full()) {
            OutgoingMessage& oldest = _queue.front();
            _queued_bytes -= oldest.message->payload.size() + oldest.message->topic.size();
            ++_dropped;
            if (evicted != nullptr) {
                evicted->push_back(std::move(oldest));
            }
            _queue.pop_front();
        }
        if (full()) {
            ++_dropped;
            return false;
        }
    }
    _queued_bytes += bytes;
    _queue.push_back(std::move(message));
    return true;
}

bool Session::can_send_directly() const noexcept {
    return _queue.empty() && inflight_count() < window();
}

std::optional<OutgoingMessage> Session::next_sendable(MonoMillis now, uint16_t& packet_id) {
    while (!_queue.empty()) {
        OutgoingMessage& front = _queue.front();
        if (front.qos > 0 && inflight_count() >= window()) {
            return std::nullopt;
        }
        OutgoingMessage message = std::move(front);
        _queue.pop_front();
        _queued_bytes -= message.message->payload.size() + message.message->topic.size();
        // An expired message is not forwarded [MQTT-3.3.2-5].
        if (message.message->expired(now)) {
            continue;
        }
        packet_id = message.qos > 0 ? track_inflight(message) : 0;
        return message;
    }
    return std::nullopt;
}

uint16_t Session::next_packet_id() {
    // Packet ids are non-zero [MQTT-2.2.1-3] and not reused while in flight [MQTT-2.2.1-2].
    for (;;) {
        _last_packet_id = static_cast<uint16_t>(_last_packet_id + 1);
        if (_last_packet_id == 0) {
            continue;
        }
        if (!_flows || !_flows->inflight.contains(_last_packet_id)) {
            return _last_packet_id;
        }
    }
}

uint16_t Session::track_inflight(OutgoingMessage message) {
    const uint16_t id = next_packet_id();
    InflightMessage entry;
    entry.state = message.qos == 1 ? InflightMessage::State::AwaitingPuback
                                   : InflightMessage::State::AwaitingPubrec;
    entry.outgoing = std::move(message);
    QosFlows& flows = this->flows();
    const uint64_t seq = ++_send_seq;
    flows.inflight.emplace(id, seq);
    flows.order.emplace(seq, std::make_pair(id, std::move(entry)));
    return id;
}

AckOutcome Session::on_puback(uint16_t packet_id) {
    if (!_flows) {
        return AckOutcome::Ignored;
    }
    auto it = _flows->inflight.find(packet_id);
    if (it == _flows->inflight.end()) {
        return AckOutcome::Ignored;
    }
    auto order = _flows->order.find(it->second);
    if (order->second.second.state != InflightMessage::State::AwaitingPuback) {
        return AckOutcome::Ignored;
    }
    _flows->order.erase(order);
    _flows->inflight.erase(it);
    return AckOutcome::Completed;
}

AckOutcome Session::on_pubrec(uint16_t packet_id, bool failed) {
    if (!_flows) {
        return AckOutcome::Ignored;
    }
    auto it = _flows->inflight.find(packet_id);
    if (it == _flows->inflight.end()) {
        return AckOutcome::Ignored;
    }
    auto order = _flows->order.find(it->second);
    InflightMessage& entry = order->second.second;
    if (entry.state == InflightMessage::State::AwaitingPubcomp) {
        // A repeated PUBREC: answer with PUBREL again.
        return AckOutcome::SendPubrel;
    }
    if (entry.state != InflightMessage::State::AwaitingPubrec) {
        return AckOutcome::Ignored;
    }
    if (failed) {
        // A PUBREC with a failure reason ends the exchange; no PUBREL follows [MQTT-4.3.3-4].
        _flows->order.erase(order);
        _flows->inflight.erase(it);
        return AckOutcome::Completed;
    }
    // The message is no longer needed once PUBREC arrived [MQTT-4.3.3-?]; keep only the id.
    entry.state = InflightMessage::State::AwaitingPubcomp;
    return AckOutcome::SendPubrel;
}

AckOutcome Session::on_pubcomp(uint16_t packet_id) {
    if (!_flows) {
        return AckOutcome::Ignored;
    }
    auto it = _flows->inflight.find(packet_id);
    if (it == _flows->inflight.end()) {
        return AckOutcome::Ignored;
    }
    auto order = _flows->order.find(it->second);
    if (order->second.second.state != InflightMessage::State::AwaitingPubcomp) {
        return AckOutcome::Ignored;
    }
    _flows->order.erase(order);
    _flows->inflight.erase(it);
    return AckOutcome::Completed;
}

bool Session::on_incoming_qos2(uint16_t packet_id) {
    return flows().incoming_qos2.insert(packet_id).second;
}

bool Session::on_pubrel(uint16_t packet_id) {
    return _flows && _flows->incoming_qos2.erase(packet_id) > 0;
}

void Session::restore_inflight(uint16_t packet_id, InflightMessage::State state,
                               OutgoingMessage message) {
    InflightMessage entry;
    entry.state = state;
    entry.outgoing = std::move(message);
    QosFlows& flows = this->flows();
    const uint64_t seq = ++_send_seq;
    flows.inflight.emplace(packet_id, seq);
    flows.order.emplace(seq, std::make_pair(packet_id, std::move(entry)));
    _last_packet_id = std::max(_last_packet_id, packet_id);
}

const InflightMessage* Session::find_inflight(uint16_t packet_id) const {
    if (!_flows) {
        return nullptr;
    }
    auto it = _flows->inflight.find(packet_id);
    if (it == _flows->inflight.end()) {
        return nullptr;
    }
    return &_flows->order.at(it->second).second;
}

void Session::clear_state() {
    _queue.clear();
    _queued_bytes = 0;
    _flows.reset();
    subscriptions.clear();
    will.reset();
}

}  // namespace tern::core
