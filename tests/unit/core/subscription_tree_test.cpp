// Tests for the subscription tree: matching, merging, No Local, shared groups, pruning, threads.
#include "core/subscription_tree.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <map>
#include <string>
#include <thread>
#include <vector>

using tern::core::Delivery;
using tern::core::SubscriberKey;
using tern::core::SubscriptionOptions;
using tern::core::SubscriptionTree;

namespace {

SubscriberKey key(uint64_t uid, uint32_t loop = 0) {
    return SubscriberKey{loop, uid};
}

SubscriptionOptions qos(uint8_t level, uint32_t subscription_id = 0) {
    SubscriptionOptions options;
    options.qos = level;
    options.subscription_id = subscription_id;
    return options;
}

std::vector<Delivery> match(const SubscriptionTree& tree, std::string_view topic,
                            uint64_t publisher_uid = 0) {
    std::vector<Delivery> out;
    tree.match(topic, publisher_uid, out);
    return out;
}

// The session uids that receive `topic`, sorted.
std::vector<uint64_t> receivers(const SubscriptionTree& tree, std::string_view topic,
                                uint64_t publisher_uid = 0) {
    std::vector<uint64_t> uids;
    for (const Delivery& delivery : match(tree, topic, publisher_uid)) {
        uids.push_back(delivery.subscriber.session_uid);
    }
    std::sort(uids.begin(), uids.end());
    return uids;
}

const Delivery* delivery_of(const std::vector<Delivery>& out, uint64_t uid) {
    for (const Delivery& delivery : out) {
        if (delivery.subscriber.session_uid == uid) {
            return &delivery;
        }
    }
    return nullptr;
}

// The receiver of each of `count` messages on `topic`, in order (one shared receiver expected).
std::vector<uint64_t> shared_sequence(const SubscriptionTree& tree, std::string_view topic,
                                      int count) {
    std::vector<uint64_t> sequence;
    for (int i = 0; i < count; ++i) {
        std::vector<Delivery> out = match(tree, topic);
        REQUIRE(out.size() == 1);
        sequence.push_back(out[0].subscriber.session_uid);
    }
    return sequence;
}

}  // namespace

TEST_CASE("Subscribing reports a new subscription as true and a replaced one as false") {
    SubscriptionTree tree;
    CHECK(tree.size() == 0);
    CHECK(tree.subscribe(key(1), "a/b", qos(0)));
    CHECK(tree.subscribe(key(2), "a/b", qos(1)));
    CHECK(tree.subscribe(key(1), "a/+", qos(1)));
    CHECK(tree.size() == 3);
    // Same session, same filter: the new options replace the old ones [MQTT-3.8.4-3].
    CHECK_FALSE(tree.subscribe(key(1), "a/b", qos(2, 9)));
    CHECK(tree.size() == 3);
    CHECK(tree.subscribe(key(1), "$share/g/a/b", qos(1)));
    CHECK_FALSE(tree.subscribe(key(1), "$share/g/a/b", qos(2)));
    CHECK(tree.subscribe(key(1), "$share/h/a/b", qos(1)));
    CHECK(tree.size() == 5);

    tree.unsubscribe(key(1), "a/+");
    tree.unsubscribe(key(1), "$share/g/a/b");
    tree.unsubscribe(key(1), "$share/h/a/b");
    std::vector<Delivery> out = match(tree, "a/b");
    REQUIRE(out.size() == 2);
    const Delivery* first = delivery_of(out, 1);
    REQUIRE(first != nullptr);
    CHECK(first->qos == 2);
    CHECK(first->subscription_ids == std::vector<uint32_t>{9});
}

TEST_CASE("A replacing subscription takes the session's current worker loop") {
    SubscriptionTree tree;
    tree.subscribe(key(7, 1), "a", qos(1));
    CHECK_FALSE(tree.subscribe(key(7, 3), "a", qos(1)));
    std::vector<Delivery> out = match(tree, "a");
    REQUIRE(out.size() == 1);
    CHECK(out[0].subscriber == key(7, 3));
}

