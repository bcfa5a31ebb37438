// The tern-db subcommands: print, export and import what a stopped broker stored.
#include "db_commands.hpp"

#include <ctime>
#include <functional>
#include <istream>
#include <map>
#include <ostream>
#include <stdexcept>
#include <vector>

#include "record_json.hpp"

namespace tern::tools::db {
namespace {

using namespace storage;
using nlohmann::json;

constexpr std::size_t kPreviewBytes = 80;
constexpr std::size_t kImportBatch = 1000;

// Unix milliseconds as ISO 8601 UTC; 0 as "-".
std::string format_time(UnixMillis millis) {
    if (millis == 0) {
        return "-";
    }
    std::time_t seconds = static_cast<std::time_t>(millis / 1000);
    std::tm parts{};
    gmtime_r(&seconds, &parts);
    char text[40];
    std::size_t length = std::strftime(text, sizeof text, "%Y-%m-%dT%H:%M:%S", &parts);
    std::snprintf(text + length, sizeof text - length, ".%03uZ",
                  static_cast<unsigned>(millis % 1000));
    return text;
}

// A payload for one line of text: quoted and escaped text cut at a character boundary, or the
// size and first bytes in hex for binary data.
std::string preview(std::string_view payload) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string text;
    if (!is_text(payload)) {
        text = "<" + std::to_string(payload.size()) + " bytes binary:";
        for (std::size_t index = 0; index < std::min<std::size_t>(payload.size(), 16); ++index) {
            auto byte = static_cast<unsigned char>(payload[index]);
            text += ' ';
            text.push_back(kHex[byte >> 4]);
            text.push_back(kHex[byte & 0x0F]);
        }
        return text + (payload.size() > 16 ? " ...>" : ">");
    }
    std::size_t cut = payload.size();
    if (cut > kPreviewBytes) {
        cut = kPreviewBytes;
        while (cut > 0 && (static_cast<unsigned char>(payload[cut]) & 0xC0) == 0x80) {
            --cut;  // do not split a UTF-8 sequence
        }
    }
    text = "\"";
    for (char c : payload.substr(0, cut)) {
        auto byte = static_cast<unsigned char>(c);
        if (c == '"' || c == '\\') {
            text += '\\';
            text += c;
        } else if (c == '\n') {
            text += "\\n";
        } else if (byte < 0x20 || byte == 0x7F) {
            text += "\\x";
            text.push_back(kHex[byte >> 4]);
            text.push_back(kHex[byte & 0x0F]);
        } else {
            text += c;
        }
    }
    text += '"';
    if (cut < payload.size()) {
        text += "... (" + std::to_string(payload.size()) + " bytes)";
    }
    return text;
}

std::string properties_text(const codec::Properties& properties) {
    json object = properties_to_json(properties);
    if (object.empty()) {
        return "";
    }
    return " properties=" + object.dump(-1, ' ', false, json::error_handler_t::replace);
}

std::string message_text(const MessageRecord& message) {
    std::string text = "qos=" + std::to_string(message.qos) +
                       " retain=" + (message.retain ? "1" : "0") +
                       " bytes=" + std::to_string(message.payload.size());
    if (message.expires_at != 0) {
        text += " expires=" + format_time(message.expires_at);
    }
    return text + " payload=" + preview(message.payload) +
           properties_text(message.properties.get());
}

std::string protocol_text(uint8_t version) {
    switch (version) {
        case 3:
            return "3.1";
        case 4:
            return "3.1.1";
        case 5:
            return "5.0";
        default:
            return "unknown(" + std::to_string(version) + ")";
    }
}

void write_session(const SessionRecord& session, std::ostream& out) {
    out << session.client_id << "  protocol=" << protocol_text(session.protocol_version)
        << " expiry="
        << (session.expiry_interval_s == 0xFFFFFFFF
                ? std::string("never")
                : std::to_string(session.expiry_interval_s) + "s")
        << " disconnected="
        << (session.disconnected_at == 0 ? std::string("no (connected at its last write)")
                                         : format_time(session.disconnected_at))
        << " subscriptions=" << session.subscriptions.size() << '\n';
    for (const SubscriptionRecord& subscription : session.subscriptions) {
        const core::SubscriptionOptions& options = subscription.options;
        out << "    subscription " << subscription.filter << " qos=" << int{options.qos}
            << " no_local=" << options.no_local
            << " retain_as_published=" << options.retain_as_published
            << " retain_handling=" << int{options.retain_handling};
        if (options.subscription_id != 0) {
            out << " id=" << options.subscription_id;
        }
        out << '\n';
    }
    if (session.will) {
        const codec::Will& will = session.will->will;
        out << "    will " << will.topic << " qos=" << int{will.qos} << " retain=" << will.retain
            << " delay=" << session.will->delay_s << "s"
            << " publish_at=" << format_time(session.will->publish_at)
            << " payload=" << preview(will.payload) << properties_text(will.properties) << '\n';
    }
}

std::string state_text(QueuedRecord::State state) {
    switch (state) {
        case QueuedRecord::State::Queued:
            return "queued";
        case QueuedRecord::State::AwaitingPuback:
            return "awaiting-puback";
        case QueuedRecord::State::AwaitingPubrec:
            return "awaiting-pubrec";
        case QueuedRecord::State::AwaitingPubcomp:
            return "awaiting-pubcomp";
    }
    return "unknown";
}

// An inspect visitor that forwards to whichever callbacks are set and ignores the rest.
struct Visitor : InspectVisitor {
    std::function<void(MessageRecord&&)> on_retained;
    std::function<void(SessionRecord&&)> on_session;
    std::function<void(const std::string&, QueuedRecord&&)> on_queued;
    std::function<void(const std::string&, uint16_t)> on_incoming;
    std::function<void(HistoryRecord&&)> on_history;
    std::function<void(uint64_t, uint64_t)> on_meta;

