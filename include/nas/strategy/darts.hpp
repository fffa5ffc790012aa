#pragma once
/// @file
/// nas::Darts: differentiable architecture search (Liu, Simonyan & Yang, ICLR 2019),
/// first and second order.

#include <torch/autograd.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "nas/nn/supernet.hpp"
#include "nas/relax/dirichlet.hpp"
#include "nas/relax/partial_channel.hpp"
#include "nas/relax/softmax.hpp"
#include "nas/strategy/bilevel.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/derive.hpp"
#include "nas/train/options.hpp"

namespace nas {

/// Options of nas::Darts; the defaults are DARTS's published search settings (CIFAR-10).
/// Composed of the shared parts nas::WeightTraining and nas::ArchTraining; every field has a
/// `with_<field>` setter (nas/core/options.hpp) for chains in any order.
struct DartsOptions {
  /// 1: the architecture gradient at the current weights (DARTS's default, "first
  /// order"); 2: through one virtual SGD step of the weights (the "unrolled" search)
  int order = 1;
  std::int64_t epochs = 50;    ///< the budget: epochs of search
  WeightTraining weights{};    ///< weights: SGD 0.025 cosine to 0.001, batch 64, clip 5
  ArchTraining arch{};         ///< architecture: Adam 3e-4, betas (0.5, 0.999), decay 1e-3
  double train_portion = 0.5;  ///< search(data): the share of data that trains the weights
  /// second order: the finite-difference step is `unrolled_step / ||grad||`
  double unrolled_step = 0.01;
  DeriveOptions derive{};  ///< derivation rule (P-DARTS's identity cap)
  /// DARTS+ (Liang et al. 2019) early stop: end the search after an epoch whose derived
  /// cell keeps at least this many identity ops (`skip_connect`) in one cell; 0: off
  std::size_t stop_at_identity_ops = 0;

  NAS_WITH(order)
  NAS_WITH(epochs)
  NAS_WITH(weights)
  NAS_WITH(arch)
  NAS_WITH(train_portion)
  NAS_WITH(unrolled_step)
  NAS_WITH(derive)
  NAS_WITH(stop_at_identity_ops)
};

/// PC-DARTS's published search settings (Xu et al., ICLR 2020, CIFAR-10): 50 epochs at batch
/// 256, weights SGD 0.1 cosine-annealed to 0, architecture Adam 6e-4 (betas 0.5, 0.999, weight
/// decay 1e-3), architecture steps from epoch 15 on; first order.
[[nodiscard]] inline DartsOptions pc_darts_options() {
  return DartsOptions{
      .order = 1,
      .epochs = 50,
      .weights = {.batch_size = 256, .learning_rate = 0.1, .learning_rate_min = 0.0},
      .arch = {.learning_rate = 6e-4, .warmup_epochs = 15}};
}

/// DARTS: alternate an architecture step (Adam on the validation loss's gradient with
/// respect to alpha) and a weight step (SGD on the training loss), on a supernet whose
/// relaxation learns alpha (nas::relax::Softmax; any other learning relaxation works).
///
/// ```
/// nas::Supernet<space, nas::relax::Softmax> net(nas::Stack{});
/// nas::Darts darts(net, {.order = 2, .epochs = 50});
/// // or, in any order: nas::DartsOptions{}.with_epochs(50).with_order(2)
/// auto result = darts.search(train);          // whole search, 50/50 split of `train`
/// // or, inside an existing loop:
/// darts.set_epoch(epoch);
/// auto report = darts.step(train_batch, valid_batch);
/// ```
template <search_space S, relaxation R = relax::Softmax>
class Darts : public detail::Bilevel<Darts<S, R>, S, R, DartsOptions> {
  using base = detail::Bilevel<Darts<S, R>, S, R, DartsOptions>;
  friend base;

 public:
  /// The name save() records (a checkpoint of another strategy is refused).
  static constexpr const char* strategy_name = "darts";
  /// The name its option errors start with.
  static constexpr const char* display_name = "nas::Darts";

  explicit Darts(Supernet<S, R> net, const DartsOptions& options = {})
      : base(std::move(net), options) {
    TORCH_CHECK(options.order == 1 || options.order == 2,
                "DartsOptions::order is 1 (first order) or 2 (unrolled); got ", options.order);
    TORCH_CHECK(options.unrolled_step > 0.0, "unrolled_step must be positive");
    TORCH_CHECK(options.order == 1 || !options.weights.nesterov,
                "DartsOptions: the unrolled (order 2) step models SGD with plain momentum; "
                "turn weights.nesterov off or use order 1");
  }

  /// One DARTS step: the architecture step on `valid` (from epoch
  /// DartsOptions::arch.warmup_epochs on), then the weight step on `train`.
  StepReport step(const Batch& train, const Batch& valid) {
    this->net_->train();
    StepReport report;
    if (this->arch_steps_due())
      this->apply_arch_gradient(architecture_gradient(train, valid, &report));
    this->weight_step(train, report);
    return report;
  }

