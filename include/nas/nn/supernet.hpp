#pragma once
/// @file
/// nas::Supernet<Space, Relaxation>: every candidate op on every edge of every cell, with
/// shared weights and one architecture parameter tensor per cell kind; a
/// nas::relaxation decides how each edge mixes its candidates.

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/ordered_dict.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/core/fixed_string.hpp"
#include "nas/nn/darts_network.hpp"
#include "nas/nn/mixed_edge.hpp"
#include "nas/nn/mobile_network.hpp"
#include "nas/nn/nb201_network.hpp"
#include "nas/nn/network.hpp"
#include "nas/nn/stack.hpp"
#include "nas/ops/darts.hpp"
#include "nas/ops/nb201.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/space.hpp"

namespace nas {

/// Batch-norm settings of a supernet's cells (the stem, the classifier and NAS-Bench-201's
/// residual blocks keep learnable, tracking batch norms, as the references do).
struct SupernetOptions {
  /// learnable scale and shift in the cells' batch norms (DARTS and NAS-Bench-201 search: no)
  bool affine = false;
  /// running statistics in the cells' batch norms; unset: DARTS skeletons yes,
  /// NAS-Bench-201 no (the settings of the two references)
  std::optional<bool> track_running_stats{};
  /// architecture parameters start as `init_scale * N(0, 1)` (both references: 1e-3)
  double init_scale = 1e-3;
};

namespace detail {

/// Every edge of one supernet cell: a nas::MixedEdge per edge, registered on the cell
/// as `edge_<from>_<to>`.
template <cell_kind C>
class SearchEdges {
 public:
  template <class Args>
  void build(torch::nn::Module& owner, Args&& args) {
    edges_.clear();
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      // appended piece by piece: GCC 12 at -O3 misreads "literal" + std::string
      std::string name = "edge_";
      name += std::to_string(edge.from);
      name += '_';
      name += std::to_string(edge.to);
      edges_.push_back(owner.register_module(name, MixedEdge<typename C::ops>(args(edge))));
    }
  }

  /// Runs every edge under `mix` over `states` (the inputs filled in); each computed
  /// node becomes the sum of its edges' outputs.
  void run(std::vector<torch::Tensor>& states, const EdgeMix& mix) {
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      const Edge edge = C::edges[e];
      if (!mix.active.empty() && e < mix.active.size() && mix.active[e].empty()) continue;
      TORCH_CHECK(states[edge.from].defined(), "node ", edge.from, " of a '", C::name,
                  "' cell has no active input, yet edge (", edge.from, " -> ", edge.to,
                  ") is active; a relaxation's path must feed every node it reads");
      auto h = edges_[e]->forward(states[edge.from], mix, e);
      if (h.defined()) states[edge.to] = states[edge.to].defined() ? states[edge.to] + h : h;
    }
  }

  [[nodiscard]] const MixedEdge<typename C::ops>& edge(std::size_t e) const { return edges_[e]; }

 private:
  std::vector<MixedEdge<typename C::ops>> edges_;
};

}  // namespace detail

