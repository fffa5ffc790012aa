#pragma once
/// @file
/// nas::layouts::Mobile: ProxylessNAS's layer-wise layout (one chain cell, one searched op per
/// layer, on a MobileNetV2-like body), and nas::mobile_layout, the sizes of its layers.

#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "nas/layout/layout.hpp"
#include "nas/layout/stack.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/mobile.hpp"
#include "nas/ops/relu.hpp"
#include "nas/space/space.hpp"

namespace nas {

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
template <class C>
consteval bool is_chain_cell() {
  if (C::input_count != 1 || !C::dag.keeps_all() || C::dag.output != Output::last_node)
    return false;
  if (C::edge_count != C::dag.node_count() - 1) return false;
  for (std::size_t e = 0; e < C::edge_count; ++e)
    if (C::edges[e].from != e || C::edges[e].to != e + 1) return false;
  return true;
}
}  // namespace detail

namespace layouts {

/// ProxylessNAS's mobile layout: a 3x3 stride-2 convolution with BN and ReLU6, a fixed MBConv
/// 3x3 with expansion 1, one searched layer per edge of the chain (shapes from
/// nas::mobile_layout), a 1x1 feature-mix convolution with BN and ReLU6, global pooling and a
/// linear classifier, as ProxylessNAS builds its mobile networks. Needs
/// `Stack::skeleton = Skeleton::mobile`; has no auxiliary head.
///
/// Accepts: spaces of one cell kind whose DAG is a chain (nas::chain_dag) of at least 6 layers
/// (one per stage) (nas::spaces::mobile).
/// Submodules: `stem` (the convolution and the fixed first block), `cells` (one chain cell,
/// its layers `edge_<i>_<i+1>_<op>`), `lastact` (the feature-mix layer), `classifier`.
struct Mobile {
  static constexpr std::string_view name = "mobile (ProxylessNAS)";
  template <search_space S>
  static constexpr bool accepts = S::cell_count == 1 &&
                                  detail::is_chain_cell<typename S::template cell_at<0>>() &&
                                  S::template cell_at<0>::edge_count >= 6;

  struct skeleton {
    torch::nn::Sequential stem{nullptr};
    torch::nn::Sequential lastact{nullptr};
    torch::nn::Linear classifier{nullptr};
    MobileLayout sizes{};

    template <class Net>
    void build(Net& net) {
      const Stack& s = net.stack();
      TORCH_CHECK(s.skeleton == Skeleton::mobile,
                  "a layer-wise (chain) space is stacked on Skeleton::mobile; set "
                  "Stack::skeleton = nas::Skeleton::mobile");
      TORCH_CHECK(!s.auxiliary, "the mobile skeleton has no auxiliary head");
      using C = typename Net::space::template cell_at<0>;
      sizes = mobile_layout(C::edge_count, s);
      stem = net.register_module(
          "stem", torch::nn::Sequential(
                      torch::nn::Conv2d(torch::nn::Conv2dOptions(s.input_channels, sizes.stem, 3)
                                            .stride(2)
                                            .padding(1)
                                            .bias(false)),
                      torch::nn::BatchNorm2d(sizes.stem), ops::ReLU6(),
                      ops::MBConv<3, 1>(OpArgs{sizes.stem, sizes.first, 1, true})));
      net.template add_cell_at<0>(
          CellShape{{CellInput{sizes.first}}, [layers = sizes.layers](const Edge& edge, bool) {
                      const auto& l = layers[edge.from];
                      return EdgeShape{l.in, l.out, l.stride};
                    }});
      lastact = net.register_module(
          "lastact",
          torch::nn::Sequential(
              torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(sizes.layers.back().out, sizes.head, 1).bias(false)),
              torch::nn::BatchNorm2d(sizes.head), ops::ReLU6()));
      classifier = net.register_module("classifier", torch::nn::Linear(sizes.head, s.classes));
    }

    template <class Net>
    torch::Tensor forward(Net& net, const torch::Tensor& x) {
      auto y = net.cell(0, stem->forward(x));
      y = lastact->forward(y);
      return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
    }

    template <class Net>
    [[nodiscard]] std::int64_t multiply_adds(const Net& net, std::int64_t height,
                                             std::int64_t width) const {
      const Stack& s = net.stack();
      std::int64_t h = conv_output_size(height, 3, 2, 1), w = conv_output_size(width, 3, 2, 1);
      std::int64_t n = conv_multiply_adds(s.input_channels, sizes.stem, 3, 3, 1, h, w);
      n += detail::checked(stem->template ptr<ops::MBConvImpl<3, 1>>(3)).multiply_adds(h, w);
      n += net.cell_multiply_adds(0, {{h, w}});
      for (const auto& l : sizes.layers) {
        h = conv_output_size(h, 1, l.stride, 0);
        w = conv_output_size(w, 1, l.stride, 0);
      }
      n += conv_multiply_adds(sizes.layers.back().out, sizes.head, 1, 1, 1, h, w);
      return n + sizes.head * s.classes;
    }
  };
};

}  // namespace layouts

}  // namespace nas
