#pragma once
/// @file
/// nas::Nb201NetworkImpl: the discrete network a genotype of a NAS-Bench-201-style space
/// (one cell kind, one input, output the last node) stands for, on the NAS-Bench-201
/// skeleton, and its cell nas::Nb201CellImpl.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nas/nn/cell_edges.hpp"
#include "nas/nn/make_op.hpp"
#include "nas/nn/stack.hpp"
#include "nas/ops/nb201.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {
template <class S>
concept nb201_style_space = S::cell_count == 1 && S::template cell_at<0>::input_count == 1 &&
                            S::template cell_at<0>::dag.output == Output::last_node;
}  // namespace detail

/// One discrete cell of a NAS-Bench-201-style space: every kept op built (edges from
/// the input map `in` to `channels`, the others `channels` to `channels`), each node
/// the sum of its kept inputs, the output the last node.
///
/// Submodules: one per kept op named `edge_<from>_<to>_<op>`.
template <cell_kind C>
class Nb201CellImpl : public torch::nn::Cloneable<Nb201CellImpl<C>> {
 public:
  Nb201CellImpl(const CellGenotype<C>& genotype, std::int64_t in, std::int64_t channels)
      : genotype_(genotype), in_(in), channels_(channels) {
    genotype_.validate();
    reset();
  }

  void reset() override {
    edges_.build(*this, genotype_, [&](const Edge& edge) {
      return OpArgs{edge.from < C::input_count ? in_ : channels_, channels_, 1, true};
    });
  }

  torch::Tensor forward(const torch::Tensor& x) {
    std::vector<torch::Tensor> states(C::dag.node_count());
    states[0] = x;
    edges_.run(states, channels_, this->is_training(), 0.0);
    return states.back();
  }

  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    return edges_.multiply_adds([&](std::size_t) { return std::pair{h, w}; });
  }

 private:
  CellGenotype<C> genotype_;
  std::int64_t in_;
  std::int64_t channels_;
  detail::CellEdges<C> edges_;
};

/// Module holder of nas::Nb201CellImpl<C>.
template <cell_kind C>
class Nb201Cell : public torch::nn::ModuleHolder<Nb201CellImpl<C>> {
 public:
  using torch::nn::ModuleHolder<Nb201CellImpl<C>>::ModuleHolder;
};

/// The NAS-Bench-201 network a genotype stands for: a 3x3 conv stem, 3 stages of
/// `Stack::layers` cells at `channels`, 2x and 4x channels, joined by residual
/// reduction blocks, then batch norm, ReLU, global pooling and a linear classifier,
/// exactly as NAS-Bench-201's reference code builds it.
///
/// Submodules: `stem`, `cells` (cells and reduction blocks in order), `lastact`,
/// `classifier`.
template <search_space S>
class Nb201NetworkImpl : public torch::nn::Cloneable<Nb201NetworkImpl<S>> {
  static_assert(detail::nb201_style_space<S>,
                "nas::Nb201Network needs a space with one cell kind that takes 1 input and "
                "outputs its last node (the NAS-Bench-201 layout)");
  using cell_type = typename S::template cell_at<0>;

 public:
  Nb201NetworkImpl(const Genotype<S>& genotype, const Stack& stack)
      : genotype_(genotype), stack_(stack) {
    genotype_.validate();
    TORCH_CHECK(stack.skeleton == Skeleton::nb201,
                "a NAS-Bench-201-style space is stacked on Skeleton::nb201; set "
                "Stack::skeleton = nas::Skeleton::nb201");
    TORCH_CHECK(stack.layers >= 1, "Stack::layers (cells per stage) must be positive; got ",
                stack.layers);
    TORCH_CHECK(stack.channels > 0 && stack.classes > 0 && stack.input_channels > 0,
                "nas::Network needs positive channels, classes and input channels");
    reset();
  }

  void reset() override {
    const auto& s = stack_;
    stem = this->register_module(
        "stem",
        torch::nn::Sequential(
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(s.input_channels, s.channels, 3).padding(1).bias(false)),
            torch::nn::BatchNorm2d(s.channels)));
    cells = this->register_module("cells", torch::nn::ModuleList());
    std::int64_t c_prev = s.channels;
    for (std::int64_t stage = 0; stage < 3; ++stage) {
      const std::int64_t c = s.channels << stage;
      if (stage > 0) {
        cells->push_back(ops::ResNetBasicBlock(OpArgs{c_prev, c, 2, true}).ptr());
      }
      for (std::int64_t i = 0; i < s.layers; ++i)
        cells->push_back(
            std::make_shared<Nb201CellImpl<cell_type>>(genotype_.template cell_at<0>(), c, c));
      c_prev = c;
    }
    lastact = this->register_module(
        "lastact", torch::nn::Sequential(torch::nn::BatchNorm2d(c_prev), torch::nn::ReLU()));
    classifier = this->register_module("classifier", torch::nn::Linear(c_prev, s.classes));
  }

  /// Logits for a batch of images `[N, input_channels, H, W]`.
  torch::Tensor forward(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == stack_.input_channels,
                "nas::Network expects images [N, ", stack_.input_channels,
                ", H, W] (Stack::input_channels); got a tensor of shape ", x.sizes());
    TORCH_CHECK(x.size(2) % 4 == 0 && x.size(3) % 4 == 0,
                "nas::Network on the NAS-Bench-201 skeleton needs a height and width divisible "
                "by 4 (two residual reduction blocks halve them); got ",
                x.size(2), "x", x.size(3));
    auto y = stem->forward(x);
    for (std::size_t i = 0; i < cells->size(); ++i)
      y = with_block(i, [&](auto& block) { return block.forward(y); });
    y = lastact->forward(y);
    return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
  }

  /// Multiply-adds of one forward pass on a `height` x `width` image (batch 1),
  /// counting convolutions and linear layers.
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t height, std::int64_t width) const {
    std::int64_t n =
        conv_multiply_adds(stack_.input_channels, stack_.channels, 3, 3, 1, height, width);
    std::int64_t h = height, w = width;
    for (std::size_t i = 0; i < cells->size(); ++i) {
      n += with_block(i, [&](auto& block) { return block.multiply_adds(h, w); });
      if (is_reduction(i)) {
        h = conv_output_size(h, 3, 2, 1);
        w = conv_output_size(w, 3, 2, 1);
      }
    }
    return n + classifier->options.in_features() * classifier->options.out_features();
  }

  [[nodiscard]] const Genotype<S>& genotype() const noexcept { return genotype_; }
  [[nodiscard]] const Stack& stack() const noexcept { return stack_; }

  torch::nn::Sequential stem{nullptr};
  torch::nn::ModuleList cells{nullptr};
  torch::nn::Sequential lastact{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  Genotype<S> genotype_;
  Stack stack_;

  // The residual reduction blocks sit after each stage's `layers` cells.
  [[nodiscard]] bool is_reduction(std::size_t i) const noexcept {
    const auto li = static_cast<std::int64_t>(i);
    return li == stack_.layers || li == 2 * stack_.layers + 1;
  }
  // Calls `f` on block `i` with its type. Looked up in `cells` every time: clone()
  // replaces the list's modules, so no other reference to them may be kept.
  template <class F>
  decltype(auto) with_block(std::size_t i, F&& f) const {
    if (is_reduction(i))
      return f(detail::checked(cells->template ptr<ops::ResNetBasicBlockImpl>(i)));
    return f(detail::checked(cells->template ptr<Nb201CellImpl<cell_type>>(i)));
  }
};

}  // namespace nas