    void retained(MessageRecord&& message) override { call(on_retained, std::move(message)); }
    void session(SessionRecord&& record) override { call(on_session, std::move(record)); }
    void queued(const std::string& client_id, QueuedRecord&& entry) override {
        call(on_queued, client_id, std::move(entry));
    }
    void incoming_qos2(const std::string& client_id, uint16_t packet_id) override {
        call(on_incoming, client_id, packet_id);
    }
    void history(HistoryRecord&& entry) override { call(on_history, std::move(entry)); }
    void meta(uint64_t format, uint64_t epoch) override { call(on_meta, format, epoch); }

    template <typename F, typename... Args>
    static void call(F& callback, Args&&... args) {
        if (callback) {
            callback(std::forward<Args>(args)...);
        }
    }
};

}  // namespace

void print_retained(const RocksDbStore& store, bool as_json, std::ostream& out) {
    Visitor visitor;
    uint64_t count = 0;
    visitor.on_retained = [&](MessageRecord&& message) {
        ++count;
        if (as_json) {
            out << message_to_json(message).dump(-1, ' ', false, json::error_handler_t::replace)
                << '\n';
        } else {
            out << message.topic << "  " << message_text(message) << '\n';
        }
    };
    store.inspect(visitor, kInspectRetained);
    if (!as_json) {
        out << count << " retained message" << (count == 1 ? "" : "s") << '\n';
    }
}

void print_sessions(const RocksDbStore& store, std::ostream& out) {
    Visitor visitor;
    uint64_t count = 0;
    visitor.on_session = [&](SessionRecord&& session) {
        ++count;
        write_session(session, out);
    };
    store.inspect(visitor, kInspectSessions);
    out << count << " session" << (count == 1 ? "" : "s") << '\n';
}

void print_queues(const RocksDbStore& store, std::ostream& out) {
    struct Depth {
        bool has_session = false;
        uint64_t queued = 0;
        uint64_t in_flight = 0;
        uint64_t incoming_qos2 = 0;
    };
    std::map<std::string, Depth> depths;
    Visitor visitor;
    visitor.on_session = [&](SessionRecord&& session) {
        depths[session.client_id].has_session = true;
    };
    visitor.on_queued = [&](const std::string& client_id, QueuedRecord&& entry) {
        Depth& depth = depths[client_id];
        (entry.state == QueuedRecord::State::Queued ? depth.queued : depth.in_flight) += 1;
    };
    visitor.on_incoming = [&](const std::string& client_id, uint16_t) {
        depths[client_id].incoming_qos2 += 1;
    };
    store.inspect(visitor, kInspectSessions | kInspectQueue | kInspectIncomingQos2);
    Depth total;
    for (const auto& [client_id, depth] : depths) {
        out << client_id << "  queued=" << depth.queued << " in_flight=" << depth.in_flight
            << " incoming_qos2=" << depth.incoming_qos2
            << (depth.has_session ? "" : " (no session)") << '\n';
        total.queued += depth.queued;
        total.in_flight += depth.in_flight;
        total.incoming_qos2 += depth.incoming_qos2;
    }
    out << depths.size() << " clients: queued=" << total.queued << " in_flight=" << total.in_flight
        << " incoming_qos2=" << total.incoming_qos2 << '\n';
}

