#pragma once
/// @file
/// The machinery nas::Darts and nas::Gdas share: the two optimizers, the weight step,
/// the learning-rate schedule and the epoch loop.

#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/adam.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "nas/nn/supernet.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/derive.hpp"

namespace nas::detail {

/// The shared part of a bilevel (weights / architecture) strategy. `Derived` provides
/// `step(train, valid)` and `begin_epoch(epoch)`.
template <class Derived, search_space S, relaxation R, class Options>
class Bilevel {
  static_assert(R::learns_architecture,
                "nas::Darts and nas::Gdas learn architecture parameters: give them a supernet "
                "whose relaxation learns some (nas::relax::Softmax, nas::relax::Gumbel), not "
                "nas::relax::SinglePath");

 public:
  using space = S;

  /// The supernet being searched.
  [[nodiscard]] Supernet<S, R>& supernet() noexcept { return net_; }
  [[nodiscard]] const Options& options() const noexcept { return options_; }
  [[nodiscard]] torch::optim::SGD& weight_optimizer() noexcept { return weights_; }
  [[nodiscard]] torch::optim::Adam& arch_optimizer() noexcept { return arch_; }

  /// Sets the epoch (0-based): the cosine learning rate of the weights, and whatever the
  /// strategy schedules per epoch (GDAS: the temperature).
  void set_epoch(std::int64_t epoch) {
    TORCH_CHECK(epoch >= 0 && epoch < options_.epochs, "epoch ", epoch, " out of range [0, ",
                options_.epochs, ")");
    epoch_ = epoch;
    const double lr = cosine_learning_rate(options_.learning_rate, options_.learning_rate_min,
                                           epoch, options_.epochs);
    for (auto& group : weights_.param_groups())
      static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
    static_cast<Derived&>(*this).begin_epoch(epoch);
  }
  /// The weights' learning rate in force.
  [[nodiscard]] double learning_rate() {
    return static_cast<torch::optim::SGDOptions&>(weights_.param_groups().front().options()).lr();
  }

  /// The architecture the supernet's parameters stand for now (nas::derive with the
  /// options' derivation rule).
  [[nodiscard]] Genotype<S> genotype() const { return derive(*net_, options_.derive); }

  /// Runs the whole search: `train` feeds the weight steps, `valid` the architecture
  /// steps; each epoch has as many steps as `train` has batches. Batches go to the
  /// supernet's device. Returns the final derived architecture and every epoch's report.
  SearchResult<S> search(const Data& train, const Data& valid, const Callbacks<S>& callbacks = {}) {
    BatchStream train_batches(train, options_.batch_size);
    BatchStream valid_batches(valid, options_.batch_size);
    SearchResult<S> result;
    std::int64_t step = 0;
    for (std::int64_t epoch = 0; epoch < options_.epochs; ++epoch) {
      const auto start = std::chrono::steady_clock::now();
      set_epoch(epoch);
      net_->train();
      EpochReport<S> report;
      report.epoch = epoch;
      report.epochs = options_.epochs;
      report.learning_rate = learning_rate();
      report.tau = static_cast<Derived&>(*this).tau();
      StepReport sum;
      const auto device = device_of(*net_);
      for (std::int64_t i = 0; i < train_batches.batches(); ++i) {
        const Batch t = train_batches.next(device);
        const Batch v = valid_batches.next(device);
        const StepReport r = static_cast<Derived&>(*this).step(t, v);
        sum.train_loss += r.train_loss * static_cast<double>(r.train_count);
        sum.valid_loss += r.valid_loss * static_cast<double>(r.valid_count);
        sum.train_correct += r.train_correct;
        sum.train_count += r.train_count;
        sum.valid_correct += r.valid_correct;
        sum.valid_count += r.valid_count;
        if (callbacks.on_step) callbacks.on_step(step, r);
        ++step;
      }
      const auto ratio = [](double a, std::int64_t n) {
        return n == 0 ? 0.0 : a / static_cast<double>(n);
      };
      report.train_loss = ratio(sum.train_loss, sum.train_count);
      report.valid_loss = ratio(sum.valid_loss, sum.valid_count);
      report.train_accuracy = ratio(static_cast<double>(sum.train_correct), sum.train_count);
      report.valid_accuracy = ratio(static_cast<double>(sum.valid_correct), sum.valid_count);
      report.genotype = genotype();
      report.parameter_free_ops = parameter_free_count(*net_, report.genotype);
      report.identity_ops = identity_count(report.genotype);
      report.seconds =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      result.history.push_back(report);
      if (callbacks.on_epoch) callbacks.on_epoch(report);
      result.genotype = report.genotype;
      if (options_.stop_at_identity_ops > 0 &&
          max_identity_per_cell(report.genotype) >= options_.stop_at_identity_ops) {
        result.stop = StopReason::identity_ops;
        break;
      }
    }
    if (result.history.empty()) result.genotype = genotype();
    return result;
  }

