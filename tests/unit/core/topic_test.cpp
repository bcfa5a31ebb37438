// Tests for topic name and filter validation, shared-filter parsing and filter matching.
#include "core/topic.hpp"

#include <doctest/doctest.h>

#include <string>
#include <string_view>
#include <vector>

using namespace std::string_view_literals;
using tern::core::is_shared_filter;
using tern::core::is_valid_topic_filter;
using tern::core::is_valid_topic_name;
using tern::core::parse_shared_filter;
using tern::core::topic_matches;
using tern::core::TopicLevels;

TEST_CASE("Topic names without wildcards are valid, empty levels included") {
    for (std::string_view name : {"a"sv, "sport/tennis/player1"sv, "/"sv, "//"sv, "/a"sv, "a/"sv,
                                  "a//b"sv, "$SYS/broker/uptime"sv, "$"sv, "Accounts payable"sv,
                                  "caf\xc3\xa9/\xe2\x82\xac"sv, "$share/g/a"sv}) {
        CAPTURE(name);
        CHECK(is_valid_topic_name(name));
    }
}

TEST_CASE("Topic names that are empty or hold a wildcard or a null character are invalid") {
    for (std::string_view name : {""sv, "+"sv, "#"sv, "a/+"sv, "a/#"sv, "+/a"sv, "a+"sv, "sport#"sv,
                                  "a/b+c/d"sv, "a\0b"sv, "\0"sv}) {
        CAPTURE(name);
        CHECK_FALSE(is_valid_topic_name(name));
    }
}

TEST_CASE("Topic names respect the length and level limits") {
    CHECK(is_valid_topic_name("abcd", 4));
    CHECK_FALSE(is_valid_topic_name("abcde", 4));
    CHECK(is_valid_topic_name("a/b/c", 0, 3));
    CHECK_FALSE(is_valid_topic_name("a/b/c/d", 0, 3));
    CHECK(is_valid_topic_name("//", 0, 3));
    CHECK_FALSE(is_valid_topic_name("///", 0, 3));
    CHECK(is_valid_topic_name("a/b", 3, 2));
    CHECK_FALSE(is_valid_topic_name("a/b", 2, 2));
    // 65,535 bytes is the protocol's ceiling even when no limit is configured [MQTT-4.7.3-3].
    CHECK(is_valid_topic_name(std::string(65535, 'x')));
    CHECK_FALSE(is_valid_topic_name(std::string(65536, 'x')));
    CHECK_FALSE(is_valid_topic_name(std::string(65536, 'x'), 100000));
}

TEST_CASE(
    "Topic filters with whole-level wildcards and a trailing multi-level wildcard are valid") {
    for (std::string_view filter :
         {"a"sv, "#"sv, "+"sv, "/"sv, "+/+"sv, "/+"sv, "+/"sv, "a/#"sv, "a/+/b"sv, "+/#"sv, "/#"sv,
          "a//#"sv, "sport/tennis/+"sv, "$SYS/#"sv, "a//b"sv, "$share"sv, "$shared/g"sv}) {
        CAPTURE(filter);
        CHECK(is_valid_topic_filter(filter));
    }
}

TEST_CASE("Topic filters with misplaced wildcards, null characters or no characters are invalid") {
    for (std::string_view filter :
         {""sv, "a#"sv, "#a"sv, "a/#/b"sv, "#/a"sv, "##"sv, "a/b#"sv, "a+"sv, "+a"sv, "a/+b"sv,
          "a/b+/c"sv, "++"sv, "+#"sv, "#+"sv, "sport/tennis#"sv, "a/\0"sv}) {
        CAPTURE(filter);
        CHECK_FALSE(is_valid_topic_filter(filter));
    }
}

TEST_CASE("Topic filters respect the length and level limits") {
    CHECK(is_valid_topic_filter("a/+/#", 5, 3));
    CHECK_FALSE(is_valid_topic_filter("a/+/#", 4, 3));
    CHECK_FALSE(is_valid_topic_filter("a/+/#", 5, 2));
    CHECK(is_valid_topic_filter(std::string(65535, 'x')));
    CHECK_FALSE(is_valid_topic_filter(std::string(65536, 'x')));
    // The level limit of a shared filter counts the filter after the ShareName; the length limit
    // counts the whole string.
    CHECK(is_valid_topic_filter("$share/group/a/b", 0, 2));
    CHECK_FALSE(is_valid_topic_filter("$share/group/a/b/c", 0, 2));
    CHECK(is_valid_topic_filter("$share/g/a", 10));
    CHECK_FALSE(is_valid_topic_filter("$share/g/ab", 10));
}

TEST_CASE("Shared filters split into a ShareName and a filter") {
    struct Row {
        std::string_view text;
        std::string_view group;
        std::string_view filter;
    };
    const std::vector<Row> rows{
        {"$share/g/a", "g", "a"},
        {"$share/group/sport/tennis/+", "group", "sport/tennis/+"},
        {"$share/g/#", "g", "#"},
        {"$share/g//", "g", "/"},
        {"$share/g/+", "g", "+"},
        {"$share/g/$SYS/#", "g", "$SYS/#"},
        {"$share/$g/a//b", "$g", "a//b"},
        {"$share/g/$share/h/x", "g", "$share/h/x"},
    };
    for (const Row& row : rows) {
        CAPTURE(row.text);
        CHECK(is_shared_filter(row.text));
        CHECK(is_valid_topic_filter(row.text));
        auto shared = parse_shared_filter(row.text);
        REQUIRE(shared.has_value());
        CHECK(shared->group == row.group);
        CHECK(shared->filter == row.filter);
    }
}

