#pragma once
/// @file
/// The DARTS / NASNet / ENAS operations, defined as DARTS's reference code defines
/// them (layer order, no conv bias, BatchNorm affine on or off, padding), and their
/// op sets nas::ops::darts_ops and nas::ops::nasnet_ops.

#include <torch/nn/cloneable.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/pooling.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstdint>

#include "nas/ops/conv.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/op.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/relu.hpp"

namespace nas::ops {

/// Options of nas::ops::ReLUConvBN.
struct ReLUConvBNOptions {
  std::int64_t in = 0;
  std::int64_t out = 0;
  std::int64_t kernel = 1;
  std::int64_t stride = 1;
  std::int64_t padding = 0;
  std::int64_t dilation = 1;
  bool affine = true;
  bool bias = false;  ///< convolution bias (NAS-Bench-201 sets it when BN is not affine)
  bool track_running_stats = true;
};

/// ReLU, convolution without bias, batch norm: DARTS's cell preprocessing
/// (1x1) and NAS-Bench-201's `nor_conv_kxk`.
class ReLUConvBNImpl : public torch::nn::Cloneable<ReLUConvBNImpl> {
 public:
  explicit ReLUConvBNImpl(const ReLUConvBNOptions& options) : options_(options) { reset(); }
  void reset() override {
    const auto& o = options_;
    conv = register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in, o.out, o.kernel)
                                                         .stride(o.stride)
                                                         .padding(o.padding)
                                                         .dilation(o.dilation)
                                                         .bias(o.bias)));
    bn = register_module(
        "bn", torch::nn::BatchNorm2d(
                  torch::nn::BatchNorm2dOptions(o.out).affine(o.affine).track_running_stats(
                      o.track_running_stats)));
  }
  /// Starts with a ReLU: nas::MixedEdge passes one shared relu(x) to forward_relu().
  static constexpr bool nas_relu_first = true;
  torch::Tensor forward(const torch::Tensor& x) { return forward_relu(ops::relu(x)); }
  /// The output for `relu_x == relu(x)`.
  torch::Tensor forward_relu(const torch::Tensor& relu_x) { return bn(ops::conv(conv, relu_x)); }
  [[nodiscard]] const ReLUConvBNOptions& options() const noexcept { return options_; }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& o = options_;
    return conv_multiply_adds(o.in, o.out, o.kernel, o.kernel, 1,
                              conv_output_size(h, o.kernel, o.stride, o.padding, o.dilation),
                              conv_output_size(w, o.kernel, o.stride, o.padding, o.dilation));
  }

  torch::nn::Conv2d conv{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  ReLUConvBNOptions options_;
};
TORCH_MODULE(ReLUConvBN);

