// The steady clock behind message expiry: monotonic, so wall-clock jumps never affect expiry.
#include "core/message.hpp"

#include <chrono>

namespace tern::core {

MonoMillis mono_now_ms() noexcept {
    auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<MonoMillis>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace tern::core
