// Who connects for a scenario: the clients, their topics, which loop runs each one and which
// publisher -> subscriber links a message must travel.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "bench_options.hpp"

namespace tern::bench {

enum class Role { Publisher, Subscriber, Idle };

struct ClientSpec {
    Role role = Role::Idle;
    uint32_t id = 0;              // publisher id (in payloads), subscriber id or idle index
    std::string client_id;        // unique per run (`run_tag`), or fixed for a persistent session
    std::string topic;            // publisher: topic name; subscriber: topic filter
    std::vector<uint32_t> links;  // indexes into Topology::links (outgoing or incoming)
    uint32_t loop = 0;
    int source_ip = -1;  // index from --source-base, -1 = kernel's choice
};

struct Topology {
    std::vector<ClientSpec> clients;  // subscribers first, so they are ready before publishers
    std::vector<std::pair<uint32_t, uint32_t>> links;  // (publisher id, subscriber id)
    uint32_t publishers = 0;
    uint32_t subscribers = 0;
};

// `run_tag` keeps client identifiers of concurrent tern-bench processes apart. With --persistent
// the subscribers' identifiers are instead persistent_client_id_prefix() + their index, the same
// in every run with the same --topic-prefix, so that a run can wipe what an earlier one left.
Topology build_topology(const BenchOptions& options, uint32_t run_tag);

// "tbp" + 8 hex digits of a hash of the topic prefix + "-s": at most 19 bytes with the index
// (below a million), within the 23 every server must accept [MQTT-3.1.3-5].
std::string persistent_client_id_prefix(const BenchOptions& options);

}  // namespace tern::bench