/// One supernet cell of a DARTS-style space: the two inputs preprocessed (batch norms per
/// nas::SupernetOptions), a nas::MixedEdge on every edge (stride 2 on the edges of a
/// reduction cell that leave an input), the output the concatenation of every computed
/// node (as DARTS's search network does).
template <cell_kind C>
class DartsSearchCellImpl : public torch::nn::Module {
 public:
  DartsSearchCellImpl(const CellSizes& sizes, bool affine, bool track) : sizes_(sizes) {
    const auto c = sizes.channels;
    if (sizes.reduction_prev)
      preprocess0 = torch::nn::AnyModule(register_module(
          "preprocess0", ops::FactorizedReduce(OpArgs{sizes.prev_prev, c, 2, affine, track})));
    else
      preprocess0 = torch::nn::AnyModule(register_module(
          "preprocess0",
          ops::ReLUConvBN(ops::ReLUConvBNOptions{
              .in = sizes.prev_prev, .out = c, .affine = affine, .track_running_stats = track})));
    preprocess1 = register_module(
        "preprocess1",
        ops::ReLUConvBN(ops::ReLUConvBNOptions{
            .in = sizes.prev, .out = c, .affine = affine, .track_running_stats = track}));
    edges_.build(*this, [&](const Edge& edge) {
      return OpArgs{c, c, sizes.reduction && edge.from < C::input_count ? 2 : 1, affine, track};
    });
  }

  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, const EdgeMix& mix) {
    std::vector<torch::Tensor> states(C::dag.node_count());
    states[0] = preprocess0.forward(s0);
    states[1] = preprocess1(s1);
    edges_.run(states, mix);
    std::vector<torch::Tensor> out;
    for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v) {
      TORCH_CHECK(states[v].defined(), "node ", v, " of a '", C::name,
                  "' cell received no input on this path");
      out.push_back(states[v]);
    }
    return torch::cat(out, 1);
  }

  /// Output channels: computed nodes x channels.
  [[nodiscard]] std::int64_t out_channels() const noexcept {
    return static_cast<std::int64_t>(C::node_count) * sizes_.channels;
  }
  [[nodiscard]] const detail::SearchEdges<C>& edges() const noexcept { return edges_; }

  torch::nn::AnyModule preprocess0;
  ops::ReLUConvBN preprocess1{nullptr};

 private:
  CellSizes sizes_;
  detail::SearchEdges<C> edges_;
};

/// One supernet cell of a NAS-Bench-201-style space: a nas::MixedEdge on every edge,
/// the output the last node.
template <cell_kind C>
class Nb201SearchCellImpl : public torch::nn::Module {
 public:
  Nb201SearchCellImpl(std::int64_t channels, bool affine, bool track) {
    edges_.build(*this, [&](const Edge&) { return OpArgs{channels, channels, 1, affine, track}; });
  }
  torch::Tensor forward(const torch::Tensor& x, const EdgeMix& mix) {
    std::vector<torch::Tensor> states(C::dag.node_count());
    states[0] = x;
    edges_.run(states, mix);
    TORCH_CHECK(states.back().defined(), "the output node of a '", C::name,
                "' cell received no input on this path");
    return states.back();
  }
  [[nodiscard]] const detail::SearchEdges<C>& edges() const noexcept { return edges_; }

 private:
  detail::SearchEdges<C> edges_;
};

/// The searched layers of a layer-wise (chain) space: a nas::MixedEdge per layer, each
/// with the shape nas::mobile_layout gives it.
template <cell_kind C>
class MobileSearchLayersImpl : public torch::nn::Module {
 public:
  MobileSearchLayersImpl(const MobileLayout& layout, bool affine, bool track) {
    edges_.build(*this, [&](const Edge& edge) {
      const auto& l = layout.layers[edge.from];
      return OpArgs{l.in, l.out, l.stride, affine, track};
    });
  }
  torch::Tensor forward(const torch::Tensor& x, const EdgeMix& mix) {
    std::vector<torch::Tensor> states(C::dag.node_count());
    states[0] = x;
    edges_.run(states, mix);
    TORCH_CHECK(states.back().defined(), "the last layer of a '", C::name,
                "' chain received no input on this path");
    return states.back();
  }
  [[nodiscard]] const detail::SearchEdges<C>& edges() const noexcept { return edges_; }

 private:
  detail::SearchEdges<C> edges_;
};

namespace detail {
template <class R>
concept follows_path = relaxation<R> && requires(R& r, std::vector<std::vector<std::size_t>> v) {
  r.set_path(std::size_t{}, std::move(v));
};
}  // namespace detail

