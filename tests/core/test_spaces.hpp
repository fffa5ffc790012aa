#pragma once
// Spaces shared by the core tests. The module types are placeholders: the core
// never instantiates modules, so plain structs stand in for LibTorch modules.

#include <nas/core.hpp>

namespace nas_test {

struct Zero {
  static constexpr bool nas_zero_op = true;
  explicit Zero(const nas::OpArgs& /*args*/) {}
};
struct Identity {
  static constexpr bool nas_identity_op = true;
  explicit Identity(const nas::OpArgs& /*args*/) {}
};
struct Conv {
  explicit Conv(const nas::OpArgs& /*args*/) {}
};
struct Pool {
  explicit Pool(const nas::OpArgs& /*args*/) {}
};

/// The eight DARTS primitives, in DARTS order.
using darts_ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"max_pool_3x3", Pool>,
                             nas::Op<"avg_pool_3x3", Pool>, nas::Op<"skip_connect", Identity>,
                             nas::Op<"sep_conv_3x3", Conv>, nas::Op<"sep_conv_5x5", Conv>,
                             nas::Op<"dil_conv_3x3", Conv>, nas::Op<"dil_conv_5x5", Conv>>;
inline constexpr auto darts_dag =
    nas::dense_dag({.inputs = 2, .nodes = 4, .output = nas::concat_nodes, .keep = 2});
using darts_space = nas::Space<nas::Cell<"normal", darts_dag, darts_ops>,
                               nas::Cell<"reduce", darts_dag, darts_ops>>;

/// The five NAS-Bench-201 ops, in NAS-Bench-201 order.
using nb201_ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"skip_connect", Identity>,
                             nas::Op<"nor_conv_1x1", Conv>, nas::Op<"nor_conv_3x3", Conv>,
                             nas::Op<"avg_pool_3x3", Pool>>;
inline constexpr auto nb201_dag = nas::make_dag({.inputs = 1, .output = nas::last_node},
                                                {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}});
using nb201_space = nas::Space<nas::Cell<"cell", nb201_dag, nb201_ops>>;

/// A layer-wise chain (ProxylessNAS-style): one op per layer.
using mobile_ops =
    nas::OpSet<nas::Op<"mb3_e3", Conv>, nas::Op<"mb3_e6", Conv>, nas::Op<"mb5_e3", Conv>,
               nas::Op<"mb7_e6", Conv>, nas::Op<"zero", Zero>>;
inline constexpr auto chain6 = nas::chain_dag({.layers = 6});
using chain_space = nas::Space<nas::Cell<"layers", chain6, mobile_ops>>;

/// The NASNet/AmoebaNet cell: 2 inputs, 5 nodes, concat of a subset, and a node may take
/// one input twice.
inline constexpr auto nasnet_dag =
    nas::dense_dag({.inputs = 2, .nodes = 5, .keep = 2, .repeat = true});
using amoeba_ops =
    nas::OpSet<nas::Op<"none", Zero>, nas::Op<"avg_pool_3x3", Pool>, nas::Op<"max_pool_3x3", Pool>,
               nas::Op<"skip_connect", Identity>, nas::Op<"sep_conv_3x3", Conv>,
               nas::Op<"sep_conv_5x5", Conv>, nas::Op<"sep_conv_7x7", Conv>,
               nas::Op<"conv_7x1_1x7", Conv>, nas::Op<"dil_conv_3x3", Conv>>;
using amoeba_space = nas::Space<nas::Cell<"normal", nasnet_dag, amoeba_ops>,
                                nas::Cell<"reduce", nasnet_dag, amoeba_ops>>;

/// DARTS V2 as published in DARTS's genotypes.py.
inline constexpr const char* darts_v2_text =
    "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('sep_conv_3x3', 1), ('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), "
    "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, 5])";

}  // namespace nas_test
