#pragma once
/// @file
/// What an evaluation of an architecture measures (nas::Metrics), the nas::evaluator_for
/// concept, and objectives that turn metrics into the one score a strategy maximizes:
/// accuracy, MnasNet's soft trade-off, a hard budget.

#include <c10/util/Exception.h>

#include <cmath>
#include <concepts>
#include <cstdint>
#include <limits>
#include <optional>
#include <string_view>
#include <type_traits>
#include <utility>

#include "nas/space/genotype.hpp"

namespace nas {

/// What evaluating one architecture measured. Only `accuracy` is required; the costs are
/// filled by evaluators that know them (see nas::eval::FromScratch's `cost` option).
struct Metrics {
  double accuracy = 0.0;                        ///< validation accuracy in [0, 1]
  std::optional<double> loss{};                 ///< validation loss
  std::optional<std::int64_t> parameters{};     ///< learnable parameters (DARTS's count)
  std::optional<std::int64_t> multiply_adds{};  ///< multiply-adds of one image
  std::optional<double> latency_ms{};           ///< median forward time of one batch
  friend bool operator==(const Metrics&, const Metrics&) = default;
};

/// A callable that evaluates an architecture of `S`: `e(genotype)` returns nas::Metrics,
/// or a number (taken as the accuracy). A lambda over a lookup table, a surrogate model
/// or a remote job models it as well as nas::eval::FromScratch and
/// nas::eval::SharedWeights do.
template <class E, class S>
concept evaluator_for = search_space<S> && requires(E& e, const Genotype<S>& g) {
  requires std::convertible_to<decltype(e(g)), Metrics> ||
      std::convertible_to<decltype(e(g)), double>;
};

namespace detail {
/// Calls an evaluator and returns nas::Metrics whatever it returns.
template <class S, evaluator_for<S> E>
Metrics evaluate(E& e, const Genotype<S>& g) {
  if constexpr (std::convertible_to<decltype(e(g)), Metrics>) {
    return static_cast<Metrics>(e(g));
  } else {
    Metrics m;
    m.accuracy = static_cast<double>(e(g));
    return m;
  }
}
}  // namespace detail

/// Which cost an objective reads from nas::Metrics.
enum class CostKind : std::uint8_t { parameters, multiply_adds, latency_ms };

/// The name of a cost kind, as in JSON and on the command line.
[[nodiscard]] constexpr std::string_view to_string(CostKind k) noexcept {
  switch (k) {
    case CostKind::parameters:
      return "parameters";
    case CostKind::multiply_adds:
      return "multiply_adds";
    case CostKind::latency_ms:
      return "latency_ms";
  }
  return "?";
}

/// The cost of kind `k` in `m`, or nothing when the evaluator did not measure it.
[[nodiscard]] inline std::optional<double> cost_of(const Metrics& m, CostKind k) {
  switch (k) {
    case CostKind::parameters:
      if (m.parameters) return static_cast<double>(*m.parameters);
      return std::nullopt;
    case CostKind::multiply_adds:
      if (m.multiply_adds) return static_cast<double>(*m.multiply_adds);
      return std::nullopt;
    case CostKind::latency_ms:
      return m.latency_ms;
  }
  return std::nullopt;
}

namespace detail {
inline double required_cost(const Metrics& m, CostKind k, const char* who) {
  const auto c = cost_of(m, k);
  TORCH_CHECK(c.has_value(), who, ": the evaluator did not measure ", std::string(to_string(k)),
              "; give it a cost option (nas::eval::FromScratch / SharedWeights `cost`) or "
              "return it in nas::Metrics");
  return *c;
}
}  // namespace detail

/// A score to maximize, from the metrics of an architecture: `o(metrics)` returns a
/// double (minus infinity rejects the architecture).
template <class O>
concept objective = requires(const O& o, const Metrics& m) {
  { o(m) } -> std::convertible_to<double>;
};

/// Objectives (models of nas::objective).
namespace objectives {

/// The accuracy alone.
struct Accuracy {
  [[nodiscard]] double operator()(const Metrics& m) const { return m.accuracy; }
};

/// MnasNet's soft trade-off (Tan et al., CVPR 2019): `accuracy * (cost / target)^w`,
/// with `w = -0.07` (the paper's alpha = beta = -0.07): at the target the accuracy
/// counts as is; twice the cost costs about 5% of it.
struct MnasNet {
  CostKind cost = CostKind::latency_ms;
  double target = 1.0;
  double w = -0.07;
  [[nodiscard]] double operator()(const Metrics& m) const {
    TORCH_CHECK(target > 0.0, "nas::objectives::MnasNet: target must be positive; got ", target);
    const double c = detail::required_cost(m, cost, "nas::objectives::MnasNet");
    return m.accuracy * std::pow(std::max(c, 0.0) / target, w);
  }
};

/// A hard constraint: the accuracy when the cost is at most `limit`, minus infinity
/// (rejected) otherwise.
struct Budget {
  CostKind cost = CostKind::parameters;
  double limit = std::numeric_limits<double>::infinity();
  [[nodiscard]] double operator()(const Metrics& m) const {
    const double c = detail::required_cost(m, cost, "nas::objectives::Budget");
    return c <= limit ? m.accuracy : -std::numeric_limits<double>::infinity();
  }
};

static_assert(objective<Accuracy> && objective<MnasNet> && objective<Budget>);
}  // namespace objectives

}  // namespace nas