/// The supernet of space `S` under relaxation `R`, at the run-time sizes of a nas::Stack,
/// on the skeleton nas::Network stacks the space on: a DARTS-style space on the DARTS
/// CIFAR skeleton (as DARTS's search network: `layers` cells, reductions at 1/3 and 2/3,
/// a 3x3 stem of `stem_multiplier x channels`), a NAS-Bench-201-style space on the
/// NAS-Bench-201 skeleton (3 stages of `layers` cells joined by residual blocks). At
/// `nas::Stack{}` on nas::spaces::darts it has DARTS's 1,930,618 weights and 224
/// architecture parameters.
///
/// Every edge holds every candidate (nas::MixedEdge, a typed tuple); the architecture
/// parameters are one tensor `[edges, ops]` per cell kind, shared by every cell of the
/// kind, registered as `alpha_<cell kind>` (so `to(device)` and serialization carry
/// them). Give the weight optimizer weight_parameters() and the architecture optimizer
/// arch_parameters(): `parameters()` holds both.
///
/// Not cloneable (its edges hold their candidates in typed tuples).
template <search_space S, relaxation R>
class SupernetImpl : public torch::nn::Module {
  static_assert(detail::space_ops_are_operations<S>::value,
                "nas::Supernet: every op's module type must be a nas::operation: built from "
                "nas::OpArgs, with forward(torch::Tensor) -> torch::Tensor, held as a LibTorch "
                "module (TORCH_MODULE); adapt another type through nas::operation_traits");
  static_assert(detail::darts_style_space<S> || detail::nb201_style_space<S>,
                "nas::Supernet stacks DARTS-style spaces (cells \"normal\" and \"reduce\", 2 "
                "inputs, concatenated outputs), NAS-Bench-201-style spaces (one cell kind, 1 "
                "input, output the last node) and layer-wise spaces (one chain cell); this space "
                "is none of them");
  static constexpr bool darts_layout = detail::darts_style_space<S>;
  static constexpr bool mobile_layout_ = !darts_layout && detail::mobile_style_space<S>;

 public:
  using space = S;
  using relaxation_type = R;
  static constexpr std::size_t cell_kinds = S::cell_count;

  explicit SupernetImpl(const Stack& stack = {}, R relaxation = {},
                        const SupernetOptions& options = {})
      : stack_(stack), relaxation_(std::move(relaxation)), options_(options) {
    TORCH_CHECK(stack.classes > 0 && stack.input_channels > 0 && stack.channels > 0,
                "nas::Supernet needs positive channels, classes and input channels");
    TORCH_CHECK(!stack.auxiliary,
                "nas::Supernet has no auxiliary head; set Stack::auxiliary = "
                "false (the final network has one: nas::Network)");
    const bool track = options.track_running_stats.value_or(darts_layout);
    if constexpr (darts_layout) {
      TORCH_CHECK(stack.skeleton == Skeleton::darts_cifar,
                  "a DARTS-style supernet stacks on Skeleton::darts_cifar; got another skeleton");
      TORCH_CHECK(stack.layers >= 3,
                  "nas::Supernet needs at least 3 layers (two are reduction "
                  "cells); got ",
                  stack.layers);
      TORCH_CHECK(stack.channels % 2 == 0, "nas::Supernet needs an even channel count; got ",
                  stack.channels);
      build_darts(options.affine, track);
    } else if constexpr (mobile_layout_) {
      TORCH_CHECK(stack.skeleton == Skeleton::mobile,
                  "a layer-wise (chain) space is stacked on Skeleton::mobile; set "
                  "Stack::skeleton = nas::Skeleton::mobile");
      build_mobile(options.affine, track);
    } else {
      TORCH_CHECK(stack.skeleton == Skeleton::nb201,
                  "a NAS-Bench-201-style space is stacked on Skeleton::nb201; set "
                  "Stack::skeleton = nas::Skeleton::nb201");
      TORCH_CHECK(stack.layers >= 1, "Stack::layers (cells per stage) must be positive; got ",
                  stack.layers);
      build_nb201(options.affine, track);
    }
    if constexpr (R::learns_architecture) {
      for_each_kind([&]<std::size_t I>() {
        using C = typename S::template cell_at<I>;
        alphas_[I] = register_parameter(alpha_name(C::name),
                                        torch::randn({static_cast<std::int64_t>(C::edge_count),
                                                      static_cast<std::int64_t>(C::op_count)}) *
                                            options.init_scale);
      });
    }
    find_parameter_free_ops();
  }

