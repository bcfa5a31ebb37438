// The RocksDB store: opening safely, the group-committing writer, history reads, close and repair.
#include "rocksdb_store.hpp"

#include <fcntl.h>
#include <rocksdb/db.h>
#include <rocksdb/env.h>
#include <rocksdb/memtablerep.h>
#include <rocksdb/metadata.h>
#include <rocksdb/options.h>
#include <rocksdb/write_batch.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdarg>
#include <filesystem>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <type_traits>

#include "core/topic.hpp"
#include "retention.hpp"
#include "serialization.hpp"

namespace tern::storage {
namespace {

namespace fs = std::filesystem;

constexpr int kWriteAttempts = 5;  // a failing write is retried with 10, 20, 40, 80 ms pauses

// tern-db must not touch a stopped broker's directory, not even by rotating RocksDB's LOG file.
class SilentLogger : public rocksdb::Logger {
  public:
    using rocksdb::Logger::Logv;
    void Logv(const char* /*format*/, va_list /*ap*/) override {}
};

rocksdb::DBOptions database_options() {
    rocksdb::DBOptions options;
    options.info_log_level = rocksdb::InfoLogLevel::WARN_LEVEL;
    options.keep_log_file_num = 4;
    options.paranoid_checks = true;
    // A torn last WAL record (a crash mid-write) is dropped; a damaged record in the middle of
    // the log stops the open instead of silently discarding every acknowledged write after it.
    options.wal_recovery_mode = rocksdb::WALRecoveryMode::kTolerateCorruptedTailRecords;
    // One writer thread: concurrent memtable inserts buy nothing, and the queue's unsorted
    // memtable (family_options) does not support them.
    options.allow_concurrent_memtable_write = false;
    // Memtables are most of the store's memory: cap them together (the largest is flushed when
    // the sum passes this) so that a burst of queued messages does not grow RSS by 64 MiB per
    // column family.
    options.db_write_buffer_size = 32 * 1024 * 1024;
    return options;
}

rocksdb::ColumnFamilyOptions family_options(std::string_view name) {
    rocksdb::ColumnFamilyOptions options;
    if (name == "queue" || name == "incoming_qos2") {
        // Written on every QoS 1/2 message and read only by load() at start-up: an unsorted
        // memtable makes each insert O(1) (a skip list's key comparisons were most of the
        // writer thread's time) and is sorted once when flushed or iterated.
        options.memtable_factory = std::make_shared<rocksdb::VectorRepFactory>();
        options.write_buffer_size = 16 * 1024 * 1024;
    }
    return options;
}

std::vector<rocksdb::ColumnFamilyDescriptor> family_descriptors() {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    descriptors.emplace_back(rocksdb::kDefaultColumnFamilyName, rocksdb::ColumnFamilyOptions());
    for (const char* name : kColumnFamilyNames) {
        descriptors.emplace_back(name, family_options(name));
    }
    return descriptors;
}

// True when `directory` holds any file RocksDB writes: then a missing CURRENT means damage, and
// creating a new database there would lose (and let RocksDB delete) the old files.
bool has_database_files(const fs::path& directory, std::error_code& error) {
    for (fs::directory_iterator it(directory, error), end; !error && it != end;
         it.increment(error)) {
        std::string name = it->path().filename().string();
        if (name.starts_with("MANIFEST-") || name.ends_with(".sst") || name.ends_with(".log") ||
            name.starts_with("OPTIONS-")) {
            return true;
        }
    }
    return false;
}

}  // namespace

std::optional<long> rocksdb_lock_holder(const std::string& data_dir) {
    int fd = ::open((fs::path(data_dir) / "LOCK").c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        return std::nullopt;
    }
    struct flock query {};
    query.l_type = F_WRLCK;
    query.l_whence = SEEK_SET;
    query.l_start = 0;
    query.l_len = 0;
    int result = ::fcntl(fd, F_GETLK, &query);
    ::close(fd);
    if (result != 0 || query.l_type == F_UNLCK) {
        return std::nullopt;
    }
    return static_cast<long>(query.l_pid);
}

RocksDbStore::RocksDbStore(const StorageSettings& settings, Mode mode)
    : _settings(settings), _mode(mode), _path(settings.data_dir) {}

std::unique_ptr<RocksDbStore> RocksDbStore::open(const StorageSettings& settings, Mode mode) {
    if (mode == Mode::ReadWrite && settings.durability == Durability::Memory) {
        throw std::invalid_argument("durability 'memory' keeps no database: use make_memory_store");
    }
    std::unique_ptr<RocksDbStore> store(new RocksDbStore(settings, mode));
    store->open_database();
    store->read_meta();
    if (mode == Mode::ReadWrite) {
        RocksDbStore* self = store.get();
        store->_queue = std::make_unique<CommitQueue>(
            [self](std::vector<CommitQueue::Pending>& group) { self->commit(group); },
            settings.write_delay);
    }
    return store;
}

RocksDbStore::~RocksDbStore() {
    close();
}

void RocksDbStore::fail(std::string_view doing, const rocksdb::Status& status) const {
    std::string message = std::string(doing) + " RocksDB at " + _path + ": " + status.ToString();
    if (status.IsIOError() && message.find("lock") != std::string::npos) {
        if (std::optional<long> holder = rocksdb_lock_holder(_path)) {
            message += " (the lock is held by process " + std::to_string(*holder) +
                       ": is tern running with this data directory?)";
        }
    }
    throw StorageError(message);
}

void RocksDbStore::refuse(const std::string& reason) const {
    throw StorageError("cannot open RocksDB at " + _path + ": " + reason);
}

// Decides whether opening may create the database: only where there is none at all. Creates a
// missing directory (ReadWrite only).
bool RocksDbStore::prepare_directory() const {
    std::error_code error;
    fs::path directory(_path);
    bool exists = fs::exists(directory, error);
    if (error) {
        refuse(error.message());
    }
    bool create = false;
    if (!exists || !fs::exists(directory / "CURRENT", error)) {
        if (error) {
            refuse(error.message());
        }
        if (exists && !fs::is_directory(directory, error)) {
            refuse("not a directory");
        }
        if (exists && has_database_files(directory, error)) {
            refuse(
                "the CURRENT file is missing but database files are present (run tern --repair)");
        }
        if (error) {
            refuse(error.message());
        }
        if (_mode == Mode::ReadOnly) {
            refuse("no database here");
        }
        if (!exists && !fs::create_directories(directory, error) && error) {
            refuse(error.message());
        }
        create = true;
    }
    return create;
}

void RocksDbStore::open_database() {
    bool create = prepare_directory();
    rocksdb::DBOptions options = database_options();
    options.create_if_missing = create;
    options.create_missing_column_families = _mode == Mode::ReadWrite;
    std::vector<std::string> existing;
    if (!create) {
        rocksdb::Status status = rocksdb::DB::ListColumnFamilies(options, _path, &existing);
        if (!status.ok()) {
            fail("cannot open", status);
        }
    }
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors;
    for (rocksdb::ColumnFamilyDescriptor& descriptor : family_descriptors()) {
        bool present =
            std::find(existing.begin(), existing.end(), descriptor.name) != existing.end();
        if (_mode == Mode::ReadWrite || present ||
            descriptor.name == rocksdb::kDefaultColumnFamilyName) {
            descriptors.push_back(std::move(descriptor));
        }
    }
    // A read-write open must name every family the database has, ours or not.
    for (const std::string& name : existing) {
        bool listed = std::any_of(descriptors.begin(), descriptors.end(),
                                  [&](const auto& known) { return known.name == name; });
        if (!listed && _mode == Mode::ReadWrite) {
            descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
        }
    }

    if (_mode == Mode::ReadWrite && !create) {
        check_table_files(options, descriptors);
    }
    rocksdb::DB* db = nullptr;
    rocksdb::Status status;
    if (_mode == Mode::ReadWrite) {
        status = rocksdb::DB::Open(options, _path, descriptors, &_handles, &db);
    } else {
        options.info_log = std::make_shared<SilentLogger>();
        status = rocksdb::DB::OpenForReadOnly(options, _path, descriptors, &_handles, &db);
    }
    if (!status.ok()) {
        fail("cannot open", status);
    }
    _db.reset(db);
    for (rocksdb::ColumnFamilyHandle* handle : _handles) {
        for (std::size_t index = 0; index < kColumnFamilyNames.size(); ++index) {
            if (handle->GetName() == kColumnFamilyNames[index]) {
                _families[index] = handle;
            }
        }
    }
}

// A read-write open deletes table files the MANIFEST does not reference. When the MANIFEST is
// damaged that would destroy the data, so look first, read-only: every *.sst on disk must be
// live, or the open is refused (tern --repair can rebuild the MANIFEST from the tables).
void RocksDbStore::check_table_files(
    const rocksdb::DBOptions& options,
    const std::vector<rocksdb::ColumnFamilyDescriptor>& descriptors) const {
    std::vector<rocksdb::ColumnFamilyDescriptor> readable;
    std::vector<std::string> existing;
    rocksdb::DB::ListColumnFamilies(options, _path, &existing);
    for (const auto& descriptor : descriptors) {
        if (std::find(existing.begin(), existing.end(), descriptor.name) != existing.end()) {
            readable.push_back(descriptor);
        }
    }
    rocksdb::DBOptions read_options = options;
    read_options.info_log = std::make_shared<SilentLogger>();
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    rocksdb::Status status =
        rocksdb::DB::OpenForReadOnly(read_options, _path, readable, &handles, &db);
    if (!status.ok()) {
        fail("cannot open", status);
    }
    std::vector<rocksdb::LiveFileMetaData> live;
    db->GetLiveFilesMetaData(&live);
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
        db->DestroyColumnFamilyHandle(handle);
    }
    delete db;
    std::set<std::string> referenced;
    for (const auto& file : live) {
        referenced.insert(std::filesystem::path(file.name).filename().string());
    }
    std::size_t orphans = 0;
    std::error_code error;
    for (const auto& entry : std::filesystem::directory_iterator(_path, error)) {
        const std::string name = entry.path().filename().string();
        if (entry.path().extension() == ".sst" && !referenced.contains(name)) {
            ++orphans;
        }
    }
    if (orphans != 0) {
        refuse("the MANIFEST does not reference " + std::to_string(orphans) +
               " table file(s): the database looks damaged; stop and run 'tern --repair'");
    }
}

