#pragma once
/// @file
/// nas::ops::conv: a torch::nn::Conv2d forward that keeps less for the backward pass when the
/// convolution's weight is frozen (an architecture step: the gradient goes to alpha through the
/// input, never to the weight).

#include <torch/csrc/autograd/function.h>
#include <torch/csrc/autograd/functions/utils.h>
#include <torch/csrc/autograd/saved_variable.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/modules/conv.h>
#include <torch/types.h>

#include <ATen/ATen.h>

#include <cstdint>
#include <memory>
#include <string>
#include <tuple>
#include <type_traits>
#include <variant>
#include <vector>

namespace nas::ops {

namespace detail {
/// Stride, padding, dilation and groups of a 2-d convolution, and the two ATen calls the
/// backward nodes below make with them.
struct ConvGeometry {
  std::vector<std::int64_t> stride, padding, dilation;
  std::int64_t groups = 1;

  /// The geometry of `o`; only for ExpandingArray padding (see plain_padding()).
  static ConvGeometry of(const torch::nn::detail::ConvNdOptions<2>& o) {
    const auto vec = [](const torch::ExpandingArray<2>& a) {
      return std::vector<std::int64_t>(a->begin(), a->end());
    };
    return {vec(o.stride()), vec(std::get<torch::ExpandingArray<2>>(o.padding())),
            vec(o.dilation()), o.groups()};
  }
  [[nodiscard]] torch::Tensor forward(const torch::Tensor& x, const torch::Tensor& weight,
                                      const torch::Tensor& bias = {}) const {
    return at::convolution(x, weight, bias, stride, padding, dilation, /*transposed=*/false,
                           std::vector<std::int64_t>(stride.size(), 0), groups);
  }
  /// (input, weight) gradients as `mask` asks; `x` only lends its shape and layout when the
  /// weight gradient is not asked for.
  [[nodiscard]] std::tuple<torch::Tensor, torch::Tensor> backward(const torch::Tensor& grad,
                                                                  const torch::Tensor& x,
                                                                  const torch::Tensor& weight,
                                                                  bool input_grad,
                                                                  bool weight_grad) const {
    auto [gx, gw, unused] = at::convolution_backward(
        grad, x, weight, std::nullopt, stride, padding, dilation, /*transposed=*/false,
        std::vector<std::int64_t>(stride.size(), 0), groups, {input_grad, weight_grad, false});
    return {gx, gw};
  }
};

inline bool plain_padding(const torch::nn::detail::ConvNdOptions<2>& o) {
  return std::holds_alternative<torch::ExpandingArray<2>>(o.padding()) &&
         std::holds_alternative<torch::enumtype::kZeros>(o.padding_mode());
}

/// A backward node of type `N`, owned as autograd owns its nodes: by a c10::intrusive_ptr where
/// torch::autograd::Node is a c10::intrusive_ptr_target (LibTorch since PyTorch PR 181782, in the
/// 2.15 wheel), by a std::shared_ptr with autograd's deleteNode before (2.11).
template <class N>
auto make_node() {
  if constexpr (std::is_base_of_v<c10::intrusive_ptr_target, N>)
    return c10::make_intrusive<N>();
  else  // deleteNode found by argument-dependent lookup, only where it exists
    return std::shared_ptr<N>(new N(), [](N* node) { deleteNode(node); });
}

/// The backward node of y = conv(x, w, b) with w and b frozen: it keeps only w (the input
/// gradient needs w and x's shape; LibTorch's own convolution also keeps x, which only the
/// weight gradient needs) and computes only the input gradient. (A plain autograd node rather
/// than torch::autograd::Function, whose compiled-autograd hooks GCC 12 flags under
/// -Wnull-dereference.)
class FrozenConvBackward : public torch::autograd::Node {
 public:
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {torch::Tensor()};
    // An uninitialized tensor (never written, never read) stands in for the input that was
    // not kept: the input gradient takes only its shape and layout.
    const auto shape = at::empty(sizes_, grads[0].options().memory_format(format_));
    return {std::get<0>(
        geometry_.backward(grads[0].contiguous(format_), shape, weight_.unpack(), true, false))};
  }
  [[nodiscard]] std::string name() const override { return "nas::ops::FrozenConvBackward"; }
  void release_variables() override { weight_.reset_data(); }

