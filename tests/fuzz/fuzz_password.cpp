// libFuzzer target for password files: parsing never crashes and fails only with AuthFileError
// naming the file and line; what parses verifies without crashing and re-parses the same way.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/auth.hpp"

namespace {

using tern::core::AuthFileError;
using tern::core::PasswordFile;

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "fuzz_password: %s\n", what);
    std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, std::size_t size) {
    const std::string_view input(reinterpret_cast<const char*>(data), size);
    std::shared_ptr<const PasswordFile> file;
    try {
        file = PasswordFile::parse(input, "fuzz.pw");
    } catch (const AuthFileError& error) {
        if (std::string_view(error.what()).substr(0, 8) != "fuzz.pw:") {
            fail("error does not name the file");
        }
        return 0;
    }
    // Every user line's hash field must also pass is_valid_hash, and users must be found. Only
    // cheap checks: verifying would run PBKDF2 with whatever iteration count the input holds.
    std::size_t users = 0;
    std::size_t start = 0;
    while (start <= input.size()) {
        std::size_t end = input.find('\n', start);
        if (end == std::string_view::npos) {
            end = input.size();
        }
        std::string_view line = input.substr(start, end - start);
        start = end + 1;
        const std::size_t first = line.find_first_not_of(" \t\r");
        if (first == std::string_view::npos || line[first] == '#') {
            continue;
        }
        line = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
        const std::size_t colon = line.find(':');
        std::string_view user = line.substr(0, colon);
        user = user.substr(0, user.find_last_not_of(" \t\r") + 1);
        std::string_view hash = line.substr(colon + 1);
        hash = hash.substr(hash.find_first_not_of(" \t\r"));
        if (!file->has_user(user) || !PasswordFile::is_valid_hash(hash)) {
            fail("a parsed line is not found again");
        }
        ++users;
    }
    if (users != file->size()) {
        fail("user count differs from the parsed lines");
    }
    // Cheap hashes ($6$, or $7$ with few iterations) are verified for real.
    if (size < 512 && input.find("$7$") == std::string_view::npos) {
        for (std::string_view password : {"", "x", "password"}) {
            file->verify("alice", password);
        }
    }
    return 0;
}
