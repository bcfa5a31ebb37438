// RocksDB start-up: load() applies the expiry and history rules while streaming the state; and
// inspect(), the untouched view tern-db prints.
#include <rocksdb/db.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <mutex>
#include <set>

#include "retention.hpp"
#include "rocksdb_store.hpp"
#include "serialization.hpp"

namespace tern::storage {
namespace {

constexpr std::size_t kCleanupOpsPerWrite = 10'000;

// A key as text for error messages: printable ASCII as is, other bytes as \xNN.
std::string printable(std::string_view key) {
    std::string text;
    for (char c : key) {
        auto byte = static_cast<unsigned char>(c);
        if (byte >= 0x20 && byte < 0x7F) {
            text.push_back(c);
        } else {
            static constexpr char kHex[] = "0123456789abcdef";
            text += "\\x";
            text.push_back(kHex[byte >> 4]);
            text.push_back(kHex[byte & 0x0F]);
        }
    }
    return text;
}

}  // namespace

// The deletions and rewrites load() decides, written in chunks as they accumulate (their
// atomicity does not matter: each one is correct on its own).
class RocksDbStore::LoadBatch {
  public:
    explicit LoadBatch(RocksDbStore& store) : _store(store) {}

    rocksdb::WriteBatch& batch() { return _batch; }

    void maybe_write() {
        if (static_cast<std::size_t>(_batch.Count()) >= kCleanupOpsPerWrite) {
            write();
        }
    }

    void write() {
        if (_batch.Count() > 0) {
            _store.write(_batch, _store._settings.durability == Durability::Sync);
            _batch.Clear();
        }
    }

  private:
    RocksDbStore& _store;
    rocksdb::WriteBatch _batch;
};

namespace {

// Runs `decode`, turning a decoding error into one naming the database, family and key.
template <typename Decode>
auto decoded(const std::string& path, std::string_view family, const rocksdb::Slice& key,
             Decode decode) {
    try {
        return decode();
    } catch (const StorageError& error) {
        throw StorageError("cannot read RocksDB at " + path + ": column family '" +
                           std::string(family) + "', key '" + printable(key.ToStringView()) +
                           "': " + error.what());
    }
}

}  // namespace

LoadSummary RocksDbStore::load(LoadVisitor& visitor) {
    if (!_queue) {
        throw StorageError("RocksDB at " + _path + " is open read-only");
    }
    auto started = std::chrono::steady_clock::now();
    std::shared_lock lock(_db_mutex);
    UnixMillis now = unix_now_ms();
    LoadSummary summary;

    // A new epoch first, durably: SSE ids of this run must never repeat an earlier run's.
    uint64_t epoch = _epoch.load() + 1;
    rocksdb::WriteBatch meta;
    meta.Put(family(kMeta), std::string(kMetaEpochKey), encode_meta_number(epoch));
    write(meta, true);
    _epoch = epoch;

    LoadBatch cleanup(*this);
    load_retained(visitor, cleanup, summary, now);
    std::vector<std::string> clients = load_sessions(visitor, cleanup, summary, now);
    for (const std::string& client_id : clients) {
        load_session_queue(visitor, client_id, cleanup, summary, now);
    }
    // Written first so that the expired sessions' deleted ranges do not look like orphans.
    cleanup.write();
    // `clients` is sorted (key order).
    remove_orphans(kQueue, clients, cleanup);
    remove_orphans(kIncomingQos2, clients, cleanup);
    load_history(cleanup, summary, now);
    cleanup.write();
    _history_index.clear();  // rebuilt per topic on its next append

    summary.milliseconds =
        static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::steady_clock::now() - started)
                                  .count());
    return summary;
}

