#pragma once
/// @file
/// nas::Spos: single-path one-shot (Guo et al., ECCV 2020): train a single-path supernet
/// on uniformly sampled paths, then search it with evolution through the shared weights.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "nas/core/options.hpp"
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

  NAS_WITH(epochs)
  NAS_WITH(weights)
  NAS_WITH(evolution)
  NAS_WITH(trials)
  NAS_WITH(valid_samples)
  NAS_WITH(seed)
  NAS_WITH(cost)
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
        rng_(options.seed),
        evolution_(options.evolution) {
    TORCH_CHECK(options.epochs >= 0, "nas::Spos: epochs must be >= 0");
    TORCH_CHECK(options.trials >= 1, "nas::Spos: trials must be at least 1");
    TORCH_CHECK(options.valid_samples >= 0, "nas::Spos: valid_samples must be >= 0");
  }

  /// The whole search. Resumable as nas::Darts::search: it goes on after the last
  /// completed epoch or trial (call save() in `callbacks.on_epoch` and `on_trial`). Asked to
  /// stop (`callbacks.stop`), it returns with StopReason::interrupted before its next weight
  /// step or trial; save() holds where.
  template <objective O = objectives::Accuracy>
  OneShotResult<S> search(const Data& train, const Data& valid,
                          const OneShotCallbacks<S>& callbacks = {}, const O& score = {}) {
    train.check("nas::Spos (training data)");
    valid.check("nas::Spos (validation data)");
    BatchStream& stream = trainer_.start(train);
    progress_.stop = StopReason::completed;
    const auto interrupted = [&] {
      OneShotResult<S> r = progress_;
      r.stop = StopReason::interrupted;
      return r;
    };
    for (std::int64_t epoch = next_epoch_; epoch < options_.epochs; ++epoch) {
      const auto report = trainer_.epoch(
          stream, epoch, options_.epochs, [&] { return sample<S>(rng_); }, callbacks.on_step,
          callbacks.stop);
      if (!report) return interrupted();
      progress_.epochs.push_back(*report);
      next_epoch_ = epoch + 1;
      if (callbacks.on_epoch) callbacks.on_epoch(*report);
    }
    eval::SharedWeights<S> evaluator(net_, valid,
                                     {.samples = options_.valid_samples, .cost = options_.cost});
    const std::size_t done = progress_.trials.size();
    TrialResult<S> run;
    if (done < options_.trials) {
      // progress_.trials follows the trials as they end, so save() in on_trial holds them
      TrialCallbacks<S> on{.on_trial =
                               [&](const Trial<S>& t, const Trial<S>& best) {
                                 progress_.trials.push(t);
                                 if (callbacks.on_trial) callbacks.on_trial(t, best);
                               },
                           .stop = callbacks.stop};
      History<S> before = progress_.trials;
      run = run_trials(
          evolution_, evaluator,
          {.trials = options_.trials - done, .round = options_.epochs, .reuse_history = done > 0},
          score, on, std::move(before));
      if (run.stop == StopReason::interrupted) return interrupted();
    } else {
      run.trials = progress_.trials;
    }
    OneShotResult<S> result = progress_;
    const Trial<S>& best = run.best();
    result.genotype = best.genotype;
    result.metrics = best.metrics;
    result.trials = std::move(run.trials);  // after `best` is read: it points into run.trials
    net_->set_path(result.genotype);
    return result;
  }

  /// Saves the whole search state as entries `<prefix>.*`: shared weights, optimizer,
  /// path generator, epoch reports, the evolution's population and every trial, where
  /// the batch stream is, and torch's CPU generator.
  void save(Checkpoint& c, const std::string& prefix) const {
    trainer_.save(c, prefix, "spos", progress_, next_epoch_);
    c.put_rng(prefix + ".rng", rng_);
    evolution_.save(c, prefix + ".evolution");
  }
  /// Restores what save() wrote; the next search() goes on from there.
  void load(const Checkpoint& c, const std::string& prefix) {
    next_epoch_ = trainer_.load(c, prefix, "spos", options_.epochs, progress_);
    TORCH_CHECK(progress_.trials.size() <= options_.trials, "the checkpoint has ",
                progress_.trials.size(), " trials; this search plans ", options_.trials);
    c.get_rng(prefix + ".rng", rng_);
    evolution_.load(c, prefix + ".evolution");
  }

  /// One step of the shared weights on `train` through a uniformly sampled path (nas::sample
  /// with the search's generator): the step search() runs `weights.steps` times per epoch, at
  /// the weight optimizer's current learning rate. Returns the step's training loss and counts
  /// (nas::StepReport; `skipped` = 1 for a non-finite loss under `skip_nonfinite`).
  StepReport step(const Batch& train) {
    trainer_.train_mode();
    return trainer_.step(train, sample<S>(rng_));
  }

  /// Epochs of weight training completed so far.
  [[nodiscard]] std::int64_t epochs_done() const noexcept { return next_epoch_; }

  [[nodiscard]] Net& supernet() noexcept { return net_; }

 private:
  Net net_;
  SposOptions options_;
  detail::PathTrainer<S> trainer_;
  Rng rng_;
  Evolution<S> evolution_;
  OneShotResult<S> progress_;
  std::int64_t next_epoch_ = 0;
};

}  // namespace nas
