#pragma once
/// @file
/// nas::Network<Space>: the discrete network a genotype stands for, stacked by the layout the
/// space declares (nas::layout_of): its skeleton builds stem, cells and head, nas builds each
/// cell's kept ops. nas::cost, the parameter and multiply-add counts of a genotype.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "nas/core/fixed_string.hpp"
#include "nas/layout/layout.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/cell.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/operation.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/space.hpp"

namespace nas {

namespace detail {
template <class Ops>
struct ops_are_operations;
template <class... Ops>
struct ops_are_operations<OpSet<Ops...>> {
  static constexpr bool value = (operation<typename Ops::module> && ...);
};
template <class S>
struct space_ops_are_operations;
template <class... Cells>
struct space_ops_are_operations<Space<Cells...>> {
  static constexpr bool value = (ops_are_operations<typename Cells::ops>::value && ...);
};

template <class Skeleton, class Net>
concept has_auxiliary_forward = requires(Skeleton& s, Net& n, const torch::Tensor& x) {
  {
    s.forward_with_auxiliary(n, x)
    } -> std::convertible_to<std::tuple<torch::Tensor, torch::Tensor>>;
};
template <class Skeleton, class Net>
concept counts_network_multiply_adds = requires(const Skeleton& s, const Net& n, std::int64_t h) {
  { s.multiply_adds(n, h, h) } -> std::convertible_to<std::int64_t>;
};

/// The checks nas::Network and nas::Supernet share on an input batch.
inline void check_images(const torch::Tensor& x, std::int64_t channels, std::string_view who) {
  TORCH_CHECK(x.dim() == 4 && x.size(1) == channels, who, " expects images [N, ", channels,
              ", H, W] (Stack::input_channels); got a tensor of shape ", x.sizes());
}
}  // namespace detail

/// The module implementing nas::Network<S>: the skeleton of the space's layout
/// (nas::layout_t<S>::skeleton) over nas::CellImpl cells built from the genotype.
///
/// `forward` maps images to logits; `forward_with_auxiliary` also gives the auxiliary logits
/// where the skeleton has an auxiliary head (undefined otherwise, and outside training);
/// `multiply_adds(height, width)` counts convolutions and linear layers for one image (when
/// the skeleton counts its own modules); drop path (`set_drop_path`, `set_epoch`) applies to
/// every cell's ops but the identity, in training.
///
/// Submodules: those the skeleton registers (the built-in ones: `stem`, `cells`, ...,
/// `classifier`), the cells in `cells` (a ModuleList). Cloneable: `clone()` gives an
/// independent copy.
///
/// For skeletons (nas::layout): `searching` (false), `kind_name`, `stack()`,
/// `cell_options()`, `add_cell<"kind">(shape)`, `add_block(module)`, `cell(i, inputs...)`,
/// `block<Impl>(i)`, `cell_multiply_adds(i, {h, w}, ...)`, `cell_kind_at(i)`, `positions()`.
template <search_space S>
class NetworkImpl : public torch::nn::Cloneable<NetworkImpl<S>> {
  static_assert(detail::check_laid_out<S>("nas::Network"));
  static_assert(detail::space_ops_are_operations<S>::value,
                "nas::Network: every op's module type must be a nas::operation: built from "
                "nas::OpArgs, with forward(torch::Tensor) -> torch::Tensor, held as a LibTorch "
                "module (TORCH_MODULE); adapt another type through nas::operation_traits");

 public:
  using space = S;
  using layout_type = typename detail::layout_or_none<S>::type;
  using skeleton_type = typename layout_type::skeleton;
  static constexpr bool searching = false;
  static constexpr std::string_view kind_name = "nas::Network";

  NetworkImpl(const Genotype<S>& genotype, const Stack& stack)
      : genotype_(genotype), stack_(stack) {
    genotype_.validate();
    TORCH_CHECK(stack.channels > 0 && stack.classes > 0 && stack.input_channels > 0,
                "nas::Network needs positive channels, classes and input channels");
    reset();
  }

  void reset() override {
    cells_.clear();
    skeleton_ = skeleton_type{};
    skeleton_.build(*this);
  }

  /// An independent copy (its cells found again in the copied list).
  std::shared_ptr<torch::nn::Module> clone(
      const std::optional<torch::Device>& device = std::nullopt) const override {
    auto copy = torch::nn::Cloneable<NetworkImpl<S>>::clone(device);
    static_cast<NetworkImpl&>(*copy).cells_.refresh();
    return copy;
  }

  /// Logits for a batch of images `[N, input_channels, H, W]`.
  torch::Tensor forward(const torch::Tensor& x) {
    detail::check_images(x, stack_.input_channels, kind_name);
    return skeleton_.forward(*this, x);
  }

  /// Logits and, in training with an auxiliary head, the auxiliary logits (undefined where the
  /// skeleton has none).
  std::tuple<torch::Tensor, torch::Tensor> forward_with_auxiliary(const torch::Tensor& x) {
    detail::check_images(x, stack_.input_channels, kind_name);
    if constexpr (detail::has_auxiliary_forward<skeleton_type, NetworkImpl>)
      return skeleton_.forward_with_auxiliary(*this, x);
    else
      return {skeleton_.forward(*this, x), torch::Tensor()};
  }

