// Enumeration, rank/unrank, sampling, mutation and canonical forms.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <unordered_set>

#include <range/v3/algorithm/count_if.hpp>
#include <range/v3/view/take.hpp>

#include "test_spaces.hpp"

using namespace nas_test;

namespace {
// Edges whose op differs, plus kept-edge moves, between two genotypes of one cell kind.
template <class C>
std::size_t edge_differences(const nas::CellGenotype<C>& a, const nas::CellGenotype<C>& b) {
  std::size_t n = 0;
  for (std::size_t e = 0; e < C::edge_count; ++e) n += a.op(e) != b.op(e) ? 1U : 0U;
  return n;
}
}  // namespace

TEST_CASE(
    "architectures: NAS-Bench-201 enumerates exactly 15,625 distinct valid cells in rank order") {
  std::unordered_set<nas::Genotype<nb201_space>> seen;
  std::uint64_t index = 0;
  for (const auto& g : nas::architectures<nb201_space>()) {
    REQUIRE(g.valid());
    REQUIRE(nas::rank(g) == index);
    REQUIRE(nas::unrank<nb201_space>(index) == g);
    seen.insert(g);
    ++index;
  }
  CHECK(index == 15625);
  CHECK(seen.size() == 15625);
  CHECK_THROWS_AS((void)nas::unrank<nb201_space>(15625), nas::InvalidArgument);
}

TEST_CASE("architectures: a small keep-2 space matches its closed-form count") {
  using ops3 =
      nas::OpSet<nas::Op<"none", Zero>, nas::Op<"a", Conv>, nas::Op<"b", Conv>, nas::Op<"c", Conv>>;
  constexpr auto dag = nas::dense_dag({.inputs = 2, .nodes = 3, .keep = 2});
  using small = nas::Space<nas::Cell<"normal", dag, ops3>>;
  // node 2: C(2,2)*9, node 3: C(3,2)*9, node 4: C(4,2)*9
  static_assert(*small::architecture_count == 9ULL * 27 * 54);
  std::set<nas::Genotype<small>> seen;
  std::uint64_t index = 0;
  for (const auto& g : nas::architectures<small>()) {
    REQUIRE(g.valid());
    REQUIRE(nas::rank(g) == index++);
    seen.insert(g);
  }
  CHECK(seen.size() == 9 * 27 * 54);
  // the first architecture keeps the two lowest inputs of every node with the first non-zero op
  const auto first = nas::unrank<small>(0);
  CHECK(nas::to_darts(first) ==
        "Genotype(normal=[('a', 0), ('a', 1), ('a', 0), ('a', 1), ('a', 0), ('a', 1)], "
        "normal_concat=[2, 3, 4])");
}

TEST_CASE("architectures: the DARTS space is enumerable lazily although it has 10^18 members") {
  std::size_t n = 0;
  for (const auto& g : nas::architectures<darts_space>() | ranges::views::take(1000)) {
    REQUIRE(g.valid());
    REQUIRE(nas::rank(g) == n++);
  }
  CHECK(n == 1000);
  const auto last = nas::unrank<darts_space>(*darts_space::architecture_count - 1);
  CHECK(last.valid());
  CHECK(nas::rank(last) == *darts_space::architecture_count - 1);
}

TEST_CASE("sample: the same seed gives the same architectures; every sample is valid") {
  nas::Rng a(42);
  nas::Rng b(42);
  nas::Rng c(43);
  bool any_difference = false;
  for (int i = 0; i < 200; ++i) {
    const auto x = nas::sample<darts_space>(a);
    const auto y = nas::sample<darts_space>(b);
    const auto z = nas::sample<darts_space>(c);
    REQUIRE(x.valid());
    REQUIRE(x == y);
    any_difference = any_difference || x != z;
  }
  CHECK(any_difference);
}

TEST_CASE("sample: the draw sequence is nas's own, identical on every standard library") {
  // Pinned values: std::mt19937_64's output is fixed by the standard and nas maps it
  // to architectures itself, so these ranks hold on every platform.
  nas::Rng rng(0);
  std::array<std::uint64_t, 4> ranks{};
  for (auto& r : ranks) r = nas::rank(nas::sample<nb201_space>(rng));
  CHECK(ranks == std::array<std::uint64_t, 4>{14208, 12339, 6363, 2599});
}

