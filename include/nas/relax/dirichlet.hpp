#pragma once
/// @file
/// nas::relax::Dirichlet: DrNAS's Dirichlet relaxation, and nas::dirichlet_sample, a
/// reparameterized Dirichlet sample with LibTorch's pathwise gradient.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include "nas/relax/relaxation.hpp"

namespace nas {

namespace detail {
/// A Dirichlet sample `x` whose gradient with respect to the concentration `c` is the pathwise
/// one of PyTorch's `Dirichlet.rsample` (torch/distributions/dirichlet.py): for an upstream
/// gradient `g`, `d * (g - sum(x * g))` with `d = _dirichlet_grad(x, c, sum(c))` (each
/// coordinate's derivative through its Beta marginal). Written as `x + d * e - x * sum(d * e)`
/// with `e = c - stopgrad(c)` (zero in value, so the value is exactly `x`; its Jacobian is
/// `diag(d) - x d^T`, whose transpose times `g` is that gradient): plain tensor operations, no
/// custom autograd node.
inline torch::Tensor dirichlet_sample_unchecked(const torch::Tensor& concentration) {
  const auto c = concentration.detach();
  const auto x = at::_sample_dirichlet(c);
  if (!concentration.requires_grad()) return x;
  const auto d = at::_dirichlet_grad(x, c, c.sum(-1, /*keepdim=*/true).expand_as(c));
  const auto e = concentration - c;
  return x + d * e - x * (d * e).sum(-1, /*keepdim=*/true);
}
}  // namespace detail

/// One sample of Dirichlet(`concentration`) per row of the last dimension (every entry
/// positive), differentiable with respect to the concentration by the pathwise gradient
/// PyTorch's `torch.distributions.Dirichlet(c).rsample()` uses. Draws from LibTorch's default
/// generator of the tensor's device (torch::manual_seed).
[[nodiscard]] inline torch::Tensor dirichlet_sample(const torch::Tensor& concentration) {
  TORCH_CHECK(concentration.defined() && concentration.dim() >= 1,
              "nas::dirichlet_sample needs a concentration tensor with at least one dimension");
  TORCH_CHECK((concentration > 0).all().item<bool>(),
              "nas::dirichlet_sample: every concentration must be positive (are the "
              "architecture parameters finite? a NaN loss corrupts them)");
  return detail::dirichlet_sample_unchecked(concentration);
}

namespace relax {

/// DrNAS (Chen et al., ICLR 2021, "DrNAS: Dirichlet Neural Architecture Search"): the op
/// weights of each edge are a sample of a Dirichlet distribution whose concentration is
/// `elu(alpha) + 1` (positive for any alpha; 1, the uniform Dirichlet, at alpha = 0), drawn
/// anew every forward and differentiated by the pathwise gradient (nas::dirichlet_sample), so
/// the architecture step learns the distribution and its noise keeps the search exploring.
/// Every op runs, weighted by the sample, as under nas::relax::Softmax.
///
/// In evaluation mode (`supernet->eval()`) the weights are the distribution's mean,
/// `c / sum(c)`: the reference code samples in evaluation too; nas keeps a validation score
/// deterministic. The derived cell is the argmax of softmax(alpha), as DrNAS's genotype() does
/// (the same op as the argmax of the concentration). Draws from LibTorch's default generator of
/// alpha's device (torch::manual_seed).
///
/// This is DrNAS's search on NAS-Bench-201 (the reference's `201-space/train_search.py`):
/// its progressive learning (partial channels widened and ops pruned in stages) and its
/// optional KL regularizer are not part of it.
/// Models: nas::relaxation.
struct Dirichlet {
  static constexpr bool learns_architecture = true;

  /// DrNAS's concentration for the architecture parameters: `elu(alpha) + 1`.
  [[nodiscard]] static torch::Tensor concentration(const torch::Tensor& alpha) {
    return torch::elu(alpha) + 1.0;
  }

  [[nodiscard]] EdgeMix mix(const torch::Tensor& alpha, const MixContext& context) const {
    const auto c = concentration(alpha);
    if (!context.training)
      return EdgeMix{
          .weights = c / c.sum(-1, /*keepdim=*/true), .active = {}, .straight_through = false};
    // elu(alpha) + 1 is positive for finite alpha; a NaN alpha makes a NaN loss, which the
    // strategy's finiteness check reports (no device sync per forward here)
    return EdgeMix{
        .weights = detail::dirichlet_sample_unchecked(c), .active = {}, .straight_through = false};
  }
};

}  // namespace relax
}  // namespace nas
