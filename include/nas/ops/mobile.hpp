#pragma once
/// @file
/// Operations of the layer-wise mobile spaces (ProxylessNAS, FBNet, MnasNet): the
/// inverted-residual block `MBConv<K, E>` with and without squeeze-excite, and `Skip`;
/// with nas::ops::Zero, the op set nas::ops::proxyless_ops.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/activation.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <algorithm>
#include <cstdint>

#include "nas/ops/cost.hpp"
#include "nas/ops/darts.hpp"
#include "nas/ops/op.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/relu.hpp"

namespace nas::ops {

/// The inverted residual of MobileNetV2 as ProxylessNAS defines it: a 1x1 expansion to
/// `E x in` channels with BN and ReLU6 (none when E = 1), a KxK depthwise convolution
/// (the stride) with BN and ReLU6, optionally squeeze-excite (MnasNet: global pooling,
/// 1x1 down to a quarter of the channels with ReLU, 1x1 back up, sigmoid gate), and a
/// 1x1 linear projection with BN. The input is added back when stride is 1 and the
/// channels do not change.
template <std::int64_t K, std::int64_t E, bool SqueezeExcite = false>
class MBConvImpl : public torch::nn::Cloneable<MBConvImpl<K, E, SqueezeExcite>> {
  static_assert(K % 2 == 1 && E >= 1, "MBConv needs an odd kernel and an expansion of 1 or more");

 public:
  explicit MBConvImpl(const OpArgs& args) : args_(args) { reset(); }

  void reset() override {
    const auto& a = args_;
    const std::int64_t mid = a.in * E;
    auto bn = [&](std::int64_t c) {
      return torch::nn::BatchNorm2d(
          torch::nn::BatchNorm2dOptions(c).affine(a.affine).track_running_stats(
              a.track_running_stats));
    };
    auto conv = [](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                   std::int64_t groups, bool bias) {
      return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                                   .stride(stride)
                                   .padding(k / 2)
                                   .groups(groups)
                                   .bias(bias));
    };
    if (E != 1) {
      expand = this->register_module("expand", conv(a.in, mid, 1, 1, 1, false));
      expand_bn = this->register_module("expand_bn", bn(mid));
    }
    depthwise = this->register_module("depthwise", conv(mid, mid, K, a.stride, mid, false));
    depthwise_bn = this->register_module("depthwise_bn", bn(mid));
    if (SqueezeExcite) {
      const std::int64_t squeezed = std::max<std::int64_t>(1, mid / 4);
      se_reduce = this->register_module("se_reduce", conv(mid, squeezed, 1, 1, 1, true));
      se_expand = this->register_module("se_expand", conv(squeezed, mid, 1, 1, 1, true));
    }
    project = this->register_module("project", conv(mid, a.out, 1, 1, 1, false));
    project_bn = this->register_module("project_bn", bn(a.out));
  }

  torch::Tensor forward(const torch::Tensor& x) {
    auto y = E != 1 ? ops::relu6(expand_bn(expand(x))) : x;
    y = ops::relu6(depthwise_bn(depthwise(y)));
    if (SqueezeExcite) {
      const auto s = torch::adaptive_avg_pool2d(y, {1, 1});
      y = y * torch::sigmoid(se_expand(ops::relu(se_reduce(s))));
    }
    y = project_bn(project(y));
    return residual() ? y + x : y;
  }

  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& a = args_;
    const std::int64_t mid = a.in * E;
    const std::int64_t oh = conv_output_size(h, K, a.stride, K / 2);
    const std::int64_t ow = conv_output_size(w, K, a.stride, K / 2);
    std::int64_t n = 0;
    if (E != 1) n += conv_multiply_adds(a.in, mid, 1, 1, 1, h, w);
    n += conv_multiply_adds(mid, mid, K, K, mid, oh, ow);
    if (SqueezeExcite) {
      const std::int64_t squeezed = std::max<std::int64_t>(1, mid / 4);
      n += 2 * mid * squeezed;
    }
    return n + conv_multiply_adds(mid, a.out, 1, 1, 1, oh, ow);
  }

  /// Whether the input is added back (stride 1, equal channels).
  [[nodiscard]] bool residual() const noexcept {
    return args_.stride == 1 && args_.in == args_.out;
  }

  torch::nn::Conv2d expand{nullptr}, depthwise{nullptr}, se_reduce{nullptr}, se_expand{nullptr},
      project{nullptr};
  torch::nn::BatchNorm2d expand_bn{nullptr}, depthwise_bn{nullptr}, project_bn{nullptr};

 private:
  OpArgs args_;
};
/// Module holder of nas::ops::MBConvImpl: `MBConv<3, 6>` is ProxylessNAS's `3x3_MBConv6`.
template <std::int64_t K, std::int64_t E, bool SqueezeExcite = false>
class MBConv : public torch::nn::ModuleHolder<MBConvImpl<K, E, SqueezeExcite>> {
 public:
  using torch::nn::ModuleHolder<MBConvImpl<K, E, SqueezeExcite>>::ModuleHolder;
};

/// Layer skipping (FBNet's `skip`): the identity at stride 1 with equal channels;
/// otherwise a 1x1 convolution with BN that matches the stride and channels.
class SkipImpl : public torch::nn::Cloneable<SkipImpl> {
 public:
  static constexpr bool nas_identity_op = true;  // at stride 1 with equal channels
  explicit SkipImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    const auto& a = args_;
    if (a.stride == 1 && a.in == a.out) return;
    conv = register_module(
        "conv",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 1).stride(a.stride).bias(false)));
    bn = register_module(
        "bn", torch::nn::BatchNorm2d(
                  torch::nn::BatchNorm2dOptions(a.out).affine(a.affine).track_running_stats(
                      a.track_running_stats)));
  }
  torch::Tensor forward(const torch::Tensor& x) { return conv ? bn(conv(x)) : x; }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    if (!conv) return 0;
    return conv_multiply_adds(args_.in, args_.out, 1, 1, 1, conv_output_size(h, 1, args_.stride, 0),
                              conv_output_size(w, 1, args_.stride, 0));
  }
  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(Skip);

/// ProxylessNAS's candidate ops, with its names: MBConv with kernel 3, 5, 7 and
/// expansion 3, 6, and `zero` (a skipped layer: the block's shortcut carries the input).
using proxyless_ops =
    OpSet<Op<"3x3_MBConv3", MBConv<3, 3>>, Op<"3x3_MBConv6", MBConv<3, 6>>,
          Op<"5x5_MBConv3", MBConv<5, 3>>, Op<"5x5_MBConv6", MBConv<5, 6>>,
          Op<"7x7_MBConv3", MBConv<7, 3>>, Op<"7x7_MBConv6", MBConv<7, 6>>, Op<"zero", Zero>>;

/// The candidates of nas::spaces::mobile: ProxylessNAS's six MBConv blocks and FBNet's
/// `skip` (the layer left out where its shape allows, a 1x1 projection where it does
/// not), so that every layer of a chain, the stride-2 ones included, may be skipped.
using mobile_ops =
    OpSet<Op<"3x3_MBConv3", MBConv<3, 3>>, Op<"3x3_MBConv6", MBConv<3, 6>>,
          Op<"5x5_MBConv3", MBConv<5, 3>>, Op<"5x5_MBConv6", MBConv<5, 6>>,
          Op<"7x7_MBConv3", MBConv<7, 3>>, Op<"7x7_MBConv6", MBConv<7, 6>>, Op<"skip", Skip>>;

}  // namespace nas::ops
