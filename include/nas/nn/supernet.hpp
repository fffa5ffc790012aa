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

#include <c10/core/InferenceMode.h>
#include <c10/util/Exception.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "nas/core/fixed_string.hpp"
#include "nas/layout/layout.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/cell.hpp"
#include "nas/nn/mixed_edge.hpp"
#include "nas/nn/network.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/space.hpp"

namespace nas {

/// Batch-norm settings of a supernet's cells (the stem, the classifier and NAS-Bench-201's
/// residual blocks keep learnable, tracking batch norms, as the references do).
struct SupernetOptions {
  /// learnable scale and shift in the cells' batch norms (DARTS and NAS-Bench-201 search: no)
  bool affine = false;
  /// running statistics in the cells' batch norms; unset: the layout's default
  /// (`track_running_stats_in_search`: DARTS yes, NAS-Bench-201 and mobile no, the settings
  /// of the references)
  std::optional<bool> track_running_stats{};
  /// architecture parameters start as `init_scale * N(0, 1)` (both references: 1e-3)
  double init_scale = 1e-3;
  /// DARTS- (Chu et al., ICLR 2021): every edge also adds an auxiliary skip connection, the
  /// identity (a factorized reduction on a stride-2 edge), weighed by
  /// SupernetImpl::auxiliary_skip_weight (1 when built). The skip carries the gradient that
  /// otherwise makes `skip_connect` win; nas::Darts and nas::Gdas decay its weight linearly to
  /// zero over the search (nas::auxiliary_skip_weight). Off: the supernet of DARTS, with its
  /// published parameter count.
  bool auxiliary_skip = false;
};

/// DARTS-'s schedule of the auxiliary skip connection's weight at epoch `epoch` (0-based) of
/// `epochs`: `(epochs - epoch) / epochs`, from 1 at the first epoch to `1 / epochs` at the last
/// (the reference code's linear decay, its run script's default).
[[nodiscard]] inline double auxiliary_skip_weight(std::int64_t epoch, std::int64_t epochs) {
  TORCH_CHECK(epochs > 0 && epoch >= 0 && epoch < epochs,
              "nas::auxiliary_skip_weight needs 0 <= epoch < epochs; got epoch ", epoch, " of ",
              epochs);
  return static_cast<double>(epochs - epoch) / static_cast<double>(epochs);
}

namespace detail {
template <class R>
concept follows_path = relaxation<R> && requires(R& r, std::vector<std::vector<std::size_t>> v) {
  r.set_path(std::size_t{}, std::move(v));
};
}  // namespace detail

/// The supernet of space `S` under relaxation `R`, at the run-time sizes of a nas::Stack,
/// stacked by the layout the space declares (nas::layout_of), on the same skeleton as
/// nas::Network: on nas::layouts::Darts as DARTS's search network (`layers` cells,
/// reductions at 1/3 and 2/3, a 3x3 stem of `stem_multiplier x channels`), on
/// nas::layouts::Nb201 as NAS-Bench-201's (3 stages of `layers` cells joined by residual
/// blocks). At `nas::Stack{}` on nas::spaces::darts it has DARTS's 1,930,618 weights and 224
/// architecture parameters.
///
/// Every edge holds every candidate (nas::MixedEdge, a typed tuple); the architecture
/// parameters are one tensor `[edges, ops]` per cell kind, shared by every cell of the
/// kind, registered as `alpha_<cell kind>` (so `to(device)` and serialization carry
/// them). Give the weight optimizer weight_parameters() and the architecture optimizer
/// arch_parameters(): `parameters()` holds both.
///
/// For skeletons (nas::layout): `searching` (true), `kind_name`, `stack()`, `cell_options()`,
/// `add_cell<"kind">(shape)`, `add_block(module)`, `cell(i, inputs...)`, `block<Impl>(i)`,
/// `cell_kind_at(i)`, `positions()`.
///
/// Not cloneable (its edges hold their candidates in typed tuples).
template <search_space S, relaxation R>
class SupernetImpl : public torch::nn::Module {
  static_assert(detail::check_laid_out<S>("nas::Supernet"));
  static_assert(detail::space_ops_are_operations<S>::value,
                "nas::Supernet: every op's module type must be a nas::operation: built from "
                "nas::OpArgs, with forward(torch::Tensor) -> torch::Tensor, held as a LibTorch "
                "module (TORCH_MODULE); adapt another type through nas::operation_traits");

