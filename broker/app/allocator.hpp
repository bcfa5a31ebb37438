// Which allocator this tern runs on, for the start-up log.
#pragma once

#include <string>

namespace tern::app {

// "jemalloc 5.3.0-..., 3 arena(s)" (on 2 CPUs) or "the C library's malloc".
std::string allocator_description();

}  // namespace tern::app
