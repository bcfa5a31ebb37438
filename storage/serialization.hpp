// Compact binary keys and values for every stored record, each value led by a format version.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "records.hpp"
#include "store.hpp"

namespace tern::storage {

// The first byte of every value. A value with another version is rejected with a StorageError
// instead of being misread: a newer build's data must not be half-understood by an older one.
inline constexpr uint8_t kRecordFormatVersion = 1;

// The layout of the database as a whole (column families, keys), stored in meta["format"].
inline constexpr uint64_t kDatabaseFormatVersion = 1;

inline constexpr std::string_view kMetaFormatKey = "format";
inline constexpr std::string_view kMetaEpochKey = "epoch";
// Followed by a topic: the highest history seq trimmed from that topic (see Store).
inline constexpr std::string_view kMetaHistoryTrimmedPrefix = "history-trimmed/";

// Keys. Client ids and topics never contain U+0000 [MQTT-1.5.4-2], so '\0' separates a name from
// the big-endian number after it, and the keys of one name sort together by number: a prefix
// scan returns a session's queue (or a topic's history) in order.
std::string session_key(std::string_view client_id);
std::string queue_key(std::string_view client_id, uint64_t seq);
std::string incoming_qos2_key(std::string_view client_id, uint16_t packet_id);
std::string history_key(std::string_view topic, uint64_t seq);
// name + '\0': the prefix of every queue / incoming QoS 2 key of a client, or history key of a
// topic.
std::string name_prefix(std::string_view name);
// The first key past every key starting with name_prefix(name): name + '\x01'.
std::string name_prefix_end(std::string_view name);

// A key split back into its name and number. Throws StorageError when malformed.
struct SplitKey {
    std::string_view name;
    uint64_t number = 0;
};
SplitKey split_queue_key(std::string_view key);
SplitKey split_incoming_qos2_key(std::string_view key);
SplitKey split_history_key(std::string_view key);
// The name part of a queue, incoming QoS 2 or history key (everything before the '\0').
std::string_view key_name(std::string_view key);

// Meta values: eight bytes, big-endian.
std::string encode_meta_number(uint64_t value);
uint64_t decode_meta_number(std::string_view value, std::string_view what);

// Values. What the key holds (retained topic, client id, seq) is not repeated in the value; the
// decoders take the key to rebuild the whole record. Decoders throw StorageError on an unknown
// format version, truncation, trailing bytes or out-of-range fields.
std::string encode_retained(const MessageRecord& message);
MessageRecord decode_retained(std::string_view key, std::string_view value);

std::string encode_session(const SessionRecord& session);
SessionRecord decode_session(std::string_view key, std::string_view value);

// A message's stored fields, borrowed from wherever they live (a record, or the broker's own
// message): encoding from a view copies the bytes once, straight into the value.
struct MessageView {
    std::string_view topic;
    std::string_view payload;
    uint8_t qos = 0;
    bool retain = false;
    const codec::Properties* properties = nullptr;  // null = none
    UnixMillis expires_at = 0;                      // 0 = never
};

// A queue entry's value fields (the key holds the client id and seq).
struct QueuedView {
    uint8_t qos = 0;
    bool retain = false;
    QueuedRecord::State state = QueuedRecord::State::Queued;
    uint16_t packet_id = 0;
    std::span<const uint32_t> subscription_ids;
    MessageView message;
};

std::string encode_queued(const QueuedRecord& entry);
std::string encode_queued(const QueuedView& entry);
// The same into `out` (replacing its contents, keeping its capacity).
void encode_queued(const QueuedView& entry, std::string& out);
QueuedRecord decode_queued(std::string_view key, std::string_view value);
// decode_queued() with the seq already taken from the key.
QueuedRecord decode_queued_value(uint64_t seq, std::string_view value);

std::string encode_incoming_qos2();
void check_incoming_qos2(std::string_view value);

std::string encode_history(const HistoryRecord& entry);
HistoryRecord decode_history(std::string_view key, std::string_view value);

}  // namespace tern::storage
