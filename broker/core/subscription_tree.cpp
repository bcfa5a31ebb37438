// The subscription tree: a trie of topic levels whose nodes hold direct and shared subscribers.
#include "core/subscription_tree.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <functional>
#include <optional>
#include <random>
#include <shared_mutex>
#include <string>
#include <unordered_map>
#include <utility>

#include "core/level_map.hpp"
#include "core/topic.hpp"

namespace tern::core {

uint64_t level_hash_seed() noexcept {
    static const uint64_t seed = []() -> uint64_t {
        try {
            std::random_device device;
            return (uint64_t{device()} << 32) ^ device();
        } catch (const std::exception&) {
            // No entropy source: the start time still differs between runs.
            return static_cast<uint64_t>(
                std::chrono::steady_clock::now().time_since_epoch().count());
        }
    }();
    return seed;
}

namespace {

// Lets the group map be searched with a std::string_view name without building a string.
struct GroupNameHash {
    using is_transparent = void;
    std::size_t operator()(std::string_view name) const noexcept {
        return std::hash<std::string_view>{}(name);
    }
};

struct Subscription {
    SubscriberKey key;
    SubscriptionOptions options;
    const SubscriberState* state = nullptr;  // null = always online, never durable
};

using Member = Subscription;  // of a shared group

// Subscriptions of one node, keyed by session uid (unique for the life of the process). A vector
// while small; past kIndexFrom entries a uid → index map keeps subscribe and unsubscribe O(1)
// when thousands of sessions share one filter. Order is not preserved (swap-and-pop removal).
template <typename Entry>
class SessionList {
  public:
    bool empty() const noexcept { return _entries.empty(); }
    std::size_t size() const noexcept { return _entries.size(); }
    const Entry& operator[](std::size_t i) const noexcept { return _entries[i]; }
    auto begin() const noexcept { return _entries.begin(); }
    auto end() const noexcept { return _entries.end(); }

    // Adds `entry`, or replaces the entry of the same session; true when it was added.
    bool upsert(const Entry& entry) {
        if (std::optional<std::size_t> at = find(entry.key.session_uid)) {
            _entries[*at] = entry;
            return false;
        }
        _entries.push_back(entry);
        if (_index) {
            _index->emplace(entry.key.session_uid, _entries.size() - 1);
        } else if (_entries.size() > kIndexFrom) {
            _index = std::make_unique<std::unordered_map<uint64_t, std::size_t>>();
            for (std::size_t i = 0; i < _entries.size(); ++i) {
                _index->emplace(_entries[i].key.session_uid, i);
            }
        }
        return true;
    }

    // Removes the entry of session `uid`; false when there was none.
    bool erase(uint64_t uid) {
        std::optional<std::size_t> at = find(uid);
        if (!at) {
            return false;
        }
        if (*at + 1 != _entries.size()) {
            _entries[*at] = std::move(_entries.back());
            if (_index) {
                (*_index)[_entries[*at].key.session_uid] = *at;
            }
        }
        _entries.pop_back();
        if (_index) {
            _index->erase(uid);
            if (_entries.empty()) {
                _index.reset();
            }
        }
        return true;
    }

  private:
    static constexpr std::size_t kIndexFrom = 32;

    std::optional<std::size_t> find(uint64_t uid) const {
        if (_index) {
            auto it = _index->find(uid);
            return it == _index->end() ? std::nullopt : std::optional<std::size_t>(it->second);
        }
        for (std::size_t i = 0; i < _entries.size(); ++i) {
            if (_entries[i].key.session_uid == uid) {
                return i;
            }
        }
        return std::nullopt;
    }

    std::vector<Entry> _entries;
    std::unique_ptr<std::unordered_map<uint64_t, std::size_t>> _index;
};

// One shared subscription "$share/<name>/<filter>": its members and where round-robin resumes.
// The cursor is atomic because match() runs concurrently under the shared lock.
struct SharedGroup {
    SessionList<Member> members;
    // On its own cache line: every match that reaches the group writes it, and it must not evict
    // the member list that other threads are reading at the same time.
    alignas(64) mutable std::atomic<uint32_t> cursor{0};

