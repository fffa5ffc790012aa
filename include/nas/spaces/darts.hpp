#pragma once
/// @file
/// Built-in DARTS-family spaces and the published genotypes, as compile-time constants
/// parsed from their published DARTS-format text.

#include "nas/layout/darts.hpp"
#include "nas/ops/darts.hpp"
#include "nas/space/cell.hpp"
#include "nas/space/dag.hpp"
#include "nas/space/format_darts.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/layout_of.hpp"
#include "nas/space/space.hpp"

#include <type_traits>

namespace nas::spaces {

/// The DARTS cell: 2 inputs, 4 computed nodes fed by all earlier nodes, output the
/// concatenation, a derived node keeps 2 distinct inputs.
inline constexpr Dag darts_cell =
    dense_dag({.inputs = 2, .nodes = 4, .output = concat_nodes, .keep = 2});
/// The DARTS search space: normal and reduction cells over the 8 DARTS ops.
using darts =
    Space<Cell<"normal", darts_cell, ops::darts_ops>, Cell<"reduce", darts_cell, ops::darts_ops>>;

/// The NASNet / AmoebaNet cell: 2 inputs, 5 computed nodes, a node may take one input twice.
inline constexpr Dag nasnet_cell =
    dense_dag({.inputs = 2, .nodes = 5, .output = concat_nodes, .keep = 2, .repeat = true});
/// The space NASNet-A and AmoebaNet-A live in (DARTS's operations table).
using nasnet = Space<Cell<"normal", nasnet_cell, ops::nasnet_ops>,
                     Cell<"reduce", nasnet_cell, ops::nasnet_ops>>;

}  // namespace nas::spaces

/// The DARTS-family spaces stack on DARTS's layout.
template <>
struct nas::layout_of<nas::spaces::darts> : std::type_identity<nas::layouts::Darts> {};
template <>
struct nas::layout_of<nas::spaces::nasnet> : std::type_identity<nas::layouts::Darts> {};

/// Published architectures, parsed at compile time from the text of DARTS's genotypes.py.
namespace nas::genotypes {

/// DARTS (first order), Liu et al. 2019.
inline constexpr Genotype<spaces::darts> darts_v1 = parse_darts<spaces::darts>(
    "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])");

/// DARTS (second order), Liu et al. 2019.
inline constexpr Genotype<spaces::darts> darts_v2 = parse_darts<spaces::darts>(
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])");

/// PC-DARTS (CIFAR-10), Xu et al. 2020.
inline constexpr Genotype<spaces::darts> pc_darts = parse_darts<spaces::darts>(
    "Genotype(normal=[('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 0), "
    "('dil_conv_3x3', 1), ('sep_conv_5x5', 0), ('sep_conv_3x3', 1), ('avg_pool_3x3', 0), "
    "('dil_conv_3x3', 1)], normal_concat=range(2, 6), reduce=[('sep_conv_5x5', 1), "
    "('max_pool_3x3', 0), ('sep_conv_5x5', 1), ('sep_conv_5x5', 2), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 3), ('sep_conv_3x3', 1), ('sep_conv_3x3', 2)], reduce_concat=range(2, 6))");

/// NASNet-A, Zoph et al. 2018, as DARTS's genotypes.py writes it.
inline constexpr Genotype<spaces::nasnet> nasnet_a = parse_darts<spaces::nasnet>(
    "Genotype(normal=[('sep_conv_5x5', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), "
    "('sep_conv_3x3', 0), ('avg_pool_3x3', 1), ('skip_connect', 0), ('avg_pool_3x3', 0), "
    "('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 1)], normal_concat=[2, 3, 4, 5, "
    "6], reduce=[('sep_conv_5x5', 1), ('sep_conv_7x7', 0), ('max_pool_3x3', 1), ('sep_conv_7x7', "
    "0), ('avg_pool_3x3', 1), ('sep_conv_5x5', 0), ('skip_connect', 3), ('avg_pool_3x3', 2), "
    "('sep_conv_3x3', 2), ('max_pool_3x3', 1)], reduce_concat=[4, 5, 6])");

/// AmoebaNet-A, Real et al. 2019, as DARTS's genotypes.py writes it.
inline constexpr Genotype<spaces::nasnet> amoebanet_a = parse_darts<spaces::nasnet>(
    "Genotype(normal=[('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_5x5', 2), ('sep_conv_3x3', 0), ('avg_pool_3x3', 3), ('sep_conv_3x3', 1), "
    "('skip_connect', 1), ('skip_connect', 0), ('avg_pool_3x3', 1)], normal_concat=[4, 5, 6], "
    "reduce=[('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_7x7', 2), "
    "('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1), "
    "('conv_7x1_1x7', 0), ('sep_conv_3x3', 5)], reduce_concat=[3, 4, 6])");

}  // namespace nas::genotypes
