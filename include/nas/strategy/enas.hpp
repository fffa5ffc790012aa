#pragma once
/// @file
/// nas::Enas: efficient NAS by parameter sharing (Pham et al., ICML 2018): a controller
/// samples paths of one single-path supernet; the shared weights train on the sampled
/// paths, the controller on their validation accuracy.

#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "nas/controller/controller.hpp"
#include "nas/core/options.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/eval/shared_weights.hpp"
#include "nas/strategy/driver.hpp"
#include "nas/strategy/one_shot.hpp"
#include "nas/strategy/reinforce.hpp"

namespace nas {

/// Options of nas::Enas. Defaults: ENAS's micro search (`cifar10_micro_search.sh`: 150
/// epochs, batch 160, SGD 0.05 cosine to 0.0005 with Nesterov momentum, weight decay 1e-4,
/// gradient clip 5 (ENAS's `grad_bound`); 30 controller updates of 10 children per
/// epoch). ENAS's cosine restarts (T0 = 10, Tmul = 2) are not reproduced: the schedule
/// is one cosine over the epochs.
struct EnasOptions {
  std::int64_t epochs = 150;
  WeightTraining weights{.batch_size = 160,
                         .learning_rate = 0.05,
                         .learning_rate_min = 0.0005,
                         .momentum = 0.9,
                         .nesterov = true,
                         .weight_decay = 1e-4,
                         .grad_clip = 5.0};
  std::size_t controller_steps = 30;       ///< controller updates per epoch
  ReinforceOptions controller{};           ///< children per update, Adam, entropy, baseline
  std::int64_t reward_samples = 0;         ///< validation samples per controller update
                                           ///< (a fresh slice each update; 0: the batch size)
  std::size_t derive_samples = 10;         ///< the end: architectures sampled, best one kept
  std::int64_t derive_valid_samples = 0;   ///< validation samples they are scored on (0: all)
  eval::CostOptions cost{.count = false};  ///< costs added to every trial (for an objective)

  NAS_WITH(epochs)
  NAS_WITH(weights)
  NAS_WITH(controller_steps)
  NAS_WITH(controller)
  NAS_WITH(reward_samples)
  NAS_WITH(derive_samples)
  NAS_WITH(derive_valid_samples)
  NAS_WITH(cost)
};

/// ENAS over a nas::Controller and a nas::relax::SinglePath supernet. Each epoch: (a) one
/// pass of weight steps, each on a path the controller samples; (b) `controller_steps`
/// REINFORCE updates (nas::Reinforce through nas::run_trials), each on `children` paths
/// scored by nas::eval::SharedWeights on a fresh slice of the validation data. At the
/// end, `derive_samples` architectures are sampled and the best on the validation data
/// is the result, as ENAS derives. Every controller trial is in the history (round =
/// epoch).
///
/// ```
/// nas::Supernet<space, nas::relax::SinglePath> net(stack);
/// nas::Controller<space> controller;
/// nas::Enas<space> enas(net, controller, {.epochs = 10});
/// auto result = enas.search(train, valid);
/// ```
template <search_space S>
class Enas {
 public:
  using Net = Supernet<S, relax::SinglePath>;

  Enas(Net net, Controller<S> controller, EnasOptions options = {})
      : net_(std::move(net)),
        options_(options),
        trainer_(net_, options.weights),
        reinforce_(std::move(controller), options.controller) {
    TORCH_CHECK(options.epochs >= 1, "nas::Enas: epochs must be at least 1");
    TORCH_CHECK(options.controller_steps >= 1 && options.derive_samples >= 1,
                "nas::Enas: controller_steps and derive_samples must be at least 1");
    TORCH_CHECK(options.reward_samples >= 0 && options.derive_valid_samples >= 0,
                "nas::Enas: sample counts must be >= 0");
  }

