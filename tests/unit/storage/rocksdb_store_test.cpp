// Tests of what only the RocksDB store does: files on disk, damage, versions, locks, repair.
#include <doctest/doctest.h>
#include <fcntl.h>
#include <rocksdb/db.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "storage/serialization.hpp"
#include "store_harness.hpp"

using namespace tern::storage;
using tern::storage::test::commit;
using tern::storage::test::Loaded;
using tern::storage::test::storage_error;
using tern::storage::test::TempDir;
namespace fs = std::filesystem;

namespace {

StorageSettings settings_for(const TempDir& dir) {
    StorageSettings settings;
    settings.data_dir = dir.str();
    settings.durability = Durability::Async;
    return settings;
}

MessageRecord retained_message(std::string topic, std::string payload, UnixMillis expires_at = 0) {
    MessageRecord message;
    message.topic = std::move(topic);
    message.payload = std::move(payload);
    message.retain = true;
    message.expires_at = expires_at;
    return message;
}

// Creates a database holding one retained message, closed (so flushed to table files).
void create_database(const StorageSettings& settings) {
    std::unique_ptr<Store> store = open_rocksdb_store(settings);
    Loaded loaded;
    store->load(loaded);
    commit(*store, test::batch_of(WriteBatch::PutRetained{retained_message("keep/me", "42")}));
    store->close();
}

// Loads a store opened on `settings` (opening and loading are where damage shows).
Loaded open_and_load(const StorageSettings& settings) {
    std::unique_ptr<Store> store = open_rocksdb_store(settings);
    Loaded loaded;
    store->load(loaded);
    return loaded;
}

std::vector<fs::path> files_matching(const fs::path& dir, std::string_view prefix,
                                     std::string_view suffix) {
    std::vector<fs::path> found;
    for (const auto& entry : fs::directory_iterator(dir)) {
        std::string name = entry.path().filename().string();
        if (name.starts_with(prefix) && name.ends_with(suffix)) {
            found.push_back(entry.path());
        }
    }
    return found;
}

// Replaces a file's bytes with garbage of the same length (at least one byte).
void overwrite_with_garbage(const fs::path& file) {
    std::size_t size = std::max<std::size_t>(fs::file_size(file), 1);
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    for (std::size_t index = 0; index < size; ++index) {
        out.put(static_cast<char>((index * 131 + 7) & 0xFF));
    }
}

// Opens the database directly with RocksDB to plant (or remove, when `value` is nullopt) values
// Tern would never write.
void raw_write(const std::string& path, const std::string& family, const std::string& key,
               const std::optional<std::string>& value) {
    std::vector<rocksdb::ColumnFamilyDescriptor> descriptors{
        {rocksdb::kDefaultColumnFamilyName, {}}};
    for (const char* name : kColumnFamilyNames) {
        descriptors.emplace_back(name, rocksdb::ColumnFamilyOptions());
    }
    std::vector<rocksdb::ColumnFamilyHandle*> handles;
    rocksdb::DB* db = nullptr;
    REQUIRE(rocksdb::DB::Open(rocksdb::DBOptions(), path, descriptors, &handles, &db).ok());
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
        if (handle->GetName() == family) {
            rocksdb::Status status = value ? db->Put(rocksdb::WriteOptions(), handle, key, *value)
                                           : db->Delete(rocksdb::WriteOptions(), handle, key);
            REQUIRE(status.ok());
        }
    }
    for (rocksdb::ColumnFamilyHandle* handle : handles) {
        REQUIRE(db->DestroyColumnFamilyHandle(handle).ok());
    }
    REQUIRE(db->Close().ok());
    delete db;
}

std::set<std::string> file_names(const fs::path& dir) {
    std::set<std::string> names;
    for (const auto& entry : fs::directory_iterator(dir)) {
        names.insert(entry.path().filename().string());
    }
    return names;
}

// What inspect() visits: the LoadVisitor calls recorded in `records`, plus meta and history.
struct Inspected : InspectVisitor {
    Loaded records;
    uint64_t format = 0;
    uint64_t epoch = 0;
    std::vector<HistoryRecord> history_entries;
    void meta(uint64_t format_version, uint64_t stored_epoch) override {
        format = format_version;
        epoch = stored_epoch;
    }
    void history(HistoryRecord&& entry) override { history_entries.push_back(std::move(entry)); }
    void retained(MessageRecord&& message) override { records.retained(std::move(message)); }
    void session(SessionRecord&& record) override { records.session(std::move(record)); }
    void queued(const std::string& client_id, QueuedRecord&& entry) override {
        records.queued(client_id, std::move(entry));
    }
    void incoming_qos2(const std::string& client_id, uint16_t packet_id) override {
        records.incoming_qos2(client_id, packet_id);
    }
};

