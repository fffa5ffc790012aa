// Genotypes: building, validation, equality, ordering, hashing.
#include <doctest/doctest.h>

#include <unordered_set>

#include "test_spaces.hpp"

using namespace nas_test;

namespace {
constexpr nas::Genotype<darts_space> darts_v2() {
  nas::Genotype<darts_space> g;
  g.cell<"normal">()
      .set(0, 2, "sep_conv_3x3")
      .set(1, 2, "sep_conv_3x3")
      .set(0, 3, "sep_conv_3x3")
      .set(1, 3, "sep_conv_3x3")
      .set(1, 4, "sep_conv_3x3")
      .set(0, 4, "skip_connect")
      .set(0, 5, "skip_connect")
      .set(2, 5, "dil_conv_3x3");
  g.cell<"reduce">()
      .set(0, 2, "max_pool_3x3")
      .set(1, 2, "max_pool_3x3")
      .set(2, 3, "skip_connect")
      .set(1, 3, "max_pool_3x3")
      .set(0, 4, "max_pool_3x3")
      .set(2, 4, "skip_connect")
      .set(2, 5, "skip_connect")
      .set(1, 5, "max_pool_3x3");
  return g;
}
}  // namespace

TEST_CASE("Genotype: a fixed-size value built at compile time") {
  constexpr auto g = darts_v2();
  static_assert(g.valid());
  static_assert(g.cell<"normal">().op(2, 5) == darts_ops::index_of<"dil_conv_3x3">);
  static_assert(!g.cell<"normal">().op(3, 5).has_value());
  static_assert(g.cell<"reduce">().concat_mask() == 0b1111);
  CHECK(g.cell<"normal">().op_name(0) == "sep_conv_3x3");
  CHECK(g.cell<"normal">().kept_inputs(5) == 2);
  CHECK(g.describe_problem().empty());
  // no heap: the size is the op indices plus a concat mask per cell
  CHECK(sizeof(nas::Genotype<nb201_space>) <= 32);
}

TEST_CASE("Genotype: the keep rule is checked and the problem named") {
  auto g = darts_v2();
  g.cell<"normal">().erase(2, 5);
  CHECK_FALSE(g.valid());
  CHECK(g.describe_problem() == "cell 'normal': node 5 keeps 1 input(s); it must keep 2");
  CHECK_THROWS_WITH_AS(g.validate(), doctest::Contains("node 5 keeps 1 input(s)"),
                       nas::InvalidArgument);
  g.cell<"normal">().set(3, 5, "none");
  CHECK(g.describe_problem() ==
        "cell 'normal': edge (3 -> 5) keeps the zero op 'none'; a derived cell that keeps k "
        "inputs per node keeps no zero op");
  g.cell<"normal">().set(3, 5, "sep_conv_5x5").set(4, 5, "sep_conv_5x5");
  CHECK(g.describe_problem() == "cell 'normal': node 5 keeps 3 input(s); it must keep 2");

  nas::Genotype<nb201_space> n;
  CHECK(n.describe_problem() ==
        "cell 'cell': edge (0 -> 1) has no op; a 'cell' cell keeps every edge");
  auto c = darts_v2();
  c.cell<"reduce">().set_concat({});
  CHECK(c.describe_problem() ==
        "cell 'reduce': the concat list is empty; concatenate at least one node");
}

TEST_CASE("Genotype: setters refuse edges, ops and concat nodes the cell does not have") {
  nas::Genotype<darts_space> g;
  auto& n = g.cell<"normal">();
  CHECK_THROWS_AS(n.set(2, 2, "sep_conv_3x3"), nas::InvalidArgument);
  CHECK_THROWS_AS(n.set(0, 6, std::size_t{1}), nas::InvalidArgument);
  CHECK_THROWS_WITH_AS(n.set(0, 2, "conv_9x9"), doctest::Contains("no op with this name"),
                       nas::InvalidArgument);
  CHECK_THROWS_AS(n.set(0, 2, std::size_t{8}), nas::InvalidArgument);
  CHECK_THROWS_AS(n.set(14, std::nullopt), nas::InvalidArgument);
  CHECK_THROWS_AS(n.set_concat({1, 2}), nas::InvalidArgument);
  CHECK_THROWS_AS(n.set_concat({6}), nas::InvalidArgument);
  CHECK_THROWS_AS(n.set_concat_mask(0b10000), nas::InvalidArgument);
  n.set_concat({4, 5});
  CHECK(n.concatenated(4));
  CHECK_FALSE(n.concatenated(2));
  nas::Genotype<nb201_space> b;
  CHECK_THROWS_WITH_AS(b.cell<"cell">().set_concat({1}), doctest::Contains("no concat list"),
                       nas::InvalidArgument);
}

TEST_CASE("Genotype: equality, ordering and hashing see every edge and the concat list") {
  const auto a = darts_v2();
  auto b = a;
  CHECK(a == b);
  CHECK(a.hash() == b.hash());
  CHECK_FALSE(a < b);
  b.cell<"reduce">().set(1, 5, "avg_pool_3x3");
  CHECK(a != b);
  CHECK(a.hash() != b.hash());
  CHECK((a < b) != (b < a));
  auto c = a;
  c.cell<"normal">().set_concat({2, 3, 4});
  CHECK(a != c);
  CHECK(a.hash() != c.hash());
  std::unordered_set<nas::Genotype<darts_space>> seen{a, b, c, a};
  CHECK(seen.size() == 3);
}

TEST_CASE("Genotype: the hash sees every op of an edge that keeps several") {
  nas::Genotype<amoeba_space> a;
  a.cell<"normal">().add(0, 2, "sep_conv_3x3").add(0, 2, "sep_conv_5x5");
  auto b = a;
  b.cell<"normal">().remove(0, amoeba_ops::index_of<"sep_conv_5x5">).add(0, 2, "sep_conv_7x7");
  CHECK(a != b);
  CHECK(a.hash() != b.hash());
}
