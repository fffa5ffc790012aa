#pragma once
/// @file
/// nas::DartsNetworkImpl: the discrete network a genotype of a DARTS-style space stands
/// for, on the DARTS CIFAR or ImageNet skeleton, and its cell nas::DartsCellImpl.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "nas/nn/cell_edges.hpp"
#include "nas/nn/make_op.hpp"
#include "nas/nn/stack.hpp"
#include "nas/ops/darts.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {
template <class S>
consteval bool is_darts_style() {
  if constexpr (!(S::find_cell("normal").has_value() && S::find_cell("reduce").has_value())) {
    return false;
  } else {
    using normal = typename S::template cell<"normal">;
    using reduce = typename S::template cell<"reduce">;
    return normal::input_count == 2 && reduce::input_count == 2 &&
           normal::dag.output == Output::concat_nodes && reduce::dag.output == Output::concat_nodes;
  }
}
template <class S>
concept darts_style_space = is_darts_style<S>();

}  // namespace detail

/// Channel sizes of a DARTS-style cell in a stack.
struct CellSizes {
  std::int64_t prev_prev = 0;   ///< channels of the cell two back
  std::int64_t prev = 0;        ///< channels of the previous cell
  std::int64_t channels = 0;    ///< channels of each node
  bool reduction = false;       ///< halve the resolution
  bool reduction_prev = false;  ///< the previous cell halved it (preprocess0 reduces)
};

/// One discrete cell of a DARTS-style space: the two inputs preprocessed to
/// `channels`, only the genotype's ops built (stride 2 on edges leaving an input
/// in a reduction cell), each node the sum of its kept inputs, the output the
/// concatenation of the genotype's concat nodes.
///
/// Submodules: `preprocess0`, `preprocess1`, and one per kept op named
/// `edge_<from>_<to>_<op>` (a second op on the same edge gets `_2`).
template <cell_kind C>
class DartsCellImpl : public torch::nn::Cloneable<DartsCellImpl<C>> {
 public:
  using Sizes = CellSizes;

  DartsCellImpl(const CellGenotype<C>& genotype, const Sizes& sizes)
      : genotype_(genotype), sizes_(sizes) {
    genotype_.validate();
    reset();
  }

  void reset() override {
    const auto c = sizes_.channels;
    if (sizes_.reduction_prev)
      preprocess0 = torch::nn::AnyModule(this->register_module(
          "preprocess0", ops::FactorizedReduce(OpArgs{sizes_.prev_prev, c, 2, true})));
    else
      preprocess0 = torch::nn::AnyModule(this->register_module(
          "preprocess0",
          ops::ReLUConvBN(ops::ReLUConvBNOptions{.in = sizes_.prev_prev, .out = c})));
    preprocess1 = this->register_module(
        "preprocess1", ops::ReLUConvBN(ops::ReLUConvBNOptions{.in = sizes_.prev, .out = c}));
    edges_.build(*this, genotype_, [&](const Edge& edge) {
      // stride 2 on the edges of a reduction cell that leave an input
      return OpArgs{c, c, sizes_.reduction && edge.from < C::input_count ? 2 : 1, true};
    });
  }

