#pragma once
/// @file
/// nas::Spos: single-path one-shot (Guo et al., ECCV 2020): train a single-path supernet
/// on uniformly sampled paths, then search it with evolution through the shared weights.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstdint>
#include <utility>

#include "nas/core/random.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/eval/shared_weights.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/strategy/driver.hpp"
#include "nas/strategy/evolution.hpp"
#include "nas/strategy/one_shot.hpp"

namespace nas {

/// Options of nas::Spos. SPOS's ImageNet recipe (120 epochs, batch 1024, SGD 0.5 linear
/// decay) does not fit a CIFAR-size supernet; the weight defaults are DARTS's search
/// settings. The search: SPOS evaluated 1,000 architectures (20 generations of 50);
/// here 1,000 trials of regularized evolution (population 50, tournaments of 10).
struct SposOptions {
  std::int64_t epochs = 50;
  WeightTraining weights{};
  EvolutionOptions evolution{};
  std::size_t trials = 1000;
  std::int64_t valid_samples = 0;          ///< validation samples each trial is scored on (0: all)
  std::uint64_t seed = 0;                  ///< seeds the uniform path sampling
  eval::CostOptions cost{.count = false};  ///< costs added to every trial (for an objective)
};

/// Single-path one-shot: `epochs` of weight training, each step on a uniformly random
/// path (nas::sample), then nas::Evolution for `trials` trials through
/// nas::eval::SharedWeights. The result is the evolution's best trial.
template <search_space S>
class Spos {
 public:
  using Net = Supernet<S, relax::SinglePath>;

  explicit Spos(Net net, SposOptions options = {})
      : net_(std::move(net)),
        options_(options),
        trainer_(net_, options.weights),
        rng_(options.seed) {
    TORCH_CHECK(options.epochs >= 0, "nas::Spos: epochs must be >= 0");
    TORCH_CHECK(options.trials >= 1, "nas::Spos: trials must be at least 1");
    TORCH_CHECK(options.valid_samples >= 0, "nas::Spos: valid_samples must be >= 0");
  }

  template <objective O = objectives::Accuracy>
  OneShotResult<S> search(const Data& train, const Data& valid,
                          const OneShotCallbacks<S>& callbacks = {}, const O& score = {}) {
    train.check("nas::Spos (training data)");
    valid.check("nas::Spos (validation data)");
    OneShotResult<S> result;
    BatchStream stream(train, options_.weights.batch_size);
    for (std::int64_t epoch = 0; epoch < options_.epochs; ++epoch) {
      const auto report =
          trainer_.epoch(stream, epoch, options_.epochs, [&] { return sample<S>(rng_); });
      result.epochs.push_back(report);
      if (callbacks.on_epoch) callbacks.on_epoch(report);
    }
    eval::SharedWeights<S> evaluator(net_, valid,
                                     {.samples = options_.valid_samples, .cost = options_.cost});
    Evolution<S> evolution(options_.evolution);
    auto run =
        run_trials(evolution, evaluator, {.trials = options_.trials, .round = options_.epochs},
                   score, TrialCallbacks<S>{callbacks.on_trial});
    result.genotype = run.genotype;
    result.metrics = run.best.metrics;
    result.history = std::move(run.history);
    net_->set_path(result.genotype);
    return result;
  }

  [[nodiscard]] Net& supernet() noexcept { return net_; }

 private:
  Net net_;
  SposOptions options_;
  detail::PathTrainer<S> trainer_;
  Rng rng_;
};

}  // namespace nas