/// Halves the resolution without losing pixels: ReLU, two 1x1 stride-2 convolutions
/// (the second on the input shifted by one pixel), concatenated, batch norm.
/// DARTS's `skip_connect` at stride 2 and its preprocessing after a reduction cell.
class FactorizedReduceImpl : public torch::nn::Cloneable<FactorizedReduceImpl> {
 public:
  explicit FactorizedReduceImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    TORCH_CHECK(args_.out % 2 == 0, "nas::ops::FactorizedReduce needs an even number of output ",
                "channels (it concatenates two halves); got ", args_.out);
    auto half = [&] {
      return torch::nn::Conv2d(
          torch::nn::Conv2dOptions(args_.in, args_.out / 2, 1).stride(2).bias(false));
    };
    conv_1 = register_module("conv_1", half());
    conv_2 = register_module("conv_2", half());
    bn = register_module("bn", torch::nn::BatchNorm2d(
                                   torch::nn::BatchNorm2dOptions(args_.out).affine(args_.affine)));
  }
  /// Starts with a ReLU: nas::MixedEdge passes one shared relu(x) to forward_relu().
  static constexpr bool nas_relu_first = true;
  torch::Tensor forward(const torch::Tensor& x) { return forward_relu(ops::relu(x)); }
  /// The output for `relu_x == relu(x)`.
  torch::Tensor forward_relu(const torch::Tensor& relu_x) {
    TORCH_CHECK(relu_x.dim() == 4 && relu_x.size(2) % 2 == 0 && relu_x.size(3) % 2 == 0,
                "nas::ops::FactorizedReduce needs an NCHW input of even height and width; got ",
                relu_x.sizes());
    using torch::indexing::Slice;
    return bn(torch::cat({ops::conv(conv_1, relu_x),
                          ops::conv(conv_2, relu_x.index({Slice(), Slice(), Slice(1), Slice(1)}))},
                         1));
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const std::int64_t half = args_.out / 2;
    return conv_multiply_adds(args_.in, half, 1, 1, 1, conv_output_size(h, 1, 2, 0),
                              conv_output_size(w, 1, 2, 0)) +
           conv_multiply_adds(args_.in, half, 1, 1, 1, conv_output_size(h - 1, 1, 2, 0),
                              conv_output_size(w - 1, 1, 2, 0));
  }

  torch::nn::Conv2d conv_1{nullptr};
  torch::nn::Conv2d conv_2{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(FactorizedReduce);

/// `none`: zeros of the output's shape (spatially subsampled at stride 2).
class ZeroImpl : public torch::nn::Cloneable<ZeroImpl> {
 public:
  static constexpr bool nas_zero_op = true;
  explicit ZeroImpl(const OpArgs& args) : args_(args) {}
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x) {
    using torch::indexing::Slice;
    const auto y =
        args_.stride == 1
            ? x
            : x.index({Slice(), Slice(),
                       Slice(torch::indexing::None, torch::indexing::None, args_.stride),
                       Slice(torch::indexing::None, torch::indexing::None, args_.stride)});
    if (args_.out == x.size(1)) return y.mul(0.0);
    return torch::zeros({y.size(0), args_.out, y.size(2), y.size(3)}, y.options());
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t, std::int64_t) const { return 0; }

 private:
  OpArgs args_;
};
TORCH_MODULE(Zero);

/// `skip_connect`: the identity at stride 1, nas::ops::FactorizedReduce at stride 2.
class SkipConnectImpl : public torch::nn::Cloneable<SkipConnectImpl> {
 public:
  static constexpr bool nas_identity_op = true;  // at stride 1
  explicit SkipConnectImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    TORCH_CHECK(args_.stride != 1 || args_.in == args_.out,
                "nas::ops::SkipConnect at stride 1 is the identity and needs as many output as "
                "input channels; got ",
                args_.in, " -> ", args_.out);
    if (args_.stride != 1) reduce = register_module("reduce", FactorizedReduce(args_));
  }
  torch::Tensor forward(const torch::Tensor& x) { return reduce ? reduce(x) : x; }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    return reduce ? reduce->multiply_adds(h, w) : 0;
  }

  FactorizedReduce reduce{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(SkipConnect);

/// Two stacked blocks of ReLU, depthwise KxK convolution, pointwise convolution,
/// batch norm; only the first depthwise convolution strides (DARTS's SepConv).
template <std::int64_t K>
class SepConvImpl : public torch::nn::Cloneable<SepConvImpl<K>> {
 public:
  explicit SepConvImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    const auto& a = args_;
    auto conv = [](std::int64_t in, std::int64_t out, std::int64_t k, std::int64_t stride,
                   std::int64_t groups) {
      return torch::nn::Conv2d(torch::nn::Conv2dOptions(in, out, k)
                                   .stride(stride)
                                   .padding(k / 2)
                                   .groups(groups)
                                   .bias(false));
    };
    auto bn = [&](std::int64_t c) {
      return torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(c).affine(a.affine));
    };
    depthwise_1 = this->register_module("depthwise_1", conv(a.in, a.in, K, a.stride, a.in));
    pointwise_1 = this->register_module("pointwise_1", conv(a.in, a.in, 1, 1, 1));
    bn_1 = this->register_module("bn_1", bn(a.in));
    depthwise_2 = this->register_module("depthwise_2", conv(a.in, a.in, K, 1, a.in));
    pointwise_2 = this->register_module("pointwise_2", conv(a.in, a.out, 1, 1, 1));
    bn_2 = this->register_module("bn_2", bn(a.out));
  }
  /// Starts with a ReLU: nas::MixedEdge passes one shared relu(x) to forward_relu().
  static constexpr bool nas_relu_first = true;
  torch::Tensor forward(const torch::Tensor& x) { return forward_relu(ops::relu(x)); }
  /// The output for `relu_x == relu(x)`.
  torch::Tensor forward_relu(const torch::Tensor& relu_x) {
    const auto y = ops::batch_norm(bn_1, ops::conv_pair(depthwise_1, pointwise_1, relu_x));
    return ops::batch_norm(bn_2, ops::conv_pair(depthwise_2, pointwise_2, ops::relu(y)));
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& a = args_;
    const std::int64_t oh = conv_output_size(h, K, a.stride, K / 2);
    const std::int64_t ow = conv_output_size(w, K, a.stride, K / 2);
    return conv_multiply_adds(a.in, a.in, K, K, a.in, oh, ow) +
           conv_multiply_adds(a.in, a.in, 1, 1, 1, oh, ow) +
           conv_multiply_adds(a.in, a.in, K, K, a.in, oh, ow) +
           conv_multiply_adds(a.in, a.out, 1, 1, 1, oh, ow);
  }

  torch::nn::Conv2d depthwise_1{nullptr}, pointwise_1{nullptr}, depthwise_2{nullptr},
      pointwise_2{nullptr};
  torch::nn::BatchNorm2d bn_1{nullptr}, bn_2{nullptr};

 private:
  OpArgs args_;
};
/// Module holder of nas::ops::SepConvImpl<K>: `sep_conv_3x3` is `SepConv<3>`.
template <std::int64_t K>
class SepConv : public torch::nn::ModuleHolder<SepConvImpl<K>> {
 public:
  using torch::nn::ModuleHolder<SepConvImpl<K>>::ModuleHolder;
};

