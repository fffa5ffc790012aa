#pragma once
/// @file
/// The layer-wise mobile search space: ProxylessNAS's 21 searched layers and six MBConv
/// candidates, with FBNet's `skip` on every layer.

#include "nas/layout/mobile.hpp"
#include "nas/ops/mobile.hpp"
#include "nas/space/cell.hpp"
#include "nas/space/dag.hpp"
#include "nas/space/layout_of.hpp"
#include "nas/space/space.hpp"

#include <type_traits>

namespace nas::spaces {

/// ProxylessNAS's mobile space has 21 searched layers (stages of 4, 4, 4, 4, 4 and 1
/// layers after a fixed first block).
inline constexpr Dag mobile_chain = chain_dag({.layers = 21});

/// The layer-wise mobile space: one op per layer out of nas::ops::mobile_ops (MBConv
/// 3x3/5x5/7x7 with expansion 3 or 6, and `skip`), 7^21 architectures. Stacked on
/// nas::Skeleton::mobile (nas::mobile_layout). ProxylessNAS itself offers its `zero` (a
/// skipped layer) only on the 15 layers whose shape does not change; here, as in FBNet,
/// every layer may be skipped, a projection taking its place where the shape changes.
using mobile = Space<Cell<"layers", mobile_chain, ops::mobile_ops>>;

}  // namespace nas::spaces

/// The mobile space stacks on the Mobile layout.
template <>
struct nas::layout_of<nas::spaces::mobile> : std::type_identity<nas::layouts::Mobile> {};
