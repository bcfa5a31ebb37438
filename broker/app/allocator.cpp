// The process's allocator: jemalloc's settings when tern is linked with it (TERN_ALLOCATOR), and
// what start-up logs about it.
#include "allocator.hpp"

#ifdef TERN_JEMALLOC
#include <jemalloc/jemalloc.h>

// Read by jemalloc when it starts (before main); the MALLOC_CONF environment variable still
// overrides any of them.
// - percpu_arena:percpu: one arena per CPU instead of four, used by whichever thread runs there.
//   The worker loops mostly stay on their CPU, and fewer arenas hold fewer half-used pages.
// - dirty_decay_ms:1000, muzzy_decay_ms:0: pages freed by a burst (fan-out output buffers, a
//   drained queue) go back to the system within a second rather than ten, so peak RSS under load
//   stays near what is in use.
extern "C" {
// NOLINTNEXTLINE: the name and type are jemalloc's interface.
const char* malloc_conf = "percpu_arena:percpu,dirty_decay_ms:1000,muzzy_decay_ms:0";
}
#endif

namespace tern::app {

std::string allocator_description() {
#ifdef TERN_JEMALLOC
    const char* version = nullptr;
    std::size_t size = sizeof(version);
    unsigned narenas = 0;
    std::size_t narenas_size = sizeof(narenas);
    std::string arena_count = "?";
    if (mallctl("arenas.narenas", &narenas, &narenas_size, nullptr, 0) == 0) {
        arena_count = std::to_string(narenas);
    }
    if (mallctl("version", &version, &size, nullptr, 0) != 0 || version == nullptr) {
        version = "(version unknown)";
    }
    return std::string("jemalloc ") + version + ", " + arena_count + " arena(s)";
#else
    return "the C library's malloc";
#endif
}

}  // namespace tern::app
