// Tests for ACL files: parsing and errors, publish/receive/subscribe decisions, filter relations.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

#include "core/auth.hpp"
#include "core/topic.hpp"

using tern::core::AclFile;
using tern::core::AuthFileError;
using tern::core::filter_covers;
using tern::core::filters_overlap;
using tern::core::topic_matches;

namespace {

const std::optional<std::string> kAnonymous;

std::optional<std::string> user(const char* name) {
    return std::string(name);
}

std::string parse_error(const std::string& text) {
    try {
        AclFile::parse(text, "acl.conf");
    } catch (const AuthFileError& error) {
        return error.what();
    }
    return "(no error)";
}

struct FilterPair {
    std::string_view a;
    std::string_view b;
    bool expected;
};

}  // namespace

TEST_CASE("topic rules grant read, write, readwrite; no rule means denied") {
    const auto acl = AclFile::parse(
        "user alice\n"
        "topic read sensors/#\n"
        "topic write commands/alice\n"
        "topic readwrite chat/+\n"
        "topic plain/topic\n",
        "acl.conf");
    CHECK(acl->size() == 4);
    const auto alice = user("alice");
    CHECK(acl->can_receive(alice, "c1", "sensors/kitchen/temp"));
    CHECK(acl->can_receive(alice, "c1", "sensors"));
    CHECK_FALSE(acl->can_publish(alice, "c1", "sensors/kitchen/temp"));
    CHECK(acl->can_publish(alice, "c1", "commands/alice"));
    CHECK_FALSE(acl->can_receive(alice, "c1", "commands/alice"));
    CHECK(acl->can_publish(alice, "c1", "chat/room"));
    CHECK(acl->can_receive(alice, "c1", "chat/room"));
    CHECK_FALSE(acl->can_receive(alice, "c1", "chat/room/deeper"));
    // No access word: readwrite.
    CHECK(acl->can_publish(alice, "c1", "plain/topic"));
    CHECK(acl->can_receive(alice, "c1", "plain/topic"));
    // Nothing else.
    CHECK_FALSE(acl->can_publish(alice, "c1", "other"));
    CHECK_FALSE(acl->can_receive(alice, "c1", "other"));
    // Other users and anonymous clients get none of alice's rules.
    CHECK_FALSE(acl->can_receive(user("bob"), "c1", "sensors/x"));
    CHECK_FALSE(acl->can_receive(kAnonymous, "c1", "sensors/x"));
    CHECK_FALSE(acl->can_receive(user("Alice"), "c1", "sensors/x"));
    // Topics that are not valid topic names are never allowed.
    CHECK_FALSE(acl->can_publish(alice, "c1", "chat/+"));
    CHECK_FALSE(acl->can_receive(alice, "c1", ""));
}

TEST_CASE("Rules before the first user line are for anonymous clients only") {
    const auto acl = AclFile::parse(
        "# anonymous section\n"
        "topic read public/#\n"
        "\n"
        "user bob\n"
        "topic readwrite bob/#\n"
        "user carol\n"
        "topic read carol/#\n"
        "user bob\n"
        "topic write shared/bob\n",
        "acl.conf");
    CHECK(acl->can_receive(kAnonymous, "anon", "public/news"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "anon", "public/news"));
    CHECK_FALSE(acl->can_receive(kAnonymous, "anon", "bob/x"));
    CHECK_FALSE(acl->can_receive(user("bob"), "b", "public/news"));
    CHECK(acl->can_publish(user("bob"), "b", "bob/x"));
    CHECK(acl->can_publish(user("bob"), "b", "shared/bob"));  // a second "user bob" section adds
    CHECK(acl->can_receive(user("carol"), "c", "carol/x"));
    CHECK_FALSE(acl->can_receive(user("carol"), "c", "bob/x"));
    // An empty user name is a user, not anonymous.
    CHECK_FALSE(acl->can_receive(user(""), "c", "public/news"));
}

