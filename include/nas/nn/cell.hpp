#pragma once
/// @file
/// The cells every layout stacks: nas::CellImpl (a discrete cell: the ops a genotype keeps)
/// and nas::SearchCellImpl (a supernet cell: a nas::MixedEdge on every edge), both built from
/// the nas::CellShape a skeleton gives; nas::detail::CellList, the typed list of a network's
/// cells.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <limits>
#include <memory>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nas/layout/layout.hpp"
#include "nas/nn/cell_edges.hpp"
#include "nas/nn/mixed_edge.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/darts.hpp"
#include "nas/relax/relaxation.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {

/// What a cell of kind `C` knows of its shape: each node's channels and the stride from each
/// input to each node, computed once from the nas::CellShape.
template <cell_kind C>
struct CellGeometry {
  std::vector<std::int64_t> channels;  // per node
  std::vector<EdgeShape> edges;        // per edge

  CellGeometry() = default;
  explicit CellGeometry(const CellShape& shape) {
    TORCH_CHECK(shape.inputs.size() == C::input_count, "a '", C::name, "' cell takes ",
                C::input_count, " inputs; the skeleton's CellShape gives ", shape.inputs.size());
    TORCH_CHECK(static_cast<bool>(shape.edge), "the skeleton's CellShape for a '", C::name,
                "' cell has no edge shapes (set CellShape::edge, e.g. nas::uniform_edges(c))");
    channels.assign(C::dag.node_count(), 0);
    for (std::size_t i = 0; i < C::input_count; ++i) {
      TORCH_CHECK(shape.inputs[i].channels > 0 && shape.inputs[i].stride > 0, "input ", i,
                  " of a '", C::name, "' cell needs positive channels and stride");
      channels[i] = shape.inputs[i].channels;
    }
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      const EdgeShape s = shape.edge(edge, edge.from < C::input_count);
      TORCH_CHECK(s.in == channels[edge.from] && s.out > 0 && s.stride > 0, "edge (", edge.from,
                  " -> ", edge.to, ") of a '", C::name, "' cell: the skeleton asks for ", s.in,
                  " -> ", s.out, " channels at stride ", s.stride, "; node ", edge.from, " has ",
                  channels[edge.from], " channels");
      TORCH_CHECK(channels[edge.to] == 0 || channels[edge.to] == s.out, "node ", edge.to, " of a '",
                  C::name, "' cell gets ", channels[edge.to], " channels from one edge and ", s.out,
                  " from another; every edge into a node must give it the same channels");
      channels[edge.to] = s.out;
      edges.push_back(s);
    }
  }

  /// The height and width of every node for inputs of the given resolutions (before
  /// preprocessing): an input node divides by its preprocessing stride, a computed node by
  /// the stride of its first incoming edge (as convolutions with "same" padding do).
  [[nodiscard]] std::vector<std::pair<std::int64_t, std::int64_t>> resolutions(
      const CellShape& shape,
      const std::vector<std::pair<std::int64_t, std::int64_t>>& inputs) const {
    std::vector<std::pair<std::int64_t, std::int64_t>> out(C::dag.node_count(), {0, 0});
    for (std::size_t i = 0; i < C::input_count; ++i) {
      const auto s = shape.inputs[i].stride;
      out[i] = {conv_output_size(inputs[i].first, 1, s, 0),
                conv_output_size(inputs[i].second, 1, s, 0)};
    }
    std::vector<bool> set(C::dag.node_count(), false);
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      if (set[edge.to]) continue;
      set[edge.to] = true;
      const auto s = edges[e].stride;
      out[edge.to] = {conv_output_size(out[edge.from].first, 1, s, 0),
                      conv_output_size(out[edge.from].second, 1, s, 0)};
    }
    return out;
  }
};

/// The preprocessing of a cell's inputs: built from the nas::CellShape's factories,
/// registered as `preprocess<i>`.
class CellInputs {
 public:
  void build(torch::nn::Module& owner, const CellShape& shape) {
    built_.clear();
    for (std::size_t i = 0; i < shape.inputs.size(); ++i) {
      const auto& input = shape.inputs[i];
      if (!input.preprocess) {
        built_.emplace_back();
        continue;
      }
      BuiltOp op = input.preprocess();
      std::string name = "preprocess";
      name += std::to_string(i);
      owner.register_module(name, op.module.ptr());
      built_.push_back(std::move(op));
    }
  }
  [[nodiscard]] torch::Tensor run(std::size_t i, const torch::Tensor& x) {
    return built_[i].module.is_empty() ? x : built_[i].module.forward(x);
  }
  [[nodiscard]] std::int64_t multiply_adds(std::size_t i, std::int64_t h, std::int64_t w) const {
    return built_[i].module.is_empty() ? 0 : built_[i].multiply_adds(h, w);
  }

