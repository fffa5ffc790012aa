// needs: torch
// One search step of DARTS (first and second order), GDAS, ENAS (a shared-weight step on a
// controller-sampled path, and a controller update of 10 children) and SPOS (a shared-weight
// step on a uniform path) on the DARTS space, at the
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

// One weight step of a single-path supernet on a path from `path()`.
template <class Path>
void single_path_step(benchmark::State& state, const Size& size, Path path) {
  torch::manual_seed(0);
  nas::Supernet<space, nas::relax::SinglePath> net(stack_of(size));
  nas::detail::PathTrainer<space> trainer(net, {.batch_size = state.range(0), .steps = 1});
  const auto b = batch_of(size, state.range(0));
  nas::BatchStream stream({b.data, b.target}, state.range(0));
  (void)trainer.epoch(stream, 0, 1, path);  // warm-up
  for (auto _ : state) (void)trainer.epoch(stream, 0, 1, path);
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

void enas_step(benchmark::State& state, const Size& size) {
  torch::manual_seed(1);
  nas::Controller<space> controller;
  nas::Rng rng(0);
  single_path_step(state, size, [&] {
    torch::NoGradGuard no_grad;
    return controller->sample(rng).genotype;
  });
}

void spos_step(benchmark::State& state, const Size& size) {
  nas::Rng rng(0);
  single_path_step(state, size, [&] { return nas::sample<space>(rng); });
}

// One REINFORCE update of ENAS's controller: 10 children proposed and observed (rewards
// given, no evaluation), then the Adam step on their log-probabilities.
void controller_step(benchmark::State& state) {
  torch::manual_seed(0);
  nas::Reinforce<space> rl(nas::Controller<space>(), {.children = 10});
  auto update = [&] {
    for (int i = 0; i < 10; ++i) {
      nas::Trial<space> t;
      t.genotype = rl.propose();
      t.score = 0.1 * i;
      rl.observe(t);
    }
  };
  update();  // warm-up
  for (auto _ : state) update();
  state.counters["peak_rss_MiB"] = peak_rss_mib();
}

int register_all() {
  benchmark::RegisterBenchmark("controller/10", [](benchmark::State& st) { controller_step(st); })
      ->Unit(benchmark::kMillisecond)
      ->Iterations(5)
      ->UseRealTime();
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
    benchmark::RegisterBenchmark(("enas" + suffix).c_str(),
                                 [s](benchmark::State& st) { enas_step(st, *s); })
        ->Arg(64)
        ->Arg(16)
        ->Unit(benchmark::kMillisecond)
        ->Iterations(2)
        ->UseRealTime();
    benchmark::RegisterBenchmark(("spos" + suffix).c_str(),
                                 [s](benchmark::State& st) { spos_step(st, *s); })
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
