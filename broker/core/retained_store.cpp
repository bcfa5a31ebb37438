// Retained messages in a trie of topic levels, so a wildcard filter visits only matching branches.
#include "core/retained_store.hpp"

#include <functional>
#include <mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/topic.hpp"

namespace tern::core {
namespace {

// Lets the children be searched with a std::string_view level, without building a string.
struct LevelHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view level) const noexcept {
        return std::hash<std::string_view>{}(level);
    }
};

struct RetainedNode {
    using Children =
        std::unordered_map<std::string, std::unique_ptr<RetainedNode>, LevelHash, std::equal_to<>>;

    Children children;
    MessagePtr message;  // the retained message of the topic ending here, if any

    bool empty() const noexcept { return children.empty() && !message; }
};

bool starts_with_dollar(std::string_view level) noexcept {
    return !level.empty() && level.front() == '$';
}

// Frees a subtree without recursion: a topic may have tens of thousands of levels.
void destroy_subtree(std::unique_ptr<RetainedNode> root) {
    std::vector<std::unique_ptr<RetainedNode>> pending;
    pending.push_back(std::move(root));
    while (!pending.empty()) {
        std::unique_ptr<RetainedNode> node = std::move(pending.back());
        pending.pop_back();
        for (auto& [level, child] : node->children) {
            pending.push_back(std::move(child));
        }
    }
}

void append_if_live(const RetainedNode& node, MonoMillis now, std::vector<MessagePtr>& out) {
    // An expired message is no longer delivered to anyone [MQTT-3.3.2-5].
    if (node.message && !node.message->expired(now)) {
        out.push_back(node.message);
    }
}

// Appends every live message at or below `top`: what "<path>/#" matches, since '#' matches the
// parent level too [MQTT-4.7.1-2]. At the root, '$' topics are left out [MQTT-4.7.2-1].
void append_subtree(const RetainedNode& top, bool at_root, MonoMillis now,
                    std::vector<MessagePtr>& out) {
    append_if_live(top, now, out);
    std::vector<const RetainedNode*> pending;
    for (const auto& [level, child] : top.children) {
        if (!(at_root && starts_with_dollar(level))) {
            pending.push_back(child.get());
        }
    }
    while (!pending.empty()) {
        const RetainedNode* node = pending.back();
        pending.pop_back();
        append_if_live(*node, now, out);
        for (const auto& [level, child] : node->children) {
            pending.push_back(child.get());
        }
    }
}

}  // namespace

struct RetainedStore::Node : RetainedNode {};

RetainedStore::RetainedStore() : _root(std::make_unique<Node>()) {}

RetainedStore::~RetainedStore() {
    for (auto& [level, child] : _root->children) {
        destroy_subtree(std::move(child));
    }
}

void RetainedStore::set(MessagePtr message) {
    if (!message) {
        return;
    }
    // A retained PUBLISH with an empty payload removes the retained message of its topic and is
    // never stored itself [MQTT-3.3.1-10, MQTT-3.3.1-11] (5.0: MQTT-3.3.1-6, MQTT-3.3.1-7).
    if (message->payload.empty()) {
        erase(message->topic);
        return;
    }
    std::unique_lock lock(_mutex);
    RetainedNode* node = _root.get();
    TopicLevels levels(message->topic);
    while (!levels.done()) {
        std::string_view level = levels.next();
        auto it = node->children.find(level);
        if (it == node->children.end()) {
            it = node->children.emplace(std::string(level), std::make_unique<RetainedNode>()).first;
        }
        node = it->second.get();
    }
    // A new retained message replaces the previous one of the topic [MQTT-3.3.1-5].
    if (!node->message) {
        ++_count;
    } else {
        forget(*node->message);
    }
    remember(*message);
    node->message = std::move(message);
}

void RetainedStore::erase(std::string_view topic) {
    MessagePtr removed;  // released after the lock, so a last reference is freed outside it
    std::unique_lock lock(_mutex);
    std::vector<std::pair<RetainedNode*, RetainedNode::Children::iterator>> trail;
    RetainedNode* node = _root.get();
    TopicLevels levels(topic);
    while (!levels.done()) {
        auto it = node->children.find(levels.next());
        if (it == node->children.end()) {
            return;
        }
        trail.emplace_back(node, it);
        node = it->second.get();
    }
    if (!node->message) {
        return;
    }
    removed = std::move(node->message);
    forget(*removed);
    --_count;
    for (auto step = trail.rbegin(); step != trail.rend(); ++step) {
        if (!step->second->second->empty()) {
            break;
        }
        step->first->children.erase(step->second);
    }
}

