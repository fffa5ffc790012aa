#pragma once
/// @file
/// What ENAS and single-path one-shot share: training a nas::relax::SinglePath supernet's
/// weights on sampled paths, per-epoch reports and the result type.

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "nas/nn/supernet.hpp"
#include "nas/relax/single_path.hpp"
#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/driver.hpp"
#include "nas/strategy/history.hpp"
#include "nas/train/options.hpp"

namespace nas {

/// One epoch of a one-shot search (nas::Enas, nas::Spos).
template <search_space S>
struct OneShotEpoch {
  std::int64_t epoch = 0;  ///< 0-based
  std::int64_t epochs = 0;
  double train_loss = 0.0;      ///< mean over the epoch's weight steps
  double train_accuracy = 0.0;  ///< of the sampled paths on their batches
  double learning_rate = 0.0;
  double mean_reward = 0.0;             ///< ENAS: mean score of the epoch's controller trials
  double baseline = 0.0;                ///< ENAS: the REINFORCE baseline after the epoch
  double entropy = 0.0;                 ///< ENAS: mean entropy of the last controller update
  std::optional<Genotype<S>> genotype;  ///< ENAS: the controller's greedy architecture
  double seconds = 0.0;
  std::int64_t skipped = 0;  ///< weight steps skipped for a non-finite loss
  /// The report as one JSON object (epoch 1-based; numbers read back exactly; the
  /// genotype null when there is none).
  [[nodiscard]] std::string json() const {
    return detail::JsonObject{}
        .integer("epoch", epoch + 1)
        .integer("epochs", epochs)
        .number("train_loss", train_loss)
        .number("train_accuracy", train_accuracy)
        .number("learning_rate", learning_rate)
        .number("mean_reward", mean_reward)
        .number("baseline", baseline)
        .number("entropy", entropy)
        .raw("genotype", genotype ? json::quote(to_string(*genotype)) : std::string("null"))
        .number("seconds", seconds)
        .integer("skipped", skipped)
        .str();
  }
  /// One line for a log.
  [[nodiscard]] std::string line() const {
    char buf[256];
    const int n =
        std::snprintf(buf, sizeof buf, "epoch %lld/%lld train_loss %.4f train_acc %.4f lr %.5f",
                      static_cast<long long>(epoch + 1), static_cast<long long>(epochs), train_loss,
                      train_accuracy, learning_rate);
    std::string s(buf, static_cast<std::size_t>(n));
    if (genotype) {
      const int m = std::snprintf(buf, sizeof buf, " reward %.4f baseline %.4f entropy %.3f",
                                  mean_reward, baseline, entropy);
      s.append(buf, static_cast<std::size_t>(m));
    }
    const int k = std::snprintf(buf, sizeof buf, " s %.1f", seconds);
    s.append(buf, static_cast<std::size_t>(k));
    if (genotype) {
      s += "\n  greedy ";
      s += to_string(*genotype);
    }
    return s;
  }
};

/// Reads what nas::epoch_lines wrote for one-shot reports.
template <search_space S>
[[nodiscard]] std::vector<OneShotEpoch<S>> parse_one_shot_lines(std::string_view text,
                                                                std::string_view what) {
  std::vector<OneShotEpoch<S>> out;
  detail::for_each_line(text, [&](std::string_view line) {
    const json::Value v = json::parse(line);
    OneShotEpoch<S> r;
    r.epoch = detail::json_member_integer(v, "epoch", what) - 1;
    r.epochs = detail::json_member_integer(v, "epochs", what);
    r.train_loss = detail::json_member_number(v, "train_loss", what);
    r.train_accuracy = detail::json_member_number(v, "train_accuracy", what);
    r.learning_rate = detail::json_member_number(v, "learning_rate", what);
    r.mean_reward = detail::json_member_number(v, "mean_reward", what);
    r.baseline = detail::json_member_number(v, "baseline", what);
    r.entropy = detail::json_member_number(v, "entropy", what);
    const json::Value* g = v.find("genotype");
    TORCH_CHECK(g != nullptr && (g->is_null() || g->is_string()), what, ": no 'genotype'");
    if (g->is_string()) r.genotype = parse<S>(g->string);
    r.seconds = detail::json_member_number(v, "seconds", what);
    if (v.find("skipped") != nullptr) r.skipped = detail::json_member_integer(v, "skipped", what);
    out.push_back(std::move(r));
  });
  return out;
}

/// The callbacks of a one-shot search (nas::Enas, nas::Spos): nas::SearchCallbacks with
/// one-shot epoch reports.
template <search_space S>
using OneShotCallbacks = SearchCallbacks<S, OneShotEpoch<S>>;

/// The outcome of a one-shot search (nas::SearchResult): the architecture, its metrics through
/// the shared weights, every trial (controller rewards / evolution) and every weight-training
/// epoch.
template <search_space S>
using OneShotResult = SearchResult<S, OneShotEpoch<S>>;

namespace detail {
/// Trains a single-path supernet's weights, one sampled path per batch.
template <search_space S>
class PathTrainer {
 public:
  using Net = Supernet<S, relax::SinglePath>;

