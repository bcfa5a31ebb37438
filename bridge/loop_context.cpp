// Per-loop bridge state: connection registry, end-of-iteration flush, tick, envelope cache.
#include "loop_context.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "bridge.hpp"
#include "envelope.hpp"
#include "http_connection.hpp"
#include "net/broker.hpp"
#include "net/history.hpp"
#include "net/presence.hpp"
#include "net/worker_loop.hpp"

namespace tern::bridge {

LoopContext::LoopContext(Bridge& bridge, net::WorkerLoop& loop) : _bridge(bridge), _loop(loop) {
    uv_check_init(loop.uv(), &_check);
    _check.data = this;
    uv_check_start(&_check, &LoopContext::on_check);
    uv_timer_init(loop.uv(), &_timer);
    _timer.data = this;
    loop.add_stop_hook([this](net::WorkerLoop&) { shutdown(); });
}

LoopContext::~LoopContext() = default;

void LoopContext::add(HttpConnection* connection) {
    connection->slot = static_cast<uint32_t>(_connections.size());
    _connections.push_back(connection);
    _by_id.emplace(connection->id(), connection);
    keep_ticking();
}

void LoopContext::keep_ticking() {
    if (!_stopping && uv_is_active(reinterpret_cast<uv_handle_t*>(&_timer)) == 0) {
        uv_timer_start(&_timer, &LoopContext::on_tick, kTickMs, kTickMs);
    }
}

void LoopContext::remove(HttpConnection* connection) {
    _by_id.erase(connection->id());
    const uint32_t slot = connection->slot;
    if (slot < _connections.size() && _connections[slot] == connection) {
        _connections[slot] = _connections.back();
        _connections[slot]->slot = slot;
        _connections.pop_back();
    }
    auto dirty = std::find(_dirty.begin(), _dirty.end(), connection);
    if (dirty != _dirty.end()) {
        *dirty = nullptr;
    }
}

HttpConnection* LoopContext::find(uint64_t id) {
    auto it = _by_id.find(id);
    return it == _by_id.end() ? nullptr : it->second;
}

void LoopContext::mark_dirty(HttpConnection* connection) {
    if (!connection->dirty) {
        connection->dirty = true;
        _dirty.push_back(connection);
    }
}

const std::string& LoopContext::envelope(const core::MessagePtr& message, bool retain) {
    if (_cached_message != message || _cached_retain != retain) {
        const uint64_t epoch = _bridge.broker().history().epoch();
        _cached_envelope = envelope_json(*message, retain, epoch, net::Presence::unix_now_ms());
        _cached_message = message;
        _cached_retain = retain;
    }
    return _cached_envelope;
}

void LoopContext::on_check(uv_check_t* handle) noexcept {
    auto* self = static_cast<LoopContext*>(handle->data);
    self->flush_dirty();
}

void LoopContext::flush_dirty() {
    // flush() may close a connection, which nulls its entry; iterate by index.
    for (std::size_t i = 0; i < _dirty.size(); ++i) {
        HttpConnection* connection = _dirty[i];
        if (connection != nullptr) {
            connection->dirty = false;
            connection->flush();
        }
    }
    _dirty.clear();
    // Do not keep the last message alive longer than one iteration.
    _cached_message.reset();
}

void LoopContext::on_tick(uv_timer_t* handle) noexcept {
    auto* self = static_cast<LoopContext*>(handle->data);
    try {
        self->tick();
    } catch (const std::exception& error) {
        spdlog::error("bridge: worker {}: tick failed: {}", self->_loop.index(), error.what());
    }
}

void LoopContext::tick() {
    const core::MonoMillis now = _loop.now();
    if (_loop.index() == 0) {
        _bridge.resume_accepting(now);
    }
    // Copy: check_timeouts() may close connections, which edits the list. Closed connections
    // are deleted in libuv close callbacks, never during this callback, so the copy stays valid.
    const std::vector<HttpConnection*> connections = _connections;
    for (HttpConnection* connection : connections) {
        connection->check_timeouts(now);
    }
    // An idle loop does not wake up for nothing; add() and keep_ticking() start it again.
    if (_connections.empty() && !(_loop.index() == 0 && _bridge.accept_paused())) {
        uv_timer_stop(&_timer);
    }
}

void LoopContext::shutdown() {
    _stopping = true;
    const std::vector<HttpConnection*> connections = _connections;
    for (HttpConnection* connection : connections) {
        // Nothing waits for slow clients now: the loop ends once every handle is closed.
        connection->abort("server shutting down");
    }
    _cached_message.reset();
    uv_check_stop(&_check);
    uv_close(reinterpret_cast<uv_handle_t*>(&_check), nullptr);
    uv_timer_stop(&_timer);
    uv_close(reinterpret_cast<uv_handle_t*>(&_timer), nullptr);
}

}  // namespace tern::bridge
