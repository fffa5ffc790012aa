#pragma once
/// @file
/// nas::relax::PartialChannel: PC-DARTS's relaxation (Xu et al., ICLR 2020): partial channel
/// connections (only 1/K of an edge's channels go through its candidates, the rest bypass them,
/// then the channels are shuffled) and edge normalization (each edge's output weighed by a
/// softmax over the edges into its node, from a learned parameter per edge).

#include <torch/nn/functional/pooling.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include "nas/ops/op_args.hpp"
#include "nas/relax/relaxation.hpp"

namespace nas::relax {

/// PC-DARTS's channel shuffle: `[N, C, H, W]` viewed as `groups` groups of `C / groups`
/// channels, the two group axes transposed (channel `g * (C / groups) + i` moves to
/// `i * groups + g`).
[[nodiscard]] inline torch::Tensor channel_shuffle(const torch::Tensor& x, std::int64_t groups) {
  const auto n = x.size(0), c = x.size(1), h = x.size(2), w = x.size(3);
  return x.view({n, groups, c / groups, h, w}).transpose(1, 2).contiguous().view({n, c, h, w});
}

/// Edge normalization: for every computed node, a softmax over the parameters `beta` of the
/// edges into it (PC-DARTS's `weights2`); an edge's weight in `[edges]` order.
[[nodiscard]] inline torch::Tensor node_softmax(const torch::Tensor& beta, const Edge* edges,
                                                std::size_t count) {
  TORCH_CHECK(beta.dim() == 1 && static_cast<std::size_t>(beta.size(0)) == count && edges,
              "edge normalization needs one parameter per edge (", count, "); got ", beta.sizes());
  std::vector<torch::Tensor> parts(count);
  std::vector<bool> done(count, false);
  for (std::size_t e = 0; e < count; ++e) {
    if (done[e]) continue;
    std::vector<std::int64_t> into;
    for (std::size_t f = e; f < count; ++f)
      if (edges[f].to == edges[e].to) into.push_back(static_cast<std::int64_t>(f));
    const auto index = torch::tensor(into, torch::kLong).to(beta.device());
    const auto w = torch::softmax(beta.index_select(0, index), 0);
    for (std::size_t i = 0; i < into.size(); ++i) {
      const auto f = static_cast<std::size_t>(into[i]);
      parts[f] = w.select(0, static_cast<std::int64_t>(i));
      done[f] = true;
    }
  }
  return torch::stack(parts);
}

/// PC-DARTS (Xu et al., ICLR 2020) as a relaxation: DARTS's softmax over each edge's ops, run on
/// 1/K of the edge's channels (the first `channels / K`; the others bypass the ops, max-pooled
/// 2x2 on a stride-2 edge, and the result is channel-shuffled in K groups), and each edge's
/// output weighed by a softmax over the edges into its node of the learned per-edge parameters
/// (edge normalization: `beta_<kind>`, `[edges]`, initialized like alpha). nas::derive weighs
/// each edge's op weights by its edge weight, as PC-DARTS's genotype() does.
///
/// Each edge's candidates are built with `channels / K` in and out channels (so K must divide
/// the channels, and an edge must keep its channel count: the bypass carries the rest). At
/// nas::Stack{} on nas::spaces::darts the supernet has PC-DARTS's 299,578 weights and 252
/// architecture parameters (224 in alpha, 28 in beta).
class PartialChannel {
 public:
  static constexpr bool learns_architecture = true;
  /// a `[edges]` parameter per cell kind (MixContext::beta), used by edge_weights below
  static constexpr bool learns_edge_weights = true;

  /// `k`: 1 of every `k` channels goes through an edge's ops (PC-DARTS: 4 on CIFAR-10, 2 on
  /// ImageNet).
  explicit PartialChannel(std::int64_t k = 4) : k_(k) {
    TORCH_CHECK(k >= 1, "nas::relax::PartialChannel: K must be at least 1; got ", k);
  }

  /// Softmax of alpha over each edge's ops; edge normalization from beta.
  [[nodiscard]] EdgeMix mix(const torch::Tensor& alpha, const MixContext& context) const {
    EdgeMix m;
    m.weights = torch::softmax(alpha, -1);
    m.edge_weights = node_softmax(context.beta, context.edge_list, context.edges);
    return m;
  }

  /// The candidates of an edge of shape `edge` see `1/K` of its channels.
  [[nodiscard]] OpArgs candidate_args(const OpArgs& edge) const {
    TORCH_CHECK(edge.in == edge.out,
                "nas::relax::PartialChannel: an edge must keep its channel count (the channels "
                "that bypass the ops are passed on as they are); this edge maps ",
                edge.in, " to ", edge.out, " channels");
    TORCH_CHECK(edge.in % k_ == 0 && edge.in / k_ > 0, "nas::relax::PartialChannel: K = ", k_,
                " must divide every edge's channels; an edge has ", edge.in,
                " (choose channels divisible by K)");
    OpArgs a = edge;
    a.in = edge.in / k_;
    a.out = edge.out / k_;
    return a;
  }

  /// The edge's output: the candidates (`candidates(part)`, the mixed op) on the first
  /// `channels / K` channels, the rest passed by (max-pooled 2x2 where the ops reduce), joined
  /// and channel-shuffled.
  template <class Candidates>
  [[nodiscard]] torch::Tensor forward_edge(const torch::Tensor& x, const OpArgs& /*edge*/,
                                           Candidates&& candidates) const {
    const auto c = x.size(1);
    const auto part = c / k_;
    const torch::Tensor mixed = candidates(x.narrow(1, 0, part));
    torch::Tensor rest = x.narrow(1, part, c - part);
    if (mixed.size(2) != x.size(2)) rest = torch::max_pool2d(rest, {2, 2}, {2, 2});
    return relax::channel_shuffle(torch::cat({mixed, rest}, 1), k_);
  }

  [[nodiscard]] std::int64_t k() const noexcept { return k_; }

 private:
  std::int64_t k_;
};

}  // namespace nas::relax
