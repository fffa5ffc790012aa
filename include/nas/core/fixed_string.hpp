#pragma once
/// @file
/// nas::FixedString: a string literal usable as a template argument.

#include <cstddef>
#include <string_view>

namespace nas {

/// A compile-time string of `N` characters that can be a template argument.
///
/// `FixedString` is a structural type: a string literal passed where a
/// `FixedString` template parameter is expected becomes part of the type, as in
/// `nas::Op<"sep_conv_3x3", SepConv3>`. Class template argument deduction takes
/// `N` from the literal (without its terminating zero).
///
/// Requirements: built from a string literal (or another `const char[N + 1]`).
/// Laws: `FixedString{"abc"}.view() == "abc"`; equality compares characters.
/// See also: nas::Op, nas::Cell.
template <std::size_t N>
struct FixedString {
  /// The characters followed by a terminating zero. Public so that the type is structural.
  char chars[N + 1]{};

  /// The number of characters, without the terminating zero.
  static constexpr std::size_t length = N;

  constexpr FixedString(const char (&text)[N + 1]) noexcept {  // NOLINT: implicit by design
    for (std::size_t i = 0; i < N + 1; ++i) chars[i] = text[i];
  }

  [[nodiscard]] constexpr std::string_view view() const noexcept { return {chars, N}; }
  [[nodiscard]] constexpr const char* c_str() const noexcept { return chars; }
  [[nodiscard]] static constexpr std::size_t size() noexcept { return N; }
  [[nodiscard]] static constexpr bool empty() noexcept { return N == 0; }
  constexpr operator std::string_view() const noexcept { return view(); }  // NOLINT

  template <std::size_t M>
  [[nodiscard]] friend constexpr bool operator==(const FixedString& a,
                                                 const FixedString<M>& b) noexcept {
    return a.view() == b.view();
  }
};

template <std::size_t N>
FixedString(const char (&)[N]) -> FixedString<N - 1>;

}  // namespace nas
