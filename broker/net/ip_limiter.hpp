// Per-address connection limits: how many sockets one IP address may hold and how fast it may
// open new ones (limits.max_connections_per_ip, limits.connection_rate_per_ip).
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include "core/message.hpp"
#include "token_bucket.hpp"

namespace tern::net {

// Thread-safe: sockets are admitted on the listener's loop, but a connection may move to
// another loop after CONNECT and is released on whichever loop closes it. Calls are per
// connection open and close, never per packet, so one mutex is cheap.
//
// Memory stays bounded: an address is remembered while it holds connections, and afterwards
// only until its rate bucket has refilled (at most one second), since a fresh entry behaves
// the same from then on.
class IpLimiter {
  public:
    // 16 bytes; IPv4 addresses are stored IPv4-mapped (::ffff:a.b.c.d), so that a dual-stack
    // listener counts a client the same way whichever family the kernel reports.
    using Address = std::array<uint8_t, 16>;

    enum class Verdict : uint8_t {
        Admitted,
        TooMany,  // the address already holds max_per_address connections
        TooFast,  // the address opened connections faster than rate_per_second
    };

    // 0 disables each limit. The rate bucket holds one second's worth of connections (at least
    // one), so a device that reconnects a few times in a row is not refused.
    IpLimiter(uint32_t max_per_address, uint32_t rate_per_second);

    bool enabled() const noexcept { return _max_per_address != 0 || _rate != 0; }

    // The address of a peer as Connection names it ("1.2.3.4:5678" or "[::1]:5678"); nullopt
    // when it is not an IP address (an unknown peer, "?", is never limited).
    static std::optional<Address> parse_peer(std::string_view peer);

    // Counts a new connection from `address` when both limits allow it. Thread-safe.
    Verdict try_admit(const Address& address, core::MonoMillis now);
    // Forgets one admitted connection of `address`. Thread-safe.
    void release(const Address& address, core::MonoMillis now);
    // release() for the peer as Connection names it (nothing when it is not an IP address).
    void release_peer(std::string_view peer, core::MonoMillis now);

    // Rate-limits the log line about refusals: true at most once per `interval_ms`, and then
    // `suppressed` holds how many refusals were not logged since the previous line.
    bool should_log_refusal(core::MonoMillis now, core::MonoMillis interval_ms,
                            uint64_t& suppressed);

    // For tests and $SYS: connections counted for `address`, and addresses remembered.
    uint32_t connections(const Address& address) const;
    std::size_t remembered() const;

  private:
    struct Entry {
        uint32_t connections = 0;
        TokenBucket bucket;
    };
    struct AddressHash {
        std::size_t operator()(const Address& address) const noexcept;
    };

    // Forgets idle addresses whose bucket has refilled. Called with the mutex held.
    void forget_idle(core::MonoMillis now);

    const uint32_t _max_per_address;
    const double _rate;
    const double _burst;
    const core::MonoMillis _refill_ms;  // time for an empty bucket to become full

    mutable std::mutex _mutex;
    std::unordered_map<Address, Entry, AddressHash> _entries;
    // When an address's last connection closed, oldest first; an address may appear more than
    // once (checked against its entry when the record comes due).
    std::deque<std::pair<core::MonoMillis, Address>> _idle;
    core::MonoMillis _logged_at = 0;
    uint64_t _unlogged = 0;
};

}  // namespace tern::net
