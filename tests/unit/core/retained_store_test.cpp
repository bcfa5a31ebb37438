// Tests for the retained message store: replace and clear, wildcard lookups, '$' topics, expiry.
#include "core/retained_store.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

using tern::core::Message;
using tern::core::MessagePtr;
using tern::core::MonoMillis;
using tern::core::RetainedStore;

namespace {

MessagePtr message(std::string topic, std::string payload, MonoMillis expires_at = 0) {
    auto built = Message::create(payload);
    built->topic = std::move(topic);
    built->retain = true;
    built->expires_at = expires_at;
    return built;
}

// "topic=payload" for every retained message matching `filter` at `now`, sorted.
std::vector<std::string> lookup(const RetainedStore& store, std::string_view filter,
                                MonoMillis now = 1) {
    std::vector<MessagePtr> out;
    store.match(filter, now, out);
    std::vector<std::string> found;
    for (const MessagePtr& item : out) {
        found.push_back(item->topic + "=" + std::string(item->payload));
    }
    std::sort(found.begin(), found.end());
    return found;
}

using Found = std::vector<std::string>;

}  // namespace

TEST_CASE("A retained message replaces the previous one of its topic") {
    RetainedStore store;
    CHECK(store.size() == 0);
    store.set(message("a/b", "1"));
    store.set(message("a/c", "2"));
    CHECK(store.size() == 2);
    store.set(message("a/b", "3"));
    CHECK(store.size() == 2);
    CHECK(lookup(store, "a/b") == Found{"a/b=3"});
    CHECK(lookup(store, "a/c") == Found{"a/c=2"});
    CHECK(lookup(store, "a").empty());
}

TEST_CASE("A retained message with an empty payload clears the topic and is not stored") {
    RetainedStore store;
    store.set(message("a/b", "1"));
    store.set(message("a/b/c", "2"));
    store.set(message("a/b", ""));
    CHECK(store.size() == 1);
    CHECK(lookup(store, "a/#") == Found{"a/b/c=2"});
    // Clearing a topic that has nothing retained stores nothing either.
    store.set(message("x/y", ""));
    CHECK(store.size() == 1);
    CHECK(lookup(store, "x/y").empty());
    CHECK(store.node_count() == 3);
}

TEST_CASE("Erasing removes the topic's message and prunes its empty branch") {
    RetainedStore store;
    store.set(message("a/b/c", "1"));
    store.set(message("a", "2"));
    CHECK(store.node_count() == 3);
    store.erase("a/b");
    store.erase("a/b/c/d");
    store.erase("q");
    CHECK(store.size() == 2);
    store.erase("a/b/c");
    CHECK(store.size() == 1);
    CHECK(store.node_count() == 1);
    CHECK(lookup(store, "#") == Found{"a=2"});
    store.erase("a");
    CHECK(store.size() == 0);
    CHECK(store.node_count() == 0);
    CHECK(lookup(store, "#").empty());
}

TEST_CASE("Wildcard filters find every matching retained message") {
    RetainedStore store;
    for (const char* topic :
         {"sport", "sport/tennis", "sport/tennis/player1", "sport/tennis/player1/ranking",
          "sport/golf", "sport/", "/", "/finance", "a//b", "a/x/b", "news"}) {
        store.set(message(topic, "v"));
    }
    CHECK(store.size() == 11);
    CHECK(lookup(store, "sport/#") == Found{"sport/=v", "sport/golf=v",
                                            "sport/tennis/player1/ranking=v",
                                            "sport/tennis/player1=v", "sport/tennis=v", "sport=v"});
    CHECK(lookup(store, "sport/+") == Found{"sport/=v", "sport/golf=v", "sport/tennis=v"});
    CHECK(lookup(store, "sport/tennis/+") == Found{"sport/tennis/player1=v"});
    CHECK(lookup(store, "sport/tennis/player1/#") ==
          Found{"sport/tennis/player1/ranking=v", "sport/tennis/player1=v"});
    CHECK(lookup(store, "+") == Found{"news=v", "sport=v"});
    CHECK(lookup(store, "+/+") ==
          Found{"/=v", "/finance=v", "sport/=v", "sport/golf=v", "sport/tennis=v"});
    CHECK(lookup(store, "/+") == Found{"/=v", "/finance=v"});
    CHECK(lookup(store, "a/+/b") == Found{"a//b=v", "a/x/b=v"});
    CHECK(lookup(store, "+/tennis/#") ==
          Found{"sport/tennis/player1/ranking=v", "sport/tennis/player1=v", "sport/tennis=v"});
    CHECK(lookup(store, "#").size() == 11);
    CHECK(lookup(store, "a/#") == Found{"a//b=v", "a/x/b=v"});
    CHECK(lookup(store, "sport/tennis") == Found{"sport/tennis=v"});
    CHECK(lookup(store, "sport/tennis/player2").empty());
    CHECK(lookup(store, "+/+/+/+/+").empty());
}

