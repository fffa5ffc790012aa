// DAG shapes, cells and spaces: structure and counts.
#include <doctest/doctest.h>

#include "test_spaces.hpp"

using namespace nas_test;

TEST_CASE("dense_dag: the DARTS cell has 14 edges in DARTS order") {
  constexpr nas::Dag d = darts_dag;
  static_assert(d.inputs == 2 && d.nodes == 4 && d.edge_count == 14);
  static_assert(d.keep == 2 && d.output == nas::Output::concat_nodes);
  constexpr nas::Edge expected[] = {{0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}, {0, 4}, {1, 4},
                                    {2, 4}, {3, 4}, {0, 5}, {1, 5}, {2, 5}, {3, 5}, {4, 5}};
  for (std::size_t e = 0; e < 14; ++e) {
    CAPTURE(e);
    CHECK(d.edges[e] == expected[e]);
    CHECK(d.edge_index(expected[e].from, expected[e].to) == e);
  }
  CHECK(d.in_degree(2) == 2);
  CHECK(d.in_degree(5) == 5);
  CHECK(d.first_edge_into(4) == 5);
  CHECK(d.end_edge_into(4) == 9);
  CHECK_FALSE(d.edge_index(2, 2).has_value());
  CHECK_FALSE(d.edge_index(5, 4).has_value());
  // NASNet: 5 nodes, 20 edges
  static_assert(nasnet_dag.edge_count == 20);
}

TEST_CASE("make_dag: edges are sorted by target then source; nodes follow from the edges") {
  constexpr auto d = nas::make_dag({.inputs = 1}, {{2, 3}, {0, 1}, {1, 3}, {0, 2}, {1, 2}, {0, 3}});
  static_assert(d == nb201_dag);
  static_assert(d.nodes == 3 && d.edge_count == 6 && d.keeps_all());
  static_assert(d.output == nas::Output::last_node);
  CHECK(d.edges[0] == nas::Edge{0, 1});
  CHECK(d.edges[5] == nas::Edge{2, 3});
  CHECK(d.kept_inputs(3) == 3);
  // a sparse DAG: node 3 takes only node 2
  constexpr auto sparse = nas::make_dag({.inputs = 2, .keep = 1}, {{0, 2}, {1, 2}, {2, 3}});
  static_assert(sparse.nodes == 2 && sparse.in_degree(3) == 1);
}

TEST_CASE("chain_dag: one edge per layer, last node out, every edge kept") {
  static_assert(chain6.inputs == 1 && chain6.nodes == 6 && chain6.edge_count == 6);
  static_assert(chain6.output == nas::Output::last_node && chain6.keeps_all());
  for (std::size_t i = 0; i < 6; ++i) CHECK(chain6.edges[i] == nas::Edge{i, i + 1});
}

TEST_CASE("validate: a broken hand-built Dag throws at run time with the rule in the message") {
  nas::Dag d{.inputs = 1,
             .nodes = 2,
             .output = nas::last_node,
             .keep = nas::keep_all,
             .edge_count = 2,
             .edges = {}};
  d.edges[0] = {0, 1};
  d.edges[1] = {2, 1};
  CHECK_THROWS_WITH_AS(
      (void)nas::validate(d),
      doctest::Contains("points backwards; edges go from lower to higher node ids"),
      nas::InvalidArgument);
  d.edges[1] = {0, 0};
  CHECK_THROWS_WITH_AS((void)nas::validate(d), doctest::Contains("self edge"),
                       nas::InvalidArgument);
  nas::Dag two_inputs = d;
  two_inputs.inputs = 2;
  two_inputs.nodes = 1;
  two_inputs.edges[0] = {1, 2};
  two_inputs.edges[1] = {0, 1};
  CHECK_THROWS_WITH_AS((void)nas::validate(two_inputs),
                       doctest::Contains("edge points into an input node"), nas::InvalidArgument);
  d.edges[1] = {0, 1};
  CHECK_THROWS_WITH_AS((void)nas::validate(d), doctest::Contains("appears twice"),
                       nas::InvalidArgument);
  d.edges[1] = {1, 2};
  CHECK(nas::validate(d).edge_count == 2);
  d.keep = 2;
  CHECK_THROWS_WITH_AS((void)nas::validate(d), doctest::Contains("larger than a node's in-degree"),
                       nas::InvalidArgument);
}

TEST_CASE("Cell: counts follow from the DAG and the op set") {
  using normal = darts_space::cell<"normal">;
  static_assert(normal::edge_count == 14);
  static_assert(normal::input_count == 2 && normal::node_count == 4 && normal::op_count == 8);
  static_assert(normal::decision_count == 16);  // 4 nodes x (2 inputs + 2 ops)
  // per node C(in-degree, 2) * 7^2 (the zero op is never kept)
  static_assert(*normal::architecture_count == 49ULL * 147 * 294 * 490);
  static_assert(normal::edge_index(1, 3) == 3);
  using cell = nb201_space::cell<"cell">;
  static_assert(cell::decision_count == 6);
  static_assert(*cell::architecture_count == 15625);
  CHECK_THROWS_AS((void)normal::edge_index(3, 2), nas::InvalidArgument);
}

TEST_CASE("Space: published search-space sizes") {
  // DARTS: about 10^18 architectures (1.0767e18 exactly), 32 controller decisions
  static_assert(darts_space::cell_count == 2);
  static_assert(darts_space::edge_count == 28);
  static_assert(darts_space::decision_count == 32);
  static_assert(*darts_space::architecture_count == 1037664180ULL * 1037664180ULL);
  // NAS-Bench-201: 5^6 = 15,625
  static_assert(*nb201_space::architecture_count == 15625);
  // chain of 6 layers over 5 ops (zero counts: a layer may be skipped)
  static_assert(*chain_space::architecture_count == 15625);
  CHECK(darts_space::cell_names[1] == "reduce");
  CHECK(darts_space::find_cell("reduce") == 1);
  CHECK_FALSE(darts_space::find_cell("stem").has_value());
  static_assert(darts_space::cell_index<"reduce"> == 1);
}

TEST_CASE("Space: a count that does not fit in 64 bits is reported as absent") {
  constexpr auto big = nas::dense_dag({.inputs = 2, .nodes = 10, .keep = 2});
  using big_space = nas::Space<nas::Cell<"a", big, darts_ops>, nas::Cell<"b", big, darts_ops>>;
  static_assert(!big_space::architecture_count.has_value());
  static_assert(big_space::cell<"a">::architecture_count.has_value() == false);
  CHECK(big_space::edge_count == 2 * 65);
}

TEST_CASE("search_space and cell_kind: satisfied by nas types, refused otherwise") {
  static_assert(nas::search_space<darts_space>);
  static_assert(!nas::search_space<darts_ops>);
  static_assert(!nas::search_space<int>);
  static_assert(nas::cell_kind<darts_space::cell<"normal">>);
  static_assert(!nas::cell_kind<darts_space>);
  CHECK(nas::search_space<nb201_space>);
}
