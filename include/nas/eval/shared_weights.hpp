#pragma once
/// @file
/// nas::eval::SharedWeights: score an architecture through a single-path supernet's shared
/// weights, with no training (ENAS's reward, SPOS's and RSPS's search).

#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <utility>
#include <vector>

#include "nas/core/options.hpp"
#include "nas/data/data.hpp"
#include "nas/eval/cost_options.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/nn/supernet.hpp"
#include "nas/relax/single_path.hpp"
#include "nas/space/genotype.hpp"
#include "nas/train/training.hpp"

namespace nas::eval {

/// Options of nas::eval::SharedWeights.
struct SharedWeightsOptions {
  std::int64_t samples = 0;          ///< validation samples scored (the first ones; 0: all)
  std::int64_t batch_size = 256;     ///< samples per forward
  CostOptions cost{.count = false};  ///< no costs by default (set `.count = true` and `.stack`)
  LossFunction loss{};               ///< default: cross entropy

  NAS_WITH(samples)
  NAS_WITH(batch_size)
  NAS_WITH(cost)
  NAS_WITH(loss)
};

/// Scores an architecture with the weights it inherits from a nas::relax::SinglePath
/// supernet: sets the supernet's path to the genotype and runs the validation samples
/// through it, without gradients. Batch norms use the batch's statistics (the running
/// averages of a weight-shared supernet mix every path; ENAS and SPOS do not use them
/// either), and the supernet's buffers are restored afterwards, so an evaluation
/// changes nothing but the supernet's path. Models nas::evaluator_for.
template <search_space S>
class SharedWeights {
 public:
  using Net = Supernet<S, relax::SinglePath>;

  SharedWeights(Net net, Data valid, SharedWeightsOptions options = {})
      : net_(std::move(net)), options_(std::move(options)) {
    TORCH_CHECK(!net_.is_empty(),
                "nas::eval::SharedWeights needs a supernet (got an empty holder)");
    valid.check("nas::eval::SharedWeights (validation data)");
    TORCH_CHECK(options_.samples >= 0 && options_.batch_size >= 1,
                "nas::eval::SharedWeights: samples must be >= 0 and batch_size >= 1");
    valid_ =
        options_.samples > 0 ? valid.slice(0, std::min(options_.samples, valid.size())) : valid;
  }

  Metrics operator()(const Genotype<S>& genotype) {
    net_->set_path(genotype);
    const auto device = nas::detail::device_of(*net_);
    const bool was_training = net_->is_training();
    std::vector<torch::Tensor> saved;
    std::vector<torch::Tensor> buffers = net_->buffers();
    {
      torch::NoGradGuard no_grad;
      for (const auto& b : buffers) saved.push_back(b.clone());
    }
    net_->train();
    double loss = 0.0;
    std::int64_t correct = 0;
    const auto n = valid_.size();
    {
      torch::NoGradGuard no_grad;
      for (std::int64_t at = 0; at < n; at += options_.batch_size) {
        const auto part = valid_.slice(at, std::min(n, at + options_.batch_size));
        const auto x = part.inputs.to(device);
        const auto y = part.targets.to(device);
        const auto logits = net_->forward(x);
        const auto l =
            options_.loss ? options_.loss(logits, y) : nas::detail::cross_entropy(logits, y);
        loss += l.template item<double>() * static_cast<double>(part.size());
        correct += nas::detail::correct(logits, y);
      }
      for (std::size_t i = 0; i < buffers.size(); ++i) buffers[i].copy_(saved[i]);
    }
    net_->train(was_training);
    Metrics m;
    m.accuracy = static_cast<double>(correct) / static_cast<double>(n);
    m.loss = loss / static_cast<double>(n);
    detail::add_costs(m, genotype, options_.cost, net_->stack(), valid_.inputs.size(2),
                      valid_.inputs.size(3), device);
    return m;
  }

  /// The validation samples scored.
  [[nodiscard]] const Data& data() const noexcept { return valid_; }
  [[nodiscard]] Net& supernet() noexcept { return net_; }

 private:
  Net net_;
  SharedWeightsOptions options_;
  Data valid_;
};

}  // namespace nas::eval