    // Picks the member that receives the next message: round-robin over connected members that
    // keep up, else over connected ones (all behind: the publisher is then paused), else over
    // all members (none connected: the message waits in a session queue).
    const Member* choose() const noexcept {
        const std::size_t count = members.size();
        if (count == 0) {
            return nullptr;
        }
        // Each call claims its own starting point, so concurrent matches spread out.
        const uint32_t start = cursor.fetch_add(1, std::memory_order_relaxed);
        const Member* first_online = nullptr;
        for (std::size_t step = 0; step < count; ++step) {
            const Member& member = members[(start + step) % count];
            if (member.state == nullptr) {
                return &member;
            }
            if (!member.state->online.load(std::memory_order_relaxed)) {
                continue;
            }
            if (!member.state->congested.load(std::memory_order_relaxed)) {
                // Resume after the chosen member, skipping the ones just passed over.
                if (step != 0) {
                    cursor.fetch_add(static_cast<uint32_t>(step), std::memory_order_relaxed);
                }
                return &member;
            }
            if (first_online == nullptr) {
                first_online = &member;
            }
        }
        return first_online != nullptr ? first_online : &members[start % count];
    }
};

// A tree node: one topic level. The base of SubscriptionTree::Node so the helpers below, which
// are not members, can name it.
struct TreeNode {
    LevelMap<std::unique_ptr<TreeNode>> children;
    // children["+"] and children["#"], cached: matching visits them at every level.
    TreeNode* plus = nullptr;
    TreeNode* hash = nullptr;
    SessionList<Subscription> subscribers;
    // Shared subscriptions by group name. SharedGroup cannot move (its atomic cursor), and few
    // nodes have any, so a node-based map.
    std::unordered_map<std::string, SharedGroup, GroupNameHash, std::equal_to<>> groups;

    bool empty() const noexcept {
        return children.empty() && subscribers.empty() && groups.empty();
    }

    TreeNode* child(std::string_view level) const noexcept {
        const auto* entry = children.find(level);
        return entry == nullptr ? nullptr : entry->value.get();
    }

    TreeNode& child_or_create(std::string_view level) {
        if (TreeNode* existing = child(level)) {
            return *existing;
        }
        TreeNode* created = children.emplace(level, std::make_unique<TreeNode>()).value.get();
        if (level == "+") {
            plus = created;
        } else if (level == "#") {
            hash = created;
        }
        return *created;
    }

    void erase_child(std::string_view level) {
        if (level == "+") {
            plus = nullptr;
        } else if (level == "#") {
            hash = nullptr;
        }
        children.erase(level);
    }
};

// Frees a subtree without recursion: a filter may have tens of thousands of levels, and the
// default destructor chain would use one stack frame per level.
void destroy_subtree(std::unique_ptr<TreeNode> root) {
    std::vector<std::unique_ptr<TreeNode>> pending;
    pending.push_back(std::move(root));
    while (!pending.empty()) {
        std::unique_ptr<TreeNode> node = std::move(pending.back());
        pending.pop_back();
        for (auto& entry : node->children) {
            pending.push_back(std::move(entry.value));
        }
    }
}

std::size_t count_nodes(const TreeNode& root) {
    std::size_t count = 0;
    std::vector<const TreeNode*> pending{&root};
    while (!pending.empty()) {
        const TreeNode* node = pending.back();
        pending.pop_back();
        for (const auto& entry : node->children) {
            ++count;
            pending.push_back(entry.value.get());
        }
    }
    return count;
}

// Per-thread scratch reused by every match() on this thread, so a match allocates nothing once
// warmed up except what `out` itself needs.
struct MatchScratch {
    struct Frame {
        const TreeNode* node;
        std::size_t position;  // where the next topic level starts, past the end when consumed
    };
    std::vector<Frame> frames;    // FrameStack's spill
    std::vector<uint32_t> slots;  // open-addressing table: index into `out` + 1, 0 = empty
};

thread_local MatchScratch t_scratch;

// The nodes left to visit. The walk is depth first and each node adds at most one frame more
// than it takes, so topics of up to kInline levels stay on the stack; deeper ones spill into
// the thread's vector. A std::vector alone costs a thread-local access per push and pop.
class FrameStack {
  public:
    using Frame = MatchScratch::Frame;
    explicit FrameStack(std::vector<Frame>& spill) noexcept : _spill(spill) {}
    FrameStack(const FrameStack&) = delete;
    FrameStack& operator=(const FrameStack&) = delete;