 private:
  std::vector<BuiltOp> built_;
};

inline void check_cell_inputs(std::size_t given, std::size_t wanted, std::string_view cell) {
  TORCH_CHECK(given == wanted, "a '", cell, "' cell takes ", wanted, " inputs; got ", given);
}

/// Every edge of one supernet cell: a nas::MixedEdge per edge, registered on the cell
/// as `edge_<from>_<to>`, its candidates built as relaxation `R` says (candidate_args). With
/// `auxiliary_skip`, each edge also has DARTS-'s auxiliary skip connection: the identity on an
/// edge that keeps its shape, a nas::ops::FactorizedReduce without affine parameters
/// (registered as `edge_<from>_<to>_aux_skip`) on a stride-2 edge, as DARTS-'s code builds it.
template <cell_kind C, relaxation R>
class SearchEdges {
 public:
  template <class Args>
  void build(torch::nn::Module& owner, Args&& args, const R& relaxation,
             bool auxiliary_skip = false) {
    edges_.clear();
    args_.clear();
    aux_.clear();
    auxiliary_ = auxiliary_skip;
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      // appended piece by piece: GCC 12 at -O3 misreads "literal" + std::string
      std::string name = "edge_";
      name += std::to_string(edge.from);
      name += '_';
      name += std::to_string(edge.to);
      args_.push_back(args(e));
      edges_.push_back(owner.register_module(
          name, MixedEdge<typename C::ops>(detail::candidate_args(relaxation, args_.back()))));
      if (!auxiliary_skip) continue;
      const OpArgs& a = args_.back();
      if (a.stride == 1 && a.in == a.out) {
        aux_.emplace_back(nullptr);  // the identity
        continue;
      }
      TORCH_CHECK(a.stride == 2 && a.out % 2 == 0,
                  "DARTS-'s auxiliary skip connection "
                  "(SupernetOptions::auxiliary_skip) is the identity or, at stride 2, a factorized "
                  "reduction; edge (",
                  edge.from, " -> ", edge.to, ") of a '", C::name, "' cell maps ", a.in, " to ",
                  a.out, " channels at stride ", a.stride,
                  "; turn auxiliary_skip off for this space");
      OpArgs reduce = a;
      reduce.affine = false;
      name += "_aux_skip";
      aux_.push_back(owner.register_module(name, ops::FactorizedReduce(reduce)));
    }
  }

  /// Runs every edge under `mix` over `states` (the inputs filled in), through the
  /// relaxation's forward_edge; each computed node becomes the sum of its edges' outputs,
  /// each weighed by EdgeMix::edge_weights where the relaxation gives them.
  void run(std::vector<torch::Tensor>& states, const EdgeMix& mix, const R& relaxation) {
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      if (!mix.active.empty() && e < mix.active.size() && mix.active[e].empty()) continue;
      TORCH_CHECK(states[edge.from].defined(), "node ", edge.from, " of a '", C::name,
                  "' cell has no active input, yet edge (", edge.from, " -> ", edge.to,
                  ") is active; a relaxation's path must feed every node it reads");
      auto& mixed = edges_[e];
      auto h =
          detail::forward_edge(relaxation, states[edge.from], args_[e],
                               [&](const torch::Tensor& x) { return mixed->forward(x, mix, e); });
      if (!h.defined()) continue;
      if (auxiliary_ && mix.auxiliary_skip != 0.0) {
        const auto& x = states[edge.from];
        h = h + mix.auxiliary_skip * (aux_[e] ? aux_[e]->forward(x) : x);
      }
      if (mix.edge_weights.defined())
        h = h * mix.edge_weights.select(0, static_cast<std::int64_t>(e));
      states[edge.to] = states[edge.to].defined() ? states[edge.to] + h : h;
    }
  }

  [[nodiscard]] const MixedEdge<typename C::ops>& edge(std::size_t e) const { return edges_[e]; }
  /// The shape of edge `e` (its candidates may see less: the relaxation's candidate_args).
  [[nodiscard]] const OpArgs& edge_args(std::size_t e) const { return args_[e]; }

 private:
  std::vector<MixedEdge<typename C::ops>> edges_;
  std::vector<OpArgs> args_;
  std::vector<ops::FactorizedReduce> aux_;  // DARTS-'s auxiliary skip (empty: the identity)
  bool auxiliary_ = false;
};

}  // namespace detail

