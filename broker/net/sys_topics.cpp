// $SYS topics, named like Mosquitto's where one exists so existing dashboards keep working.
#include "sys_topics.hpp"

#include <string>
#include <utility>
#include <vector>

#include "broker.hpp"
#include "worker_loop.hpp"

#ifndef TERN_VERSION
#define TERN_VERSION "0.0.0"
#endif

namespace tern::net {

void publish_sys_topics(Broker& broker, WorkerLoop& loop) {
    const StatsSnapshot stats = broker.stats();
    std::vector<std::pair<const char*, std::string>> values = {
        {"$SYS/broker/version", "tern version " TERN_VERSION},
        {"$SYS/broker/uptime", std::to_string(broker.uptime_seconds()) + " seconds"},
        {"$SYS/broker/clients/connected", std::to_string(stats.clients)},
        {"$SYS/broker/clients/total", std::to_string(stats.sessions)},
        {"$SYS/broker/clients/auth_failures", std::to_string(stats.auth_failures)},
        {"$SYS/broker/tls/handshakes", std::to_string(stats.tls_handshakes)},
        {"$SYS/broker/tls/handshake_failures", std::to_string(stats.tls_handshake_failures)},
        {"$SYS/broker/messages/received", std::to_string(stats.messages_received)},
        {"$SYS/broker/messages/sent", std::to_string(stats.messages_sent)},
        {"$SYS/broker/messages/dropped", std::to_string(stats.publish_dropped)},
        {"$SYS/broker/bytes/received", std::to_string(stats.bytes_received)},
        {"$SYS/broker/bytes/sent", std::to_string(stats.bytes_sent)},
        {"$SYS/broker/subscriptions/count", std::to_string(broker.subscriptions().size())},
        {"$SYS/broker/retained messages/count", std::to_string(broker.retained().size())},
        {"$SYS/broker/retained messages/refused", std::to_string(stats.retained_refused)},
        // Abuse limits: sockets reset by the per-address limits, CONNECTs and messages refused
        // while shedding load, PUBLISHes over a connection's rate; the bytes the memory cap
        // tracks.
        {"$SYS/broker/clients/refused/per_ip", std::to_string(stats.refused_per_ip)},
        {"$SYS/broker/clients/refused/rate", std::to_string(stats.refused_rate)},
        {"$SYS/broker/clients/refused/memory", std::to_string(stats.refused_memory)},
        {"$SYS/broker/storage/read-holds", std::to_string(stats.storage_holds)},
        // Backpressure: online subscribers found behind, publishers paused for them.
        {"$SYS/broker/clients/slow-subscribers", std::to_string(stats.slow_subscribers)},
        {"$SYS/broker/clients/publisher-pauses", std::to_string(stats.publisher_pauses)},
        {"$SYS/broker/messages/rate_limited", std::to_string(stats.rate_limited)},
        {"$SYS/broker/messages/shed", std::to_string(stats.shed)},
        {"$SYS/broker/memory/tracked", std::to_string(broker.memory().tracked())},
    };
    if (storage::Store* store = broker.store()) {
        // Storage writes, and the queue entries never written because their subscribers
        // acknowledged them within the write delay.
        const storage::StoreStats storage_stats = store->stats();
        values.emplace_back("$SYS/broker/storage/ops/written",
                            std::to_string(storage_stats.ops_written));
        values.emplace_back("$SYS/broker/storage/ops/cancelled",
                            std::to_string(storage_stats.ops_cancelled));
    }
    const core::MonoMillis now = loop.now();
    for (const auto& [topic, value] : values) {
        broker.publish(loop, Broker::make_message(topic, value, 0, true, {}, 0, now));
    }
}

}  // namespace tern::net