    bool empty() const noexcept { return _size == 0; }
    void push(Frame frame) {
        if (_size == _capacity) {
            grow();
        }
        _data[_size++] = frame;
    }
    Frame pop() noexcept { return _data[--_size]; }

  private:
    static constexpr std::size_t kInline = 32;

    void grow() {
        _spill.resize(_capacity * 2);
        if (_data == _inline) {
            std::copy(_inline, _inline + _size, _spill.begin());
        }
        _data = _spill.data();
        _capacity = _spill.size();
    }

    Frame _inline[kInline];
    Frame* _data = _inline;
    std::size_t _size = 0;
    std::size_t _capacity = kInline;
    std::vector<Frame>& _spill;
};

// Builds the deliveries of one match in `out`, one per session. Entries already in `out` are
// reused (their subscription id vectors keep their capacity) and the surplus is dropped at the
// end, which is observably the same as clearing `out` first.
class DeliveryMerger {
  public:
    DeliveryMerger(std::vector<Delivery>& out, std::vector<uint32_t>& slots)
        : _out(out), _slots(slots) {}
    DeliveryMerger(const DeliveryMerger&) = delete;
    DeliveryMerger& operator=(const DeliveryMerger&) = delete;
    ~DeliveryMerger() { finish(); }
    // Trims `out` to the deliveries of this match.
    void finish() { _out.resize(_used); }

    // Merges one matching subscription of `key`'s session: maximum QoS [MQTT-3.3.4-2] (3.1.1:
    // MQTT-3.3.5-1), Retain As Published if any subscription asked for it, and every
    // subscription identifier, as one copy carries them all [MQTT-3.3.4-3, MQTT-3.3.4-4].
    void add(const Subscription& subscription) {
        const SubscriberKey& key = subscription.key;
        const SubscriptionOptions& options = subscription.options;
        Delivery* delivery = find(key.session_uid);
        if (delivery == nullptr) {
            delivery = &append(key);
            delivery->qos = options.qos;
            delivery->retain_as_published = options.retain_as_published;
            delivery->durable = false;
            delivery->congested = false;
            delivery->transit_weight = 0;
            delivery->state = subscription.state;
        } else {
            delivery->qos = std::max(delivery->qos, options.qos);
            delivery->retain_as_published |= options.retain_as_published;
        }
        // Only QoS 1/2 deliveries are stored by the publishing loop: a QoS 0 subscription does
        // not touch the session's memory.
        const SubscriberState* state = subscription.state;
        if (state != nullptr) {
            delivery->congested |= state->congested.load(std::memory_order_relaxed);
        }
        if (options.qos > 0 && !delivery->durable && state != nullptr &&
            state->durable.load(std::memory_order_relaxed)) {
            delivery->durable = true;
            delivery->client_id = *state->client_id;  // copied: valid only under the lock
        }
        if (options.subscription_id != 0) {
            delivery->subscription_ids.push_back(options.subscription_id);
        }
    }

  private:
    // Below this many deliveries a linear scan beats hashing.
    static constexpr std::size_t kLinearUpTo = 16;

    static std::size_t slot_of(uint64_t uid, std::size_t mask) noexcept {
        return static_cast<std::size_t>((uid * 0x9E3779B97F4A7C15ULL) >> 32) & mask;
    }

    Delivery* find(uint64_t uid) {
        if (!_hashed) {
            for (std::size_t i = 0; i < _used; ++i) {
                if (_out[i].subscriber.session_uid == uid) {
                    return &_out[i];
                }
            }
            return nullptr;
        }
        const std::size_t mask = _slots.size() - 1;
        for (std::size_t slot = slot_of(uid, mask); _slots[slot] != 0; slot = (slot + 1) & mask) {
            Delivery& candidate = _out[_slots[slot] - 1];
            if (candidate.subscriber.session_uid == uid) {
                return &candidate;
            }
        }
        return nullptr;
    }

