// Per-address connection limits: admission, release and forgetting idle addresses.
#include "ip_limiter.hpp"

#include <arpa/inet.h>

#include <cmath>
#include <cstring>
#include <string>

namespace tern::net {

namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

}  // namespace

IpLimiter::IpLimiter(uint32_t max_per_address, uint32_t rate_per_second)
    : _max_per_address(max_per_address),
      _rate(rate_per_second),
      _burst(std::max(1.0, static_cast<double>(rate_per_second))),
      _refill_ms(rate_per_second == 0
                     ? 0
                     : static_cast<core::MonoMillis>(std::ceil(_burst * 1000.0 / _rate))) {}

std::size_t IpLimiter::AddressHash::operator()(const Address& address) const noexcept {
    uint64_t high = 0;
    uint64_t low = 0;
    std::memcpy(&high, address.data(), 8);
    std::memcpy(&low, address.data() + 8, 8);
    // A multiplicative mix of both halves: IPv4 addresses differ only in the low half.
    return static_cast<std::size_t>((high * 0x9E3779B97F4A7C15ull) ^ (low * 0xC2B2AE3D27D4EB4Full) ^
                                    (low >> 29));
}

std::optional<IpLimiter::Address> IpLimiter::parse_peer(std::string_view peer) {
    std::string host;
    if (!peer.empty() && peer.front() == '[') {
        const std::size_t close = peer.find(']');
        if (close == std::string_view::npos) {
            return std::nullopt;
        }
        host.assign(peer.substr(1, close - 1));
    } else {
        const std::size_t colon = peer.rfind(':');
        host.assign(peer.substr(0, colon));
    }
    Address address{};
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        std::memcpy(address.data(), kV4MappedPrefix, sizeof kV4MappedPrefix);
        std::memcpy(address.data() + 12, &v4, 4);
        return address;
    }
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        std::memcpy(address.data(), &v6, 16);
        return address;
    }
    return std::nullopt;
}

IpLimiter::Verdict IpLimiter::try_admit(const Address& address, core::MonoMillis now) {
    std::lock_guard lock(_mutex);
    forget_idle(now);
    auto [it, inserted] = _entries.try_emplace(address);
    Entry& entry = it->second;
    if (inserted) {
        entry.bucket = TokenBucket(_burst, now);
    }
    if (_max_per_address != 0 && entry.connections >= _max_per_address) {
        ++_unlogged;
        return Verdict::TooMany;
    }
    if (_rate != 0 && !entry.bucket.try_take(1.0, _rate, _burst, now)) {
        ++_unlogged;
        return Verdict::TooFast;
    }
    ++entry.connections;
    return Verdict::Admitted;
}

void IpLimiter::release(const Address& address, core::MonoMillis now) {
    std::lock_guard lock(_mutex);
    auto it = _entries.find(address);
    if (it == _entries.end() || it->second.connections == 0) {
        return;  // not admitted here (cannot happen for a counted connection)
    }
    if (--it->second.connections != 0) {
        return;
    }
    if (_rate == 0) {
        _entries.erase(it);  // nothing else to remember about it
    } else {
        // Its bucket must refill before a fresh entry would behave the same.
        _idle.emplace_back(now, address);
    }
    forget_idle(now);
}

void IpLimiter::release_peer(std::string_view peer, core::MonoMillis now) {
    if (const auto address = parse_peer(peer)) {
        release(*address, now);
    }
}

void IpLimiter::forget_idle(core::MonoMillis now) {
    while (!_idle.empty() && _idle.front().first + _refill_ms <= now) {
        const Address address = _idle.front().second;
        _idle.pop_front();
        auto it = _entries.find(address);
        // Still idle and refilled: forget it. Otherwise it was used again, and its newer record
        // (if it went idle again) comes due later.
        if (it != _entries.end() && it->second.connections == 0 &&
            it->second.bucket.full(_rate, _burst, now)) {
            _entries.erase(it);
        }
    }
}

bool IpLimiter::should_log_refusal(core::MonoMillis now, core::MonoMillis interval_ms,
                                   uint64_t& suppressed) {
    std::lock_guard lock(_mutex);
    if (_logged_at != 0 && now - _logged_at < interval_ms) {
        return false;
    }
    _logged_at = now;
    suppressed = _unlogged > 0 ? _unlogged - 1 : 0;  // the refusal being logged is not suppressed
    _unlogged = 0;
    return true;
}

uint32_t IpLimiter::connections(const Address& address) const {
    std::lock_guard lock(_mutex);
    auto it = _entries.find(address);
    return it == _entries.end() ? 0 : it->second.connections;
}

std::size_t IpLimiter::remembered() const {
    std::lock_guard lock(_mutex);
    return _entries.size();
}

}  // namespace tern::net