  /// The whole search; `objective` turns metrics into rewards (accuracy by default).
  /// Resumable as nas::Darts::search: it goes on after the last completed epoch (call
  /// save() in `callbacks.on_epoch` to checkpoint every epoch). Asked to stop
  /// (`callbacks.stop`), it returns with StopReason::interrupted before its next weight step,
  /// or after the epoch's controller steps when asked during them; save() holds where.
  template <objective O = objectives::Accuracy>
  OneShotResult<S> search(const Data& train, const Data& valid,
                          const OneShotCallbacks<S>& callbacks = {}, const O& score = {}) {
    train.check("nas::Enas (training data)");
    valid.check("nas::Enas (validation data)");
    OneShotResult<S>& result = progress_;
    BatchStream& stream = trainer_.start(train);
    const std::int64_t per_reward =
        options_.reward_samples > 0 ? options_.reward_samples : options_.weights.batch_size;
    TrialCallbacks<S> trial_callbacks{.on_trial = callbacks.on_trial};
    result.stop = StopReason::completed;
    for (std::int64_t epoch = next_epoch_; epoch < options_.epochs; ++epoch) {
      // stopped during the weight steps: save() holds them; the controller's steps of this
      // epoch run in full once it goes on (they are short: a validation batch per child)
      auto trained = trainer_.epoch(
          stream, epoch, options_.epochs, [&] { return reinforce_.propose(); }, callbacks.on_step,
          callbacks.stop);
      if (!trained) {
        result.stop = StopReason::interrupted;
        return result;
      }
      OneShotEpoch<S> report = *trained;  // its seconds: the weight steps', before a stop too
      const auto controller_start = std::chrono::steady_clock::now();
      double reward_sum = 0.0;
      std::size_t rewards = 0;
      for (std::size_t step = 0; step < options_.controller_steps; ++step) {
        if (valid_at_ >= valid.size()) valid_at_ = 0;
        const auto end = std::min(valid.size(), valid_at_ + per_reward);
        eval::SharedWeights<S> evaluator(net_, valid.slice(valid_at_, end),
                                         {.cost = options_.cost});
        valid_at_ = end;
        const auto before = result.trials.size();
        auto run = run_trials(reinforce_, evaluator,
                              {.trials = options_.controller.children, .round = epoch}, score,
                              trial_callbacks, std::move(result.trials));
        result.trials = std::move(run.trials);
        for (std::size_t i = before; i < result.trials.size(); ++i) {
          reward_sum += result.trials[i].metrics.accuracy;
          ++rewards;
        }
      }
      report.mean_reward = reward_sum / static_cast<double>(rewards);
      report.baseline = reinforce_.baseline();
      report.entropy = reinforce_.last_update().entropy;
      report.genotype = reinforce_.controller()->greedy();
      report.seconds +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - controller_start)
              .count();
      result.epochs.push_back(report);
      next_epoch_ = epoch + 1;
      if (callbacks.on_epoch) callbacks.on_epoch(report);
      if (callbacks.stop.stop_requested() && next_epoch_ < options_.epochs) {
        result.stop = StopReason::interrupted;
        return result;
      }
    }
    // derive: sample candidates, keep the best on the validation data
    eval::SharedWeights<S> judge(net_, valid,
                                 {.samples = options_.derive_valid_samples, .cost = options_.cost});
    std::optional<std::pair<double, Genotype<S>>> best;
    for (std::size_t i = 0; i < options_.derive_samples; ++i) {
      Genotype<S> g = reinforce_.propose();
      const Metrics m = judge(g);
      const double s = score(m);
      if (!best || s > best->first) {
        best = {s, g};
        result.metrics = m;
      }
    }
    result.genotype = best->second;
    net_->set_path(result.genotype);
    return result;
  }

  /// One step of the shared weights on `train` through a path the controller samples: the
  /// step search() runs `weights.steps` times per epoch (the whole training data by default),
  /// at the weight optimizer's current learning rate (`weights.learning_rate` before the first
  /// epoch; the cosine schedule sets it per epoch). Returns the step's training loss and counts
  /// (nas::StepReport; `skipped` = 1 for a non-finite loss under `skip_nonfinite`). The
  /// controller samples with its own generator, so steps between searches move where a
  /// resumed search would be; checkpoint with save() as usual.
  StepReport step(const Batch& train) {
    trainer_.train_mode();
    return trainer_.step(train, reinforce_.propose());
  }

  /// Epochs completed so far (by search, or restored by load).
  [[nodiscard]] std::int64_t epochs_done() const noexcept { return next_epoch_; }

  /// Saves the whole search state as entries `<prefix>.*`: the shared weights, their
  /// optimizer, the controller with its optimizer, baseline and generator, every trial
  /// and epoch report, where the batch stream and the validation slices are, and torch's
  /// CPU generator. Call it between epochs (in `on_epoch`) or after an interrupted search().
  void save(Checkpoint& c, const std::string& prefix) const {
    trainer_.save(c, prefix, "enas", progress_, next_epoch_);
    reinforce_.save(c, prefix + ".controller");
    c.put_int(prefix + ".valid_at", valid_at_);
  }
  /// Restores what save() wrote; the next search() goes on from there.
  void load(const Checkpoint& c, const std::string& prefix) {
    next_epoch_ = trainer_.load(c, prefix, "enas", options_.epochs, progress_);
    reinforce_.load(c, prefix + ".controller");
    valid_at_ = c.get_int(prefix + ".valid_at");
  }

  [[nodiscard]] Reinforce<S>& reinforce() noexcept { return reinforce_; }
  [[nodiscard]] Net& supernet() noexcept { return net_; }

 private:
  Net net_;
  EnasOptions options_;
  detail::PathTrainer<S> trainer_;
  Reinforce<S> reinforce_;
  OneShotResult<S> progress_;
  std::int64_t next_epoch_ = 0;
  std::int64_t valid_at_ = 0;
};

}  // namespace nas
