#pragma once
/// @file
/// nas::make_op: the module of op `index` of an op set, built from nas::OpArgs, with its cost.

#include <torch/nn/modules/container/any.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>

#include "nas/ops/cost.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/operation.hpp"

namespace nas {

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
          built.module = torch::nn::AnyModule(m);
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

}  // namespace nas