TEST_CASE("Unsubscribing removes only that session's subscription to that filter") {
    SubscriptionTree tree;
    tree.subscribe(key(1), "a/b", qos(0));
    tree.subscribe(key(2), "a/b", qos(0));
    tree.subscribe(key(1), "a/#", qos(0));
    CHECK_FALSE(tree.unsubscribe(key(3), "a/b"));
    CHECK_FALSE(tree.unsubscribe(key(1), "a/c"));
    CHECK_FALSE(tree.unsubscribe(key(1), "a/+"));
    CHECK_FALSE(tree.unsubscribe(key(1), "$share/g/a/b"));
    CHECK(tree.unsubscribe(key(1), "a/b"));
    CHECK_FALSE(tree.unsubscribe(key(1), "a/b"));
    CHECK(tree.size() == 2);
    CHECK(receivers(tree, "a/b") == std::vector<uint64_t>{1, 2});
    CHECK(tree.unsubscribe(key(1), "a/#"));
    CHECK(receivers(tree, "a/b") == std::vector<uint64_t>{2});
    CHECK(receivers(tree, "a/c").empty());
}

TEST_CASE("Matching follows the wildcard, empty level and $ rules") {
    SubscriptionTree tree;
    tree.subscribe(key(1), "#", qos(0));
    tree.subscribe(key(2), "+", qos(0));
    tree.subscribe(key(3), "sport/#", qos(0));
    tree.subscribe(key(4), "sport/+", qos(0));
    tree.subscribe(key(5), "sport/tennis", qos(0));
    tree.subscribe(key(6), "$SYS/#", qos(0));
    tree.subscribe(key(7), "+/+", qos(0));
    tree.subscribe(key(8), "a//b", qos(0));
    tree.subscribe(key(9), "/+", qos(0));
    tree.subscribe(key(10), "a/+/b", qos(0));
    tree.subscribe(key(11), "$SYS/+", qos(0));

    using U = std::vector<uint64_t>;
    CHECK(receivers(tree, "sport") == U{1, 2, 3});
    CHECK(receivers(tree, "sport/tennis") == U{1, 3, 4, 5, 7});
    CHECK(receivers(tree, "sport/") == U{1, 3, 4, 7});
    CHECK(receivers(tree, "sport/tennis/player1") == U{1, 3});
    CHECK(receivers(tree, "/") == U{1, 7, 9});
    CHECK(receivers(tree, "/x") == U{1, 7, 9});
    CHECK(receivers(tree, "a//b") == U{1, 8, 10});
    CHECK(receivers(tree, "a/x/b") == U{1, 10});
    // '$' topics: never by a leading wildcard [MQTT-4.7.2-1], but "$SYS/#" covers "$SYS" too.
    CHECK(receivers(tree, "$SYS") == U{6});
    CHECK(receivers(tree, "$SYS/uptime") == U{6, 11});
    CHECK(receivers(tree, "$SYS/a/b") == U{6});
    CHECK(receivers(tree, "$other").empty());
    CHECK(receivers(tree, "x/$SYS") == U{1, 7});
}

TEST_CASE("Matching clears the output vector first") {
    SubscriptionTree tree;
    tree.subscribe(key(1), "a", qos(1, 4));
    std::vector<Delivery> out(3);
    out[0].subscription_ids = {1, 2, 3};
    tree.match("a", 0, out);
    REQUIRE(out.size() == 1);
    CHECK(out[0].subscriber == key(1));
    CHECK(out[0].qos == 1);
    CHECK(out[0].subscription_ids == std::vector<uint32_t>{4});
    tree.match("b", 0, out);
    CHECK(out.empty());
}

TEST_CASE("Overlapping subscriptions of one session merge into one delivery") {
    SubscriptionTree tree;
    SubscriptionOptions with_rap = qos(0, 7);
    with_rap.retain_as_published = true;
    tree.subscribe(key(1), "a/+", qos(1, 5));
    tree.subscribe(key(1), "a/b", qos(2));
    tree.subscribe(key(1), "#", with_rap);
    tree.subscribe(key(1), "a/#", qos(0, 5));
    tree.subscribe(key(2), "a/b", qos(0, 3));

    std::vector<Delivery> out = match(tree, "a/b");
    REQUIRE(out.size() == 2);
    const Delivery* merged = delivery_of(out, 1);
    REQUIRE(merged != nullptr);
    // Maximum QoS of the matches [MQTT-3.3.4-2], every identifier [MQTT-3.3.4-4], even repeated.
    CHECK(merged->qos == 2);
    CHECK(merged->retain_as_published);
    std::vector<uint32_t> ids = merged->subscription_ids;
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<uint32_t>{5, 5, 7});
    const Delivery* other = delivery_of(out, 2);
    REQUIRE(other != nullptr);
    CHECK(other->qos == 0);
    CHECK_FALSE(other->retain_as_published);
    CHECK(other->subscription_ids == std::vector<uint32_t>{3});

    out = match(tree, "a/c");
    REQUIRE(out.size() == 1);
    CHECK(out[0].qos == 1);
    CHECK(out[0].retain_as_published);
}