TEST_CASE("User names may contain spaces and filters may contain spaces") {
    const auto acl = AclFile::parse(
        "user  Mary Ann  \n"
        "topic read  rooms/living room/#  \n"
        "topic\twrite\tout box\n",
        "acl.conf");
    CHECK(acl->can_receive(user("Mary Ann"), "c", "rooms/living room/lamp"));
    CHECK_FALSE(acl->can_receive(user("Mary Ann"), "c", "rooms/living"));
    CHECK(acl->can_publish(user("Mary Ann"), "c", "out box"));
    CHECK_FALSE(acl->can_publish(user("Mary"), "c", "out box"));
}

TEST_CASE("pattern substitutes %c and %u and applies to every client") {
    const auto acl = AclFile::parse(
        "pattern write devices/%c/status\n"
        "user alice\n"
        "pattern read users/%u/inbox/#\n"
        "pattern readwrite mixed/%u-%c/x\n",
        "acl.conf");
    CHECK(acl->size() == 3);
    // A pattern inside a user section still applies to everybody.
    CHECK(acl->can_publish(kAnonymous, "dev1", "devices/dev1/status"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "dev1", "devices/dev2/status"));
    CHECK(acl->can_publish(user("bob"), "dev2", "devices/dev2/status"));
    CHECK(acl->can_receive(user("bob"), "c", "users/bob/inbox/1"));
    CHECK(acl->can_receive(user("bob"), "c", "users/bob/inbox"));
    CHECK_FALSE(acl->can_receive(user("bob"), "c", "users/alice/inbox/1"));
    CHECK(acl->can_publish(user("al"), "c7", "mixed/al-c7/x"));
    CHECK_FALSE(acl->can_publish(user("al"), "c7", "mixed/c7-al/x"));
    // %u never matches anonymous clients, not even as an empty string.
    CHECK_FALSE(acl->can_receive(kAnonymous, "c", "users//inbox/1"));
    CHECK_FALSE(acl->can_receive(kAnonymous, "c", "users/%u/inbox/1"));
    // A pattern without placeholders is a rule for every client.
    const auto plain = AclFile::parse("user a\npattern read global/#\n", "acl.conf");
    CHECK(plain->can_receive(kAnonymous, "c", "global/x"));
    CHECK(plain->can_receive(user("b"), "c", "global/x"));
    CHECK_FALSE(plain->can_publish(user("a"), "c", "global/x"));
    // Only %c and %u are placeholders.
    const auto other = AclFile::parse("pattern read a/%x/%/%%c\n", "acl.conf");
    CHECK(other->can_receive(kAnonymous, "id", "a/%x/%/%id"));
}

TEST_CASE("An allowing pattern ignores identities with '+', '#' or '/'") {
    const auto acl = AclFile::parse("pattern readwrite clients/%c/#\n", "acl.conf");
    CHECK(acl->can_publish(kAnonymous, "a", "clients/a/x"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "#", "clients/#/x"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "+", "clients/anything/x"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "a/b", "clients/a/b/x"));
    CHECK_FALSE(acl->can_subscribe(kAnonymous, "#", "clients/#"));
    const auto by_user = AclFile::parse("pattern read home/%u/#\n", "acl.conf");
    CHECK_FALSE(by_user->can_receive(user("x/y"), "c", "home/x/y/z"));
    CHECK_FALSE(by_user->can_receive(user("+"), "c", "home/q/z"));
}

TEST_CASE("A denying pattern still applies to odd identities") {
    const auto acl = AclFile::parse(
        "topic readwrite #\n"
        "pattern deny secrets/%c/#\n",
        "acl.conf");
    CHECK(acl->can_publish(kAnonymous, "a", "secrets/b/x"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "a", "secrets/a/x"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "#", "secrets/b/x"));
    CHECK_FALSE(acl->can_publish(kAnonymous, "a/b", "secrets/a/b/c"));
}