// True when any record family holds a key (a database with data but no format is not ours).
bool RocksDbStore::has_data() const {
    for (std::size_t index = 0; index < kMeta; ++index) {
        if (_families[index] == nullptr) {
            continue;
        }
        std::unique_ptr<rocksdb::Iterator> it(
            _db->NewIterator(rocksdb::ReadOptions(), _families[index]));
        it->SeekToFirst();
        if (it->Valid()) {
            return true;
        }
    }
    return false;
}

void RocksDbStore::read_meta() {
    std::string value;
    rocksdb::Status status = rocksdb::Status::NotFound();
    if (family(kMeta) != nullptr) {
        status =
            _db->Get(rocksdb::ReadOptions(), family(kMeta), std::string(kMetaFormatKey), &value);
    }
    if (status.IsNotFound()) {
        if (has_data()) {
            refuse("records present but no format version: not a Tern database");
        }
        _format_version = kDatabaseFormatVersion;
        if (_mode == Mode::ReadWrite) {
            rocksdb::WriteBatch batch;
            batch.Put(family(kMeta), std::string(kMetaFormatKey),
                      encode_meta_number(kDatabaseFormatVersion));
            batch.Put(family(kMeta), std::string(kMetaEpochKey), encode_meta_number(0));
            write(batch, true);
        }
        return;
    }
    if (!status.ok()) {
        fail("cannot open", status);
    }
    auto number = [&](std::string_view key) -> uint64_t {
        try {
            return decode_meta_number(value, key);
        } catch (const StorageError& error) {
            refuse(error.what());
        }
    };
    _format_version = number(kMetaFormatKey);
    if (_format_version != kDatabaseFormatVersion) {
        refuse("database format version " + std::to_string(_format_version) +
               " is not supported (this build reads version " +
               std::to_string(kDatabaseFormatVersion) + ")");
    }
    status = _db->Get(rocksdb::ReadOptions(), family(kMeta), std::string(kMetaEpochKey), &value);
    if (status.ok()) {
        _epoch = number(kMetaEpochKey);
    } else if (!status.IsNotFound()) {
        fail("cannot open", status);
    }
}

