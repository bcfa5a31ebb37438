// The steady clock behind message expiry: monotonic, so wall-clock jumps never affect expiry.
#include "core/message.hpp"

#include <chrono>

namespace tern::core {

const codec::Properties Message::kNoProperties{};

void Message::set_properties(codec::Properties&& properties) {
    if (properties.empty()) {
        _properties.reset();
    } else {
        _properties = std::make_shared<const codec::Properties>(std::move(properties));
    }
}

MonoMillis mono_now_ms() noexcept {
    auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<MonoMillis>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace tern::core