TEST_CASE("Leading wildcards do not return retained messages on $ topics") {
    RetainedStore store;
    store.set(message("$SYS/broker/uptime", "1"));
    store.set(message("$SYS", "2"));
    store.set(message("dev/$state", "3"));
    store.set(message("dev", "4"));
    // [MQTT-4.7.2-1]
    CHECK(lookup(store, "#") == Found{"dev/$state=3", "dev=4"});
    CHECK(lookup(store, "+") == Found{"dev=4"});
    CHECK(lookup(store, "+/broker/uptime").empty());
    CHECK(lookup(store, "$SYS/#") == Found{"$SYS/broker/uptime=1", "$SYS=2"});
    CHECK(lookup(store, "$SYS/+/uptime") == Found{"$SYS/broker/uptime=1"});
    CHECK(lookup(store, "$SYS") == Found{"$SYS=2"});
    CHECK(lookup(store, "dev/+") == Found{"dev/$state=3"});
}

TEST_CASE("Expired retained messages are skipped and purged") {
    RetainedStore store;
    store.set(message("t/a", "a", 100));
    store.set(message("t/b", "b", 200));
    store.set(message("t/c", "c", 0));
    store.set(message("t/a/deep/x", "x", 150));
    // [MQTT-3.3.2-5]: once the expiry interval has passed the message is no longer delivered.
    CHECK(lookup(store, "t/#", 99).size() == 4);
    CHECK(lookup(store, "t/#", 100) == Found{"t/a/deep/x=x", "t/b=b", "t/c=c"});
    CHECK(lookup(store, "t/a", 100).empty());
    CHECK(lookup(store, "t/+", 200) == Found{"t/c=c"});
    CHECK(store.size() == 4);

    CHECK(store.purge_expired(99) == 0);
    CHECK(store.purge_expired(150) == 2);
    CHECK(store.size() == 2);
    CHECK(store.node_count() == 3);
    CHECK(lookup(store, "#", 0) == Found{"t/b=b", "t/c=c"});
    CHECK(store.purge_expired(1'000'000) == 1);
    CHECK(store.size() == 1);
    CHECK(store.node_count() == 2);
    store.erase("t/c");
    CHECK(store.node_count() == 0);
}

TEST_CASE("Purging keeps an expired topic's node while live messages sit below it") {
    RetainedStore store;
    store.set(message("p", "old", 10));
    store.set(message("p/q", "live"));
    CHECK(store.purge_expired(10) == 1);
    CHECK(store.node_count() == 2);
    CHECK(lookup(store, "p/#", 10) == Found{"p/q=live"});
}

TEST_CASE("Match appends to the output vector") {
    RetainedStore store;
    store.set(message("a", "1"));
    std::vector<MessagePtr> out{message("pre", "0")};
    store.match("a", 1, out);
    REQUIRE(out.size() == 2);
    CHECK(out[0]->topic == "pre");
    CHECK(out[1]->topic == "a");
}

TEST_CASE("Topics with tens of thousands of levels neither overflow the stack nor leak") {
    RetainedStore store;
    std::string deep = "a";
    for (int i = 0; i < 30000; ++i) {
        deep += "/a";
    }
    store.set(message(deep, "deep", 50));
    store.set(message(deep + "/b", "below"));
    CHECK(lookup(store, "#").size() == 2);
    CHECK(lookup(store, deep + "/+") == Found{deep + "/b=below"});
    CHECK(store.purge_expired(60) == 1);
    CHECK(store.node_count() == 30002);
    store.set(message(std::string(30000, '/'), "slashes"));
    CHECK(store.size() == 2);
    // The destructor frees both deep branches.
}

TEST_CASE("Lookups run concurrently with updates") {
    RetainedStore store;
    for (int i = 0; i < 10; ++i) {
        store.set(message("stable/" + std::to_string(i), "s"));
    }
    std::atomic<bool> stop{false};
    std::atomic<int> failures{0};
    auto reader = [&] {
        std::vector<MessagePtr> out;
        while (!stop.load()) {
            out.clear();
            store.match("stable/+", 1, out);
            if (out.size() != 10) {
                ++failures;
            }
        }
    };
    std::thread first(reader);
    std::thread second(reader);
    for (int round = 0; round < 2000; ++round) {
        store.set(message("churn/" + std::to_string(round % 7) + "/x", "c", 5));
        store.set(message("churn/" + std::to_string((round + 3) % 7) + "/x", ""));
        if (round % 100 == 0) {
            store.purge_expired(10);
        }
    }
    stop = true;
    first.join();
    second.join();
    CHECK(failures.load() == 0);
    const std::size_t before = store.size();
    CHECK(store.purge_expired(10) == before - 10);
    CHECK(store.size() == 10);
}
