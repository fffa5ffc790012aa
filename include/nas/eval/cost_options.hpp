#pragma once
/// @file
/// nas::eval::CostOptions: which costs an evaluator adds to the metrics it returns.

#include <torch/types.h>

#include <cstdint>
#include <optional>

#include "nas/core/options.hpp"
#include "nas/eval/latency.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/network.hpp"
#include "nas/space/genotype.hpp"

namespace nas::eval {

/// Costs an evaluator measures for each architecture, at the size of network the
/// objective cares about (often the final network, not the proxy that is trained).
struct CostOptions {
  bool count = true;             ///< parameters and multiply-adds (nas::cost: builds, never runs)
  bool latency = false;          ///< also the latency (nas::latency: builds and runs)
  std::optional<Stack> stack{};  ///< network size the costs are taken at (unset: the evaluator's)
  std::int64_t height = 0;       ///< image size for multiply-adds and latency (0: the data's)
  std::int64_t width = 0;
  std::int64_t latency_batch = 1;  ///< images per timed forward
  LatencyOptions latency_options{};

  NAS_WITH(count)
  NAS_WITH(latency)
  NAS_WITH(height)
  NAS_WITH(width)
  NAS_WITH(latency_batch)
  NAS_WITH(latency_options)
};

namespace detail {
/// Seeds torch's CPU generator for a scope and restores its state afterwards, so an
/// evaluation is reproducible and leaves the caller's random stream as it was.
class SeedScope {
 public:
  explicit SeedScope(std::uint64_t seed) : generator_(at::detail::getDefaultCPUGenerator()) {
    state_ = generator_.get_state();
    generator_.set_current_seed(seed);
  }
  ~SeedScope() { generator_.set_state(state_); }
  SeedScope(const SeedScope&) = delete;
  SeedScope& operator=(const SeedScope&) = delete;

 private:
  at::Generator generator_;
  at::Tensor state_;
};

/// Adds the costs `options` asks for to `m`.
template <search_space S>
void add_costs(Metrics& m, const Genotype<S>& g, const CostOptions& options, const Stack& fallback,
               std::int64_t height, std::int64_t width, const torch::Device& device) {
  if (!options.count && !options.latency) return;
  // building a network draws its initial weights (and a latency input) from torch's
  // generator; the caller's random stream must not depend on which costs are measured
  SeedScope keep_stream(0);
  const Stack& stack = options.stack ? *options.stack : fallback;
  const std::int64_t h = options.height > 0 ? options.height : height;
  const std::int64_t w = options.width > 0 ? options.width : width;
  if (options.count) {
    const Cost c = cost(g, stack, h, w);
    m.parameters = c.parameters;
    m.multiply_adds = c.multiply_adds;
  }
  if (options.latency)
    m.latency_ms = latency(g, stack, options.latency_batch, h, w, device, options.latency_options);
}

}  // namespace detail

}  // namespace nas::eval
