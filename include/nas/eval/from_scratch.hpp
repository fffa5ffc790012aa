#pragma once
/// @file
/// nas::eval::FromScratch: train the network a genotype stands for at a low fidelity and
/// report its validation accuracy (NAS-RL and NASNet's child training, made cheap).

#include <torch/nn/functional/upsampling.h>
#include <torch/nn/utils/clip_grad.h>
#include <torch/optim/sgd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdint>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include "nas/core/options.hpp"
#include "nas/data/data.hpp"
#include "nas/eval/cost_options.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/network.hpp"
#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/train/training.hpp"

namespace nas::eval {

/// Options of nas::eval::FromScratch: the NASNet low-fidelity knobs (fewer cells, fewer
/// channels, fewer epochs, less data, lower resolution), and the child's training.
struct FromScratchOptions {
  Stack stack{.layers = 2, .channels = 8};  ///< the proxy network (cells, channels, classes)
  std::int64_t epochs = 1;                  ///< passes over the training data
  double data_fraction = 1.0;               ///< share of the training data used (the first part)
  std::int64_t resolution = 0;              ///< images resized to r x r (0: as given)
  std::int64_t batch_size = 64;
  double learning_rate = 0.025;  ///< SGD, cosine to `learning_rate_min` over the steps
  double learning_rate_min = 0.0;
  double momentum = 0.9;
  double weight_decay = 3e-4;
  double grad_clip = 5.0;  ///< gradient norm clip (0: off)
  std::int64_t eval_batch_size = 256;
  CostOptions cost{};      ///< parameters and multiply-adds by default, at `stack`
  std::uint64_t seed = 0;  ///< every child starts from this seed (same init, same data order)
  torch::Device device = torch::kCPU;
  LossFunction loss{};  ///< default: cross entropy
  /// asked to stop, a training throws nas::Interrupted before its next step (its result is
  /// discarded; the next call trains the architecture from the start, as seeded)
  std::stop_token stop{};

  NAS_WITH(stack)
  NAS_WITH(epochs)
  NAS_WITH(data_fraction)
  NAS_WITH(resolution)
  NAS_WITH(batch_size)
  NAS_WITH(learning_rate)
  NAS_WITH(learning_rate_min)
  NAS_WITH(momentum)
  NAS_WITH(weight_decay)
  NAS_WITH(grad_clip)
  NAS_WITH(eval_batch_size)
  NAS_WITH(cost)
  NAS_WITH(seed)
  NAS_WITH(device)
  NAS_WITH(loss)
  NAS_WITH(stop)
};

/// Accuracy and mean loss of `net` on `data` (eval mode, inference mode), in batches of `batch`
/// on `device`; `loss` empty: cross entropy. What nas::eval::FromScratch scores children with.
template <search_space S>
[[nodiscard]] Metrics score_network(Network<S>& net, const Data& data, torch::Device device,
                                    std::int64_t batch, const LossFunction& loss = {}) {
  data.check("nas::eval::score_network");
  TORCH_CHECK(batch >= 1, "nas::eval::score_network: the batch size must be positive");
  net->eval();
  torch::InferenceMode inference;
  double total = 0.0;
  std::int64_t correct = 0;
  const auto n = data.size();
  for (std::int64_t at = 0; at < n; at += batch) {
    const auto part = data.slice(at, std::min(n, at + batch));
    const auto x = part.inputs.to(device);
    const auto y = part.targets.to(device);
    const auto logits = net->forward(x);
    const auto l = loss ? loss(logits, y) : nas::detail::cross_entropy(logits, y);
    total += l.template item<double>() * static_cast<double>(part.size());
    correct += nas::detail::correct(logits, y);
  }
  Metrics m;
  m.accuracy = static_cast<double>(correct) / static_cast<double>(n);
  m.loss = total / static_cast<double>(n);
  return m;
}

/// Trains `Network<S>(genotype, options.stack)` from scratch on the training data for
/// `epochs` and returns its accuracy and loss on the validation data, with the costs
/// `options.cost` asks for. Every child starts from the same seed, so two evaluations of
/// one architecture agree and children are compared on the same data order; torch's
/// CPU generator is restored afterwards. Models nas::evaluator_for.
///
/// ```
/// nas::eval::FromScratch<space> proxy(train, valid, {.stack = {.layers = 1, .channels = 8},
///                                                    .epochs = 1, .data_fraction = 0.2});
/// nas::Metrics m = proxy(genotype);
/// ```
template <search_space S>
class FromScratch {
 public:
  FromScratch(Data train, Data valid, FromScratchOptions options = {})
      : options_(std::move(options)) {
    train.check("nas::eval::FromScratch (training data)");
    valid.check("nas::eval::FromScratch (validation data)");
    TORCH_CHECK(options_.epochs >= 1, "nas::eval::FromScratch: epochs must be at least 1");
    TORCH_CHECK(options_.data_fraction > 0.0 && options_.data_fraction <= 1.0,
                "nas::eval::FromScratch: data_fraction must be in (0, 1]; got ",
                options_.data_fraction);
    TORCH_CHECK(options_.batch_size >= 1 && options_.eval_batch_size >= 1,
                "nas::eval::FromScratch: batch sizes must be positive");
    TORCH_CHECK(options_.resolution >= 0, "nas::eval::FromScratch: resolution must be >= 0");
    TORCH_CHECK(train.inputs.dim() == 4 && valid.inputs.dim() == 4,
                "nas::eval::FromScratch: needs images [N, C, H, W]; got ", train.inputs.sizes());
    const auto keep = std::max<std::int64_t>(
        1, static_cast<std::int64_t>(
               std::floor(options_.data_fraction * static_cast<double>(train.size()))));
    train_ = resize(train.slice(0, keep));
    valid_ = resize(valid);
  }