/// One discrete cell of kind `C`, as a skeleton shapes it (nas::CellShape): the inputs
/// preprocessed, only the genotype's ops built (each with the shape the skeleton gives its
/// edge), each node the sum of its kept inputs, the output the DAG's: the concatenation of
/// the genotype's concatenated nodes, or the last node.
///
/// Submodules: `preprocess<i>` for each input with preprocessing, and one per kept op named
/// `edge_<from>_<to>_<op>` (a second op on the same edge gets `_2`).
template <cell_kind C>
class CellImpl : public torch::nn::Cloneable<CellImpl<C>> {
 public:
  CellImpl(const CellGenotype<C>& genotype, CellShape shape, const CellOptions& options = {})
      : genotype_(genotype), shape_(std::move(shape)), options_(options), geometry_(shape_) {
    genotype_.validate();
    reset();
  }

  void reset() override {
    inputs_.build(*this, shape_);
    edges_.build(*this, genotype_, [&](const Edge& edge) {
      const auto& s = geometry_.edges[C::edge_index(edge.from, edge.to)];
      return OpArgs{s.in, s.out, s.stride, options_.affine, options_.track_running_stats};
    });
  }

  /// The cell's output for its inputs (one tensor per input node, before preprocessing).
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs, double drop_path = 0.0) {
    detail::check_cell_inputs(inputs.size(), C::input_count, C::name);
    std::vector<torch::Tensor> states(C::dag.node_count());
    for (std::size_t i = 0; i < C::input_count; ++i) states[i] = inputs_.run(i, inputs[i]);
    edges_.run(states, this->is_training(), drop_path);
    if constexpr (C::dag.output == Output::last_node) {
      return states.back();
    } else {
      std::vector<torch::Tensor> out;
      for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v)
        if (genotype_.concatenated(v)) out.push_back(states[v]);
      return torch::cat(out, 1);
    }
  }
  /// Multiply-adds (convolutions and linear layers, batch 1) for inputs of the given heights
  /// and widths (before preprocessing), one pair per input.
  [[nodiscard]] std::int64_t multiply_adds(
      const std::vector<std::pair<std::int64_t, std::int64_t>>& inputs) const {
    detail::check_cell_inputs(inputs.size(), C::input_count, C::name);
    std::int64_t n = 0;
    for (std::size_t i = 0; i < C::input_count; ++i)
      n += inputs_.multiply_adds(i, inputs[i].first, inputs[i].second);
    const auto res = geometry_.resolutions(shape_, inputs);
    return n + edges_.multiply_adds([&](std::size_t from) { return res[from]; });
  }

  /// Output channels: the concatenated nodes' channels, or the last node's.
  [[nodiscard]] std::int64_t out_channels() const {
    if constexpr (C::dag.output == Output::last_node) {
      return geometry_.channels.back();
    } else {
      std::int64_t n = 0;
      for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v)
        n += genotype_.concatenated(v) ? geometry_.channels[v] : 0;
      return n;
    }
  }
  [[nodiscard]] const CellGenotype<C>& genotype() const noexcept { return genotype_; }

 private:
  CellGenotype<C> genotype_;
  CellShape shape_;
  CellOptions options_;
  detail::CellGeometry<C> geometry_;
  detail::CellInputs inputs_;
  detail::CellEdges<C> edges_;
};

/// Module holder of nas::CellImpl<C>.
template <cell_kind C>
class CellModule : public torch::nn::ModuleHolder<CellImpl<C>> {
 public:
  using torch::nn::ModuleHolder<CellImpl<C>>::ModuleHolder;
};

