#pragma once
/// @file
/// nas::Gdas: gradient-based search with a differentiable architecture sampler (Dong &
/// Yang, CVPR 2019).

#include <torch/autograd.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nas/nn/supernet.hpp"
#include "nas/relax/gumbel.hpp"
#include "nas/strategy/bilevel.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/derive.hpp"
#include "nas/train/options.hpp"

namespace nas {

/// Options of nas::Gdas; the defaults are GDAS's published CIFAR search settings (the
/// temperature schedule, 10 to 0.1, is the nas::relax::Gumbel's own option). The weight and
/// architecture training are DARTS's (the shared parts nas::WeightTraining and
/// nas::ArchTraining); every field has a `with_<field>` setter.
struct GdasOptions {
  std::int64_t epochs = 240;   ///< the budget: epochs of search
  WeightTraining weights{};    ///< weights: SGD 0.025 cosine to 0.001, batch 64, clip 5
  ArchTraining arch{};         ///< architecture: Adam 3e-4, betas (0.5, 0.999), decay 1e-3
  double train_portion = 0.5;  ///< as nas::DartsOptions
  DeriveOptions derive{};      ///< as nas::DartsOptions
  std::size_t stop_at_identity_ops = 0;  ///< as nas::DartsOptions

  NAS_WITH(epochs)
  NAS_WITH(weights)
  NAS_WITH(arch)
  NAS_WITH(train_portion)
  NAS_WITH(derive)
  NAS_WITH(stop_at_identity_ops)
};

/// GDAS: on a nas::relax::Gumbel supernet, each step first trains the weights of one
/// sampled architecture on a training batch, then updates alpha on a validation batch
/// through another sample's straight-through gradient; each forward runs one op per
/// edge. The temperature follows the relaxation's linear schedule over the epochs after
/// GdasOptions::arch.warmup_epochs (over all of them without a warm-up).
template <search_space S>
class Gdas : public detail::Bilevel<Gdas<S>, S, relax::Gumbel, GdasOptions> {
  using base = detail::Bilevel<Gdas<S>, S, relax::Gumbel, GdasOptions>;
  friend base;

 public:
  /// The name save() records (a checkpoint of another strategy is refused).
  static constexpr const char* strategy_name = "gdas";
  /// The name its option errors start with.
  static constexpr const char* display_name = "nas::Gdas";

  explicit Gdas(Supernet<S, relax::Gumbel> net, const GdasOptions& options = {})
      : base(std::move(net), options) {}

  /// One GDAS step: the weight step on `train`, then the architecture step on `valid`
  /// (from epoch GdasOptions::arch.warmup_epochs on).
  StepReport step(const Batch& train, const Batch& valid) {
    auto& net = this->net_;
    net->train();
    StepReport report;
    this->weight_step(train, report);
    if (!this->arch_steps_due()) return report;
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
  // the temperature anneals over the epochs that take architecture steps (all of them
  // without a warm-up, as GDAS's schedule); a warm-up epoch's weight steps sample paths from
  // softmax(alpha), which the temperature does not change
  void begin_epoch(std::int64_t epoch) {
    const auto warmup = std::min(this->options_.arch.warmup_epochs, this->options_.epochs - 1);
    this->net_->relaxation().anneal(std::max<std::int64_t>(0, epoch - warmup),
                                    this->options_.epochs - warmup);
  }
  [[nodiscard]] double tau() const { return this->net_->relaxation().tau(); }
};

template <search_space S>
Gdas(Supernet<S, relax::Gumbel>, const GdasOptions&) -> Gdas<S>;
template <search_space S>
Gdas(Supernet<S, relax::Gumbel>) -> Gdas<S>;

}  // namespace nas
