// Tests of [[storage.history]]: policies in order, defaults, and errors naming the line.
#include <doctest/doctest.h>

#include <string>

#include "app/config_loader.hpp"
#include "config_error.hpp"

using tern::app::ConfigError;
using tern::app::load_config_string;
using tern::app::test::error_of;

namespace {}  // namespace

TEST_CASE("history policies are read in order, with defaults, next to the other storage keys") {
    const auto settings = load_config_string(
        "[storage]\n"
        "durability = \"sync\"\n"
        "[[storage.history]]\n"
        "filter = \"sensors/#\"\n"
        "max_messages = 500\n"
        "max_age = 0\n"
        "[[storage.history]]\n"
        "filter = \"#\"\n",
        "t.toml");
    CHECK(settings.storage.durability == "sync");
    REQUIRE(settings.storage.history.size() == 2);
    CHECK(settings.storage.history[0].filter == "sensors/#");
    CHECK(settings.storage.history[0].max_messages == 500);
    CHECK(settings.storage.history[0].max_age_s == 0);
    CHECK(settings.storage.history[1].filter == "#");
    CHECK(settings.storage.history[1].max_messages == 100);
    CHECK(settings.storage.history[1].max_age_s == 3600);
    CHECK(load_config_string("", "t.toml").storage.history.empty());
}

TEST_CASE("bad history policies are refused with their line") {
    CHECK(error_of("[[storage.history]]\nfilter = \"a/#/b\"\n") ==
          "t.toml:2: storage.history[0].filter: 'a/#/b' is not a valid topic filter");
    CHECK(error_of("[[storage.history]]\nfilter = \"$share/g/t\"\n") ==
          "t.toml:2: storage.history[0].filter: '$share/g/t' is not a valid topic filter");
    CHECK(error_of("[[storage.history]]\nfilter = \"t\"\nmax_messages = 0\n")
              .starts_with("t.toml:3: storage.history[0].max_messages"));
    CHECK(error_of("[[storage.history]]\nfilter = \"t\"\nmax_age = -1\n")
              .starts_with("t.toml:3: storage.history[0].max_age"));
    CHECK(error_of("[[storage.history]]\nfilter = \"t\"\nmax_mesages = 5\n")
              .starts_with("t.toml:3: unknown key 'storage.history[0].max_mesages'"));
    CHECK(error_of("[[storage.history]]\nmax_messages = 5\n") ==
          "t.toml:1: storage.history[0]: 'filter' is required");
    CHECK(error_of("[storage]\nhistory = 5\n")
              .starts_with("t.toml:2: storage.history: expected an array of tables"));
}
