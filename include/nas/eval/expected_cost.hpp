#pragma once
/// @file
/// The expected cost of a relaxed architecture (FBNet, ProxylessNAS): a differentiable
/// penalty a user adds to the architecture loss of a differentiable search.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <vector>

namespace nas {

/// `sum over cell kinds k, edges e, ops o of softmax(alpha_k[e])[o] * cost_k[e][o]`: the
/// cost the relaxed architecture has in expectation, differentiable in every alpha.
/// `alphas` are a supernet's arch_parameters() (one `[edges, ops]` tensor per cell kind);
/// `costs` the matching per-op costs: the supernet's op_parameter_counts(), or a user's
/// table (multiply-adds, a latency lookup table), same shapes. Add `lambda *
/// expected_cost(...)` to the architecture loss through the strategy's `loss` option.
[[nodiscard]] inline torch::Tensor expected_cost(const std::vector<torch::Tensor>& alphas,
                                                 const std::vector<torch::Tensor>& costs) {
  TORCH_CHECK(!alphas.empty() && alphas.size() == costs.size(),
              "nas::expected_cost: needs one cost table per architecture parameter tensor; got ",
              alphas.size(), " alphas and ", costs.size(), " cost tables");
  torch::Tensor total;
  for (std::size_t k = 0; k < alphas.size(); ++k) {
    TORCH_CHECK(alphas[k].sizes() == costs[k].sizes(), "nas::expected_cost: cell kind ", k,
                ": alpha is ", alphas[k].sizes(), " but its cost table is ", costs[k].sizes());
    const auto c = costs[k].to(alphas[k].device(), alphas[k].scalar_type());
    const auto term = (torch::softmax(alphas[k], -1) * c).sum();
    total = total.defined() ? total + term : term;
  }
  return total;
}

}  // namespace nas