  /// Trains the architecture (as seeded) and scores it on the validation data, with its costs.
  Metrics operator()(const Genotype<S>& genotype) {
    genotype.validate();
    // one scope for training, scoring and counting (counting builds a network: its random
    // initialization comes from the seeded generator too, and torch's is restored afterwards)
    detail::SeedScope seed(options_.seed);
    Network<S> net = train_seeded(genotype);
    Metrics m = validate(net);
    detail::add_costs(m, genotype, options_.cost, options_.stack, valid_.inputs.size(2),
                      valid_.inputs.size(3), options_.device);
    return m;
  }

  /// The trained network operator() scores (on `options().device`, in training mode): for a
  /// user who keeps it (nas::export_network). Seeded like operator(); torch's CPU generator is
  /// restored afterwards.
  [[nodiscard]] Network<S> train(const Genotype<S>& genotype) {
    genotype.validate();
    detail::SeedScope seed(options_.seed);
    return train_seeded(genotype);
  }

  /// Accuracy and loss of `net` on the validation data (eval mode; costs not counted).
  [[nodiscard]] Metrics score(Network<S>& net) { return validate(net); }

  [[nodiscard]] const FromScratchOptions& options() const noexcept { return options_; }
  /// The training data the children see (after data_fraction and resolution).
  [[nodiscard]] const Data& train_data() const noexcept { return train_; }

 private:
  // Trains from the generator's state (operator() and train() seed it first).
  [[nodiscard]] Network<S> train_seeded(const Genotype<S>& genotype) {
    Network<S> net(genotype, options_.stack);
    net->to(options_.device);
    net->train();
    torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(options_.learning_rate)
                                                 .momentum(options_.momentum)
                                                 .weight_decay(options_.weight_decay));
    BatchStream stream(train_, options_.batch_size);
    const auto steps = stream.batches();
    const auto total = steps * options_.epochs;
    for (std::int64_t step = 0; step < total; ++step) {
      if (options_.stop.stop_requested())
        nas::detail::throw_interrupted("training " + to_string(genotype) + " from scratch (step " +
                                       std::to_string(step + 1) + " of " + std::to_string(total) +
                                       ")");
      // cosine per step: a one-epoch proxy ends at the low rate too, not mid-schedule
      const double lr =
          cosine_learning_rate(options_.learning_rate, options_.learning_rate_min, step, total);
      for (auto& group : sgd.param_groups())
        static_cast<torch::optim::SGDOptions&>(group.options()).lr(lr);
      const auto batch = stream.next(options_.device);
      sgd.zero_grad();
      const auto loss = loss_of(net->forward(batch.data), batch.target);
      TORCH_CHECK(std::isfinite(loss.template item<double>()),
                  "nas::eval::FromScratch: the training loss of ", to_string(genotype),
                  " is not finite; lower learning_rate or check the data");
      loss.backward();
      if (options_.grad_clip > 0.0)
        torch::nn::utils::clip_grad_norm_(net->parameters(), options_.grad_clip);
      sgd.step();
    }
    return net;
  }

  [[nodiscard]] Data resize(const Data& d) const {
    if (options_.resolution == 0 ||
        (d.inputs.size(2) == options_.resolution && d.inputs.size(3) == options_.resolution))
      return d;
    namespace F = torch::nn::functional;
    torch::NoGradGuard no_grad;
    auto x = F::interpolate(
        d.inputs.to(torch::kFloat),
        F::InterpolateFuncOptions()
            .size(std::vector<std::int64_t>{options_.resolution, options_.resolution})
            .mode(torch::kBilinear)
            .align_corners(false)
            .antialias(true));
    return {x, d.targets};
  }

  [[nodiscard]] torch::Tensor loss_of(const torch::Tensor& logits,
                                      const torch::Tensor& targets) const {
    return options_.loss ? options_.loss(logits, targets)
                         : nas::detail::cross_entropy(logits, targets);
  }

  Metrics validate(Network<S>& net) {
    return score_network(net, valid_, options_.device, options_.eval_batch_size, options_.loss);
  }

  FromScratchOptions options_;
  Data train_;
  Data valid_;
};

}  // namespace nas::eval