void RocksDbStore::write(rocksdb::WriteBatch& batch, bool sync) {
    rocksdb::WriteOptions options;
    options.sync = sync;
    options.disableWAL = false;  // Async and Sync both go through the WAL: survives kill -9
    rocksdb::Status status;
    for (int attempt = 0; attempt < kWriteAttempts; ++attempt) {
        if (attempt > 0) {
            std::this_thread::sleep_for(std::chrono::milliseconds(10 << (attempt - 1)));
        }
        status = _db->Write(options, &batch);
        if (status.ok()) {
            return;
        }
        spdlog::warn("storage: write to {} failed (attempt {}): {}", _path, attempt + 1,
                     status.ToString());
    }
    fail("cannot write to", status);
}

void RocksDbStore::submit(WriteBatch&& batch, std::function<void()> done) {
    if (!_queue) {
        throw StorageError("RocksDB at " + _path + " is open read-only");
    }
    _queue->submit(std::move(batch), std::move(done));
}

void RocksDbStore::commit(std::vector<CommitQueue::Pending>& group) {
    UnixMillis now = unix_now_ms();
    rocksdb::WriteBatch batch;
    // Retained size changes apply only once the write succeeded: nullopt = erased.
    std::vector<std::pair<std::string, std::optional<uint64_t>>> retained_changes;
    std::string scratch;  // queue entries encoded here, then copied into the batch
    for (CommitQueue::Pending& pending : group) {
        std::size_t index = 0;
        for (const WriteBatch::Op& op : pending.batch.ops()) {
            if (pending.skip[index++]) {
                continue;
            }
            std::visit(
                [&](const auto& change) {
                    using T = std::decay_t<decltype(change)>;
                    if constexpr (std::is_same_v<T, WriteBatch::PutRetained>) {
                        batch.Put(family(kRetained), change.message.topic,
                                  encode_retained(change.message));
                        retained_changes.emplace_back(
                            change.message.topic,
                            change.message.topic.size() + change.message.payload.size());
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseRetained>) {
                        batch.Delete(family(kRetained), change.topic);
                        retained_changes.emplace_back(change.topic, std::nullopt);
                    } else if constexpr (std::is_same_v<T, WriteBatch::PutSession>) {
                        batch.Put(family(kSessions), session_key(change.session->client_id),
                                  encode_session(*change.session));
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseSession>) {
                        // Range deletes also cover entries put earlier in this same group.
                        std::string begin = name_prefix(change.client_id);
                        std::string end = name_prefix_end(change.client_id);
                        batch.Delete(family(kSessions), session_key(change.client_id));
                        batch.DeleteRange(family(kQueue), begin, end);
                        batch.DeleteRange(family(kIncomingQos2), begin, end);
                    } else if constexpr (std::is_same_v<T, WriteBatch::PutQueued>) {
                        batch.Put(family(kQueue), queue_key(change.client_id, change.seq),
                                  change.encoded(scratch));
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseQueued>) {
                        batch.Delete(family(kQueue), queue_key(change.client_id, change.seq));
                    } else if constexpr (std::is_same_v<T, WriteBatch::PutIncomingQos2>) {
                        batch.Put(family(kIncomingQos2),
                                  incoming_qos2_key(change.client_id, change.packet_id),
                                  encode_incoming_qos2());
                    } else if constexpr (std::is_same_v<T, WriteBatch::EraseIncomingQos2>) {
                        batch.Delete(family(kIncomingQos2),
                                     incoming_qos2_key(change.client_id, change.packet_id));
                    } else if constexpr (std::is_same_v<T, WriteBatch::AppendHistory>) {
                        append_history(batch, change.entry, now);
                    }
                },
                op);
        }
    }
    try {
        write(batch, _settings.durability == Durability::Sync);
    } catch (...) {
        _history_index.clear();  // it ran ahead of the database: re-read it on the next append
        throw;
    }
    for (auto& [topic, size] : retained_changes) {
        auto it = _retained_sizes.find(topic);
        if (it != _retained_sizes.end()) {
            _retained_bytes -= it->second;
            if (!size) {
                _retained_sizes.erase(it);
            }
        }
        if (size) {
            _retained_bytes += *size;
            _retained_sizes[topic] = *size;
        }
    }
    _retained_count = _retained_sizes.size();
}

