// needs: torch, own main
// bench_steps: times one search step of nas at a given size, batch and device, and prints one
// JSON line (the same fields as benchmarks/reference/steps.py, the eager-PyTorch reference, so
// that benchmarks/run.py can print each C++ figure next to its ratio to eager PyTorch).
//
//   bench_steps --step darts1 --size published --batch 64 [--device cpu|cuda] [--warmup 1]
//               [--reps 5] [--threads T] [--channels-last] [--count] [--profile trace.json]
//
// Steps: darts1, darts2 (DARTS first and second order: the architecture step on a validation
// batch, then the weight step on a training batch), pcdarts (the same first-order step on
// PC-DARTS's supernet: partial channels K = 4, edge normalization), gdas (weight step, then
// architecture step, each on one Gumbel sample), enas (a shared-weight step on a path sampled by
// ENAS's controller), controller (one REINFORCE update of the controller over 10 children), spos (a
// shared-weight step on a uniformly sampled path), darts_v2 (one training step of the discrete
// DARTS V2 network of the same size: the "single discrete network" the one-shot steps are
// compared with). Sizes: published (3x32x32, 16 channels, 8 cells, 10 classes) and small
// (1x28x28, 8 channels, 5 cells).
//
// Each timed step is synchronized (CUDA) and timed on its own; the JSON holds every time, the
// median, min and max, the process's peak resident memory (getrusage) and, on CUDA, the caching
// allocator's peak (reset after building the model, so it is the steps' peak).
// Benchmarks measure; nothing here is a test.
#include <sys/resource.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <torch/csrc/autograd/profiler_legacy.h>
#include <nas/nas.hpp>

#if defined(NAS_BENCH_CUDA) && __has_include(<c10/cuda/CUDACachingAllocator.h>)
#include <c10/cuda/CUDACachingAllocator.h>
#define NAS_BENCH_CUDA_STATS 1
#endif

namespace {

using space = nas::spaces::darts;

struct Size {
  std::string_view name;
  std::int64_t input_channels, image, channels, layers;
};
constexpr Size sizes[] = {{"published", 3, 32, 16, 8}, {"small", 1, 28, 8, 5}};

struct Args {
  std::string step = "darts1", size = "published", device = "cpu";
  std::int64_t batch = 64, warmup = 1, reps = 5, threads = 0;
  bool channels_last = false, count = false;
  std::string profile;  // a chrome trace of one more step, written there
};

[[noreturn]] void usage(const std::string& problem) {
  std::fprintf(
      stderr,
      "bench_steps: %s\nusage: bench_steps --step darts1|darts2|pcdarts|gdas|enas|controller|"
      "spos|darts_v2 --size published|small --batch N [--device cpu|cuda] "
      "[--warmup N] [--reps N] [--threads N] [--channels-last] [--count] [--profile FILE]\n",
      problem.c_str());
  std::exit(2);
}

std::int64_t to_int(const std::string& flag, const std::string& text) {
  try {
    std::size_t used = 0;
    const auto v = std::stoll(text, &used);
    if (used == text.size() && v >= 0) return v;
  } catch (const std::exception&) {
  }
  usage(flag + " needs a non-negative integer; got '" + text + "'");
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string flag = argv[i];
    const auto value = [&]() -> std::string {
      if (i + 1 >= argc) usage(flag + " needs a value");
      return argv[++i];
    };
    if (flag == "--step")
      a.step = value();
    else if (flag == "--size")
      a.size = value();
    else if (flag == "--device")
      a.device = value();
    else if (flag == "--batch")
      a.batch = to_int(flag, value());
    else if (flag == "--warmup")
      a.warmup = to_int(flag, value());
    else if (flag == "--reps")
      a.reps = to_int(flag, value());
    else if (flag == "--threads")
      a.threads = to_int(flag, value());
    else if (flag == "--channels-last")
      a.channels_last = true;
    else if (flag == "--count")
      a.count = true;
    else if (flag == "--profile")
      a.profile = value();
    else
      usage("unknown option '" + flag + "'");
  }
  if (a.batch == 0) usage("--batch must be positive");
  if (a.device != "cpu" && a.device != "cuda") usage("--device is cpu or cuda");
  return a;
}

