// What the store interface itself defines: wall-clock time, latency bounds and the store factory.
#include "store.hpp"

#include <chrono>

#include "serialization.hpp"

namespace tern::storage {

UnixMillis unix_now_ms() noexcept {
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<UnixMillis>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

WriteBatch::PutQueued::PutQueued(std::string owner, const QueuedRecord& entry, bool first_write)
    : PutQueued(std::move(owner), entry.seq, encode_queued(entry), first_write) {}

std::string_view WriteBatch::PutQueued::encoded(std::string& scratch) const {
    if (!message) {
        return value;
    }
    encode(*message, fields, {}, scratch);
    return scratch;
}

void WriteBatch::PutQueued::encode(const core::Message& message, const Fields& fields,
                                   std::span<const uint32_t> subscription_ids, std::string& out) {
    QueuedView view;
    view.qos = fields.qos;
    view.retain = fields.retain;
    view.state = fields.state;
    view.packet_id = fields.packet_id;
    view.subscription_ids = subscription_ids;
    view.message = MessageView{message.topic,
                               message.payload,
                               message.qos,
                               message.retain,
                               message.shared_properties().pointer(),
                               fields.expires_at};
    encode_queued(view, out);
}

const std::vector<uint64_t>& StoreStats::latency_bounds_us() {
    static const std::vector<uint64_t> kBounds{50,      100,     250,     500,      1'000,
                                               2'500,   5'000,   10'000,  25'000,   50'000,
                                               100'000, 250'000, 500'000, 1'000'000};
    return kBounds;
}

std::unique_ptr<Store> open_store(const StorageSettings& settings) {
    if (settings.durability == Durability::Memory) {
        return make_memory_store(settings);
    }
    return open_rocksdb_store(settings);
}

}  // namespace tern::storage