std::vector<uint64_t> seqs_of(const std::vector<HistoryRecord>& entries) {
    std::vector<uint64_t> found;
    for (const HistoryRecord& entry : entries) {
        found.push_back(entry.seq);
    }
    return found;
}

}  // namespace

TEST_CASE("A missing data directory is created with every column family") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    settings.data_dir = (dir.path() / "nested" / "data").string();
    open_rocksdb_store(settings)->close();
    std::vector<std::string> families;
    REQUIRE(
        rocksdb::DB::ListColumnFamilies(rocksdb::DBOptions(), settings.data_dir, &families).ok());
    std::set<std::string> found(families.begin(), families.end());
    CHECK(found == std::set<std::string>{"default", "retained", "sessions", "queue",
                                         "incoming_qos2", "history", "meta"});
    auto store = RocksDbStore::open(settings, RocksDbStore::Mode::ReadOnly);
    CHECK(store->format_version() == kDatabaseFormatVersion);
    CHECK(store->epoch() == 0);
}

TEST_CASE("A garbage CURRENT file fails the open with the path and no crash") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    overwrite_with_garbage(dir.path() / "CURRENT");
    std::string error = storage_error([&] { open_and_load(settings); });
    CHECK(error.starts_with("cannot open RocksDB at " + dir.str() + ": "));
}

TEST_CASE("A garbage MANIFEST fails the open with the path and no crash") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    std::vector<fs::path> manifests = files_matching(dir.path(), "MANIFEST-", "");
    REQUIRE_FALSE(manifests.empty());
    for (const fs::path& manifest : manifests) {
        overwrite_with_garbage(manifest);
    }
    std::string error = storage_error([&] { open_and_load(settings); });
    CHECK(error.starts_with("cannot open RocksDB at " + dir.str() + ": "));
    CHECK(error.find("Corruption") != std::string::npos);
}

TEST_CASE("A garbage table file fails the open or the load with the path and no crash") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    std::vector<fs::path> tables = files_matching(dir.path(), "", ".sst");
    REQUIRE_FALSE(tables.empty());
    for (const fs::path& table : tables) {
        overwrite_with_garbage(table);
    }
    std::string error = storage_error([&] { open_and_load(settings); });
    CHECK(error.find("RocksDB at " + dir.str() + ": ") != std::string::npos);
    CHECK(error.find("Corruption") != std::string::npos);
}

TEST_CASE("A database whose CURRENT file is missing is not recreated empty") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    fs::remove(dir.path() / "CURRENT");
    std::set<std::string> before = file_names(dir.path());
    std::string error = storage_error([&] { open_rocksdb_store(settings); });
    CHECK(error == "cannot open RocksDB at " + dir.str() +
                       ": the CURRENT file is missing but database files are present (run tern "
                       "--repair)");
    CHECK(file_names(dir.path()) == before);
}

TEST_CASE("A file where the data directory should be is refused") {
    TempDir dir;
    fs::create_directories(dir.path());
    fs::path file = dir.path() / "plain-file";
    std::ofstream(file) << "not a database";
    StorageSettings settings = settings_for(dir);
    settings.data_dir = file.string();
    std::string error = storage_error([&] { open_rocksdb_store(settings); });
    CHECK(error == "cannot open RocksDB at " + file.string() + ": not a directory");
}

TEST_CASE("A database format version this build does not read is refused") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    raw_write(dir.str(), "meta", "format", encode_meta_number(2));
    std::string error = storage_error([&] { open_rocksdb_store(settings); });
    CHECK(error == "cannot open RocksDB at " + dir.str() +
                       ": database format version 2 is not supported (this build reads version 1)");
}

TEST_CASE("A record with an unknown format version fails the load naming the path and key") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    raw_write(dir.str(), "retained", "bad/topic", std::string("\x09\x00\x00\x00\x00", 5));
    std::string error = storage_error([&] { open_and_load(settings); });
    CHECK(error == "cannot read RocksDB at " + dir.str() +
                       ": column family 'retained', key 'bad/topic': retained record has "
                       "unsupported format version 9 (this build reads version 1)");
}

TEST_CASE("A corrupt or missing format version is refused") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    raw_write(dir.str(), "meta", "format", "");
    CHECK(storage_error([&] { open_rocksdb_store(settings); }) ==
          "cannot open RocksDB at " + dir.str() + ": meta value 'format' is corrupt");
    // Records but no format: some other database, not one to write into.
    raw_write(dir.str(), "meta", "format", std::nullopt);
    CHECK(storage_error([&] { open_rocksdb_store(settings); }) ==
          "cannot open RocksDB at " + dir.str() +
              ": records present but no format version: not a Tern database");
}

