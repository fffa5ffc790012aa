// needs: torch
// One search step of DARTS (first and second order) and GDAS on the DARTS space, at the
// published search sizes (3x32x32 images, 16 channels, 8 cells, 10 classes) and at a small
// size (1x28x28, 8 channels, 5 cells), batch 64 and 16. Reports the time per step and the
// process's peak resident memory (`peak_rss_MiB`, getrusage): run one benchmark per process
// for a per-configuration peak, as scripts/bench_search.sh does:
//   bench_search_step --benchmark_filter='^darts1/published/64/'
#include <benchmark/benchmark.h>
#include <sys/resource.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>

#include <nas/nas.hpp>

namespace {

using space = nas::spaces::darts;

struct Size {
  const char* name;
  std::int64_t input_channels, image, channels, layers;
};
constexpr Size published{"published", 3, 32, 16, 8};
constexpr Size small{"small", 1, 28, 8, 5};

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

nas::Stack stack_of(const Size& s) {
  return nas::Stack{.layers = s.layers,
                    .channels = s.channels,
                    .classes = 10,
                    .input_channels = s.input_channels};
}
nas::Batch batch_of(const Size& s, std::int64_t n) {
  return {torch::randn({n, s.input_channels, s.image, s.image}),
          torch::randint(10, {n}, torch::kLong)};
}

void darts_step(benchmark::State& state, const Size& size, int order) {
  torch::manual_seed(0);
  nas::Supernet<space, nas::relax::Softmax> net(stack_of(size));
  nas::Darts darts(net, {.order = order});
  const auto n = state.range(0);
  const auto t = batch_of(size, n), v = batch_of(size, n);
  darts.step(t, v);  // warm-up
  for (auto _ : state) darts.step(t, v);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

void gdas_step(benchmark::State& state, const Size& size) {
  torch::manual_seed(0);
  nas::Supernet<space, nas::relax::Gumbel> net(stack_of(size));
  nas::Gdas gdas(net);
  const auto n = state.range(0);
  const auto t = batch_of(size, n), v = batch_of(size, n);
  gdas.step(t, v);  // warm-up
  for (auto _ : state) gdas.step(t, v);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

int register_all() {
  for (const Size* s : {&published, &small}) {
    const std::string suffix = std::string("/") + s->name;
    for (const int order : {1, 2})
      benchmark::RegisterBenchmark(("darts" + std::to_string(order) + suffix).c_str(),
                                   [s, order](benchmark::State& st) { darts_step(st, *s, order); })
          ->Arg(64)
          ->Arg(16)
          ->Unit(benchmark::kMillisecond)
          ->Iterations(2)
          ->UseRealTime();
    benchmark::RegisterBenchmark(("gdas" + suffix).c_str(),
                                 [s](benchmark::State& st) { gdas_step(st, *s); })
        ->Arg(64)
        ->Arg(16)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(2)
        ->UseRealTime();
  }
  return 0;
}
const int registered = register_all();

}  // namespace