TEST_CASE("Large fan-outs merge each session's overlapping subscriptions") {
    SubscriptionTree tree;
    constexpr uint64_t kSessions = 1000;
    for (uint64_t uid = 1; uid <= kSessions; ++uid) {
        tree.subscribe(key(uid), "fan/+", qos(0, static_cast<uint32_t>(uid)));
        tree.subscribe(key(uid), "fan/#", qos(uid % 3 == 0 ? 2 : 1));
        if (uid % 2 == 0) {
            tree.subscribe(key(uid), "fan/out", qos(0, 100000));
        }
    }
    CHECK(tree.size() == kSessions * 2 + kSessions / 2);
    std::vector<Delivery> out;
    for (int round = 0; round < 2; ++round) {
        tree.match("fan/out", 0, out);
        REQUIRE(out.size() == kSessions);
        std::vector<bool> seen(kSessions + 1, false);
        for (const Delivery& delivery : out) {
            uint64_t uid = delivery.subscriber.session_uid;
            REQUIRE(uid >= 1);
            REQUIRE(uid <= kSessions);
            CHECK_FALSE(seen[uid]);
            seen[uid] = true;
            CHECK(delivery.qos == (uid % 3 == 0 ? 2 : 1));
            std::vector<uint32_t> ids = delivery.subscription_ids;
            std::sort(ids.begin(), ids.end());
            std::vector<uint32_t> expected{static_cast<uint32_t>(uid)};
            if (uid % 2 == 0) {
                expected.push_back(100000);
            }
            CHECK(ids == expected);
        }
    }
}

TEST_CASE("No Local skips only the publisher's own non-shared subscriptions") {
    SubscriptionTree tree;
    SubscriptionOptions no_local = qos(1, 11);
    no_local.no_local = true;
    tree.subscribe(key(1), "chat/+", no_local);
    tree.subscribe(key(2), "chat/+", no_local);
    tree.subscribe(key(0), "chat/room", no_local);

    // [MQTT-3.8.3-3]: session 1's own message does not come back to it.
    CHECK(receivers(tree, "chat/room", 1) == std::vector<uint64_t>{0, 2});
    CHECK(receivers(tree, "chat/room", 2) == std::vector<uint64_t>{0, 1});
    // Publisher uid 0 is the broker: it never counts as anyone's own message.
    CHECK(receivers(tree, "chat/room", 0) == std::vector<uint64_t>{0, 1, 2});

    // A second, overlapping subscription without No Local still delivers, with its options only.
    tree.subscribe(key(1), "chat/#", qos(0, 12));
    std::vector<Delivery> out = match(tree, "chat/room", 1);
    const Delivery* own = delivery_of(out, 1);
    REQUIRE(own != nullptr);
    CHECK(own->qos == 0);
    CHECK(own->subscription_ids == std::vector<uint32_t>{12});

    // No Local does not apply to shared subscriptions [MQTT-3.8.3-4].
    SubscriptionTree shared;
    shared.subscribe(key(5), "$share/g/t", no_local);
    CHECK(receivers(shared, "t", 5) == std::vector<uint64_t>{5});
}

TEST_CASE("A shared group delivers each message to one member, round-robin") {
    SubscriptionTree tree;
    tree.subscribe(key(1), "$share/g/job/+", qos(1));
    tree.subscribe(key(2), "$share/g/job/+", qos(1));
    tree.subscribe(key(3), "$share/g/job/+", qos(1));
    CHECK(tree.size() == 3);

    std::vector<uint64_t> sequence = shared_sequence(tree, "job/1", 9);
    std::map<uint64_t, int> counts;
    for (uint64_t uid : sequence) {
        ++counts[uid];
    }
    CHECK(counts == std::map<uint64_t, int>{{1, 3}, {2, 3}, {3, 3}});
    for (std::size_t i = 3; i < sequence.size(); ++i) {
        CHECK(sequence[i] == sequence[i - 3]);
    }
    // A message outside the group's filter goes nowhere.
    CHECK(match(tree, "job").empty());
}

