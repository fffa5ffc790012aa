#pragma once
/// @file
/// nas::RandomSearch: uniform samples of the space (Li & Talwalkar, UAI 2019: with
/// shared weights, the RSPS baseline).

#include <cstdint>
#include <string>

#include "nas/core/options.hpp"
#include "nas/core/random.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"
#include "nas/train/checkpoint.hpp"

namespace nas {

/// Options of nas::RandomSearch.
struct RandomSearchOptions {
  std::uint64_t seed = 0;  ///< seeds the sampling (nas::Rng)

  NAS_WITH(seed)
};

/// Random search: every proposal is a uniformly random architecture of `S`
/// (nas::sample). Run it with nas::run_trials and any evaluator; with
/// nas::eval::SharedWeights it is random search with parameter sharing (RSPS).
/// Models nas::search_strategy.
template <search_space S>
class RandomSearch {
 public:
  using space = S;
  explicit RandomSearch(RandomSearchOptions options = {}) : rng_(options.seed) {}
  [[nodiscard]] Genotype<S> propose() { return sample<S>(rng_); }
  void observe(const Trial<S>&) {}

  /// Writes the strategy's state into `c` under `prefix` (its generator).
  void save(Checkpoint& c, const std::string& prefix) const { c.put_rng(prefix + ".rng", rng_); }
  /// Restores the state save() wrote.
  void load(const Checkpoint& c, const std::string& prefix) { c.get_rng(prefix + ".rng", rng_); }

 private:
  Rng rng_;
};

}  // namespace nas
