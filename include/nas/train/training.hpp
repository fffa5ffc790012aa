#pragma once
/// @file
/// What every training loop of nas shares: the loss type and its default, the accuracy count,
/// the cosine learning-rate schedule, frozen-parameter guards, nas::NonFiniteLoss and
/// nas::Interrupted.

#include <torch/data/example.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

namespace nas {

/// A loss that is not finite stopped a search step (lower the learning rate, check the
/// data, or let the strategy skip such steps: `skip_nonfinite`).
class NonFiniteLoss : public c10::Error {
 public:
  using c10::Error::Error;
};

/// A training loop stopped because its std::stop_token was asked to (nas::run::StopOnSignals turns
/// SIGTERM and SIGINT into such a request): thrown by loops that return nothing to report a
/// partial result in (nas::eval::FromScratch); the searches return instead, with
/// nas::StopReason::interrupted. What the interrupted call had done is discarded; state saved
/// before it is whole.
class Interrupted : public c10::Error {
 public:
  using c10::Error::Error;
};

namespace detail {
/// Throws nas::Interrupted, naming `what` was stopped.
[[noreturn]] inline void throw_interrupted(const std::string& what) {
  throw Interrupted(c10::SourceLocation{__func__, __FILE__, static_cast<std::uint32_t>(__LINE__)},
                    what + " was interrupted (its stop token was asked to stop)");
}
/// Throws nas::NonFiniteLoss: `what` (where, and what was not finite), then the fixes.
[[noreturn]] inline void throw_non_finite(std::string what) {
  what +=
      "; lower the learning rate, check the data for NaN or infinite values, or skip such "
      "steps (skip_nonfinite)";
  throw NonFiniteLoss(c10::SourceLocation{__func__, __FILE__, static_cast<std::uint32_t>(__LINE__)},
                      what);
}
}  // namespace detail

/// The loss of a strategy: logits and targets to a scalar (default: cross entropy).
using LossFunction = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;

namespace detail {
inline torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(logits, targets);
}
/// Samples whose argmax is the target class (or, for targets that are scores, the
/// targets' argmax).
inline std::int64_t correct(const torch::Tensor& logits, const torch::Tensor& targets) {
  const auto labels = targets.dim() == 1 ? targets : targets.argmax(1);
  return logits.detach().argmax(1).eq(labels).sum().template item<std::int64_t>();
}
/// The device of a module's first parameter (CPU if it has none).
inline torch::Device device_of(const torch::nn::Module& m) {
  const auto ps = m.parameters();
  return ps.empty() ? torch::Device(torch::kCPU) : ps.front().device();
}
/// Switches `requires_grad` off on tensors for a scope (a frozen architecture).
class FreezeGuard {
 public:
  explicit FreezeGuard(std::vector<torch::Tensor> ts) : ts_(std::move(ts)) {
    for (auto& t : ts_) t.requires_grad_(false);
  }
  ~FreezeGuard() {
    for (auto& t : ts_) t.requires_grad_(true);
  }
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;

 private:
  std::vector<torch::Tensor> ts_;
};
}  // namespace detail

/// Cosine annealing (SGDR without restarts) from `base` at epoch 0 to `minimum` at epoch
/// `epochs`, as DARTS's CosineAnnealingLR schedule.
[[nodiscard]] inline double cosine_learning_rate(double base, double minimum, std::int64_t epoch,
                                                 std::int64_t epochs) {
  return minimum + (base - minimum) *
                       (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                                       static_cast<double>(epochs))) /
                       2.0;
}

}  // namespace nas