  torch::autograd::SavedVariable weight_;
  ConvGeometry geometry_;
  std::vector<std::int64_t> sizes_;
  torch::MemoryFormat format_ = torch::MemoryFormat::Contiguous;
};

/// The backward node of y = second(first(x)) (two convolutions without bias, say depthwise then
/// pointwise): it keeps x and the weights but not first(x), which it computes again when the
/// gradient arrives (a depthwise convolution costs little next to its backward pass).
class RecomputedPairBackward : public torch::autograd::Node {
 public:
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    if (!grads[0].defined()) return {torch::Tensor(), torch::Tensor(), torch::Tensor()};
    const auto x = x_.unpack();
    const auto w1 = w1_.unpack();
    torch::Tensor mid;
    {
      torch::NoGradGuard no_grad;
      mid = first_.forward(x, w1);
    }
    auto [grad_mid, grad_w2] =
        second_.backward(grads[0], mid, w2_.unpack(), true, should_compute_output(2));
    mid.reset();
    auto [grad_x, grad_w1] =
        first_.backward(grad_mid, x, w1, should_compute_output(0), should_compute_output(1));
    return {grad_x, grad_w1, grad_w2};
  }
  [[nodiscard]] std::string name() const override { return "nas::ops::RecomputedPairBackward"; }
  void release_variables() override {
    x_.reset_data();
    w1_.reset_data();
    w2_.reset_data();
  }

  torch::autograd::SavedVariable x_, w1_, w2_;
  ConvGeometry first_, second_;
};

/// The backward node of a training-mode batch norm without affine parameters that keeps its
/// output y rather than its input (the next op, a weighted sum or a product by an
/// architecture weight, keeps y anyway): dx = invstd * (dy - mean(dy) - y * mean(dy * y)).
class OutputBatchNormBackward : public torch::autograd::Node {
 public:
  torch::autograd::variable_list apply(torch::autograd::variable_list&& grads) override {
    const auto& dy = grads[0];
    if (!dy.defined()) return {torch::Tensor()};
    const auto y = y_.unpack(getptr());  // the owning pointer (shared or intrusive)
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
  const bool frozen = !m.weight.requires_grad() && (!m.bias.defined() || !m.bias.requires_grad());
  if (!frozen || !x.requires_grad() || !torch::GradMode::is_enabled() ||
      !detail::plain_padding(m.options))
    return conv(x);
  auto node = detail::make_node<detail::FrozenConvBackward>();
  node->geometry_ = detail::ConvGeometry::of(m.options);
  node->sizes_ = x.sizes().vec();
  node->format_ = x.suggest_memory_format();
  node->weight_ = torch::autograd::SavedVariable(m.weight, /*is_output=*/false);
  node->set_next_edges(torch::autograd::collect_next_edges(x));
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = node->geometry_.forward(x, m.weight, m.bias);
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
  if (!a.weight.requires_grad() && !b.weight.requires_grad()) return conv(second, conv(first, x));
  if (!torch::GradMode::is_enabled() || a.bias.defined() || b.bias.defined() ||
      !detail::plain_padding(a.options) || !detail::plain_padding(b.options))
    return second(first(x));
  auto node = detail::make_node<detail::RecomputedPairBackward>();
  node->first_ = detail::ConvGeometry::of(a.options);
  node->second_ = detail::ConvGeometry::of(b.options);
  node->x_ = torch::autograd::SavedVariable(x, /*is_output=*/false);
  node->w1_ = torch::autograd::SavedVariable(a.weight, /*is_output=*/false);
  node->w2_ = torch::autograd::SavedVariable(b.weight, /*is_output=*/false);
  node->set_next_edges(torch::autograd::collect_next_edges(x, a.weight, b.weight));
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = node->second_.forward(node->first_.forward(x, a.weight), b.weight);
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
  auto node = detail::make_node<detail::OutputBatchNormBackward>();
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