TEST_CASE("Deny beats allow whatever the order") {
    const auto acl = AclFile::parse(
        "user alice\n"
        "topic deny sensors/secret/#\n"
        "topic readwrite sensors/#\n"
        "topic read +/public\n"
        "topic deny x/public\n",
        "acl.conf");
    const auto alice = user("alice");
    CHECK(acl->can_publish(alice, "c", "sensors/open"));
    CHECK_FALSE(acl->can_publish(alice, "c", "sensors/secret"));
    CHECK_FALSE(acl->can_receive(alice, "c", "sensors/secret/key"));
    CHECK(acl->can_receive(alice, "c", "y/public"));
    CHECK_FALSE(acl->can_receive(alice, "c", "x/public"));
    // A deny pattern beats a topic rule too.
    const auto mixed = AclFile::parse(
        "pattern deny private/%c\n"
        "user alice\n"
        "topic readwrite private/#\n",
        "acl.conf");
    CHECK(mixed->can_publish(alice, "c1", "private/c2"));
    CHECK_FALSE(mixed->can_publish(alice, "c1", "private/c1"));
}

TEST_CASE("Wildcard rules do not reach $SYS; explicit $ rules do") {
    const auto acl = AclFile::parse(
        "topic read #\n"
        "topic read +/uptime\n"
        "user admin\n"
        "topic read $SYS/#\n",
        "acl.conf");
    CHECK(acl->can_receive(kAnonymous, "c", "a/uptime"));
    CHECK_FALSE(acl->can_receive(kAnonymous, "c", "$SYS/uptime"));
    CHECK_FALSE(acl->can_receive(kAnonymous, "c", "$SYS/broker/clients"));
    CHECK_FALSE(acl->can_subscribe(kAnonymous, "c", "$SYS/#"));
    CHECK(acl->can_subscribe(kAnonymous, "c", "#"));
    CHECK(acl->can_receive(user("admin"), "c", "$SYS/broker/clients"));
    CHECK_FALSE(acl->can_receive(user("admin"), "c", "other"));
    CHECK(acl->can_subscribe(user("admin"), "c", "$SYS/+/clients"));
    // "#" touches no $ topic, so a $SYS-only rule does not allow subscribing to it.
    CHECK_FALSE(acl->can_subscribe(user("admin"), "c", "#"));
    CHECK_FALSE(acl->can_subscribe(user("admin"), "c", "+/broker"));
}

TEST_CASE("can_subscribe: some read rule must overlap and no deny may cover the filter") {
    const auto acl = AclFile::parse(
        "user u\n"
        "topic read sensors/+/temp\n"
        "topic write commands/#\n"
        "topic read rooms/#\n"
        "topic deny rooms/vault/#\n"
        "topic deny rooms/+/secret\n",
        "acl.conf");
    const auto u = user("u");
    CHECK(acl->can_subscribe(u, "c", "sensors/+/temp"));
    CHECK(acl->can_subscribe(u, "c", "sensors/kitchen/temp"));
    CHECK(acl->can_subscribe(u, "c", "sensors/#"));  // overlaps; delivery filters the rest
    CHECK(acl->can_subscribe(u, "c", "#"));
    CHECK(acl->can_subscribe(u, "c", "+/+/temp"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "sensors/kitchen/humidity"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "sensors/+"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "commands/#"));  // write-only
    CHECK(acl->can_subscribe(u, "c", "rooms/#"));           // only partly denied
    CHECK(acl->can_subscribe(u, "c", "rooms/+/+"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "rooms/vault"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "rooms/vault/#"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "rooms/vault/+/x"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "rooms/+/secret"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "rooms/hall/secret"));
    CHECK(acl->can_subscribe(u, "c", "rooms/hall/+"));
    // Shared subscriptions are judged by the filter after the group.
    CHECK(acl->can_subscribe(u, "c", "$share/g/sensors/+/temp"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "$share/g/rooms/vault/#"));
    CHECK_FALSE(acl->can_subscribe(u, "c", "$share/g+/sensors/+/temp"));
    // Invalid filters are refused.
    CHECK_FALSE(acl->can_subscribe(u, "c", "sensors/#/temp"));
    CHECK_FALSE(acl->can_subscribe(u, "c", ""));
    CHECK_FALSE(acl->can_subscribe(kAnonymous, "c", "sensors/+/temp"));
}

