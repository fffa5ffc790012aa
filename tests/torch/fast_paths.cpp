// The speed-ups of docs/performance.md change no result beyond float rounding:
// nas::ops::conv with frozen weights (keeps only the weight for the backward pass), the one
// relu(x) a mixed edge shares between its ReLU-first ops, the frozen weights of DARTS's and
// GDAS's architecture steps, and nas::use_channels_last.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

#include <nas/nn/mixed_edge.hpp>
#include <nas/nn/supernet.hpp>
#include <nas/ops/conv.hpp>
#include <nas/ops/darts.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/strategy/darts.hpp>

namespace {

bool close(const torch::Tensor& a, const torch::Tensor& b, double tol = 1e-5) {
  return a.sizes() == b.sizes() && torch::allclose(a, b, tol, tol);
}

// The input gradient of conv(x) . g, with LibTorch's convolution and with nas::ops::conv.
struct ConvCase {
  std::int64_t kernel, stride, dilation, groups;
  bool bias, channels_last;
};

void check_frozen_conv(const ConvCase& c) {
  CAPTURE(c.kernel);
  CAPTURE(c.stride);
  CAPTURE(c.dilation);
  CAPTURE(c.groups);
  CAPTURE(c.channels_last);
  torch::manual_seed(3);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(8, 8, c.kernel)
                             .stride(c.stride)
                             .padding(c.dilation * (c.kernel - 1) / 2)
                             .dilation(c.dilation)
                             .groups(c.groups)
                             .bias(c.bias));
  if (c.channels_last) nas::use_channels_last(*conv);
  auto x = torch::randn({3, 8, 9, 9});
  if (c.channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
  x.requires_grad_(true);
  const auto expected_y = conv(x);
  const auto g = torch::randn_like(expected_y);
  const auto expected = torch::autograd::grad({expected_y}, {x}, {g})[0];

  for (auto& p : conv->parameters()) p.requires_grad_(false);
  const auto y = nas::ops::conv(conv, x);
  REQUIRE(y.grad_fn() != nullptr);
  CHECK(y.grad_fn()->name() == "nas::ops::FrozenConvBackward");
  CHECK(close(y, expected_y));
  CHECK(close(torch::autograd::grad({y}, {x}, {g})[0], expected));
}

}  // namespace

TEST_CASE("ops::conv with frozen weights: same value, same input gradient") {
  for (const bool channels_last : {false, true}) {
    check_frozen_conv({3, 1, 1, 8, false, channels_last});  // depthwise
    check_frozen_conv({5, 2, 1, 8, false, channels_last});  // depthwise, stride 2 (odd input)
    check_frozen_conv({3, 1, 2, 8, false, channels_last});  // dilated
    check_frozen_conv({1, 1, 1, 1, true, channels_last});   // pointwise with a bias
    check_frozen_conv({1, 2, 1, 1, false, channels_last});  // FactorizedReduce's halves
  }
}

TEST_CASE(
    "ops::conv is LibTorch's convolution when the weights learn or nothing needs a gradient") {
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 4, 3).padding(1));
  const auto x = torch::randn({2, 4, 5, 5}, torch::requires_grad());
  const auto y = nas::ops::conv(conv, x);
  REQUIRE(y.grad_fn() != nullptr);
  CHECK(y.grad_fn()->name() != "nas::ops::FrozenConvBackward");
  torch::autograd::grad({y.sum()}, {conv->weight});  // the weight gradient is there
  const auto plain = nas::ops::conv(conv, x.detach());
  CHECK(plain.grad_fn()->name() != "nas::ops::FrozenConvBackward");
}

TEST_CASE("ops::conv: a frozen weight changed in place before the backward pass is an error") {
  torch::manual_seed(0);
  torch::nn::Conv2d conv(torch::nn::Conv2dOptions(4, 4, 3).padding(1).bias(false));
  conv->weight.requires_grad_(false);
  const auto x = torch::randn({2, 4, 5, 5}, torch::requires_grad());
  const auto y = nas::ops::conv(conv, x);
  {
    torch::NoGradGuard no_grad;
    conv->weight.add_(1.0);
  }
  CHECK_THROWS_WITH(torch::autograd::grad({y.sum()}, {x}),
                    doctest::Contains("modified by an inplace operation"));
}

TEST_CASE("MixedEdge: one shared relu(x) gives the sum of the ops' own outputs and gradients") {
  using Ops = nas::ops::darts_ops;
  for (const std::int64_t stride : {1, 2}) {
    CAPTURE(stride);
    torch::manual_seed(1);
    nas::MixedEdge<Ops> edge(nas::OpArgs{.in = 6, .out = 6, .stride = stride, .affine = false});
    const auto x = torch::randn({2, 6, 8, 8}, torch::requires_grad());
    const auto alpha = torch::randn({1, Ops::size}, torch::requires_grad());
    const nas::EdgeMix mix{.weights = torch::softmax(alpha, -1), .active = {}};
    const auto y = edge->forward(x, mix, 0);
    // each op on its own, through its own forward (its own ReLU)
    torch::Tensor expected;
    for (std::size_t k = 0; k < Ops::size; ++k) {
      if (Ops::is_zero[k]) continue;
      const auto term = edge->run(k, x) * mix.weights[0][static_cast<std::int64_t>(k)];
      expected = expected.defined() ? expected + term : term;
    }
    CHECK(close(y, expected));
    const auto g = torch::randn_like(y);
    const auto got = torch::autograd::grad({y}, {x, alpha}, {g}, /*retain_graph=*/true);
    const auto want = torch::autograd::grad({expected}, {x, alpha}, {g});
    CHECK(close(got[0], want[0]));
    CHECK(close(got[1], want[1]));
  }
}

