// Tests for SubscriptionMap: a std::map by filter that allocates at its first subscription.
#include "core/subscription_map.hpp"

#include <doctest/doctest.h>

#include <string>
#include <vector>

using tern::core::SubscriptionMap;
using tern::core::SubscriptionOptions;

TEST_CASE("An empty subscription map answers like an empty std::map") {
    SubscriptionMap map;
    const SubscriptionMap& view = map;
    CHECK(map.empty());
    CHECK(map.size() == 0);
    CHECK(map.begin() == map.end());
    CHECK(view.begin() == view.end());
    CHECK(map.find("a/#") == map.end());
    CHECK(view.find("a/#") == view.end());
    CHECK_FALSE(map.contains("a/#"));
    CHECK(map.erase("a/#") == 0);
    map.clear();
    CHECK(map.empty());
}

TEST_CASE("A subscription map keeps options by filter in filter order") {
    SubscriptionMap map;
    SubscriptionOptions qos1;
    qos1.qos = 1;
    SubscriptionOptions qos2;
    qos2.qos = 2;
    map["b/+"] = qos1;
    map["a/#"] = qos2;
    map["b/+"].no_local = true;  // operator[] finds the existing entry
    CHECK(map.size() == 2);
    CHECK_FALSE(map.empty());
    CHECK(map.contains("a/#"));

    std::vector<std::string> filters;
    for (const auto& [filter, options] : map) {
        filters.push_back(filter);
    }
    CHECK(filters == std::vector<std::string>{"a/#", "b/+"});

    auto it = map.find("b/+");
    REQUIRE(it != map.end());
    CHECK(it->second.qos == 1);
    CHECK(it->second.no_local);
    map.erase(it);
    CHECK(map.size() == 1);
    CHECK_FALSE(map.contains("b/+"));
    CHECK(map.erase("a/#") == 1);
    CHECK(map.empty());
    CHECK(map.begin() == map.end());

    map["c"] = qos1;
    map.clear();
    CHECK(map.empty());
    CHECK(map.find("c") == map.end());
}

TEST_CASE("A moved subscription map takes its entries along") {
    SubscriptionMap map;
    map["x/y"] = SubscriptionOptions{};
    SubscriptionMap moved = std::move(map);
    CHECK(moved.contains("x/y"));
    CHECK(moved.size() == 1);
}
