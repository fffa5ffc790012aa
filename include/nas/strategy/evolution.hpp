#pragma once
/// @file
/// nas::Evolution: regularized (aging) evolution (Real et al., AAAI 2019).

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <vector>

#include "nas/core/options.hpp"
#include "nas/core/random.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"
#include "nas/strategy/state.hpp"
#include "nas/train/checkpoint.hpp"

namespace nas {

/// Options of nas::Evolution (defaults: a population of 50 and tournaments of 10; Real et
/// al. used P = 100, S = 25 on the NASNet space and smaller values in their baselines).
struct EvolutionOptions {
  std::size_t population = 50;  ///< P: architectures alive at a time
  std::size_t sample = 10;      ///< S: tournament size
  std::uint64_t seed = 0;       ///< seeds sampling, tournaments and mutations (nas::Rng)

  NAS_WITH(population)
  NAS_WITH(sample)
  NAS_WITH(seed)
};

/// Regularized evolution: the first P proposals are uniformly random (or the architectures given
/// to seed_population, a zero-cost warm start); after that each
/// proposal is a one-step mutation (nas::mutate) of the best of S architectures drawn
/// uniformly (with replacement) from the population. Every observed architecture joins
/// the population and, once it holds more than P, the oldest dies, whatever its score.
/// Models nas::search_strategy.
template <search_space S>
class Evolution {
 public:
  using space = S;
  explicit Evolution(EvolutionOptions options = {}) : options_(options), rng_(options.seed) {
    TORCH_CHECK(options.population >= 1 && options.sample >= 1,
                "nas::Evolution: population and sample must be at least 1; got ",
                options.population, " and ", options.sample);
    TORCH_CHECK(options.sample <= options.population, "nas::Evolution: the tournament sample (",
                options.sample, ") cannot exceed the population (", options.population, ")");
  }

  /// Zero-cost warm start: the first proposals are `initial`, in order, instead of uniform
  /// samples (the rest of the first P stay uniform); for example the cells a proxy scores best
  /// (nas::eval::best_of_random). Call it before the first proposal; at most P of them.
  void seed_population(std::vector<Genotype<S>> initial) {
    TORCH_CHECK(proposed_ == 0,
                "nas::Evolution::seed_population: call it before the first proposal");
    TORCH_CHECK(initial.size() <= options_.population,
                "nas::Evolution::seed_population: ", initial.size(),
                " architectures for a population of ", options_.population);
    for (const auto& g : initial) g.validate();
    initial_ = std::move(initial);
  }

  [[nodiscard]] Genotype<S> propose() {
    const std::size_t n = proposed_++;
    if (n < options_.population || population_.empty())
      return n < initial_.size() ? initial_[n] : sample<S>(rng_);
    const Member* parent = nullptr;
    for (std::size_t i = 0; i < options_.sample; ++i) {
      const Member& m = population_[uniform_below(rng_, population_.size())];
      if (parent == nullptr || m.score > parent->score) parent = &m;
    }
    return mutate(parent->genotype, rng_);
  }

  void observe(const Trial<S>& t) {
    population_.push_back({t.genotype, t.score});
    if (population_.size() > options_.population) population_.pop_front();
  }

  /// Writes the strategy's state into `c` under `prefix`: generator, proposal count and
  /// population (scores and genotypes, oldest first).
  void save(Checkpoint& c, const std::string& prefix) const {
    c.put_rng(prefix + ".rng", rng_);
    c.put_int(prefix + ".proposed", static_cast<std::int64_t>(proposed_));
    std::vector<std::pair<double, Genotype<S>>> items;
    for (const auto& m : population_) items.emplace_back(m.score, m.genotype);
    c.put_text(prefix + ".population", detail::scored_lines(items));
    std::vector<std::pair<double, Genotype<S>>> initial;
    for (const auto& g : initial_) initial.emplace_back(0.0, g);
    c.put_text(prefix + ".initial", detail::scored_lines(initial));
  }
  /// Restores the state save() wrote.
  void load(const Checkpoint& c, const std::string& prefix) {
    c.get_rng(prefix + ".rng", rng_);
    const auto proposed = c.get_int(prefix + ".proposed");
    TORCH_CHECK(proposed >= 0, "nas::Evolution::load: a negative proposal count");
    proposed_ = static_cast<std::size_t>(proposed);
    population_.clear();
    for (auto& [score, g] :
         detail::parse_scored_lines<S>(c.get_text(prefix + ".population"), "nas::Evolution::load"))
      population_.push_back({g, score});
    initial_.clear();  // a checkpoint written before seed_population existed has none
    if (c.contains(prefix + ".initial"))
      for (auto& item :
           detail::parse_scored_lines<S>(c.get_text(prefix + ".initial"), "nas::Evolution::load"))
        initial_.push_back(std::move(item.second));
  }

  /// The architectures alive, oldest first, with their scores.
  struct Member {
    Genotype<S> genotype;
    double score = 0.0;
  };
  [[nodiscard]] const std::deque<Member>& population() const noexcept { return population_; }

 private:
  EvolutionOptions options_;
  Rng rng_;
  std::size_t proposed_ = 0;
  std::deque<Member> population_;
  std::vector<Genotype<S>> initial_;  // seed_population's, proposed first
};

}  // namespace nas
