#pragma once
/// @file
/// nas::relax::Gumbel: GDAS's differentiable sampling.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "nas/relax/relaxation.hpp"

namespace nas::relax {

/// Options of nas::relax::Gumbel (GDAS's published schedule: 10 to 0.1).
struct GumbelOptions {
  double tau_max = 10.0;    ///< temperature at the first epoch
  double tau_min = 0.1;     ///< temperature at the last epoch
  int max_resamples = 100;  ///< non-finite samples redrawn before giving up
};

/// GDAS (Dong & Yang, CVPR 2019): per forward, one op per edge is sampled with the
/// Gumbel-max trick, `k = argmax_j (log softmax(alpha)_j + g_j)` with `g_j` standard
/// Gumbel noise, so `k` follows softmax(alpha) (the temperature does not change the
/// argmax). Only op `k` runs; its output is scaled by the hard weight
/// `h = onehot(k) + p - stopgrad(p)`, `p = softmax((log softmax(alpha) + g) / tau)`,
/// whose value is exactly one-hot and whose gradient is that of `p`. As in GDAS's code,
/// the edge adds the other entries of `h` (value zero), so the gradient reaches every
/// alpha of the edge. The temperature anneals linearly from `tau_max` to `tau_min`
/// (anneal()). A sample with a non-finite value is redrawn.
///
/// In evaluation mode (`supernet->eval()`) each edge runs its argmax op, unscaled.
/// Noise comes from LibTorch's default generator of alpha's device (torch::manual_seed).
/// Models: nas::relaxation.
class Gumbel {
 public:
  static constexpr bool learns_architecture = true;

  Gumbel() = default;
  explicit Gumbel(const GumbelOptions& options) : options_(options), tau_(options.tau_max) {
    TORCH_CHECK(options.tau_max > 0.0 && options.tau_min > 0.0,
                "nas::relax::Gumbel needs positive temperatures; got tau_max ", options.tau_max,
                ", tau_min ", options.tau_min);
  }

  [[nodiscard]] EdgeMix mix(const torch::Tensor& alpha, const MixContext& context) {
    if (samples_.size() <= context.cell_kind) samples_.resize(context.cell_kind + 1);
    auto& chosen = samples_[context.cell_kind];
    if (!context.training) {
      chosen = to_lists(alpha.detach().argmax(-1));
      return EdgeMix{.weights = {}, .active = chosen, .straight_through = false};
    }
    const auto log_p = torch::log_softmax(alpha, -1);
    for (int attempt = 0;; ++attempt) {
      TORCH_CHECK(attempt <= options_.max_resamples, "nas::relax::Gumbel: no finite sample in ",
                  options_.max_resamples,
                  " draws; are the architecture parameters finite? (a NaN loss corrupts them: "
                  "lower the learning rate or clip the gradients)");
      const auto gumbels = -torch::empty_like(alpha).exponential_().log();
      const auto probs = torch::softmax((log_p + gumbels) / tau_, -1);
      if (!torch::isfinite(gumbels).all().item<bool>() ||
          !torch::isfinite(probs).all().item<bool>())
        continue;
      const auto index = probs.detach().argmax(-1, /*keepdim=*/true);
      const auto one_hot = torch::zeros_like(probs).scatter_(-1, index, 1.0);
      chosen = to_lists(index.squeeze(-1));
      return EdgeMix{
          .weights = probs - probs.detach() + one_hot, .active = chosen, .straight_through = true};
    }
  }

  /// The temperature in force.
  [[nodiscard]] double tau() const noexcept { return tau_; }
  void set_tau(double tau) {
    TORCH_CHECK(tau > 0.0 && std::isfinite(tau), "Gumbel temperature must be positive; got ", tau);
    tau_ = tau;
  }
  /// GDAS's schedule: `tau_max - (tau_max - tau_min) * epoch / (epochs - 1)`.
  void anneal(std::int64_t epoch, std::int64_t epochs) {
    TORCH_CHECK(epochs > 0 && epoch >= 0 && epoch < epochs,
                "Gumbel::anneal needs 0 <= epoch < epochs; got epoch ", epoch, " of ", epochs);
    const double t =
        epochs == 1 ? 0.0 : static_cast<double>(epoch) / static_cast<double>(epochs - 1);
    set_tau(options_.tau_max - (options_.tau_max - options_.tau_min) * t);
  }
  /// The ops chosen on each edge of cell kind `kind` by the last forward.
  [[nodiscard]] const std::vector<std::vector<std::size_t>>& last_choice(std::size_t kind) const {
    TORCH_CHECK(kind < samples_.size(), "no forward has sampled cell kind ", kind, " yet");
    return samples_[kind];
  }
  [[nodiscard]] const GumbelOptions& options() const noexcept { return options_; }

 private:
  static std::vector<std::vector<std::size_t>> to_lists(const torch::Tensor& index) {
    const auto cpu = index.to(torch::kCPU, torch::kLong).contiguous();
    std::vector<std::vector<std::size_t>> lists(static_cast<std::size_t>(cpu.numel()));
    const auto* p = cpu.data_ptr<std::int64_t>();
    for (std::size_t e = 0; e < lists.size(); ++e) lists[e] = {static_cast<std::size_t>(p[e])};
    return lists;
  }

  GumbelOptions options_{};
  double tau_ = 10.0;
  std::vector<std::vector<std::vector<std::size_t>>> samples_;
};

}  // namespace nas::relax