void print_dump(const RocksDbStore& store, std::ostream& out) {
    std::map<std::string, uint64_t> totals;
    Visitor visitor;
    visitor.on_meta = [&](uint64_t format, uint64_t epoch) {
        out << "[meta] format=" << format << " epoch=" << epoch << '\n';
    };
    visitor.on_retained = [&](MessageRecord&& message) {
        ++totals["retained"];
        out << "[retained] " << message.topic << "  " << message_text(message) << '\n';
    };
    visitor.on_session = [&](SessionRecord&& session) {
        ++totals["sessions"];
        out << "[session] ";
        write_session(session, out);
    };
    visitor.on_queued = [&](const std::string& client_id, QueuedRecord&& entry) {
        ++totals["queue"];
        out << "[queue] " << client_id << " #" << entry.seq << " " << state_text(entry.state)
            << " delivery_qos=" << int{entry.qos} << " packet_id=" << entry.packet_id;
        for (uint32_t id : entry.subscription_ids) {
            out << " subscription_id=" << id;
        }
        out << " topic=" << entry.message.topic << "  " << message_text(entry.message) << '\n';
    };
    visitor.on_incoming = [&](const std::string& client_id, uint16_t packet_id) {
        ++totals["incoming_qos2"];
        out << "[incoming_qos2] " << client_id << " packet_id=" << packet_id << '\n';
    };
    visitor.on_history = [&](HistoryRecord&& entry) {
        ++totals["history"];
        out << "[history] " << entry.message.topic << " #" << entry.seq
            << " at=" << format_time(entry.timestamp) << "  " << message_text(entry.message)
            << '\n';
    };
    store.inspect(visitor);
    out << "totals: retained=" << totals["retained"] << " sessions=" << totals["sessions"]
        << " queue=" << totals["queue"] << " incoming_qos2=" << totals["incoming_qos2"]
        << " history=" << totals["history"] << '\n';
}

uint64_t export_retained(const RocksDbStore& store, std::ostream& out) {
    Visitor visitor;
    uint64_t count = 0;
    visitor.on_retained = [&](MessageRecord&& message) {
        ++count;
        out << message_to_json(message).dump(-1, ' ', false, json::error_handler_t::replace)
            << '\n';
    };
    store.inspect(visitor, kInspectRetained);
    return count;
}

ImportResult import_retained(Store& store, std::istream& in, const std::string& name) {
    UnixMillis now = unix_now_ms();
    std::vector<MessageRecord> messages;
    std::string line;
    for (uint64_t number = 1; std::getline(in, line); ++number) {
        if (line.find_first_not_of(" \t\r") == std::string::npos) {
            continue;
        }
        try {
            messages.push_back(message_from_json(json::parse(line), now));
        } catch (const std::exception& error) {
            std::string reason = error.what();
            if (dynamic_cast<const json::exception*>(&error) != nullptr) {
                reason = "invalid JSON: " + reason;
            }
            throw std::runtime_error(name + ":" + std::to_string(number) + ": " + reason);
        }
    }
    if (in.bad()) {
        throw std::runtime_error(name + ": read error");
    }
    ImportResult result;
    WriteBatch batch;
    for (MessageRecord& message : messages) {
        if (message.payload.empty()) {
            batch.add(WriteBatch::EraseRetained{message.topic});
            result.cleared += 1;
        } else {
            batch.add(WriteBatch::PutRetained{std::move(message)});
            result.stored += 1;
        }
        if (batch.size() >= kImportBatch) {
            store.submit(std::move(batch), {});
            batch = WriteBatch();
        }
    }
    if (!batch.empty()) {
        store.submit(std::move(batch), {});
    }
    store.close();  // waits for every batch, then flushes
    if (store.stats().write_errors != 0) {
        throw std::runtime_error("writing to the database failed (see the messages above)");
    }
    return result;
}

}  // namespace tern::tools::db