TEST_CASE("A shared group prefers connected members and falls back to all of them") {
    SubscriptionTree tree;
    tern::core::SubscriberState state1;
    tern::core::SubscriberState state2;
    tern::core::SubscriberState state3;
    std::atomic<bool>& online1 = state1.online;
    std::atomic<bool>& online2 = state2.online;
    std::atomic<bool>& online3 = state3.online;
    online1 = true;
    online3 = true;
    tree.subscribe(key(1), "$share/g/t", qos(0), &state1);
    tree.subscribe(key(2), "$share/g/t", qos(0), &state2);
    tree.subscribe(key(3), "$share/g/t", qos(0), &state3);

    std::vector<uint64_t> sequence = shared_sequence(tree, "t", 8);
    for (std::size_t i = 0; i < sequence.size(); ++i) {
        CHECK(sequence[i] != 2);
        if (i > 0) {
            CHECK(sequence[i] != sequence[i - 1]);
        }
    }

    // Nobody connected: still delivered, round-robin over everyone (it waits in a session queue).
    online1 = false;
    online3 = false;
    sequence = shared_sequence(tree, "t", 6);
    std::map<uint64_t, int> counts;
    for (uint64_t uid : sequence) {
        ++counts[uid];
    }
    CHECK(counts == std::map<uint64_t, int>{{1, 2}, {2, 2}, {3, 2}});

    // Only member 2 connected: it takes everything.
    online2 = true;
    CHECK(shared_sequence(tree, "t", 4) == std::vector<uint64_t>{2, 2, 2, 2});

    // A member without a flag counts as connected.
    tree.subscribe(key(4), "$share/g/t", qos(0), nullptr);
    online2 = false;
    CHECK(shared_sequence(tree, "t", 3) == std::vector<uint64_t>{4, 4, 4});
}

TEST_CASE("Shared deliveries merge with the same session's other matches") {
    SubscriptionTree tree;
    tree.subscribe(key(1), "$share/g/s/+", qos(2, 21));
    tree.subscribe(key(1), "s/#", qos(0, 22));
    tree.subscribe(key(1), "$share/h/s/x", qos(1, 23));
    tree.subscribe(key(2), "s/x", qos(0));

    std::vector<Delivery> out = match(tree, "s/x");
    REQUIRE(out.size() == 2);
    const Delivery* merged = delivery_of(out, 1);
    REQUIRE(merged != nullptr);
    CHECK(merged->qos == 2);
    std::vector<uint32_t> ids = merged->subscription_ids;
    std::sort(ids.begin(), ids.end());
    CHECK(ids == std::vector<uint32_t>{21, 22, 23});
}

TEST_CASE("Each shared group on a filter delivers its own copy") {
    SubscriptionTree tree;
    tree.subscribe(key(1), "$share/a/t", qos(0));
    tree.subscribe(key(2), "$share/a/t", qos(0));
    tree.subscribe(key(3), "$share/b/t", qos(0));
    tree.subscribe(key(4), "t", qos(0));
    for (int i = 0; i < 4; ++i) {
        std::vector<uint64_t> uids = receivers(tree, "t");
        REQUIRE(uids.size() == 3);
        CHECK((uids[0] == 1 || uids[0] == 2));
        CHECK(uids[1] == 3);
        CHECK(uids[2] == 4);
    }
    CHECK(tree.unsubscribe(key(3), "$share/b/t"));
    CHECK_FALSE(tree.unsubscribe(key(3), "$share/b/t"));
    CHECK_FALSE(tree.unsubscribe(key(3), "$share/a/t"));
    CHECK(receivers(tree, "t").size() == 2);
}

