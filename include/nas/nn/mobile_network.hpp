#pragma once
/// @file
/// nas::MobileNetworkImpl: the discrete network a genotype of a layer-wise space (one
/// cell kind whose DAG is a chain, one op per layer) stands for, on ProxylessNAS's
/// MobileNetV2-like skeleton; nas::mobile_layout, the sizes of that skeleton.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

#include "nas/nn/make_op.hpp"
#include "nas/nn/mixed_edge.hpp"
#include "nas/nn/stack.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/mobile.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {
template <class C>
consteval bool is_chain_cell() {
  if (C::input_count != 1 || !C::dag.keeps_all() || C::dag.output != Output::last_node)
    return false;
  if (C::edge_count != C::dag.node_count() - 1) return false;
  for (std::size_t e = 0; e < C::edge_count; ++e)
    if (C::edges[e].from != e || C::edges[e].to != e + 1) return false;
  return true;
}
/// One cell kind whose DAG is a chain (nas::chain_dag) of at least 6 layers (one per
/// stage of the mobile skeleton): a layer-wise space. Shorter chains are NAS-Bench-201-style
/// cells.
template <class S>
concept mobile_style_space =
    S::cell_count == 1 &&
    is_chain_cell<typename S::template cell_at<0>>() && S::template cell_at<0>::edge_count >= 6;
}  // namespace detail

/// The shape of one searched layer of the mobile skeleton.
struct MobileLayer {
  std::int64_t in = 0;
  std::int64_t out = 0;
  std::int64_t stride = 1;
};

/// The sizes of the mobile skeleton for `layers` searched layers at `stack`.
struct MobileLayout {
  std::int64_t stem = 0;   ///< channels of the 3x3 stride-2 stem
  std::int64_t first = 0;  ///< channels of the fixed first block (MBConv, expansion 1)
  std::int64_t head = 0;   ///< channels of the 1x1 feature-mix layer before pooling
  std::vector<MobileLayer> layers;
};

/// ProxylessNAS's rounding of a scaled width: to the nearest multiple of `divisor`, at
/// least `divisor`, never more than 10% below the scaled width.
[[nodiscard]] inline std::int64_t make_divisible(double width, std::int64_t divisor = 8) {
  const auto d = static_cast<double>(divisor);
  std::int64_t n = std::max(divisor, static_cast<std::int64_t>((width + d / 2.0) / d) * divisor);
  if (static_cast<double>(n) < 0.9 * width) n += divisor;
  return n;
}

/// The skeleton of ProxylessNAS's mobile search space: stages of widths
/// 24, 40, 80, 96, 192, 320 (scaled by `stack.channels / 16` and rounded as ProxylessNAS
/// rounds them) with strides 2, 2, 2, 1, 2, 1; the last stage has one layer and the
/// others share the remaining `layers - 1` (4 each for ProxylessNAS's 21). The first
/// layer of a stage takes the stride and the new width.
[[nodiscard]] inline MobileLayout mobile_layout(std::size_t layers, const Stack& stack) {
  TORCH_CHECK(layers >= 6, "the mobile skeleton has 6 stages and needs at least 6 layers; got ",
              layers);
  TORCH_CHECK(stack.channels > 0, "Stack::channels must be positive; got ", stack.channels);
  static constexpr std::array<double, 6> widths{24, 40, 80, 96, 192, 320};
  static constexpr std::array<std::int64_t, 6> strides{2, 2, 2, 1, 2, 1};
  const double scale = static_cast<double>(stack.channels) / 16.0;
  MobileLayout out;
  out.stem = make_divisible(32.0 * scale);
  out.first = make_divisible(16.0 * scale);
  out.head = scale > 1.0 ? make_divisible(1280.0 * scale) : 1280;
  const std::size_t rest = layers - 1;
  std::int64_t in = out.first;
  for (std::size_t stage = 0; stage < widths.size(); ++stage) {
    std::size_t count = 1;
    if (stage + 1 < widths.size()) count = rest / 5 + (stage < rest % 5 ? 1U : 0U);
    const std::int64_t width = make_divisible(widths[stage] * scale);
    for (std::size_t i = 0; i < count; ++i) {
      out.layers.push_back({in, width, i == 0 ? strides[stage] : 1});
      in = width;
    }
  }
  return out;
}

namespace detail {
inline torch::nn::Sequential mobile_conv_bn(std::int64_t in, std::int64_t out, std::int64_t k,
                                            std::int64_t stride) {
  return torch::nn::Sequential(
      torch::nn::Conv2d(
          torch::nn::Conv2dOptions(in, out, k).stride(stride).padding(k / 2).bias(false)),
      torch::nn::BatchNorm2d(out), torch::nn::ReLU6());
}
}  // namespace detail

