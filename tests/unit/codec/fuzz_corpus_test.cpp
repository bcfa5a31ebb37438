// The decoder fuzz seed corpus (tests/fuzz/corpus/decoder) holds the encoded fixtures, byte for
// byte. Run with TERN_WRITE_CORPUS=1 to (re)write it after changing the fixtures.
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "codec_test_support.hpp"

namespace tern::codec::test {

namespace {

std::filesystem::path corpus_dir() {
    return std::filesystem::path(__FILE__).parent_path().parent_path().parent_path() / "fuzz" /
           "corpus" / "decoder";
}

std::string read_file(const std::filesystem::path& path) {
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// Seeds stay small so the fuzzer mutates structure, not kilobytes of payload.
constexpr std::size_t kMaxSeedSize = 1024;

}  // namespace

TEST_CASE("The fuzz seed corpus holds every small fixture byte for byte") {
    const std::filesystem::path dir = corpus_dir();
    const bool write = std::getenv("TERN_WRITE_CORPUS") != nullptr;
    if (write) {
        std::filesystem::create_directories(dir);
    }
    std::size_t seeds = 0;
    for (ProtocolVersion version : kVersions) {
        SUBCASE(version_name(version)) {
            for (const Fixture& fixture : fixtures_for(version)) {
                const std::string wire = to_bytes(fixture.packet, version);
                if (wire.size() > kMaxSeedSize) {
                    continue;
                }
                const std::filesystem::path path = dir / (fixture.name + ".bin");
                CAPTURE(path.string());
                if (write) {
                    std::ofstream(path, std::ios::binary).write(wire.data(), wire.size());
                }
                REQUIRE(std::filesystem::exists(path));
                CHECK(hex(read_file(path)) == hex(wire));
                ++seeds;
            }
            CHECK(seeds >= 17);
        }
    }
}

}  // namespace tern::codec::test
