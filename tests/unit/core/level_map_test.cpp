// Tests for LevelMap, the subscription tree's flat map of children by topic level.
#include "core/level_map.hpp"

#include <doctest/doctest.h>

#include <map>
#include <random>
#include <string>

using tern::core::LevelMap;

namespace {

// Every key of `expected` is found with its value, and the map holds nothing else.
void check_same(const LevelMap<int>& map, const std::map<std::string, int>& expected) {
    REQUIRE(map.size() == expected.size());
    for (const auto& [key, value] : expected) {
        const auto* entry = map.find(key);
        REQUIRE(entry != nullptr);
        CHECK(entry->key == key);
        CHECK(entry->value == value);
    }
    std::size_t visited = 0;
    for (const auto& entry : map) {
        auto it = expected.find(entry.key);
        REQUIRE(it != expected.end());
        CHECK(it->second == entry.value);
        ++visited;
    }
    CHECK(visited == expected.size());
}

}  // namespace

TEST_CASE("An empty level map finds nothing and erases nothing") {
    LevelMap<int> map;
    CHECK(map.empty());
    CHECK(map.find("a") == nullptr);
    CHECK(map.find("") == nullptr);
    CHECK_FALSE(map.erase("a"));
    CHECK(map.begin() == map.end());
}

TEST_CASE("A level map tells apart levels that differ in length, case or a late byte") {
    LevelMap<int> map;
    map.emplace("", 1);
    map.emplace("sensor", 2);
    map.emplace("Sensor", 3);
    map.emplace("sensor ", 4);
    map.emplace("device-000000001", 5);  // two whole words
    map.emplace("device-000000002", 6);
    map.emplace("+", 7);
    CHECK(map.find("")->value == 1);
    CHECK(map.find("sensor")->value == 2);
    CHECK(map.find("Sensor")->value == 3);
    CHECK(map.find("sensor ")->value == 4);
    CHECK(map.find("device-000000001")->value == 5);
    CHECK(map.find("device-000000002")->value == 6);
    CHECK(map.find("+")->value == 7);
    CHECK(map.find("sens") == nullptr);
    CHECK(map.find("device-00000000") == nullptr);
    CHECK(map.size() == 7);
}

TEST_CASE("A level map agrees with std::map through random inserts and erases") {
    // A small key space makes the same keys come and go, so erases shift probe chains that
    // wrap around the end of small tables; the large one makes the table grow many times.
    for (const int key_space : {12, 3000}) {
        CAPTURE(key_space);
        std::mt19937 random(20261201);
        std::uniform_int_distribution<int> pick(0, key_space - 1);
        LevelMap<int> map;
        std::map<std::string, int> expected;
        for (int step = 0; step < 20000; ++step) {
            const std::string key = "level-" + std::to_string(pick(random));
            if (random() % 3 != 0) {
                if (expected.find(key) == expected.end()) {
                    map.emplace(key, step);
                    expected[key] = step;
                }
            } else {
                CHECK(map.erase(key) == (expected.erase(key) == 1));
            }
            if (step % 997 == 0) {
                check_same(map, expected);
            }
        }
        check_same(map, expected);
        for (const auto& [key, value] : std::map<std::string, int>(expected)) {
            CHECK(map.erase(key));
            expected.erase(key);
        }
        CHECK(map.empty());
        check_same(map, expected);
    }
}

TEST_CASE("A level map emptied by erases can be filled again") {
    LevelMap<std::string> map;
    for (int i = 0; i < 100; ++i) {
        map.emplace(std::to_string(i), "v" + std::to_string(i));
    }
    for (int i = 0; i < 100; ++i) {
        CHECK(map.erase(std::to_string(i)));
    }
    CHECK(map.empty());
    CHECK(map.find("5") == nullptr);
    map.emplace("5", "again");
    REQUIRE(map.find("5") != nullptr);
    CHECK(map.find("5")->value == "again");
}
