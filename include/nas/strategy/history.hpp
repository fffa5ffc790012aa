#pragma once
/// @file
/// The record of a sampled search: every evaluated architecture (nas::Trial), kept in a
/// nas::History that is written and read as JSON lines, and the Pareto front of
/// (accuracy, cost) over it.

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <istream>
#include <limits>
#include <optional>
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "nas/core/json.hpp"
#include "nas/core/parse_error.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/train/atomic_file.hpp"

namespace nas {

/// One evaluated architecture.
template <search_space S>
struct Trial {
  std::size_t index = 0;   ///< position in the history (0-based)
  Genotype<S> genotype;    ///< the architecture
  Metrics metrics;         ///< what the evaluator measured
  double score = 0.0;      ///< the objective's score (minus infinity: rejected)
  double seconds = 0.0;    ///< wall time of the evaluation (0 when cached)
  bool cached = false;     ///< an earlier trial of the same search evaluated it
  std::int64_t round = 0;  ///< the strategy's round (ENAS / SPOS: epoch; otherwise 0)
  friend bool operator==(const Trial&, const Trial&) = default;
};

/// Every trial of a search, in order. `to_jsonl` writes one JSON object per line:
///
/// ```
/// {"trial": 0, "genotype": "|nor_conv_3x3~0|+|...", "accuracy": 0.81, "loss": 0.52,
///  "parameters": 129306, "multiply_adds": null, "latency_ms": null, "score": 0.81,
///  "seconds": 3.2, "cached": false, "round": 0}
/// ```
///
/// (genotypes in the space's text format: DARTS or NAS-Bench-201 text; a score of minus
/// infinity is written `null`). `read_jsonl` reads it back and checks every line.
template <search_space S>
class History {
 public:
  std::vector<Trial<S>> trials;

  [[nodiscard]] std::size_t size() const noexcept { return trials.size(); }
  [[nodiscard]] bool empty() const noexcept { return trials.empty(); }
  [[nodiscard]] auto begin() const noexcept { return trials.begin(); }
  [[nodiscard]] auto end() const noexcept { return trials.end(); }
  [[nodiscard]] const Trial<S>& operator[](std::size_t i) const { return trials.at(i); }

  /// Appends a trial, numbering it.
  const Trial<S>& push(Trial<S> t) {
    t.index = trials.size();
    trials.push_back(std::move(t));
    return trials.back();
  }

  /// The trial with the highest score (the first one on ties); nothing when empty.
  [[nodiscard]] std::optional<Trial<S>> best() const {
    const Trial<S>* b = best_trial();
    if (b == nullptr) return std::nullopt;
    return *b;
  }
  /// The same trial in place (no copy), or nullptr for an empty history.
  [[nodiscard]] const Trial<S>* best_trial() const noexcept {
    const Trial<S>* b = nullptr;
    for (const auto& t : trials)
      if (b == nullptr || t.score > b->score) b = &t;
    return b;
  }

  /// Architectures evaluated (trials that were not cache hits).
  [[nodiscard]] std::size_t evaluations() const noexcept {
    return static_cast<std::size_t>(
        std::count_if(trials.begin(), trials.end(), [](const Trial<S>& t) { return !t.cached; }));
  }

  /// One trial as one line of JSON (no newline).
  [[nodiscard]] static std::string to_json_line(const Trial<S>& t) {
    std::string s = "{\"trial\": ";
    s += std::to_string(t.index);
    s += ", \"genotype\": ";
    s += json::quote(to_string(t.genotype));
    s += ", \"accuracy\": ";
    s += detail::json_number(t.metrics.accuracy);
    s += ", \"loss\": ";
    s += t.metrics.loss ? detail::json_number(*t.metrics.loss) : "null";
    s += ", \"parameters\": ";
    s += t.metrics.parameters ? std::to_string(*t.metrics.parameters) : "null";
    s += ", \"multiply_adds\": ";
    s += t.metrics.multiply_adds ? std::to_string(*t.metrics.multiply_adds) : "null";
    s += ", \"latency_ms\": ";
    s += t.metrics.latency_ms ? detail::json_number(*t.metrics.latency_ms) : "null";
    s += ", \"score\": ";
    s += detail::json_number(t.score);
    s += ", \"seconds\": ";
    s += detail::json_number(t.seconds);
    s += ", \"cached\": ";
    s += t.cached ? "true" : "false";
    s += ", \"round\": ";
    s += std::to_string(t.round);
    s += '}';
    return s;
  }

  /// Writes every trial, one JSON object per line.
  void to_jsonl(std::ostream& os) const {
    for (const auto& t : trials) os << to_json_line(t) << '\n';
  }

