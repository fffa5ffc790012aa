#pragma once
/// @file
/// nas::ops::conv: a torch::nn::Conv2d forward that keeps less for the backward pass when the
/// convolution's weight is frozen (an architecture step: the gradient goes to alpha through the
/// input, never to the weight).

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <variant>
#include <vector>

namespace nas::ops {

namespace detail {
/// The backward node of y = conv(x, w, b) with w and b frozen: it keeps only w (the input
/// gradient is the transposed convolution of the output gradient by w; LibTorch's own
/// convolution also keeps x, which only the weight gradient needs) and computes only the input
/// gradient. (A plain autograd node rather than torch::autograd::Function, whose compiled-autograd
/// hooks GCC 12 flags under -Wnull-dereference.)
class FrozenConvBackward : public torch::autograd::Node {
 public:
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {torch::Tensor()};
    const auto weight = weight_.unpack();
    const auto format =
        channels_last_ ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
    // Only the input's shape and layout matter for the input gradient: an uninitialized
    // tensor (never written, never read) stands in for the input that was not kept.
    const auto shape = at::empty(sizes_, grads[0].options().memory_format(format));
    const std::vector<std::int64_t> no_output_padding(stride_.size(), 0);
    return {std::get<0>(at::convolution_backward(
        grads[0].contiguous(format), shape, weight, std::nullopt, stride_, padding_, dilation_,
        /*transposed=*/false, no_output_padding, groups_, {true, false, false}))};
  }
  [[nodiscard]] std::string name() const override { return "nas::ops::FrozenConvBackward"; }
  void release_variables() override { weight_.reset_data(); }

  torch::autograd::SavedVariable weight_;
  std::vector<std::int64_t> sizes_, stride_, padding_, dilation_;
  std::int64_t groups_ = 1;
  bool channels_last_ = false;
};

/// The backward node of y = second(first(x)) (two convolutions without bias, say depthwise then
/// pointwise): it keeps x and the weights but not first(x), which it computes again when the
/// gradient arrives (a depthwise convolution costs little next to its backward pass).
class RecomputedPairBackward : public torch::autograd::Node {
 public:
  struct Geometry {
    std::vector<std::int64_t> stride, padding, dilation;
    std::int64_t groups = 1;
  };
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor()};
    const auto x = x_.unpack();
    const auto w1 = w1_.unpack();
    const auto w2 = w2_.unpack();
    const std::vector<std::int64_t> zeros(first_.stride.size(), 0);
    torch::Tensor mid;
    {
      torch::NoGradGuard no_grad;
      mid = at::convolution(x, w1, std::nullopt, first_.stride, first_.padding, first_.dilation,
                            /*transposed=*/false, zeros, first_.groups);
    }
    auto [grad_mid, grad_w2, unused_2] = at::convolution_backward(
        grads[0], mid, w2, std::nullopt, second_.stride, second_.padding, second_.dilation,
        /*transposed=*/false, zeros, second_.groups, {true, should_compute_output(2), false});
    mid.reset();
    auto [grad_x, grad_w1, unused_1] = at::convolution_backward(
        grad_mid, x, w1, std::nullopt, first_.stride, first_.padding, first_.dilation,
        /*transposed=*/false, zeros, first_.groups,
        {should_compute_output(0), should_compute_output(1), false});
    return {grad_x, grad_w1, grad_w2};
  }
  [[nodiscard]] std::string name() const override { return "nas::ops::RecomputedPairBackward"; }
  void release_variables() override {
    x_.reset_data();
    w1_.reset_data();
    w2_.reset_data();
  }

  torch::autograd::SavedVariable x_, w1_, w2_;
  Geometry first_, second_;
};

