#pragma once
/// @file
/// The nas::relaxation concept, the policy that decides how a supernet's edges mix their
/// candidate ops, and the hooks by which it may own the whole edge (the channels its
/// candidates see, how their output becomes the edge's, a weight per edge); nas::EdgeMix, what
/// it decides for one forward pass; nas::MixContext, what it is told.

#include <torch/types.h>

#include <concepts>
#include <cstddef>
#include <utility>
#include <vector>

#include "nas/ops/op_args.hpp"
#include "nas/space/dag.hpp"

namespace nas {

/// How the edges of one cell kind mix their candidate ops in one forward pass,
/// computed once per forward by a nas::relaxation and shared by every cell of the kind.
///
/// - `weights` `[edges, ops]`: each candidate's weight, or undefined for an
///   unweighted sum of the active ops (nas::relax::SinglePath).
/// - `active`: per edge, the ops that run; empty means every op on every edge (a full
///   mixture: the zero ops are skipped, their product with any weight being zero).
///   An edge with an empty list contributes nothing to its node.
/// - `straight_through`: add to each edge's output the weights of its inactive ops
///   (whose value is zero), so that their gradient reaches every candidate's weight
///   (GDAS's straight-through estimator).
/// - `edge_weights` `[edges]`: each edge's output is multiplied by its entry before its node
///   sums its inputs (PC-DARTS's edge normalization); undefined: every edge counts once.
/// - `auxiliary_skip`: the weight of DARTS-'s auxiliary skip connection, added to every edge's
///   output (before its edge weight) by a supernet built with
///   nas::SupernetOptions::auxiliary_skip; the supernet sets it, not the relaxation.
struct EdgeMix {
  torch::Tensor weights{};
  std::vector<std::vector<std::size_t>> active{};
  bool straight_through = false;
  torch::Tensor edge_weights{};
  double auxiliary_skip = 0.0;
};

/// What a nas::relaxation is told when it computes an EdgeMix.
struct MixContext {
  std::size_t cell_kind = 0;  ///< index of the cell kind in the space
  std::size_t edges = 0;      ///< edges of the cell kind
  std::size_t ops = 0;        ///< candidate ops per edge
  bool training = true;       ///< the supernet is in training mode
  /// the cell kind's edges in index order (`edges` of them): which node each one feeds
  const Edge* edge_list = nullptr;
  /// the kind's per-edge parameters `[edges]` when the relaxation learns edge weights
  /// (`R::learns_edge_weights`), undefined otherwise
  torch::Tensor beta{};
};

/// A policy that decides how a supernet's edges mix their candidates.
///
/// Requirements: `R::learns_architecture` is a constant `bool` (whether the supernet
/// holds an architecture parameter tensor `[edges, ops]` per cell kind for it, `alpha_<kind>`),
/// and `r.mix(alpha, context)` returns the nas::EdgeMix of one cell kind for one forward
/// pass (`alpha` is undefined when `learns_architecture` is false). It is called once
/// per cell kind per forward, in cell-kind order.
///
/// Optional hooks, by which a relaxation owns the edge (each has a default that is the plain
/// mixed edge):
/// - `static constexpr bool learns_edge_weights = true`: the supernet also holds a `[edges]`
///   parameter per cell kind (`beta_<kind>`, initialized like alpha, an architecture parameter)
///   and passes it as MixContext::beta; the relaxation turns it into EdgeMix::edge_weights.
///   nas::derive then weighs each edge's op weights by its edge weight.
/// - `OpArgs r.candidate_args(const OpArgs& edge) const`: the arguments the edge's candidates
///   are built with (default: the edge's own).
/// - `torch::Tensor r.forward_edge(x, edge, candidates) const`: the edge's output for input `x`
///   (`edge`: its nas::OpArgs); `candidates(t)` is the mixed op (the weighted candidates under
///   the EdgeMix) on a tensor `t` shaped as candidate_args says. Default: `candidates(x)`.
///
/// Laws: forward_edge returns the shape the edge's OpArgs ask for (`out` channels, the
/// resolution divided by `stride`), whatever candidate_args changed; candidate_args keeps the
/// stride; with neither hook, an edge's output is the weighted sum of its candidates.
///
/// Models: nas::relax::Softmax (DARTS), nas::relax::Gumbel (GDAS), nas::relax::SinglePath
/// (ENAS, SPOS), nas::relax::PartialChannel (PC-DARTS: all three hooks).
template <class R>
concept relaxation = std::copy_constructible<R> &&
    requires(R& r, const torch::Tensor& alpha, const MixContext& context) {
  { R::learns_architecture } -> std::convertible_to<bool>;
  { r.mix(alpha, context) } -> std::same_as<EdgeMix>;
};

namespace detail {
/// Whether relaxation `R` learns a weight per edge (R::learns_edge_weights).
template <class R>
constexpr bool learns_edge_weights() {
  if constexpr (requires { R::learns_edge_weights; })
    return static_cast<bool>(R::learns_edge_weights);
  else
    return false;
}

/// The arguments an edge's candidates are built with under `r`.
template <class R>
OpArgs candidate_args(const R& r, const OpArgs& edge) {
  if constexpr (requires {
                  { r.candidate_args(edge) } -> std::convertible_to<OpArgs>;
                })
    return r.candidate_args(edge);
  else
    return edge;
}

/// An edge's output under `r`: its forward_edge hook, or the mixed op on `x`.
template <class R, class Candidates>
torch::Tensor forward_edge(const R& r, const torch::Tensor& x, const OpArgs& edge,
                           Candidates&& candidates) {
  if constexpr (requires {
                  { r.forward_edge(x, edge, candidates) } -> std::convertible_to<torch::Tensor>;
                })
    return r.forward_edge(x, edge, std::forward<Candidates>(candidates));
  else
    return candidates(x);
}
}  // namespace detail

}  // namespace nas