void RetainedStore::match(std::string_view filter, MonoMillis now,
                          std::vector<MessagePtr>& out) const {
    struct Frame {
        const RetainedNode* node;
        std::size_t position;  // where the next filter level starts, past the end when consumed
    };
    std::vector<Frame> frames;
    std::shared_lock lock(_mutex);
    frames.push_back({_root.get(), 0});
    while (!frames.empty()) {
        const Frame frame = frames.back();
        frames.pop_back();
        TopicLevels levels(filter, frame.position);
        if (levels.done()) {
            append_if_live(*frame.node, now, out);
            continue;
        }
        const bool at_root = frame.position == 0;
        const std::string_view level = levels.next();
        if (level == "#") {
            append_subtree(*frame.node, at_root, now, out);
        } else if (level == "+") {
            // '+' matches any one level, an empty one included, but a leading wildcard does not
            // match a '$' topic [MQTT-4.7.2-1].
            for (const auto& [name, child] : frame.node->children) {
                if (!(at_root && starts_with_dollar(name))) {
                    frames.push_back({child.get(), levels.position()});
                }
            }
        } else {
            auto child = frame.node->children.find(level);
            if (child != frame.node->children.end()) {
                frames.push_back({child->second.get(), levels.position()});
            }
        }
    }
}

void RetainedStore::remember(const Message& message) noexcept {
    _bytes += message.topic.size() + message.payload.size();
    if (message.expires_at != 0) {
        ++_expiring;
    }
}

void RetainedStore::forget(const Message& message) noexcept {
    _bytes -= message.topic.size() + message.payload.size();
    if (message.expires_at != 0) {
        --_expiring;
    }
}

bool RetainedStore::contains(std::string_view topic) const {
    std::shared_lock lock(_mutex);
    const RetainedNode* node = _root.get();
    TopicLevels levels(topic);
    while (!levels.done()) {
        auto it = node->children.find(levels.next());
        if (it == node->children.end()) {
            return false;
        }
        node = it->second.get();
    }
    return node->message != nullptr;
}

uint64_t RetainedStore::bytes() const {
    std::shared_lock lock(_mutex);
    return _bytes;
}

std::size_t RetainedStore::purge_expired(MonoMillis now) {
    std::vector<MessagePtr> expired;  // released after the lock
    {
        std::shared_lock peek(_mutex);
        if (_expiring == 0) {
            return 0;  // nothing can expire: skip the walk
        }
    }
    std::unique_lock lock(_mutex);
    // Every node in pre-order with its parent and its entry there; walked backwards, each node is
    // visited after all of its descendants, so emptied branches fold up in one pass.
    struct Visit {
        RetainedNode* parent;
        RetainedNode::Children::iterator entry;
    };
    std::vector<Visit> order;
    std::vector<RetainedNode*> pending{_root.get()};
    while (!pending.empty()) {
        RetainedNode* node = pending.back();
        pending.pop_back();
        for (auto it = node->children.begin(); it != node->children.end(); ++it) {
            order.push_back({node, it});
            pending.push_back(it->second.get());
        }
    }
    for (auto visit = order.rbegin(); visit != order.rend(); ++visit) {
        RetainedNode& node = *visit->entry->second;
        if (node.message && node.message->expired(now)) {
            forget(*node.message);
            expired.push_back(std::move(node.message));
        }
        if (node.empty()) {
            visit->parent->children.erase(visit->entry);
        }
    }
    _count -= expired.size();
    return expired.size();
}

std::size_t RetainedStore::size() const {
    std::shared_lock lock(_mutex);
    return _count;
}

std::size_t RetainedStore::node_count() const {
    std::shared_lock lock(_mutex);
    std::size_t count = 0;
    std::vector<const RetainedNode*> pending{_root.get()};
    while (!pending.empty()) {
        const RetainedNode* node = pending.back();
        pending.pop_back();
        count += node->children.size();
        for (const auto& [level, child] : node->children) {
            pending.push_back(child.get());
        }
    }
    return count;
}

}  // namespace tern::core
