#pragma once
// Shared by the compile-fail tests: placeholder modules and a valid op set.
#include <nas/core.hpp>

namespace cf {
struct Zero {
  static constexpr bool nas_zero_op = true;
  explicit Zero(const nas::OpArgs& /*args*/) {}
};
struct Conv {
  explicit Conv(const nas::OpArgs& /*args*/) {}
};
using ops =
    nas::OpSet<nas::Op<"none", Zero>, nas::Op<"skip_connect", Conv>, nas::Op<"sep_conv_3x3", Conv>>;
inline constexpr auto darts_dag = nas::dense_dag({.inputs = 2, .nodes = 4, .keep = 2});
}  // namespace cf