void RocksDbStore::load_retained(LoadVisitor& visitor, LoadBatch& cleanup, LoadSummary& summary,
                                 UnixMillis now) {
    _retained_sizes.clear();
    uint64_t bytes = 0;
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kRetained)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        MessageRecord message = decoded(_path, "retained", it->key(), [&] {
            return decode_retained(it->key().ToStringView(), it->value().ToStringView());
        });
        if (message_expired(message, now)) {
            cleanup.batch().Delete(family(kRetained), it->key());
            cleanup.maybe_write();
            summary.expired_removed += 1;
            continue;
        }
        uint64_t size = message.topic.size() + message.payload.size();
        _retained_sizes[message.topic] = size;
        bytes += size;
        summary.retained += 1;
        visitor.retained(std::move(message));
    }
    check_iterator(*it, "retained");
    _retained_count = _retained_sizes.size();
    _retained_bytes = bytes;
}

// Visits the live sessions and returns their client ids in key order.
std::vector<std::string> RocksDbStore::load_sessions(LoadVisitor& visitor, LoadBatch& cleanup,
                                                     LoadSummary& summary, UnixMillis now) {
    std::vector<std::string> clients;
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kSessions)));
    for (it->SeekToFirst(); it->Valid(); it->Next()) {
        SessionRecord session = decoded(_path, "sessions", it->key(), [&] {
            return decode_session(it->key().ToStringView(), it->value().ToStringView());
        });
        bool crashed = session.disconnected_at == 0;
        if (crashed) {
            session.disconnected_at = now;  // connected when the broker stopped: ends now
        }
        if (session_expired(session, now)) {
            std::string begin = name_prefix(session.client_id);
            std::string end = name_prefix_end(session.client_id);
            cleanup.batch().Delete(family(kSessions), it->key());
            cleanup.batch().DeleteRange(family(kQueue), begin, end);
            cleanup.batch().DeleteRange(family(kIncomingQos2), begin, end);
            cleanup.maybe_write();
            summary.expired_removed += 1;
            continue;
        }
        if (crashed) {
            cleanup.batch().Put(family(kSessions), it->key(), encode_session(session));
            cleanup.maybe_write();
        }
        clients.push_back(session.client_id);
        summary.sessions += 1;
        visitor.session(std::move(session));
    }
    check_iterator(*it, "sessions");
    return clients;
}

