// ACL files in Mosquitto's acl_file syntax: parsing, publish/receive/subscribe decisions and the
// filter overlap and cover relations the subscribe decision needs.
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/auth.hpp"
#include "core/topic.hpp"

namespace tern::core {
namespace {

constexpr std::string_view kBlanks = " \t\r";

std::string_view trim(std::string_view text) {
    const std::size_t first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const std::size_t last = text.find_last_not_of(kBlanks);
    return text.substr(first, last - first + 1);
}

// Splits off the first blank-separated word of an already trimmed text; `rest` is trimmed.
std::string_view first_word(std::string_view text, std::string_view& rest) {
    const std::size_t blank = text.find_first_of(kBlanks);
    if (blank == std::string_view::npos) {
        rest = {};
        return text;
    }
    rest = trim(text.substr(blank));
    return text.substr(0, blank);
}

std::optional<AclAccess> access_from_word(std::string_view word) {
    if (word == "read") {
        return AclAccess::Read;
    }
    if (word == "write") {
        return AclAccess::Write;
    }
    if (word == "readwrite") {
        return AclAccess::ReadWrite;
    }
    if (word == "deny") {
        return AclAccess::Deny;
    }
    return std::nullopt;
}

bool grants(AclAccess rule, AclAccess wanted) {
    const auto bits = [](AclAccess access) { return static_cast<uint8_t>(access) & 3U; };
    return rule != AclAccess::Deny && (bits(rule) & bits(wanted)) != 0;
}

bool is_wildcard(std::string_view level) {
    return level == "+" || level == "#";
}

bool starts_with_dollar(std::string_view level) {
    return !level.empty() && level.front() == '$';
}

// `text` for an error message: control bytes as \xNN, so what() stays one readable C string.
std::string printable(std::string_view text) {
    static constexpr char kHex[] = "0123456789abcdef";
    std::string out;
    for (const char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (byte < 0x20 || byte == 0x7F) {
            out += "\\x";
            out += kHex[byte >> 4];
            out += kHex[byte & 0xF];
        } else {
            out += c;
        }
    }
    return out;
}

std::string located(const std::string& source_name, std::size_t line, const std::string& reason) {
    return source_name + ":" + std::to_string(line) + ": " + reason;
}

}  // namespace

bool filters_overlap(std::string_view a, std::string_view b) noexcept {
    TopicLevels left(a);
    TopicLevels right(b);
    std::size_t depth = 0;
    bool first_empty = false;  // the shared topic's first level must be ""
    while (!left.done() && !right.done()) {
        const std::string_view x = left.next();
        const std::string_view y = right.next();
        // A filter starting with a wildcard matches no topic starting with '$' [MQTT-4.7.2-1], so
        // the shared topic cannot begin with the other filter's "$..." level.
        if (depth == 0 && ((is_wildcard(x) && starts_with_dollar(y)) ||
                           (is_wildcard(y) && starts_with_dollar(x)))) {
            return false;
        }
        if (depth == 0) {
            first_empty = x.empty() || y.empty();
        }
        ++depth;
        // '#' matches any remainder, the other filter's included (also an empty one: '#' matches
        // its parent level [MQTT-4.7.1-2]).
        if (x == "#" || y == "#") {
            return true;
        }
        // '+' matches any single level, so it can take the other filter's level.
        if (x != "+" && y != "+" && x != y) {
            return false;
        }
    }
    if (left.done() && right.done()) {
        return true;
    }
    // One filter is exhausted: the other must end in "#" right here, matching zero levels. The
    // shared topic is then the levels so far, and "" is no topic name [MQTT-4.7.3-1].
    TopicLevels& longer = left.done() ? right : left;
    const bool ends_in_hash = longer.next() == "#" && longer.done();
    return ends_in_hash && !(depth == 1 && first_empty);
}

bool filter_covers(std::string_view outer, std::string_view inner) noexcept {
    TopicLevels out(outer);
    TopicLevels in(inner);
    std::size_t depth = 0;
    bool first_empty = false;  // inner's first level is a literal ""
    while (!in.done()) {
        const std::string_view y = in.next();
        if (out.done()) {
            return false;  // inner matches topics with more levels than outer
        }
        const std::string_view x = out.next();
        // A leading wildcard in outer misses "$..." topics [MQTT-4.7.2-1]; inner only matches
        // such topics when its own first level is a literal "$..." one.
        if (depth == 0 && is_wildcard(x) && starts_with_dollar(y)) {
            return false;
        }
        if (x == "#") {
            return true;
        }
        if (y == "#") {
            // inner matches its parent topic and any deeper one. Outer "+/#" here matches every
            // deeper topic; the parent is then no topic at all only when it would be "" (depth 0,
            // or one empty level), which no topic name can be [MQTT-4.7.3-1].
            const bool parent_is_empty = depth == 0 || (depth == 1 && first_empty);
            return x == "+" && !out.done() && out.next() == "#" && out.done() && parent_is_empty;
        }
        if (depth == 0) {
            first_empty = y.empty();
        }
        ++depth;
        if (x == "+") {
            continue;  // any single level of inner, '+' or literal, is matched
        }
        if (y == "+" || x != y) {
            return false;
        }
    }
    // inner is exhausted: outer must end too, or continue with a final "#" (its parent level).
    if (out.done()) {
        return true;
    }
    return out.next() == "#" && out.done();
}

struct AclFile::Rule {
    std::optional<std::string> user;  // "topic" rules: the section; patterns: unused
    AclAccess access = AclAccess::ReadWrite;
    std::string filter;
    bool has_client_id = false;  // patterns: contains %c
    bool has_username = false;   // patterns: contains %u
};

AclFile::AclFile() = default;
AclFile::~AclFile() = default;

namespace {

// The state of a parse: where we are and which "user" section rules go to.
struct ParseState {
    const std::string& source_name;
    std::size_t line = 0;
    std::optional<std::string> user;

