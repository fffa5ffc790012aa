#pragma once
/// @file
/// The NAS-Bench-201 operations, defined as NAS-Bench-201's reference code defines them
/// (ReLU-Conv-BN with a convolution bias exactly when BN is not affine), its residual
/// reduction block, and the op set nas::ops::nb201_ops.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "nas/ops/cost.hpp"
#include "nas/ops/darts.hpp"
#include "nas/ops/op.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/relu.hpp"

namespace nas::ops {

namespace detail {
inline ReLUConvBNOptions nb201_conv(const OpArgs& a, std::int64_t in, std::int64_t kernel,
                                    std::int64_t stride) {
  return {.in = in,
          .out = a.out,
          .kernel = kernel,
          .stride = stride,
          .padding = kernel / 2,
          .affine = a.affine,
          .bias = !a.affine,
          .track_running_stats = a.track_running_stats};
}
}  // namespace detail

/// `nor_conv_KxK`: ReLU, KxK convolution (bias exactly when BN is not affine), batch norm.
template <std::int64_t K>
class NorConvImpl : public torch::nn::Cloneable<NorConvImpl<K>> {
 public:
  explicit NorConvImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    op = this->register_module("op",
                               ReLUConvBN(detail::nb201_conv(args_, args_.in, K, args_.stride)));
  }
  /// Starts with a ReLU: nas::MixedEdge passes one shared relu(x) to forward_relu().
  static constexpr bool nas_relu_first = true;
  torch::Tensor forward(const torch::Tensor& x) { return op(x); }
  /// The output for `relu_x == relu(x)`.
  torch::Tensor forward_relu(const torch::Tensor& relu_x) { return op->forward_relu(relu_x); }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    return op->multiply_adds(h, w);
  }
  ReLUConvBN op{nullptr};

 private:
  OpArgs args_;
};
/// Module holder of nas::ops::NorConvImpl<K>: `nor_conv_3x3` is `NorConv<3>`.
template <std::int64_t K>
class NorConv : public torch::nn::ModuleHolder<NorConvImpl<K>> {
 public:
  using torch::nn::ModuleHolder<NorConvImpl<K>>::ModuleHolder;
};

