// tern-token: prints a JWT (HS256) for the bridge, signed with the key of bridge.jwt_secret_file.
#include <CLI/CLI.hpp>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <string>
#include <vector>

#include "jwt.hpp"

namespace {

// The same minimum the configuration loader enforces (bridge_config.cpp).
constexpr std::size_t kMinSecretBytes = 32;

constexpr const char* kFooter =
    R"(The key file is the one named by bridge.jwt_secret_file; a final line break is not part
of the key, as for the broker. The token is printed on standard output.

Exit status:
  0   printed
  1   the key file could not be read or is shorter than 32 bytes
  2   bad command line)";

struct Options {
    std::string secret_file;
    std::string user;
    std::string user_claim = "sub";
    int64_t ttl_s = 3600;
    int64_t not_before_s = 0;
    std::string issuer;
    std::string audience;
    std::vector<std::string> claims;  // NAME=JSON
};

bool read_secret(const std::string& path, std::string& secret) {
    std::ifstream file(path, std::ios::binary);
    if (!file) {
        std::cerr << "tern-token: " << path << ": " << std::strerror(errno) << "\n";
        return false;
    }
    secret.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    while (!secret.empty() && (secret.back() == '\n' || secret.back() == '\r')) {
        secret.pop_back();
    }
    if (secret.size() < kMinSecretBytes) {
        std::cerr << "tern-token: " << path << ": the key is " << secret.size()
                  << " bytes; at least " << kMinSecretBytes << " are needed\n";
        return false;
    }
    return true;
}

}  // namespace

int main(int argc, char** argv) {
    Options options;
    CLI::App app{"tern-token: mints a bearer token (JWT, HS256) for Tern's bridge", "tern-token"};
    app.footer(kFooter);
    app.add_option("-k,--key-file", options.secret_file, "the HS256 key (bridge.jwt_secret_file)")
        ->required();
    app.add_option("-u,--user", options.user, "the user name (MQTT user, for the ACL)")->required();
    app.add_option("--user-claim", options.user_claim,
                   "the claim holding the user name (bridge.jwt_username_claim)")
        ->capture_default_str();
    app.add_option("-t,--ttl", options.ttl_s, "seconds until exp")
        ->capture_default_str()
        ->check(CLI::Range(int64_t{1}, int64_t{10} * 365 * 86'400));
    app.add_option("--not-before", options.not_before_s, "seconds from now until nbf (0 = none)")
        ->check(CLI::Range(int64_t{0}, int64_t{10} * 365 * 86'400));
    app.add_option("--issuer", options.issuer, "the iss claim (bridge.jwt_issuer)");
    app.add_option("--audience", options.audience, "the aud claim (bridge.jwt_audience)");
    app.add_option("-c,--claim", options.claims, "an extra claim NAME=JSON (repeatable)");
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& error) {
        return app.exit(error) == 0 ? 0 : 2;
    }
    nlohmann::json claims = nlohmann::json::object();
    for (const std::string& claim : options.claims) {
        const std::size_t equals = claim.find('=');
        const auto value = equals == std::string::npos
                               ? nlohmann::json()
                               : nlohmann::json::parse(claim.substr(equals + 1), nullptr, false);
        if (equals == std::string::npos || equals == 0 || value.is_discarded()) {
            std::cerr << "tern-token: --claim " << claim << ": expected NAME=JSON\n";
            return 2;
        }
        claims[claim.substr(0, equals)] = value;
    }
    std::string secret;
    if (!read_secret(options.secret_file, secret)) {
        return 1;
    }
    const int64_t now = tern::bridge::unix_seconds_now();
    claims[options.user_claim] = options.user;
    claims["iat"] = now;
    claims["exp"] = now + options.ttl_s;
    if (options.not_before_s > 0) {
        claims["nbf"] = now + options.not_before_s;
    }
    if (!options.issuer.empty()) {
        claims["iss"] = options.issuer;
    }
    if (!options.audience.empty()) {
        claims["aud"] = options.audience;
    }
    std::cout << tern::bridge::sign_jwt(claims, secret) << "\n";
    return 0;
}