void RocksDbStore::load_session_queue(LoadVisitor& visitor, const std::string& client_id,
                                      LoadBatch& cleanup, LoadSummary& summary, UnixMillis now) {
    std::string prefix = name_prefix(client_id);
    std::unique_ptr<rocksdb::Iterator> it(_db->NewIterator(rocksdb::ReadOptions(), family(kQueue)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        QueuedRecord entry = decoded(_path, "queue", it->key(), [&] {
            return decode_queued(it->key().ToStringView(), it->value().ToStringView());
        });
        if (queued_expired(entry, now)) {
            cleanup.batch().Delete(family(kQueue), it->key());
            cleanup.maybe_write();
            summary.expired_removed += 1;
            continue;
        }
        summary.queued += 1;
        visitor.queued(client_id, std::move(entry));
    }
    check_iterator(*it, "queue");

    it.reset(_db->NewIterator(rocksdb::ReadOptions(), family(kIncomingQos2)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        uint16_t packet_id = decoded(_path, "incoming_qos2", it->key(), [&] {
            check_incoming_qos2(it->value().ToStringView());
            return static_cast<uint16_t>(split_incoming_qos2_key(it->key().ToStringView()).number);
        });
        visitor.incoming_qos2(client_id, packet_id);
    }
    check_iterator(*it, "incoming_qos2");
}

// Deletes the entries of `which` whose client has no session (left by an interrupted write of
// an older version, or by hand). One seek per client id.
void RocksDbStore::remove_orphans(Family which, const std::vector<std::string>& clients,
                                  LoadBatch& cleanup) {
    const char* name = kColumnFamilyNames[which];
    std::unique_ptr<rocksdb::Iterator> it(_db->NewIterator(rocksdb::ReadOptions(), family(which)));
    it->SeekToFirst();
    while (it->Valid()) {
        std::string client_id(key_name(it->key().ToStringView()));
        if (!std::binary_search(clients.begin(), clients.end(), client_id)) {
            spdlog::warn("storage: removing {} entries of '{}', which has no session", name,
                         printable(client_id));
            cleanup.batch().DeleteRange(family(which), name_prefix(client_id),
                                        name_prefix_end(client_id));
            cleanup.maybe_write();
        }
        it->Seek(name_prefix_end(client_id));
    }
    check_iterator(*it, name);
}

// Applies each topic's policy to its stored history: entries past max_age_s, then the oldest
// beyond max_messages; topics without a policy lose their history.
void RocksDbStore::load_history(LoadBatch& cleanup, LoadSummary& summary, UnixMillis now) {
    uint64_t largest_seq = 0;
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kHistory)));
    it->SeekToFirst();
    while (it->Valid()) {
        std::string topic(key_name(it->key().ToStringView()));
        std::string prefix = name_prefix(topic);
        const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
        if (policy == nullptr) {
            cleanup.batch().DeleteRange(family(kHistory), prefix, name_prefix_end(topic));
            cleanup.maybe_write();
            it->Seek(name_prefix_end(topic));
            continue;
        }
        std::vector<uint64_t> young;  // seqs within the age limit, ascending
        uint64_t trimmed = 0;
        for (; it->Valid() && it->key().starts_with(prefix); it->Next()) {
            HistoryRecord entry = decoded(_path, "history", it->key(), [&] {
                return decode_history(it->key().ToStringView(), it->value().ToStringView());
            });
            if (history_too_old(*policy, entry.timestamp, now)) {
                cleanup.batch().Delete(family(kHistory), it->key());
                trimmed = std::max(trimmed, entry.seq);
            } else {
                young.push_back(entry.seq);
            }
        }
        std::size_t excess = history_excess(*policy, young.size());
        for (std::size_t index = 0; index < excess; ++index) {
            cleanup.batch().Delete(family(kHistory), history_key(topic, young[index]));
            trimmed = std::max(trimmed, young[index]);
        }
        if (trimmed > read_trimmed_mark(topic)) {
            cleanup.batch().Put(family(kMeta), trimmed_mark_key(topic),
                                encode_meta_number(trimmed));
        }
        cleanup.maybe_write();
        summary.history += young.size() - excess;
        if (young.size() > excess) {
            largest_seq = std::max(largest_seq, young.back());
        }
    }
    check_iterator(*it, "history");
    _next_history_seq = largest_seq + 1;
}

void RocksDbStore::inspect(InspectVisitor& visitor, unsigned parts) const {
    std::shared_lock lock(_db_mutex);
    if (!_db) {
        throw StorageError("RocksDB at " + _path + " is closed");
    }
    visitor.meta(_format_version, _epoch.load());
    // Scans one family (absent in a read-only open of an older database: nothing to visit).
    auto scan = [&](Family which, auto&& each) {
        if (family(which) == nullptr || (parts & (1u << which)) == 0) {
            return;
        }
        const char* name = kColumnFamilyNames[which];
        std::unique_ptr<rocksdb::Iterator> it(
            _db->NewIterator(rocksdb::ReadOptions(), family(which)));
        for (it->SeekToFirst(); it->Valid(); it->Next()) {
            std::string_view key = it->key().ToStringView();
            std::string_view value = it->value().ToStringView();
            decoded(_path, name, it->key(), [&] {
                each(key, value);
                return 0;
            });
        }
        check_iterator(*it, name);
    };
    scan(kRetained, [&](std::string_view key, std::string_view value) {
        visitor.retained(decode_retained(key, value));
    });
    scan(kSessions, [&](std::string_view key, std::string_view value) {
        visitor.session(decode_session(key, value));
    });
    scan(kQueue, [&](std::string_view key, std::string_view value) {
        visitor.queued(std::string(split_queue_key(key).name), decode_queued(key, value));
    });
    scan(kIncomingQos2, [&](std::string_view key, std::string_view value) {
        check_incoming_qos2(value);
        SplitKey split = split_incoming_qos2_key(key);
        visitor.incoming_qos2(std::string(split.name), static_cast<uint16_t>(split.number));
    });
    scan(kHistory, [&](std::string_view key, std::string_view value) {
        visitor.history(decode_history(key, value));
    });
}

}  // namespace tern::storage