 public:
  using space = S;
  using relaxation_type = R;
  using layout_type = typename detail::layout_or_none<S>::type;
  using skeleton_type = typename layout_type::skeleton;
  /// The supernet cell of kind `C` under this relaxation.
  template <class C>
  using search_cell = SearchCellImpl<C, R>;
  static constexpr std::size_t cell_kinds = S::cell_count;
  static constexpr bool searching = true;
  static constexpr std::string_view kind_name = "nas::Supernet";

  explicit SupernetImpl(const Stack& stack = {}, R relaxation = {},
                        const SupernetOptions& options = {})
      : stack_(stack), relaxation_(std::move(relaxation)), options_(options) {
    TORCH_CHECK(stack.classes > 0 && stack.input_channels > 0 && stack.channels > 0,
                "nas::Supernet needs positive channels, classes and input channels");
    TORCH_CHECK(!stack.auxiliary,
                "nas::Supernet has no auxiliary head; set Stack::auxiliary = "
                "false (the final network has one: nas::Network)");
    cell_options_ = {options.affine, options.track_running_stats.value_or(
                                         detail::track_running_stats_in_search<layout_type>())};
    skeleton_.build(*this);
    if constexpr (R::learns_architecture) {
      for_each_kind([&]<std::size_t I>() {
        using C = typename S::template cell_at<I>;
        alphas_[I] = register_parameter(alpha_name(C::name),
                                        torch::randn({static_cast<std::int64_t>(C::edge_count),
                                                      static_cast<std::int64_t>(C::op_count)}) *
                                            options.init_scale);
      });
    }
    if constexpr (detail::learns_edge_weights<R>()) {
      for_each_kind([&]<std::size_t I>() {
        using C = typename S::template cell_at<I>;
        betas_[I] = register_parameter(
            beta_name(C::name),
            torch::randn({static_cast<std::int64_t>(C::edge_count)}) * options.init_scale);
      });
    }
    find_parameter_free_ops();
  }

  /// Logits for a batch of images `[N, input_channels, H, W]`. Computes each cell kind's
  /// nas::EdgeMix once (the relaxation's mix), then runs the skeleton, every cell under the
  /// mix of its kind.
  torch::Tensor forward(const torch::Tensor& x) {
    detail::check_images(x, stack_.input_channels, kind_name);
    for_each_kind([&]<std::size_t I>() {
      using C = typename S::template cell_at<I>;
      mixes_[I] =
          relaxation_.mix(alphas_[I], MixContext{I, C::edge_count, C::op_count, this->is_training(),
                                                 C::edges.data(), betas_[I]});
      mixes_[I].auxiliary_skip = options_.auxiliary_skip ? auxiliary_skip_weight_ : 0.0;
      apply_projection(I, mixes_[I]);
    });
    auto out = skeleton_.forward(*this, x);
    mixes_ = {};
    return out;
  }

