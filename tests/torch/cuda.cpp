// On a CUDA device (skipped, with a message, where there is none): the fast paths of
// docs/performance.md give LibTorch's gradients on CUDA too, a DARTS and a GDAS step on CUDA
// repeat bitwise from the same seed (deterministic cuDNN), and a DARTS architecture gradient on
// CUDA agrees with the CPU's. benchmarks/gpu/run.sh runs this suite (`-ts=cuda`) on a GPU
// machine; ctest runs it as `torch.cuda` (label gpu).
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <vector>

#include <nas/nn/supernet.hpp>
#include <nas/ops/conv.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/gdas.hpp>

namespace {
using space = nas::spaces::darts;
const nas::Stack stack{.layers = 3, .channels = 8, .classes = 10, .input_channels = 3};

bool no_gpu() {
  if (torch::cuda::is_available()) return false;
  MESSAGE("no CUDA device: skipped");
  return true;
}

void deterministic() {
  torch::globalContext().setBenchmarkCuDNN(false);
  torch::globalContext().setDeterministicCuDNN(true);
}

nas::Batch batch(torch::Device device, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({16, 3, 16, 16}).to(device), torch::randint(10, {16}).to(device)};
}

double relative(const torch::Tensor& a, const torch::Tensor& b) {
  return ((a.cpu() - b.cpu()).abs().max() / b.cpu().abs().max().clamp_min(1e-12)).item<double>();
}

// alpha after two DARTS (or GDAS) steps on `device` from seed 0
template <class Strategy, class Relax>
std::vector<torch::Tensor> two_steps(torch::Device device, bool channels_last) {
  torch::manual_seed(0);
  nas::Supernet<space, Relax> net(stack);
  net->to(device);
  if (channels_last) nas::use_channels_last(*net);
  Strategy s(net);
  const auto t = batch(device, 1), v = batch(device, 2);
  (void)s.step(t, v);
  (void)s.step(t, v);
  std::vector<torch::Tensor> out;
  for (const auto& a : net->arch_parameters()) out.push_back(a.detach().cpu().clone());
  return out;
}
}  // namespace

TEST_SUITE("cuda") {
  TEST_CASE("cuda: frozen, recomputed and output-keeping fast paths give LibTorch's gradients") {
    if (no_gpu()) return;
    deterministic();
    const torch::Device cuda(torch::kCUDA);
    torch::manual_seed(0);
    torch::nn::Conv2d dw(
        torch::nn::Conv2dOptions(8, 8, 3).padding(2).dilation(2).groups(8).bias(false));
    torch::nn::Conv2d pw(torch::nn::Conv2dOptions(8, 8, 1).bias(false));
    torch::nn::BatchNorm2d bn(torch::nn::BatchNorm2dOptions(8).affine(false)),
        bn_ref(torch::nn::BatchNorm2dOptions(8).affine(false));
    dw->to(cuda);
    pw->to(cuda);
    bn->to(cuda);
    bn_ref->to(cuda);
    const auto x = torch::randn({4, 8, 10, 10}, torch::device(cuda).requires_grad(true));
    const auto expected = bn_ref(pw(dw(x)));
    const auto g = torch::randn_like(expected);
    const auto want = torch::autograd::grad({expected}, {x, dw->weight, pw->weight}, {g});
    const auto y = nas::ops::batch_norm(bn, nas::ops::conv_pair(dw, pw, x));
    const auto got = torch::autograd::grad({y}, {x, dw->weight, pw->weight}, {g});
    for (std::size_t i = 0; i < 3; ++i) CHECK(relative(got[i], want[i]) < 1e-4);
    // frozen weights
    for (auto& p : dw->parameters()) p.requires_grad_(false);
    for (auto& p : pw->parameters()) p.requires_grad_(false);
    const auto frozen = nas::ops::conv(pw, nas::ops::conv(dw, x));
    CHECK(frozen.grad_fn()->name() == "nas::ops::FrozenConvBackward");
    const auto plain = pw(dw(x));
    const auto g2 = torch::randn_like(plain);
    CHECK(relative(torch::autograd::grad({frozen}, {x}, {g2})[0],
                   torch::autograd::grad({plain}, {x}, {g2})[0]) < 1e-4);
  }

  TEST_CASE("cuda: DARTS and GDAS steps repeat bitwise from the same seed") {
    if (no_gpu()) return;
    deterministic();
    const torch::Device cuda(torch::kCUDA);
    for (const bool channels_last : {false, true}) {
      CAPTURE(channels_last);
      const auto a = two_steps<nas::Darts<space>, nas::relax::Softmax>(cuda, channels_last);
      const auto b = two_steps<nas::Darts<space>, nas::relax::Softmax>(cuda, channels_last);
      for (std::size_t i = 0; i < a.size(); ++i) CHECK(torch::equal(a[i], b[i]));
      const auto c = two_steps<nas::Gdas<space>, nas::relax::Gumbel>(cuda, channels_last);
      const auto d = two_steps<nas::Gdas<space>, nas::relax::Gumbel>(cuda, channels_last);
      for (std::size_t i = 0; i < c.size(); ++i) CHECK(torch::equal(c[i], d[i]));
    }
  }

  TEST_CASE("cuda: a DARTS architecture gradient on CUDA agrees with the CPU's") {
    if (no_gpu()) return;
    deterministic();
    torch::globalContext().setAllowTF32CuDNN(false);  // full float32 convolutions
    const auto gradient = [](torch::Device device) {
      torch::manual_seed(0);
      nas::Supernet<space, nas::relax::Softmax> net(stack);
      net->to(device);
      nas::Darts darts(net, {.order = 1});
      const auto v = batch(device, 2);
      return darts.architecture_gradient(batch(device, 1), v);
    };
    const auto cpu = gradient(torch::kCPU);
    const auto gpu = gradient(torch::kCUDA);
    REQUIRE(cpu.size() == gpu.size());
    // float sums in other orders (cuDNN; TF32 off below): a wrong gradient is off by order 1
    for (std::size_t i = 0; i < cpu.size(); ++i) CHECK(relative(gpu[i], cpu[i]) < 2e-2);
  }
}
