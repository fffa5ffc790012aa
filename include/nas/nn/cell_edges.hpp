#pragma once
/// @file
/// nas::detail::CellEdges: the kept ops of one discrete cell, built from its genotype,
/// registered on the cell module, run over the DAG and counted. Shared by every cell
/// discrete cell (nas::CellImpl).

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nas/ops/make_op.hpp"
#include "nas/space/genotype.hpp"

namespace nas::detail {

/// Zeroes whole samples with probability `p` and rescales the rest (drop path).
inline torch::Tensor drop_path(const torch::Tensor& x, double p) {
  const double keep = 1.0 - p;
  const auto mask = torch::empty({x.size(0), 1, 1, 1}, x.options()).bernoulli_(keep);
  return x.div(keep).mul(mask);
}

template <cell_kind C>
class CellEdges {
 public:
  /// Builds every kept op of `genotype` with the nas::OpArgs `args(edge)` gives and
  /// registers it on `owner` as `edge_<from>_<to>_<op>` (`_2` for a second same op).
  template <class Args>
  void build(torch::nn::Module& owner, const CellGenotype<C>& genotype, Args&& args) {
    edges_.clear();
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      for (std::size_t op : genotype.ops(e)) {
        const OpArgs a = args(edge);
        BuiltOp built = make_op<typename C::ops>(op, a);
        std::size_t occurrence = 1;
        for (const auto& other : edges_)
          if (other.from == edge.from && other.to == edge.to && other.op == op) ++occurrence;
        owner.register_module(edge_module_name(edge.from, edge.to, C::ops::names[op], occurrence),
                              built.module.ptr());
        edges_.push_back({edge.from, edge.to, op, a.out, C::ops::is_identity[op] && a.stride == 1,
                          std::move(built.module), std::move(built.multiply_adds)});
      }
    }
  }

  /// Runs the ops over `states` (the inputs filled in): each node becomes the sum of its
  /// kept inputs, each checked to have the channels its nas::OpArgs asked for; in training,
  /// drop path on every op but the identity.
  void run(std::vector<torch::Tensor>& states, bool training, double drop_path_probability) {
    for (auto& e : edges_) {
      auto h = e.module.forward(states[e.from]);
      check_edge_output(h, e.out, states[e.to], C::ops::names[e.op], e.from, e.to, C::name);
      if (training && drop_path_probability > 0.0 && !e.identity)
        h = drop_path(h, drop_path_probability);
      states[e.to] = states[e.to].defined() ? states[e.to] + h : h;
    }
  }

  /// Multiply-adds of the ops; `resolution(from)` gives the height and width of node `from`.
  template <class Resolution>
  [[nodiscard]] std::int64_t multiply_adds(Resolution&& resolution) const {
    std::int64_t n = 0;
    for (const auto& e : edges_) {
      const auto [h, w] = resolution(e.from);
      n += e.multiply_adds(h, w);
    }
    return n;
  }

 private:
  struct BuiltEdge {
    std::size_t from;
    std::size_t to;
    std::size_t op;
    std::int64_t out;
    bool identity;
    torch::nn::AnyModule module;
    std::function<std::int64_t(std::int64_t, std::int64_t)> multiply_adds;
  };
  std::vector<BuiltEdge> edges_;
};

}  // namespace nas::detail
