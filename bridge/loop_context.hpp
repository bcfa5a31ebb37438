// The bridge's state on one worker loop: its HTTP connections, the end-of-iteration flush, the
// periodic tick (timeouts, heartbeats, conflation) and a cache of the last encoded envelope.
#pragma once

#include <uv.h>

#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/message.hpp"

namespace tern::net {
class WorkerLoop;
}

namespace tern::bridge {

class Bridge;
class HttpConnection;

// Made on its loop's thread (Bridge::context) and used only there. Its handles are closed by the
// loop's stop hook; the object itself is freed with the Bridge, after the loops have ended.
class LoopContext {
  public:
    // How often connections are checked for timeouts, heartbeats and conflation flushes.
    static constexpr core::MonoMillis kTickMs = 50;

    LoopContext(Bridge& bridge, net::WorkerLoop& loop);
    ~LoopContext();
    LoopContext(const LoopContext&) = delete;
    LoopContext& operator=(const LoopContext&) = delete;

    Bridge& bridge() noexcept { return _bridge; }
    net::WorkerLoop& loop() noexcept { return _loop; }
    bool stopping() const noexcept { return _stopping; }

    void add(HttpConnection* connection);
    void remove(HttpConnection* connection);
    // A connection by id (ids are never reused on a loop); null when it is gone.
    HttpConnection* find(uint64_t id);
    uint64_t next_connection_id() noexcept { return ++_last_id; }
    void mark_dirty(HttpConnection* connection);
    // The tick runs while the loop has connections; this starts it when it is needed without.
    void keep_ticking();

    // The envelope JSON of `message` (see envelope.hpp), cached for the last message: a message
    // fanned out to many clients on this loop is encoded once.
    const std::string& envelope(const core::MessagePtr& message, bool retain);

  private:
    static void on_check(uv_check_t* handle) noexcept;
    static void on_tick(uv_timer_t* handle) noexcept;
    void flush_dirty();
    void tick();
    // The loop's stop hook: closes every connection and this context's handles.
    void shutdown();

    Bridge& _bridge;
    net::WorkerLoop& _loop;
    uv_check_t _check{};
    uv_timer_t _timer{};
    bool _stopping = false;
    uint64_t _last_id = 0;
    std::vector<HttpConnection*> _connections;  // unordered; index kept in the connection
    std::unordered_map<uint64_t, HttpConnection*> _by_id;
    std::vector<HttpConnection*> _dirty;

    core::MessagePtr _cached_message;
    bool _cached_retain = false;
    std::string _cached_envelope;
};

}  // namespace tern::bridge