  /// Splits `train` by `options.train_portion` (weights on the first part, architecture
  /// on the rest) and runs the whole search.
  SearchResult<S> search(const Data& train, const Callbacks<S>& callbacks = {}) {
    auto [weights, architecture] = split(train, options_.train_portion);
    return search(weights, architecture, callbacks);
  }

 protected:
  Bilevel(Supernet<S, R> net, const Options& options)
      : net_(std::move(net)),
        options_(checked(options)),
        weights_(net_->weight_parameters(), torch::optim::SGDOptions(options.learning_rate)
                                                .momentum(options.momentum)
                                                .weight_decay(options.weight_decay)),
        arch_(net_->arch_parameters(), torch::optim::AdamOptions(options.arch_learning_rate)
                                           .betas({options.arch_beta1, options.arch_beta2})
                                           .weight_decay(options.arch_weight_decay)) {}

  [[nodiscard]] torch::Tensor loss(const torch::Tensor& logits, const torch::Tensor& target) const {
    return options_.loss ? options_.loss(logits, target) : cross_entropy(logits, target);
  }

  /// One weight step on `train` with the architecture frozen; fills the train fields.
  void weight_step(const Batch& train, StepReport& report) {
    FreezeGuard frozen(arch_list());
    weights_.zero_grad();
    const auto logits = net_->forward(train.data);
    const auto l = loss(logits, train.target);
    check_finite(l, "weight");
    l.backward();
    if (options_.grad_clip > 0.0)
      torch::nn::utils::clip_grad_norm_(weight_list(), options_.grad_clip);
    weights_.step();
    report.train_loss = l.template item<double>();
    report.train_correct = correct(logits, train.target);
    report.train_count = train.target.size(0);
  }

  /// Applies an architecture gradient with the architecture optimizer.
  void apply_arch_gradient(const std::vector<torch::Tensor>& grads) {
    auto& alphas = arch_list();
    for (std::size_t i = 0; i < alphas.size(); ++i) alphas[i].mutable_grad() = grads[i].detach();
    arch_.step();
  }

  // The two parameter groups, as the optimizers hold them (not filtered again per step).
  [[nodiscard]] std::vector<torch::Tensor>& weight_list() {
    return weights_.param_groups().front().params();
  }
  [[nodiscard]] std::vector<torch::Tensor>& arch_list() {
    return arch_.param_groups().front().params();
  }

  static void check_finite(const torch::Tensor& l, const char* step) {
    TORCH_CHECK(std::isfinite(l.template item<double>()), "the ", step, " loss is not finite (",
                l.template item<double>(),
                "); lower the learning rate, or check the data for NaN or infinite values");
  }

  Supernet<S, R> net_;
  Options options_;
  torch::optim::SGD weights_;
  torch::optim::Adam arch_;
  std::int64_t epoch_ = 0;

 private:
  static const Options& checked(const Options& o) {
    TORCH_CHECK(o.epochs > 0, "epochs must be positive; got ", o.epochs);
    TORCH_CHECK(o.batch_size > 0, "batch_size must be positive; got ", o.batch_size);
    TORCH_CHECK(o.learning_rate >= 0.0 && o.learning_rate_min >= 0.0 &&
                    o.learning_rate_min <= o.learning_rate,
                "learning rates must satisfy 0 <= learning_rate_min <= learning_rate; got ",
                o.learning_rate_min, " and ", o.learning_rate);
    TORCH_CHECK(o.arch_learning_rate >= 0.0, "arch_learning_rate must be non-negative");
    TORCH_CHECK(o.momentum >= 0.0 && o.momentum < 1.0, "momentum must be in [0, 1); got ",
                o.momentum);
    TORCH_CHECK(o.train_portion > 0.0 && o.train_portion < 1.0,
                "train_portion must be in (0, 1); got ", o.train_portion);
    return o;
  }
  static std::size_t max_identity_per_cell(const Genotype<S>& g) {
    std::size_t m = 0;
    g.for_each_cell([&](const auto& c) { m = std::max(m, detail::identity_count(c)); });
    return m;
  }
};

}  // namespace nas::detail
