// The table-driven machinery of the configuration loader, shared by the files that read its
// sections (config_loader.cpp, bridge_config.cpp): key tables, typed reading, diagnostics that
// keep the earliest problem by line, and "did you mean" suggestions.
#pragma once

#include <toml++/toml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>
#include <vector>

#include "app/config_loader.hpp"
#include "core/settings.hpp"

namespace tern::app::config {

using core::BrokerSettings;
using core::LimitSettings;
using core::ListenerSettings;

using Value = std::variant<int64_t, bool, std::string>;

enum class Kind : uint8_t { Integer, Boolean, String };

// Checks a string value; returns "" when it is acceptable, else the reason it is not.
using StringCheck = std::string (*)(std::string_view value);

// One configuration key. `Target` is the struct the whole table fills: BrokerSettings for the
// [broker], [limits] and [storage] keys, ListenerSettings for the keys of one [[listeners]] table,
// BridgeSettings for [bridge].
template <typename Target>
struct KeySpec {
    std::string_view name;  // "limits.max_connections", or "port" inside a listener
    Kind kind;
    int64_t min;
    int64_t max;
    StringCheck check;  // strings only; nullptr = any string
    void (*assign)(Target&, const Value&);
};

template <typename Member>
struct MemberOf;
template <typename Class, typename Field>
struct MemberOf<Field Class::*> {
    using ClassType = Class;
    using FieldType = Field;
};

// The sub-struct of `target` that holds fields of `Class` (the [limits] keys live in .limits).
template <typename Class, typename Target>
Class& holder(Target& target) {
    if constexpr (std::is_same_v<Class, Target>) {
        return target;
    } else {
        static_assert(std::is_same_v<Target, BrokerSettings>);
        if constexpr (std::is_same_v<Class, core::StorageConfig>) {
            return target.storage;
        } else if constexpr (std::is_same_v<Class, core::AuthConfig>) {
            return target.auth;
        } else {
            static_assert(std::is_same_v<Class, LimitSettings>);
            return target.limits;
        }
    }
}

template <typename Target, auto Member>
void assign(Target& target, const Value& value) {
    using Traits = MemberOf<decltype(Member)>;
    using Field = typename Traits::FieldType;
    Field& field = holder<typename Traits::ClassType>(target).*Member;
    if constexpr (std::is_same_v<Field, bool>) {
        field = std::get<bool>(value);
    } else if constexpr (std::is_same_v<Field, std::string>) {
        field = std::get<std::string>(value);
    } else {
        // The range was checked against the table row, which is checked to fit Field below.
        field = static_cast<Field>(std::get<int64_t>(value));
    }
}

template <typename Target, auto Member>
consteval KeySpec<Target> integer_key(std::string_view name, int64_t min, int64_t max) {
    using Field = typename MemberOf<decltype(Member)>::FieldType;
    static_assert(std::is_integral_v<Field> && !std::is_same_v<Field, bool>);
    if (min < 0 || min > max ||
        static_cast<uint64_t>(max) > static_cast<uint64_t>(std::numeric_limits<Field>::max())) {
        throw "the range of a configuration key does not fit its field";  // fails compilation
    }
    return {name, Kind::Integer, min, max, nullptr, &assign<Target, Member>};
}

template <typename Target, auto Member>
consteval KeySpec<Target> boolean_key(std::string_view name) {
    static_assert(std::is_same_v<typename MemberOf<decltype(Member)>::FieldType, bool>);
    return {name, Kind::Boolean, 0, 0, nullptr, &assign<Target, Member>};
}

template <typename Target, auto Member>
consteval KeySpec<Target> string_key(std::string_view name, StringCheck check) {
    static_assert(std::is_same_v<typename MemberOf<decltype(Member)>::FieldType, std::string>);
    return {name, Kind::String, 0, 0, check, &assign<Target, Member>};
}

inline constexpr int64_t kKiB = 1024;
inline constexpr int64_t kGiB = kKiB * kKiB * kKiB;
inline constexpr int64_t kU16 = 65'535;
inline constexpr int64_t kU32 = 4'294'967'295;

inline std::string check_not_empty(std::string_view value) {
    return value.empty() ? "must not be empty" : "";
}

inline std::string check_tls_version(std::string_view value) {
    return value == "1.2" || value == "1.3" ? ""
                                            : "'" + std::string(value) + "' is not one of 1.2, 1.3";
}

inline std::string check_listener_address(std::string_view value) {
    if (is_valid_listener_address(value)) {
        return {};
    }
    std::string reason =
        "'" + std::string(value) + "' is not an IPv4 or IPv6 address or 'localhost'";
    if (!value.empty() && value.front() == '[') {
        reason += " (write IPv6 addresses without brackets)";
    }
    return reason;
}

// --- diagnostics ------------------------------------------------------------------------------

// Collects problems and keeps the earliest by position, so the reported error does not depend on
// the (alphabetical) order in which toml++ iterates tables.
class Diagnostics {
  public:
    explicit Diagnostics(const std::string& source) : _source(source) {}

    void report(const toml::source_region& where, std::string reason) {
        ++_count;
        const auto line = static_cast<uint32_t>(where.begin.line);
        const auto column = static_cast<uint32_t>(where.begin.column);
        if (!_first || line < _first->line || (line == _first->line && column < _first->column)) {
            _first = Problem{line, column, std::move(reason)};
        }
    }

    size_t count() const noexcept { return _count; }

    void throw_if_any() const {
        if (_first) {
            throw ConfigError(_source, _first->line, 0, _first->reason);
        }
    }