/// `avg_pool_3x3` of NAS-Bench-201: a 1x1 ReLU-Conv-BN first when the channel count
/// changes, then 3x3 average pooling that leaves padding out of the average.
class Nb201AvgPoolImpl : public torch::nn::Cloneable<Nb201AvgPoolImpl> {
 public:
  explicit Nb201AvgPoolImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    if (args_.in != args_.out)
      preprocess =
          register_module("preprocess", ReLUConvBN(detail::nb201_conv(args_, args_.in, 1, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto y = preprocess ? preprocess(x) : x;
    return torch::avg_pool2d(y, {3, 3}, {args_.stride, args_.stride}, {1, 1}, false, false);
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    return preprocess ? preprocess->multiply_adds(h, w) : 0;
  }
  ReLUConvBN preprocess{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(Nb201AvgPool);

/// `skip_connect` of NAS-Bench-201: the identity at stride 1 with equal channels;
/// otherwise its factorized reduce (two 1x1 convolutions over the input and the
/// input shifted by one pixel, concatenated, batch norm; one 1x1 convolution at stride 1).
class Nb201SkipImpl : public torch::nn::Cloneable<Nb201SkipImpl> {
 public:
  static constexpr bool nas_identity_op = true;  // at stride 1 with equal channels
  explicit Nb201SkipImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    const auto& a = args_;
    if (a.stride == 1 && a.in == a.out) return;
    auto conv = [&](std::int64_t out, std::int64_t stride) {
      return torch::nn::Conv2d(
          torch::nn::Conv2dOptions(a.in, out, 1).stride(stride).bias(!a.affine));
    };
    if (a.stride == 1) {
      conv_1 = register_module("conv", conv(a.out, 1));
    } else {
      TORCH_CHECK(a.stride == 2, "NAS-Bench-201 skip_connect supports stride 1 or 2; got ",
                  a.stride);
      conv_1 = register_module("conv_1", conv(a.out / 2, 2));
      conv_2 = register_module("conv_2", conv(a.out - a.out / 2, 2));
    }
    bn = register_module(
        "bn", torch::nn::BatchNorm2d(
                  torch::nn::BatchNorm2dOptions(a.out).affine(a.affine).track_running_stats(
                      a.track_running_stats)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    if (!bn) return x;
    if (!conv_2) return bn(conv_1(x));
    using torch::indexing::Slice;
    const auto y = ops::relu(x);
    const auto padded = torch::constant_pad_nd(y, {0, 1, 0, 1});
    return bn(
        torch::cat({conv_1(y), conv_2(padded.index({Slice(), Slice(), Slice(1), Slice(1)}))}, 1));
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& a = args_;
    if (!bn) return 0;
    if (!conv_2) return conv_multiply_adds(a.in, a.out, 1, 1, 1, h, w);
    const std::int64_t oh = conv_output_size(h, 1, 2, 0), ow = conv_output_size(w, 1, 2, 0);
    return conv_multiply_adds(a.in, a.out / 2, 1, 1, 1, oh, ow) +
           conv_multiply_adds(a.in, a.out - a.out / 2, 1, 1, 1, oh, ow);
  }
  torch::nn::Conv2d conv_1{nullptr}, conv_2{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(Nb201Skip);

/// The residual reduction block between NAS-Bench-201 stages: two 3x3 ReLU-Conv-BN
/// (the first strided) plus a shortcut (2x2 average pooling and a 1x1 convolution at
/// stride 2; a 1x1 ReLU-Conv-BN when only the channels change).
class ResNetBasicBlockImpl : public torch::nn::Cloneable<ResNetBasicBlockImpl> {
 public:
  explicit ResNetBasicBlockImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    const auto& a = args_;
    TORCH_CHECK(a.stride == 1 || a.stride == 2, "ResNetBasicBlock supports stride 1 or 2; got ",
                a.stride);
    conv_a = register_module("conv_a", ReLUConvBN(detail::nb201_conv(a, a.in, 3, a.stride)));
    conv_b = register_module("conv_b", ReLUConvBN(detail::nb201_conv(a, a.out, 3, 1)));
    if (a.stride == 2)
      shortcut = register_module(
          "shortcut", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 1).bias(false)));
    else if (a.in != a.out)
      shortcut_rcb = register_module("shortcut", ReLUConvBN(detail::nb201_conv(a, a.in, 1, 1)));
  }
  torch::Tensor forward(const torch::Tensor& x) {
    const auto block = conv_b(conv_a(x));
    if (shortcut) return block + shortcut(torch::avg_pool2d(x, {2, 2}, {2, 2}));
    if (shortcut_rcb) return block + shortcut_rcb(x);
    return block + x;
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& a = args_;
    const std::int64_t oh = conv_output_size(h, 3, a.stride, 1),
                       ow = conv_output_size(w, 3, a.stride, 1);
    std::int64_t n = conv_a->multiply_adds(h, w) + conv_b->multiply_adds(oh, ow);
    if (shortcut) n += conv_multiply_adds(a.in, a.out, 1, 1, 1, h / 2, w / 2);
    if (shortcut_rcb) n += shortcut_rcb->multiply_adds(h, w);
    return n;
  }
  ReLUConvBN conv_a{nullptr}, conv_b{nullptr};
  torch::nn::Conv2d shortcut{nullptr};
  ReLUConvBN shortcut_rcb{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(ResNetBasicBlock);

/// The five NAS-Bench-201 ops, in NAS-Bench-201's order.
using nb201_ops =
    OpSet<Op<"none", Zero>, Op<"skip_connect", Nb201Skip>, Op<"nor_conv_1x1", NorConv<1>>,
          Op<"nor_conv_3x3", NorConv<3>>, Op<"avg_pool_3x3", Nb201AvgPool>>;

}  // namespace nas::ops
