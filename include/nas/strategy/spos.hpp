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
        rng_(options.seed),
        evolution_(options.evolution) {
    TORCH_CHECK(options.epochs >= 0, "nas::Spos: epochs must be >= 0");
    TORCH_CHECK(options.trials >= 1, "nas::Spos: trials must be at least 1");
    TORCH_CHECK(options.valid_samples >= 0, "nas::Spos: valid_samples must be >= 0");
  }

  /// The whole search. Resumable as nas::Darts::search: it goes on after the last
  /// completed epoch or trial (call save() in `callbacks.on_epoch` and `on_trial`).
  template <objective O = objectives::Accuracy>
  OneShotResult<S> search(const Data& train, const Data& valid,
                          const OneShotCallbacks<S>& callbacks = {}, const O& score = {}) {
    train.check("nas::Spos (training data)");
    valid.check("nas::Spos (validation data)");
    stream_.emplace(train, options_.weights.batch_size);
    if (pending_) {
      stream_->load(*pending_, "pending.stream");
      pending_.reset();
    }
    for (std::int64_t epoch = next_epoch_; epoch < options_.epochs; ++epoch) {
      const auto report =
          trainer_.epoch(*stream_, epoch, options_.epochs, [&] { return sample<S>(rng_); });
      progress_.epochs.push_back(report);
      next_epoch_ = epoch + 1;
      if (callbacks.on_epoch) callbacks.on_epoch(report);
    }
    eval::SharedWeights<S> evaluator(net_, valid,
                                     {.samples = options_.valid_samples, .cost = options_.cost});
    const std::size_t done = progress_.history.size();
    TrialResult<S> run;
    if (done < options_.trials) {
      // progress_.history follows the trials as they end, so save() in on_trial holds them
      TrialCallbacks<S> on{[&](const Trial<S>& t, const Trial<S>& best) {
        progress_.history.push(t);
        if (callbacks.on_trial) callbacks.on_trial(t, best);
      }};
      History<S> before = progress_.history;
      run = run_trials(
          evolution_, evaluator,
          {.trials = options_.trials - done, .round = options_.epochs, .reuse_history = done > 0},
          score, on, std::move(before));
    } else {
      run.history = progress_.history;
      run.best = *run.history.best();
      run.genotype = run.best.genotype;
    }
    OneShotResult<S> result = progress_;
    result.genotype = run.genotype;
    result.metrics = run.best.metrics;
    result.history = std::move(run.history);
    net_->set_path(result.genotype);
    return result;
  }

  /// Saves the whole search state as entries `<prefix>.*`: shared weights, optimizer,
  /// path generator, epoch reports, the evolution's population and every trial, where
  /// the batch stream is, and torch's CPU generator.
  void save(Checkpoint& c, const std::string& prefix) const {
    TORCH_CHECK(stream_.has_value() || pending_.has_value(),
                "nas::Spos::save before search(): nothing to resume yet (call it in on_epoch)");
    c.put_text(prefix + ".strategy", "spos");
    c.put(prefix + ".supernet", *net_);
    c.put(prefix + ".weight_optimizer", trainer_.optimizer());
    c.put_rng(prefix + ".rng", rng_);
    evolution_.save(c, prefix + ".evolution");
    c.put_int(prefix + ".epochs_done", next_epoch_);
    c.put_text(prefix + ".epochs", epoch_lines(progress_.epochs));
    c.put_text(prefix + ".history", progress_.history.jsonl());
    if (stream_)
      stream_->save(c, prefix + ".stream");
    else
      detail::copy_stream(*pending_, "pending.stream", c, prefix + ".stream");
    c.put_torch_rng(prefix + ".torch_rng");
  }
  /// Restores what save() wrote; the next search() goes on from there.
  void load(const Checkpoint& c, const std::string& prefix) {
    const auto& kind = c.get_text(prefix + ".strategy");
    TORCH_CHECK(kind == "spos", "the checkpoint holds a '", kind,
                "' search; this is nas::Spos (resume with the strategy that wrote it)");
    const auto done = c.get_int(prefix + ".epochs_done");
    TORCH_CHECK(done >= 0 && done <= options_.epochs, "the checkpoint has ", done,
                " epochs done; this search plans ", options_.epochs);
    c.get(prefix + ".supernet", *net_);
    c.get(prefix + ".weight_optimizer", trainer_.optimizer());
    c.get_rng(prefix + ".rng", rng_);
    evolution_.load(c, prefix + ".evolution");
    progress_ = {};
    progress_.epochs =
        parse_one_shot_lines<S>(c.get_text(prefix + ".epochs"), "checkpoint (SPOS epochs)");
    progress_.history = History<S>::parse_jsonl(c.get_text(prefix + ".history"));
    TORCH_CHECK(progress_.history.size() <= options_.trials, "the checkpoint has ",
                progress_.history.size(), " trials; this search plans ", options_.trials);
    next_epoch_ = done;
    pending_.emplace();
    detail::copy_stream(c, prefix + ".stream", *pending_, "pending.stream");
    stream_.reset();
    c.get_torch_rng(prefix + ".torch_rng");
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
  std::optional<BatchStream> stream_;
  std::optional<Checkpoint> pending_;
};

}  // namespace nas
