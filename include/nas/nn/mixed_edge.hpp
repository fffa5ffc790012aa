#pragma once
/// @file
/// nas::MixedEdgeImpl: every candidate op of an op set on one edge of a supernet, held
/// as a typed tuple, mixed as the nas::EdgeMix of a nas::relaxation (relax/relaxation.hpp)
/// says.

#include <torch/nn/module.h>
#include <torch/nn/modules/batchnorm.h>
#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <array>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include "nas/ops/conv.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/operation.hpp"
#include "nas/ops/relu.hpp"
#include "nas/relax/relaxation.hpp"

namespace nas {

/// Whether a supernet appends a batch norm without affine parameters to op module `M`
/// on its mixed edges. DARTS does so for its pooling ops (whose outputs otherwise have
/// another scale than the convolutions' in the weighted sum); true for
/// nas::ops::MaxPool3x3 and nas::ops::AvgPool3x3. Specialize it for a user op:
/// `template <> inline constexpr bool nas::search_batch_norm<MyPool> = true;`
/// Defaults to true when `M::nas_search_batch_norm` or `M::ContainedType::nas_search_batch_norm`
/// is a `static constexpr bool` that is true.
template <class M>
inline constexpr bool search_batch_norm = requires {
  requires static_cast<bool>(M::nas_search_batch_norm);
}
|| requires { requires static_cast<bool>(M::ContainedType::nas_search_batch_norm); };

/// Whether op module `M` starts with a ReLU and can take that ReLU's output: `M` (a module
/// holder) has `static constexpr bool nas_relu_first = true` in its module class and a
/// `forward_relu(relu_x)` method equal to `forward(x)` for `relu_x == relu(x)`. A mixed edge
/// computes relu(x) once for all such ops (DARTS's four convolutions on every edge), so that
/// its value and its gradient are computed, and kept, once instead of four times.
template <class M>
concept relu_first_op = requires(M& m, const torch::Tensor& x) {
  requires static_cast<bool>(M::ContainedType::nas_relu_first);
  { m->forward_relu(x) } -> std::convertible_to<torch::Tensor>;
};

namespace detail {
/// A LibTorch module name for an op name ('.' is not allowed in module names).
inline std::string module_name(std::string_view op) {
  std::string name(op);
  for (char& c : name)
    if (c == '.') c = '_';
  return name;
}

template <class Ops, class Seq>
struct op_tuple;
template <class Ops, std::size_t... I>
struct op_tuple<Ops, std::index_sequence<I...>> {
  using type = std::tuple<typename Ops::template op<I>::module...>;
};
}  // namespace detail

/// One edge of a supernet: every op of `Ops`, built from the same nas::OpArgs, held
/// in a `std::tuple` of their module types (each call is a direct, typed call) and
/// registered under the op's name; ops marked by nas::search_batch_norm are followed
/// by a batch norm without affine parameters (registered as `<op>_bn`).
///
/// `forward(x, mix, edge)` computes the edge's output under the nas::EdgeMix, or an
/// undefined tensor when no op of the edge is active.
template <op_set Ops>
class MixedEdgeImpl : public torch::nn::Module {
 public:
  /// The module types of the candidates, in op order.
  using tuple_type = typename detail::op_tuple<Ops, std::make_index_sequence<Ops::size>>::type;
  static constexpr std::size_t size = Ops::size;

  explicit MixedEdgeImpl(const OpArgs& args)
      : args_(args), ops_(make(args, std::make_index_sequence<size>{})) {
    [&]<std::size_t... I>(std::index_sequence<I...>) { (register_op<I>(), ...); }
    (std::make_index_sequence<size>{});
  }

  /// Runs op `I` (and its batch norm, if any). With `relu_x` given, an op that starts with a
  /// ReLU (nas::relu_first_op) takes `*relu_x`, computed as relu(x) by the first such op.
  template <std::size_t I>
  torch::Tensor run(const torch::Tensor& x, torch::Tensor* relu_x = nullptr) {
    using M = std::tuple_element_t<I, tuple_type>;
    torch::Tensor y;
    if constexpr (relu_first_op<M>) {
      if (relu_x != nullptr) {
        if (!relu_x->defined()) *relu_x = ops::relu(x);
        y = std::get<I>(ops_)->forward_relu(*relu_x);
      }
    }
    if (!y.defined()) y = operation_traits<M>::forward(std::get<I>(ops_), x);
    if constexpr (search_batch_norm<M>) y = ops::batch_norm(bn_[I], y);
    return y;
  }

