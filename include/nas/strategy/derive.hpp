#pragma once
/// @file
/// nas::derive: the discrete architecture a supernet's architecture parameters stand for
/// (DARTS's rule, NAS-Bench-201's argmax), with P-DARTS's cap on identity ops.

#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <numeric>
#include <optional>
#include <vector>

#include "nas/core/options.hpp"
#include "nas/nn/supernet.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

/// Options of nas::derive.
struct DeriveOptions {
  /// P-DARTS (Chen et al., ICCV 2019): at most this many identity ops (`skip_connect`) in
  /// each derived cell; the weakest kept identity is struck out and the cell derived again
  /// until the cap holds. Unset: no cap (DARTS).
  std::optional<std::size_t> max_identity_ops{};

  NAS_WITH(max_identity_ops)
};

namespace detail {
/// Derives one cell from its candidate weights `w` ([edges][ops], row-major, any scale
/// where larger is stronger).
template <cell_kind C>
CellGenotype<C> derive_cell(const std::vector<double>& w) {
  using Ops = typename C::ops;
  constexpr std::size_t K = C::op_count;
  const auto at = [&](std::size_t e, std::size_t k) { return w[e * K + k]; };
  CellGenotype<C> g;
  for (std::size_t e = 0; e < C::edge_count; ++e) g.set(e, std::nullopt);
  if constexpr (C::dag.keeps_all()) {
    // NAS-Bench-201: the strongest op on every edge, zero ops included
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      std::size_t best = 0;
      for (std::size_t k = 1; k < K; ++k)
        if (at(e, k) > at(e, best)) best = k;
      g.set(e, best);
    }
  } else {
    // DARTS: per node, the `keep` inputs whose strongest non-zero op is strongest, and that op
    const auto best_op = [&](std::size_t e) {
      std::optional<std::size_t> best;
      for (std::size_t k = 0; k < K; ++k)
        if (!Ops::is_zero[k] && (!best || at(e, k) > at(e, *best))) best = k;
      return best;
    };
    for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v) {
      std::vector<std::size_t> incoming;
      for (std::size_t e = 0; e < C::edge_count; ++e)
        if (C::edges[e].to == v && best_op(e)) incoming.push_back(e);
      std::stable_sort(incoming.begin(), incoming.end(), [&](std::size_t a, std::size_t b) {
        return at(a, *best_op(a)) > at(b, *best_op(b));
      });
      const std::size_t keep = std::min(C::dag.keep, incoming.size());
      for (std::size_t i = 0; i < keep; ++i) g.set(incoming[i], *best_op(incoming[i]));
    }
  }
  return g;
}

template <cell_kind C>
std::size_t identity_count(const CellGenotype<C>& g) {
  std::size_t n = 0;
  for (std::size_t e = 0; e < C::edge_count; ++e)
    for (std::size_t op : g.ops(e)) n += C::ops::is_identity[op] ? 1U : 0U;
  return n;
}

template <cell_kind C>
CellGenotype<C> derive_cell_capped(std::vector<double> w, const DeriveOptions& options) {
  constexpr std::size_t K = C::op_count;
  auto g = derive_cell<C>(w);
  if (!options.max_identity_ops) return g;
  while (identity_count(g) > *options.max_identity_ops) {
    // strike out the weakest kept identity op
    std::optional<std::size_t> weakest;
    for (std::size_t e = 0; e < C::edge_count; ++e)
      for (std::size_t op : g.ops(e))
        if (C::ops::is_identity[op] && (!weakest || w[e * K + op] < w[*weakest]))
          weakest = e * K + op;
    if (!weakest) break;
    w[*weakest] = -std::numeric_limits<double>::infinity();
    g = derive_cell<C>(w);
  }
  return g;
}

inline std::vector<double> to_vector(const torch::Tensor& t) {
  const auto cpu = t.detach().to(torch::kCPU, torch::kDouble).contiguous();
  return {cpu.data_ptr<double>(), cpu.data_ptr<double>() + cpu.numel()};
}
}  // namespace detail

/// The architecture a supernet's architecture parameters stand for, from the candidate
/// weights of each cell kind (softmax(alpha); under PC-DARTS's relaxation weighed by the edge
/// weights: SupernetImpl::candidate_weights): on a cell that keeps every edge
/// (NAS-Bench-201) the strongest op of each edge, zero ops included; otherwise DARTS's
/// rule: each computed node keeps the `keep` incoming edges whose strongest non-zero op
/// is strongest (ties to the lower edge), each with that op. Deterministic for fixed
/// parameters. `options.max_identity_ops` applies P-DARTS's cap.
template <search_space S, relaxation R>
  requires(R::learns_architecture)
[[nodiscard]] Genotype<S> derive(const SupernetImpl<S, R>& net, const DeriveOptions& options = {}) {
  torch::NoGradGuard no_grad;
  Genotype<S> g;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((g.template cell_at<I>() = detail::derive_cell_capped<typename S::template cell_at<I>>(
          detail::to_vector(net.candidate_weights(I)), options)),
     ...);
  }
  (std::make_index_sequence<S::cell_count>{});
  return g;
}
template <search_space S, relaxation R>
  requires(R::learns_architecture)
[[nodiscard]] Genotype<S> derive(const Supernet<S, R>& net, const DeriveOptions& options = {}) {
  return derive(*net, options);
}

/// How many kept ops of `g` are parameter-free in `net` (`none`, `skip_connect`, pools):
/// the count that grows when a DARTS search collapses.
template <search_space S, relaxation R>
[[nodiscard]] std::size_t parameter_free_count(const SupernetImpl<S, R>& net,
                                               const Genotype<S>& g) {
  std::size_t n = 0;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          using C = typename S::template cell_at<I>;
          for (std::size_t e = 0; e < C::edge_count; ++e)
            for (std::size_t op : g.template cell_at<I>().ops(e))
              n += net.parameter_free(I, op) ? 1U : 0U;
        }(),
        ...);
  }
  (std::make_index_sequence<S::cell_count>{});
  return n;
}

/// How many kept ops of `g` are identity ops (`skip_connect`), over every cell kind.
template <search_space S>
[[nodiscard]] std::size_t identity_count(const Genotype<S>& g) {
  std::size_t n = 0;
  g.for_each_cell([&](const auto& c) { n += detail::identity_count(c); });
  return n;
}

}  // namespace nas