/// The backward node of a training-mode batch norm without affine parameters that keeps its
/// output y rather than its input (the next op, a weighted sum or a product by an
/// architecture weight, keeps y anyway): dx = invstd * (dy - mean(dy) - y * mean(dy * y)).
class OutputBatchNormBackward : public torch::autograd::Node {
 public:
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    const auto& dy = grads[0];
    if (!dy.defined()) return {torch::Tensor()};
    const auto y = y_.unpack(shared_from_this());
    std::vector<std::int64_t> dims{0};
    for (std::int64_t d = 2; d < y.dim(); ++d) dims.push_back(d);
    std::vector<std::int64_t> shape(static_cast<std::size_t>(y.dim()), 1);
    shape[1] = y.size(1);
    const auto mean_dy = dy.mean(dims, /*keepdim=*/true);
    const auto mean_dy_y = (dy * y).mean(dims, /*keepdim=*/true);
    auto dx = dy - mean_dy;
    dx.addcmul_(y, mean_dy_y, -1.0);
    dx.mul_(invstd_.view(shape));
    return {dx};
  }
  [[nodiscard]] std::string name() const override { return "nas::ops::OutputBatchNormBackward"; }
  void release_variables() override { y_.reset_data(); }

  torch::autograd::SavedVariable y_;
  torch::Tensor invstd_;
};

inline std::vector<std::int64_t> vec(const torch::ExpandingArray<2>& a) {
  return std::vector<std::int64_t>(a->begin(), a->end());
}
inline bool plain_padding(const torch::nn::detail::ConvNdOptions<2>& o) {
  return std::holds_alternative<torch::ExpandingArray<2>>(o.padding()) &&
         std::holds_alternative<torch::enumtype::kZeros>(o.padding_mode());
}
}  // namespace detail

/// `conv(x)`, the same value; when gradients are being recorded for `x` but not for the
/// convolution's weight and bias (frozen, as during an architecture step), the backward pass
/// keeps only the weight, not `x`, and computes only the input gradient: less memory and less
/// work than LibTorch's convolution, which keeps `x` for a weight gradient nobody asked for.
/// Otherwise (weights trained, no gradient needed, padding given as `kSame`/`kValid`, a padding
/// mode other than zeros) it is exactly `conv(x)`. nas's operations call their convolutions
/// through it; a user's operation can too.
inline torch::Tensor conv(torch::nn::Conv2d& conv, const torch::Tensor& x) {
  auto& m = *conv;
  const auto& o = m.options;
  const bool frozen = !m.weight.requires_grad() && (!m.bias.defined() || !m.bias.requires_grad());
  if (!frozen || !x.requires_grad() || !torch::GradMode::is_enabled() || !detail::plain_padding(o))
    return conv(x);
  using detail::vec;
  auto node = std::shared_ptr<detail::FrozenConvBackward>(new detail::FrozenConvBackward(),
                                                          torch::autograd::deleteNode);
  node->stride_ = vec(o.stride());
  node->padding_ = vec(std::get<torch::ExpandingArray<2>>(o.padding()));
  node->dilation_ = vec(o.dilation());
  node->groups_ = o.groups();
  node->sizes_ = x.sizes().vec();
  node->channels_last_ = x.is_contiguous(torch::MemoryFormat::ChannelsLast) &&
                         !x.is_contiguous(torch::MemoryFormat::Contiguous);
  node->weight_ = torch::autograd::SavedVariable(m.weight, /*is_output=*/false);
  node->set_next_edges(torch::autograd::collect_next_edges(x));
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const std::vector<std::int64_t> no_output_padding(node->stride_.size(), 0);
    y = at::convolution(x, m.weight, m.bias.defined() ? m.bias : torch::Tensor(), node->stride_,
                        node->padding_, node->dilation_, /*transposed=*/false, no_output_padding,
                        node->groups_);
  }
  torch::autograd::set_history(y, node);
  return y;
}