TEST_CASE("sample: uniform over a small space (chi-square, fixed seed)") {
  using ops2 = nas::OpSet<nas::Op<"a", Conv>, nas::Op<"b", Conv>, nas::Op<"c", Conv>>;
  constexpr auto dag = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}});
  using tiny = nas::Space<nas::Cell<"cell", dag, ops2>>;
  static_assert(*tiny::architecture_count == 27);
  std::array<int, 27> counts{};
  nas::Rng rng(7);
  constexpr int draws = 27000;
  for (int i = 0; i < draws; ++i) ++counts[nas::rank(nas::sample<tiny>(rng))];
  double chi2 = 0;
  for (int c : counts) chi2 += (c - 1000.0) * (c - 1000.0) / 1000.0;
  // 26 degrees of freedom: the 99.9th percentile is 54.05
  CHECK(chi2 < 54.05);
}

TEST_CASE("uniform_below: unbiased bounds and 32-bit generators") {
  std::mt19937 g32(1);
  nas::Rng g64(1);
  for (int i = 0; i < 1000; ++i) {
    CHECK(nas::uniform_below(g32, 7) < 7);
    CHECK(nas::uniform_below(g64, 3) < 3);
  }
  CHECK(nas::uniform_below(g64, 1) == 0);
  CHECK(nas::uniform_below(g64, 0) == 0);
}

TEST_CASE("mutate: one step away, valid, deterministic for a seed") {
  nas::Rng rng(3);
  nas::Rng again(3);
  std::size_t op_changes = 0;
  std::size_t input_moves = 0;
  for (int i = 0; i < 500; ++i) {
    const auto parent = nas::sample<darts_space>(rng);
    (void)nas::sample<darts_space>(again);
    const auto child = nas::mutate(parent, rng);
    REQUIRE(child == nas::mutate(parent, again));
    REQUIRE(child.valid());
    REQUIRE(child != parent);
    const std::size_t dn = edge_differences(parent.cell<"normal">(), child.cell<"normal">());
    const std::size_t dr = edge_differences(parent.cell<"reduce">(), child.cell<"reduce">());
    // exactly one cell changes: one edge changes op, or one kept edge moves (2 edges differ)
    REQUIRE((dn == 0) != (dr == 0));
    const std::size_t d = dn + dr;
    REQUIRE((d == 1 || d == 2));
    (d == 1 ? op_changes : input_moves)++;
    CHECK(child.cell<"normal">().concat_mask() == parent.cell<"normal">().concat_mask());
  }
  CHECK(op_changes > 100);
  CHECK(input_moves > 100);
}

TEST_CASE("mutate: NAS-Bench-201 changes exactly one edge's op") {
  nas::Rng rng(11);
  auto g = nas::sample<nb201_space>(rng);
  for (int i = 0; i < 300; ++i) {
    const auto child = nas::mutate(g, rng);
    REQUIRE(edge_differences(g.cell<"cell">(), child.cell<"cell">()) == 1);
    g = child;
  }
}

TEST_CASE("mutate: refuses an invalid genotype and a space with a single architecture") {
  nas::Rng rng(0);
  CHECK_THROWS_WITH_AS((void)nas::mutate(nas::Genotype<nb201_space>{}, rng),
                       doctest::Contains("nas::mutate needs a valid genotype"),
                       nas::InvalidArgument);
  using one = nas::OpSet<nas::Op<"only", Conv>>;
  constexpr auto dag = nas::make_dag({.inputs = 1}, {{0, 1}});
  using single = nas::Space<nas::Cell<"cell", dag, one>>;
  static_assert(*single::architecture_count == 1);
  CHECK(ranges::count_if(nas::architectures<single>(), [](const auto&) { return true; }) == 1);
  CHECK_THROWS_WITH_AS((void)nas::mutate(nas::unrank<single>(0), rng),
                       doctest::Contains("single architecture"), nas::InvalidArgument);
}

TEST_CASE("nb201_unique_key: the 15,625 NAS-Bench-201 cells have 6,466 unique keys, as published") {
  std::set<std::string> keys;
  for (const auto& g : nas::architectures<nb201_space>()) keys.insert(nas::nb201_unique_key(g));
  CHECK(keys.size() == 6466);
  const auto a = nas::parse_nb201<nb201_space>(
      "|nor_conv_3x3~0|+|none~0|none~1|+|skip_connect~0|none~1|none~2|");
  CHECK(nas::nb201_unique_key(a) == "#+#+0");
}

