#pragma once
/// @file
/// Latency of a module on the current device: warm-up runs, then the median of timed runs.

#include <torch/cuda.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

#include "nas/layout/stack.hpp"
#include "nas/nn/network.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

/// Options of nas::measure_latency.
struct LatencyOptions {
  int warmup = 3;  ///< untimed runs first (allocator, kernel selection, caches)
  int runs = 10;   ///< timed runs; the median is reported
};

/// The median wall time in milliseconds of `forward(input)` in eval mode under inference
/// mode, after `warmup` untimed runs (on CUDA, each run is synchronized). The module's
/// training flag is restored.
template <class M>
[[nodiscard]] double measure_latency(M& module, const torch::Tensor& input,
                                     const LatencyOptions& options = {}) {
  TORCH_CHECK(options.warmup >= 0 && options.runs >= 1,
              "nas::measure_latency: needs warmup >= 0 and runs >= 1; got ", options.warmup,
              " and ", options.runs);
  const bool was_training = module->is_training();
  module->eval();
  const bool cuda = input.is_cuda();
  std::vector<double> ms;
  {
    torch::InferenceMode inference;
    for (int i = 0; i < options.warmup; ++i) (void)module->forward(input);
    if (cuda) torch::cuda::synchronize();
    for (int i = 0; i < options.runs; ++i) {
      const auto start = std::chrono::steady_clock::now();
      (void)module->forward(input);
      if (cuda) torch::cuda::synchronize();
      ms.push_back(
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count());
    }
  }
  module->train(was_training);
  std::sort(ms.begin(), ms.end());
  const auto n = ms.size();
  return n % 2 == 1 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2.0;
}

/// The latency in milliseconds of the network `genotype` stands for at `stack`, on a batch
/// of `batch` random images `height` x `width`, on `device` (nas::measure_latency).
template <search_space S>
[[nodiscard]] double latency(const Genotype<S>& genotype, const Stack& stack, std::int64_t batch,
                             std::int64_t height, std::int64_t width,
                             const torch::Device& device = torch::kCPU,
                             const LatencyOptions& options = {}) {
  Network<S> net(genotype, stack);
  net->to(device);
  const auto x = torch::randn({batch, stack.input_channels, height, width},
                              torch::TensorOptions().device(device));
  return measure_latency(net, x, options);
}

}  // namespace nas