// Writes the entry and deletes the topic's oldest entries beyond its policy. The writer keeps
// each topic's (seq, timestamp) list in memory, read from the database on its first append.
void RocksDbStore::append_history(rocksdb::WriteBatch& batch, const HistoryRecord& entry,
                                  UnixMillis now) {
    const std::string& topic = entry.message.topic;
    const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
    if (policy == nullptr) {
        return;  // no policy: no history for this topic
    }
    auto [it, inserted] = _history_index.try_emplace(topic);
    if (inserted) {
        it->second = read_history_index(topic);
    }
    HistoryIndex& entries = it->second;
    batch.Put(family(kHistory), history_key(topic, entry.seq), encode_history(entry));
    auto position = std::lower_bound(entries.begin(), entries.end(),
                                     std::pair<uint64_t, UnixMillis>{entry.seq, 0});
    if (position != entries.end() && position->first == entry.seq) {
        position->second = entry.timestamp;
    } else {
        entries.insert(position, {entry.seq, entry.timestamp});
    }
    uint64_t trimmed = 0;
    while (!entries.empty() && (history_excess(*policy, entries.size()) > 0 ||
                                history_too_old(*policy, entries.front().second, now))) {
        batch.Delete(family(kHistory), history_key(topic, entries.front().first));
        trimmed = std::max(trimmed, entries.front().first);
        entries.pop_front();
    }
    if (trimmed != 0) {
        auto [known, first] = _history_trimmed.try_emplace(topic, 0);
        if (first) {
            known->second = read_trimmed_mark(topic);
        }
        if (trimmed > known->second) {
            known->second = trimmed;
            batch.Put(family(kMeta), trimmed_mark_key(topic), encode_meta_number(trimmed));
        }
    }
}

