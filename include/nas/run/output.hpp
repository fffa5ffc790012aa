#pragma once
/// @file
/// nas::run::Output and nas::run::duration_text: how a long-running search talks to its user
/// (human lines, JSON lines, or only the result) and how it writes a duration.

#include <algorithm>
#include <cmath>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <string>

namespace nas::run {

/// What a run prints on stdout.
enum class Verbosity : std::uint8_t {
  human,  ///< a line per epoch, trial and phase, and the result
  quiet,  ///< only the result
  json,   ///< one JSON object per line: every event, then the result
};

/// `std::printf` into a `std::string`.
__attribute__((format(printf, 1, 2))) inline std::string format(const char* fmt, ...) {
  std::va_list args;
  va_start(args, fmt);
  std::va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  const auto size = static_cast<std::size_t>(std::max(n, 0));
  std::string out(size + 1, '\0');
  std::vsnprintf(out.data(), out.size(), fmt, again);
  va_end(again);
  out.resize(size);
  return out;
}

/// A duration for people: "42s", "3m05s", "2h17m"; "?" when `seconds` is negative or not finite.
inline std::string duration_text(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return format("%lldh%02lldm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return format("%lldm%02llds", s / 60, s % 60);
  return format("%llds", s);
}

/// Where a run's messages go: stdout, flushed after every message so that a killed or piped run
/// shows everything it did. Three kinds of message:
///  - `line`: for people only (hidden when quiet or JSON);
///  - `event`: the JSON line in JSON mode, the text otherwise (hidden when quiet);
///  - `result`: always shown, as JSON in JSON mode.
class Output {
 public:
  explicit Output(Verbosity verbosity = Verbosity::human) : verbosity_(verbosity) {}

  [[nodiscard]] Verbosity verbosity() const { return verbosity_; }

  void line(const std::string& text) const {
    if (verbosity_ != Verbosity::human) return;
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  void event(const std::string& json, const std::string& text) const {
    if (verbosity_ == Verbosity::json)
      std::printf("%s\n", json.c_str());
    else if (verbosity_ == Verbosity::human)
      std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  void result(const std::string& json, const std::string& text) const {
    std::printf("%s\n", verbosity_ == Verbosity::json ? json.c_str() : text.c_str());
    std::fflush(stdout);
  }

 private:
  Verbosity verbosity_;
};

}  // namespace nas::run