TEST_CASE("Malformed shared filters are rejected") {
    for (std::string_view filter :
         {"$share/"sv, "$share//a"sv, "$share/g"sv, "$share/g/"sv, "$share/g+/a"sv, "$share/+/a"sv,
          "$share/#/a"sv, "$share/g#/a"sv, "$share/g/a/#/b"sv, "$share/g/a+"sv, "$share/g\0/a"sv}) {
        CAPTURE(filter);
        CHECK(is_shared_filter(filter));
        CHECK_FALSE(parse_shared_filter(filter).has_value());
        CHECK_FALSE(is_valid_topic_filter(filter));
    }
}

TEST_CASE("Only filters starting with $share/ are shared filters") {
    CHECK_FALSE(is_shared_filter("$share"));
    CHECK_FALSE(is_shared_filter("$SHARE/g/a"));
    CHECK_FALSE(is_shared_filter("a/$share/g/a"));
    CHECK_FALSE(is_shared_filter("$shared/g/a"));
    CHECK_FALSE(parse_shared_filter("$shared/g/a").has_value());
    CHECK_FALSE(parse_shared_filter("a/b").has_value());
}

TEST_CASE("Filters match topics level by level with + and # wildcards") {
    struct Row {
        std::string_view filter;
        std::string_view topic;
        bool matches;
    };
    const std::vector<Row> rows{
        // Exact levels, byte for byte [MQTT-4.7.3-4].
        {"a", "a", true},
        {"a", "b", false},
        {"a/b", "a/b", true},
        {"a/b", "a", false},
        {"a", "a/b", false},
        {"ACCOUNTS", "Accounts", false},
        {"/finance", "finance", false},
        {"/finance", "/finance", true},
        {"a/b ", "a/b", false},
        // '#' matches everything below and the parent itself.
        {"#", "a", true},
        {"#", "a/b/c", true},
        {"#", "/", true},
        {"sport/#", "sport", true},
        {"sport/#", "sport/tennis/player1", true},
        {"sport/#", "sport/", true},
        {"sport/#", "sports", false},
        {"sport/tennis/player1/#", "sport/tennis/player1", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/ranking", true},
        {"sport/tennis/player1/#", "sport/tennis/player1/score/wimbledon", true},
        {"sport/tennis/player1/#", "sport/tennis", false},
        {"/#", "/a", true},
        {"/#", "a", false},
        // '+' matches exactly one level, an empty one included.
        {"+", "a", true},
        {"+", "a/b", false},
        {"+", "/a", false},
        {"sport/tennis/+", "sport/tennis/player1", true},
        {"sport/tennis/+", "sport/tennis/player1/ranking", false},
        {"sport/+", "sport", false},
        {"sport/+", "sport/", true},
        {"+/+", "/finance", true},
        {"/+", "/finance", true},
        {"+", "/finance", false},
        {"+/+", "/", true},
        {"a/+/c", "a//c", true},
        {"a/+/c", "a/b/c", true},
        {"a/+/c", "a/b/d", false},
        {"+/b/#", "a/b", true},
        {"+/b/#", "a/c/d", false},
        {"a//b", "a//b", true},
        {"a//b", "a/b", false},
        {"a/", "a", false},
        {"a/", "a/", true},
        // Topics starting with '$' are not matched by a leading wildcard [MQTT-4.7.2-1].
        {"#", "$SYS/broker", false},
        {"#", "$SYS", false},
        {"+/monitor/Clients", "$SYS/monitor/Clients", false},
        {"+", "$", false},
        {"$SYS/#", "$SYS/x", true},
        {"$SYS/#", "$SYS", true},
        {"$SYS/monitor/+", "$SYS/monitor/Clients", true},
        {"$SYS/+", "$SYS/", true},
        {"a/#", "a/$b", true},
        {"a/+", "a/$b", true},
        {"$+", "$a", false},
        {"/#", "/$SYS", true},
    };
    CHECK(rows.size() >= 40);
    for (const Row& row : rows) {
        CAPTURE(row.filter);
        CAPTURE(row.topic);
        CHECK(topic_matches(row.filter, row.topic) == row.matches);
    }
}

TEST_CASE("Topic levels are walked without copying, empty levels included") {
    auto split = [](std::string_view text) {
        std::vector<std::string> levels;
        TopicLevels cursor(text);
        while (!cursor.done()) {
            levels.emplace_back(cursor.next());
        }
        return levels;
    };
    CHECK(split("a/b/c") == std::vector<std::string>{"a", "b", "c"});
    CHECK(split("a//b") == std::vector<std::string>{"a", "", "b"});
    CHECK(split("/") == std::vector<std::string>{"", ""});
    CHECK(split("") == std::vector<std::string>{""});
    CHECK(split("a/") == std::vector<std::string>{"a", ""});

    TopicLevels cursor("ab/cd");
    CHECK(cursor.next() == "ab");
    CHECK(cursor.position() == 3);
    TopicLevels resumed("ab/cd", cursor.position());
    CHECK(resumed.next() == "cd");
    CHECK(resumed.done());
}