std::string RocksDbStore::trimmed_mark_key(std::string_view topic) {
    std::string key(kMetaHistoryTrimmedPrefix);
    key += topic;
    return key;
}

uint64_t RocksDbStore::read_trimmed_mark(std::string_view topic) const {
    std::string value;
    rocksdb::Status status =
        _db->Get(rocksdb::ReadOptions(), family(kMeta), trimmed_mark_key(topic), &value);
    if (status.IsNotFound()) {
        return 0;
    }
    if (!status.ok()) {
        fail("cannot read the history marks of", status);
    }
    return decode_meta_number(value, "history trim mark");
}

uint64_t RocksDbStore::history_trimmed_through(std::string_view topic) {
    std::shared_lock lock(_db_mutex);
    if (!_db || family(kHistory) == nullptr || family(kMeta) == nullptr) {
        return 0;
    }
    uint64_t trimmed = read_trimmed_mark(topic);
    const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
    if (policy == nullptr) {
        return trimmed;
    }
    // Entries past their age that wait for lazy trimming count as trimmed.
    UnixMillis now = unix_now_ms();
    std::string prefix = name_prefix(topic);
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kHistory)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        HistoryRecord record = decode_history(it->key().ToStringView(), it->value().ToStringView());
        if (!history_too_old(*policy, record.timestamp, now)) {
            break;  // entries are in publish order: the rest are younger
        }
        trimmed = std::max(trimmed, record.seq);
    }
    check_iterator(*it, "history");
    return trimmed;
}

RocksDbStore::HistoryIndex RocksDbStore::read_history_index(const std::string& topic) const {
    HistoryIndex entries;
    std::string prefix = name_prefix(topic);
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kHistory)));
    for (it->Seek(prefix); it->Valid() && it->key().starts_with(prefix); it->Next()) {
        HistoryRecord record = decode_history(it->key().ToStringView(), it->value().ToStringView());
        entries.emplace_back(record.seq, record.timestamp);
    }
    check_iterator(*it, "history");
    return entries;
}

void RocksDbStore::check_iterator(const rocksdb::Iterator& iterator,
                                  std::string_view family_name) const {
    if (!iterator.status().ok()) {
        fail("cannot read column family '" + std::string(family_name) + "' of", iterator.status());
    }
}

std::vector<HistoryRecord> RocksDbStore::read_history(std::string_view topic, uint64_t after_seq,
                                                      std::size_t limit) {
    std::vector<HistoryRecord> found;
    std::shared_lock lock(_db_mutex);
    if (!_db || family(kHistory) == nullptr || after_seq == UINT64_MAX || limit == 0) {
        return found;
    }
    UnixMillis now = unix_now_ms();
    const HistoryPolicy* policy = history_policy_for(_settings.history, topic);
    std::string prefix = name_prefix(topic);
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kHistory)));
    for (it->Seek(history_key(topic, after_seq + 1));
         it->Valid() && it->key().starts_with(prefix) && found.size() < limit; it->Next()) {
        HistoryRecord record = decode_history(it->key().ToStringView(), it->value().ToStringView());
        // Entries past their age wait for lazy trimming; they are no longer history.
        if ((policy != nullptr && history_too_old(*policy, record.timestamp, now)) ||
            message_expired(record.message, now)) {
            continue;
        }
        found.push_back(std::move(record));
    }
    check_iterator(*it, "history");
    return found;
}