/// ReLU, depthwise KxK convolution with dilation 2, pointwise convolution, batch
/// norm (DARTS's DilConv: a 5x5 or 9x9 receptive field).
template <std::int64_t K>
class DilConvImpl : public torch::nn::Cloneable<DilConvImpl<K>> {
 public:
  explicit DilConvImpl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    const auto& a = args_;
    depthwise =
        this->register_module("depthwise", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.in, K)
                                                                 .stride(a.stride)
                                                                 .padding(K - 1)
                                                                 .dilation(2)
                                                                 .groups(a.in)
                                                                 .bias(false)));
    pointwise = this->register_module(
        "pointwise", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 1).bias(false)));
    bn = this->register_module(
        "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(a.out).affine(a.affine)));
  }
  /// Starts with a ReLU: nas::MixedEdge passes one shared relu(x) to forward_relu().
  static constexpr bool nas_relu_first = true;
  torch::Tensor forward(const torch::Tensor& x) { return forward_relu(ops::relu(x)); }
  /// The output for `relu_x == relu(x)`.
  torch::Tensor forward_relu(const torch::Tensor& relu_x) {
    return ops::batch_norm(bn, ops::conv_pair(depthwise, pointwise, relu_x));
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& a = args_;
    const std::int64_t oh = conv_output_size(h, K, a.stride, K - 1, 2);
    const std::int64_t ow = conv_output_size(w, K, a.stride, K - 1, 2);
    return conv_multiply_adds(a.in, a.in, K, K, a.in, oh, ow) +
           conv_multiply_adds(a.in, a.out, 1, 1, 1, oh, ow);
  }

  torch::nn::Conv2d depthwise{nullptr}, pointwise{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  OpArgs args_;
};
/// Module holder of nas::ops::DilConvImpl<K>: `dil_conv_3x3` is `DilConv<3>`.
template <std::int64_t K>
class DilConv : public torch::nn::ModuleHolder<DilConvImpl<K>> {
 public:
  using torch::nn::ModuleHolder<DilConvImpl<K>>::ModuleHolder;
};

/// 3x3 max pooling, padding 1 (`max_pool_3x3`).
class MaxPool3x3Impl : public torch::nn::Cloneable<MaxPool3x3Impl> {
 public:
  /// DARTS's search supernet follows pooling with a batch norm (nas::search_batch_norm).
  static constexpr bool nas_search_batch_norm = true;
  explicit MaxPool3x3Impl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    TORCH_CHECK(args_.in == args_.out, "nas::ops::MaxPool3x3 keeps the channel count; got ",
                args_.in, " -> ", args_.out);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::max_pool2d(x, {3, 3}, {args_.stride, args_.stride}, {1, 1});
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t, std::int64_t) const { return 0; }

 private:
  OpArgs args_;
};
TORCH_MODULE(MaxPool3x3);