  /// The cell's output for the outputs `s0`, `s1` of the two previous cells.
  torch::Tensor forward(const torch::Tensor& s0, const torch::Tensor& s1, double drop_path = 0.0) {
    std::vector<torch::Tensor> states(C::dag.node_count());
    states[0] = preprocess0.forward(s0);
    states[1] = preprocess1(s1);
    edges_.run(states, sizes_.channels, this->is_training(), drop_path);
    std::vector<torch::Tensor> out;
    for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v)
      if (genotype_.concatenated(v)) out.push_back(states[v]);
    return torch::cat(out, 1);
  }

  /// Multiply-adds (convolutions and linear layers, batch 1) for inputs `s0` of
  /// `h0` x `w0` and `s1` of `h1` x `w1`.
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h0, std::int64_t w0, std::int64_t h1,
                                           std::int64_t w1) const {
    std::int64_t n = 0;
    if (sizes_.reduction_prev)
      n += preprocess0.template get<ops::FactorizedReduce>()->multiply_adds(h0, w0);
    else
      n += preprocess0.template get<ops::ReLUConvBN>()->multiply_adds(h0, w0);
    n += preprocess1->multiply_adds(h1, w1);
    const std::int64_t hr = sizes_.reduction ? conv_output_size(h1, 3, 2, 1) : h1;
    const std::int64_t wr = sizes_.reduction ? conv_output_size(w1, 3, 2, 1) : w1;
    return n + edges_.multiply_adds([&](std::size_t from) {
      return from < C::input_count ? std::pair{h1, w1} : std::pair{hr, wr};
    });
  }

  /// Output channels: concatenated nodes x channels.
  [[nodiscard]] std::int64_t out_channels() const {
    std::int64_t n = 0;
    for (std::size_t v = C::input_count; v < C::dag.node_count(); ++v)
      n += genotype_.concatenated(v) ? 1 : 0;
    return n * sizes_.channels;
  }

  torch::nn::AnyModule preprocess0;
  ops::ReLUConvBN preprocess1{nullptr};

 private:
  CellGenotype<C> genotype_;
  Sizes sizes_;
  detail::CellEdges<C> edges_;
};
/// Module holder of nas::DartsCellImpl<C>.
template <cell_kind C>
class DartsCell : public torch::nn::ModuleHolder<DartsCellImpl<C>> {
 public:
  using torch::nn::ModuleHolder<DartsCellImpl<C>>::ModuleHolder;
};

/// The discrete network a genotype of a DARTS-style space stands for (cells named
/// "normal" and "reduce", 2 inputs, concatenated outputs), on the DARTS CIFAR or
/// ImageNet skeleton, exactly as DARTS's reference code builds it.
///
/// Submodules: `stem` (`stem0`, `stem1` on ImageNet), `cells` (a ModuleList),
/// `auxiliary_head` (if any), `classifier`. `forward` returns the logits;
/// `forward_with_auxiliary` also the auxiliary logits (undefined outside training).
template <search_space S>
class DartsNetworkImpl : public torch::nn::Cloneable<DartsNetworkImpl<S>> {
  static_assert(detail::darts_style_space<S>,
                "nas::DartsNetwork needs a space with cells named \"normal\" and \"reduce\" that "
                "take 2 inputs and concatenate their nodes (the DARTS layout)");
  using normal_cell = typename S::template cell<"normal">;
  using reduce_cell = typename S::template cell<"reduce">;

 public:
  DartsNetworkImpl(const Genotype<S>& genotype, const Stack& stack)
      : genotype_(genotype), stack_(stack) {
    genotype_.validate();
    TORCH_CHECK(stack.skeleton != Skeleton::nb201,
                "Skeleton::nb201 stacks NAS-Bench-201 cells; a DARTS-style space takes "
                "Skeleton::darts_cifar or Skeleton::darts_imagenet");
    TORCH_CHECK(stack.layers >= 3, "nas::Network needs at least 3 layers (two are reduction ",
                "cells); got ", stack.layers);
    TORCH_CHECK(stack.channels > 0 && stack.channels % 2 == 0,
                "nas::Network needs a positive, even channel count; got ", stack.channels);
    TORCH_CHECK(stack.classes > 0 && stack.input_channels > 0,
                "nas::Network needs positive classes and input channels");
    reset();
  }