TEST_CASE("canonical: isomorphic NAS-Bench-201 cells share one canonical form") {
  // node 1 and node 2 swap roles: 1 = conv1x1(x), 2 = conv3x3(x), out = pool(1) + skip(2)
  const auto a = nas::parse_nb201<nb201_space>(
      "|nor_conv_1x1~0|+|nor_conv_3x3~0|none~1|+|none~0|avg_pool_3x3~1|skip_connect~2|");
  const auto b = nas::parse_nb201<nb201_space>(
      "|nor_conv_3x3~0|+|nor_conv_1x1~0|none~1|+|none~0|skip_connect~1|avg_pool_3x3~2|");
  CHECK(a != b);
  CHECK(nas::canonical(a) == nas::canonical(b));
  // dead edges do not matter: node 1's only input is a zero op, so its out-edges do nothing
  const auto c = nas::parse_nb201<nb201_space>(
      "|none~0|+|nor_conv_3x3~0|nor_conv_1x1~1|+|nor_conv_1x1~0|avg_pool_3x3~1|skip_connect~2|");
  const auto d = nas::parse_nb201<nb201_space>(
      "|none~0|+|nor_conv_3x3~0|none~1|+|nor_conv_1x1~0|none~1|skip_connect~2|");
  CHECK(nas::canonical(c) == nas::canonical(d));
  // different computations stay apart
  CHECK(nas::canonical(a) != nas::canonical(c));
  // idempotent and a class representative of every enumerated cell
  std::set<nas::Genotype<nb201_space>> classes;
  for (const auto& g : nas::architectures<nb201_space>()) {
    const auto k = nas::canonical(g);
    REQUIRE(nas::canonical(k) == k);
    classes.insert(k);
  }
  CHECK(classes.size() == 8765);
  // keep-k cells are returned unchanged
  const auto v2 = nas::parse_darts<darts_space>(darts_v2_text);
  CHECK(nas::canonical(v2) == v2);
}

TEST_CASE("architectures: a keep-2 space whose inputs may repeat counts multisets of pairs") {
  using ops3 = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"a", Conv>, nas::Op<"b", Conv>>;
  constexpr auto dag = nas::dense_dag({.inputs = 2, .nodes = 2, .keep = 2, .repeat = true});
  using rep = nas::Space<nas::Cell<"normal", dag, ops3>>;
  // node 2: 2 inputs x 2 ops = 4 pairs, multisets of 2: C(5, 2) = 10; node 3: 6 pairs, C(7, 2) = 21
  static_assert(*rep::architecture_count == 10 * 21);
  std::set<nas::Genotype<rep>> seen;
  std::uint64_t index = 0;
  std::size_t doubled = 0;
  for (const auto& g : nas::architectures<rep>()) {
    REQUIRE(g.valid());
    REQUIRE(nas::rank(g) == index);
    REQUIRE(nas::unrank<rep>(index) == g);
    REQUIRE(nas::parse_darts<rep>(nas::to_darts(g)) == g);
    REQUIRE(nas::parse_json<rep>(nas::to_json(g)) == g);
    for (std::size_t e = 0; e < 5; ++e) doubled += g.cell<"normal">().ops(e).size() == 2 ? 1U : 0U;
    seen.insert(g);
    ++index;
  }
  CHECK(seen.size() == 210);
  CHECK(doubled > 0);
  // sampling and mutation stay inside the space
  nas::Rng rng(5);
  auto g = nas::sample<rep>(rng);
  for (int i = 0; i < 300; ++i) {
    const auto child = nas::mutate(g, rng);
    REQUIRE(child.valid());
    REQUIRE(child != g);
    g = child;
  }
}

TEST_CASE(
    "CellGenotype: add keeps ops in order and refuses a second op where inputs do not repeat") {
  nas::Genotype<amoeba_space> a;
  auto& n = a.cell<"normal">();
  n.add(0, 2, "sep_conv_5x5").add(0, 2, "avg_pool_3x3");
  CHECK(n.ops(0).size() == 2);
  CHECK(n.op(0) == amoeba_ops::index_of<"avg_pool_3x3">);
  CHECK_THROWS_WITH_AS(n.add(0, 2, "skip_connect"),
                       doctest::Contains("as many ops as a node keeps"), nas::InvalidArgument);
  n.remove(0, amoeba_ops::index_of<"avg_pool_3x3">);
  CHECK(n.ops(0).size() == 1);
  CHECK(n.op(0) == amoeba_ops::index_of<"sep_conv_5x5">);
  nas::Genotype<darts_space> d;
  d.cell<"normal">().add(0, 2, "sep_conv_3x3");
  CHECK_THROWS_WITH_AS(d.cell<"normal">().add(0, 2, "sep_conv_5x5"),
                       doctest::Contains(".repeat = true"), nas::InvalidArgument);
}
