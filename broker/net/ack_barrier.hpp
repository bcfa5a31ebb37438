// An acknowledgement (PUBACK, PUBREC, SUBACK, ...) that waits until the writes it depends on are
// durable, possibly on several loops' storage batches.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <type_traits>
#include <utility>

#include "codec/packets.hpp"

namespace tern::net {

class WorkerLoop;

// What an acknowledgement barrier sends once released: a plain acknowledgement (PUBACK, PUBREC,
// PUBCOMP without properties: the per-message case, kept inline) or any other packet (SUBACK,
// UNSUBACK, an acknowledgement with a reason string), kept on the heap.
class Acknowledgement {
  public:
    Acknowledgement() = default;
    Acknowledgement(codec::AckHead head) : _head(head) {}  // NOLINT(google-explicit-constructor)
    template <typename Packet>
    requires(!std::is_same_v<std::decay_t<Packet>, codec::AckHead> &&
             !std::is_same_v<std::decay_t<Packet>, Acknowledgement> &&
             std::is_constructible_v<codec::Packet, Packet&&>)
        Acknowledgement(Packet&& packet)  // NOLINT(google-explicit-constructor)
        : _packet(std::make_unique<codec::Packet>(std::forward<Packet>(packet))) {}

    // The packet when it is not a plain acknowledgement, else null (then head() is the ack).
    const codec::Packet* packet() const noexcept { return _packet.get(); }
    const codec::AckHead& head() const noexcept { return _head; }

  private:
    codec::AckHead _head;
    std::unique_ptr<codec::Packet> _packet;
};

// Created by the connection that owes the acknowledgement, holding one count; every storage
// batch that carries a write the acknowledgement depends on holds another. When the count drops
// to zero the owner loop is told, and the connection sends its ready acknowledgements in order
// [MQTT-4.6.0-2, 4.6.0-3].
class AckBarrier : public std::enable_shared_from_this<AckBarrier> {
  public:
    AckBarrier(WorkerLoop& loop, uint64_t connection_id, Acknowledgement ack)
        : _loop(loop), _connection_id(connection_id), _ack(std::move(ack)) {}

    // Thread-safe.
    void hold() noexcept { _pending.fetch_add(1, std::memory_order_relaxed); }
    // Thread-safe. The last release tells the owner loop (through its inbox unless `inline_ok`
    // and the caller is on the owner loop, in which case it returns true and does nothing else).
    bool release(bool on_owner_loop = false);
    // Thread-safe, for the storage writer releasing many barriers at once: the same as release()
    // from another thread, except that a plain acknowledgement becoming ready is not posted but
    // returned as true, so that the caller tells each owner loop once for all of them.
    bool release_batched();

    WorkerLoop& owner_loop() const noexcept { return _loop; }
    uint64_t connection_id() const noexcept { return _connection_id; }

    // Sets the acknowledgement (before the barrier is queued on its connection).
    void set_ack(Acknowledgement ack) { _ack = std::move(ack); }

    // When set, runs on the owner loop instead of sending an acknowledgement once the barrier is
    // released (chains a second write after the first ones are durable).
    std::function<void(WorkerLoop&)> on_ready;

    // Set when a delivery carried this barrier to another loop (owner loop only).
    bool crossed_loops = false;

    // Runs on the owner loop right after the acknowledgement was sent (retained messages follow
    // their SUBACK).
    std::function<void()> after_send;

    bool ready() const noexcept { return _pending.load(std::memory_order_acquire) == 0; }
    const Acknowledgement& ack() const noexcept { return _ack; }

  private:
    WorkerLoop& _loop;
    uint64_t _connection_id;
    Acknowledgement _ack;
    std::atomic<int> _pending{1};
};

using AckBarrierPtr = std::shared_ptr<AckBarrier>;

}  // namespace tern::net