TEST_CASE("Unsubscribing prunes empty nodes until the tree is empty") {
    SubscriptionTree tree;
    const std::vector<std::string> filters{
        "a/b/c",  "a/b/#",   "a/+/c",          "+/#",         "#", "/", "a//b",
        "$SYS/+", "x/y/z/w", "$share/g/a/b/c", "$share/h/q/+"};
    for (uint64_t uid = 1; uid <= 3; ++uid) {
        for (const std::string& filter : filters) {
            CHECK(tree.subscribe(key(uid), filter, qos(1)));
        }
    }
    CHECK(tree.size() == filters.size() * 3);
    CHECK(tree.node_count() == 21);
    for (uint64_t uid = 1; uid <= 3; ++uid) {
        for (const std::string& filter : filters) {
            CHECK(tree.unsubscribe(key(uid), filter));
        }
    }
    CHECK(tree.size() == 0);
    CHECK(tree.node_count() == 0);
    CHECK(match(tree, "a/b/c").empty());

    // A node still leading to other filters stays; the branch below the removed one goes.
    tree.subscribe(key(1), "a/b", qos(0));
    tree.subscribe(key(1), "a/b/c/d", qos(0));
    CHECK(tree.node_count() == 4);
    tree.unsubscribe(key(1), "a/b/c/d");
    CHECK(tree.node_count() == 2);
    tree.subscribe(key(1), "a/b/c/d", qos(0));
    tree.unsubscribe(key(1), "a/b");
    CHECK(tree.node_count() == 4);
    CHECK(receivers(tree, "a/b/c/d") == std::vector<uint64_t>{1});
}

TEST_CASE("Thousands of sessions on one filter subscribe and unsubscribe in any order") {
    SubscriptionTree tree;
    constexpr uint64_t kSessions = 5000;
    for (uint64_t uid = 1; uid <= kSessions; ++uid) {
        CHECK(tree.subscribe(key(uid), "busy/topic", qos(0)));
        CHECK(tree.subscribe(key(uid), "$share/g/busy/topic", qos(0)));
    }
    CHECK_FALSE(tree.subscribe(key(kSessions / 2), "busy/topic", qos(1)));
    CHECK(tree.size() == kSessions * 2);
    // Remove the odd sessions, from the middle outwards, to shuffle the list.
    for (uint64_t uid = 1; uid <= kSessions; uid += 2) {
        CHECK(tree.unsubscribe(key(uid), "busy/topic"));
        CHECK(tree.unsubscribe(key(uid), "$share/g/busy/topic"));
        CHECK_FALSE(tree.unsubscribe(key(uid), "busy/topic"));
    }
    std::vector<uint64_t> uids = receivers(tree, "busy/topic");
    REQUIRE(uids.size() == kSessions / 2);
    for (std::size_t i = 0; i < uids.size(); ++i) {
        CHECK(uids[i] == 2 * (i + 1));
    }
    for (uint64_t uid = 2; uid <= kSessions; uid += 2) {
        CHECK(tree.unsubscribe(key(uid), "busy/topic"));
        CHECK(tree.unsubscribe(key(uid), "$share/g/busy/topic"));
    }
    CHECK(tree.size() == 0);
    CHECK(tree.node_count() == 0);
}

TEST_CASE("Filters with tens of thousands of levels neither overflow the stack nor leak") {
    SubscriptionTree tree;
    std::string deep = "a";
    for (int i = 0; i < 30000; ++i) {
        deep += "/a";
    }
    CHECK(tree.subscribe(key(1), deep, qos(0)));
    CHECK(tree.subscribe(key(2), deep + "/#", qos(0)));
    CHECK(receivers(tree, deep) == std::vector<uint64_t>{1, 2});
    CHECK(tree.unsubscribe(key(1), deep));
    CHECK(tree.node_count() == 30002);
    // The destructor frees the remaining deep branch.
}

TEST_CASE("A topic that leaves a wildcard branch pending at every level matches them all") {
    // "a/+/#", "a/a/+/#", ...: walking "a/a/.../a" leaves the '+' branch of every level to visit
    // later, so the walk holds one pending node per level, far more than fit on its stack.
    SubscriptionTree tree;
    std::string prefix = "a";
    std::vector<uint64_t> expected;
    for (uint64_t depth = 1; depth <= 200; ++depth) {
        CHECK(tree.subscribe(key(depth), prefix + "/+/#", qos(0)));
        expected.push_back(depth);
        prefix += "/a";
    }
    CHECK(receivers(tree, prefix) == expected);
    CHECK(receivers(tree, "a/a/a") == std::vector<uint64_t>{1, 2});
    CHECK(receivers(tree, "b/a/a").empty());
}

