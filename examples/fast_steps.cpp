// The fast settings of docs/performance.md on a DARTS search: the same first-order DARTS steps
// in NCHW and in channels_last (nas::use_channels_last), timed, and their architectures
// compared. The other speed-ups (frozen-weight convolutions in the architecture step, the shared
// relu(x) per edge, recomputed depthwise outputs, batch norms that keep their output) are always
// on: nothing to call.
//   fast_steps [layers channels batch steps image]   (defaults: 5 8 32 3 32; the published
//                                                      search size is 8 16 64 with 32x32 images,
//                                                      docs/performance.md)
#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include <nas/nas.hpp>

namespace {
using space = nas::spaces::darts;

struct Run {
  std::vector<torch::Tensor> gradient;  // the first step's architecture gradient
  double ms_per_step = 0.0;
};

Run search(const nas::Stack& stack, std::int64_t batch, std::int64_t image, int steps,
           bool channels_last) {
  torch::manual_seed(0);
  nas::Supernet<space, nas::relax::Softmax> net(stack);
  if (channels_last) nas::use_channels_last(*net);  // after moving to the device, if any
  nas::Darts darts(net, {.order = 1});
  const nas::Batch train{torch::randn({batch, 3, image, image}), torch::randint(10, {batch})};
  const nas::Batch valid{torch::randn({batch, 3, image, image}), torch::randint(10, {batch})};
  Run r;
  r.gradient = darts.architecture_gradient(train, valid);
  (void)darts.step(train, valid);  // warm-up (oneDNN builds its kernels on first use)
  const auto start = std::chrono::steady_clock::now();
  for (int i = 1; i < steps; ++i) (void)darts.step(train, valid);
  const std::chrono::duration<double, std::milli> took = std::chrono::steady_clock::now() - start;
  r.ms_per_step = steps > 1 ? took.count() / (steps - 1) : 0.0;
  return r;
}
}  // namespace

int main(int argc, char** argv) {
  const auto arg = [&](int i, std::int64_t fallback) {
    return argc > i ? std::strtoll(argv[i], nullptr, 10) : fallback;
  };
  const nas::Stack stack{.layers = arg(1, 5), .channels = arg(2, 8), .classes = 10};
  const std::int64_t batch = arg(3, 32);
  const int steps = static_cast<int>(arg(4, 3));
  const std::int64_t image = arg(5, 32);
  if (stack.layers < 3 || stack.channels < 2 || batch < 1 || steps < 1 || steps > 1000 ||
      image < 8 || image % 4 != 0) {
    std::fprintf(stderr,
                 "usage: fast_steps [layers>=3 channels>=2 batch>=1 steps in 1..1000 "
                 "image>=8, a multiple of 4]\n");
    return 2;
  }
  const Run nchw = search(stack, batch, image, steps, false);
  const Run nhwc = search(stack, batch, image, steps, true);
  double difference = 0.0;  // relative to the gradient's largest entry
  for (std::size_t i = 0; i < nchw.gradient.size(); ++i)
    difference = std::max(difference, ((nchw.gradient[i] - nhwc.gradient[i]).abs().max() /
                                       nchw.gradient[i].abs().max())
                                          .item<double>());
  std::printf("DARTS step, %lld cells, %lld channels, batch %lld, %lldx%lld images, %d threads\n",
              static_cast<long long>(stack.layers), static_cast<long long>(stack.channels),
              static_cast<long long>(batch), static_cast<long long>(image),
              static_cast<long long>(image), torch::get_num_threads());
  if (steps > 1) {
    std::printf("  NCHW:          %8.1f ms per step\n", nchw.ms_per_step);
    std::printf("  channels_last: %8.1f ms per step\n", nhwc.ms_per_step);
  } else {
    std::printf("  (one step, the warm-up: nothing timed; pass steps >= 2)\n");
  }
  std::printf("  architecture gradients differ by %.1e (relative)\n", difference);
  // The two layouts compute the same gradient up to float rounding: a gradient of alpha sums
  // many terms that cancel, and float32 itself is 1e-3 (relative) away from a float64 run at
  // the default size (measured with eager PyTorch, either layout); a wrong gradient is off by 1.
  return difference < 1e-2 ? 0 : 1;
}
