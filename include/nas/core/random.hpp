#pragma once
/// @file
/// Reproducible uniform draws from any standard random bit generator.
///
/// `std::uniform_int_distribution` is implementation-defined: the same seed gives
/// different draws under libstdc++ and libc++. nas draws its own way so that the
/// same seed gives the same architectures everywhere.

#include <cstdint>
#include <limits>
#include <random>

namespace nas {

/// The generator nas uses by default: a 64-bit Mersenne twister, whose output
/// sequence the C++ standard fixes.
using Rng = std::mt19937_64;

namespace detail {
/// 64 uniformly random bits from `g`, whatever its output range width (32 or 64 bits).
template <std::uniform_random_bit_generator G>
constexpr std::uint64_t random_bits64(G& g) {
  using R = typename G::result_type;
  static_assert(G::min() == 0, "nas needs a random bit generator whose min() is 0");
  if constexpr (G::max() == std::numeric_limits<std::uint64_t>::max()) {
    return static_cast<std::uint64_t>(g());
  } else {
    static_assert(G::max() >= std::numeric_limits<std::uint32_t>::max(),
                  "nas needs a random bit generator with at least 32 random bits per call");
    std::uint64_t hi = static_cast<std::uint64_t>(static_cast<R>(g())) & 0xFFFFFFFFU;
    std::uint64_t lo = static_cast<std::uint64_t>(static_cast<R>(g())) & 0xFFFFFFFFU;
    return (hi << 32) | lo;
  }
}
}  // namespace detail

/// A uniform draw from {0, ..., n - 1} (n > 0), by rejection: unbiased and the
/// same on every platform for the same generator state.
template <std::uniform_random_bit_generator G>
constexpr std::uint64_t uniform_below(G& g, std::uint64_t n) {
  if (n <= 1) return 0;
  const std::uint64_t limit = std::numeric_limits<std::uint64_t>::max() -
                              (std::numeric_limits<std::uint64_t>::max() % n + 1) % n;
  while (true) {
    const std::uint64_t r = detail::random_bits64(g);
    if (r <= limit) return r % n;
  }
}

}  // namespace nas