TEST_CASE("can_subscribe applies patterns and %u/%c substitution") {
    const auto acl = AclFile::parse(
        "pattern read home/%u/#\n"
        "pattern deny home/%u/private/#\n"
        "pattern read dev/%c/+\n",
        "acl.conf");
    CHECK(acl->can_subscribe(user("ann"), "c", "home/ann/#"));
    CHECK(acl->can_subscribe(user("ann"), "c", "home/+/lamp"));
    CHECK_FALSE(acl->can_subscribe(user("ann"), "c", "home/ann/private/x"));
    CHECK_FALSE(acl->can_subscribe(user("ann"), "c", "home/bob/#"));
    CHECK_FALSE(acl->can_subscribe(kAnonymous, "c", "home/+/lamp"));
    CHECK(acl->can_subscribe(kAnonymous, "d1", "dev/d1/x"));
    CHECK(acl->can_subscribe(kAnonymous, "d1", "dev/+/x"));
    CHECK_FALSE(acl->can_subscribe(kAnonymous, "d1", "dev/d2/x"));
}

TEST_CASE("An empty ACL file denies everything") {
    const auto acl = AclFile::parse("# nothing\n\n", "acl.conf");
    CHECK(acl->size() == 0);
    CHECK_FALSE(acl->can_publish(kAnonymous, "c", "a"));
    CHECK_FALSE(acl->can_receive(user("u"), "c", "a"));
    CHECK_FALSE(acl->can_subscribe(user("u"), "c", "#"));
    CHECK_FALSE(AclFile().can_publish(kAnonymous, "c", "a"));
}

TEST_CASE("ACL parse errors name the file and line") {
    CHECK(parse_error("topic read a\nbogus a/b\n") ==
          "acl.conf:2: unknown keyword 'bogus' (expected user, topic or pattern)");
    CHECK(parse_error("Topic a") ==
          "acl.conf:1: unknown keyword 'Topic' (expected user, topic or pattern)");
    CHECK(parse_error("\n\ntopic\n") == "acl.conf:3: missing topic filter after 'topic'");
    CHECK(parse_error("pattern   \t\n") == "acl.conf:1: missing topic filter after 'pattern'");
    CHECK(parse_error("topic read\n") == "acl.conf:1: missing topic filter after 'read'");
    CHECK(parse_error("topic deny \r\n") == "acl.conf:1: missing topic filter after 'deny'");
    CHECK(parse_error("topic reed a/b\n") ==
          "acl.conf:1: bad access word 'reed' (expected read, write, readwrite or deny)");
    CHECK(parse_error("pattern subscribe a/%c\n") ==
          "acl.conf:1: bad access word 'subscribe' (expected read, write, readwrite or deny)");
    CHECK(parse_error("# c\ntopic read a/#/b\n") == "acl.conf:2: invalid topic filter 'a/#/b'");
    CHECK(parse_error("topic write a+\n") == "acl.conf:1: invalid topic filter 'a+'");
    CHECK(parse_error("pattern read x/%c#\n") == "acl.conf:1: invalid topic filter 'x/%c#'");
    CHECK(parse_error("user alice\nuser\n") == "acl.conf:2: missing user name after 'user'");
    const std::string with_null("a\0b", 3);
    CHECK(parse_error("topic read " + with_null) == "acl.conf:1: invalid topic filter 'a\\x00b'");
    CHECK(parse_error("\x1b[31m a") ==
          "acl.conf:1: unknown keyword '\\x1b[31m' (expected user, topic or pattern)");
}

