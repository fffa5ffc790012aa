#pragma once
/// @file
/// Small exact integer helpers for counting architectures.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

namespace nas::detail {

/// `a * b`, or nothing when the product does not fit in 64 bits.
constexpr std::optional<std::uint64_t> checked_mul(std::optional<std::uint64_t> a,
                                                   std::optional<std::uint64_t> b) noexcept {
  if (!a || !b) return std::nullopt;
  if (*a != 0 && *b > std::numeric_limits<std::uint64_t>::max() / *a) return std::nullopt;
  return *a * *b;
}

/// `base` to the power `exp`, or nothing on overflow.
constexpr std::optional<std::uint64_t> checked_pow(std::uint64_t base, std::size_t exp) noexcept {
  std::optional<std::uint64_t> r = 1;
  for (std::size_t i = 0; i < exp; ++i) r = checked_mul(r, base);
  return r;
}

inline constexpr std::size_t binomial_rows = 65;

/// Pascal's triangle up to n = 64: exact in 64 bits (C(64, 32) < 2^61).
inline constexpr auto binomial_table = [] {
  std::array<std::array<std::uint64_t, binomial_rows>, binomial_rows> t{};
  for (std::size_t n = 0; n < binomial_rows; ++n) {
    t[n][0] = 1;
    for (std::size_t k = 1; k <= n; ++k) t[n][k] = t[n - 1][k - 1] + (k < n ? t[n - 1][k] : 0);
  }
  return t;
}();

/// C(n, k) for n <= 64 (0 when k > n).
constexpr std::uint64_t binomial(std::size_t n, std::size_t k) noexcept {
  return k > n ? 0 : binomial_table[n][k];
}

}  // namespace nas::detail
