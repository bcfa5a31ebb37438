// Compact binary keys and values for every stored record: varints, length-prefixed strings, tags.
#include "serialization.hpp"

#include <limits>

#include "property_table.hpp"

namespace tern::storage {
namespace {

// Appends the pieces of a value: LEB128 varints for numbers and lengths, raw bytes for strings.
class ValueWriter {
  public:
    explicit ValueWriter(std::string& out) : _out(out) {}

    void byte(uint8_t value) { _out.push_back(static_cast<char>(value)); }

    void number(uint64_t value) {
        while (value >= 0x80) {
            byte(static_cast<uint8_t>(value | 0x80));
            value >>= 7;
        }
        byte(static_cast<uint8_t>(value));
    }

    void text(std::string_view value) {
        number(value.size());
        _out.append(value);
    }

  private:
    std::string& _out;
};

// Reads what ValueWriter wrote; every malformation throws a StorageError naming the record kind.
class ValueReader {
  public:
    ValueReader(std::string_view data, std::string_view what) : _data(data), _what(what) {}

    void version() {
        if (_data.empty()) {
            fail("empty value");
        }
        uint8_t found = byte();
        if (found != kRecordFormatVersion) {
            throw StorageError(std::string(_what) + " record has unsupported format version " +
                               std::to_string(found) + " (this build reads version " +
                               std::to_string(kRecordFormatVersion) + ")");
        }
    }

    uint8_t byte() {
        if (_position >= _data.size()) {
            fail("truncated");
        }
        return static_cast<uint8_t>(_data[_position++]);
    }

    uint64_t number() {
        uint64_t result = 0;
        for (unsigned shift = 0;; shift += 7) {
            uint8_t next = byte();
            if (shift == 63 && (next & 0x7E) != 0) {
                fail("number out of range");
            }
            result |= static_cast<uint64_t>(next & 0x7F) << shift;
            if ((next & 0x80) == 0) {
                return result;
            }
            if (shift == 63) {
                fail("number out of range");
            }
        }
    }

    template <typename T>
    T bounded(std::string_view field) {
        uint64_t value = number();
        if (value > std::numeric_limits<T>::max()) {
            fail(std::string(field) + " out of range");
        }
        return static_cast<T>(value);
    }

    std::string text() {
        uint64_t length = number();
        if (length > _data.size() - _position) {
            fail("truncated");
        }
        std::string value(_data.substr(_position, length));
        _position += length;
        return value;
    }

    std::size_t remaining() const noexcept { return _data.size() - _position; }

    void finish() {
        if (_position != _data.size()) {
            fail("trailing bytes");
        }
    }

    [[noreturn]] void fail(std::string_view reason) const {
        throw StorageError(std::string(_what) + " record is corrupt: " + std::string(reason));
    }