TEST_CASE("AclFile::load reads a file and reports one it cannot open") {
    const auto path = std::filesystem::temp_directory_path() / "tern_acl_file_test.conf";
    {
        std::ofstream out(path);
        out << "topic read a/#\nnonsense\n";
    }
    try {
        AclFile::load(path.string());
        FAIL("load should throw");
    } catch (const AuthFileError& error) {
        CHECK(std::string(error.what()) ==
              path.string() + ":2: unknown keyword 'nonsense' (expected user, topic or pattern)");
    }
    {
        std::ofstream out(path);
        out << "topic read a/#\n";
    }
    CHECK(AclFile::load(path.string())->can_receive(kAnonymous, "c", "a/b"));
    std::filesystem::remove(path);
    CHECK_THROWS_WITH_AS(AclFile::load("/nonexistent/acl"),
                         "/nonexistent/acl: cannot open: No such file or directory", AuthFileError);
}

TEST_CASE("filters_overlap table") {
    const std::vector<FilterPair> table = {
        {"a/b", "a/b", true},
        {"a/b", "a/c", false},
        {"a/+", "a/b", true},
        {"a/+", "+/b", true},
        {"+/+", "a", false},
        {"+", "a", true},
        {"a/#", "a", true},  // '#' matches the parent level
        {"a/#", "a/b/c", true},
        {"a/#", "b/#", false},
        {"#", "a/b/c", true},
        {"#", "#", true},
        {"#", "$SYS/x", false},  // [MQTT-4.7.2-1]
        {"+/x", "$SYS/x", false},
        {"$SYS/#", "$SYS/+", true},
        {"$SYS/#", "$share/#", false},
        {"+/+", "$SYS/a", false},
        {"$SYS/+", "$SYS/a", true},
        {"+", "+", true},
        {"a/+/c", "a/b/+", true},
        {"a/+/c", "a/b/d", false},
        {"a/b", "a/b/c", false},
        {"a/b", "a/b/+", false},
        {"a/b", "a/b/#", true},
        {"a//b", "a/+/b", true},
        {"a//b", "a/b", false},
        {"/", "+/+", true},
        {"/", "+", false},
        {"a/+/#", "a", false},
        {"a/+/#", "a/b", true},
        {"+/#", "/", true},
        {"sport/tennis/#", "sport/+/player1", true},
        {"sport/tennis/+", "sport/#", true},
        {"sport/tennis/+", "sport/tennis", false},
    };
    for (const FilterPair& row : table) {
        CAPTURE(row.a);
        CAPTURE(row.b);
        CHECK(filters_overlap(row.a, row.b) == row.expected);
        CHECK(filters_overlap(row.b, row.a) == row.expected);  // symmetric
    }
}

TEST_CASE("filter_covers table") {
    const std::vector<FilterPair> table = {
        {"#", "a/b", true},     {"#", "#", true},         {"#", "+/x", true},
        {"#", "$SYS/x", false}, {"+/x", "$SYS/x", false}, {"$SYS/#", "$SYS/+/x", true},
        {"a/#", "a", true},     {"a/#", "a/#", true},     {"a/#", "#", false},
        {"a/+", "a/#", false},  {"a/+", "a/b", true},     {"a/+", "a/+", true},
        {"a/b", "a/+", false},  {"a/b", "a/b", true},     {"a/b", "a", false},
        {"a", "a/b", false},    {"+/+", "a/+", true},     {"+/+/#", "a/b", true},
        {"a/+/#", "a", false},  {"+", "/", false},        {"+/+", "/", true},
    };
    for (const FilterPair& row : table) {
        CAPTURE(row.a);
        CAPTURE(row.b);
        CHECK(filter_covers(row.a, row.b) == row.expected);
    }
}

