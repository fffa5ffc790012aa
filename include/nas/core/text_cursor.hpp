#pragma once
/// @file
/// nas::detail::TextCursor: the constexpr scanner under nas's text formats.
///
/// Every scanning step is `constexpr`, so a genotype literal can be parsed at
/// compile time; failing calls `fail`, which is not `constexpr`: at compile time
/// compilation stops at the failing line, at run time it throws nas::ParseError.

#include <algorithm>
#include <cstddef>
#include <string>
#include <string_view>
#include <type_traits>

#include "nas/core/parse_error.hpp"

namespace nas::detail {

inline std::string to_message_part(std::string_view s) { return std::string(s); }
inline std::string to_message_part(const std::string& s) { return s; }
inline std::string to_message_part(const char* s) { return s; }
inline std::string to_message_part(char c) { return std::string(1, c); }
template <class T>
  requires std::is_integral_v<T> std::string to_message_part(T v) { return std::to_string(v); }

struct TextCursor {
  std::string_view text;
  std::string_view format;
  std::size_t pos = 0;

  /// Throws nas::ParseError at `at` with the message made of `parts`.
  template <class... Parts>
  [[noreturn]] void fail(std::size_t at, const Parts&... parts) const {
    std::string message;
    ((message += to_message_part(parts)), ...);
    throw ParseError(format, text, at, message);
  }

  [[nodiscard]] constexpr bool at_end() const noexcept { return pos >= text.size(); }
  [[nodiscard]] constexpr char peek() const noexcept { return at_end() ? '\0' : text[pos]; }

  constexpr void skip_space() noexcept {
    while (!at_end() &&
           (text[pos] == ' ' || text[pos] == '\t' || text[pos] == '\n' || text[pos] == '\r'))
      ++pos;
  }
  /// Skips spaces, then consumes `c` if it is next.
  constexpr bool eat(char c) noexcept {
    skip_space();
    if (peek() == c && !at_end()) {
      ++pos;
      return true;
    }
    return false;
  }
  /// Consumes `c` if it is the very next character (no space skipped).
  constexpr bool eat_exact(char c) noexcept {
    if (!at_end() && text[pos] == c) {
      ++pos;
      return true;
    }
    return false;
  }
  constexpr void expect(char c, const char* what) {
    if (!eat(c)) fail(pos, "expected ", what, at_end() ? " but the text ended" : "");
  }

  static constexpr bool is_word_char(char c) noexcept {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  }
  /// A run of letters, digits, '_', '.' and '-' (possibly empty); no space skipped.
  constexpr std::string_view word() noexcept {
    const std::size_t start = pos;
    while (!at_end() && is_word_char(text[pos])) ++pos;
    return text.substr(start, pos - start);
  }
  /// A non-negative decimal integer below 2^31; no space skipped.
  constexpr std::size_t integer(const char* what) {
    const std::size_t start = pos;
    std::size_t value = 0;
    while (!at_end() && text[pos] >= '0' && text[pos] <= '9') {
      value = value * 10 + static_cast<std::size_t>(text[pos] - '0');
      if (value > 0x7FFFFFFF) fail(start, what, " is too large");
      ++pos;
    }
    if (pos == start) fail(start, "expected ", what, " (a non-negative integer)");
    return value;
  }
  /// A Python string literal in single or double quotes, without escapes; spaces skipped first.
  constexpr std::string_view quoted(const char* what) {
    skip_space();
    const char q = peek();
    if (q != '\'' && q != '"') fail(pos, "expected ", what, " in quotes");
    const std::size_t start = ++pos;
    while (!at_end() && text[pos] != q) ++pos;
    if (at_end()) fail(start - 1, "unterminated quoted ", what);
    return text.substr(start, pos++ - start);
  }
};

/// Applies `f` to every non-empty line of `text`.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (end > at) f(text.substr(at, end - at));
    at = end + 1;
  }
}
}  // namespace nas::detail
