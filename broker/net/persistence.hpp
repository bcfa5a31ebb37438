// A worker loop's side of durable storage: one write batch per loop iteration, group-committed
// by the store's writer thread, and the acknowledgements that wait for it.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include "ack_barrier.hpp"
#include "core/message.hpp"
#include "core/session.hpp"
#include "storage/store.hpp"

namespace tern::net {

class WorkerLoop;

class Persistence {
  public:
    Persistence(WorkerLoop& loop, storage::Store* store) : _loop(loop), _store(store) {}

    bool enabled() const noexcept { return _store != nullptr; }
    // Set once at start-up, before the loop runs.
    void set_store(storage::Store* store) noexcept { _store = store; }

    // Adds a change to this iteration's batch. With a barrier, the barrier is held until the
    // batch is durable (the loop's publish token is only noted: see
    // WorkerLoop::publishing_barrier()).
    void add(storage::WriteBatch::Op&& op, const AckBarrierPtr& barrier = nullptr);
    // Holds `barrier` until this iteration's batch is durable.
    void hold_until_committed(const AckBarrierPtr& barrier);

    // Acknowledgements that wait for this loop's own writes wait by batch number instead of
    // through a barrier: the number of this iteration's batch, and how many of the loop's
    // batches are durable (loop thread; batches complete in order).
    uint64_t current_batch() const noexcept { return _submitted + 1; }
    uint64_t committed_batches() const noexcept { return _committed; }
    // Tells connection `connection_id` (WorkerLoop::acks_ready) once this iteration's batch is
    // durable.
    void notify_when_committed(uint64_t connection_id);

    // Runs `action` on this loop once everything added so far is durable.
    void after_commit(std::function<void()> action);

    // This iteration's batch, and with it every batch submitted before (the publishing loop's,
    // which may hold this loop's queue entries), is written without the store's write delay.
    void write_soon();

    // Submits this iteration's batch (called once per loop iteration).
    void submit();

    // Session records.
    void put_session(const core::Session& session, core::MonoMillis now, bool connected,
                     const AckBarrierPtr& barrier = nullptr);
    void erase_session(const std::string& client_id);

    // Conversions between the broker's messages and stored records.
    static storage::MessageRecord to_record(const core::Message& message, core::MonoMillis now);
    static core::MessagePtr from_record(storage::MessageRecord&& record, core::MonoMillis now);
    // A queue entry's write: the message itself, encoded by the writer if the entry is written
    // (with subscription identifiers, encoded here: they live in the delivery, not the message).
    static storage::WriteBatch::PutQueued put_queued(const std::string& client_id,
                                                     const core::OutgoingMessage& outgoing,
                                                     storage::QueuedRecord::State state,
                                                     uint16_t packet_id, core::MonoMillis now,
                                                     bool creates = false);

  private:
    // Nothing to submit this iteration (yet).
    bool idle() const noexcept {
        return _batch.empty() && _barriers.empty() && _after_commit.empty() && _notify.empty() &&
               !_write_soon;
    }

    WorkerLoop& _loop;
    storage::Store* _store;
    storage::WriteBatch _batch;
    std::vector<AckBarrierPtr> _barriers;
    std::vector<std::function<void()>> _after_commit;
    std::vector<uint64_t> _notify;  // connections told when this iteration's batch is durable
    uint64_t _submitted = 0;        // batches submitted
    uint64_t _committed = 0;        // of which durable (as far as this loop has heard)
    bool _write_soon = false;
    std::size_t _last_batch_ops = 8;  // the size of the last batch, reserved for the next
};

}  // namespace tern::net
