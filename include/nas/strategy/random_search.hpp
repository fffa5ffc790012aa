#pragma once
/// @file
/// nas::RandomSearch: uniform samples of the space (Li & Talwalkar, UAI 2019: with
/// shared weights, the RSPS baseline).

#include <cstdint>

#include "nas/core/random.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"

namespace nas {

/// Options of nas::RandomSearch.
struct RandomSearchOptions {
  std::uint64_t seed = 0;  ///< seeds the sampling (nas::Rng)
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

 private:
  Rng rng_;
};

}  // namespace nas
