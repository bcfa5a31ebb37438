// An open-addressing hash index of objects that carry their own key: one pointer per place.
#pragma once

#include <bit>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

namespace tern::net {

// Finds objects of type T by a key each object holds. A std::unordered_map of pointers costs a
// node (with its malloc header) and a bucket per entry, ~40-56 bytes; this costs 11-21 bytes (a
// pointer per place, the table 3/8 to 3/4 full) and a lookup reads one place per probe.
// `Traits` provides `using Key`, `static Key key(const T&)` and `static uint64_t hash(Key)`; the
// index spreads the hash itself, so an identity hash of sequential numbers is fine. It does not
// own the objects; each must stay alive, its key unchanged, while it is in the index.
template <typename T, typename Traits>
class PointerIndex {
  public:
    using Key = typename Traits::Key;

    std::size_t size() const noexcept { return _size; }
    bool empty() const noexcept { return _size == 0; }

    // The object with `key`; null when there is none.
    T* find(const Key& key) const noexcept {
        if (_size == 0) {
            return nullptr;
        }
        for (std::size_t i = home(key);; i = next(i)) {
            T* item = _places[i];
            if (item == nullptr || Traits::key(*item) == key) {
                return item;
            }
        }
    }

    // Adds `item`; an object with the same key is replaced, and returned (else null).
    T* insert(T* item) {
        if ((_size + 1) * 4 > _places.size() * 3) {
            rehash(_places.empty() ? kMinPlaces : _places.size() * 2);
        }
        const Key key = Traits::key(*item);
        for (std::size_t i = home(key);; i = next(i)) {
            T*& place = _places[i];
            if (place == nullptr) {
                place = item;
                ++_size;
                return nullptr;
            }
            if (Traits::key(*place) == key) {
                return std::exchange(place, item);
            }
        }
    }

    // Removes the object with `key` and returns it (null when there is none).
    T* erase(const Key& key) {
        if (_size == 0) {
            return nullptr;
        }
        std::size_t hole = home(key);
        while (_places[hole] != nullptr && !(Traits::key(*_places[hole]) == key)) {
            hole = next(hole);
        }
        T* removed = _places[hole];
        if (removed == nullptr) {
            return nullptr;
        }
        // Backward shift: each later object of the run moves into the hole when the hole lies on
        // its probe path (between its home place and where it is), so that no lookup stops short.
        const std::size_t mask = _places.size() - 1;
        for (std::size_t i = next(hole); _places[i] != nullptr; i = next(i)) {
            const std::size_t from_home = (i - home(Traits::key(*_places[i]))) & mask;
            if (from_home >= ((i - hole) & mask)) {
                _places[hole] = _places[i];
                hole = i;
            }
        }
        _places[hole] = nullptr;
        --_size;
        if (_places.size() > kMinPlaces && _size * 8 < _places.size()) {
            rehash(_places.size() / 2);  // gives back what a crowd left behind
        }
        return removed;
    }

    // Calls `visit(T&)` for every object, in no particular order. `visit` must not insert or
    // erase.
    template <typename Visit>
    void for_each(Visit&& visit) const {
        for (T* item : _places) {
            if (item != nullptr) {
                visit(*item);
            }
        }
    }

  private:
    static constexpr std::size_t kMinPlaces = 16;

    // Fibonacci hashing: the top bits of the product spread any hash over the table.
    std::size_t home(const Key& key) const noexcept {
        return static_cast<std::size_t>((Traits::hash(key) * 0x9E3779B97F4A7C15ull) >> _shift);
    }
    std::size_t next(std::size_t i) const noexcept { return (i + 1) & (_places.size() - 1); }

    void rehash(std::size_t places) {
        std::vector<T*> old(places, nullptr);
        old.swap(_places);
        _shift = 64 - static_cast<unsigned>(std::countr_zero(places));
        for (T* item : old) {
            if (item != nullptr) {
                std::size_t i = home(Traits::key(*item));
                while (_places[i] != nullptr) {
                    i = next(i);
                }
                _places[i] = item;
            }
        }
    }

    std::vector<T*> _places;  // empty, or a power of two
    unsigned _shift = 64;
    std::size_t _size = 0;
};

}  // namespace tern::net
