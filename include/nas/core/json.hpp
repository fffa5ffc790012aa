#pragma once
/// @file
/// nas::json: a small JSON value, reader and writer for nas's own files
/// (genotypes, histories, summaries). Not a general-purpose JSON library.

#include <charconv>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#include "nas/core/parse_error.hpp"

namespace nas::json {

/// A JSON value. Objects keep their keys in input order.
struct Value {
  enum class Kind : std::uint8_t { null, boolean, number, string, array, object };
  Kind kind = Kind::null;
  bool boolean = false;
  double number = 0.0;
  std::string string;
  std::vector<Value> array;
  std::vector<std::pair<std::string, Value>> object;
  std::size_t offset = 0;  ///< where the value starts in the text it was read from

  // Declared here, defined below once Value is complete: a vector of pairs holding Value is a
  // recursive type, and clang with libstdc++ rejects the implicit members, which instantiate
  // std::pair<std::string, Value> while Value is still incomplete.
  Value();
  Value(const Value&);
  Value(Value&&) noexcept;
  Value& operator=(const Value&);
  Value& operator=(Value&&) noexcept;
  ~Value();

  [[nodiscard]] bool is_null() const noexcept { return kind == Kind::null; }
  [[nodiscard]] bool is_number() const noexcept { return kind == Kind::number; }
  [[nodiscard]] bool is_string() const noexcept { return kind == Kind::string; }
  [[nodiscard]] bool is_array() const noexcept { return kind == Kind::array; }
  [[nodiscard]] bool is_object() const noexcept { return kind == Kind::object; }
  /// The member named `key`, or null when absent (or when this is not an object).
  [[nodiscard]] const Value* find(std::string_view key) const noexcept;
};

inline Value::Value() = default;
inline Value::Value(const Value&) = default;
inline Value::Value(Value&&) noexcept = default;
inline Value& Value::operator=(const Value&) = default;
inline Value& Value::operator=(Value&&) noexcept = default;
inline Value::~Value() = default;

inline const Value* Value::find(std::string_view key) const noexcept {
  for (const auto& [k, v] : object)
    if (k == key) return &v;
  return nullptr;
}

namespace detail {
class Reader {
 public:
  Reader(std::string_view text, std::string_view format) : text_(text), format_(format) {}

  Value document() {
    Value v = value(0);
    skip_space();
    if (pos_ != text_.size()) fail(pos_, "unexpected text after the JSON value");
    return v;
  }

  [[noreturn]] void fail(std::size_t at, const std::string& problem) const {
    throw ParseError(format_, text_, at, problem);
  }

 private:
  static constexpr std::size_t max_depth = 64;