  void reset() override {
    const auto& s = stack_;
    const auto conv = [](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                         std::int64_t pad) {
      return torch::nn::Conv2d(
          torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(pad).bias(false));
    };
    std::int64_t c_prev_prev = 0;
    std::int64_t c_prev = 0;
    bool reduction_prev = false;
    if (s.skeleton == Skeleton::darts_cifar) {
      const std::int64_t c_stem = s.stem_multiplier * s.channels;
      stem0 = this->register_module("stem",
                                    torch::nn::Sequential(conv(s.input_channels, c_stem, 3, 1, 1),
                                                          torch::nn::BatchNorm2d(c_stem)));
      c_prev_prev = c_prev = c_stem;
    } else {
      const std::int64_t c = s.channels;
      stem0 = this->register_module(
          "stem0", torch::nn::Sequential(conv(s.input_channels, c / 2, 3, 2, 1),
                                         torch::nn::BatchNorm2d(c / 2), torch::nn::ReLU(),
                                         conv(c / 2, c, 3, 2, 1), torch::nn::BatchNorm2d(c)));
      stem1 = this->register_module(
          "stem1",
          torch::nn::Sequential(torch::nn::ReLU(), conv(c, c, 3, 2, 1), torch::nn::BatchNorm2d(c)));
      c_prev_prev = c_prev = c;
      reduction_prev = true;
    }
    cells = this->register_module("cells", torch::nn::ModuleList());
    std::int64_t c_curr = s.channels;
    std::int64_t c_auxiliary = 0;
    for (std::int64_t i = 0; i < s.layers; ++i) {
      const bool reduction = i == s.layers / 3 || i == 2 * s.layers / 3;
      if (reduction) c_curr *= 2;
      std::int64_t out = 0;
      auto build = [&]<class C>(const CellGenotype<C>& g) {
        DartsCell<C> m(g, CellSizes{c_prev_prev, c_prev, c_curr, reduction, reduction_prev});
        out = m->out_channels();
        cells->push_back(m.ptr());
      };
      if (reduction)
        build(genotype_.template cell<"reduce">());
      else
        build(genotype_.template cell<"normal">());
      reduction_prev = reduction;
      c_prev_prev = c_prev;
      c_prev = out;
      if (i == 2 * s.layers / 3) c_auxiliary = c_prev;
    }
    if (s.auxiliary) {
      torch::nn::Sequential head;
      head->push_back(torch::nn::ReLU());
      head->push_back(torch::nn::AvgPool2d(torch::nn::AvgPool2dOptions(5)
                                               .stride(s.skeleton == Skeleton::darts_cifar ? 3 : 2)
                                               .count_include_pad(false)));
      head->push_back(conv(c_auxiliary, 128, 1, 1, 0));
      head->push_back(torch::nn::BatchNorm2d(128));
      head->push_back(torch::nn::ReLU());
      head->push_back(conv(128, 768, 2, 1, 0));
      // DARTS's ImageNet head has no batch norm here (its code keeps it out on purpose)
      if (s.skeleton == Skeleton::darts_cifar) head->push_back(torch::nn::BatchNorm2d(768));
      head->push_back(torch::nn::ReLU());
      head->push_back(torch::nn::Flatten());
      head->push_back(torch::nn::Linear(768, s.classes));
      auxiliary_head = this->register_module("auxiliary_head", head);
    }
    classifier = this->register_module("classifier", torch::nn::Linear(c_prev, s.classes));
  }

  /// Logits for a batch of images `[N, input_channels, H, W]`.
  torch::Tensor forward(const torch::Tensor& x) { return std::get<0>(forward_with_auxiliary(x)); }