  /// Logits for a batch of images `[N, input_channels, H, W]`. Computes each cell kind's
  /// nas::EdgeMix once (the relaxation's mix), then runs every cell under it.
  torch::Tensor forward(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == stack_.input_channels,
                "nas::Supernet expects images [N, ", stack_.input_channels,
                ", H, W] (Stack::input_channels); got a tensor of shape ", x.sizes());
    TORCH_CHECK(mobile_layout_ || (x.size(2) % 4 == 0 && x.size(3) % 4 == 0),
                "nas::Supernet needs a height and width divisible by 4 (two reductions halve "
                "them); got ",
                x.size(2), "x", x.size(3));
    std::array<EdgeMix, cell_kinds> mixes;
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      mixes[I] = relaxation_.mix(alphas_[I],
                                 MixContext{I, C::edge_count, C::op_count, this->is_training()});
    });
    if constexpr (darts_layout) {
      torch::Tensor s0 = stem->forward(x);
      torch::Tensor s1 = s0;
      for (std::size_t i = 0; i < cells->size(); ++i) {
        torch::Tensor next;
        if (is_reduction(i))
          next = detail::checked(cells->template ptr<DartsSearchCellImpl<reduce_cell>>(i))
                     .forward(s0, s1, mixes[reduce_index]);
        else
          next = detail::checked(cells->template ptr<DartsSearchCellImpl<normal_cell>>(i))
                     .forward(s0, s1, mixes[normal_index]);
        s0 = s1;
        s1 = next;
      }
      return classifier(torch::adaptive_avg_pool2d(s1, {1, 1}).flatten(1));
    } else if constexpr (mobile_layout_) {
      torch::Tensor y = stem->forward(x);
      y = detail::checked(cells->template ptr<MobileSearchLayersImpl<cell0>>(0))
              .forward(y, mixes[0]);
      y = lastact->forward(y);
      return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
    } else {
      torch::Tensor y = stem->forward(x);
      for (std::size_t i = 0; i < cells->size(); ++i) {
        if (is_reduction(i))
          y = detail::checked(cells->template ptr<ops::ResNetBasicBlockImpl>(i)).forward(y);
        else
          y = detail::checked(cells->template ptr<Nb201SearchCellImpl<cell0>>(i))
                  .forward(y, mixes[0]);
      }
      y = lastact->forward(y);
      return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
    }
  }

  /// Every parameter except the architecture parameters (for the weight optimizer).
  [[nodiscard]] std::vector<torch::Tensor> weight_parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto& p : this->parameters()) {
      bool arch = false;
      for (const auto& a : alphas_) arch = arch || (a.defined() && a.is_same(p));
      if (!arch) out.push_back(p);
    }
    return out;
  }
  /// Named weight parameters (as named_parameters(), architecture parameters left out).
  [[nodiscard]] torch::OrderedDict<std::string, torch::Tensor> named_weight_parameters() const {
    torch::OrderedDict<std::string, torch::Tensor> out;
    for (const auto& p : this->named_parameters()) {
      bool arch = false;
      for (const auto& a : alphas_) arch = arch || (a.defined() && a.is_same(p.value()));
      if (!arch) out.insert(p.key(), p.value());
    }
    return out;
  }
  /// The architecture parameters, one `[edges, ops]` tensor per cell kind in cell-kind
  /// order (empty under a relaxation that learns none).
  [[nodiscard]] std::vector<torch::Tensor> arch_parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto& a : alphas_)
      if (a.defined()) out.push_back(a);
    return out;
  }
  /// The architecture parameters keyed by cell kind name.
  [[nodiscard]] torch::OrderedDict<std::string, torch::Tensor> named_arch_parameters() const {
    torch::OrderedDict<std::string, torch::Tensor> out;
    for (std::size_t i = 0; i < cell_kinds; ++i)
      if (alphas_[i].defined()) out.insert(std::string(S::cell_names[i]), alphas_[i]);
    return out;
  }
  /// The architecture parameters of the cell kind named `Name` (`alpha<"normal">()`).
  template <FixedString Name>
  [[nodiscard]] torch::Tensor alpha() const requires(R::learns_architecture) {
    return alphas_[S::template cell_index<Name>];
  }
  /// The architecture parameters of cell kind `kind`.
  [[nodiscard]] torch::Tensor alpha_at(std::size_t kind) const {
    TORCH_CHECK(kind < cell_kinds, "cell kind ", kind, " out of range; the space has ", cell_kinds);
    TORCH_CHECK(R::learns_architecture,
                "this supernet's relaxation learns no architecture "
                "parameters");
    return alphas_[kind];
  }
  /// The architecture parameters of the cell kind named `name`.
  [[nodiscard]] torch::Tensor alpha(std::string_view name) const {
    const auto kind = S::find_cell(name);
    TORCH_CHECK(kind.has_value(), "the space has no cell kind named '", std::string(name), "'");
    return alpha_at(*kind);
  }

  /// Runs only the ops of `genotype` from now on (nas::relax::SinglePath).
  void set_path(const Genotype<S>& genotype) requires detail::follows_path<R> {
    genotype.validate();
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      std::vector<std::vector<std::size_t>> lists(C::edge_count);
      for (std::size_t e = 0; e < C::edge_count; ++e)
        for (std::size_t op : genotype.template cell_at<I>().ops(e)) lists[e].push_back(op);
      relaxation_.set_path(I, std::move(lists));
    });
    path_ = genotype;
  }
  /// Draws a uniformly random architecture, runs it from now on, and returns it.
  template <std::uniform_random_bit_generator G>
  Genotype<S> sample_path(G& rng) requires detail::follows_path<R> {
    auto g = nas::sample<S>(rng);
    set_path(g);
    return g;
  }
  /// The architecture set by set_path, if any.
  [[nodiscard]] const std::optional<Genotype<S>>& path() const noexcept { return path_; }

  /// The learnable parameters of every candidate op, per cell kind: one `[edges, ops]`
  /// float tensor per kind (on the architecture parameters' device), each entry summed
  /// over every cell of the kind (alpha is shared by them). With nas::expected_cost it
  /// gives a differentiable size penalty for the architecture loss.
  [[nodiscard]] std::vector<torch::Tensor> op_parameter_counts() const {
    std::vector<torch::Tensor> out;
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      std::vector<double> counts(C::edge_count * C::op_count, 0.0);
      for (const detail::SearchEdges<C>* edges : search_edges<I>())
        for (std::size_t e = 0; e < C::edge_count; ++e) {
          const auto children = edges->edge(e)->named_children();
          for (std::size_t k = 0; k < C::op_count; ++k)
            for (const auto& t : children[detail::module_name(C::ops::names[k])]->parameters())
              counts[e * C::op_count + k] += static_cast<double>(t.numel());
        }
      auto options = torch::TensorOptions(torch::kFloat);
      if (alphas_[I].defined()) options = options.device(alphas_[I].device());
      out.push_back(torch::tensor(counts, torch::kDouble)
                        .reshape({static_cast<std::int64_t>(C::edge_count),
                                  static_cast<std::int64_t>(C::op_count)})
                        .to(options));
    });
    return out;
  }

  /// Whether op `op` of cell kind `kind` has no learnable parameters at stride 1 (as
  /// `none`, `skip_connect` and the pools): the ops a collapsing DARTS search piles up.
  [[nodiscard]] bool parameter_free(std::size_t kind, std::size_t op) const {
    TORCH_CHECK(kind < cell_kinds && op < parameter_free_[kind].size(), "cell kind ", kind,
                " / op ", op, " out of range");
    return parameter_free_[kind][op];
  }

  [[nodiscard]] R& relaxation() noexcept { return relaxation_; }
  [[nodiscard]] const R& relaxation() const noexcept { return relaxation_; }
  [[nodiscard]] const Stack& stack() const noexcept { return stack_; }
  [[nodiscard]] const SupernetOptions& options() const noexcept { return options_; }

  torch::nn::Sequential stem{nullptr};
  torch::nn::ModuleList cells{nullptr};
  /// NAS-Bench-201 skeleton: BN and ReLU; mobile skeleton: the 1x1 feature-mix layer
  torch::nn::Sequential lastact{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  template <class F>
  static void for_each_kind(F&& f) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (f.template operator()<I>(), ...); }
    (std::make_index_sequence<cell_kinds>{});
  }
  static std::string alpha_name(std::string_view kind) {
    std::string name = "alpha_";
    name += detail::module_name(kind);
    return name;
  }

  template <class T>
  static constexpr std::size_t index_or_zero(std::string_view name) {
    return T::find_cell(name).value_or(0);
  }
  static constexpr std::size_t normal_index = index_or_zero<S>("normal");
  static constexpr std::size_t reduce_index = index_or_zero<S>("reduce");
  using normal_cell = typename S::template cell_at<normal_index>;
  using reduce_cell = typename S::template cell_at<reduce_index>;
  using cell0 = typename S::template cell_at<0>;

  [[nodiscard]] bool is_reduction(std::size_t i) const noexcept {
    const auto li = static_cast<std::int64_t>(i);
    if constexpr (darts_layout) return li == stack_.layers / 3 || li == 2 * stack_.layers / 3;
    return li == stack_.layers || li == 2 * stack_.layers + 1;
  }

  void build_darts(bool affine, bool track) {
    const auto& s = stack_;
    const std::int64_t c_stem = s.stem_multiplier * s.channels;
    stem = register_module(
        "stem",
        torch::nn::Sequential(
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(s.input_channels, c_stem, 3).padding(1).bias(false)),
            torch::nn::BatchNorm2d(c_stem)));
    cells = register_module("cells", torch::nn::ModuleList());
    std::int64_t c_prev_prev = c_stem, c_prev = c_stem, c_curr = s.channels;
    bool reduction_prev = false;
    for (std::int64_t i = 0; i < s.layers; ++i) {
      const bool reduction = is_reduction(static_cast<std::size_t>(i));
      if (reduction) c_curr *= 2;
      const CellSizes sizes{c_prev_prev, c_prev, c_curr, reduction, reduction_prev};
      std::int64_t out = 0;
      if (reduction) {
        auto cell = std::make_shared<DartsSearchCellImpl<reduce_cell>>(sizes, affine, track);
        out = cell->out_channels();
        cells->push_back(cell);
      } else {
        auto cell = std::make_shared<DartsSearchCellImpl<normal_cell>>(sizes, affine, track);
        out = cell->out_channels();
        cells->push_back(cell);
      }
      reduction_prev = reduction;
      c_prev_prev = c_prev;
      c_prev = out;
    }
    classifier = register_module("classifier", torch::nn::Linear(c_prev, s.classes));
  }

  void build_nb201(bool affine, bool track) {
    const auto& s = stack_;
    stem = register_module(
        "stem",
        torch::nn::Sequential(
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(s.input_channels, s.channels, 3).padding(1).bias(false)),
            torch::nn::BatchNorm2d(s.channels)));
    cells = register_module("cells", torch::nn::ModuleList());
    std::int64_t c_prev = s.channels;
    for (std::int64_t stage = 0; stage < 3; ++stage) {
      const std::int64_t c = s.channels << stage;
      if (stage > 0) cells->push_back(ops::ResNetBasicBlock(OpArgs{c_prev, c, 2, true}).ptr());
      for (std::int64_t i = 0; i < s.layers; ++i)
        cells->push_back(std::make_shared<Nb201SearchCellImpl<cell0>>(c, affine, track));
      c_prev = c;
    }
    lastact = register_module(
        "lastact", torch::nn::Sequential(torch::nn::BatchNorm2d(c_prev), torch::nn::ReLU()));
    classifier = register_module("classifier", torch::nn::Linear(c_prev, s.classes));
  }

  void build_mobile(bool affine, bool track) {
    const auto& s = stack_;
    const MobileLayout layout = mobile_layout(cell0::edge_count, s);
    stem = register_module(
        "stem", torch::nn::Sequential(
                    torch::nn::Conv2d(torch::nn::Conv2dOptions(s.input_channels, layout.stem, 3)
                                          .stride(2)
                                          .padding(1)
                                          .bias(false)),
                    torch::nn::BatchNorm2d(layout.stem), torch::nn::ReLU6(),
                    ops::MBConv<3, 1>(OpArgs{layout.stem, layout.first, 1, true})));
    cells = register_module("cells", torch::nn::ModuleList());
    cells->push_back(std::make_shared<MobileSearchLayersImpl<cell0>>(layout, affine, track));
    lastact = register_module(
        "lastact",
        torch::nn::Sequential(
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(layout.layers.back().out, layout.head, 1).bias(false)),
            torch::nn::BatchNorm2d(layout.head), torch::nn::ReLU6()));
    classifier = register_module("classifier", torch::nn::Linear(layout.head, s.classes));
  }

  // For each cell kind and op: whether the op's module on a stride-1 edge of the first
  // cell of the kind has no parameters.
  void find_parameter_free_ops() {
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      std::size_t edge = 0;
      for (std::size_t e = 0; e < C::edge_count; ++e)
        if (C::edges[e].from >= C::input_count) {
          edge = e;
          break;
        }
      parameter_free_[I].assign(C::op_count, false);
      const auto all = search_edges<I>();
      if (all.empty()) return;
      const auto children = all.front()->edge(edge)->named_children();
      for (std::size_t k = 0; k < C::op_count; ++k)
        parameter_free_[I][k] =
            children[detail::module_name(C::ops::names[k])]->parameters().empty();
    });
  }

  /// The edges of every cell of kind `I`, in stack order.
  template <std::size_t I>
  [[nodiscard]] std::vector<const detail::SearchEdges<typename S::template cell_at<I>>*>
  search_edges() const {
    using C = typename S::template cell_at<I>;
    std::vector<const detail::SearchEdges<C>*> out;
    for (std::size_t i = 0; i < cells->size(); ++i) {
      const auto cell = cells->ptr(i);
      if constexpr (darts_layout) {
        if (const auto p = std::dynamic_pointer_cast<DartsSearchCellImpl<C>>(cell);
            p && (I == reduce_index) == is_reduction(i))
          out.push_back(&p->edges());
      } else if constexpr (mobile_layout_) {
        if (const auto p = std::dynamic_pointer_cast<MobileSearchLayersImpl<C>>(cell))
          out.push_back(&p->edges());
      } else {
        if (const auto p = std::dynamic_pointer_cast<Nb201SearchCellImpl<C>>(cell))
          out.push_back(&p->edges());
      }
    }
    return out;
  }

  Stack stack_;
  R relaxation_;
  SupernetOptions options_;
  std::array<torch::Tensor, cell_kinds> alphas_;
  std::array<std::vector<bool>, cell_kinds> parameter_free_;
  std::optional<Genotype<S>> path_;
};

/// Module holder of nas::SupernetImpl<S, R>: `nas::Supernet<space, nas::relax::Softmax>
/// net(nas::Stack{.layers = 8, .channels = 16});`
template <search_space S, relaxation R>
class Supernet : public torch::nn::ModuleHolder<SupernetImpl<S, R>> {
 public:
  using torch::nn::ModuleHolder<SupernetImpl<S, R>>::ModuleHolder;
  using space = S;
  using relaxation_type = R;
};

}  // namespace nas