double peak_rss_mib() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return static_cast<double>(usage.ru_maxrss) / 1024.0;
}

// What one configuration needs: the step, and the counts the JSON reports.
struct Bench {
  std::function<void()> step;
  std::int64_t params = 0, arch_params = 0;
};

std::int64_t count(const std::vector<torch::Tensor>& ts) {
  std::int64_t n = 0;
  for (const auto& t : ts) n += t.numel();
  return n;
}

Bench make(const Args& a, const Size& s, torch::Device device) {
  const nas::Stack stack{.layers = s.layers,
                         .channels = s.channels,
                         .classes = 10,
                         .input_channels = s.input_channels};
  const auto format =
      a.channels_last ? torch::MemoryFormat::ChannelsLast : torch::MemoryFormat::Contiguous;
  const auto batch = [&](std::int64_t seed) {
    torch::manual_seed(static_cast<std::uint64_t>(seed));
    return nas::Batch{
        torch::randn({a.batch, s.input_channels, s.image, s.image}).to(device).contiguous(format),
        torch::randint(10, {a.batch}, torch::kLong).to(device)};
  };
  const auto place = [&](torch::nn::Module& m) {
    m.to(device);
    if (a.channels_last) nas::use_channels_last(m);
  };
  const auto train = batch(1), valid = batch(2);
  torch::manual_seed(0);
  Bench b;
  if (a.step == "darts1" || a.step == "darts2") {
    nas::Supernet<space, nas::relax::Softmax> net(stack);
    place(*net);
    b.params = count(net->weight_parameters());
    b.arch_params = count(net->arch_parameters());
    auto darts = std::make_shared<nas::Darts<space>>(
        net, nas::DartsOptions{.order = a.step == "darts1" ? 1 : 2});
    b.step = [darts, train, valid] { (void)darts->step(train, valid); };
  } else if (a.step == "pcdarts") {
    // PC-DARTS: a DARTS first-order step over partial channels (K = 4) and edge normalization
    nas::Supernet<space, nas::relax::PartialChannel> net(stack);
    place(*net);
    b.params = count(net->weight_parameters());
    b.arch_params = count(net->arch_parameters());
    auto pc = std::make_shared<nas::PcDarts<space>>(net, nas::DartsOptions{});
    b.step = [pc, train, valid] { (void)pc->step(train, valid); };
  } else if (a.step == "gdas") {
    nas::Supernet<space, nas::relax::Gumbel> net(stack);
    place(*net);
    b.params = count(net->weight_parameters());
    b.arch_params = count(net->arch_parameters());
    auto gdas = std::make_shared<nas::Gdas<space>>(net);
    b.step = [gdas, train, valid] { (void)gdas->step(train, valid); };
  } else if (a.step == "enas" || a.step == "spos") {
    nas::Supernet<space, nas::relax::SinglePath> net(stack);
    place(*net);
    b.params = count(net->weight_parameters());
    auto trainer = std::make_shared<nas::detail::PathTrainer<space>>(
        net, nas::WeightTraining{.batch_size = a.batch, .steps = 1});
    auto stream = std::make_shared<nas::BatchStream>(nas::Data{train.data, train.target}, a.batch);
    auto rng = std::make_shared<nas::Rng>(0);
    std::function<nas::Genotype<space>()> path;
    if (a.step == "enas") {
      nas::Controller<space> controller;
      controller->to(device);
      b.arch_params = count(controller->parameters());
      path = [controller, rng]() mutable {
        torch::NoGradGuard no_grad;
        return controller->sample(*rng).genotype;
      };
    } else {
      path = [rng] { return nas::sample<space>(*rng); };
    }
    b.step = [trainer, stream, path] { (void)trainer->epoch(*stream, 0, 1, path); };
  } else if (a.step == "controller") {
    auto rl = std::make_shared<nas::Reinforce<space>>(nas::Controller<space>(),
                                                      nas::ReinforceOptions{.children = 10});
    rl->controller()->to(device);
    b.arch_params = count(rl->controller()->parameters());
    b.step = [rl] {
      for (int i = 0; i < 10; ++i) {
        nas::Trial<space> t;
        t.genotype = rl->propose();
        t.score = 0.1 * i;
        rl->observe(t);
      }
    };
  } else if (a.step == "darts_v2") {
    nas::Network<space> net(nas::genotypes::darts_v2, stack);
    place(*net);
    b.params = count(net->parameters());
    auto sgd = std::make_shared<torch::optim::SGD>(
        net->parameters(), torch::optim::SGDOptions(0.025).momentum(0.9).weight_decay(3e-4));
    b.step = [net, sgd, train]() mutable {
      net->train();
      sgd->zero_grad();
      const auto loss =
          torch::nn::functional::cross_entropy(net->forward(train.data), train.target);
      loss.backward();
      torch::nn::utils::clip_grad_norm_(net->parameters(), 5.0);
      sgd->step();
    };
  } else {
    usage("unknown step '" + a.step + "'");
  }
  return b;
}

