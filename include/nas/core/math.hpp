#pragma once
/// @file
/// Small exact integer helpers for counting architectures.

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

constexpr std::uint64_t gcd(std::uint64_t a, std::uint64_t b) noexcept {
  while (b != 0) {
    const std::uint64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

/// C(n, k), or nothing when it does not fit in 64 bits (0 when k > n).
/// Exact: each step multiplies by (n - i) / (i + 1) after cancelling common factors.
constexpr std::optional<std::uint64_t> checked_binomial(std::uint64_t n, std::uint64_t k) noexcept {
  if (k > n) return 0;
  if (k > n - k) k = n - k;
  std::optional<std::uint64_t> c = 1;
  for (std::uint64_t i = 0; i < k && c; ++i) {
    // c * (n - i) is divisible by (i + 1); cancel before multiplying to avoid overflow
    const std::uint64_t g = gcd(*c, i + 1);
    const std::uint64_t den = (i + 1) / g;
    c = checked_mul(*c / g, (n - i) / den);
  }
  return c;
}

/// C(n, k) where it is known to fit (0 when it does not, which callers rule out first).
constexpr std::uint64_t binomial(std::uint64_t n, std::uint64_t k) noexcept {
  return checked_binomial(n, k).value_or(0);
}

}  // namespace nas::detail
