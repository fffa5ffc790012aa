#pragma once
/// @file
/// Multi-fidelity trial search over any nas::search_strategy: successive halving (Jamieson &
/// Talwalkar, AISTATS 2016) and Hyperband (Li et al., JMLR 2018). Most of a trial budget goes
/// to children that were never going to win; these train many children cheaply, keep the best
/// fraction, and train only those longer.

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

#include "nas/core/options.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/driver.hpp"
#include "nas/strategy/history.hpp"

namespace nas {

/// Options of nas::successive_halving.
struct HalvingOptions {
  std::size_t children = 27;  ///< architectures the strategy proposes, evaluated at `first_rung`
  std::size_t eta = 3;        ///< each rung keeps the best `floor(n / eta)` (at least one)
  std::size_t rungs = 3;      ///< fidelity levels 0 .. rungs-1 (the evaluators decide the budgets)
  /// the rung the children start at (Hyperband's brackets start higher)
  std::size_t first_rung = 0;

  NAS_WITH(children)
  NAS_WITH(eta)
  NAS_WITH(rungs)
  NAS_WITH(first_rung)
};

/// Evaluator factories for nas::successive_halving: `f(rung)` returns an evaluator of `S`
/// (nas::evaluator_for) that trains at rung `rung`'s fidelity.
template <class F, class S>
concept rung_evaluators = search_space<S> && std::invocable<F&, std::size_t> &&
    evaluator_for<std::remove_cvref_t<std::invoke_result_t<F&, std::size_t>>, S>;

/// Successive halving over `strategy`'s children. The strategy proposes `options.children`
/// architectures, each evaluated by `at_rung(first_rung)` and observed by the strategy (so a
/// learning strategy, evolution or REINFORCE, learns from the cheap scores); the best
/// `floor(n / eta)` (at least one; ties to the earlier trial) go on to `at_rung(first_rung + 1)`,
/// and so on up to rung `rungs - 1`. The higher rungs re-evaluate architectures the strategy has
/// already observed and are not observed again. A repeated proposal is evaluated once per rung.
///
/// Every evaluation is a trial of the returned history, its `round` the rung; `genotype` and
/// `metrics` are those of the best trial of the last rung (not `best()`, which compares scores
/// across fidelities). `callbacks.on_trial` sees every trial with the best of its rung so far;
/// asked to stop (`callbacks.stop`), it returns before its next evaluation with
/// StopReason::interrupted and the best of the highest rung reached.
///
/// ```
/// auto at_rung = [&](std::size_t rung) {   // rung r: 2^r epochs
///   return nas::eval::FromScratch<space>(train, valid, {.epochs = std::int64_t{1} << rung});
/// };
/// nas::Evolution<space> evolution({.population = 10, .sample = 3});
/// auto result = nas::successive_halving(evolution, at_rung, {.children = 27, .eta = 3});
/// ```
template <search_strategy T, rung_evaluators<typename T::space> F,
          objective O = objectives::Accuracy>
TrialResult<typename T::space> successive_halving(
    T& strategy, F&& at_rung, const HalvingOptions& options = {}, const O& score = {},
    const TrialCallbacks<typename T::space>& callbacks = {},
    History<typename T::space> history = {}) {
  using S = typename T::space;
  TORCH_CHECK(options.children > 0, "nas::successive_halving: children must be positive");
  TORCH_CHECK(options.eta >= 2,
              "nas::successive_halving: eta must be at least 2 (keep 1/eta); got ", options.eta);
  TORCH_CHECK(options.rungs > 0 && options.first_rung < options.rungs,
              "nas::successive_halving: first_rung (", options.first_rung,
              ") must be below rungs (", options.rungs, ")");
  TrialResult<S> result;
  std::vector<Genotype<S>> candidates;
  std::optional<Trial<S>> rung_best;
  for (std::size_t rung = options.first_rung; rung < options.rungs; ++rung) {
    const bool first = rung == options.first_rung;
    auto evaluator = at_rung(rung);
    std::unordered_map<Genotype<S>, Metrics> cache;  // one evaluation per architecture and rung
    std::vector<std::pair<double, Genotype<S>>> scored;
    std::optional<Trial<S>> best;
    const std::size_t n = first ? options.children : candidates.size();
    for (std::size_t i = 0; i < n; ++i) {
      if (callbacks.stop.stop_requested()) {
        result.stop = StopReason::interrupted;
        break;
      }
      Trial<S> t;
      t.genotype = first ? strategy.propose() : candidates[i];
      t.genotype.validate();
      t.round = static_cast<std::int64_t>(rung);
      detail::evaluate_trial(t, evaluator, score, &cache, "nas::successive_halving");
      if (!t.cached) scored.emplace_back(t.score, t.genotype);
      const Trial<S>& recorded = history.push(t);
      if (first) strategy.observe(recorded);
      if (!best || recorded.score > best->score) best = recorded;
      if (callbacks.on_trial) callbacks.on_trial(recorded, *best);
    }
    if (best) rung_best = best;
    if (result.stop == StopReason::interrupted || rung + 1 == options.rungs) break;
    // the survivors: the best floor(n / eta) distinct architectures, ties to the earlier one
    std::stable_sort(scored.begin(), scored.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    const std::size_t keep = std::max<std::size_t>(1, scored.size() / options.eta);
    candidates.clear();
    for (std::size_t i = 0; i < keep && i < scored.size(); ++i)
      candidates.push_back(scored[i].second);
  }
  if (rung_best) {
    result.genotype = rung_best->genotype;
    result.metrics = rung_best->metrics;
  }
  result.trials = std::move(history);
  return result;
}

/// Options of nas::hyperband.
struct HyperbandOptions {
  std::size_t eta = 3;    ///< as nas::HalvingOptions
  std::size_t rungs = 3;  ///< fidelity levels; also the number of brackets

  NAS_WITH(eta)
  NAS_WITH(rungs)
};

/// The children Hyperband's bracket `s` starts with (`s = rungs - 1` is the most aggressive,
/// starting at rung 0): `ceil(rungs / (s + 1) * eta^s)`.
[[nodiscard]] inline std::size_t hyperband_children(const HyperbandOptions& o, std::size_t s) {
  const double n = std::ceil(static_cast<double>(o.rungs) / static_cast<double>(s + 1) *
                             std::pow(static_cast<double>(o.eta), static_cast<double>(s)));
  return static_cast<std::size_t>(n);
}

/// Hyperband: successive halving in `rungs` brackets that trade many cheap children against
/// few expensive ones. Bracket `s` (from `rungs - 1` down to 0) proposes
/// nas::hyperband_children(options, s) children from `strategy` and starts them at rung
/// `rungs - 1 - s`. One history holds every bracket's trials (`round` is the rung); the result is
/// the best top-rung trial of all brackets.
template <search_strategy T, rung_evaluators<typename T::space> F,
          objective O = objectives::Accuracy>
TrialResult<typename T::space> hyperband(T& strategy, F&& at_rung,
                                         const HyperbandOptions& options = {}, const O& score = {},
                                         const TrialCallbacks<typename T::space>& callbacks = {}) {
  using S = typename T::space;
  TORCH_CHECK(options.rungs > 0, "nas::hyperband: rungs must be positive");
  TrialResult<S> result;
  History<S> history;
  std::optional<Trial<S>> best;
  for (std::size_t s = options.rungs; s-- > 0;) {
    const std::size_t from = history.trials.size();
    auto bracket = successive_halving(strategy, at_rung,
                                      {.children = hyperband_children(options, s),
                                       .eta = options.eta,
                                       .rungs = options.rungs,
                                       .first_rung = options.rungs - 1 - s},
                                      score, callbacks, std::move(history));
    history = std::move(bracket.trials);
    // the best of this bracket's top-rung trials (none when it was interrupted before)
    for (std::size_t i = from; i < history.trials.size(); ++i) {
      const auto& t = history.trials[i];
      if (t.round + 1 == static_cast<std::int64_t>(options.rungs) &&
          (!best || t.score > best->score))
        best = t;
    }
    if (bracket.stop == StopReason::interrupted) {
      result.stop = StopReason::interrupted;
      break;
    }
  }
  if (best) {
    result.genotype = best->genotype;
    result.metrics = best->metrics;
  }
  result.trials = std::move(history);
  return result;
}

}  // namespace nas
