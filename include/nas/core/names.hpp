#pragma once
/// @file
/// Name lookups shared by op sets and spaces (internal).

#include <array>
#include <cstddef>
#include <optional>
#include <string_view>

namespace nas::detail {

/// The position of `name` in `names`, or nothing.
template <std::size_t N>
constexpr std::optional<std::size_t> find_name(const std::array<std::string_view, N>& names,
                                               std::string_view name) noexcept {
  for (std::size_t i = 0; i < N; ++i)
    if (names[i] == name) return i;
  return std::nullopt;
}

/// How often `name` appears in `names`.
template <std::size_t N>
constexpr std::size_t count_name(const std::array<std::string_view, N>& names,
                                 std::string_view name) noexcept {
  std::size_t c = 0;
  for (auto n : names) c += n == name ? 1U : 0U;
  return c;
}

}  // namespace nas::detail