  /// Every parameter except the architecture parameters (for the weight optimizer).
  [[nodiscard]] std::vector<torch::Tensor> weight_parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto& p : this->parameters())
      if (!is_arch(p)) out.push_back(p);
    return out;
  }
  /// Named weight parameters (as named_parameters(), architecture parameters left out).
  [[nodiscard]] torch::OrderedDict<std::string, torch::Tensor> named_weight_parameters() const {
    torch::OrderedDict<std::string, torch::Tensor> out;
    for (const auto& p : this->named_parameters())
      if (!is_arch(p.value())) out.insert(p.key(), p.value());
    return out;
  }
  /// The architecture parameters: one `[edges, ops]` tensor per cell kind in cell-kind
  /// order (empty under a relaxation that learns none), then, under a relaxation that learns
  /// edge weights, one `[edges]` tensor per cell kind.
  [[nodiscard]] std::vector<torch::Tensor> arch_parameters() const {
    std::vector<torch::Tensor> out;
    for (const auto& a : alphas_)
      if (a.defined()) out.push_back(a);
    for (const auto& b : betas_)
      if (b.defined()) out.push_back(b);
    return out;
  }
  /// The op parameters (alpha) keyed by cell kind name.
  [[nodiscard]] torch::OrderedDict<std::string, torch::Tensor> named_arch_parameters() const {
    torch::OrderedDict<std::string, torch::Tensor> out;
    for (std::size_t i = 0; i < cell_kinds; ++i)
      if (alphas_[i].defined()) out.insert(std::string(S::cell_names[i]), alphas_[i]);
    return out;
  }
  /// The per-edge parameters (beta) of cell kind `kind`, under a relaxation that learns edge
  /// weights (nas::relax::PartialChannel).
  [[nodiscard]] torch::Tensor beta_at(std::size_t kind) const {
    TORCH_CHECK(kind < cell_kinds, "cell kind ", kind, " out of range; the space has ", cell_kinds);
    TORCH_CHECK(detail::learns_edge_weights<R>(),
                "this supernet's relaxation learns no edge weights");
    return betas_[kind];
  }
  /// What nas::derive ranks the ops of cell kind `kind` by, `[edges, ops]`: softmax(alpha),
  /// each edge's row weighed by its edge weight under a relaxation that learns them (PC-DARTS's
  /// genotype rule: the op weights times the edge's softmax among the edges into its node).
  [[nodiscard]] torch::Tensor candidate_weights(std::size_t kind) const {
    auto w = torch::softmax(alpha_at(kind), -1);
    if constexpr (detail::learns_edge_weights<R>()) {
      const auto edge = [&]<std::size_t... I>(std::index_sequence<I...>) {
        torch::Tensor out;
        ((kind == I ? (out = relaxation_
                                 .mix(alphas_[I],
                                      MixContext{I, S::template cell_at<I>::edge_count,
                                                 S::template cell_at<I>::op_count, false,
                                                 S::template cell_at<I>::edges.data(), betas_[I]})
                                 .edge_weights,
                       0)
                    : 0),
         ...);
        return out;
      }
      (std::make_index_sequence<cell_kinds>{});
      if (edge.defined()) w = w * edge.unsqueeze(1);
    }
    if (projects(kind)) {
      const auto [keep, fixed, edge_keep] = projection_tensors(kind, w.options());
      w = w * keep + fixed;
    }
    return w;
  }

  // ---- DARTS-PT's projection (nas::Darts::derive_by_perturbation) ----------------------------
  /// Fixes edge `edge` of cell kind `kind` to op `op` from now on: its op weights become one-hot
  /// in every forward (whatever alpha says) and in candidate_weights(), so nas::derive keeps it.
  /// Needs a relaxation that weighs every op (nas::relax::Softmax, Dirichlet, PartialChannel).
  void project_op(std::size_t kind, std::size_t edge, std::size_t op) {
    check_projection_index(kind, edge, op);
    projection_[kind][edge] = static_cast<std::int64_t>(op);
    projection_changed();
  }
  /// Removes edge `edge` of cell kind `kind` from now on (its output is zero; DARTS-PT's
  /// topology projection on a cell that keeps some of each node's inputs).
  void remove_edge(std::size_t kind, std::size_t edge) {
    check_projection_index(kind, edge, 0);
    projection_[kind][edge] = removed_edge;
    projection_changed();
  }
  /// The op edge `edge` of kind `kind` is fixed to, if any.
  [[nodiscard]] std::optional<std::size_t> projected_op(std::size_t kind, std::size_t edge) const {
    check_projection_index(kind, edge, 0);
    const auto p = projection_[kind][edge];
    return p >= 0 ? std::optional<std::size_t>(static_cast<std::size_t>(p)) : std::nullopt;
  }
  /// Whether edge `edge` of kind `kind` was removed.
  [[nodiscard]] bool edge_removed(std::size_t kind, std::size_t edge) const {
    check_projection_index(kind, edge, 0);
    return projection_[kind][edge] == removed_edge;
  }
  /// Masks op `op` of edge `edge` (its weight zero, the others unchanged, as DARTS-PT measures
  /// an op's worth), or with `op` unset the whole edge, in the forwards until clear_mask().
  void set_mask(std::size_t kind, std::size_t edge, std::optional<std::size_t> op) {
    check_projection_index(kind, edge, op.value_or(0));
    mask_ = Mask{kind, edge, op ? static_cast<std::int64_t>(*op) : removed_edge};
    projection_changed();
  }
  void clear_mask() noexcept {
    mask_.reset();
    projection_changed();
  }
  /// Undoes every projection and the mask.
  void clear_projection() {
    for (std::size_t k = 0; k < cell_kinds; ++k)
      projection_[k].assign(projection_[k].size(), free_edge);
    clear_mask();
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
      for (const SearchCellImpl<C, R>* cell : cells_.template of_kind<I>())
        for (std::size_t e = 0; e < C::edge_count; ++e) {
          const auto children = cell->edges().edge(e)->named_children();
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

  /// The weight of DARTS-'s auxiliary skip connection (SupernetOptions::auxiliary_skip): 1 when
  /// built; nas::Darts and nas::Gdas set it every epoch (nas::auxiliary_skip_weight).
  [[nodiscard]] double auxiliary_skip_weight() const noexcept {
    return options_.auxiliary_skip ? auxiliary_skip_weight_ : 0.0;
  }
  void set_auxiliary_skip_weight(double w) {
    TORCH_CHECK(options_.auxiliary_skip,
                "this supernet has no auxiliary skip connection; build it with "
                "SupernetOptions::auxiliary_skip = true");
    TORCH_CHECK(std::isfinite(w) && w >= 0.0,
                "the auxiliary skip weight must be a finite number >= 0; got ", w);
    auxiliary_skip_weight_ = w;
  }

  [[nodiscard]] R& relaxation() noexcept { return relaxation_; }
  [[nodiscard]] const R& relaxation() const noexcept { return relaxation_; }
  [[nodiscard]] const Stack& stack() const noexcept { return stack_; }
  [[nodiscard]] const SupernetOptions& options() const noexcept { return options_; }

  /// The layout's skeleton: its stem, head and other modules.
  [[nodiscard]] const skeleton_type& skeleton() const noexcept { return skeleton_; }
  [[nodiscard]] skeleton_type& skeleton() noexcept { return skeleton_; }
  /// The cells and blocks in stack order (registered as `cells`).
  [[nodiscard]] const torch::nn::ModuleList& cells() const noexcept { return cells_.list; }

  // ---- for skeletons ---------------------------------------------------------------------
  /// Batch-norm settings of the cells (nas::SupernetOptions, defaults from the layout).
  [[nodiscard]] CellOptions cell_options() const noexcept { return cell_options_; }
  /// Builds the next cell, of the kind named `Name`; returns its output channels.
  template <FixedString Name>
  std::int64_t add_cell(CellShape shape) {
    return add_cell_at<S::template cell_index<Name>>(std::move(shape));
  }
  /// Builds the next cell, of kind `I`; returns its output channels.
  template <std::size_t I>
  std::int64_t add_cell_at(CellShape shape) {
    using C = typename S::template cell_at<I>;
    auto cell = std::make_shared<SearchCellImpl<C, R>>(std::move(shape), cell_options_, relaxation_,
                                                       options_.auxiliary_skip);
    const auto out = cell->out_channels();
    cells_.template add<I>(*this, std::move(cell));
    return out;
  }
  /// Puts a fixed module (not searched) at the next position; returns the position.
  template <class M>
  std::size_t add_block(M module) {
    return cells_.add_block(*this, module.ptr());
  }
  /// Runs the cell at position `i` on its inputs, under the mix of its kind.
  torch::Tensor cell(std::size_t i, const std::vector<torch::Tensor>& inputs) {
    return cells_.visit(
        i, [&](auto& c) { return c.forward(inputs, mixes_[cells_.kind(i)], relaxation_); });
  }
  template <class... T>
    requires(std::same_as<std::remove_cvref_t<T>, torch::Tensor>&&...)
  torch::Tensor cell(std::size_t i, const T&... inputs) {
    return cell(i, std::vector<torch::Tensor>{inputs...});
  }
  /// The fixed module at position `i`.
  template <class Impl>
  Impl& block(std::size_t i) const {
    return cells_.template block<Impl>(i);
  }
  /// The cell kind at position `i` (nas::detail::CellList::no_kind for a block).
  [[nodiscard]] std::size_t cell_kind_at(std::size_t i) const { return cells_.kind(i); }
  /// Cells and blocks so far.
  [[nodiscard]] std::size_t positions() const noexcept { return cells_.size(); }

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
  static std::string beta_name(std::string_view kind) {
    std::string name = "beta_";
    name += detail::module_name(kind);
    return name;
  }
  [[nodiscard]] bool is_arch(const torch::Tensor& p) const {
    for (const auto& a : alphas_)
      if (a.defined() && a.is_same(p)) return true;
    for (const auto& b : betas_)
      if (b.defined() && b.is_same(p)) return true;
    return false;
  }

  static constexpr std::int64_t free_edge = -1, removed_edge = -2;
  struct Mask {
    std::size_t kind = 0, edge = 0;
    std::int64_t op = removed_edge;  // removed_edge: the whole edge
  };
  // Edges and ops of each cell kind, for the run-time `kind` of the projection calls.
  static constexpr std::size_t edge_count_of(std::size_t kind) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<std::size_t, cell_kinds>{S::template cell_at<I>::edge_count...}[kind];
    }
    (std::make_index_sequence<cell_kinds>{});
  }
  static constexpr std::size_t op_count_of(std::size_t kind) {
    return [&]<std::size_t... I>(std::index_sequence<I...>) {
      return std::array<std::size_t, cell_kinds>{S::template cell_at<I>::op_count...}[kind];
    }
    (std::make_index_sequence<cell_kinds>{});
  }
  void check_projection_index(std::size_t kind, std::size_t edge, std::size_t op) const {
    TORCH_CHECK(kind < cell_kinds, "cell kind ", kind, " out of range; the space has ", cell_kinds);
    TORCH_CHECK(edge < edge_count_of(kind) && op < op_count_of(kind), "edge ", edge, " / op ", op,
                " out of range for cell kind ", kind, " (", edge_count_of(kind), " edges, ",
                op_count_of(kind), " ops)");
  }
  [[nodiscard]] bool projects(std::size_t kind) const {
    if (mask_ && mask_->kind == kind) return true;
    for (const auto p : projection_[kind])
      if (p != free_edge) return true;
    return false;
  }
  // Multiplier and addend of the op weights `[edges, ops]` and the multiplier of the edge
  // weights `[edges]` that the projection and the mask make of cell kind `kind`'s mix; built
  // once per change of the projection or the mask (and of the weights' device or type), not
  // per forward.
  [[nodiscard]] std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> projection_tensors(
      std::size_t kind, const torch::TensorOptions& options) const {
    auto& cache = projection_cache_[kind];
    if (cache.keep.defined() && cache.keep.device() == options.device() &&
        cache.keep.dtype() == options.dtype())
      return {cache.keep, cache.fixed, cache.edge_keep};
    const auto edges = static_cast<std::int64_t>(edge_count_of(kind));
    const auto ops = static_cast<std::int64_t>(op_count_of(kind));
    auto keep = torch::ones({edges, ops}, torch::kDouble);
    auto fixed = torch::zeros({edges, ops}, torch::kDouble);
    auto edge_keep = torch::ones({edges}, torch::kDouble);
    auto* k = keep.data_ptr<double>();
    auto* f = fixed.data_ptr<double>();
    auto* ek = edge_keep.data_ptr<double>();
    for (std::int64_t e = 0; e < edges; ++e) {
      const auto p = projection_[kind][static_cast<std::size_t>(e)];
      if (p == free_edge) continue;
      for (std::int64_t o = 0; o < ops; ++o) k[e * ops + o] = 0.0;
      if (p == removed_edge)
        ek[e] = 0.0;
      else
        f[e * ops + p] = 1.0;
    }
    if (mask_ && mask_->kind == kind) {
      const auto e = static_cast<std::int64_t>(mask_->edge);
      if (mask_->op == removed_edge) {
        for (std::int64_t o = 0; o < ops; ++o) k[e * ops + o] = f[e * ops + o] = 0.0;
        ek[e] = 0.0;
      } else {
        k[e * ops + mask_->op] = f[e * ops + mask_->op] = 0.0;
      }
    }
    ProjectionTensors built{keep.to(options), fixed.to(options), edge_keep.to(options)};
    // an inference-mode tensor could not be saved for a later backward: not kept
    if (!c10::InferenceMode::is_enabled()) cache = built;
    return {built.keep, built.fixed, built.edge_keep};
  }
  void projection_changed() noexcept { projection_cache_ = {}; }
  void apply_projection(std::size_t kind, EdgeMix& mix) const {
    if (!projects(kind)) return;
    TORCH_CHECK(mix.weights.defined() && mix.active.empty(),
                "a projected or masked supernet (DARTS-PT) needs a relaxation that weighs every op "
                "(nas::relax::Softmax, Dirichlet, PartialChannel); this one runs sampled paths");
    const auto [keep, fixed, edge_keep] = projection_tensors(kind, mix.weights.options());
    mix.weights = mix.weights * keep + fixed;
    if (mix.edge_weights.defined()) mix.edge_weights = mix.edge_weights * edge_keep;
  }

  // For each cell kind and op: whether the op's module on the first edge that leaves a computed
  // node (or, if none, the first edge) of the first cell of the kind has no parameters.
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
      const auto& all = cells_.template of_kind<I>();
      if (all.empty()) return;
      const auto children = all.front()->edges().edge(edge)->named_children();
      for (std::size_t k = 0; k < C::op_count; ++k)
        parameter_free_[I][k] =
            children[detail::module_name(C::ops::names[k])]->parameters().empty();
    });
  }

  Stack stack_;
  R relaxation_;
  SupernetOptions options_;
  CellOptions cell_options_{};
  skeleton_type skeleton_{};
  detail::CellList<S, search_cell> cells_;
  std::array<EdgeMix, cell_kinds> mixes_{};
  std::array<torch::Tensor, cell_kinds> alphas_;
  std::array<torch::Tensor, cell_kinds> betas_;  // per-edge parameters (learns_edge_weights)
  std::array<std::vector<bool>, cell_kinds> parameter_free_;
  std::optional<Genotype<S>> path_;
  double auxiliary_skip_weight_ = 1.0;
  std::array<std::vector<std::int64_t>, cell_kinds> projection_ = [] {
    std::array<std::vector<std::int64_t>, cell_kinds> p;
    for (std::size_t k = 0; k < cell_kinds; ++k) p[k].assign(edge_count_of(k), free_edge);
    return p;
  }();
  std::optional<Mask> mask_;
  struct ProjectionTensors {
    torch::Tensor keep, fixed, edge_keep;
  };
  mutable std::array<ProjectionTensors, cell_kinds> projection_cache_{};
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
