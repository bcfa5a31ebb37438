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
    // batch is durable.
    void add(storage::WriteBatch::Op op, const AckBarrierPtr& barrier = nullptr);

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
    WorkerLoop& _loop;
    storage::Store* _store;
    storage::WriteBatch _batch;
    std::vector<AckBarrierPtr> _barriers;
    std::vector<std::function<void()>> _after_commit;
    bool _write_soon = false;
    std::size_t _last_batch_ops = 8;  // the size of the last batch, reserved for the next
};

}  // namespace tern::net