void sync(torch::Device device) {
  if (device.is_cuda()) torch::cuda::synchronize();
}

}  // namespace

int main(int argc, char** argv) {
  const Args a = parse(argc, argv);
  const auto s = std::find_if(std::begin(sizes), std::end(sizes),
                              [&](const Size& z) { return z.name == a.size; });
  if (s == std::end(sizes)) usage("--size is published or small");
  if (a.threads > 0) torch::set_num_threads(static_cast<int>(a.threads));
  if (a.device == "cuda" && !torch::cuda::is_available()) usage("--device cuda: no CUDA device");
  const torch::Device device(a.device == "cuda" ? torch::kCUDA : torch::kCPU);
  if (device.is_cuda()) {
    // as nas_search on CUDA: deterministic cuDNN, so that the runs repeat
    torch::globalContext().setBenchmarkCuDNN(false);
    torch::globalContext().setDeterministicCuDNN(true);
  }
  Bench b = make(a, *s, device);
  std::vector<double> times;
  if (!a.count) {
    for (std::int64_t i = 0; i < a.warmup; ++i) b.step();
    sync(device);
#ifdef NAS_BENCH_CUDA_STATS
    if (device.is_cuda()) c10::cuda::CUDACachingAllocator::resetPeakStats(0);
#endif
    for (std::int64_t i = 0; i < a.reps; ++i) {
      sync(device);
      const auto t0 = std::chrono::steady_clock::now();
      b.step();
      sync(device);
      times.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
  }
  if (!a.profile.empty()) {  // after the timed steps: one profiled step
    torch::autograd::profiler::RecordProfile guard(a.profile);
    b.step();
    sync(device);
  }
  std::string cuda_peak = "null";
#ifdef NAS_BENCH_CUDA_STATS
  if (device.is_cuda()) {
    const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(0);
    const auto all = static_cast<std::size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    cuda_peak = std::to_string(static_cast<double>(stats.allocated_bytes[all].peak) / 1048576.0);
  }
#endif
  std::vector<double> sorted = times;
  std::sort(sorted.begin(), sorted.end());
  const auto n = sorted.size();
  const double median = n == 0       ? 0.0
                        : n % 2 == 1 ? sorted[n / 2]
                                     : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
  std::string list;
  for (const double t : times) {
    if (!list.empty()) list += ",";
    list += std::to_string(t);
  }
  std::printf(
      "{\"impl\":\"nas\",\"step\":\"%s\",\"size\":\"%s\",\"batch\":%lld,\"device\":\"%s\","
      "\"channels_last\":%s,\"threads\":%d,\"torch\":\"%s\",\"params\":%lld,\"arch_params\":%lld,"
      "\"times_ms\":[%s],\"median_ms\":%.3f,\"min_ms\":%.3f,\"max_ms\":%.3f,"
      "\"peak_rss_mib\":%.1f,\"cuda_peak_mib\":%s}\n",
      a.step.c_str(), a.size.c_str(), static_cast<long long>(a.batch), a.device.c_str(),
      a.channels_last ? "true" : "false", torch::get_num_threads(), TORCH_VERSION,
      static_cast<long long>(b.params), static_cast<long long>(b.arch_params), list.c_str(), median,
      n ? sorted.front() : 0.0, n ? sorted.back() : 0.0, peak_rss_mib(), cuda_peak.c_str());
  return 0;
}
