#pragma once
/// @file
/// The NAS-Bench-201 search space.

#include "nas/layout/nb201.hpp"
#include "nas/ops/nb201.hpp"
#include "nas/space/cell.hpp"
#include "nas/space/dag.hpp"
#include "nas/space/layout_of.hpp"
#include "nas/space/space.hpp"

#include <type_traits>

namespace nas::spaces {

/// The NAS-Bench-201 cell: 1 input, 3 computed nodes fed by all earlier nodes (6 edges),
/// output the last node, every edge kept.
inline constexpr Dag nb201_cell =
    make_dag({.inputs = 1, .output = last_node}, {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}});
/// The NAS-Bench-201 space: 5^6 = 15,625 cells over the 5 NAS-Bench-201 ops.
using nb201 = Space<Cell<"cell", nb201_cell, ops::nb201_ops>>;

}  // namespace nas::spaces

/// The nb201 space stacks on the Nb201 layout.
template <>
struct nas::layout_of<nas::spaces::nb201> : std::type_identity<nas::layouts::Nb201> {};
