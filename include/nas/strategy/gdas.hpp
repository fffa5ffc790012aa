#pragma once
/// @file
/// nas::Gdas: gradient-based search with a differentiable architecture sampler (Dong &
/// Yang, CVPR 2019).

#include <torch/autograd.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nas/nn/supernet.hpp"
#include "nas/relax/gumbel.hpp"
#include "nas/strategy/bilevel.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/derive.hpp"

namespace nas {

/// Options of nas::Gdas; the defaults are GDAS's published CIFAR search settings (the
/// temperature schedule, 10 to 0.1, is the nas::relax::Gumbel's own option).
struct GdasOptions {
  std::int64_t epochs = 240;
  std::int64_t batch_size = 64;
  double learning_rate = 0.025;
  double learning_rate_min = 0.001;
  double momentum = 0.9;
  double weight_decay = 3e-4;
  double grad_clip = 5.0;
  double arch_learning_rate = 3e-4;
  double arch_weight_decay = 1e-3;
  double arch_beta1 = 0.5;
  double arch_beta2 = 0.999;
  double train_portion = 0.5;
  DeriveOptions derive{};
  std::size_t stop_at_identity_ops = 0;  ///< as nas::DartsOptions
  LossFunction loss{};
  bool skip_nonfinite = false;  ///< as nas::DartsOptions
};

/// GDAS: on a nas::relax::Gumbel supernet, each step first trains the weights of one
/// sampled architecture on a training batch, then updates alpha on a validation batch
/// through another sample's straight-through gradient; each forward runs one op per
/// edge. The temperature follows the relaxation's linear schedule over the epochs.
template <search_space S>
class Gdas : public detail::Bilevel<Gdas<S>, S, relax::Gumbel, GdasOptions> {
  using base = detail::Bilevel<Gdas<S>, S, relax::Gumbel, GdasOptions>;
  friend base;

 public:
  /// The name save() records (a checkpoint of another strategy is refused).
  static constexpr const char* strategy_name = "gdas";

  explicit Gdas(Supernet<S, relax::Gumbel> net, const GdasOptions& options = {})
      : base(std::move(net), options) {}

  /// One GDAS step: the weight step on `train`, then the architecture step on `valid`.
  StepReport step(const Batch& train, const Batch& valid) {
    auto& net = this->net_;
    net->train();
    StepReport report;
    this->weight_step(train, report);
    // frozen weights: no weight gradient, and convolutions keep less (nas::ops::conv)
    detail::FreezeGuard frozen(this->weight_list());
    const auto logits = net->forward(valid.data);
    const auto l = this->loss(logits, valid.target);
    this->check_finite(l, "architecture");
    this->apply_arch_gradient(torch::autograd::grad({l}, this->arch_list()));
    report.valid_loss = l.template item<double>();
    report.valid_correct = detail::correct(logits, valid.target);
    report.valid_count = valid.target.size(0);
    return report;
  }

 private:
  void begin_epoch(std::int64_t epoch) {
    this->net_->relaxation().anneal(epoch, this->options_.epochs);
  }
  [[nodiscard]] double tau() const { return this->net_->relaxation().tau(); }
};

template <search_space S>
Gdas(Supernet<S, relax::Gumbel>, const GdasOptions&) -> Gdas<S>;
template <search_space S>
Gdas(Supernet<S, relax::Gumbel>) -> Gdas<S>;

}  // namespace nas
