// The steady clock behind message expiry: monotonic, so wall-clock jumps never affect expiry.
#include "core/message.hpp"

#include <chrono>
#include <cstring>
#include <new>

namespace tern::core {

namespace {

// The payload of the message being made on this thread: its size, and where its bytes go.
thread_local std::size_t t_payload_size = 0;
thread_local char* t_payload_storage = nullptr;

// Makes room for t_payload_size bytes after what allocate_shared lays out (the control block
// with the Message at its end). Stateless, so that it takes no room in the control block; the
// deallocation does not know the payload's size, and lets the allocator look it up.
template <typename T>
struct WithPayloadAllocator {
    using value_type = T;

    WithPayloadAllocator() noexcept = default;
    template <typename U>
    WithPayloadAllocator(const WithPayloadAllocator<U>&) noexcept {}  // NOLINT: rebinding

    T* allocate(std::size_t count) {
        auto* block = static_cast<char*>(::operator new(count * sizeof(T) + t_payload_size));
        t_payload_storage = block + count * sizeof(T);
        return reinterpret_cast<T*>(block);
    }
    void deallocate(T* object, std::size_t /*count*/) noexcept { ::operator delete(object); }
    template <typename U>
    bool operator==(const WithPayloadAllocator<U>&) const noexcept {
        return true;
    }
};

}  // namespace

// Runs right after WithPayloadAllocator::allocate: copies the payload into the room it left.
Message::Message(CreateKey, std::string_view bytes) noexcept
    : payload(bytes.empty() ? std::string_view()
                            : std::string_view(static_cast<const char*>(std::memcpy(
                                                   t_payload_storage, bytes.data(), bytes.size())),
                                               bytes.size())) {}

std::shared_ptr<Message> Message::create(std::string_view payload) {
    t_payload_size = payload.size();
    return std::allocate_shared<Message>(WithPayloadAllocator<Message>(), CreateKey{}, payload);
}

MonoMillis mono_now_ms() noexcept {
    auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<MonoMillis>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

}  // namespace tern::core