TEST_CASE("Matching runs concurrently with subscribe and unsubscribe") {
    SubscriptionTree tree;
    constexpr uint64_t kStable = 8;
    constexpr uint64_t kChurnBase = 1000;
    tern::core::SubscriberState group_online[4];
    group_online[0].online = true;
    group_online[2].online = true;
    for (uint64_t uid = 1; uid <= kStable; ++uid) {
        tree.subscribe(key(uid), "s/+/x", qos(1, static_cast<uint32_t>(uid)));
    }
    for (uint64_t i = 0; i < 4; ++i) {
        tree.subscribe(key(500 + i), "$share/g/s/#", qos(0), &group_online[i]);
    }

    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    std::atomic<long> matches{0};
    auto reader = [&] {
        std::vector<Delivery> out;
        while (!stop.load()) {
            tree.match("s/a/x", 0, out);
            uint64_t stable = 0;
            uint64_t shared = 0;
            std::vector<uint64_t> uids;
            for (const Delivery& delivery : out) {
                uint64_t uid = delivery.subscriber.session_uid;
                uids.push_back(uid);
                if (uid >= 1 && uid <= kStable) {
                    ++stable;
                    if (delivery.subscription_ids != std::vector<uint32_t>{uint32_t(uid)}) {
                        ++failures;
                    }
                } else if (uid >= 500 && uid < 504) {
                    ++shared;
                } else if (uid < kChurnBase) {
                    ++failures;
                }
            }
            std::sort(uids.begin(), uids.end());
            if (stable != kStable || shared != 1 ||
                std::adjacent_find(uids.begin(), uids.end()) != uids.end()) {
                ++failures;
            }
            ++matches;
        }
    };
    std::vector<std::thread> readers;
    for (int i = 0; i < 4; ++i) {
        readers.emplace_back(reader);
    }
    std::thread writer([&] {
        const char* filters[] = {"s/a/x", "s/#", "s/+/+", "$share/h/s/a/x", "other/topic"};
        // Keep changing the tree until the readers have matched plenty of times against it.
        for (int round = 0; round < 300 || matches.load() < 50000; ++round) {
            for (uint64_t i = 0; i < 20; ++i) {
                tree.subscribe(key(kChurnBase + i), filters[(round + i) % 5], qos(2));
            }
            group_online[round % 4].online = !group_online[round % 4].online.load();
            for (uint64_t i = 0; i < 20; ++i) {
                tree.unsubscribe(key(kChurnBase + i), filters[(round + i) % 5]);
            }
        }
        stop = true;
    });
    writer.join();
    for (std::thread& thread : readers) {
        thread.join();
    }
    CHECK(failures.load() == 0);
    CHECK(matches.load() >= 50000);
    CHECK(tree.size() == kStable + 4);
}

TEST_CASE("A durable subscriber's deliveries carry its client id") {
    SubscriptionTree tree;
    const std::string id = "sensor-7";
    tern::core::SubscriberState durable_state;
    durable_state.client_id = &id;
    durable_state.durable = true;
    tern::core::SubscriberState plain_state;
    plain_state.client_id = &id;
    tree.subscribe(key(1), "a/#", qos(1), &durable_state);
    tree.subscribe(key(1), "a/b", qos(2), &durable_state);  // merged with the one above
    tree.subscribe(key(2), "a/b", qos(1), &plain_state);
    tree.subscribe(key(3), "$share/g/a/b", qos(1), &durable_state);
    std::vector<Delivery> out;
    tree.match("a/b", 0, out);
    REQUIRE(out.size() == 3);
    std::sort(out.begin(), out.end(), [](const Delivery& a, const Delivery& b) {
        return a.subscriber.session_uid < b.subscriber.session_uid;
    });
    CHECK(out[0].durable);
    CHECK(out[0].client_id == "sensor-7");
    CHECK(out[0].qos == 2);
    CHECK_FALSE(out[1].durable);
    CHECK(out[2].durable);
    CHECK(out[2].client_id == "sensor-7");

    durable_state.durable = false;  // e.g. reconnected with a session that ends with it
    tree.match("a/b", 0, out);
    for (const Delivery& delivery : out) {
        CHECK_FALSE(delivery.durable);
    }
}