namespace {

// Every valid filter of up to `depth` levels over a small alphabet of levels.
std::vector<std::string> all_filters(std::size_t depth) {
    const std::vector<std::string> levels = {"a", "$x", "", "+", "#"};
    std::vector<std::string> out;
    std::vector<std::string> current = {""};
    for (std::size_t d = 1; d <= depth; ++d) {
        std::vector<std::string> next;
        for (const std::string& prefix : current) {
            for (const std::string& level : levels) {
                next.push_back(d == 1 ? level : prefix + "/" + level);
            }
        }
        for (const std::string& f : next) {
            if (tern::core::is_valid_topic_filter(f)) {
                out.push_back(f);
            }
        }
        current = std::move(next);
    }
    return out;
}

// Every topic name of up to `depth` levels; "c" stands for any level the filters do not name.
std::vector<std::string> all_topics(std::size_t depth) {
    const std::vector<std::string> levels = {"a", "$x", "", "c"};
    std::vector<std::string> out;
    std::vector<std::string> current = {""};
    for (std::size_t d = 1; d <= depth; ++d) {
        std::vector<std::string> next;
        for (const std::string& prefix : current) {
            for (const std::string& level : levels) {
                next.push_back(d == 1 ? level : prefix + "/" + level);
            }
        }
        for (const std::string& t : next) {
            if (!t.empty()) {
                out.push_back(t);
            }
        }
        current = std::move(next);
    }
    return out;
}

}  // namespace

TEST_CASE("filters_overlap and filter_covers agree with topic_matches over all small filters") {
    // Filters of up to 3 levels; witnesses and counterexamples need at most one level more.
    const std::vector<std::string> filters = all_filters(3);
    const std::vector<std::string> topics = all_topics(4);
    REQUIRE(filters.size() > 100);
    std::size_t overlaps = 0;
    std::size_t covers = 0;
    for (const std::string& a : filters) {
        std::vector<bool> matched_a;
        matched_a.reserve(topics.size());
        for (const std::string& t : topics) {
            matched_a.push_back(topic_matches(a, t));
        }
        for (const std::string& b : filters) {
            bool some = false;
            bool all = true;
            for (std::size_t i = 0; i < topics.size(); ++i) {
                const bool in_b = topic_matches(b, topics[i]);
                some = some || (matched_a[i] && in_b);
                all = all && (!in_b || matched_a[i]);
            }
            if (filters_overlap(a, b) != some || filter_covers(a, b) != all) {
                CAPTURE(a);
                CAPTURE(b);
                CHECK(filters_overlap(a, b) == some);
                CHECK(filter_covers(a, b) == all);
            }
            overlaps += some ? 1 : 0;
            covers += all ? 1 : 0;
        }
    }
    // Both relations are non-trivial over this set.
    CHECK(overlaps > filters.size());
    CHECK(covers > filters.size());
    CHECK(overlaps < filters.size() * filters.size());
}

TEST_CASE("a deny pattern whose substituted identity holds a wildcard or slash denies everything") {
    const auto acl = AclFile::parse("pattern deny %c/%u/\npattern readwrite #\n", "acl.conf");
    const std::optional<std::string> hash_user = std::string("#");
    // The identity would widen the deny filter past what it names: every check refuses, and
    // subscribing and receiving agree (found by tern_fuzz_acl).
    CHECK_FALSE(acl->can_receive(hash_user, "+", "a"));
    CHECK_FALSE(acl->can_subscribe(hash_user, "+", "a"));
    CHECK_FALSE(acl->can_publish(hash_user, "+", "a"));
    CHECK_FALSE(acl->can_receive(std::string("u"), "a/b", "x"));
    // An ordinary identity only meets the deny rule on its own topics.
    CHECK(acl->can_receive(std::string("u"), "c", "a"));
    CHECK_FALSE(acl->can_receive(std::string("u"), "c", "c/u/"));
}
