// Tests for password files: hashing, verification, Mosquitto compatibility and parse errors.
#include <doctest/doctest.h>

#include <filesystem>
#include <set>
#include <string>
#include <string_view>

#include "core/auth.hpp"

using tern::core::AuthFileError;
using tern::core::PasswordFile;

namespace {

// Generated with Debian's mosquitto 2.0.11:
//   mosquitto_passwd -c -b F alice 'correct horse'
//   mosquitto_passwd -b F bob 'p@ss:w0rd$'
//   mosquitto_passwd -H sha512 -b F carol 'old style'
//   mosquitto_passwd -b F jürgen 'grüße 🔑'
//   mosquitto_passwd -H sha512-pbkdf2 -b F dave x
std::string fixture_path() {
    return (std::filesystem::path(__FILE__).parent_path() / "fixtures" / "mosquitto_passwd.txt")
        .string();
}

// Hashes computed independently with Python's hashlib (pbkdf2_hmac / sha512):
// "thousand" with 1000 iterations and salt bytes 1..12, and the empty password in $6$ form.
constexpr std::string_view kThousand =
    "$7$1000$AQIDBAUGBwgJCgsM$FPWc5hEeWF1y/1nS6oFYYsIRbYbsAHpNh8qEi1F70G0BsObItY80IVmImZZHfYcuCaMZ"
    "TcnVZOuYIBAzj68uVA==";
constexpr std::string_view kEmptySha512 =
    "$6$AP8A/wD/AP8A/wD/$5VRya/2i5uJtD2jpciq4viPl1ssqvWNDHiDKUVbNwFtDtgExZ82jR1DYbRM5IZrrhMVvSwktY"
    "NqhwVS6R6Zlnw==";

// A syntactically valid $7$ hash to build error cases around.
constexpr std::string_view kSalt = "AQIDBAUGBwgJCgsM";
constexpr std::string_view kHash =
    "FPWc5hEeWF1y/1nS6oFYYsIRbYbsAHpNh8qEi1F70G0BsObItY80IVmImZZHfYcuCaMZTcnVZOuYIBAzj68uVA==";

std::string parse_error(const std::string& text) {
    try {
        PasswordFile::parse(text, "pw.txt");
    } catch (const AuthFileError& error) {
        return error.what();
    }
    return "(no error)";
}

}  // namespace

TEST_CASE("hash_password produces a $7$ hash that verifies, and only with the right password") {
    const std::string hash = PasswordFile::hash_password("s3cret");
    CHECK(hash.starts_with("$7$101$"));
    // 12-byte salt -> 16 base64 characters; 64-byte hash -> 88 characters.
    CHECK(hash.size() == std::string_view("$7$101$").size() + 16 + 1 + 88);
    CHECK(PasswordFile::is_valid_hash(hash));
    const auto file = PasswordFile::parse("user:" + hash + "\n", "generated");
    CHECK(file->size() == 1);
    CHECK(file->has_user("user"));
    CHECK(file->verify("user", "s3cret"));
    CHECK_FALSE(file->verify("user", "s3cret "));
    CHECK_FALSE(file->verify("user", "S3cret"));
    CHECK_FALSE(file->verify("user", ""));
}

TEST_CASE("hash_password honours the iteration count and salts every hash freshly") {
    const std::string hash = PasswordFile::hash_password("pw", 2000);
    CHECK(hash.starts_with("$7$2000$"));
    CHECK(PasswordFile::parse("u:" + hash, "x")->verify("u", "pw"));
    std::set<std::string> seen;
    for (int i = 0; i < 8; ++i) {
        seen.insert(PasswordFile::hash_password("same", 1));
    }
    CHECK(seen.size() == 8);
    CHECK_THROWS_AS(PasswordFile::hash_password("pw", 0), std::invalid_argument);
    CHECK_THROWS_AS(PasswordFile::hash_password("pw", 0x80000000U), std::invalid_argument);
}

TEST_CASE("Unknown users never verify") {
    const auto file = PasswordFile::parse("alice:" + PasswordFile::hash_password("pw"), "x");
    CHECK_FALSE(file->has_user("bob"));
    CHECK_FALSE(file->verify("bob", "pw"));
    CHECK_FALSE(file->verify("", "pw"));
    CHECK_FALSE(file->verify("alic", "pw"));
    CHECK_FALSE(file->verify("alice ", "pw"));
    CHECK_FALSE(PasswordFile().verify("alice", "pw"));
    CHECK(PasswordFile().size() == 0);
}

TEST_CASE("A file written by Mosquitto's mosquitto_passwd verifies") {
    const auto file = PasswordFile::load(fixture_path());
    CHECK(file->size() == 5);
    CHECK(file->verify("alice", "correct horse"));
    CHECK(file->verify("bob", "p@ss:w0rd$"));
    CHECK(file->verify("carol", "old style"));  // -H sha512: the $6$ format
    CHECK(file->verify("jürgen", "grüße 🔑"));
    CHECK(file->verify("dave", "x"));
    CHECK_FALSE(file->verify("alice", "correct horse "));
    CHECK_FALSE(file->verify("alice", "p@ss:w0rd$"));
    CHECK_FALSE(file->verify("bob", "correct horse"));
    CHECK_FALSE(file->verify("carol", "old stylE"));
    CHECK_FALSE(file->verify("dave", "X"));
    CHECK_FALSE(file->verify("jurgen", "grüße 🔑"));
}

TEST_CASE("Independently computed $7$ (non-default iterations) and $6$ hashes verify") {
    const auto file = PasswordFile::parse(
        "thousand:" + std::string(kThousand) + "\nempty:" + std::string(kEmptySha512) + "\n", "x");
    CHECK(file->verify("thousand", "thousand"));
    CHECK_FALSE(file->verify("thousand", "thousanD"));
    CHECK(file->verify("empty", ""));
    CHECK_FALSE(file->verify("empty", " "));
}