/// One supernet cell of kind `C`, as a skeleton shapes it: the inputs preprocessed (batch
/// norms per nas::CellOptions), a nas::MixedEdge on every edge, the output the DAG's: the
/// concatenation of every computed node (as DARTS's search network does), or the last node.
///
/// Submodules: `preprocess<i>` for each input with preprocessing, `edge_<from>_<to>` per edge.
template <cell_kind C, relaxation R>
class SearchCellImpl : public torch::nn::Module {
 public:
  /// `auxiliary_skip`: each edge also gets DARTS-'s auxiliary skip connection
  /// (nas::SupernetOptions::auxiliary_skip), weighed by EdgeMix::auxiliary_skip.
  SearchCellImpl(CellShape shape, const CellOptions& options, const R& relaxation,
                 bool auxiliary_skip = false)
      : shape_(std::move(shape)), geometry_(shape_) {
    inputs_.build(*this, shape_);
    edges_.build(
        *this,
        [&](std::size_t e) {
          const auto& s = geometry_.edges[e];
          return OpArgs{s.in, s.out, s.stride, options.affine, options.track_running_stats};
        },
        relaxation, auxiliary_skip);
  }

  /// The cell's output under `mix` (and the relaxation's hooks) for its inputs (before
  /// preprocessing).
  torch::Tensor forward(const std::vector<torch::Tensor>& inputs, const EdgeMix& mix,
                        const R& relaxation) {
    detail::check_cell_inputs(inputs.size(), C::input_count, C::name);
    std::vector<torch::Tensor> states(C::dag.node_count());
    for (std::size_t i = 0; i < C::input_count; ++i) states[i] = inputs_.run(i, inputs[i]);
    edges_.run(states, mix, relaxation);
    if constexpr (C::dag.output == Output::last_node) {
      TORCH_CHECK(states.back().defined(), "the output node of a '", C::name,
                  "' cell received no input on this path");
      return states.back();
    } else {
      std::vector<torch::Tensor> out;
      for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v) {
        TORCH_CHECK(states[v].defined(), "node ", v, " of a '", C::name,
                    "' cell received no input on this path");
        out.push_back(states[v]);
      }
      return torch::cat(out, 1);
    }
  }

  /// Output channels: every computed node's channels, or the last node's.
  [[nodiscard]] std::int64_t out_channels() const {
    if constexpr (C::dag.output == Output::last_node) {
      return geometry_.channels.back();
    } else {
      std::int64_t n = 0;
      for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v) n += geometry_.channels[v];
      return n;
    }
  }
  [[nodiscard]] const detail::SearchEdges<C, R>& edges() const noexcept { return edges_; }

 private:
  CellShape shape_;
  detail::CellGeometry<C> geometry_;
  detail::CellInputs inputs_;
  detail::SearchEdges<C, R> edges_;
};

namespace detail {

/// The cells of a network in stack order, registered in a `torch::nn::ModuleList` (so they are
/// named `cells.<i>`), with fixed blocks between them (nas::layouts::Nb201's residual blocks).
/// Each position remembers its cell kind and a typed pointer, so running a cell is one
/// typed call: no cast per call. `refresh()` re-reads the typed pointers after clone()
/// replaced the list's modules.
template <search_space S, template <class> class CellT>
class CellList {
 public:
  static constexpr std::size_t no_kind = std::numeric_limits<std::size_t>::max();

  /// Forgets every cell (a network's reset() builds them again).
  void clear() {
    list = torch::nn::ModuleList(nullptr);
    slots_.clear();
    std::apply([](auto&... v) { (v.clear(), ...); }, typed_);
  }

  /// Appends a cell of kind `I`; the list is registered on `owner` as `cells` at the first
  /// position (so it takes its place among the skeleton's modules in registration order).
  template <std::size_t I>
  void add(torch::nn::Module& owner, std::shared_ptr<CellT<typename S::template cell_at<I>>> cell) {
    ensure(owner);
    auto* raw = cell.get();
    list->push_back(std::move(cell));
    slots_.push_back({I, std::get<I>(typed_).size()});
    std::get<I>(typed_).push_back(raw);
  }
  /// Appends a fixed module; returns its position.
  std::size_t add_block(torch::nn::Module& owner, std::shared_ptr<torch::nn::Module> block) {
    ensure(owner);
    list->push_back(std::move(block));
    slots_.push_back({no_kind, 0});
    return list->size() - 1;
  }
  /// The fixed module at position `i`, as `Impl`.
  template <class Impl>
  [[nodiscard]] Impl& block(std::size_t i) const {
    TORCH_CHECK(i < slots_.size() && slots_[i].kind == no_kind, "position ", i,
                " of the network holds no block");
    auto* p = dynamic_cast<Impl*>(module_at(i));
    TORCH_CHECK(p != nullptr, "the block at position ", i,
                " of a nas network is of another type than the skeleton asks for");
    return *p;
  }