  /// The architecture gradient of one step, not applied: first order, the gradient of
  /// the validation loss at the current weights; second order, DARTS's
  /// `dL_val(w', a)/da - eta * (dL_train(w+, a)/da - dL_train(w-, a)/da) / (2 eps)` with
  /// `w' = w - eta * (momentum * buffer + dL_train/dw + weight_decay * w)` and
  /// `w+- = w +- eps * dL_val(w', a)/dw'`, `eps = unrolled_step / ||dL_val/dw'||`.
  /// The weights are left as they were. `report`, if given, gets the validation fields.
  std::vector<torch::Tensor> architecture_gradient(const Batch& train, const Batch& valid,
                                                   StepReport* report = nullptr) {
    auto& net = this->net_;
    const auto& alphas = this->arch_list();
    if (this->options_.order == 1) {
      // frozen weights: no weight gradient, and convolutions keep less (nas::ops::conv)
      detail::FreezeGuard frozen(this->weight_list());
      const auto logits = net->forward(valid.data);
      const auto l = this->loss(logits, valid.target);
      this->check_finite(l, "architecture");
      fill(report, l, logits, valid);
      return torch::autograd::grad({l}, alphas);
    }
    const auto& weights = this->weight_list();
    const double eta = this->learning_rate();
    // the virtual step w' = w - eta * (momentum * buffer + dL_train/dw + weight_decay * w)
    std::vector<torch::Tensor> saved;
    {
      const auto l = this->loss(net->forward(train.data), train.target);
      this->check_finite(l, "training");
      const auto g = grads(l, weights);
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < weights.size(); ++i) {
        saved.push_back(weights[i].detach().clone());
        auto step = g[i] + this->options_.weights.weight_decay * weights[i].detach();
        if (const auto buffer = momentum_buffer(weights[i]); buffer.defined())
          step = step + this->options_.weights.momentum * buffer;
        weights[i].detach().sub_(eta * step);
      }
    }
    // dL_val(w', a)/da and dL_val(w', a)/dw'
    std::vector<torch::Tensor> dalpha, vector;
    {
      const auto logits = net->forward(valid.data);
      const auto l = this->loss(logits, valid.target);
      if (!std::isfinite(l.template item<double>())) {  // put the weights back first
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < weights.size(); ++i) weights[i].detach().copy_(saved[i]);
      }
      this->check_finite(l, "architecture");
      fill(report, l, logits, valid);
      std::vector<torch::Tensor> all(alphas);
      all.insert(all.end(), weights.begin(), weights.end());
      auto g = grads(l, all);
      dalpha.assign(g.begin(), g.begin() + static_cast<std::ptrdiff_t>(alphas.size()));
      vector.assign(g.begin() + static_cast<std::ptrdiff_t>(alphas.size()), g.end());
    }
    // the finite-difference Hessian-vector product at w
    double norm2 = 0.0;
    for (const auto& v : vector) norm2 += v.pow(2).sum().template item<double>();
    const double eps = this->options_.unrolled_step / std::sqrt(norm2);
    const auto at = [&](double sign) {
      {
        torch::NoGradGuard no_grad;
        for (std::size_t i = 0; i < weights.size(); ++i)
          weights[i].detach().copy_(saved[i] + sign * eps * vector[i]);
      }
      detail::FreezeGuard frozen(weights);
      return grads(this->loss(net->forward(train.data), train.target), alphas);
    };
    const auto plus = std::isfinite(eps) ? at(1.0) : std::vector<torch::Tensor>{};
    const auto minus = std::isfinite(eps) ? at(-1.0) : std::vector<torch::Tensor>{};
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < weights.size(); ++i) weights[i].detach().copy_(saved[i]);
    }
    if (std::isfinite(eps))  // a zero validation gradient leaves no second-order term
      for (std::size_t i = 0; i < dalpha.size(); ++i)
        dalpha[i] = dalpha[i] - eta * (plus[i] - minus[i]) / (2.0 * eps);
    return dalpha;
  }

 private:
  void begin_epoch(std::int64_t) {}
  [[nodiscard]] double tau() const { return 0.0; }

  static void fill(StepReport* report, const torch::Tensor& l, const torch::Tensor& logits,
                   const Batch& valid) {
    if (report == nullptr) return;
    report->valid_loss = l.template item<double>();
    report->valid_correct = detail::correct(logits, valid.target);
    report->valid_count = valid.target.size(0);
  }
  // Gradients of `l` with respect to `ts`; an unused tensor gets zeros.
  static std::vector<torch::Tensor> grads(const torch::Tensor& l,
                                          const std::vector<torch::Tensor>& ts) {
    auto g = torch::autograd::grad({l}, ts, {}, /*retain_graph=*/false, /*create_graph=*/false,
                                   /*allow_unused=*/true);
    for (std::size_t i = 0; i < g.size(); ++i)
      if (!g[i].defined()) g[i] = torch::zeros_like(ts[i]);
    return g;
  }
  torch::Tensor momentum_buffer(const torch::Tensor& p) {
    auto& state = this->weights_.state();
    const auto it = state.find(p.unsafeGetTensorImpl());
    if (it == state.end()) return {};
    return static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
  }
};

/// PC-DARTS (Xu et al., ICLR 2020): DARTS over nas::relax::PartialChannel (partial channels,
/// edge normalization); `nas::PcDarts<space> pc(net, nas::pc_darts_options());`.
template <search_space S>
using PcDarts = Darts<S, relax::PartialChannel>;

/// DrNAS (Chen et al., ICLR 2021): DARTS over nas::relax::Dirichlet (the op weights of every
/// edge sampled from Dirichlet(elu(alpha) + 1) each forward, learned by the pathwise gradient);
/// `nas::DrNas<space> drnas(net, {.epochs = 100});`, the reference's NAS-Bench-201 search at
/// DARTS's other settings.
template <search_space S>
using DrNas = Darts<S, relax::Dirichlet>;

template <search_space S, relaxation R>
Darts(Supernet<S, R>, const DartsOptions&) -> Darts<S, R>;
template <search_space S, relaxation R>
Darts(Supernet<S, R>) -> Darts<S, R>;

}  // namespace nas