    [[noreturn]] void fail(const std::string& reason) const {
        throw AuthFileError(located(source_name, line, reason));
    }
};

// Parses "[ACCESS] FILTER" after "topic" or "pattern".
std::pair<AclAccess, std::string_view> parse_rule_tail(const ParseState& state,
                                                       std::string_view keyword,
                                                       std::string_view tail) {
    if (tail.empty()) {
        state.fail("missing topic filter after '" + std::string(keyword) + "'");
    }
    std::string_view rest;
    const std::string_view word = first_word(tail, rest);
    const std::optional<AclAccess> access = access_from_word(word);
    if (rest.empty()) {
        // One word: the filter with readwrite access, as in Mosquitto, unless it is an access
        // word that lost its filter.
        if (access) {
            state.fail("missing topic filter after '" + std::string(word) + "'");
        }
        return {AclAccess::ReadWrite, word};
    }
    if (!access) {
        state.fail("bad access word '" + printable(word) +
                   "' (expected read, write, readwrite or deny)");
    }
    return {*access, rest};
}

}  // namespace

std::shared_ptr<const AclFile> AclFile::parse(std::string_view text,
                                              const std::string& source_name) {
    auto file = std::make_shared<AclFile>();
    ParseState state{source_name, 0, std::nullopt};
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = trim(text.substr(start, end - start));
        start = end + 1;
        ++state.line;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        std::string_view tail;
        const std::string_view keyword = first_word(line, tail);
        if (keyword == "user") {
            if (tail.empty()) {
                state.fail("missing user name after 'user'");
            }
            state.user = std::string(tail);
            continue;
        }
        if (keyword != "topic" && keyword != "pattern") {
            state.fail("unknown keyword '" + printable(keyword) +
                       "' (expected user, topic or pattern)");
        }
        const auto [access, filter] = parse_rule_tail(state, keyword, tail);
        if (!is_valid_topic_filter(filter)) {
            state.fail("invalid topic filter '" + printable(filter) + "'");
        }
        Rule rule{std::nullopt, access, std::string(filter), false, false};
        if (keyword == "pattern") {
            rule.has_client_id = filter.find("%c") != std::string_view::npos;
            rule.has_username = filter.find("%u") != std::string_view::npos;
            file->_patterns.push_back(std::move(rule));
        } else {
            rule.user = state.user;
            file->_rules.push_back(std::move(rule));
        }
    }
    // Group the topic rules by section so a check looks at its own section only.
    std::stable_sort(file->_rules.begin(), file->_rules.end(),
                     [](const Rule& a, const Rule& b) { return a.user < b.user; });
    return file;
}

std::shared_ptr<const AclFile> AclFile::load(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        throw AuthFileError(path + ": cannot open: " + std::strerror(errno));
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
        throw AuthFileError(path + ": read error");
    }
    return parse(text.str(), path);
}

