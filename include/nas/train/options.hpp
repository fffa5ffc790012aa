#pragma once
/// @file
/// The parts every strategy's options are composed of: how the supernet's weights train
/// (nas::WeightTraining) and how a learned architecture trains (nas::ArchTraining). The
/// budget is the field `epochs` (and `trials` for a sampled search), named alike in every
/// options type.

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdint>
#include <string_view>

#include "nas/core/options.hpp"
#include "nas/train/training.hpp"

namespace nas {

/// How a search trains the supernet's weights: SGD with momentum and weight decay, a cosine
/// schedule from `learning_rate` to `learning_rate_min` over the epochs, a gradient-norm clip.
/// Part of nas::DartsOptions, nas::GdasOptions, nas::EnasOptions and nas::SposOptions; the
/// defaults are DARTS's search settings.
struct WeightTraining {
  std::int64_t batch_size = 64;      ///< samples per weight step (and per architecture step)
  double learning_rate = 0.025;      ///< SGD's learning rate at the first epoch (0: frozen) ...
  double learning_rate_min = 0.001;  ///< ... cosine-annealed down to this at the last
  double momentum = 0.9;             ///< SGD momentum, in [0, 1)
  bool nesterov = false;             ///< Nesterov momentum (ENAS); DARTS's unrolled step needs off
  double weight_decay = 3e-4;        ///< L2 weight decay
  double grad_clip = 5.0;            ///< gradient-norm clip of the weights (0: off)
  /// weight steps per epoch (0: one pass over the training data); a step that fails the
  /// non-finite check counts as a step
  std::int64_t steps = 0;
  LossFunction loss{};  ///< the loss of every step (default: cross entropy)
  /// skip a step whose loss is not finite (counted in the epoch's `skipped`) instead of
  /// stopping with a nas::NonFiniteLoss error
  bool skip_nonfinite = false;

  NAS_WITH(batch_size)
  NAS_WITH(learning_rate)
  NAS_WITH(learning_rate_min)
  NAS_WITH(momentum)
  NAS_WITH(nesterov)
  NAS_WITH(weight_decay)
  NAS_WITH(grad_clip)
  NAS_WITH(steps)
  NAS_WITH(loss)
  NAS_WITH(skip_nonfinite)

  /// Throws a c10::Error that names `who` and the bad field unless every field is in range.
  void validate(std::string_view who) const {
    TORCH_CHECK(batch_size >= 1, who, ": weights.batch_size must be at least 1; got ", batch_size);
    TORCH_CHECK(learning_rate_min >= 0.0 && learning_rate_min <= learning_rate, who,
                ": the weights' learning rates must satisfy 0 <= learning_rate_min <= "
                "learning_rate; got ",
                learning_rate_min, " and ", learning_rate);
    TORCH_CHECK(momentum >= 0.0 && momentum < 1.0, who,
                ": weights.momentum must be in [0, 1); got ", momentum);
    TORCH_CHECK(!nesterov || momentum > 0.0, who, ": weights.nesterov needs a positive momentum");
    TORCH_CHECK(weight_decay >= 0.0 && grad_clip >= 0.0, who,
                ": weights.weight_decay and weights.grad_clip must be non-negative");
    TORCH_CHECK(steps >= 0, who, ": weights.steps must be >= 0 (0: one pass); got ", steps);
  }
};

/// How a differentiable search trains the architecture parameters: Adam on the validation
/// loss. Part of nas::DartsOptions and nas::GdasOptions; the defaults are DARTS's.
///
/// **At a smaller budget than the paper's.** Adam moves each parameter by at most about its
/// learning rate per step, so how far alpha can travel is about `learning_rate` times the number
/// of architecture steps. DARTS's published search takes 19,550 of them (50 epochs of 391
/// batches), GDAS's 93,840 (240 epochs); a search of 30 epochs of 79 batches takes 2,370, and at
/// 3e-4 its alpha ends within a few hundredths of uniform. `reference_steps` scales the rate to
/// the budget: with `reference_steps = N`, the search uses `learning_rate * N / planned`, where
/// `planned = (epochs - warmup_epochs) * steps per epoch` (nas::scaled_arch_learning_rate), so
/// that alpha can travel as far as in the published run. `warmup_epochs` trains the weights
/// alone first, so that parameter-free ops do not win only because the convolutions are still
/// untrained (GDAS's temperature then anneals over the epochs after the warm-up).
struct ArchTraining {
  double learning_rate = 3e-4;  ///< Adam's learning rate
  double weight_decay = 1e-3;   ///< Adam's (L2) weight decay
  double beta1 = 0.5;           ///< Adam's first-moment decay
  double beta2 = 0.999;         ///< Adam's second-moment decay
  /// epochs that train only the weights before architecture steps begin (PC-DARTS and
  /// P-DARTS: 15 of 50; DARTS and GDAS: 0)
  std::int64_t warmup_epochs = 0;
  /// 0: `learning_rate` as given; N > 0: `learning_rate` is the rate of a search with N
  /// architecture steps, scaled to this search's planned steps (see above; GDAS: 93840,
  /// DARTS: 19550, PC-DARTS: 3430)
  std::int64_t reference_steps = 0;
  /// beta-DARTS's Beta-Decay regularization (Ye et al., CVPR 2022): the architecture loss adds
  /// `lambda * mean over edges of logsumexp(alpha_edge)`, with `lambda = beta_decay * epoch /
  /// epochs` (0-based epoch: linear from 0). Its gradient, `lambda * softmax(alpha_edge) /
  /// edges`, pulls the largest alphas down and keeps their spread small. The reference code's
  /// NAS-Bench-201 setting is 25 over 50 epochs (0.5 per epoch). 0: off.
  double beta_decay = 0.0;

  NAS_WITH(learning_rate)
  NAS_WITH(weight_decay)
  NAS_WITH(beta1)
  NAS_WITH(beta2)
  NAS_WITH(warmup_epochs)
  NAS_WITH(reference_steps)
  NAS_WITH(beta_decay)

  /// Throws a c10::Error that names `who` and the bad field unless every field is in range.
  void validate(std::string_view who) const {
    TORCH_CHECK(learning_rate >= 0.0 && weight_decay >= 0.0, who,
                ": arch.learning_rate and arch.weight_decay must be non-negative");
    TORCH_CHECK(beta1 >= 0.0 && beta1 < 1.0 && beta2 >= 0.0 && beta2 < 1.0, who,
                ": arch.beta1 and arch.beta2 must be in [0, 1)");
    TORCH_CHECK(warmup_epochs >= 0, who, ": arch.warmup_epochs must be >= 0; got ", warmup_epochs);
    TORCH_CHECK(reference_steps >= 0, who,
                ": arch.reference_steps must be >= 0 (0: the learning rate as given); got ",
                reference_steps);
    TORCH_CHECK(beta_decay >= 0.0 && std::isfinite(beta_decay), who,
                ": arch.beta_decay must be a finite number >= 0 (0: off); got ", beta_decay);
  }
};

/// The architecture learning rate for `planned` steps of a search whose published run took
/// `reference_steps` at `learning_rate` (nas::ArchTraining::reference_steps): `learning_rate *
/// reference_steps / planned`, or `learning_rate` when either count is 0.
[[nodiscard]] inline double scaled_arch_learning_rate(double learning_rate,
                                                      std::int64_t reference_steps,
                                                      std::int64_t planned) noexcept {
  if (reference_steps <= 0 || planned <= 0) return learning_rate;
  return learning_rate * static_cast<double>(reference_steps) / static_cast<double>(planned);
}

}  // namespace nas
