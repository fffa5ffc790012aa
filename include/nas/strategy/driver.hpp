#pragma once
/// @file
/// The nas::search_strategy concept (propose an architecture, observe its result) and
/// the driver that runs any such strategy with any evaluator and objective:
/// nas::run_trials.

#include <c10/util/Exception.h>

#include <chrono>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

#include "nas/eval/metrics.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"

namespace nas {

/// A sampled search strategy, driven by nas::run_trials:
/// - `typename T::space`: the nas::Space it searches;
/// - `s.propose()` returns the next architecture to evaluate (a nas::Genotype);
/// - `s.observe(trial)` receives its result (metrics and the objective's score).
///
/// The driver calls them alternately, one trial at a time. nas::RandomSearch,
/// nas::Evolution and nas::Reinforce model it; so does a user's own strategy (see
/// docs/sampled.md).
template <class T>
concept search_strategy = requires {
  typename T::space;
}
&&search_space<typename T::space>&& requires(T& s, const Trial<typename T::space>& t) {
  { s.propose() } -> std::same_as<Genotype<typename T::space>>;
  s.observe(t);
};

/// Options of nas::run_trials.
struct TrialOptions {
  std::size_t trials = 100;  ///< architectures proposed (cache hits included)
  bool cache = true;         ///< evaluate each architecture once; repeats reuse the metrics
  std::int64_t round = 0;    ///< written into every trial (ENAS and SPOS: the epoch)
  /// the given history's trials fill the cache too (a resumed run: the evaluator is the
  /// same as before the interruption); off, only this run's trials do
  bool reuse_history = false;
};

/// Hooks of nas::run_trials.
template <search_space S>
struct TrialCallbacks {
  /// After every trial: the trial and the best trial so far (of the whole history).
  std::function<void(const Trial<S>& trial, const Trial<S>& best)> on_trial;
};

/// The outcome of a sampled search: the best architecture and every trial (when
/// nas::run_trials appended to a history, the best of the whole history).
template <search_space S>
struct TrialResult {
  Genotype<S> genotype;  ///< the best trial's architecture
  Trial<S> best;         ///< the trial with the highest score (the first on ties)
  History<S> history;    ///< every trial, in order
};

/// Runs `strategy` for `options.trials` trials: propose, evaluate with `evaluator`
/// (unless an earlier trial of this run evaluated the same architecture), score with
/// `objective`, observe. Appends to `history` when given one (trials of earlier runs
/// are kept but not used as a cache, since the evaluator may have changed, as ENAS's
/// shared weights do between epochs, unless `options.reuse_history`: a resumed run).
///
/// To resume a killed search: restore the strategy (its `load`, see nas::Checkpoint), read
/// the history saved with it, and call run_trials for the remaining trials with that
/// history and `reuse_history = true`; the result equals the uninterrupted run's.
///
/// ```
/// nas::RandomSearch<space> random({.seed = 1});
/// auto result = nas::run_trials(random, evaluator, {.trials = 50});
/// ```
template <search_strategy T, evaluator_for<typename T::space> E, objective O = objectives::Accuracy>
TrialResult<typename T::space> run_trials(T& strategy, E& evaluator,
                                          const TrialOptions& options = {}, const O& score = {},
                                          const TrialCallbacks<typename T::space>& callbacks = {},
                                          History<typename T::space> history = {}) {
  using S = typename T::space;
  TORCH_CHECK(options.trials > 0, "nas::run_trials: trials must be positive");
  std::unordered_map<Genotype<S>, Metrics> cache;
  if (options.cache && options.reuse_history)
    for (const auto& t : history.trials) cache.emplace(t.genotype, t.metrics);
  std::optional<Trial<S>> best = history.best();  // earlier runs count for the best so far
  for (std::size_t i = 0; i < options.trials; ++i) {
    Trial<S> t;
    t.genotype = strategy.propose();
    t.genotype.validate();
    t.round = options.round;
    const auto hit = options.cache ? cache.find(t.genotype) : cache.end();
    if (hit != cache.end()) {
      t.metrics = hit->second;
      t.cached = true;
    } else {
      const auto start = std::chrono::steady_clock::now();
      t.metrics = detail::evaluate<S>(evaluator, t.genotype);
      t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (options.cache) cache.emplace(t.genotype, t.metrics);
    }
    t.score = static_cast<double>(score(t.metrics));
    TORCH_CHECK(!std::isnan(t.score), "nas::run_trials: the objective returned NaN for ",
                to_string(t.genotype), " (accuracy ", t.metrics.accuracy,
                "); return minus infinity to reject an architecture");
    const Trial<S>& recorded = history.push(t);
    strategy.observe(recorded);
    if (!best || recorded.score > best->score) best = recorded;
    if (callbacks.on_trial) callbacks.on_trial(recorded, *best);
  }
  return {best->genotype, *best, std::move(history)};
}

namespace detail {
template <class T>
concept names_a_space = requires {
  typename T::space;
}
&&search_space<typename T::space>;
template <class T, class E>
concept drivable = search_strategy<T> && evaluator_for<E, typename T::space>;

template <class T, class E>
constexpr bool explain_run_trials() {
  static_assert(names_a_space<T>,
                "nas::run_trials: the strategy does not name the space it searches; give it "
                "`using space = <your nas::Space>;` (see nas::search_strategy)");
  if constexpr (names_a_space<T>) {
    static_assert(search_strategy<T>,
                  "nas::run_trials: the strategy needs `nas::Genotype<space> propose()` and "
                  "`void observe(const nas::Trial<space>&)` (see nas::search_strategy)");
    static_assert(evaluator_for<E, typename T::space>,
                  "nas::run_trials: the evaluator must be callable as `e(genotype)` on a "
                  "nas::Genotype<space> of the strategy's space and return nas::Metrics or a "
                  "number (see nas::evaluator_for)");
  }
  return false;
}
}  // namespace detail

/// Chosen only when the strategy or the evaluator does not fit: stops compilation with
/// a message that names what is missing.
template <class T, class E, class... Rest>
  requires(!detail::drivable<T, E>)
void run_trials(T&, E&, const TrialOptions& = {}, Rest&&...) {
  static_assert(detail::explain_run_trials<T, E>(), "see the message above");
}

}  // namespace nas