TEST_CASE("DARTS: the architecture gradient with frozen weights is the full backward's") {
  using space = nas::spaces::darts;
  const nas::Stack stack{.layers = 3, .channels = 4, .classes = 3, .input_channels = 1};
  for (const bool channels_last : {false, true}) {
    CAPTURE(channels_last);
    torch::manual_seed(0);
    nas::Supernet<space, nas::relax::Softmax> net(stack);
    if (channels_last) nas::use_channels_last(*net);
    nas::Darts darts(net, {.order = 1});
    const nas::Batch train{torch::randn({4, 1, 8, 8}), torch::randint(0, 3, {4}, torch::kLong)};
    const nas::Batch valid{torch::randn({4, 1, 8, 8}), torch::randint(0, 3, {4}, torch::kLong)};
    const auto fast = darts.architecture_gradient(train, valid);
    // the same gradient through LibTorch's own convolutions (weights require gradients)
    const auto alphas = net->arch_parameters();
    const auto l = torch::nn::functional::cross_entropy(net->forward(valid.data), valid.target);
    const auto full = torch::autograd::grad({l}, alphas);
    REQUIRE(fast.size() == full.size());
    for (std::size_t i = 0; i < full.size(); ++i) CHECK(close(fast[i], full[i], 1e-4));
    // the weights learn again after the step
    for (const auto& p : net->weight_parameters()) CHECK(p.requires_grad());
  }
}

TEST_CASE("use_channels_last: same outputs as NCHW, channels_last all the way through") {
  using space = nas::spaces::darts;
  const nas::Stack stack{.layers = 3, .channels = 4, .classes = 3, .input_channels = 1};
  torch::manual_seed(0);
  nas::Supernet<space, nas::relax::Softmax> a(stack);
  torch::manual_seed(0);
  nas::Supernet<space, nas::relax::Softmax> b(stack);
  nas::use_channels_last(*b);
  for (const auto& p : b->parameters())
    if (p.dim() == 4) CHECK(p.is_contiguous(torch::MemoryFormat::ChannelsLast));
  const auto x = torch::randn({4, 1, 8, 8});
  CHECK(close(a->forward(x), b->forward(x), 1e-4));
}

TEST_CASE("ops::conv_pair: the depthwise output recomputed in the backward pass, same gradients") {
  for (const bool channels_last : {false, true}) {
    CAPTURE(channels_last);
    torch::manual_seed(2);
    torch::nn::Conv2d dw(
        torch::nn::Conv2dOptions(6, 6, 5).stride(2).padding(2).groups(6).bias(false));
    torch::nn::Conv2d pw(torch::nn::Conv2dOptions(6, 8, 1).bias(false));
    if (channels_last) {
      nas::use_channels_last(*dw);
      nas::use_channels_last(*pw);
    }
    auto x = torch::randn({3, 6, 9, 9});
    if (channels_last) x = x.contiguous(torch::MemoryFormat::ChannelsLast);
    x.requires_grad_(true);
    const auto expected = pw(dw(x));
    const auto g = torch::randn_like(expected);
    const auto want = torch::autograd::grad({expected}, {x, dw->weight, pw->weight}, {g});
    const auto y = nas::ops::conv_pair(dw, pw, x);
    REQUIRE(y.grad_fn() != nullptr);
    CHECK(y.grad_fn()->name() == "nas::ops::RecomputedPairBackward");
    CHECK(close(y, expected));
    const auto got = torch::autograd::grad({y}, {x, dw->weight, pw->weight}, {g});
    for (std::size_t i = 0; i < 3; ++i) CHECK(close(got[i], want[i], 1e-4));
    // only the weights learn (an input that needs no gradient): the weight gradients still come
    const auto y2 = nas::ops::conv_pair(dw, pw, x.detach());
    const auto only_weights = torch::autograd::grad({y2}, {dw->weight, pw->weight}, {g});
    CHECK(close(only_weights[0], want[1], 1e-4));
    CHECK(close(only_weights[1], want[2], 1e-4));
  }
}

TEST_CASE("ops::batch_norm without affine parameters: same output, gradient and statistics") {
  for (const bool track : {true, false}) {
    CAPTURE(track);
    const auto options = torch::nn::BatchNorm2dOptions(5).affine(false).track_running_stats(track);
    torch::nn::BatchNorm2d a(options), b(options);
    torch::manual_seed(4);
    const auto z = (torch::randn({4, 5, 6, 6}) * 3 + 1).requires_grad_(true);
    const auto expected = a(z);
    const auto y = nas::ops::batch_norm(b, z);
    REQUIRE(y.grad_fn() != nullptr);
    CHECK(y.grad_fn()->name() == "nas::ops::OutputBatchNormBackward");
    CHECK(torch::equal(y, expected));  // the same kernel computes the forward pass
    const auto g = torch::randn_like(y);
    CHECK(close(torch::autograd::grad({y}, {z}, {g})[0],
                torch::autograd::grad({expected}, {z}, {g})[0], 1e-5));
    if (track) {
      CHECK(torch::equal(a->running_mean, b->running_mean));
      CHECK(torch::equal(a->running_var, b->running_var));
      CHECK(a->num_batches_tracked.item<std::int64_t>() ==
            b->num_batches_tracked.item<std::int64_t>());
    }
    // evaluation mode, or an affine batch norm: LibTorch's own
    b->eval();
    CHECK(nas::ops::batch_norm(b, z).grad_fn()->name() != "nas::ops::OutputBatchNormBackward");
  }
}