    Delivery& append(const SubscriberKey& key) {
        if (_used < _out.size()) {
            _out[_used].subscription_ids.clear();
        } else {
            _out.emplace_back();
        }
        Delivery& delivery = _out[_used++];
        delivery.subscriber = key;
        if (_hashed && _used * 2 <= _slots.size()) {
            insert(_used - 1);
        } else if (_hashed || _used > kLinearUpTo) {
            rehash();
        }
        return delivery;
    }

    // Sizes the table to at least four slots per delivery and indexes every delivery so far.
    void rehash() {
        std::size_t size = 64;
        while (size < _used * 4) {
            size *= 2;
        }
        _slots.assign(size, 0);
        _hashed = true;
        for (std::size_t i = 0; i < _used; ++i) {
            insert(i);
        }
    }

    void insert(std::size_t index) {
        const std::size_t mask = _slots.size() - 1;
        std::size_t slot = slot_of(_out[index].subscriber.session_uid, mask);
        while (_slots[slot] != 0) {
            slot = (slot + 1) & mask;
        }
        _slots[slot] = static_cast<uint32_t>(index + 1);
    }

    std::vector<Delivery>& _out;
    std::vector<uint32_t>& _slots;
    std::size_t _used = 0;
    bool _hashed = false;
};

// Adds the subscribers held directly by `node` (its filter matched the topic) to `merger`.
void collect(const TreeNode& node, uint64_t publisher_uid, DeliveryMerger& merger) {
    for (const Subscription& subscription : node.subscribers) {
        // No Local: never send a message back to the session that published it [MQTT-3.8.3-3].
        // Uid 0 is the broker itself, which has no subscriptions.
        if (subscription.options.no_local && publisher_uid != 0 &&
            subscription.key.session_uid == publisher_uid) {
            continue;
        }
        merger.add(subscription);
    }
    // Each shared subscription delivers a message to one of its sessions only (section 4.8.2).
    // No Local does not apply: it is a Protocol Error on a shared subscription [MQTT-3.8.3-4].
    for (const auto& [name, group] : node.groups) {
        if (const Member* member = group.choose()) {
            merger.add(*member);
        }
    }
}

// Where a filter lives in the tree and, for "$share/<name>/<filter>", under which group.
struct FilterPath {
    std::string_view levels;
    std::optional<std::string_view> group;
};

FilterPath split_filter(std::string_view filter) {
    // A malformed "$share/..." is not a shared subscription; callers validate filters first
    // (is_valid_topic_filter rejects those), so it can only be stored as a plain filter.
    if (std::optional<SharedFilter> shared = parse_shared_filter(filter)) {
        return FilterPath{shared->filter, shared->group};
    }
    return FilterPath{filter, std::nullopt};
}

}  // namespace

struct SubscriptionTree::Node : TreeNode {};

SubscriptionTree::SubscriptionTree() : _root(std::make_unique<Node>()) {}

SubscriptionTree::~SubscriptionTree() {
    for (auto& entry : _root->children) {
        destroy_subtree(std::move(entry.value));
    }
}

bool SubscriptionTree::subscribe(const SubscriberKey& who, std::string_view filter,
                                 const SubscriptionOptions& options, const SubscriberState* state) {
    const FilterPath path = split_filter(filter);
    std::unique_lock lock(_mutex);
    TreeNode* node = _root.get();
    TopicLevels levels(path.levels);
    while (!levels.done()) {
        node = &node->child_or_create(levels.next());
    }
    bool added = false;
    // A subscription with the same filter replaces the existing one [MQTT-3.8.4-3].
    if (path.group) {
        auto group = node->groups.find(*path.group);
        if (group == node->groups.end()) {
            group = node->groups.try_emplace(std::string(*path.group)).first;
        }
        added = group->second.members.upsert(Member{who, options, state});
    } else {
        added = node->subscribers.upsert(Subscription{who, options, state});
    }
    if (added) {
        ++_count;
    }
    return added;
}

bool SubscriptionTree::unsubscribe(const SubscriberKey& who, std::string_view filter) {
    const FilterPath path = split_filter(filter);
    std::unique_lock lock(_mutex);
    // Each step remembers the parent, the level and the child, for pruning on the way back.
    struct Step {
        TreeNode* parent;
        std::string_view level;
        TreeNode* child;
    };
    std::vector<Step> trail;
    TreeNode* node = _root.get();
    TopicLevels levels(path.levels);
    while (!levels.done()) {
        const std::string_view level = levels.next();
        TreeNode* child = node->child(level);
        if (child == nullptr) {
            return false;
        }
        trail.push_back({node, level, child});
        node = child;
    }
    if (path.group) {
        auto group = node->groups.find(*path.group);
        if (group == node->groups.end() || !group->second.members.erase(who.session_uid)) {
            return false;
        }
        if (group->second.members.empty()) {
            node->groups.erase(group);
        }
    } else if (!node->subscribers.erase(who.session_uid)) {
        return false;
    }
    --_count;
    // Drop the nodes left with nothing, deepest first, so the tree only holds live filters.
    for (auto step = trail.rbegin(); step != trail.rend(); ++step) {
        if (!step->child->empty()) {
            break;
        }
        step->parent->erase_child(step->level);
    }
    return true;
}

void SubscriptionTree::match(std::string_view topic, uint64_t publisher_uid,
                             std::vector<Delivery>& out, const TransitCount* transit) const {
    MatchScratch& scratch = t_scratch;
    FrameStack frames(scratch.frames);
    DeliveryMerger merger(out, scratch.slots);
    // A filter starting with a wildcard never matches a topic starting with '$' [MQTT-4.7.2-1].
    const bool dollar_topic = !topic.empty() && topic.front() == '$';

    std::shared_lock lock(_mutex);
    frames.push({_root.get(), 0});
    while (!frames.empty()) {
        const MatchScratch::Frame frame = frames.pop();
        const TreeNode& node = *frame.node;
        TopicLevels levels(topic, frame.position);
        if (levels.done()) {
            // Every level matched: this node's filter matches, and so does "<filter>/#",
            // because '#' also matches the parent level [MQTT-4.7.1-2].
            collect(node, publisher_uid, merger);
            if (node.hash != nullptr) {
                collect(*node.hash, publisher_uid, merger);
            }
            continue;
        }
        const bool wildcards_allowed = !(dollar_topic && frame.position == 0);
        const std::string_view level = levels.next();
        if (wildcards_allowed) {
            // '#' matches every remaining level; '+' matches exactly this one, even if empty.
            if (node.hash != nullptr) {
                collect(*node.hash, publisher_uid, merger);
            }
            if (node.plus != nullptr) {
                frames.push({node.plus, levels.position()});
            }
        }
        // Topic names never contain wildcards [MQTT-3.3.2-2]; should one slip through, it must
        // not reach the wildcard children a second time as a literal level.
        if (level == "+" || level == "#") {
            continue;
        }
        if (const TreeNode* child = node.child(level)) {
            frames.push({child, levels.position()});
        }
    }
    merger.finish();
    if (transit == nullptr || (transit->qos == 0 && transit->size_units == 0)) {
        return;  // nothing to count (the common QoS 0 fan-out stays free of atomics)
    }
    for (Delivery& delivery : out) {
        if (delivery.state == nullptr || delivery.subscriber.loop == transit->origin_loop) {
            continue;
        }
        const uint32_t weight =
            (std::min(transit->qos, delivery.qos) > 0 ? 1 : 0) + transit->size_units;
        if (weight == 0) {
            continue;
        }
        delivery.transit_weight = weight;
        if (delivery.state->in_transit.fetch_add(weight, std::memory_order_relaxed) + weight >
            transit->limit) {
            delivery.congested = true;
        }
    }
}

std::size_t SubscriptionTree::size() const {
    std::shared_lock lock(_mutex);
    return _count;
}

std::size_t SubscriptionTree::node_count() const {
    std::shared_lock lock(_mutex);
    return count_nodes(*_root);
}

}  // namespace tern::core
