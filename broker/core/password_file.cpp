// Password files in Mosquitto's format: parsing "$6$"/"$7$" hashes, verifying and creating them.
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstring>
#include <fstream>
#include <sstream>

#include "core/auth.hpp"

namespace tern::core {
namespace {

constexpr std::size_t kHashSize = 64;  // SHA-512 output, also the PBKDF2 output length used
constexpr std::size_t kSaltSize = 12;  // what mosquitto_passwd generates
constexpr std::string_view kBlanks = " \t\r";
constexpr std::string_view kBase64Alphabet =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

enum class HashKind : uint8_t { Sha512, Pbkdf2Sha512 };

std::string_view trim(std::string_view text) {
    const std::size_t first = text.find_first_not_of(kBlanks);
    if (first == std::string_view::npos) {
        return {};
    }
    const std::size_t last = text.find_last_not_of(kBlanks);
    return text.substr(first, last - first + 1);
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

std::string encode_base64(const unsigned char* data, std::size_t size) {
    std::string out;
    out.reserve((size + 2) / 3 * 4);
    for (std::size_t i = 0; i < size; i += 3) {
        const std::size_t take = std::min<std::size_t>(3, size - i);
        uint32_t group = static_cast<uint32_t>(data[i]) << 16;
        if (take > 1) {
            group |= static_cast<uint32_t>(data[i + 1]) << 8;
        }
        if (take > 2) {
            group |= data[i + 2];
        }
        for (std::size_t k = 0; k < 4; ++k) {
            out += k <= take ? kBase64Alphabet[(group >> (18 - 6 * k)) & 0x3F] : '=';
        }
    }
    return out;
}

// Strict standard base64 with padding, as mosquitto_passwd writes it. nullopt when malformed
// or empty.
std::optional<std::string> decode_base64(std::string_view text) {
    if (text.empty() || text.size() % 4 != 0) {
        return std::nullopt;
    }
    std::size_t padding = 0;
    while (padding < 2 && text[text.size() - 1 - padding] == '=') {
        ++padding;
    }
    std::string out;
    out.reserve(text.size() / 4 * 3);
    uint32_t group = 0;
    for (std::size_t i = 0; i < text.size(); ++i) {
        uint32_t value = 0;
        if (i >= text.size() - padding) {
            value = 0;
        } else {
            const std::size_t found = kBase64Alphabet.find(text[i]);
            if (found == std::string_view::npos) {
                return std::nullopt;
            }
            value = static_cast<uint32_t>(found);
        }
        group = (group << 6) | value;
        if (i % 4 == 3) {
            out += static_cast<char>((group >> 16) & 0xFF);
            out += static_cast<char>((group >> 8) & 0xFF);
            out += static_cast<char>(group & 0xFF);
            group = 0;
        }
    }
    out.resize(out.size() - padding);
    // Padding must not hide set bits: only the canonical encoding of these bytes is accepted.
    if (encode_base64(reinterpret_cast<const unsigned char*>(out.data()), out.size()) != text) {
        return std::nullopt;
    }
    return out;
}

std::vector<std::string_view> split_dollar_fields(std::string_view hash) {
    std::vector<std::string_view> fields;
    std::size_t start = 0;
    for (;;) {
        const std::size_t end = hash.find('$', start);
        if (end == std::string_view::npos) {
            fields.push_back(hash.substr(start));
            return fields;
        }
        fields.push_back(hash.substr(start, end - start));
        start = end + 1;
    }
}

struct ParsedHash {
    HashKind kind = HashKind::Pbkdf2Sha512;
    uint32_t iterations = 0;
    std::string salt;
    std::string hash;
};

// Parses one hash field; on failure returns nullopt with `reason` set.
std::optional<ParsedHash> parse_hash(std::string_view text, std::string& reason) {
    ParsedHash parsed;
    const std::vector<std::string_view> fields = split_dollar_fields(text);
    std::size_t salt_field = 0;
    if (text.starts_with("$7$")) {
        if (fields.size() != 5) {
            reason = "malformed $7$ hash (expected $7$ITERATIONS$SALT$HASH)";
            return std::nullopt;
        }
        const std::string_view count = fields[2];
        uint64_t iterations = 0;
        const auto [end, error] =
            std::from_chars(count.data(), count.data() + count.size(), iterations);
        if (count.empty() || error != std::errc() || end != count.data() + count.size() ||
            iterations == 0 || iterations > INT_MAX) {
            reason = "bad iteration count '" + printable(count) + "'";
            return std::nullopt;
        }
        parsed.iterations = static_cast<uint32_t>(iterations);
        salt_field = 3;
    } else if (text.starts_with("$6$")) {
        if (fields.size() != 4) {
            reason = "malformed $6$ hash (expected $6$SALT$HASH)";
            return std::nullopt;
        }
        parsed.kind = HashKind::Sha512;
        salt_field = 2;
    } else {
        reason = "unknown hash format (expected $6$ or $7$)";
        return std::nullopt;
    }
    std::optional<std::string> salt = decode_base64(fields[salt_field]);
    if (!salt) {
        reason = "bad base64 in salt";
        return std::nullopt;
    }
    std::optional<std::string> hash = decode_base64(fields[salt_field + 1]);
    if (!hash) {
        reason = "bad base64 in hash";
        return std::nullopt;
    }
    if (hash->size() != kHashSize) {
        reason = "hash is " + std::to_string(hash->size()) + " bytes, expected 64";
        return std::nullopt;
    }
    parsed.salt = std::move(*salt);
    parsed.hash = std::move(*hash);
    return parsed;
}

using Digest = std::array<unsigned char, kHashSize>;

// The hash of `password` under `salt` as the stored format defines it; false when OpenSSL fails.
bool derive(HashKind kind, uint32_t iterations, std::string_view salt, std::string_view password,
            Digest& out) {
    const auto* salt_bytes = reinterpret_cast<const unsigned char*>(salt.data());
    if (kind == HashKind::Pbkdf2Sha512) {
        if (password.size() > INT_MAX || salt.size() > INT_MAX || iterations > INT_MAX) {
            return false;
        }
        return PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt_bytes,
                                 static_cast<int>(salt.size()), static_cast<int>(iterations),
                                 EVP_sha512(), static_cast<int>(out.size()), out.data()) == 1;
    }
    // Mosquitto 1.x: SHA-512 over the password followed by the salt.
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> context(EVP_MD_CTX_new(),
                                                                    &EVP_MD_CTX_free);
    unsigned int length = 0;
    return context && EVP_DigestInit_ex(context.get(), EVP_sha512(), nullptr) == 1 &&
           EVP_DigestUpdate(context.get(), password.data(), password.size()) == 1 &&
           EVP_DigestUpdate(context.get(), salt_bytes, salt.size()) == 1 &&
           EVP_DigestFinal_ex(context.get(), out.data(), &length) == 1 && length == out.size();
}

std::string located(const std::string& source_name, std::size_t line, const std::string& reason) {
    return source_name + ":" + std::to_string(line) + ": " + reason;
}

}  // namespace

struct PasswordFile::Entry {
    std::string user;
    std::size_t line = 0;
    ParsedHash hash;
};

PasswordFile::PasswordFile() = default;
PasswordFile::~PasswordFile() = default;

std::shared_ptr<const PasswordFile> PasswordFile::parse(std::string_view text,
                                                        const std::string& source_name) {
    auto file = std::make_shared<PasswordFile>();
    std::size_t line_number = 0;
    std::size_t start = 0;
    while (start <= text.size()) {
        std::size_t end = text.find('\n', start);
        if (end == std::string_view::npos) {
            end = text.size();
        }
        const std::string_view line = trim(text.substr(start, end - start));
        start = end + 1;
        ++line_number;
        if (line.empty() || line.front() == '#') {
            continue;
        }
        const std::size_t colon = line.find(':');
        if (colon == std::string_view::npos) {
            throw AuthFileError(located(source_name, line_number, "missing ':' after user name"));
        }
        const std::string_view user = trim(line.substr(0, colon));
        if (user.empty()) {
            throw AuthFileError(located(source_name, line_number, "empty user name"));
        }
        const std::string_view hash_text = trim(line.substr(colon + 1));
        if (hash_text.empty()) {
            throw AuthFileError(located(source_name, line_number, "missing password hash"));
        }
        std::string reason;
        std::optional<ParsedHash> hash = parse_hash(hash_text, reason);
        if (!hash) {
            throw AuthFileError(located(source_name, line_number, reason));
        }
        file->_entries.push_back(Entry{std::string(user), line_number, std::move(*hash)});
    }
    std::stable_sort(file->_entries.begin(), file->_entries.end(),
                     [](const Entry& a, const Entry& b) { return a.user < b.user; });
    for (std::size_t i = 1; i < file->_entries.size(); ++i) {
        const Entry& first = file->_entries[i - 1];
        const Entry& again = file->_entries[i];
        if (first.user == again.user) {
            throw AuthFileError(located(source_name, again.line,
                                        "duplicate user '" + printable(again.user) +
                                            "' (first on line " + std::to_string(first.line) +
                                            ")"));
        }
    }
    return file;
}

std::shared_ptr<const PasswordFile> PasswordFile::load(const std::string& path) {
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

bool PasswordFile::verify(std::string_view username, std::string_view password) const {
    const auto found = std::lower_bound(
        _entries.begin(), _entries.end(), username,
        [](const Entry& entry, std::string_view name) { return entry.user < name; });
    Digest derived{};
    if (found == _entries.end() || found->user != username) {
        // Burn the same work as a default hash so a quick "no" does not reveal unknown users.
        static const std::string kDummySalt(kSaltSize, '\x5a');
        derive(HashKind::Pbkdf2Sha512, kDefaultIterations, kDummySalt, password, derived);
        return false;
    }
    const ParsedHash& stored = found->hash;
    if (!derive(stored.kind, stored.iterations, stored.salt, password, derived)) {
        return false;
    }
    return CRYPTO_memcmp(derived.data(), stored.hash.data(), derived.size()) == 0;
}

bool PasswordFile::has_user(std::string_view username) const {
    const auto found = std::lower_bound(
        _entries.begin(), _entries.end(), username,
        [](const Entry& entry, std::string_view name) { return entry.user < name; });
    return found != _entries.end() && found->user == username;
}

std::size_t PasswordFile::size() const noexcept {
    return _entries.size();
}

std::string PasswordFile::hash_password(std::string_view password, uint32_t iterations) {
    if (iterations == 0 || iterations > INT_MAX) {
        throw std::invalid_argument("iterations must be between 1 and " + std::to_string(INT_MAX));
    }
    std::array<unsigned char, kSaltSize> salt{};
    if (RAND_bytes(salt.data(), static_cast<int>(salt.size())) != 1) {
        throw std::runtime_error("cannot generate a random salt (RAND_bytes failed)");
    }
    const std::string_view salt_view(reinterpret_cast<const char*>(salt.data()), salt.size());
    Digest derived{};
    if (!derive(HashKind::Pbkdf2Sha512, iterations, salt_view, password, derived)) {
        throw std::runtime_error("PBKDF2-HMAC-SHA512 failed");
    }
    return "$7$" + std::to_string(iterations) + "$" + encode_base64(salt.data(), salt.size()) +
           "$" + encode_base64(derived.data(), derived.size());
}

bool PasswordFile::is_valid_hash(std::string_view hash) noexcept {
    try {
        std::string reason;
        return parse_hash(hash, reason).has_value();
    } catch (...) {
        return false;  // allocation failure
    }
}

}  // namespace tern::core