  PathTrainer(Net net, const WeightTraining& options) : net_(std::move(net)), options_(options) {
    TORCH_CHECK(!net_.is_empty(), "a one-shot search needs a supernet (got an empty holder)");
    options.validate("one-shot weight training");
    sgd_ = std::make_unique<torch::optim::SGD>(net_->weight_parameters(),
                                               torch::optim::SGDOptions(options.learning_rate)
                                                   .momentum(options.momentum)
                                                   .nesterov(options.nesterov)
                                                   .weight_decay(options.weight_decay));
  }

  /// One epoch of weight steps; `path()` gives the architecture of each step; `on_step`, if
  /// set, sees every step that was not skipped (index `epoch * steps + step`). Returns the
  /// epoch's report with the training fields and its wall time filled, or nothing when `stop`
  /// was asked to stop before the epoch's last step: the steps done so far are kept (save()
  /// holds them) and the next call for this epoch goes on from there.
  template <class Path>
  std::optional<OneShotEpoch<S>> epoch(
      BatchStream& stream, std::int64_t epoch, std::int64_t epochs, Path&& path,
      const std::function<void(std::int64_t, const StepReport&)>& on_step = {},
      const std::stop_token& stop = {}) {
    const auto start = std::chrono::steady_clock::now();
    OneShotEpoch<S> report;
    report.epoch = epoch;
    report.epochs = epochs;
    const double lr =
        cosine_learning_rate(options_.learning_rate, options_.learning_rate_min, epoch, epochs);
    for (auto& group : sgd_->param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    const auto device = device_of(*net_);
    const std::int64_t steps = options_.steps > 0 ? options_.steps : stream.batches();
    net_->train();
    PartialEpoch done = std::exchange(partial_, {});
    report.skipped = done.skipped;
    for (std::int64_t s = done.steps; s < steps; ++s) {
      if (stop.stop_requested()) {
        done.steps = s;
        done.skipped = report.skipped;
        done.seconds +=
            std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        partial_ = done;
        return std::nullopt;
      }
      auto architecture = path();
      const auto batch = stream.next(device);
      const StepReport r = step(batch, architecture, epoch, s);
      if (r.skipped > 0) {
        ++report.skipped;
        continue;
      }
      if (on_step) on_step(epoch * steps + s, r);
      done.sum.train_loss += r.train_loss * static_cast<double>(r.train_count);
      done.sum.train_correct += r.train_correct;
      done.sum.train_count += r.train_count;
    }
    const auto count = done.sum.train_count;
    const double n = count > 0 ? static_cast<double>(count) : 1.0;
    report.train_loss =
        count > 0 ? done.sum.train_loss / n : std::numeric_limits<double>::quiet_NaN();
    report.train_accuracy = static_cast<double>(done.sum.train_correct) / n;
    report.learning_rate = lr;
    report.seconds =
        done.seconds +
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return report;
  }

  /// One weight step on `batch` through the architecture `path`, at the optimizer's current
  /// learning rate (the network must be in training mode). Returns the training fields of a
  /// nas::StepReport; a non-finite loss either throws nas::NonFiniteLoss (naming `epoch` and
  /// `step` when they are >= 0) or, with `skip_nonfinite`, skips the update and returns
  /// `skipped = 1` with no counts.
  StepReport step(const Batch& batch, const Genotype<S>& path, std::int64_t epoch = -1,
                  std::int64_t step = -1) {
    net_->set_path(path);
    sgd_->zero_grad();
    const auto logits = net_->forward(batch.data);
    const auto loss =
        options_.loss ? options_.loss(logits, batch.target) : cross_entropy(logits, batch.target);
    const double l = loss.template item<double>();
    StepReport report;
    if (!std::isfinite(l)) {
      if (options_.skip_nonfinite) {
        report.train_loss = l;
        report.skipped = 1;
        return report;
      }
      std::string what = "the shared weights' training loss is not finite (";
      what += std::to_string(l);
      what += ")";
      if (epoch >= 0) {
        what += " at epoch ";
        what += std::to_string(epoch + 1);
      }
      if (step >= 0) {
        what += epoch >= 0 ? ", step " : " at step ";
        what += std::to_string(step + 1);
      }
      detail::throw_non_finite(std::move(what));
    }
    loss.backward();
    if (options_.grad_clip > 0.0)
      torch::nn::utils::clip_grad_norm_(net_->weight_parameters(), options_.grad_clip);
    sgd_->step();
    report.train_loss = l;
    report.train_correct = correct(logits, batch.target);
    report.train_count = batch.data.size(0);
    return report;
  }

  /// Puts the supernet in training mode (before steps outside an epoch).
  void train_mode() { net_->train(); }

  [[nodiscard]] torch::optim::SGD& optimizer() noexcept { return *sgd_; }
  [[nodiscard]] const torch::optim::SGD& optimizer() const noexcept { return *sgd_; }

  /// The batch stream of a search that starts or resumes: where load() left it, the earlier
  /// call's on the same data, or new.
  BatchStream& start(const Data& train) {
    // an earlier call's stream on the same data goes on (an interrupted search called again)
    const bool same = stream_ && stream_->draws_from(train, options_.batch_size);
    TORCH_CHECK(pending_ || same || partial_.steps == 0,
                "a one-shot search: the interrupted epoch was on other data; call search() again "
                "with the same training data, or load() a checkpoint");
    if (pending_ || !same) stream_.emplace(train, options_.batch_size);
    if (pending_) {
      stream_->load(*pending_, "pending.stream");
      pending_.reset();
    }
    return *stream_;
  }

  /// Saves what every one-shot search has: the strategy's name, the supernet, the
  /// optimizer, epochs done, epoch reports, trials, where an interrupted epoch stopped, the
  /// batch stream, torch's generator.
  void save(Checkpoint& c, const std::string& prefix, const char* kind,
            const OneShotResult<S>& progress, std::int64_t epochs_done) const {
    TORCH_CHECK(stream_.has_value() || pending_.has_value(), "saving a '", kind,
                "' search before search(): nothing to resume yet (call save in on_epoch)");
    c.put_text(prefix + ".strategy", kind);
    c.put(prefix + ".supernet", *net_);
    c.put(prefix + ".weight_optimizer", *sgd_);
    c.put_int(prefix + ".epochs_done", epochs_done);
    c.put_text(prefix + ".epochs", epoch_lines(progress.epochs));
    c.put_text(prefix + ".history", progress.trials.jsonl());
    partial_.save(c, prefix + ".partial_epoch");
    if (stream_)
      stream_->save(c, prefix + ".stream");
    else
      copy_stream(*pending_, "pending.stream", c, prefix + ".stream");
    c.put_torch_rng(prefix + ".torch_rng");
  }
  /// Restores what save() wrote into `progress`; returns the epochs done.
  std::int64_t load(const Checkpoint& c, const std::string& prefix, const char* kind,
                    std::int64_t planned_epochs, OneShotResult<S>& progress) {
    const auto& saved = c.get_text(prefix + ".strategy");
    TORCH_CHECK(saved == kind, "the checkpoint holds a '", saved, "' search, not a '", kind,
                "' one (resume with the strategy that wrote it)");
    const auto done = c.get_int(prefix + ".epochs_done");
    TORCH_CHECK(done >= 0 && done <= planned_epochs, "the checkpoint has ", done,
                " epochs done; this search plans ", planned_epochs);
    c.get(prefix + ".supernet", *net_);
    c.get(prefix + ".weight_optimizer", *sgd_);
    progress = {};
    progress.epochs = parse_one_shot_lines<S>(c.get_text(prefix + ".epochs"),
                                              "checkpoint entry '" + prefix + ".epochs'");
    progress.trials = History<S>::parse_jsonl(c.get_text(prefix + ".history"));
    partial_ = PartialEpoch::load(c, prefix + ".partial_epoch");
    TORCH_CHECK(partial_.steps == 0 || done < planned_epochs, "checkpoint entry '", prefix,
                ".partial_epoch' continues an epoch after the last");
    pending_.emplace();
    copy_stream(c, prefix + ".stream", *pending_, "pending.stream");
    stream_.reset();
    c.get_torch_rng(prefix + ".torch_rng");
    return done;
  }

 private:
  Net net_;
  WeightTraining options_;
  std::unique_ptr<torch::optim::SGD> sgd_;
  std::optional<BatchStream> stream_;
  std::optional<Checkpoint> pending_;  // where a loaded stream was
  PartialEpoch partial_;               // where an interrupted epoch stopped
};
}  // namespace detail

}  // namespace nas