  void skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' ||
                                   text_[pos_] == '\n' || text_[pos_] == '\r'))
      ++pos_;
  }
  bool eat(char c) {
    skip_space();
    if (pos_ < text_.size() && text_[pos_] == c) {
      ++pos_;
      return true;
    }
    return false;
  }
  void expect(char c, const char* what) {
    if (!eat(c)) fail(pos_, std::string("expected ") + what);
  }

  Value value(std::size_t depth) {
    if (depth > max_depth) fail(pos_, "JSON nested too deeply");
    skip_space();
    Value v;
    v.offset = pos_;
    if (pos_ >= text_.size()) fail(pos_, "unexpected end of text; expected a JSON value");
    const char c = text_[pos_];
    if (c == '{') {
      ++pos_;
      v.kind = Value::Kind::object;
      if (eat('}')) return v;
      do {
        skip_space();
        const std::size_t key_at = pos_;
        if (pos_ >= text_.size() || text_[pos_] != '"') fail(pos_, "expected a string key");
        std::string key = string_literal();
        for (const auto& kv : v.object)
          if (kv.first == key) fail(key_at, "duplicate key \"" + key + "\"");
        expect(':', "':' after an object key");
        v.object.emplace_back(std::move(key), value(depth + 1));
      } while (eat(','));
      expect('}', "',' or '}' in an object");
    } else if (c == '[') {
      ++pos_;
      v.kind = Value::Kind::array;
      if (eat(']')) return v;
      do v.array.push_back(value(depth + 1));
      while (eat(','));
      expect(']', "',' or ']' in an array");
    } else if (c == '"') {
      v.kind = Value::Kind::string;
      v.string = string_literal();
    } else if (c == 't' || c == 'f' || c == 'n') {
      const std::string_view rest = text_.substr(pos_);
      if (rest.substr(0, 4) == "true") {
        v.kind = Value::Kind::boolean;
        v.boolean = true;
        pos_ += 4;
      } else if (rest.substr(0, 5) == "false") {
        v.kind = Value::Kind::boolean;
        pos_ += 5;
      } else if (rest.substr(0, 4) == "null") {
        pos_ += 4;
      } else {
        fail(pos_, "unknown literal; expected true, false or null");
      }
    } else if (c == '-' || (c >= '0' && c <= '9')) {
      v.kind = Value::Kind::number;
      v.number = number();
    } else {
      fail(pos_, std::string("unexpected character '") + c + "'; expected a JSON value");
    }
    return v;
  }

  double number() {
    const std::size_t start = pos_;
    auto digits = [&] {
      const std::size_t d = pos_;
      while (pos_ < text_.size() && text_[pos_] >= '0' && text_[pos_] <= '9') ++pos_;
      if (pos_ == d) fail(pos_, "expected a digit");
    };
    if (text_[pos_] == '-') ++pos_;
    const std::size_t int_start = pos_;
    digits();
    if (text_[int_start] == '0' && pos_ - int_start > 1)
      fail(int_start, "leading zero in a number");
    if (pos_ < text_.size() && text_[pos_] == '.') {
      ++pos_;
      digits();
    }
    if (pos_ < text_.size() && (text_[pos_] == 'e' || text_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < text_.size() && (text_[pos_] == '+' || text_[pos_] == '-')) ++pos_;
      digits();
    }
    // the syntax is checked above; from_chars converts exactly (correctly rounded), so a
    // number written with 17 significant digits reads back to the same double
    double value = 0.0;
    const auto [end, ec] = std::from_chars(text_.data() + start, text_.data() + pos_, value);
    if (ec != std::errc{} || end != text_.data() + pos_ || !std::isfinite(value))
      fail(start, "number out of range");
    return value;
  }

  static void append_utf8(std::string& out, std::uint32_t cp) {
    if (cp < 0x80) {
      out += static_cast<char>(cp);
    } else if (cp < 0x800) {
      out += static_cast<char>(0xC0 | (cp >> 6));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
      out += static_cast<char>(0xE0 | (cp >> 12));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
      out += static_cast<char>(0xF0 | (cp >> 18));
      out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
      out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
      out += static_cast<char>(0x80 | (cp & 0x3F));
    }
  }

  std::uint32_t hex4() {
    if (text_.size() - pos_ < 4) fail(pos_, "expected four hex digits after \\u");
    std::uint32_t cp = 0;
    for (int i = 0; i < 4; ++i, ++pos_) {
      const char h = text_[pos_];
      std::uint32_t d = 0;
      if (h >= '0' && h <= '9')
        d = static_cast<std::uint32_t>(h - '0');
      else if (h >= 'a' && h <= 'f')
        d = static_cast<std::uint32_t>(h - 'a' + 10);
      else if (h >= 'A' && h <= 'F')
        d = static_cast<std::uint32_t>(h - 'A' + 10);
      else
        fail(pos_, "expected a hex digit after \\u");
      cp = cp * 16 + d;
    }
    return cp;
  }

  std::string string_literal() {
    const std::size_t start = pos_;
    ++pos_;  // opening quote
    std::string out;
    while (true) {
      if (pos_ >= text_.size()) fail(start, "unterminated string");
      const char c = text_[pos_++];
      if (c == '"') return out;
      if (static_cast<unsigned char>(c) < 0x20) fail(pos_ - 1, "control character in a string");
      if (c != '\\') {
        out += c;
        continue;
      }
      if (pos_ >= text_.size()) fail(start, "unterminated string");
      const char e = text_[pos_++];
      switch (e) {
        case '"':
          out += '"';
          break;
        case '\\':
          out += '\\';
          break;
        case '/':
          out += '/';
          break;
        case 'b':
          out += '\b';
          break;
        case 'f':
          out += '\f';
          break;
        case 'n':
          out += '\n';
          break;
        case 'r':
          out += '\r';
          break;
        case 't':
          out += '\t';
          break;
        case 'u': {
          std::uint32_t cp = hex4();
          if (cp >= 0xD800 && cp <= 0xDBFF) {
            if (text_.substr(pos_, 2) != "\\u") fail(pos_, "unpaired surrogate in \\u escape");
            pos_ += 2;
            const std::uint32_t lo = hex4();
            if (lo < 0xDC00 || lo > 0xDFFF) fail(pos_, "invalid low surrogate in \\u escape");
            cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
          } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
            fail(pos_, "unpaired surrogate in \\u escape");
          }
          append_utf8(out, cp);
          break;
        }
        default:
          fail(pos_ - 1, std::string("unknown escape '\\") + e + "'");
      }
    }
  }

  std::string_view text_;
  std::string_view format_;
  std::size_t pos_ = 0;
};
}  // namespace detail

/// Reads one JSON document; throws nas::ParseError (naming `format`) on bad input.
[[nodiscard]] inline Value parse(std::string_view text, std::string_view format = "JSON") {
  return detail::Reader(text, format).document();
}

/// `text` as a JSON string literal, quotes included.
[[nodiscard]] inline std::string quote(std::string_view text) {
  std::string out = "\"";
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          constexpr char hex[] = "0123456789abcdef";
          out += "\\u00";
          out += hex[(c >> 4) & 0xF];
          out += hex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  return out + "\"";
}

/// Whether `v` is a number holding an integer in [lo, hi].
[[nodiscard]] inline bool is_integer(const Value& v, double lo, double hi) noexcept {
  return v.is_number() && std::floor(v.number) == v.number && v.number >= lo && v.number <= hi;
}

}  // namespace nas::json

namespace nas {
namespace detail {
/// `v` with 17 significant digits: reads back to the same double.
inline std::string number_text(double v) {
  char buf[40];
  const int n = std::snprintf(buf, sizeof buf, "%.17g", v);
  return {buf, static_cast<std::size_t>(n)};
}
inline std::string json_number(double v) { return std::isfinite(v) ? number_text(v) : "null"; }
/// Builds one JSON object, member by member, with numbers that read back exactly.
class JsonObject {
 public:
  JsonObject& number(std::string_view key, double v) { return raw(key, detail::json_number(v)); }
  JsonObject& integer(std::string_view key, std::int64_t v) { return raw(key, std::to_string(v)); }
  JsonObject& text(std::string_view key, std::string_view v) { return raw(key, json::quote(v)); }
  JsonObject& raw(std::string_view key, std::string_view json) {
    s_ += s_.size() == 1 ? "" : ", ";
    s_ += json::quote(key);
    s_ += ": ";
    s_ += json;
    return *this;
  }
  [[nodiscard]] std::string str() const { return s_ + "}"; }

 private:
  std::string s_ = "{";
};
}  // namespace detail

}  // namespace nas