  private:
    struct Problem {
        uint32_t line;
        uint32_t column;
        std::string reason;
    };
    const std::string& _source;
    std::optional<Problem> _first;
    size_t _count = 0;
};

inline std::string_view describe(toml::node_type type) {
    switch (type) {
        case toml::node_type::table:
            return "a table";
        case toml::node_type::array:
            return "an array";
        case toml::node_type::string:
            return "a string";
        case toml::node_type::integer:
            return "an integer";
        case toml::node_type::floating_point:
            return "a float";
        case toml::node_type::boolean:
            return "a boolean";
        case toml::node_type::date:
            return "a date";
        case toml::node_type::time:
            return "a time";
        case toml::node_type::date_time:
            return "a date-time";
        case toml::node_type::none:
            break;
    }
    return "nothing";
}

inline std::string_view describe(Kind kind) {
    switch (kind) {
        case Kind::Integer:
            return "an integer";
        case Kind::Boolean:
            return "a boolean";
        case Kind::String:
            return "a string";
    }
    return "a value";
}

// --- "did you mean" ---------------------------------------------------------------------------

inline size_t edit_distance(std::string_view a, std::string_view b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) {
        row[j] = j;
    }
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            const size_t above = row[j];
            const size_t substitute = diagonal + (a[i - 1] == b[j - 1] ? 0 : 1);
            row[j] = std::min({above + 1, row[j - 1] + 1, substitute});
            diagonal = above;
        }
    }
    return row[b.size()];
}

inline std::string_view last_component(std::string_view name) {
    const size_t dot = name.rfind('.');
    return dot == std::string_view::npos ? name : name.substr(dot + 1);
}

// The known name closest to `name`, comparing whole names and last components (so a key put in
// the wrong section, or at the top level, still finds its home). Empty when nothing is close.
inline std::string closest(std::string_view name, const std::vector<std::string_view>& known) {
    const std::string_view bare = last_component(name);
    const size_t tolerance = std::max<size_t>(2, bare.size() / 4);
    std::string_view best;
    size_t best_distance = tolerance + 1;
    for (std::string_view candidate : known) {
        const size_t distance = std::min(edit_distance(name, candidate),
                                         edit_distance(bare, last_component(candidate)));
        if (distance < best_distance) {
            best = candidate;
            best_distance = distance;
        }
    }
    return std::string(best);
}

inline std::string unknown(std::string_view what, const std::string& name,
                           const std::vector<std::string_view>& known) {
    std::string reason = "unknown " + std::string(what) + " '" + name + "'";
    if (const std::string suggestion = closest(name, known); !suggestion.empty()) {
        reason += "; did you mean '" + suggestion + "'?";
    }
    return reason;
}

template <size_t N, typename Target>
std::vector<std::string_view> names_of(const std::array<KeySpec<Target>, N>& table) {
    std::vector<std::string_view> names;
    for (const auto& spec : table) {
        names.push_back(spec.name);
    }
    return names;
}

// --- reading values ---------------------------------------------------------------------------

// Converts `node` as `spec` says and stores it, or reports why it cannot. `name` is the key as
// the user sees it ("limits.max_packet_size", "listeners[1].port").
template <typename Target>
void read_value(const KeySpec<Target>& spec, const std::string& name, const toml::node& node,
                Target& target, Diagnostics& diagnostics) {
    const auto wrong_type = [&] {
        diagnostics.report(node.source(), name + ": expected " + std::string(describe(spec.kind)) +
                                              ", got " + std::string(describe(node.type())));
    };
    switch (spec.kind) {
        case Kind::Integer: {
            const auto* integer = node.as_integer();
            if (integer == nullptr) {
                return wrong_type();
            }
            const int64_t value = integer->get();
            if (value < spec.min || value > spec.max) {
                return diagnostics.report(
                    node.source(), name + ": " + std::to_string(value) + " is out of range " +
                                       std::to_string(spec.min) + ".." + std::to_string(spec.max));
            }
            return spec.assign(target, Value{value});
        }
        case Kind::Boolean: {
            const auto* boolean = node.as_boolean();
            if (boolean == nullptr) {
                return wrong_type();
            }
            return spec.assign(target, Value{boolean->get()});
        }
        case Kind::String: {
            const auto* string = node.as_string();
            if (string == nullptr) {
                return wrong_type();
            }
            if (spec.check != nullptr) {
                if (std::string reason = spec.check(string->get()); !reason.empty()) {
                    return diagnostics.report(node.source(), name + ": " + reason);
                }
            }
            return spec.assign(target, Value{string->get()});
        }
    }
}

// Reads every key of `table` through `specs`. A key is looked up as `lookup_prefix` + key
// ("limits.max_connections"; "" for listener keys) and shown as `display_prefix` + key.
template <size_t N, typename Target>
void read_table(const toml::table& table, std::string_view lookup_prefix,
                const std::string& display_prefix, const std::array<KeySpec<Target>, N>& specs,
                Target& target, Diagnostics& diagnostics) {
    for (const auto& [key, node] : table) {
        const std::string lookup = std::string(lookup_prefix) + std::string(key.str());
        const std::string name = display_prefix + std::string(key.str());
        const auto spec = std::find_if(specs.begin(), specs.end(),
                                       [&](const KeySpec<Target>& s) { return s.name == lookup; });
        if (spec != specs.end()) {
            read_value(*spec, name, node, target, diagnostics);
            continue;
        }
        std::string reason = "unknown key '" + name + "'";
        if (const std::string suggestion = closest(lookup, names_of(specs)); !suggestion.empty()) {
            // Setting keys are full names (the suggestion may be in another section); listener
            // keys are bare and take the listener's prefix.
            const std::string shown =
                lookup_prefix.empty() ? display_prefix + suggestion : suggestion;
            reason += "; did you mean '" + shown + "'?";
        }
        diagnostics.report(key.source(), std::move(reason));
    }
}

}  // namespace tern::app::config
