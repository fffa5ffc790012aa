#pragma once
/// @file
/// The nas::search_strategy concept (propose an architecture, observe its result) and
/// the driver that runs any such strategy with any evaluator and objective:
/// nas::run_trials; nas::checkpointable and nas::save_search / nas::load_search, which checkpoint a
/// sampled search with its history.

#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>

#include "nas/core/options.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/history.hpp"
#include "nas/train/checkpoint.hpp"

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

namespace detail {
/// Fills trial `t`'s metrics, `cached`, `seconds` and `score`: the metrics from `cache` when it
/// holds `t.genotype`, else from `evaluator` (timed, then cached when `cache` is given); `who`
/// names the caller in the error for an objective that returns NaN.
template <search_space S, evaluator_for<S> E, objective O>
void evaluate_trial(Trial<S>& t, E& evaluator, const O& score,
                    std::unordered_map<Genotype<S>, Metrics>* cache, const char* who) {
  if (cache != nullptr) {
    if (const auto hit = cache->find(t.genotype); hit != cache->end()) {
      t.metrics = hit->second;
      t.cached = true;
    }
  }
  if (!t.cached) {
    const auto start = std::chrono::steady_clock::now();
    t.metrics = evaluate<S>(evaluator, t.genotype);
    t.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (cache != nullptr) cache->emplace(t.genotype, t.metrics);
  }
  t.score = static_cast<double>(score(t.metrics));
  TORCH_CHECK(!std::isnan(t.score), who, ": the objective returned NaN for ", to_string(t.genotype),
              " (accuracy ", t.metrics.accuracy,
              "); return minus infinity to reject an architecture");
}
}  // namespace detail

/// Options of nas::run_trials.
struct TrialOptions {
  std::size_t trials = 100;  ///< architectures proposed (cache hits included)
  bool cache = true;         ///< evaluate each architecture once; repeats reuse the metrics
  std::int64_t round = 0;    ///< written into every trial (ENAS and SPOS: the epoch)
  /// the given history's trials fill the cache too (a resumed run: the evaluator is the
  /// same as before the interruption); off, only this run's trials do
  bool reuse_history = false;

  NAS_WITH(trials)
  NAS_WITH(cache)
  NAS_WITH(round)
  NAS_WITH(reuse_history)
};

/// The callbacks of nas::run_trials (nas::SearchCallbacks; it calls `on_trial`).
template <search_space S>
using TrialCallbacks = SearchCallbacks<S>;

/// The outcome of a sampled search (nas::SearchResult): `genotype` and `metrics` are the best
/// trial's, `trials` every trial in order (when nas::run_trials appended to a history, the
/// whole history, and the best of it), `best()` that trial; no epochs.
template <search_space S>
using TrialResult = SearchResult<S>;

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
/// Asked to stop (`callbacks.stop`), it proposes no further trial and returns what it has, with
/// StopReason::interrupted (the strategy has observed every trial in the history, so saving both
/// then, with nas::save_search, resumes exactly). An evaluator that throws (nas::Interrupted from
/// nas::eval::FromScratch asked to stop mid-training, among others) leaves the strategy with a
/// proposal it never observed: resume from state saved before that trial.
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
  TrialResult<S> result;
  for (std::size_t i = 0; i < options.trials; ++i) {
    if (callbacks.stop.stop_requested()) {
      result.stop = StopReason::interrupted;
      break;
    }
    Trial<S> t;
    t.genotype = strategy.propose();
    t.genotype.validate();
    t.round = options.round;
    detail::evaluate_trial(t, evaluator, score, options.cache ? &cache : nullptr,
                           "nas::run_trials");
    const Trial<S>& recorded = history.push(t);
    strategy.observe(recorded);
    if (!best || recorded.score > best->score) best = recorded;
    if (callbacks.on_trial) callbacks.on_trial(recorded, *best);
  }
  if (best) {
    result.genotype = best->genotype;
    result.metrics = best->metrics;
  }
  result.trials = std::move(history);
  return result;
}

/// A search whose state a nas::Checkpoint holds.
///
/// Requirements: `s.save(c, prefix)` (on a const `s`) writes entries `<prefix>.*` of a
/// nas::Checkpoint `c`; `s.load(c, prefix)` restores them into an object built with the same
/// options and sizes.
///
/// Laws: after `a.save(c, p)` and `b.load(c, p)`, `b` goes on exactly as `a` would have (the same
/// proposals, the same search); load throws a c10::Error naming the entry, and changes nothing a
/// later load depends on, when an entry is missing or malformed.
///
/// Models: every strategy in nas: nas::Darts, nas::Gdas, nas::PcDarts, nas::Enas and nas::Spos
/// (whose save includes their epochs and trials) and nas::RandomSearch, nas::Evolution and
/// nas::Reinforce (whose trials nas::run_trials keeps: save them with nas::save_search).
template <class T>
concept checkpointable = requires(T& s, const T& cs, Checkpoint& c, const Checkpoint& cc,
                                  const std::string& prefix) {
  cs.save(c, prefix);
  s.load(cc, prefix);
};

/// Saves a sampled search as entries `<prefix>.*` of `c`: the strategy's state and the history
/// so far (`<prefix>.history`, JSON lines), which is all nas::load_search needs to resume it.
///
/// ```
/// nas::Checkpoint c;
/// nas::save_search(c, "search", evolution, result.trials);
/// c.save(file);
/// // later, in a new process:
/// auto history = nas::load_search(nas::Checkpoint::load(file), "search", evolution);
/// auto rest = nas::run_trials(evolution, evaluator, {.trials = n, .reuse_history = true}, {}, {},
///                             std::move(history));
/// ```
template <search_strategy T>
  requires checkpointable<T>
void save_search(Checkpoint& c, const std::string& prefix, const T& strategy,
                 const History<typename T::space>& history) {
  strategy.save(c, prefix);
  c.put_text(prefix + ".history", history.jsonl());
}

/// Restores what nas::save_search wrote: loads the strategy and returns the history (give it
/// to nas::run_trials with `reuse_history = true` to go on).
template <search_strategy T>
  requires checkpointable<T>
[[nodiscard]] History<typename T::space> load_search(const Checkpoint& c, const std::string& prefix,
                                                     T& strategy) {
  auto history = History<typename T::space>::parse_jsonl(c.get_text(prefix + ".history"));
  strategy.load(c, prefix);
  return history;
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