  /// Logits and, in training with an auxiliary head, the auxiliary logits.
  std::tuple<torch::Tensor, torch::Tensor> forward_with_auxiliary(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == stack_.input_channels,
                "nas::Network expects images [N, ", stack_.input_channels,
                ", H, W] (Stack::input_channels); got a tensor of shape ", x.sizes());
    // every stride-2 step must see an even size: the stems, then two reduction cells
    const std::int64_t multiple = stack_.skeleton == Skeleton::darts_cifar ? 4 : 32;
    TORCH_CHECK(x.size(2) % multiple == 0 && x.size(3) % multiple == 0, "nas::Network on the ",
                stack_.skeleton == Skeleton::darts_cifar ? "DARTS CIFAR" : "DARTS ImageNet",
                " skeleton needs a height and width divisible by ", multiple,
                " (each reduction halves them); got ", x.size(2), "x", x.size(3));
    // the auxiliary head pools 5x5 windows (stride 3 on CIFAR, 2 on ImageNet), then a 2x2 conv
    const std::int64_t auxiliary_min =
        multiple * (stack_.skeleton == Skeleton::darts_cifar ? 8 : 7);
    TORCH_CHECK(!(stack_.auxiliary && this->is_training()) ||
                    (x.size(2) >= auxiliary_min && x.size(3) >= auxiliary_min),
                "the auxiliary head needs, in training, images of at least ", auxiliary_min, "x",
                auxiliary_min, "; got ", x.size(2), "x", x.size(3));
    torch::Tensor s0;
    torch::Tensor s1;
    if (stack_.skeleton == Skeleton::darts_cifar) {
      s0 = s1 = stem0->forward(x);
    } else {
      s0 = stem0->forward(x);
      s1 = stem1->forward(s0);
    }
    torch::Tensor auxiliary;
    for (std::size_t i = 0; i < cells->size(); ++i) {
      auto next = with_cell(i, [&](auto& cell) { return cell.forward(s0, s1, drop_path_); });
      s0 = s1;
      s1 = next;
      if (static_cast<std::int64_t>(i) == 2 * stack_.layers / 3 && auxiliary_head &&
          this->is_training())
        auxiliary = auxiliary_head->forward(s1);
    }
    const auto pooled = torch::adaptive_avg_pool2d(s1, {1, 1}).flatten(1);
    return {classifier(pooled), auxiliary};
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

  /// Multiply-adds of one forward pass on a `height` x `width` image (batch 1),
  /// counting convolutions and linear layers; the auxiliary head is left out.
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t height, std::int64_t width) const {
    const auto& s = stack_;
    const auto stride2 = [](std::int64_t r) { return conv_output_size(r, 3, 2, 1); };
    std::int64_t n = 0;
    std::int64_t h0 = height, w0 = width, h1 = height, w1 = width;
    if (s.skeleton == Skeleton::darts_cifar) {
      n += conv_multiply_adds(s.input_channels, s.stem_multiplier * s.channels, 3, 3, 1, height,
                              width);
    } else {
      const std::int64_t c = s.channels;
      const std::int64_t ha = stride2(height), wa = stride2(width);
      h0 = stride2(ha);
      w0 = stride2(wa);
      h1 = stride2(h0);
      w1 = stride2(w0);
      n += conv_multiply_adds(s.input_channels, c / 2, 3, 3, 1, ha, wa) +
           conv_multiply_adds(c / 2, c, 3, 3, 1, h0, w0) +
           conv_multiply_adds(c, c, 3, 3, 1, h1, w1);
    }
    for (std::size_t i = 0; i < cells->size(); ++i) {
      n += with_cell(i, [&](auto& cell) { return cell.multiply_adds(h0, w0, h1, w1); });
      const bool reduction = is_reduction(i);
      h0 = h1;
      w0 = w1;
      if (reduction) {
        h1 = stride2(h1);
        w1 = stride2(w1);
      }
    }
    return n + classifier->options.in_features() * classifier->options.out_features();
  }

  [[nodiscard]] const Genotype<S>& genotype() const noexcept { return genotype_; }
  [[nodiscard]] const Stack& stack() const noexcept { return stack_; }

  torch::nn::Sequential stem0{nullptr};
  torch::nn::Sequential stem1{nullptr};
  torch::nn::ModuleList cells{nullptr};
  torch::nn::Sequential auxiliary_head{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  Genotype<S> genotype_;
  Stack stack_;
  double drop_path_ = 0.0;

  [[nodiscard]] bool is_reduction(std::size_t i) const noexcept {
    const auto li = static_cast<std::int64_t>(i);
    return li == stack_.layers / 3 || li == 2 * stack_.layers / 3;
  }
  // Calls `f` on cell `i` with its type. The cells are looked up in `cells` every time:
  // clone() replaces the list's modules, so no other reference to them may be kept.
  template <class F>
  decltype(auto) with_cell(std::size_t i, F&& f) const {
    if (is_reduction(i))
      return f(detail::checked(cells->template ptr<DartsCellImpl<reduce_cell>>(i)));
    return f(detail::checked(cells->template ptr<DartsCellImpl<normal_cell>>(i)));
  }
};
}  // namespace nas
