// Tests of topic name/filter validation and the -T matching rules.
#include "common/topic_filter.hpp"

#include <doctest/doctest.h>

#include <string>

using namespace tern::tools;

TEST_CASE("topic names reject wildcards, emptiness and NUL") {
    CHECK(is_valid_topic_name("a/b/c"));
    CHECK(is_valid_topic_name("/"));
    CHECK(is_valid_topic_name("$SYS/x"));
    CHECK_FALSE(is_valid_topic_name(""));
    CHECK_FALSE(is_valid_topic_name("a/+"));
    CHECK_FALSE(is_valid_topic_name("a/#"));
    CHECK_FALSE(is_valid_topic_name(std::string("a\0b", 3)));
    CHECK_FALSE(is_valid_topic_name(std::string(65536, 'a')));
    CHECK(is_valid_topic_name(std::string(65535, 'a')));
}

TEST_CASE("topic filters allow whole-level wildcards only") {
    CHECK(is_valid_topic_filter("#"));
    CHECK(is_valid_topic_filter("+"));
    CHECK(is_valid_topic_filter("a/+/b/#"));
    CHECK(is_valid_topic_filter("+/+"));
    CHECK(is_valid_topic_filter("a//b"));
    CHECK_FALSE(is_valid_topic_filter(""));
    CHECK_FALSE(is_valid_topic_filter("a/#/b"));
    CHECK_FALSE(is_valid_topic_filter("a#"));
    CHECK_FALSE(is_valid_topic_filter("a/b+"));
    CHECK_FALSE(is_valid_topic_filter("++"));
}

TEST_CASE("filters match topics level by level") {
    CHECK(topic_matches("a/b", "a/b"));
    CHECK_FALSE(topic_matches("a/b", "a/b/c"));
    CHECK(topic_matches("a/+", "a/b"));
    CHECK(topic_matches("a/+", "a/"));
    CHECK_FALSE(topic_matches("a/+", "a"));
    CHECK_FALSE(topic_matches("a/+", "a/b/c"));
    CHECK(topic_matches("a/#", "a"));
    CHECK(topic_matches("a/#", "a/b/c"));
    CHECK(topic_matches("#", "a/b"));
    CHECK(topic_matches("+/+", "/x"));
    CHECK_FALSE(topic_matches("a/b", "A/b"));
}

TEST_CASE("wildcards at the start do not match $ topics") {
    CHECK_FALSE(topic_matches("#", "$SYS/uptime"));
    CHECK_FALSE(topic_matches("+/uptime", "$SYS/uptime"));
    CHECK(topic_matches("$SYS/#", "$SYS/uptime"));
    CHECK(topic_matches("$SYS/+", "$SYS/uptime"));
}
