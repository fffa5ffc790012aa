// Throughput of the torch-free core: the operations a search strategy calls in its loop.
// Run: cmake -B build -DNAS_BUILD_BENCHMARKS=ON && cmake --build build --target bench_core &&
//      build/benchmarks/bench_core
#include <benchmark/benchmark.h>

#include <cstdint>
#include <string>

#include <nas/core.hpp>

namespace {
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

using darts_ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"max_pool_3x3", Conv>,
                             nas::Op<"avg_pool_3x3", Conv>, nas::Op<"skip_connect", Identity>,
                             nas::Op<"sep_conv_3x3", Conv>, nas::Op<"sep_conv_5x5", Conv>,
                             nas::Op<"dil_conv_3x3", Conv>, nas::Op<"dil_conv_5x5", Conv>>;
inline constexpr auto darts_dag = nas::dense_dag({.inputs = 2, .nodes = 4, .keep = 2});
using darts_space = nas::Space<nas::Cell<"normal", darts_dag, darts_ops>,
                               nas::Cell<"reduce", darts_dag, darts_ops>>;
using nb201_ops = nas::OpSet<nas::Op<"none", Zero>, nas::Op<"skip_connect", Identity>,
                             nas::Op<"nor_conv_1x1", Conv>, nas::Op<"nor_conv_3x3", Conv>,
                             nas::Op<"avg_pool_3x3", Conv>>;
inline constexpr auto nb201_dag =
    nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}});
using nb201_space = nas::Space<nas::Cell<"cell", nb201_dag, nb201_ops>>;

void enumerate_nb201(benchmark::State& state) {
  for (auto _ : state) {
    std::uint64_t n = 0;
    for (const auto& g : nas::architectures<nb201_space>()) n += g.hash() & 1U;
    benchmark::DoNotOptimize(n);
  }
  state.SetItemsProcessed(state.iterations() * 15625);
}
BENCHMARK(enumerate_nb201);

void sample_darts(benchmark::State& state) {
  nas::Rng rng(0);
  for (auto _ : state) benchmark::DoNotOptimize(nas::sample<darts_space>(rng));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(sample_darts);

void mutate_darts(benchmark::State& state) {
  nas::Rng rng(0);
  auto g = nas::sample<darts_space>(rng);
  for (auto _ : state) {
    g = nas::mutate(g, rng);
    benchmark::DoNotOptimize(g);
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(mutate_darts);

void darts_text_round_trip(benchmark::State& state) {
  nas::Rng rng(0);
  const std::string text = nas::to_darts(nas::sample<darts_space>(rng));
  for (auto _ : state) benchmark::DoNotOptimize(nas::to_darts(nas::parse_darts<darts_space>(text)));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(darts_text_round_trip);

void json_round_trip(benchmark::State& state) {
  nas::Rng rng(0);
  const std::string text = nas::to_json(nas::sample<darts_space>(rng));
  for (auto _ : state) benchmark::DoNotOptimize(nas::to_json(nas::parse_json<darts_space>(text)));
  state.SetBytesProcessed(state.iterations() * static_cast<std::int64_t>(text.size()));
}
BENCHMARK(json_round_trip);

void canonical_nb201(benchmark::State& state) {
  nas::Rng rng(0);
  const auto g = nas::sample<nb201_space>(rng);
  for (auto _ : state) benchmark::DoNotOptimize(nas::canonical(g));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(canonical_nb201);
}  // namespace
