#pragma once
/// @file
/// Regularizers of the architecture parameters that differentiable searches add to their
/// architecture loss (nas::ArchTraining::beta_decay).

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstdint>
#include <vector>

namespace nas {

/// beta-DARTS's Beta-Decay loss (Ye et al., CVPR 2022): the mean over every edge of every
/// `[edges, ops]` tensor in `alphas` of `logsumexp(alpha_edge)`, the smooth maximum of the
/// edge's architecture parameters. Its gradient with respect to `alpha_edge` is
/// `softmax(alpha_edge) / E` (E: the edges of all tensors together), so a step against it
/// lowers every parameter of the edge in proportion to its softmax weight: the largest most,
/// which keeps the parameters' values and spread small (the paper's "beta decay"). A search
/// adds `lambda * beta_decay_loss(alphas)` to its architecture loss (nas::ArchTraining).
[[nodiscard]] inline torch::Tensor beta_decay_loss(const std::vector<torch::Tensor>& alphas) {
  TORCH_CHECK(!alphas.empty(), "nas::beta_decay_loss: no architecture parameters given");
  torch::Tensor sum;
  std::int64_t edges = 0;
  for (const auto& a : alphas) {
    TORCH_CHECK(a.defined() && a.dim() == 2,
                "nas::beta_decay_loss: needs [edges, ops] tensors; got ",
                a.defined() ? a.sizes() : c10::IntArrayRef{});
    const auto s = torch::logsumexp(a, -1).sum();
    sum = sum.defined() ? sum + s : s;
    edges += a.size(0);
  }
  return sum / static_cast<double>(edges);
}

}  // namespace nas
