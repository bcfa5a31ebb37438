// Which allocator this tern runs on, for the start-up log.
#pragma once

#include <string>

namespace tern::app {

// "jemalloc 5.3.0-..., 2 arena(s)" or "the C library's malloc".
std::string allocator_description();

}  // namespace tern::app
