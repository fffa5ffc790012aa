// The layer-wise mobile space: skeleton sizes, the discrete network, the supernet under
// each relaxation.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <vector>

#include <nas/core/random.hpp>
#include <nas/nn/network.hpp>
#include <nas/nn/supernet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/single_path.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/space/enumerate.hpp>
#include <nas/space/format.hpp>
#include <nas/spaces/mobile.hpp>
#include <nas/spaces/nb201.hpp>

namespace {
using mobile = nas::spaces::mobile;

nas::Genotype<mobile> uniform(std::size_t op) {
  nas::Genotype<mobile> g;
  for (std::size_t e = 0; e < mobile::edge_count; ++e) g.cell<"layers">().set(e, op);
  return g;
}
}  // namespace

TEST_CASE("Mobile space: ProxylessNAS's 21 layers, 7 candidates each") {
  static_assert(mobile::edge_count == 21 && mobile::decision_count == 21);
  static_assert(nas::ops::mobile_ops::size == 7 && nas::ops::mobile_ops::zero_count == 0);
  static_assert(nas::ops::mobile_ops::index_of<"skip"> == 6);
  // 7^21
  static_assert(mobile::architecture_count == std::uint64_t{558'545'864'083'284'007});
  static_assert(nas::layouts::Mobile::accepts<mobile>);
  static_assert(!nas::layouts::Mobile::accepts<nas::spaces::nb201>);
}

TEST_CASE("Mobile skeleton: ProxylessNAS's stage widths, strides and depths") {
  const auto l = nas::mobile_layout(21, nas::Stack{});
  CHECK(l.stem == 32);
  CHECK(l.first == 16);
  CHECK(l.head == 1280);
  REQUIRE(l.layers.size() == 21);
  const std::vector<std::int64_t> widths{24, 24, 24, 24, 40, 40,  40,  40,  80,  80, 80,
                                         80, 96, 96, 96, 96, 192, 192, 192, 192, 320};
  std::int64_t in = 16;
  for (std::size_t i = 0; i < 21; ++i) {
    CHECK(l.layers[i].in == in);
    CHECK(l.layers[i].out == widths[i]);
    const bool first_of_stride2_stage = i == 0 || i == 4 || i == 8 || i == 16;
    CHECK(l.layers[i].stride == (first_of_stride2_stage ? 2 : 1));
    in = widths[i];
  }
  // half width: ProxylessNAS's rounding to multiples of 8
  const auto h = nas::mobile_layout(11, nas::Stack{.channels = 8});
  CHECK(h.stem == 16);
  CHECK(h.first == 8);
  CHECK(h.layers.size() == 11);
  CHECK(h.layers.front().out == 16);  // 24 / 2 = 12 rounds up to 16
  CHECK(h.layers.back().out == 160);
  CHECK_THROWS_WITH_AS((void)nas::mobile_layout(5, nas::Stack{}),
                       doctest::Contains("at least 6 layers"), c10::Error);
}

TEST_CASE("Mobile network: parameter counts match an independent PyTorch build") {
  // Counts from a separate PyTorch (Python) construction of the same skeleton.
  torch::NoGradGuard no_grad;
  const nas::Stack imagenet{.channels = 16, .classes = 1000, .skeleton = nas::Skeleton::mobile};
  const auto mb6 = mobile::cell<"layers">::ops::index_of<"3x3_MBConv6">;
  CHECK(nas::parameter_count(*nas::Network<mobile>(uniform(mb6), imagenet)) == 4'684'776);
  CHECK(nas::parameter_count(*nas::Network<mobile>(uniform(6), imagenet)) == 1'788'584);
  const nas::Stack small{
      .channels = 8, .classes = 10, .input_channels = 1, .skeleton = nas::Skeleton::mobile};
  const auto mb3_7 = mobile::cell<"layers">::ops::index_of<"7x7_MBConv3">;
  nas::Network<mobile> net(uniform(mb3_7), small);
  CHECK(nas::parameter_count(*net) == 729'778);
  CHECK(net->forward(torch::randn({2, 1, 28, 28})).sizes() == torch::IntArrayRef{2, 10});
  CHECK(net->multiply_adds(28, 28) > 0);
  // a clone runs and has its own parameters
  auto copy = std::dynamic_pointer_cast<nas::NetworkImpl<mobile>>(net->clone());
  REQUIRE(copy != nullptr);
  net->eval();
  copy->eval();
  const auto x = torch::randn({1, 1, 28, 28});
  CHECK(torch::allclose(net->forward(x), copy->forward(x)));
  copy->skeleton().classifier->bias.add_(1.0);
  CHECK(!torch::allclose(net->forward(x), copy->forward(x)));
  // the wrong skeleton is named
  CHECK_THROWS_WITH_AS(nas::Network<mobile>(uniform(0), nas::Stack{}),
                       doctest::Contains("Skeleton::mobile"), c10::Error);
}

TEST_CASE("Mobile supernet: every relaxation, paths, costs") {
  torch::manual_seed(0);
  const nas::Stack small{
      .channels = 8, .classes = 10, .input_channels = 1, .skeleton = nas::Skeleton::mobile};
  const auto x = torch::randn({2, 1, 28, 28});
  nas::Supernet<mobile, nas::relax::Softmax> darts(small);
  CHECK(darts->alpha<"layers">().sizes() == torch::IntArrayRef{21, 7});
  CHECK(darts->forward(x).sizes() == torch::IntArrayRef{2, 10});
  CHECK(darts->parameter_free(0, 6));   // skip on a layer whose shape does not change
  CHECK(!darts->parameter_free(0, 0));  // an MBConv
  const auto counts = darts->op_parameter_counts();
  REQUIRE(counts.size() == 1);
  CHECK(counts[0].sizes() == torch::IntArrayRef{21, 7});
  CHECK(counts[0][1][6].item<double>() == 0.0);  // skip on layer 1
  CHECK(counts[0][0][6].item<double>() > 0.0);   // skip on layer 0 is a projection
  nas::Supernet<mobile, nas::relax::Gumbel> gdas(small);
  CHECK(gdas->forward(x).sizes() == torch::IntArrayRef{2, 10});
  nas::Supernet<mobile, nas::relax::SinglePath> path(small);
  nas::Rng rng(1);
  for (int i = 0; i < 3; ++i) {
    (void)path->sample_path(rng);
    CHECK(path->forward(x).sizes() == torch::IntArrayRef{2, 10});
  }
  // genotypes print in the NAS-Bench-201 form and read back
  const auto g = nas::sample<mobile>(rng);
  CHECK(nas::to_string(g).starts_with("|"));
  CHECK(nas::parse<mobile>(nas::to_string(g)) == g);
}