TEST_CASE("Repair brings back a database whose MANIFEST is garbage") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    for (const fs::path& manifest : files_matching(dir.path(), "MANIFEST-", "")) {
        overwrite_with_garbage(manifest);
    }
    CHECK_THROWS_AS(open_rocksdb_store(settings), StorageError);
    repair_rocksdb_store(dir.str());
    std::unique_ptr<Store> store = open_rocksdb_store(settings);
    CHECK(store->epoch() == 1);  // meta came back too
    Loaded loaded;
    store->load(loaded);
    CHECK(loaded.retained_messages ==
          std::vector<MessageRecord>{retained_message("keep/me", "42")});
    CHECK(store->epoch() == 2);
}

TEST_CASE("Repair of a missing directory fails with the path") {
    TempDir dir;
    CHECK(storage_error([&] { repair_rocksdb_store(dir.str()); }) ==
          "cannot repair RocksDB at " + dir.str() + ": no such directory");
}

TEST_CASE("A second open of a database in use fails naming the path") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    std::unique_ptr<Store> first = open_rocksdb_store(settings);
    std::string error = storage_error([&] { open_rocksdb_store(settings); });
    CHECK(error.starts_with("cannot open RocksDB at " + dir.str() + ": IO error: "));
    CHECK(error.find("LOCK") != std::string::npos);
    first->close();
    CHECK_NOTHROW(open_rocksdb_store(settings)->close());
}

TEST_CASE("Another process holding the lock is named with its pid") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    create_database(settings);
    CHECK_FALSE(rocksdb_lock_holder(dir.str()).has_value());

    int ready[2];
    int release[2];
    REQUIRE(::pipe(ready) == 0);
    REQUIRE(::pipe(release) == 0);
    std::string lock_path = (dir.path() / "LOCK").string();
    pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        // Only async-signal-safe calls here: the parent has threads. RocksDB locks the same way.
        int fd = ::open(lock_path.c_str(), O_RDWR | O_CREAT, 0644);
        struct flock lock {};
        lock.l_type = F_WRLCK;
        lock.l_whence = SEEK_SET;
        char byte = (fd >= 0 && ::fcntl(fd, F_SETLK, &lock) == 0) ? 'y' : 'n';
        (void)!::write(ready[1], &byte, 1);
        (void)!::read(release[0], &byte, 1);
        ::_exit(0);
    }
    char byte = 0;
    REQUIRE(::read(ready[0], &byte, 1) == 1);
    CHECK(byte == 'y');
    CHECK(rocksdb_lock_holder(dir.str()) == std::optional<long>(child));
    std::string error = storage_error([&] { open_rocksdb_store(settings); });
    CHECK(error.starts_with("cannot open RocksDB at " + dir.str() + ": IO error: "));
    CHECK(error.ends_with("(the lock is held by process " + std::to_string(child) +
                          ": is tern running with this data directory?)"));
    REQUIRE(::write(release[1], "x", 1) == 1);
    int status = 0;
    ::waitpid(child, &status, 0);
    for (int fd : {ready[0], ready[1], release[0], release[1]}) {
        ::close(fd);
    }
    CHECK_FALSE(rocksdb_lock_holder(dir.str()).has_value());
    CHECK_NOTHROW(open_rocksdb_store(settings)->close());
}

