// Scenario shapes: fan-in, fan-out, pairs (and latency), idle and publish-only.
#include "topology.hpp"

#include <cstdio>

namespace tern::bench {

namespace {

class Builder {
  public:
    Builder(const BenchOptions& options, uint32_t run_tag)
        : _options(options),
          _tag("tb" + std::to_string(run_tag) + "-"),
          _persistent_prefix(options.persistent ? persistent_client_id_prefix(options) : "") {}

    uint32_t add(Role role, uint32_t id, std::string topic, uint32_t loop) {
        ClientSpec spec;
        spec.role = role;
        spec.id = id;
        const char* kind = role == Role::Publisher ? "p" : role == Role::Subscriber ? "s" : "c";
        spec.client_id = role == Role::Subscriber && _options.persistent
                             ? _persistent_prefix + std::to_string(id)
                             : _tag + kind + std::to_string(id);
        spec.topic = std::move(topic);
        spec.loop = loop % _options.threads;
        if (_options.source_ips > 0) {
            spec.source_ip = static_cast<int>(_topology.clients.size() % _options.source_ips);
        }
        _topology.clients.push_back(std::move(spec));
        return static_cast<uint32_t>(_topology.clients.size() - 1);
    }

    void link(uint32_t publisher_client, uint32_t subscriber_client) {
        auto& publisher = _topology.clients[publisher_client];
        auto& subscriber = _topology.clients[subscriber_client];
        const auto index = static_cast<uint32_t>(_topology.links.size());
        _topology.links.emplace_back(publisher.id, subscriber.id);
        publisher.links.push_back(index);
        subscriber.links.push_back(index);
    }

    std::string topic(uint32_t id) const {
        return _options.topic_prefix + "/" + std::to_string(id);
    }

    Topology take() { return std::move(_topology); }

  private:
    const BenchOptions& _options;
    std::string _tag;
    std::string _persistent_prefix;
    Topology _topology;
};

}  // namespace

std::string persistent_client_id_prefix(const BenchOptions& options) {
    // FNV-1a: stable across runs, builds and machines (std::hash is not).
    uint32_t hash = 2166136261u;
    for (const char c : options.topic_prefix) {
        hash = (hash ^ static_cast<uint8_t>(c)) * 16777619u;
    }
    char hex[9];
    std::snprintf(hex, sizeof hex, "%08x", hash);
    return std::string("tbp") + hex + "-s";
}

Topology build_topology(const BenchOptions& o, uint32_t run_tag) {
    Builder b(o, run_tag);
    std::vector<uint32_t> subscribers;
    std::vector<uint32_t> publishers;
    switch (o.scenario) {
        case Scenario::FanIn:
            subscribers.push_back(b.add(Role::Subscriber, 0, o.topic_prefix + "/#", 0));
            for (uint32_t i = 0; i < o.publishers; ++i) {
                publishers.push_back(b.add(Role::Publisher, i, b.topic(i), i));
                b.link(publishers.back(), subscribers[0]);
            }
            break;
        case Scenario::FanOut:
            for (uint32_t i = 0; i < o.subscribers; ++i) {
                subscribers.push_back(b.add(Role::Subscriber, i, b.topic(0), i));
            }
            publishers.push_back(b.add(Role::Publisher, 0, b.topic(0), 0));
            for (const uint32_t subscriber : subscribers) {
                b.link(publishers[0], subscriber);
            }
            break;
        case Scenario::Pairs:
        case Scenario::Latency:
            for (uint32_t i = 0; i < o.publishers; ++i) {
                subscribers.push_back(b.add(Role::Subscriber, i, b.topic(i), i));
            }
            for (uint32_t i = 0; i < o.publishers; ++i) {
                publishers.push_back(b.add(Role::Publisher, i, b.topic(i), i));
                b.link(publishers[i], subscribers[i]);
            }
            break;
        case Scenario::Idle:
            for (uint32_t i = 0; i < o.connections; ++i) {
                b.add(Role::Idle, i, {}, i);
            }
            break;
        case Scenario::Publish:
            for (uint32_t i = 0; i < o.publishers; ++i) {
                b.add(Role::Publisher, i, b.topic(i), i);
            }
            break;
    }
    Topology topology = b.take();
    topology.publishers = static_cast<uint32_t>(publishers.size());
    topology.subscribers = static_cast<uint32_t>(subscribers.size());
    if (o.scenario == Scenario::Publish) {
        topology.publishers = o.publishers;
    }
    return topology;
}

}  // namespace tern::bench