  /// Every trial as JSON lines, in one string (for a nas::Checkpoint).
  [[nodiscard]] std::string jsonl() const {
    std::ostringstream os;
    to_jsonl(os);
    return os.str();
  }
  /// Reads JSON lines from a string (see read_jsonl).
  [[nodiscard]] static History parse_jsonl(std::string_view text) {
    std::istringstream is{std::string(text)};
    return read_jsonl(is);
  }

  /// Writes the history to `path` atomically (nas::write_atomically), so a reader never
  /// sees half a file. Throws a c10::Error naming the path when it cannot write.
  void save(const std::filesystem::path& path) const { write_atomically(path, jsonl()); }

  /// Reads JSON lines written by to_jsonl (blank lines skipped). Throws nas::ParseError
  /// naming the line and the problem.
  [[nodiscard]] static History read_jsonl(std::istream& is) {
    History h;
    std::string line;
    std::size_t number = 0;
    while (std::getline(is, line)) {
      ++number;
      if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
      const std::string where = "history line " + std::to_string(number);
      const json::Value v = json::parse(line, where);
      auto fail = [&](const std::string& problem) -> void {
        throw ParseError(where, line, 0, problem);
      };
      if (!v.is_object()) fail("a trial must be a JSON object");
      auto number_or = [&](std::string_view key, bool required) -> std::optional<double> {
        const json::Value* x = v.find(key);
        if (x == nullptr || x->is_null()) {
          if (required) fail("'" + std::string(key) + "' is missing");
          return std::nullopt;
        }
        if (!x->is_number()) fail("'" + std::string(key) + "' must be a number");
        return x->number;
      };
      auto integer_or = [&](std::string_view key) -> std::optional<std::int64_t> {
        const json::Value* x = v.find(key);
        if (x == nullptr || x->is_null()) return std::nullopt;
        if (!json::is_integer(*x, -9.0e15, 9.0e15))
          fail("'" + std::string(key) + "' must be an integer");
        return static_cast<std::int64_t>(x->number);
      };
      const json::Value* g = v.find("genotype");
      if (g == nullptr || !g->is_string()) fail("'genotype' must be a string");
      Trial<S> t;
      try {
        t.genotype = parse<S>(g->string);
      } catch (const InvalidArgument& e) {
        fail(std::string("'genotype' is not an architecture of this space: ") + e.what());
      }
      t.metrics.accuracy = *number_or("accuracy", true);
      t.metrics.loss = number_or("loss", false);
      t.metrics.parameters = integer_or("parameters");
      t.metrics.multiply_adds = integer_or("multiply_adds");
      t.metrics.latency_ms = number_or("latency_ms", false);
      t.score = number_or("score", false).value_or(-std::numeric_limits<double>::infinity());
      t.seconds = number_or("seconds", false).value_or(0.0);
      const json::Value* c = v.find("cached");
      t.cached = c != nullptr && c->kind == json::Value::Kind::boolean && c->boolean;
      t.round = integer_or("round").value_or(0);
      const auto index = integer_or("trial");
      if (index && *index != static_cast<std::int64_t>(h.trials.size()))
        fail("trial " + std::to_string(*index) + " is out of order (expected " +
             std::to_string(h.trials.size()) + ")");
      h.push(std::move(t));
    }
    return h;
  }

  /// Reads a history file written by save().
  [[nodiscard]] static History load(const std::filesystem::path& path) {
    std::ifstream is(path, std::ios::binary);
    if (!is) throw InvalidArgument("nas::History::load: cannot open '" + path.string() + "'");
    return read_jsonl(is);
  }

  friend bool operator==(const History&, const History&) = default;
};

/// The indices of the trials on the Pareto front of (accuracy up, cost `kind` down):
/// those no other trial dominates (at least as accurate and at most as costly, and
/// better in one). Cache hits and trials without the cost are left out; of trials with
/// the same accuracy and cost, the first is kept. Sorted by ascending cost.
template <search_space S>
[[nodiscard]] std::vector<std::size_t> pareto_front(const History<S>& history, CostKind kind) {
  struct Point {
    double accuracy;
    double cost;
    std::size_t index;
  };
  std::vector<Point> points;
  for (const auto& t : history.trials) {
    if (t.cached) continue;
    if (const auto c = cost_of(t.metrics, kind))
      points.push_back({t.metrics.accuracy, *c, t.index});
  }
  // ascending cost, then descending accuracy, then trial order: a point is on the front
  // when it is more accurate than every point before it
  std::stable_sort(points.begin(), points.end(), [](const Point& a, const Point& b) {
    if (a.cost != b.cost) return a.cost < b.cost;
    return a.accuracy > b.accuracy;
  });
  std::vector<std::size_t> front;
  double best = -std::numeric_limits<double>::infinity();
  for (const auto& p : points)
    if (p.accuracy > best) {
      front.push_back(p.index);
      best = p.accuracy;
    }
  return front;
}

}  // namespace nas