TEST_CASE("A read-only open changes nothing and inspect shows everything as stored") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    settings.history = {{"#", 10, 0}};
    UnixMillis now = unix_now_ms();
    {
        std::unique_ptr<Store> store = open_rocksdb_store(settings);
        Loaded loaded;
        store->load(loaded);
        WriteBatch batch;
        batch.add(WriteBatch::PutRetained{retained_message("old", "x", now - 1000)});
        SessionRecord crashed;
        crashed.client_id = "crashed";
        crashed.expiry_interval_s = 60;
        batch.add(WriteBatch::PutSession{crashed});
        QueuedRecord orphan;
        orphan.seq = 9;
        orphan.message = retained_message("q", "orphan");
        batch.add(WriteBatch::PutQueued{"nobody", orphan});
        batch.add(WriteBatch::PutIncomingQos2{"crashed", 77});
        HistoryRecord entry;
        entry.seq = 5;
        entry.timestamp = now;
        entry.message = retained_message("h/t", "past");
        batch.add(WriteBatch::AppendHistory{entry});
        commit(*store, std::move(batch));
        store->close();
    }
    std::set<std::string> before = file_names(dir.path());

    auto store = RocksDbStore::open(settings, RocksDbStore::Mode::ReadOnly);
    Inspected inspected;
    store->inspect(inspected);
    CHECK(inspected.format == 1);
    CHECK(inspected.epoch == 1);
    CHECK(inspected.records.retained_messages ==
          std::vector<MessageRecord>{retained_message("old", "x", now - 1000)});
    REQUIRE(inspected.records.sessions.size() == 1);
    CHECK(inspected.records.sessions[0].disconnected_at == 0);
    REQUIRE(inspected.records.queue.size() == 1);
    CHECK(inspected.records.queue[0].first == "nobody");
    CHECK(inspected.records.queue[0].second.message.payload == "orphan");
    CHECK(inspected.records.incoming ==
          std::vector<std::pair<std::string, uint16_t>>{{"crashed", 77}});
    REQUIRE(inspected.history_entries.size() == 1);
    CHECK(inspected.history_entries[0].message.topic == "h/t");
    CHECK(seqs_of(store->read_history("h/t", 0, 10)) == std::vector<uint64_t>{5});
    Loaded ignored;
    CHECK_THROWS_AS(store->load(ignored), StorageError);
    CHECK_THROWS_AS(store->submit(WriteBatch{}, [] {}), StorageError);
    store->close();
    CHECK(file_names(dir.path()) == before);

    // The read-write load then applies the rules: expired, orphaned and crashed records change.
    std::unique_ptr<Store> writer = open_rocksdb_store(settings);
    Loaded loaded;
    LoadSummary summary = writer->load(loaded);
    CHECK(loaded.retained_messages.empty());
    CHECK(summary.expired_removed == 1);
    CHECK(loaded.queue.empty());
    CHECK(loaded.incoming == std::vector<std::pair<std::string, uint16_t>>{{"crashed", 77}});
    writer->close();
    store = RocksDbStore::open(settings, RocksDbStore::Mode::ReadOnly);
    Inspected after;
    store->inspect(after);
    CHECK(after.records.queue.empty());
    REQUIRE(after.records.sessions.size() == 1);
    CHECK(after.records.sessions[0].disconnected_at != 0);
}

TEST_CASE("A read-only open of a missing directory fails and creates nothing") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    std::string error =
        storage_error([&] { RocksDbStore::open(settings, RocksDbStore::Mode::ReadOnly); });
    CHECK(error == "cannot open RocksDB at " + dir.str() + ": no database here");
    CHECK_FALSE(fs::exists(dir.path()));
}

TEST_CASE("Load applies the current history policy to stored history") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    settings.history = {{"#", 100, 0}};
    UnixMillis now = unix_now_ms();
    {
        std::unique_ptr<Store> store = open_rocksdb_store(settings);
        WriteBatch batch;
        for (uint64_t seq = 1; seq <= 5; ++seq) {
            HistoryRecord entry;
            entry.seq = seq;
            entry.timestamp = seq <= 2 ? now - 600'000 : now;
            entry.message = retained_message("kept/t", std::to_string(seq));
            batch.add(WriteBatch::AppendHistory{entry});
            entry.message.topic = "dropped/t";
            entry.seq = seq + 10;
            batch.add(WriteBatch::AppendHistory{entry});
        }
        commit(*store, std::move(batch));
        store->close();
    }
    // Now: 60 s at most, two per topic, and no history at all for dropped/...
    settings.history = {{"kept/#", 2, 60}};
    std::unique_ptr<Store> store = open_rocksdb_store(settings);
    Loaded loaded;
    LoadSummary summary = store->load(loaded);
    CHECK(summary.history == 2);
    CHECK(store->next_history_seq() == 6);
    CHECK(store->history_topics("#") == std::vector<std::string>{"kept/t"});
    store->close();
    auto reader = RocksDbStore::open(settings, RocksDbStore::Mode::ReadOnly);
    Inspected inspected;
    reader->inspect(inspected);
    std::vector<uint64_t> stored;
    for (const HistoryRecord& entry : inspected.history_entries) {
        stored.push_back(entry.seq);
    }
    CHECK(stored == std::vector<uint64_t>{4, 5});
}

TEST_CASE("Reads after close return nothing and close is idempotent") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    settings.history = {{"#", 10, 0}};
    std::unique_ptr<Store> store = open_rocksdb_store(settings);
    HistoryRecord entry;
    entry.seq = 1;
    entry.timestamp = unix_now_ms();
    entry.message = retained_message("t", "p");
    commit(*store, test::batch_of(WriteBatch::AppendHistory{entry}));
    CHECK(store->read_history("t", 0, 10).size() == 1);
    store->close();
    store->close();
    CHECK(store->read_history("t", 0, 10).empty());
    CHECK(store->history_topics("#").empty());
}

TEST_CASE("Durability memory is refused by the RocksDB store and open_store picks the memory one") {
    TempDir dir;
    StorageSettings settings = settings_for(dir);
    settings.durability = Durability::Memory;
    CHECK_THROWS_AS(open_rocksdb_store(settings), std::invalid_argument);
    std::unique_ptr<Store> store = open_store(settings);
    CHECK(dynamic_cast<RocksDbStore*>(store.get()) == nullptr);
    CHECK_FALSE(fs::exists(dir.path()));
}