TEST_CASE("Comments, blank lines, CRLF and blanks around fields are accepted") {
    const std::string text =
        "# users\r\n\r\n   \n  # indented comment\n\t alice : " + std::string(kThousand) +
        " \r\nbob smith:" + std::string(kEmptySha512);  // no final newline
    const auto file = PasswordFile::parse(text, "x");
    CHECK(file->size() == 2);
    CHECK(file->verify("alice", "thousand"));
    CHECK(file->verify("bob smith", ""));
    CHECK(PasswordFile::parse("", "x")->size() == 0);
    CHECK(PasswordFile::parse("\n\n# only comments\n", "x")->size() == 0);
}

TEST_CASE("Parse errors name the file and line") {
    const std::string good = "$7$101$" + std::string(kSalt) + "$" + std::string(kHash);
    CHECK(parse_error("# c\nalice " + good) == "pw.txt:2: missing ':' after user name");
    CHECK(parse_error(":" + good) == "pw.txt:1: empty user name");
    CHECK(parse_error("  \t:" + good) == "pw.txt:1: empty user name");
    CHECK(parse_error("alice:\n") == "pw.txt:1: missing password hash");
    CHECK(parse_error("alice:" + good + "\n\nbob:" + good + "\nalice:" + good) ==
          "pw.txt:4: duplicate user 'alice' (first on line 1)");
    CHECK(parse_error("alice:secret") == "pw.txt:1: unknown hash format (expected $6$ or $7$)");
    CHECK(parse_error("alice:$5$abc$def") == "pw.txt:1: unknown hash format (expected $6$ or $7$)");
    CHECK(parse_error("a:" + good + "\nalice:$7$101$" + std::string(kSalt) + "$" +
                      std::string(kHash.substr(1))) == "pw.txt:2: bad base64 in hash");
    CHECK(parse_error("alice:$7$101$AQID*AUGBwgJCgsM$" + std::string(kHash)) ==
          "pw.txt:1: bad base64 in salt");
    CHECK(parse_error("alice:$6$$" + std::string(kHash)) == "pw.txt:1: bad base64 in salt");
    CHECK(parse_error("alice:$6$" + std::string(kSalt) + "$AQID") ==
          "pw.txt:1: hash is 3 bytes, expected 64");
    CHECK(parse_error("alice:$7$0$" + std::string(kSalt) + "$" + std::string(kHash)) ==
          "pw.txt:1: bad iteration count '0'");
    CHECK(parse_error("alice:$7$-1$" + std::string(kSalt) + "$" + std::string(kHash)) ==
          "pw.txt:1: bad iteration count '-1'");
    CHECK(parse_error("alice:$7$1\t2$" + std::string(kSalt) + "$" + std::string(kHash)) ==
          "pw.txt:1: bad iteration count '1\\x092'");
    CHECK(parse_error("alice:$7$2147483648$" + std::string(kSalt) + "$" + std::string(kHash)) ==
          "pw.txt:1: bad iteration count '2147483648'");
    CHECK(parse_error("alice:$7$" + std::string(kSalt) + "$" + std::string(kHash)) ==
          "pw.txt:1: malformed $7$ hash (expected $7$ITERATIONS$SALT$HASH)");
    CHECK(parse_error("alice:$6$101$" + std::string(kSalt) + "$" + std::string(kHash)) ==
          "pw.txt:1: malformed $6$ hash (expected $6$SALT$HASH)");
}

TEST_CASE("Base64 must be canonical, padded standard base64") {
    const std::string prefix = "alice:$7$101$";
    // Missing padding, URL-safe alphabet, padding in the middle, non-zero bits under padding.
    CHECK(parse_error(prefix + "AQIDBAUGBwgJCgs$" + std::string(kHash)) ==
          "pw.txt:1: bad base64 in salt");
    CHECK(parse_error(prefix + "AQIDBAUGBwgJCg-_$" + std::string(kHash)) ==
          "pw.txt:1: bad base64 in salt");
    CHECK(parse_error(prefix + "AQ==BAUGBwgJCgsM$" + std::string(kHash)) ==
          "pw.txt:1: bad base64 in salt");
    CHECK(parse_error(prefix + "AQIDBAUGBwgJCgsN====$" + std::string(kHash)) ==
          "pw.txt:1: bad base64 in salt");
    CHECK(parse_error(prefix + "AQIDBAUGBwgJCh==$" + std::string(kHash)) ==
          "pw.txt:1: bad base64 in salt");
    // A short but canonical salt is fine.
    CHECK(parse_error(prefix + "AQ==$" + std::string(kHash)) == "(no error)");
}

TEST_CASE("is_valid_hash accepts exactly what the parser accepts") {
    CHECK(PasswordFile::is_valid_hash(kThousand));
    CHECK(PasswordFile::is_valid_hash(kEmptySha512));
    CHECK_FALSE(PasswordFile::is_valid_hash(""));
    CHECK_FALSE(PasswordFile::is_valid_hash("plain text"));
    CHECK_FALSE(PasswordFile::is_valid_hash("$7$101$"));
    CHECK_FALSE(PasswordFile::is_valid_hash(std::string(kThousand) + "$"));
    CHECK_FALSE(PasswordFile::is_valid_hash(kThousand.substr(0, kThousand.size() - 2)));
}

TEST_CASE("load reports files it cannot open") {
    const std::string missing = "/nonexistent/tern/passwd";
    try {
        PasswordFile::load(missing);
        FAIL("load should throw");
    } catch (const AuthFileError& error) {
        CHECK(std::string(error.what()) == missing + ": cannot open: No such file or directory");
    }
}
