// libFuzzer target for ACL files: parsing never crashes and fails only with AuthFileError, and
// every decision on a parsed file is consistent with the filter relations it is built on.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <string>
#include <string_view>

#include "core/auth.hpp"
#include "core/topic.hpp"

namespace {

using tern::core::AclFile;
using tern::core::AuthFileError;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_acl: %s\n", what);
    std::abort();
}

// Topics and filters to ask about: fixed ones plus the two probes, so the fuzzer can steer the
// questions towards the rules it wrote.
void ask(const AclFile& acl, std::string_view probe_a, std::string_view probe_b) {
    const std::optional<std::string> users[] = {std::nullopt, std::string("alice"),
                                                std::string("u"), std::string("#")};
    const std::string_view topics[] = {"a",     "a/b",      "$SYS/x", "alice/x",
                                       "c/u/x", "devices/", probe_a,  probe_b};
    for (const auto& user : users) {
        for (std::string_view client_id : {"c", "+", "a/b"}) {
            for (std::string_view topic : topics) {
                const bool receive = acl.can_receive(user, client_id, topic);
                acl.can_publish(user, client_id, topic);
                const bool subscribe = acl.can_subscribe(user, client_id, topic);
                // A topic name is also a filter matching only itself: whoever may receive it
                // may subscribe to it, and the other way round.
                if (tern::core::is_valid_topic_name(topic) &&
                    !tern::core::is_shared_filter(topic) && receive != subscribe) {
                    fail("can_subscribe(topic) disagrees with can_receive(topic)");
                }
            }
        }
    }
}

// The filter relations against their definitions for two fuzzer-chosen filters.
void check_relations(std::string_view a, std::string_view b) {
    if (!tern::core::is_valid_topic_filter(a) || !tern::core::is_valid_topic_filter(b) ||
        tern::core::is_shared_filter(a) || tern::core::is_shared_filter(b)) {
        return;
    }
    if (tern::core::filters_overlap(a, b) != tern::core::filters_overlap(b, a)) {
        fail("filters_overlap is not symmetric");
    }
    if (!tern::core::filter_covers(a, a) || !tern::core::filter_covers("#", "+/#")) {
        fail("filter_covers is not reflexive");
    }
    if (tern::core::filter_covers(a, b) && !tern::core::filters_overlap(a, b)) {
        fail("a filter covers another without overlapping it");
    }
    // A topic name matched by b is a witness for overlap, and must be matched by a if a covers b.
    if (tern::core::is_valid_topic_name(b)) {
        const bool matches = tern::core::topic_matches(a, b);
        if (matches != tern::core::filters_overlap(a, b) ||
            matches != tern::core::filter_covers(a, b)) {
            fail("the relations disagree with topic_matches on a topic name");
        }
    }
}

}  // namespace

// The input is an ACL file. Its last line, when it is a comment "#A B", also names two probes:
// filters whose relations are checked and topics the parsed file is asked about.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    const std::size_t last_break = input.rfind('\n');
    std::string_view probe =
        last_break == std::string_view::npos ? input : input.substr(last_break + 1);
    probe = probe.starts_with('#') ? probe.substr(1) : std::string_view();
    const std::size_t space = probe.find(' ');
    const std::string_view probe_a = probe.substr(0, space);
    const std::string_view probe_b =
        space == std::string_view::npos ? std::string_view() : probe.substr(space + 1);
    check_relations(probe_a, probe_b);
    std::shared_ptr<const AclFile> acl;
    try {
        acl = AclFile::parse(input, "fuzz.acl");
    } catch (const AuthFileError& error) {
        if (std::string_view(error.what()).substr(0, 9) != "fuzz.acl:") {
            fail("error does not name the file");
        }
        return 0;
    }
    ask(*acl, probe_a, probe_b);
    return 0;
}