  private:
    std::string_view _data;
    std::string_view _what;
    std::size_t _position = 0;
};

// `set` null = no property (written as a count of 0, like an empty set).
void write_properties(ValueWriter& writer, const codec::Properties* set) {
    if (set == nullptr) {
        writer.number(0);
        return;
    }
    const codec::Properties& properties = *set;
    uint64_t count = properties.subscription_identifiers.size() + properties.user_properties.size();
    auto count_present = [&](const auto& table) {
        for (const auto& field : table) {
            count += (properties.*field.member).has_value() ? 1 : 0;
        }
    };
    count_present(kByteProperties);
    count_present(kTwoByteProperties);
    count_present(kFourByteProperties);
    count_present(kStringProperties);
    count_present(kBinaryProperties);
    writer.number(count);

    for (const auto& field : kByteProperties) {
        if (const auto& value = properties.*field.member) {
            writer.byte(static_cast<uint8_t>(field.id));
            writer.byte(*value);
        }
    }
    auto write_numbers = [&](const auto& table) {
        for (const auto& field : table) {
            if (const auto& value = properties.*field.member) {
                writer.byte(static_cast<uint8_t>(field.id));
                writer.number(*value);
            }
        }
    };
    write_numbers(kTwoByteProperties);
    write_numbers(kFourByteProperties);
    auto write_strings = [&](const auto& table) {
        for (const auto& field : table) {
            if (const auto& value = properties.*field.member) {
                writer.byte(static_cast<uint8_t>(field.id));
                writer.text(*value);
            }
        }
    };
    write_strings(kStringProperties);
    write_strings(kBinaryProperties);
    // Repeatable properties keep their order [MQTT-3.3.2-18].
    for (uint32_t id : properties.subscription_identifiers) {
        writer.byte(static_cast<uint8_t>(codec::PropertyId::SubscriptionIdentifier));
        writer.number(id);
    }
    for (const auto& [key, value] : properties.user_properties) {
        writer.byte(static_cast<uint8_t>(codec::PropertyId::UserProperty));
        writer.text(key);
        writer.text(value);
    }
}

// Reads one property with identifier `id` into `properties`; false when `id` is unknown.
bool read_property(ValueReader& reader, uint8_t id, codec::Properties& properties) {
    for (const auto& field : kByteProperties) {
        if (static_cast<uint8_t>(field.id) == id) {
            properties.*field.member = reader.byte();
            return true;
        }
    }
    for (const auto& field : kTwoByteProperties) {
        if (static_cast<uint8_t>(field.id) == id) {
            properties.*field.member = reader.bounded<uint16_t>(field.name);
            return true;
        }
    }
    for (const auto& field : kFourByteProperties) {
        if (static_cast<uint8_t>(field.id) == id) {
            properties.*field.member = reader.bounded<uint32_t>(field.name);
            return true;
        }
    }
    for (const auto& field : kStringProperties) {
        if (static_cast<uint8_t>(field.id) == id) {
            properties.*field.member = reader.text();
            return true;
        }
    }
    for (const auto& field : kBinaryProperties) {
        if (static_cast<uint8_t>(field.id) == id) {
            properties.*field.member = reader.text();
            return true;
        }
    }
    if (id == static_cast<uint8_t>(codec::PropertyId::SubscriptionIdentifier)) {
        properties.subscription_identifiers.push_back(
            reader.bounded<uint32_t>(kSubscriptionIdentifiersName));
        return true;
    }
    if (id == static_cast<uint8_t>(codec::PropertyId::UserProperty)) {
        std::string key = reader.text();
        properties.user_properties.emplace_back(std::move(key), reader.text());
        return true;
    }
    return false;
}

codec::Properties read_properties(ValueReader& reader) {
    codec::Properties properties;
    uint64_t count = reader.number();
    // Each property takes at least two bytes: a bound that stops a corrupt count early.
    if (count > reader.remaining() / 2) {
        reader.fail("property count larger than the value");
    }
    for (uint64_t index = 0; index < count; ++index) {
        uint8_t id = reader.byte();
        if (!read_property(reader, id, properties)) {
            reader.fail("unknown property identifier " + std::to_string(id));
        }
    }
    return properties;
}

// QoS in bits 0-1, retain in bit 2.
uint8_t qos_retain_flags(uint8_t qos, bool retain) {
    return static_cast<uint8_t>((qos & 0x03) | (retain ? 0x04 : 0x00));
}

void read_qos_retain_flags(ValueReader& reader, uint8_t& qos, bool& retain) {
    uint8_t flags = reader.byte();
    if ((flags & ~0x07) != 0 || (flags & 0x03) == 3) {
        reader.fail("invalid QoS/retain flags");
    }
    qos = flags & 0x03;
    retain = (flags & 0x04) != 0;
}

MessageView view_of(const MessageRecord& message) {
    return MessageView{message.topic,
                       message.payload,
                       message.qos,
                       message.retain,
                       message.properties.pointer(),
                       message.expires_at};
}

// A message without its topic (the key or a preceding field holds it).
void write_message_body(ValueWriter& writer, const MessageView& message) {
    writer.byte(qos_retain_flags(message.qos, message.retain));
    writer.text(message.payload);
    writer.number(message.expires_at);
    write_properties(writer, message.properties);
}

void write_message_body(ValueWriter& writer, const MessageRecord& message) {
    write_message_body(writer, view_of(message));
}

void read_message_body(ValueReader& reader, MessageRecord& message) {
    read_qos_retain_flags(reader, message.qos, message.retain);
    message.payload = reader.text();
    message.expires_at = reader.number();
    message.properties = codec::SharedProperties(read_properties(reader));
}

void write_subscription(ValueWriter& writer, const SubscriptionRecord& subscription) {
    const core::SubscriptionOptions& options = subscription.options;
    writer.text(subscription.filter);
    writer.byte(static_cast<uint8_t>((options.qos & 0x03) | (options.no_local ? 0x04 : 0) |
                                     (options.retain_as_published ? 0x08 : 0) |
                                     ((options.retain_handling & 0x03) << 4)));
    writer.number(options.subscription_id);
}

SubscriptionRecord read_subscription(ValueReader& reader) {
    SubscriptionRecord subscription;
    subscription.filter = reader.text();
    uint8_t flags = reader.byte();
    if ((flags & 0xC0) != 0 || (flags & 0x03) == 3 || ((flags >> 4) & 0x03) == 3) {
        reader.fail("invalid subscription options");
    }
    core::SubscriptionOptions& options = subscription.options;
    options.qos = flags & 0x03;
    options.no_local = (flags & 0x04) != 0;
    options.retain_as_published = (flags & 0x08) != 0;
    options.retain_handling = (flags >> 4) & 0x03;
    options.subscription_id = reader.bounded<uint32_t>("subscription id");
    return subscription;
}

void write_will(ValueWriter& writer, const WillRecord& will) {
    writer.text(will.will.topic);
    writer.byte(qos_retain_flags(will.will.qos, will.will.retain));
    writer.text(will.will.payload);
    write_properties(writer, &will.will.properties);
    writer.number(will.delay_s);
    writer.number(will.publish_at);
}

WillRecord read_will(ValueReader& reader) {
    WillRecord will;
    will.will.topic = reader.text();
    read_qos_retain_flags(reader, will.will.qos, will.will.retain);
    will.will.payload = reader.text();
    will.will.properties = read_properties(reader);
    will.delay_s = reader.bounded<uint32_t>("will delay");
    will.publish_at = reader.number();
    return will;
}

void check_name(std::string_view name) {
    if (name.find('\0') != std::string_view::npos) {
        // Cannot come from MQTT [MQTT-1.5.4-2]; would break the key layout.
        throw StorageError("a client id or topic containing U+0000 cannot be stored");
    }
}

std::string name_and_number(std::string_view name, uint64_t number, unsigned bytes) {
    check_name(name);
    std::string key = name_prefix(name);
    for (unsigned index = bytes; index > 0; --index) {
        key.push_back(static_cast<char>((number >> (8 * (index - 1))) & 0xFF));
    }
    return key;
}

SplitKey split_key(std::string_view key, unsigned bytes, std::string_view what) {
    std::size_t separator = key.find('\0');
    if (separator == std::string_view::npos || key.size() - separator - 1 != bytes) {
        throw StorageError(std::string(what) + " key is corrupt");
    }
    SplitKey split{key.substr(0, separator), 0};
    for (std::size_t index = separator + 1; index < key.size(); ++index) {
        split.number = (split.number << 8) | static_cast<uint8_t>(key[index]);
    }
    return split;
}

}  // namespace

std::string session_key(std::string_view client_id) {
    check_name(client_id);
    return std::string(client_id);
}

std::string queue_key(std::string_view client_id, uint64_t seq) {
    return name_and_number(client_id, seq, 8);
}

std::string incoming_qos2_key(std::string_view client_id, uint16_t packet_id) {
    return name_and_number(client_id, packet_id, 2);
}

std::string history_key(std::string_view topic, uint64_t seq) {
    return name_and_number(topic, seq, 8);
}

std::string name_prefix(std::string_view name) {
    std::string prefix(name);
    prefix.push_back('\0');
    return prefix;
}

std::string name_prefix_end(std::string_view name) {
    std::string end(name);
    end.push_back('\x01');
    return end;
}

SplitKey split_queue_key(std::string_view key) {
    return split_key(key, 8, "queue");
}

SplitKey split_incoming_qos2_key(std::string_view key) {
    return split_key(key, 2, "incoming_qos2");
}

SplitKey split_history_key(std::string_view key) {
    return split_key(key, 8, "history");
}

std::string_view key_name(std::string_view key) {
    return key.substr(0, key.find('\0'));
}

std::string encode_meta_number(uint64_t value) {
    std::string out;
    for (int shift = 56; shift >= 0; shift -= 8) {
        out.push_back(static_cast<char>((value >> shift) & 0xFF));
    }
    return out;
}

uint64_t decode_meta_number(std::string_view value, std::string_view what) {
    if (value.size() != 8) {
        throw StorageError("meta value '" + std::string(what) + "' is corrupt");
    }
    uint64_t number = 0;
    for (char byte : value) {
        number = (number << 8) | static_cast<uint8_t>(byte);
    }
    return number;
}

std::string encode_retained(const MessageRecord& message) {
    std::string out;
    ValueWriter writer(out);
    writer.byte(kRecordFormatVersion);
    write_message_body(writer, message);
    return out;
}

MessageRecord decode_retained(std::string_view key, std::string_view value) {
    ValueReader reader(value, "retained");
    reader.version();
    MessageRecord message;
    message.topic = std::string(key);
    read_message_body(reader, message);
    reader.finish();
    return message;
}

std::string encode_session(const SessionRecord& session) {
    std::string out;
    ValueWriter writer(out);
    writer.byte(kRecordFormatVersion);
    writer.byte(session.protocol_version);
    writer.number(session.expiry_interval_s);
    writer.number(session.disconnected_at);
    writer.number(session.subscriptions.size());
    for (const SubscriptionRecord& subscription : session.subscriptions) {
        write_subscription(writer, subscription);
    }
    writer.byte(session.will ? 1 : 0);
    if (session.will) {
        write_will(writer, *session.will);
    }
    writer.byte(session.username ? 1 : 0);
    if (session.username) {
        writer.text(*session.username);
    }
    return out;
}

SessionRecord decode_session(std::string_view key, std::string_view value) {
    ValueReader reader(value, "session");
    reader.version();
    SessionRecord session;
    session.client_id = std::string(key);
    session.protocol_version = reader.byte();
    session.expiry_interval_s = reader.bounded<uint32_t>("session expiry");
    session.disconnected_at = reader.number();
    uint64_t subscriptions = reader.number();
    if (subscriptions > reader.remaining()) {
        reader.fail("subscription count larger than the value");
    }
    for (uint64_t index = 0; index < subscriptions; ++index) {
        session.subscriptions.push_back(read_subscription(reader));
    }
    uint8_t has_will = reader.byte();
    if (has_will > 1) {
        reader.fail("invalid will flag");
    }
    if (has_will == 1) {
        session.will = read_will(reader);
    }
    if (reader.remaining() > 0) {  // records written before user names were stored end here
        uint8_t has_username = reader.byte();
        if (has_username > 1) {
            reader.fail("invalid user name flag");
        }
        if (has_username == 1) {
            session.username = reader.text();
        }
    }
    reader.finish();
    return session;
}

std::string encode_queued(const QueuedRecord& entry) {
    return encode_queued(QueuedView{entry.qos, entry.retain, entry.state, entry.packet_id,
                                    entry.subscription_ids, view_of(entry.message)});
}

std::string encode_queued(const QueuedView& entry) {
    std::string out;
    encode_queued(entry, out);
    return out;
}

void encode_queued(const QueuedView& entry, std::string& out) {
    // Sized once: growing the string step by step costs more than the copy itself.
    constexpr std::size_t kFixedFields = 32;  // version, flags, state, varints
    out.clear();
    out.reserve(kFixedFields + entry.message.topic.size() + entry.message.payload.size() +
                5 * entry.subscription_ids.size());
    ValueWriter writer(out);
    writer.byte(kRecordFormatVersion);
    writer.byte(qos_retain_flags(entry.qos, entry.retain));
    writer.byte(static_cast<uint8_t>(entry.state));
    writer.number(entry.packet_id);
    writer.number(entry.subscription_ids.size());
    for (uint32_t id : entry.subscription_ids) {
        writer.number(id);
    }
    writer.text(entry.message.topic);
    write_message_body(writer, entry.message);
}

QueuedRecord decode_queued(std::string_view key, std::string_view value) {
    return decode_queued_value(split_queue_key(key).number, value);
}

QueuedRecord decode_queued_value(uint64_t seq, std::string_view value) {
    ValueReader reader(value, "queue");
    reader.version();
    QueuedRecord entry;
    entry.seq = seq;
    read_qos_retain_flags(reader, entry.qos, entry.retain);
    uint8_t state = reader.byte();
    if (state > static_cast<uint8_t>(QueuedRecord::State::AwaitingPubcomp)) {
        reader.fail("invalid state");
    }
    entry.state = static_cast<QueuedRecord::State>(state);
    entry.packet_id = reader.bounded<uint16_t>("packet id");
    uint64_t ids = reader.number();
    if (ids > reader.remaining()) {
        reader.fail("subscription id count larger than the value");
    }
    for (uint64_t index = 0; index < ids; ++index) {
        entry.subscription_ids.push_back(reader.bounded<uint32_t>("subscription id"));
    }
    entry.message.topic = reader.text();
    read_message_body(reader, entry.message);
    reader.finish();
    return entry;
}

std::string encode_incoming_qos2() {
    return std::string(1, static_cast<char>(kRecordFormatVersion));
}

void check_incoming_qos2(std::string_view value) {
    ValueReader reader(value, "incoming_qos2");
    reader.version();
    reader.finish();
}

std::string encode_history(const HistoryRecord& entry) {
    std::string out;
    ValueWriter writer(out);
    writer.byte(kRecordFormatVersion);
    writer.number(entry.timestamp);
    write_message_body(writer, entry.message);
    return out;
}

HistoryRecord decode_history(std::string_view key, std::string_view value) {
    ValueReader reader(value, "history");
    reader.version();
    SplitKey split = split_history_key(key);
    HistoryRecord entry;
    entry.seq = split.number;
    entry.message.topic = std::string(split.name);
    entry.timestamp = reader.number();
    read_message_body(reader, entry.message);
    reader.finish();
    return entry;
}

}  // namespace tern::storage