  /// Runs op `index` (a run-time index; one typed call, no virtual dispatch).
  torch::Tensor run(std::size_t index, const torch::Tensor& x, torch::Tensor* relu_x = nullptr) {
    TORCH_CHECK(index < size, "op index ", index, " out of range; the op set has ", size, " ops");
    torch::Tensor y;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (void)((index == I ? (y = run<I>(x, relu_x), true) : false) || ...);
    }
    (std::make_index_sequence<size>{});
    return y;
  }

  /// The edge's output under `mix` (edge `edge` of its cell kind).
  torch::Tensor forward(const torch::Tensor& x, const EdgeMix& mix, std::size_t edge) {
    const bool weighted = mix.weights.defined();
    const torch::Tensor w =
        weighted ? mix.weights.select(0, static_cast<std::int64_t>(edge)) : torch::Tensor();
    torch::Tensor out, relu_x;  // relu_x: one relu(x) for every op that starts with a ReLU
    const auto add = [&](std::size_t k) {
      torch::Tensor y = run(k, x, &relu_x);
      if (weighted) y = y * w.select(0, static_cast<std::int64_t>(k));
      out = out.defined() ? out + y : y;
    };
    if (mix.active.empty()) {
      for (std::size_t k = 0; k < size; ++k)
        if (!Ops::is_zero[k]) add(k);
      if (!out.defined()) out = run(0, x) * (weighted ? w.select(0, 0) : torch::ones({}));
      return out;
    }
    TORCH_CHECK(edge < mix.active.size(), "nas::EdgeMix::active has ", mix.active.size(),
                " entries; the cell has more edges (a relaxation must give one per edge)");
    const auto& active = mix.active[edge];
    for (std::size_t k : active) add(k);
    if (mix.straight_through && weighted && out.defined()) {
      torch::Tensor rest = w.sum();
      for (std::size_t k : active) rest = rest - w.select(0, static_cast<std::int64_t>(k));
      out = out + rest;
    }
    return out;
  }

  /// The typed candidate modules.
  [[nodiscard]] tuple_type& ops() noexcept { return ops_; }
  /// The arguments every candidate was built from.
  [[nodiscard]] const OpArgs& args() const noexcept { return args_; }

 private:
  template <std::size_t... I>
  static tuple_type make(const OpArgs& args, std::index_sequence<I...>) {
    return tuple_type{operation_traits<std::tuple_element_t<I, tuple_type>>::make(args)...};
  }
  template <std::size_t I>
  void register_op() {
    using M = std::tuple_element_t<I, tuple_type>;
    const std::string name = detail::module_name(Ops::names[I]);
    register_module(name, operation_traits<M>::module(std::get<I>(ops_)));
    if constexpr (search_batch_norm<M>) {
      bn_[I] = register_module(
          name + "_bn",
          torch::nn::BatchNorm2d(
              torch::nn::BatchNorm2dOptions(args_.out).affine(false).track_running_stats(
                  args_.track_running_stats)));
    }
  }

  OpArgs args_;
  tuple_type ops_;
  std::array<torch::nn::BatchNorm2d, size> bn_ = make_empty_bn(std::make_index_sequence<size>{});

  template <std::size_t... I>
  static std::array<torch::nn::BatchNorm2d, size> make_empty_bn(std::index_sequence<I...>) {
    return {((void)I, torch::nn::BatchNorm2d(nullptr))...};
  }
};

/// Module holder of nas::MixedEdgeImpl<Ops>.
template <op_set Ops>
class MixedEdge : public torch::nn::ModuleHolder<MixedEdgeImpl<Ops>> {
 public:
  using torch::nn::ModuleHolder<MixedEdgeImpl<Ops>>::ModuleHolder;
};

}  // namespace nas
