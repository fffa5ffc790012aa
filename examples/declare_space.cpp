// Declaring a search space with nas: an op set, cell DAGs, a space, and the
// genotypes that live in it. Torch-free: it links nas::core only.
//
// This is the example of docs/spaces.md; CI runs it and compares its output
// with declare_space.expected.

#include <cstdio>
#include <string>

#include <nas/core.hpp>

// 1. Operations. With LibTorch these are your module holders (see docs/spaces.md);
//    the description layer only carries their types, so plain structs do here.
struct Zero {
  static constexpr bool nas_zero_op = true;  // outputs zeros: never kept by a derived DARTS cell
  explicit Zero(const nas::OpArgs& /*args*/) {}
};
struct Identity {
  static constexpr bool nas_identity_op = true;
  explicit Identity(const nas::OpArgs& /*args*/) {}
};
struct SepConv3 {
  explicit SepConv3(const nas::OpArgs& /*args*/) {}
};
struct SepConv5 {
  explicit SepConv5(const nas::OpArgs& /*args*/) {}
};
struct MaxPool3 {
  explicit MaxPool3(const nas::OpArgs& /*args*/) {}
};

// 2. An op set: names are compile-time strings, the order is the index in a genotype.
using my_ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"max_pool_3x3", MaxPool3>,
                          nas::Op<"skip_connect", Identity>, nas::Op<"sep_conv_3x3", SepConv3>,
                          nas::Op<"sep_conv_5x5", SepConv5>>;
static_assert(my_ops::index_of<"sep_conv_3x3"> == 3);

// 3. Cell DAGs: constexpr values, checked at compile time.
//    DARTS: 2 inputs (the two previous cells), 4 computed nodes fed by all earlier
//    nodes, output = concat of the computed nodes, a derived node keeps 2 inputs.
inline constexpr auto darts_cell =
    nas::dense_dag({.inputs = 2, .nodes = 4, .output = nas::concat_nodes, .keep = 2});
//    NAS-Bench-201: 1 input, explicit edges, the last node is the output, every edge kept.
inline constexpr auto nb201_cell = nas::make_dag({.inputs = 1, .output = nas::last_node},
                                                 {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}});

// 4. Spaces: named cell kinds, each with its own DAG and op set.
using darts_like =
    nas::Space<nas::Cell<"normal", darts_cell, my_ops>, nas::Cell<"reduce", darts_cell, my_ops>>;
using nb201_like = nas::Space<nas::Cell<"cell", nb201_cell, my_ops>>;

static_assert(darts_like::cell<"normal">::edge_count == 14);
static_assert(darts_like::decision_count == 32);
static_assert(nb201_like::cell<"cell">::edge_count == 6);

int main() {
  std::printf("darts_like: %zu cell kinds, %zu edges, %zu decisions, %llu architectures\n",
              darts_like::cell_count, darts_like::edge_count, darts_like::decision_count,
              static_cast<unsigned long long>(*darts_like::architecture_count));
  std::printf("nb201_like: %zu edges, %llu architectures\n", nb201_like::edge_count,
              static_cast<unsigned long long>(*nb201_like::architecture_count));

  // 5. A genotype: one op (or nothing) per edge, built edge by edge...
  nas::Genotype<darts_like> g;
  g.cell<"normal">()
      .set(0, 2, "sep_conv_3x3")
      .set(1, 2, "sep_conv_3x3")
      .set(0, 3, "sep_conv_5x5")
      .set(2, 3, "skip_connect")
      .set(1, 4, "sep_conv_3x3")
      .set(3, 4, "max_pool_3x3")
      .set(0, 5, "skip_connect")
      .set(4, 5, "sep_conv_5x5");
  std::printf("normal cell valid: %s\n", g.cell<"normal">().valid() ? "yes" : "no");
  std::printf("whole genotype: %s\n", g.valid() ? "valid" : g.describe_problem().c_str());

  // ...or read from text: DARTS form, NAS-Bench-201 form, or JSON.
  g = nas::parse_darts<darts_like>(
      "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 0), "
      "('skip_connect', 2), ('sep_conv_3x3', 1), ('max_pool_3x3', 3), ('skip_connect', 0), "
      "('sep_conv_5x5', 4)], normal_concat=range(2, 6), reduce=[('max_pool_3x3', 0), "
      "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 1), ('max_pool_3x3', 0), "
      "('skip_connect', 2), ('skip_connect', 2), ('max_pool_3x3', 1)], reduce_concat=[2, 3, 4, "
      "5])");
  std::printf("DARTS text: %s\n", nas::to_darts(g).c_str());
  std::printf("JSON: %s\n", nas::to_json(g).c_str());
  std::printf("JSON reads back equal: %s\n",
              nas::parse_json<darts_like>(nas::to_json(g)) == g ? "yes" : "no");

  const auto cell = nas::parse_nb201<nb201_like>(
      "|sep_conv_3x3~0|+|sep_conv_3x3~0|max_pool_3x3~1|+|skip_connect~0|sep_conv_3x3~1|skip_"
      "connect~2|");
  std::printf("NAS-Bench-201 text: %s\n", nas::to_nb201(cell).c_str());

  // A mistake in a text gets its position and the problem.
  try {
    (void)nas::parse_nb201<nb201_like>("|sep_conv_3x3~0|+|sep_conv_3x3~0|conv_9x9~1|+|none~0|");
  } catch (const nas::ParseError& e) {
    std::printf("%s\n", e.what());
  }

  // 6. Enumerate, sample and mutate, reproducibly.
  std::size_t count = 0;
  for (const auto& arch : nas::architectures<nb201_like>()) count += arch.valid() ? 1U : 0U;
  std::printf("enumerated %zu nb201_like architectures\n", count);
  nas::Rng rng(2024);
  const auto parent = nas::sample<nb201_like>(rng);
  const auto child = nas::mutate(parent, rng);
  std::printf("sampled: %s\nmutated: %s\n", nas::to_string(parent).c_str(),
              nas::to_string(child).c_str());
  return 0;
}