/// `second(first(x))` for two convolutions without bias (DARTS's depthwise-pointwise pairs),
/// the same value. When the weights learn, the backward pass keeps x and the weights, not the
/// intermediate first(x), which it computes again (one depthwise convolution: little time,
/// one activation less per pair). With frozen weights, both go through nas::ops::conv.
/// Otherwise (biases, `kSame`/`kValid` padding, another padding mode, no gradient needed) it is
/// exactly `second(first(x))`.
inline torch::Tensor conv_pair(torch::nn::Conv2d& first, torch::nn::Conv2d& second,
                               const torch::Tensor& x) {
  auto& a = *first;
  auto& b = *second;
  const bool learns = a.weight.requires_grad() || b.weight.requires_grad();
  if (!learns) return conv(second, conv(first, x));
  if (!torch::GradMode::is_enabled() || a.bias.defined() || b.bias.defined() ||
      !detail::plain_padding(a.options) || !detail::plain_padding(b.options))
    return second(first(x));
  using detail::vec;
  auto node = std::shared_ptr<detail::RecomputedPairBackward>(new detail::RecomputedPairBackward(),
                                                              torch::autograd::deleteNode);
  const auto geometry = [](const torch::nn::detail::ConvNdOptions<2>& o) {
    return detail::RecomputedPairBackward::Geometry{
        vec(o.stride()), vec(std::get<torch::ExpandingArray<2>>(o.padding())), vec(o.dilation()),
        o.groups()};
  };
  node->first_ = geometry(a.options);
  node->second_ = geometry(b.options);
  node->x_ = torch::autograd::SavedVariable(x, /*is_output=*/false);
  node->w1_ = torch::autograd::SavedVariable(a.weight, /*is_output=*/false);
  node->w2_ = torch::autograd::SavedVariable(b.weight, /*is_output=*/false);
  node->set_next_edges(torch::autograd::collect_next_edges(x, a.weight, b.weight));
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    const std::vector<std::int64_t> zeros(node->first_.stride.size(), 0);
    const auto mid =
        at::convolution(x, a.weight, std::nullopt, node->first_.stride, node->first_.padding,
                        node->first_.dilation, false, zeros, node->first_.groups);
    y = at::convolution(mid, b.weight, std::nullopt, node->second_.stride, node->second_.padding,
                        node->second_.dilation, false, zeros, node->second_.groups);
  }
  torch::autograd::set_history(y, node);
  return y;
}

/// `bn(x)`, the same value and the same running-statistics update. For a batch norm without
/// affine parameters in training mode (DARTS's search ops), the backward pass keeps the output
/// rather than the input: the architecture weight that multiplies the output keeps it anyway,
/// so one activation per op is kept instead of two. Otherwise exactly `bn(x)`.
inline torch::Tensor batch_norm(torch::nn::BatchNorm2d& bn, const torch::Tensor& x) {
  auto& m = *bn;
  const auto& o = m.options;
  if (o.affine() || !m.is_training() || !torch::GradMode::is_enabled() || !x.requires_grad() ||
      (o.track_running_stats() && !o.momentum().has_value()))
    return bn(x);
  double momentum = 0.0;
  if (o.track_running_stats()) {
    m.num_batches_tracked.add_(1);
    momentum = *o.momentum();
  }
  torch::Tensor y, invstd;
  {
    torch::NoGradGuard no_grad;
    auto out = at::native_batch_norm(x, std::nullopt, std::nullopt,
                                     o.track_running_stats() ? m.running_mean : torch::Tensor(),
                                     o.track_running_stats() ? m.running_var : torch::Tensor(),
                                     /*training=*/true, momentum, o.eps());
    y = std::get<0>(out);
    invstd = std::get<2>(out);
  }
  auto node = std::shared_ptr<detail::OutputBatchNormBackward>(
      new detail::OutputBatchNormBackward(), torch::autograd::deleteNode);
  node->set_next_edges(torch::autograd::collect_next_edges(x));
  node->invstd_ = invstd;
  torch::autograd::set_history(y, node);
  node->y_ = torch::autograd::SavedVariable(y, /*is_output=*/true);
  return y;
}

}  // namespace nas::ops

namespace nas {

/// Puts every 4-dimensional parameter and buffer of `module` (convolution weights) in the
/// channels_last memory format (NHWC). A convolution whose weight is channels_last gives a
/// channels_last output, so after this call the whole network runs channels_last from its
/// first convolution on, whatever the input's layout. On CPU, oneDNN's depthwise and dilated
/// convolutions and their backward passes are much faster in NHWC (docs/performance.md: the
/// DARTS step at published sizes takes 0.6x the time); values agree with NCHW to float
/// rounding, not bitwise. Call it after moving the module to its device. The layout survives
/// optimizer steps; a nas::Checkpoint load takes the layout of the saved tensors (call it again
/// after loading a checkpoint written without it).
inline void use_channels_last(torch::nn::Module& module) {
  torch::NoGradGuard no_grad;
  for (auto& p : module.parameters())
    if (p.dim() == 4) p.set_data(p.data().contiguous(torch::MemoryFormat::ChannelsLast));
  for (auto& b : module.buffers())
    if (b.dim() == 4) b.set_data(b.data().contiguous(torch::MemoryFormat::ChannelsLast));
}

}  // namespace nas
