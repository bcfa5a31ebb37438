// The tern-db subcommands: print, export and import what a stopped broker stored.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string>

#include "storage/rocksdb_store.hpp"

namespace tern::tools::db {

// One line per retained message: readable text, or the export-retained JSON lines.
void print_retained(const storage::RocksDbStore& store, bool json, std::ostream& out);

// Every session with its subscriptions and will.
void print_sessions(const storage::RocksDbStore& store, std::ostream& out);

// Queue depth per session: queued and in-flight messages, incoming QoS 2 ids. Entries whose
// session is missing are listed too, marked "(no session)".
void print_queues(const storage::RocksDbStore& store, std::ostream& out);

// Everything, one tagged line per record, then totals.
void print_dump(const storage::RocksDbStore& store, std::ostream& out);

// Writes the retained messages as JSON lines; returns how many.
uint64_t export_retained(const storage::RocksDbStore& store, std::ostream& out);

struct ImportResult {
    uint64_t stored = 0;
    uint64_t cleared = 0;  // empty payloads: the topic's retained message is removed
};

// Reads JSON lines (blank lines skipped) from `in`, validating every line before writing any;
// throws std::runtime_error("NAME:LINE: reason") on the first bad line. An empty payload removes
// the topic's retained message, as a retained PUBLISH would [MQTT-3.3.1-6].
ImportResult import_retained(storage::Store& store, std::istream& in, const std::string& name);

}  // namespace tern::tools::db
