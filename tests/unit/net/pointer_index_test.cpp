// Tests for PointerIndex: lookups, replacement, removal with backward shift, growth and shrinking.
#include "net/pointer_index.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

using tern::net::PointerIndex;

namespace {

struct Item {
    uint64_t id = 0;
    std::string name;
};

struct ById {
    using Key = uint64_t;
    static Key key(const Item& item) noexcept { return item.id; }
    static uint64_t hash(Key key) noexcept { return key; }
};

struct ByName {
    using Key = std::string_view;
    static Key key(const Item& item) noexcept { return item.name; }
    static uint64_t hash(Key key) noexcept { return std::hash<std::string_view>{}(key); }
};

// Every key collides: probing and the backward shift do all the work.
struct Colliding {
    using Key = uint64_t;
    static Key key(const Item& item) noexcept { return item.id; }
    static uint64_t hash(Key) noexcept { return 7; }
};

}  // namespace

TEST_CASE("An empty pointer index finds nothing and erases nothing") {
    PointerIndex<Item, ById> index;
    CHECK(index.empty());
    CHECK(index.find(1) == nullptr);
    CHECK(index.erase(1) == nullptr);
    int visited = 0;
    index.for_each([&](Item&) { ++visited; });
    CHECK(visited == 0);
}

TEST_CASE("A pointer index finds, replaces and removes by the key the object holds") {
    Item a{1, "alpha"};
    Item b{2, "bravo"};
    Item a2{1, "alpha again"};
    PointerIndex<Item, ById> by_id;
    PointerIndex<Item, ByName> by_name;
    CHECK(by_id.insert(&a) == nullptr);
    CHECK(by_id.insert(&b) == nullptr);
    CHECK(by_name.insert(&a) == nullptr);
    CHECK(by_name.insert(&b) == nullptr);
    CHECK(by_id.size() == 2);
    CHECK(by_id.find(1) == &a);
    CHECK(by_id.find(2) == &b);
    CHECK(by_id.find(3) == nullptr);
    CHECK(by_name.find("bravo") == &b);
    CHECK(by_name.find(std::string("alp") + "ha") == &a);
    CHECK(by_name.find("charlie") == nullptr);

    CHECK(by_id.insert(&a2) == &a);  // same key: replaced
    CHECK(by_id.size() == 2);
    CHECK(by_id.find(1) == &a2);

    CHECK(by_id.erase(1) == &a2);
    CHECK(by_id.find(1) == nullptr);
    CHECK(by_id.erase(1) == nullptr);
    CHECK(by_id.size() == 1);
    CHECK(by_name.erase("alpha") == &a);
    CHECK(by_name.find("bravo") == &b);
}

TEST_CASE("A pointer index keeps every entry reachable through collisions and removals") {
    std::vector<std::unique_ptr<Item>> items;
    for (uint64_t i = 0; i < 12; ++i) {
        items.push_back(std::make_unique<Item>(Item{i, {}}));
    }
    PointerIndex<Item, Colliding> index;
    for (auto& item : items) {
        index.insert(item.get());
    }
    // Remove from the middle of the run, then its start, then its end.
    std::set<uint64_t> removed;
    for (const uint64_t gone : {5u, 0u, 11u, 6u}) {
        REQUIRE(index.erase(gone) == items[gone].get());
        removed.insert(gone);
        for (uint64_t i = 0; i < 12; ++i) {
            CHECK(index.find(i) == (removed.contains(i) ? nullptr : items[i].get()));
        }
    }
    CHECK(index.size() == 8);
}

TEST_CASE("A pointer index agrees with std::unordered_map through growth, churn and shrinking") {
    std::mt19937_64 random(42);
    std::vector<std::unique_ptr<Item>> pool;
    for (uint64_t i = 0; i < 4000; ++i) {
        // Sequential ids with gaps, as session uids shared by several loops are.
        pool.push_back(std::make_unique<Item>(Item{i * 3 + 1, "client-" + std::to_string(i)}));
    }
    PointerIndex<Item, ById> by_id;
    PointerIndex<Item, ByName> by_name;
    std::unordered_map<uint64_t, Item*> model;
    for (int step = 0; step < 40000; ++step) {
        Item* item = pool[random() % pool.size()].get();
        // Mostly inserts early, mostly removals late: the table grows, then shrinks.
        const bool add = (random() % 40000) > static_cast<uint64_t>(step);
        if (add && !model.contains(item->id)) {
            CHECK(by_id.insert(item) == nullptr);
            CHECK(by_name.insert(item) == nullptr);
            model[item->id] = item;
        } else if (!add) {
            const bool present = model.erase(item->id) == 1;
            CHECK(by_id.erase(item->id) == (present ? item : nullptr));
            CHECK(by_name.erase(item->name) == (present ? item : nullptr));
        }
        if (step % 997 == 0) {
            REQUIRE(by_id.size() == model.size());
            REQUIRE(by_name.size() == model.size());
            for (const auto& entry : pool) {
                const bool present = model.contains(entry->id);
                CHECK(by_id.find(entry->id) == (present ? entry.get() : nullptr));
                CHECK(by_name.find(entry->name) == (present ? entry.get() : nullptr));
            }
            std::set<uint64_t> visited;
            by_id.for_each([&](Item& seen) { CHECK(visited.insert(seen.id).second); });
            CHECK(visited.size() == model.size());
        }
    }
}
