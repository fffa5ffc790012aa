// custom_strategy: a search strategy written by a user, plugged into nas's driver.
//
// A strategy is any type with `using space = ...`, `propose()` (the next architecture) and
// `observe(trial)` (its result): it then models nas::search_strategy and nas::run_trials runs
// it with any evaluator and objective, caching repeated architectures and recording a history.
// This one is a first-improvement hill climber over NAS-Bench-201: it mutates the best
// architecture seen so far and restarts from a random one after `patience` failures.
//
// The evaluator here is a stand-in with a known optimum, so the example runs in a blink;
// replace it with nas::eval::FromScratch (train each child) or nas::eval::SharedWeights
// (score it through a supernet) for a real search.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>

#include <nas/nas.hpp>

using space = nas::spaces::nb201;

class HillClimb {
 public:
  using space = ::space;  // the space it searches

  explicit HillClimb(std::uint64_t seed, std::size_t patience = 8)
      : rng_(seed), patience_(patience) {}

  nas::Genotype<space> propose() {
    if (!current_ || failures_ >= patience_) {  // start, or restart from a random point
      failures_ = 0;
      restarting_ = true;
      return nas::sample<space>(rng_);
    }
    return nas::mutate(current_->genotype, rng_);  // one edge's op changes
  }

  void observe(const nas::Trial<space>& t) {
    if (restarting_ || t.score > current_->score) {  // climb
      current_ = t;
      restarting_ = false;
      failures_ = 0;
    } else {
      ++failures_;
    }
  }

 private:
  nas::Rng rng_;
  std::size_t patience_;
  std::size_t failures_ = 0;
  bool restarting_ = false;
  std::optional<nas::Trial<space>> current_;  // the point the climb is at
};
static_assert(nas::search_strategy<HillClimb>);

// A stand-in evaluator: an "accuracy" that rewards 3x3 convolutions near the output and
// penalizes `none`, with its optimum at the all-nor_conv_3x3 cell. It also reports a cost,
// so objectives that trade accuracy for size work with it.
nas::Metrics stand_in(const nas::Genotype<space>& g) {
  const auto& cell = g.cell<"cell">();
  double accuracy = 0.5;
  std::int64_t parameters = 1000;
  for (std::size_t e = 0; e < space::edge_count; ++e) {
    const auto op = *cell.op_name(e);
    const double weight = 0.02 * static_cast<double>(1 + space::cell<"cell">::edges[e].to);
    if (op == "nor_conv_3x3") {
      accuracy += weight;
      parameters += 9 * 16 * 16;
    } else if (op == "nor_conv_1x1") {
      accuracy += weight / 2;
      parameters += 16 * 16;
    } else if (op == "none") {
      accuracy -= weight;
    }
  }
  return {.accuracy = accuracy, .parameters = parameters};
}

int main() {
  auto evaluator = [](const nas::Genotype<space>& g) { return stand_in(g); };
  HillClimb climb(/*seed=*/1);
  const auto mine = nas::run_trials(climb, evaluator, {.trials = 60});
  nas::RandomSearch<space> random({.seed = 1});
  const auto baseline = nas::run_trials(random, evaluator, {.trials = 60});

  std::printf("hill climbing: best %.2f after %zu evaluations: %s\n", mine.best().score,
              mine.trials.evaluations(), nas::to_string(mine.genotype).c_str());
  std::printf("random search: best %.2f after %zu evaluations: %s\n", baseline.best().score,
              baseline.trials.evaluations(), nas::to_string(baseline.genotype).c_str());

  // the same strategy under a size budget: architectures over 5,000 parameters are rejected
  HillClimb budgeted(/*seed=*/1);
  const auto small =
      nas::run_trials(budgeted, evaluator, {.trials = 60}, nas::objectives::Budget{.limit = 5000});
  std::printf("hill climbing, at most 5000 parameters: best %.2f with %lld parameters: %s\n",
              small.best().score, static_cast<long long>(*small.best().metrics.parameters),
              nas::to_string(small.genotype).c_str());
  return 0;
}