/// The network a genotype of a layer-wise space stands for, built as ProxylessNAS builds
/// its mobile networks: a 3x3 stride-2 convolution with BN and ReLU6, a fixed
/// MBConv 3x3 with expansion 1, one searched layer per edge of the chain (shapes from
/// nas::mobile_layout), a 1x1 feature-mix convolution with BN and ReLU6, global pooling
/// and a linear classifier.
///
/// Submodules: `stem`, `first`, `layer_<i>_<op>` (one per searched layer), `head`,
/// `classifier`.
template <search_space S>
class MobileNetworkImpl : public torch::nn::Cloneable<MobileNetworkImpl<S>> {
  static_assert(detail::mobile_style_space<S>,
                "nas::MobileNetwork needs a space with one cell kind whose DAG is a chain "
                "(nas::chain_dag): one searched op per layer");
  using cell_type = typename S::template cell_at<0>;

 public:
  MobileNetworkImpl(const Genotype<S>& genotype, const Stack& stack)
      : genotype_(genotype), stack_(stack) {
    genotype_.validate();
    TORCH_CHECK(stack.skeleton == Skeleton::mobile,
                "a layer-wise (chain) space is stacked on Skeleton::mobile; set "
                "Stack::skeleton = nas::Skeleton::mobile");
    TORCH_CHECK(stack.channels > 0 && stack.classes > 0 && stack.input_channels > 0,
                "nas::Network needs positive channels, classes and input channels");
    TORCH_CHECK(!stack.auxiliary, "the mobile skeleton has no auxiliary head");
    reset();
  }

  void reset() override {
    layout_ = mobile_layout(cell_type::edge_count, stack_);
    stem = this->register_module("stem",
                                 detail::mobile_conv_bn(stack_.input_channels, layout_.stem, 3, 2));
    first = this->register_module("first",
                                  ops::MBConv<3, 1>(OpArgs{layout_.stem, layout_.first, 1, true}));
    modules_.clear();
    costs_.clear();
    const auto& cell = genotype_.template cell_at<0>();
    for (std::size_t e = 0; e < cell_type::edge_count; ++e) {
      const auto& l = layout_.layers[e];
      const std::size_t op = cell.ops(e)[0];
      BuiltOp built = make_op<typename cell_type::ops>(op, OpArgs{l.in, l.out, l.stride, true});
      // registered on the network itself (not in a list): clone() then copies each
      // layer into the module modules_ holds
      std::string name = "layer_";
      name += std::to_string(e);
      name += '_';
      name += detail::module_name(cell_type::ops::names[op]);
      this->register_module(name, built.module.ptr());
      modules_.push_back(std::move(built.module));
      costs_.push_back(std::move(built.multiply_adds));
    }
    head = this->register_module(
        "head", detail::mobile_conv_bn(layout_.layers.back().out, layout_.head, 1, 1));
    classifier =
        this->register_module("classifier", torch::nn::Linear(layout_.head, stack_.classes));
  }

  /// Logits for a batch of images `[N, input_channels, H, W]`.
  torch::Tensor forward(const torch::Tensor& x) {
    TORCH_CHECK(x.dim() == 4 && x.size(1) == stack_.input_channels,
                "nas::Network expects images [N, ", stack_.input_channels,
                ", H, W] (Stack::input_channels); got a tensor of shape ", x.sizes());
    auto y = first(stem->forward(x));
    for (auto& m : modules_) y = m.forward(y);
    y = head->forward(y);
    return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
  }

  /// Multiply-adds of one forward pass on a `height` x `width` image (batch 1),
  /// counting convolutions and linear layers.
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t height, std::int64_t width) const {
    std::int64_t h = conv_output_size(height, 3, 2, 1), w = conv_output_size(width, 3, 2, 1);
    std::int64_t n = conv_multiply_adds(stack_.input_channels, layout_.stem, 3, 3, 1, h, w);
    n += first->multiply_adds(h, w);
    for (std::size_t e = 0; e < costs_.size(); ++e) {
      n += costs_[e](h, w);
      const auto stride = layout_.layers[e].stride;
      h = conv_output_size(h, 1, stride, 0);
      w = conv_output_size(w, 1, stride, 0);
    }
    n += conv_multiply_adds(layout_.layers.back().out, layout_.head, 1, 1, 1, h, w);
    return n + layout_.head * stack_.classes;
  }

  [[nodiscard]] const Genotype<S>& genotype() const noexcept { return genotype_; }
  [[nodiscard]] const Stack& stack() const noexcept { return stack_; }
  [[nodiscard]] const MobileLayout& layout() const noexcept { return layout_; }

  torch::nn::Sequential stem{nullptr};
  ops::MBConv<3, 1> first{nullptr};
  torch::nn::Sequential head{nullptr};
  torch::nn::Linear classifier{nullptr};

 private:
  Genotype<S> genotype_;
  Stack stack_;
  MobileLayout layout_;
  std::vector<torch::nn::AnyModule> modules_;
  std::vector<std::function<std::int64_t(std::int64_t, std::int64_t)>> costs_;
};

}  // namespace nas