std::vector<std::string> RocksDbStore::history_topics(std::string_view filter) {
    std::vector<std::string> topics;
    std::shared_lock lock(_db_mutex);
    if (!_db || family(kHistory) == nullptr) {
        return topics;
    }
    std::unique_ptr<rocksdb::Iterator> it(
        _db->NewIterator(rocksdb::ReadOptions(), family(kHistory)));
    // One seek per topic: jump past each topic's entries once its name is known.
    it->SeekToFirst();
    while (it->Valid()) {
        std::string topic(key_name(it->key().ToStringView()));
        if (core::topic_matches(filter, topic)) {
            topics.push_back(topic);
        }
        it->Seek(name_prefix_end(topic));
    }
    check_iterator(*it, "history");
    std::sort(topics.begin(), topics.end());
    // Topics whose every entry was trimmed still tell resuming readers what they missed.
    std::unique_ptr<rocksdb::Iterator> marks(
        _db->NewIterator(rocksdb::ReadOptions(), family(kMeta)));
    for (marks->Seek(kMetaHistoryTrimmedPrefix);
         marks->Valid() && marks->key().starts_with(kMetaHistoryTrimmedPrefix); marks->Next()) {
        std::string topic(marks->key().ToStringView().substr(kMetaHistoryTrimmedPrefix.size()));
        if (core::topic_matches(filter, topic) &&
            !std::binary_search(topics.begin(), topics.end(), topic)) {
            topics.push_back(std::move(topic));
        }
    }
    check_iterator(*marks, "meta");
    std::sort(topics.begin(), topics.end());
    return topics;
}

StoreStats RocksDbStore::stats() const {
    StoreStats stats;
    if (_queue) {
        stats = _queue->stats();
    } else {
        stats.commit_latency_buckets.assign(StoreStats::latency_bounds_us().size() + 1, 0);
    }
    stats.retained_messages = _retained_count.load();
    stats.retained_bytes = _retained_bytes.load();
    return stats;
}

void RocksDbStore::close() {
    if (_queue) {
        _queue->close();
    }
    std::unique_lock lock(_db_mutex);
    if (!_db) {
        return;
    }
    if (_mode == Mode::ReadWrite) {
        rocksdb::FlushOptions flush;
        flush.wait = true;
        std::vector<rocksdb::ColumnFamilyHandle*> ours;
        for (rocksdb::ColumnFamilyHandle* handle : _families) {
            ours.push_back(handle);
        }
        rocksdb::Status status = _db->Flush(flush, ours);
        if (!status.ok()) {
            spdlog::error("storage: flushing RocksDB at {} failed: {}", _path, status.ToString());
        }
    }
    for (rocksdb::ColumnFamilyHandle* handle : _handles) {
        _db->DestroyColumnFamilyHandle(handle);
    }
    _handles.clear();
    _families.fill(nullptr);
    rocksdb::Status status = _db->Close();
    if (!status.ok()) {
        spdlog::error("storage: closing RocksDB at {} failed: {}", _path, status.ToString());
    }
    _db.reset();
}

std::unique_ptr<Store> open_rocksdb_store(const StorageSettings& settings) {
    return RocksDbStore::open(settings, RocksDbStore::Mode::ReadWrite);
}

void repair_rocksdb_store(const std::string& data_dir) {
    std::error_code error;
    if (!fs::is_directory(data_dir, error)) {
        throw StorageError("cannot repair RocksDB at " + data_dir + ": no such directory");
    }
    rocksdb::DBOptions options = database_options();
    rocksdb::Status status =
        rocksdb::RepairDB(data_dir, options, family_descriptors(), rocksdb::ColumnFamilyOptions());
    if (!status.ok()) {
        throw StorageError("cannot repair RocksDB at " + data_dir + ": " + status.ToString());
    }
}

}  // namespace tern::storage