/// 3x3 average pooling, padding 1, padding excluded from the average (`avg_pool_3x3`).
class AvgPool3x3Impl : public torch::nn::Cloneable<AvgPool3x3Impl> {
 public:
  /// DARTS's search supernet follows pooling with a batch norm (nas::search_batch_norm).
  static constexpr bool nas_search_batch_norm = true;
  explicit AvgPool3x3Impl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    TORCH_CHECK(args_.in == args_.out, "nas::ops::AvgPool3x3 keeps the channel count; got ",
                args_.in, " -> ", args_.out);
  }
  torch::Tensor forward(const torch::Tensor& x) {
    return torch::avg_pool2d(x, {3, 3}, {args_.stride, args_.stride}, {1, 1}, /*ceil_mode=*/false,
                             /*count_include_pad=*/false);
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t, std::int64_t) const { return 0; }

 private:
  OpArgs args_;
};
TORCH_MODULE(AvgPool3x3);

/// ReLU, 1x7 then 7x1 convolutions, batch norm (`conv_7x1_1x7`, NASNet and AmoebaNet).
class Conv7x1_1x7Impl : public torch::nn::Cloneable<Conv7x1_1x7Impl> {
 public:
  explicit Conv7x1_1x7Impl(const OpArgs& args) : args_(args) { reset(); }
  void reset() override {
    const auto& a = args_;
    conv_1x7 =
        register_module("conv_1x7", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, {1, 7})
                                                          .stride({1, a.stride})
                                                          .padding({0, 3})
                                                          .bias(false)));
    conv_7x1 =
        register_module("conv_7x1", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.out, a.out, {7, 1})
                                                          .stride({a.stride, 1})
                                                          .padding({3, 0})
                                                          .bias(false)));
    bn = register_module(
        "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(a.out).affine(a.affine)));
  }
  /// Starts with a ReLU: nas::MixedEdge passes one shared relu(x) to forward_relu().
  static constexpr bool nas_relu_first = true;
  torch::Tensor forward(const torch::Tensor& x) { return forward_relu(ops::relu(x)); }
  /// The output for `relu_x == relu(x)`.
  torch::Tensor forward_relu(const torch::Tensor& relu_x) {
    return bn(ops::conv(conv_7x1, ops::conv(conv_1x7, relu_x)));
  }
  [[nodiscard]] std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {
    const auto& a = args_;
    const std::int64_t w1 = conv_output_size(w, 7, a.stride, 3);
    const std::int64_t h2 = conv_output_size(h, 7, a.stride, 3);
    return conv_multiply_adds(a.in, a.out, 1, 7, 1, h, w1) +
           conv_multiply_adds(a.out, a.out, 7, 1, 1, h2, w1);
  }

  torch::nn::Conv2d conv_1x7{nullptr}, conv_7x1{nullptr};
  torch::nn::BatchNorm2d bn{nullptr};

 private:
  OpArgs args_;
};
TORCH_MODULE(Conv7x1_1x7);

/// The eight DARTS primitives, in DARTS's order (PRIMITIVES in its genotypes.py).
using darts_ops = OpSet<Op<"none", Zero>, Op<"max_pool_3x3", MaxPool3x3>,
                        Op<"avg_pool_3x3", AvgPool3x3>, Op<"skip_connect", SkipConnect>,
                        Op<"sep_conv_3x3", SepConv<3>>, Op<"sep_conv_5x5", SepConv<5>>,
                        Op<"dil_conv_3x3", DilConv<3>>, Op<"dil_conv_5x5", DilConv<5>>>;

/// Every op of DARTS's reference operations table, which NASNet-A and AmoebaNet-A use.
using nasnet_ops = OpSet<Op<"none", Zero>, Op<"avg_pool_3x3", AvgPool3x3>,
                         Op<"max_pool_3x3", MaxPool3x3>, Op<"skip_connect", SkipConnect>,
                         Op<"sep_conv_3x3", SepConv<3>>, Op<"sep_conv_5x5", SepConv<5>>,
                         Op<"sep_conv_7x7", SepConv<7>>, Op<"dil_conv_3x3", DilConv<3>>,
                         Op<"dil_conv_5x5", DilConv<5>>, Op<"conv_7x1_1x7", Conv7x1_1x7>>;

}  // namespace nas::ops