namespace {

// The filter a pattern stands for with this client's identity substituted; nullopt when the
// pattern does not apply to the client.
std::optional<std::string> substitute(std::string_view pattern, bool allowing,
                                      const std::optional<std::string>& username,
                                      std::string_view client_id, bool& widened) {
    widened = false;
    std::string out;
    out.reserve(pattern.size() + client_id.size());
    for (std::size_t i = 0; i < pattern.size(); ++i) {
        const bool placeholder = pattern[i] == '%' && i + 1 < pattern.size() &&
                                 (pattern[i + 1] == 'c' || pattern[i + 1] == 'u');
        if (!placeholder) {
            out += pattern[i];
            continue;
        }
        const bool is_user = pattern[++i] == 'u';
        if (is_user && !username) {
            return std::nullopt;  // a %u pattern never applies to anonymous clients
        }
        const std::string_view value = is_user ? std::string_view(*username) : client_id;
        // A '+', '#' or '/' in the value would let an allowing pattern reach other clients'
        // topics, so it does not apply; a denying one then denies everything (its filter may
        // not even be valid, and erring on the safe side keeps every check consistent).
        if (value.find_first_of("+#/") != std::string_view::npos) {
            widened = true;
            if (allowing) {
                return std::nullopt;
            }
        }
        out += value;
    }
    return out;
}

}  // namespace

bool AclFile::decide(const std::optional<std::string>& username, std::string_view client_id,
                     std::string_view text, AclAccess wanted) const {
    const bool subscribing = wanted == AclAccess::Subscribe;
    bool allowed = false;
    // Judges one rule against the checked topic (or filter); false means "denied, stop".
    const auto judge = [&](const Rule& rule, std::string_view filter) {
        const bool denying = rule.access == AclAccess::Deny;
        if (subscribing) {
            if (denying) {
                return !filter_covers(filter, text);
            }
            if (grants(rule.access, AclAccess::Read) && filters_overlap(filter, text)) {
                allowed = true;
            }
            return true;
        }
        if (!topic_matches(filter, text)) {
            return true;
        }
        if (denying) {
            return false;
        }
        allowed = allowed || grants(rule.access, wanted);
        return true;
    };
    // The rules of this client's "user" section (or the anonymous one).
    const auto first = std::lower_bound(
        _rules.begin(), _rules.end(), username,
        [](const Rule& rule, const std::optional<std::string>& user) { return rule.user < user; });
    const auto last = std::upper_bound(
        first, _rules.end(), username,
        [](const std::optional<std::string>& user, const Rule& rule) { return user < rule.user; });
    for (auto rule = first; rule != last; ++rule) {
        if (!judge(*rule, rule->filter)) {
            return false;
        }
    }
    for (const Rule& rule : _patterns) {
        if (!rule.has_client_id && !rule.has_username) {
            if (!judge(rule, rule.filter)) {
                return false;
            }
            continue;
        }
        bool widened = false;
        const std::optional<std::string> filter =
            substitute(rule.filter, rule.access != AclAccess::Deny, username, client_id, widened);
        if (filter && widened) {
            return false;  // a denying pattern with a wildcard identity: deny everything
        }
        if (filter && !judge(rule, *filter)) {
            return false;
        }
    }
    return allowed;
}

bool AclFile::can_publish(const std::optional<std::string>& username, std::string_view client_id,
                          std::string_view topic) const {
    return is_valid_topic_name(topic) && decide(username, client_id, topic, AclAccess::Write);
}

bool AclFile::can_receive(const std::optional<std::string>& username, std::string_view client_id,
                          std::string_view topic) const {
    return is_valid_topic_name(topic) && decide(username, client_id, topic, AclAccess::Read);
}

bool AclFile::can_subscribe(const std::optional<std::string>& username, std::string_view client_id,
                            std::string_view filter) const {
    if (is_shared_filter(filter)) {
        // Members of a share group receive messages of the filter after "$share/GROUP/"
        // [MQTT-4.8.2], so that is what the rules must allow.
        const std::optional<SharedFilter> shared = parse_shared_filter(filter);
        if (!shared) {
            return false;
        }
        filter = shared->filter;
    }
    return is_valid_topic_filter(filter) &&
           decide(username, client_id, filter, AclAccess::Subscribe);
}

std::size_t AclFile::size() const noexcept {
    return _rules.size() + _patterns.size();
}

}  // namespace tern::core
