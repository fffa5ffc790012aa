#pragma once
/// @file
/// nas::ops::relu and nas::ops::relu6: the ReLUs of nas's operations and layouts, with a tap
/// (nas::ops::ReluTap) that sees the on/off pattern of every one of them; the modules
/// nas::ops::ReLU and nas::ops::ReLU6 for a `torch::nn::Sequential`. The tap is how
/// nas::proxy::naswot reads a network's binary activation codes: LibTorch's C++ modules have no
/// forward hooks, so a ReLU joins NASWOT by being called through these functions.

#include <torch/nn/cloneable.h>
#include <torch/nn/functional/activation.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <cstddef>
#include <functional>
#include <ostream>
#include <utility>
#include <vector>

namespace nas::ops {

class ReluTap;

namespace detail {
/// The innermost nas::ops::ReluTap alive on this thread (null: none; a ReLU then costs one
/// test of this pointer more than torch::relu).
inline constinit thread_local ReluTap* active_relu_tap = nullptr;
}  // namespace detail

/// While it lives, receives the code of every nas::ops::relu and nas::ops::relu6 called on its
/// thread: `output > 0` as a bool tensor `[N, D]` (the batch's N samples, each flattened to the
/// D units of that ReLU), detached from autograd. Default-constructed, it keeps the codes
/// (codes(), code()); constructed with a function, it hands each code to it and keeps nothing
/// (nas::proxy::naswot adds each code's kernel up, so the codes of a big network never sit in
/// memory together). Taps nest: the innermost one sees the codes, and the outer one again when
/// the inner one ends. Values and gradients of the ReLUs are untouched.
///
/// ```
/// nas::ops::ReluTap tap;
/// (void)net->forward(x);
/// torch::Tensor codes = tap.code();  // [N, every ReLU unit the forward pass went through]
/// ```
class ReluTap {
 public:
  /// Keeps every code (codes(), code()).
  ReluTap() : previous_(detail::active_relu_tap) { detail::active_relu_tap = this; }
  /// Hands every code to `on_code` and keeps none.
  explicit ReluTap(std::function<void(const torch::Tensor&)> on_code)
      : on_code_(std::move(on_code)), previous_(detail::active_relu_tap) {
    detail::active_relu_tap = this;
  }
  ~ReluTap() { detail::active_relu_tap = previous_; }
  ReluTap(const ReluTap&) = delete;
  ReluTap& operator=(const ReluTap&) = delete;

  /// Called by nas::ops::relu and nas::ops::relu6 with their output (a user's own activation
  /// with the same on/off meaning can call it too).
  void record(const torch::Tensor& output) {
    torch::NoGradGuard no_grad;
    const auto y = output.detach();
    const auto n = y.dim() == 0 ? 1 : y.size(0);
    const auto code = y.gt(0).reshape({n, -1});
    ++relus_;
    if (on_code_)
      on_code_(code);
    else
      codes_.push_back(code);
  }

  /// The codes kept, one `[N, D_i]` tensor per ReLU call in call order (empty when the tap was
  /// given a function).
  [[nodiscard]] const std::vector<torch::Tensor>& codes() const noexcept { return codes_; }
  /// The codes kept, concatenated per sample: `[N, sum of D_i]` (NASWOT's binary code c_i of
  /// sample i is row i). Undefined when no ReLU ran.
  [[nodiscard]] torch::Tensor code() const {
    return codes_.empty() ? torch::Tensor() : torch::cat(codes_, 1);
  }
  /// ReLU calls seen (kept or handed on).
  [[nodiscard]] std::size_t relus() const noexcept { return relus_; }

 private:
  std::function<void(const torch::Tensor&)> on_code_;
  std::vector<torch::Tensor> codes_;
  std::size_t relus_ = 0;
  ReluTap* previous_;
};

/// `torch::relu(x)`, the same value and gradient; while a nas::ops::ReluTap is alive on this
/// thread, it also gets the output's code. Every ReLU of nas's operations and built-in layouts
/// is this call (or the module nas::ops::ReLU); a user's operation joins NASWOT
/// (nas::proxy::naswot) by calling it instead of torch::relu.
inline torch::Tensor relu(const torch::Tensor& x) {
  auto y = torch::relu(x);
  if (detail::active_relu_tap != nullptr) [[unlikely]]
    detail::active_relu_tap->record(y);
  return y;
}

/// `torch::nn::functional::relu6(x)`, the same value and gradient; a live nas::ops::ReluTap
/// gets its code `output > 0` too. ReLU6 counts as a ReLU for NASWOT: its on/off pattern is the
/// ReLU's (relu6(x) > 0 exactly when x > 0), and NASWOT's reference code hooks every module
/// whose type name contains "ReLU", ReLU6 included. The MBConv ops and the mobile layout call it.
inline torch::Tensor relu6(const torch::Tensor& x) {
  auto y = torch::nn::functional::relu6(x);
  if (detail::active_relu_tap != nullptr) [[unlikely]]
    detail::active_relu_tap->record(y);
  return y;
}

/// nas::ops::relu as a module (for a `torch::nn::Sequential`); no parameters.
class ReLUImpl : public torch::nn::Cloneable<ReLUImpl> {
 public:
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x) { return ops::relu(x); }
  void pretty_print(std::ostream& stream) const override { stream << "nas::ops::ReLU()"; }
};
TORCH_MODULE(ReLU);

/// nas::ops::relu6 as a module (for a `torch::nn::Sequential`); no parameters.
class ReLU6Impl : public torch::nn::Cloneable<ReLU6Impl> {
 public:
  void reset() override {}
  torch::Tensor forward(const torch::Tensor& x) { return ops::relu6(x); }
  void pretty_print(std::ostream& stream) const override { stream << "nas::ops::ReLU6()"; }
};
TORCH_MODULE(ReLU6);

}  // namespace nas::ops