  /// Re-reads the typed pointers from the list (after clone() replaced its modules).
  void refresh() {
    std::apply([](auto&... v) { (v.clear(), ...); }, typed_);
    for (std::size_t i = 0; i < slots_.size(); ++i) {
      const std::size_t kind = slots_[i].kind;
      if (kind == no_kind) continue;
      for_kinds([&]<std::size_t I>() {
        if (kind != I) return;
        auto* p = dynamic_cast<CellT<typename S::template cell_at<I>>*>(module_at(i));
        TORCH_CHECK(p != nullptr,
                    "the cells list of a nas network holds a module of another "
                    "type at position ",
                    i, " (was it changed from outside?)");
        std::get<I>(typed_).push_back(p);
      });
    }
  }

  /// Calls `f(cell)` on the cell at position `i`, typed.
  template <class F>
  decltype(auto) visit(std::size_t i, F&& f) const {
    TORCH_CHECK(i < slots_.size() && slots_[i].kind != no_kind, "position ", i,
                " of the network holds no cell (", slots_.size(), " positions)");
    check_unchanged(i);
    return visit_kind(i, f, std::make_index_sequence<S::cell_count>{});
  }

  /// The cells of kind `I` in stack order.
  template <std::size_t I>
  [[nodiscard]] const std::vector<CellT<typename S::template cell_at<I>>*>& of_kind() const {
    return std::get<I>(typed_);
  }
  [[nodiscard]] bool is_cell(std::size_t i) const {
    return i < slots_.size() && slots_[i].kind != no_kind;
  }
  [[nodiscard]] std::size_t kind(std::size_t i) const { return slots_.at(i).kind; }
  [[nodiscard]] std::size_t size() const noexcept { return slots_.size(); }

  torch::nn::ModuleList list{nullptr};

 private:
  void ensure(torch::nn::Module& owner) {
    if (!list) list = owner.register_module("cells", torch::nn::ModuleList());
  }
  struct Slot {
    std::size_t kind;
    std::size_t index;  // among the cells of its kind
  };
  template <class Seq>
  struct typed_lists;
  template <std::size_t... I>
  struct typed_lists<std::index_sequence<I...>> {
    using type = std::tuple<std::vector<CellT<typename S::template cell_at<I>>*>...>;
  };
  using Typed = typename typed_lists<std::make_index_sequence<S::cell_count>>::type;

  // The module at position `i`, without copying its shared_ptr (no reference-count traffic).
  [[nodiscard]] torch::nn::Module* module_at(std::size_t i) const {
    return (list->begin() + static_cast<std::ptrdiff_t>(i))->get();
  }
  template <class F>
  static void for_kinds(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }
    (std::make_index_sequence<S::cell_count>{});
  }
  void check_unchanged(std::size_t i) const {
    const std::size_t kind = slots_[i].kind;
    bool same = false;
    for_kinds([&]<std::size_t I>() {
      if (kind == I) {
        const auto& v = std::get<I>(typed_);
        same = slots_[i].index < v.size() &&
               static_cast<const torch::nn::Module*>(v[slots_[i].index]) == module_at(i);
      }
    });
    TORCH_CHECK(same,
                "nas network: its cells list no longer holds the modules it built (was it "
                "changed from outside?)");
  }
  template <class F, std::size_t First, std::size_t... Rest>
  decltype(auto) visit_kind(std::size_t i, F& f, std::index_sequence<First, Rest...>) const {
    if constexpr (sizeof...(Rest) == 0) {
      return f(*std::get<First>(typed_)[slots_[i].index]);
    } else {
      if (slots_[i].kind == First) return f(*std::get<First>(typed_)[slots_[i].index]);
      return visit_kind(i, f, std::index_sequence<Rest...>{});
    }
  }

  std::vector<Slot> slots_;
  Typed typed_{};
};

}  // namespace detail

}  // namespace nas
