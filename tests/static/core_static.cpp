// Compile-time tests of the torch-free core: a successful build is the pass.
#include <nas/core.hpp>

namespace {
struct Zero {
  static constexpr bool nas_zero_op = true;
  explicit Zero(const nas::OpArgs& /*args*/) {}
};
struct Conv {
  explicit Conv(const nas::OpArgs& /*args*/) {}
};

using ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"conv_3x3", Conv>, nas::Op<"conv_5x5", Conv>>;

// Concepts: satisfied by the nas types, refused by anything else.
static_assert(nas::op_descriptor<nas::Op<"conv_3x3", Conv>>);
static_assert(!nas::op_descriptor<Conv>);
static_assert(nas::op_set<ops>);
static_assert(!nas::op_set<nas::Op<"conv_3x3", Conv>>);

// DAG shapes are structural values: equal shapes give the same cell type.
inline constexpr auto a = nas::dense_dag({.inputs = 2, .nodes = 4, .keep = 2});
inline constexpr auto b = nas::dense_dag({});
static_assert(a == b);
static_assert(std::is_same_v<nas::Cell<"normal", a, ops>, nas::Cell<"normal", b, ops>>);
static_assert(nas::cell_kind<nas::Cell<"normal", a, ops>>);
static_assert(!nas::cell_kind<ops>);

// DAG counts for the published cells.
static_assert(nas::dense_dag({.inputs = 2, .nodes = 4}).edge_count == 14);  // DARTS, ENAS
static_assert(nas::dense_dag({.inputs = 2, .nodes = 5}).edge_count == 20);  // NASNet, AmoebaNet
static_assert(nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}})
                  .edge_count == 6);                             // NAS-Bench-201
static_assert(nas::chain_dag({.layers = 21}).edge_count == 21);  // ProxylessNAS: 21 searched layers

// Spaces: counts are constants of the type.
using space = nas::Space<nas::Cell<"normal", a, ops>, nas::Cell<"reduce", a, ops>>;
static_assert(nas::search_space<space>);
static_assert(!nas::search_space<ops>);
static_assert(space::cell_count == 2 && space::edge_count == 28 && space::decision_count == 32);
// per node C(in-degree, 2) * 2^2 non-zero op choices; two cells
static_assert(*space::architecture_count == (4ULL * 12 * 24 * 40) * (4ULL * 12 * 24 * 40));
static_assert(std::is_same_v<space::cell<"reduce">, space::cell_at<1>>);

// Genotypes are literal types: built, parsed, printed-to and compared at compile time.
constexpr auto g = nas::parse_darts<space>(
    "Genotype(normal=[('conv_3x3', 0), ('conv_3x3', 1), ('conv_5x5', 0), ('conv_5x5', 2), "
    "('conv_3x3', 3), ('conv_3x3', 1), ('conv_3x3', 4), ('conv_3x3', 0)], normal_concat=[2, 3, 4, "
    "5], "
    "reduce=[('conv_3x3', 0), ('conv_3x3', 1), ('conv_5x5', 0), ('conv_5x5', 2), ('conv_3x3', 3), "
    "('conv_3x3', 1), ('conv_3x3', 4), ('conv_3x3', 0)], reduce_concat=range(2, 6))");
static_assert(g.valid());
static_assert(g.cell<"normal">().op(2, 3) == ops::index_of<"conv_5x5">);
static_assert(g == nas::canonical(g));
static_assert(g.hash() != nas::Genotype<space>{}.hash());
}  // namespace
