#pragma once
/// @file
/// nas::operation: what a candidate operation's module type must provide, and
/// nas::operation_traits, the adapter for module types that cannot be changed.

#include <torch/nn/module.h>
#include <torch/types.h>

#include <concepts>
#include <memory>

#include "nas/ops/op_args.hpp"

namespace nas {

/// How nas builds and calls an operation's module type `M`. The primary template
/// expects a LibTorch module holder (`TORCH_MODULE(X)` over an `XImpl`) that is
/// constructible from nas::OpArgs and whose `forward` maps a tensor to a tensor.
/// Specialize it to adapt a third-party module whose constructor or forward differ:
///
/// ```
/// template <> struct nas::operation_traits<TheirConv> {
///   static TheirConv make(const nas::OpArgs& a) { return TheirConv(a.in, a.out, 3, a.stride); }
///   static torch::Tensor forward(TheirConv& m, const torch::Tensor& x) { return m->run(x); }
///   static std::shared_ptr<torch::nn::Module> module(TheirConv& m) { return m.ptr(); }
/// };
/// ```
template <class M>
struct operation_traits {
  // Each member exists only where the module type provides what it calls, so that
  // nas::operation names the missing requirement instead of failing inside LibTorch.
  static M make(const OpArgs& args) requires std::constructible_from<M, const OpArgs&> {
    return M(args);
  }
  template <class T = M>
  static auto forward(T& m, const torch::Tensor& x) -> decltype(m->forward(x)) {
    return m->forward(x);
  }
  template <class T = M>
  static auto module(T& m) -> decltype(std::shared_ptr<torch::nn::Module>(m.ptr())) {
    return m.ptr();
  }
};

/// A module type that can be a candidate operation.
///
/// Requirements (through nas::operation_traits<M>): built from nas::OpArgs,
/// forward maps a `torch::Tensor` to a `torch::Tensor`, and the module is
/// reachable as a `std::shared_ptr<torch::nn::Module>` (to register it).
/// Models: every op in nas/ops/darts.hpp; a user's `TORCH_MODULE` type with an
/// `XImpl(const nas::OpArgs&)` constructor and `torch::Tensor forward(const torch::Tensor&)`.
template <class M>
concept operation = requires(const OpArgs& args, M& m, const torch::Tensor& x) {
  { operation_traits<M>::make(args) } -> std::same_as<M>;
  { operation_traits<M>::forward(m, x) } -> std::convertible_to<torch::Tensor>;
  { operation_traits<M>::module(m) } -> std::convertible_to<std::shared_ptr<torch::nn::Module>>;
};

}  // namespace nas
