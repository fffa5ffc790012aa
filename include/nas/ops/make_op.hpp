#pragma once
/// @file
/// nas::make_op: the module of op `index` of an op set, built from nas::OpArgs, with its cost.

#include <torch/nn/module.h>
#include <torch/nn/modules/container/any.h>
#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>

#include "nas/ops/cost.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/operation.hpp"

namespace nas {

namespace detail {
/// Gives a module adapted through nas::operation_traits the `forward` that
/// `torch::nn::AnyModule` calls; the adapted module is registered as `op`.
template <class M>
class AdaptedOpImpl : public torch::nn::Module {
 public:
  explicit AdaptedOpImpl(M m) : m_(std::move(m)) {
    register_module("op", operation_traits<M>::module(m_));
  }
  torch::Tensor forward(const torch::Tensor& x) { return operation_traits<M>::forward(m_, x); }

 private:
  M m_;
};

template <class M>
concept has_tensor_forward = requires(M& m, const torch::Tensor& x) {
  { m->forward(x) } -> std::convertible_to<torch::Tensor>;
};
}  // namespace detail

/// A candidate operation built at run time: the module, and its multiply-add count
/// for an input of height x width (nas::counts_multiply_adds).
struct BuiltOp {
  torch::nn::AnyModule module;
  std::function<std::int64_t(std::int64_t, std::int64_t)> multiply_adds;
};

/// Builds op `index` of `Ops` (a run-time index to the compile-time module type).
/// Throws nas::InvalidArgument when `index` is out of range. For an op whose module
/// does not count its multiply-adds, `multiply_adds` throws a c10::Error that says so.
template <op_set Ops>
[[nodiscard]] BuiltOp make_op(std::size_t index, const OpArgs& args) {
  const std::string_view name = Ops::name_of(index);  // range check
  BuiltOp built;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (
        [&] {
          if (index != I) return;
          using M = typename Ops::template op<I>::module;
          static_assert(operation<M>,
                        "nas: the module type of an op must be a nas::operation: built from "
                        "nas::OpArgs, with forward(torch::Tensor) -> torch::Tensor, held as a "
                        "LibTorch module (TORCH_MODULE); adapt another type through "
                        "nas::operation_traits");
          M m = operation_traits<M>::make(args);
          if constexpr (detail::has_tensor_forward<M>)
            built.module = torch::nn::AnyModule(m);
          else  // adapted through operation_traits: wrapped, registered as "op"
            built.module = torch::nn::AnyModule(std::make_shared<detail::AdaptedOpImpl<M>>(m));
          if constexpr (counts_multiply_adds<M>) {
            built.multiply_adds = [m](std::int64_t h, std::int64_t w) mutable {
              return static_cast<std::int64_t>(m->multiply_adds(h, w));
            };
          } else {
            built.multiply_adds = [name](std::int64_t, std::int64_t) -> std::int64_t {
              TORCH_CHECK(false, "op '", name,
                          "' does not count its multiply-adds: give its module a "
                          "`std::int64_t multiply_adds(std::int64_t height, std::int64_t width) "
                          "const` member");
            };
          }
        }(),
        ...);
  }
  (std::make_index_sequence<Ops::size>{});
  return built;
}

namespace detail {
/// The registered name of the op on edge `from -> to`: `edge_<from>_<to>_<op>`, with
/// `_<occurrence>` from the second time the same op sits on the same edge.
inline std::string edge_module_name(std::size_t from, std::size_t to, std::string_view op,
                                    std::size_t occurrence = 1) {
  // appended piece by piece: GCC 12 at -O3 misreads "literal" + std::string (-Wstringop-overflow)
  std::string name = "edge_";
  name += std::to_string(from);
  name += '_';
  name += std::to_string(to);
  name += '_';
  name += op;
  if (occurrence > 1) {
    name += '_';
    name += std::to_string(occurrence);
  }
  return name;
}

/// Checks what the op on edge `from -> to` returned against what its node needs.
inline void check_edge_output(const torch::Tensor& h, std::int64_t channels,
                              const torch::Tensor& node_so_far, std::string_view op,
                              std::size_t from, std::size_t to, std::string_view cell) {
  TORCH_CHECK(h.dim() == 4 && h.size(1) == channels &&
                  (!node_so_far.defined() || h.sizes() == node_so_far.sizes()),
              "op '", op, "' on edge (", from, " -> ", to, ") of a '", cell,
              "' cell returned shape ", h.sizes(), "; the node needs ", channels,
              " channels and the size of its other inputs (an op must honour OpArgs::out and "
              "OpArgs::stride)");
}
}  // namespace detail

}  // namespace nas