  /// Sets the drop-path probability used in training.
  void set_drop_path(double p) {
    TORCH_CHECK(p >= 0.0 && p < 1.0, "drop-path probability must be in [0, 1); got ", p);
    drop_path_ = p;
  }
  /// DARTS's schedule: the drop-path probability grows linearly from 0 at epoch 0 to
  /// Stack::drop_path at epoch `epochs`. Call it at the start of each epoch.
  void set_epoch(std::int64_t epoch, std::int64_t epochs) {
    TORCH_CHECK(epochs > 0 && epoch >= 0 && epoch <= epochs,
                "set_epoch needs 0 <= epoch <= ", "epochs and epochs > 0; got epoch ", epoch,
                " of ", epochs);
    set_drop_path(stack_.drop_path * static_cast<double>(epoch) / static_cast<double>(epochs));
  }
  /// The drop-path probability in force.
  [[nodiscard]] double drop_path() const noexcept { return drop_path_; }

  /// Multiply-adds of one forward pass on a `height` x `width` image (batch 1), counting
  /// convolutions and linear layers (an auxiliary head left out).
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t height, std::int64_t width) const {
    static_assert(detail::counts_network_multiply_adds<skeleton_type, NetworkImpl>,
                  "nas::Network::multiply_adds: this layout's skeleton does not count its "
                  "modules; give it `template <class Net> std::int64_t multiply_adds(const Net& "
                  "net, std::int64_t height, std::int64_t width) const` (cells: "
                  "net.cell_multiply_adds(i, {h, w}, ...))");
    return skeleton_.multiply_adds(*this, height, width);
  }

  [[nodiscard]] const Genotype<S>& genotype() const noexcept { return genotype_; }
  [[nodiscard]] const Stack& stack() const noexcept { return stack_; }
  /// The layout's skeleton: its stem, head and other modules.
  [[nodiscard]] const skeleton_type& skeleton() const noexcept { return skeleton_; }
  [[nodiscard]] skeleton_type& skeleton() noexcept { return skeleton_; }
  /// The cells and blocks in stack order (registered as `cells`).
  [[nodiscard]] const torch::nn::ModuleList& cells() const noexcept { return cells_.list; }

  // ---- for skeletons ---------------------------------------------------------------------
  /// Batch-norm settings of the cells (and of the preprocessing a skeleton builds for them).
  [[nodiscard]] CellOptions cell_options() const noexcept { return {true, true}; }
  /// Builds the next cell, of the kind named `Name`, from the genotype; returns its output
  /// channels.
  template <FixedString Name>
  std::int64_t add_cell(CellShape shape) {
    return add_cell_at<S::template cell_index<Name>>(std::move(shape));
  }
  /// Builds the next cell, of kind `I`; returns its output channels.
  template <std::size_t I>
  std::int64_t add_cell_at(CellShape shape) {
    using C = typename S::template cell_at<I>;
    auto cell = std::make_shared<CellImpl<C>>(genotype_.template cell_at<I>(), std::move(shape),
                                              cell_options());
    const auto out = cell->out_channels();
    cells_.template add<I>(*this, std::move(cell));
    return out;
  }
  /// Puts a fixed module (not searched) at the next position; returns the position.
  template <class M>
  std::size_t add_block(M module) {
    return cells_.add_block(*this, module.ptr());
  }
  /// Runs the cell at position `i` on its inputs.
  torch::Tensor cell(std::size_t i, const std::vector<torch::Tensor>& inputs) {
    return cells_.visit(i, [&](auto& c) { return c.forward(inputs, drop_path_); });
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
  /// Multiply-adds of the cell at position `i` for inputs of these heights and widths.
  [[nodiscard]] std::int64_t cell_multiply_adds(
      std::size_t i, const std::vector<std::pair<std::int64_t, std::int64_t>>& inputs) const {
    return cells_.visit(i, [&](const auto& c) { return c.multiply_adds(inputs); });
  }
  /// The cell kind at position `i` (nas::detail::CellList::no_kind for a block).
  [[nodiscard]] std::size_t cell_kind_at(std::size_t i) const { return cells_.kind(i); }
  /// Cells and blocks so far.
  [[nodiscard]] std::size_t positions() const noexcept { return cells_.size(); }

 private:
  Genotype<S> genotype_;
  Stack stack_;
  double drop_path_ = 0.0;
  skeleton_type skeleton_{};
  detail::CellList<S, CellImpl> cells_;
};

/// The discrete network a genotype stands for, at the run-time sizes of a nas::Stack:
/// `nas::Network<space>(genotype, nas::Stack{...})`, stacked by the layout `space` declares.
template <search_space S>
class Network : public torch::nn::ModuleHolder<NetworkImpl<S>> {
 public:
  using torch::nn::ModuleHolder<NetworkImpl<S>>::ModuleHolder;
};

/// The cost of an architecture at given sizes, without training it.
struct Cost {
  std::int64_t parameters = 0;     ///< as DARTS counts them (auxiliary head left out)
  std::int64_t multiply_adds = 0;  ///< convolutions and linear layers, one image
  friend bool operator==(const Cost&, const Cost&) = default;
};

/// The parameter and multiply-add counts of the network `genotype` stands for at
/// `stack`, for `height` x `width` images (builds the network once, never runs it).
template <search_space S>
[[nodiscard]] Cost cost(const Genotype<S>& genotype, const Stack& stack, std::int64_t height,
                        std::int64_t width) {
  torch::NoGradGuard no_grad;
  Network<S> net(genotype, stack);
  return {parameter_count(*net), net->multiply_adds(height, width)};
}

}  // namespace nas
