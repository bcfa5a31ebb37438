// A session's subscriptions by filter: a std::map that costs one pointer until the first one.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "subscription_tree.hpp"

namespace tern::core {

// The part of the std::map interface the broker uses, on a map allocated at the first insertion:
// an empty std::map is 48 bytes inline in every session, and many sessions (idle clients,
// publishers) never subscribe. Until then iterators refer to a shared empty map, so unlike with
// std::map an end() taken before the first insertion is not comparable with iterators after it.
class SubscriptionMap {
    using Map = std::map<std::string, SubscriptionOptions, std::less<>>;

  public:
    using iterator = Map::iterator;
    using const_iterator = Map::const_iterator;
    using value_type = Map::value_type;

    SubscriptionMap() = default;
    SubscriptionMap(SubscriptionMap&&) noexcept = default;
    SubscriptionMap& operator=(SubscriptionMap&&) noexcept = default;

    bool empty() const noexcept { return !_map || _map->empty(); }
    std::size_t size() const noexcept { return _map ? _map->size() : 0; }

    iterator begin() noexcept { return map().begin(); }
    iterator end() noexcept { return map().end(); }
    const_iterator begin() const noexcept { return map().begin(); }
    const_iterator end() const noexcept { return map().end(); }

    iterator find(std::string_view filter) { return map().find(filter); }
    const_iterator find(std::string_view filter) const { return map().find(filter); }
    bool contains(std::string_view filter) const { return _map && _map->contains(filter); }

    SubscriptionOptions& operator[](const std::string& filter) { return filled()[filter]; }
    iterator erase(iterator it) { return _map->erase(it); }
    std::size_t erase(std::string_view filter) {
        if (!_map) {
            return 0;
        }
        auto it = _map->find(filter);
        if (it == _map->end()) {
            return 0;
        }
        _map->erase(it);
        return 1;
    }
    void clear() noexcept { _map.reset(); }

  private:
    // Read-only use of the shared empty map is safe from any thread.
    static Map& empty_map() noexcept {
        static Map empty;
        return empty;
    }
    Map& map() noexcept { return _map ? *_map : empty_map(); }
    const Map& map() const noexcept { return _map ? *_map : empty_map(); }
    Map& filled() {
        if (!_map) {
            _map = std::make_unique<Map>();
        }
        return *_map;
    }

    std::unique_ptr<Map> _map;
};

}  // namespace tern::core
