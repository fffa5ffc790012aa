#pragma once
/// @file
/// nas::make_op: the module of op `index` of an op set, built from nas::OpArgs.

#include <torch/nn/modules/container/any.h>

#include <cstddef>
#include <utility>

#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/ops/operation.hpp"

namespace nas {

/// Builds op `index` of `Ops` (a run-time index to the compile-time module type) as a
/// `torch::nn::AnyModule`. Throws nas::InvalidArgument when `index` is out of range.
template <op_set Ops>
[[nodiscard]] torch::nn::AnyModule make_op(std::size_t index, const OpArgs& args) {
  (void)Ops::name_of(index);  // range check
  torch::nn::AnyModule m;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((index == I ? (m = torch::nn::AnyModule(
                        operation_traits<typename Ops::template op<I>::module>::make(args)),
                    0)
                 : 0),
     ...);
  }
  (std::make_index_sequence<Ops::size>{});
  return m;
}

}  // namespace nas
