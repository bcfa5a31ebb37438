// Authentication and authorization decisions: password file users and ACL rules. Pure logic.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace tern::core {

// A problem in a password or ACL file; what() is "FILE:LINE: reason" ("FILE: reason" when the
// file cannot be read at all).
class AuthFileError : public std::runtime_error {
  public:
    using std::runtime_error::runtime_error;
};

// Users and their password hashes. Immutable once loaded; reload by loading a new one and
// swapping the shared_ptr (SIGHUP).
class PasswordFile {
  public:
    // Iterations tern-passwd uses by default: the same as Mosquitto 2.0's mosquitto_passwd.
    static constexpr uint32_t kDefaultIterations = 101;

    // Parses a password file: one "user:hash" per line, '#' comments and blank lines allowed;
    // blanks around the user name and the hash are ignored.
    // Hashes: Tern's "$7$ITERATIONS$SALT_B64$HASH_B64" (PBKDF2-HMAC-SHA512, the format of
    // Mosquitto 2.0's mosquitto_passwd, so its files work unchanged) and Mosquitto's older
    // "$6$SALT_B64$HASH_B64" (SHA-512 of password then salt). Throws AuthFileError naming the
    // line: missing ':', empty user name, duplicate user, unknown hash format, bad base64, ...
    static std::shared_ptr<const PasswordFile> parse(std::string_view text,
                                                     const std::string& source_name);
    static std::shared_ptr<const PasswordFile> load(const std::string& path);

    PasswordFile();
    ~PasswordFile();

    // Constant-time comparison of the derived hash. False for unknown users (after the same
    // amount of hashing work, so timing does not tell which user names exist).
    bool verify(std::string_view username, std::string_view password) const;
    bool has_user(std::string_view username) const;
    std::size_t size() const noexcept;

    // Builds a "$7$..." hash with a fresh random 12-byte salt (for tern-passwd). Throws
    // std::invalid_argument for 0 iterations or more than INT_MAX, std::runtime_error when
    // OpenSSL fails.
    static std::string hash_password(std::string_view password,
                                     uint32_t iterations = kDefaultIterations);

    // True when `hash` is a well-formed "$6$" or "$7$" hash that parse() would accept (tern-passwd
    // -U leaves such lines alone instead of hashing a hash).
    static bool is_valid_hash(std::string_view hash) noexcept;

  private:
    struct Entry;
    std::vector<Entry> _entries;  // sorted by user name
};

// Kinds of access a rule grants, and what a check asks for. Read and Write are bits (ReadWrite
// holds both); Deny refuses everything its filter covers; Subscribe is only asked for.
enum class AclAccess : uint8_t { Read = 1, Write = 2, ReadWrite = 3, Deny = 4, Subscribe = 5 };

// ACL rules in Mosquitto's acl_file syntax, extended with "deny":
//   user NAME                  following rules apply to this user
//   topic [read|write|readwrite|deny] FILTER
//   pattern [read|write|readwrite|deny] FILTER   (%c = client id, %u = user name; any user)
// No access word means readwrite; FILTER is the rest of the line and may contain spaces (then the
// access word is required). '#' starts a comment line. Rules before the first "user" line apply
// to anonymous clients; "pattern" lines apply to every client wherever they appear, but one
// containing %u never to an anonymous client. An allowing pattern does not apply when the
// substituted client id or user name contains '+', '#' or '/' (it would widen the filter).
// Deny beats allow; no matching rule means denied. "$SYS/#" is readable only where a rule
// allows it: filters starting with a wildcard never match '$' topics [MQTT-4.7.2-1].
class AclFile {
  public:
    static std::shared_ptr<const AclFile> parse(std::string_view text,
                                                const std::string& source_name);
    static std::shared_ptr<const AclFile> load(const std::string& path);

    AclFile();
    ~AclFile();

    // May `username` (empty optional = anonymous) with `client_id` publish to `topic`?
    bool can_publish(const std::optional<std::string>& username, std::string_view client_id,
                     std::string_view topic) const;
    // May it receive messages on `topic` (checked per delivered message and retained message)?
    bool can_receive(const std::optional<std::string>& username, std::string_view client_id,
                     std::string_view topic) const;
    // May it subscribe to `filter`? True when some read rule could allow a topic of the filter
    // (per-message checks still apply at delivery) and no deny rule covers the whole filter.
    // A shared subscription "$share/GROUP/F" is judged by F.
    bool can_subscribe(const std::optional<std::string>& username, std::string_view client_id,
                       std::string_view filter) const;

    std::size_t size() const noexcept;  // number of topic and pattern rules

  private:
    struct Rule;
    bool decide(const std::optional<std::string>& username, std::string_view client_id,
                std::string_view text, AclAccess wanted) const;

    std::vector<Rule> _rules;     // "topic" rules, grouped by user (anonymous first)
    std::vector<Rule> _patterns;  // "pattern" rules, in file order
};

// True when some topic name matches both filters (both must be valid filters).
bool filters_overlap(std::string_view a, std::string_view b) noexcept;

// True when every topic name that `inner` matches is also matched by `outer` (both valid filters).
bool filter_covers(std::string_view outer, std::string_view inner) noexcept;

}  // namespace tern::core
