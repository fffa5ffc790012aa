// DARTS-family operations, cells and networks: shapes, laws, and the published parameter counts.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <type_traits>

#include <nas/core.hpp>
#include <nas/nn/darts_cell.hpp>
#include <nas/nn/network.hpp>
#include <nas/ops/mobile.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/testing/operation_laws.hpp>

namespace {

template <class M>
M make(std::int64_t in, std::int64_t out, std::int64_t stride, bool affine = true) {
  return nas::operation_traits<M>::make(nas::OpArgs{in, out, stride, affine});
}

}  // namespace

TEST_CASE_TEMPLATE("DARTS ops: the operation laws hold at stride 1 and 2, affine on and off", M,
                   nas::ops::Zero, nas::ops::SkipConnect, nas::ops::MaxPool3x3,
                   nas::ops::AvgPool3x3, nas::ops::SepConv<3>, nas::ops::SepConv<5>,
                   nas::ops::SepConv<7>, nas::ops::DilConv<3>, nas::ops::DilConv<5>,
                   nas::ops::Conv7x1_1x7) {
  static_assert(nas::operation<M>);
  static_assert(nas::counts_multiply_adds<M>);
  for (const auto& broken : nas::check_operation_laws<M>()) FAIL_CHECK(broken);
}

TEST_CASE("DARTS ops: each is built as DARTS's reference code builds it") {
  // parameter counts at C = 16: conv weights only (no bias) plus BatchNorm affine
  CHECK(nas::parameter_count(*make<nas::ops::SepConv<3>>(16, 16, 1)) ==
        2 * (16 * 9 + 16 * 16 + 2 * 16));
  CHECK(nas::parameter_count(*make<nas::ops::DilConv<5>>(16, 16, 2)) == 16 * 25 + 16 * 16 + 2 * 16);
  CHECK(nas::parameter_count(*make<nas::ops::SkipConnect>(16, 16, 1)) == 0);
  CHECK(nas::parameter_count(*make<nas::ops::SkipConnect>(16, 16, 2)) == 2 * (16 * 8) + 2 * 16);
  CHECK(nas::parameter_count(*make<nas::ops::Conv7x1_1x7>(16, 16, 1)) == 2 * 16 * 16 * 7 + 2 * 16);
  CHECK(nas::parameter_count(*make<nas::ops::SepConv<3>>(16, 16, 1, false)) ==
        2 * (16 * 9 + 16 * 16));
  // avg_pool_3x3 leaves padding out of the average: a constant input stays constant at the border
  const auto ones = torch::ones({1, 1, 4, 4});
  CHECK(torch::allclose(make<nas::ops::AvgPool3x3>(1, 1, 1)->forward(ones), ones));
  // none at stride 2 has the subsampled shape
  CHECK(make<nas::ops::Zero>(4, 4, 2)->forward(torch::ones({1, 4, 6, 6})).sizes() ==
        torch::IntArrayRef{1, 4, 3, 3});
}

TEST_CASE("DARTS ops: a wrong size is refused with the reason") {
  CHECK_THROWS_WITH(make<nas::ops::SkipConnect>(8, 16, 1),
                    doctest::Contains("needs as many output as input channels"));
  CHECK_THROWS_WITH(make<nas::ops::FactorizedReduce>(8, 7, 2),
                    doctest::Contains("even number of output channels"));
  CHECK_THROWS_WITH(make<nas::ops::SkipConnect>(8, 8, 2)->forward(torch::ones({1, 8, 5, 5})),
                    doctest::Contains("even height and width"));
}

TEST_CASE("Network: published genotypes have DARTS's published parameter counts") {
  // DARTS CIFAR skeleton: 20 cells, 36 channels, 10 classes, auxiliary head (not counted)
  const nas::Stack cifar{.layers = 20, .channels = 36, .classes = 10, .auxiliary = true};
  CHECK(nas::parameter_count(*nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, cifar)) ==
        3349342);
  CHECK(nas::parameter_count(*nas::Network<nas::spaces::darts>(nas::genotypes::darts_v1, cifar)) ==
        3169414);
  // PC-DARTS: the paper reports 3.6M
  CHECK(nas::parameter_count(*nas::Network<nas::spaces::darts>(nas::genotypes::pc_darts, cifar)) ==
        3634678);
  CHECK(nas::parameter_count(
            *nas::Network<nas::spaces::nasnet>(nas::genotypes::amoebanet_a, cifar)) == 3145078);
  CHECK(nas::parameter_count(*nas::Network<nas::spaces::nasnet>(nas::genotypes::nasnet_a, cifar)) ==
        3830950);
  // DARTS ImageNet (mobile) skeleton: 14 cells, 48 channels, 1000 classes
  const nas::Stack imagenet{.layers = 14,
                            .channels = 48,
                            .classes = 1000,
                            .auxiliary = true,
                            .skeleton = nas::Skeleton::darts_imagenet};
  CHECK(nas::parameter_count(
            *nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, imagenet)) == 4718752);
}

TEST_CASE("Network: one line from a small proxy to the final network; forward shapes") {
  torch::manual_seed(0);
  nas::Network<nas::spaces::darts> proxy(nas::genotypes::darts_v2,
                                         nas::Stack{.layers = 5, .channels = 8, .auxiliary = true});
  proxy->train();
  const auto [logits, auxiliary] = proxy->forward_with_auxiliary(torch::randn({2, 3, 32, 32}));
  CHECK(logits.sizes() == torch::IntArrayRef{2, 10});
  CHECK(auxiliary.sizes() == torch::IntArrayRef{2, 10});
  proxy->eval();
  const auto [eval_logits, eval_auxiliary] =
      proxy->forward_with_auxiliary(torch::randn({2, 3, 32, 32}));
  CHECK(eval_logits.sizes() == torch::IntArrayRef{2, 10});
  CHECK_FALSE(eval_auxiliary.defined());
  // AmoebaNet-A concatenates 3 of 5 nodes, NASNet-A takes one input twice
  nas::Network<nas::spaces::nasnet> amoeba(nas::genotypes::amoebanet_a,
                                           nas::Stack{.layers = 3, .channels = 4});
  CHECK(amoeba->forward(torch::randn({1, 3, 16, 16})).sizes() == torch::IntArrayRef{1, 10});
  nas::Network<nas::spaces::nasnet> nasnet(nas::genotypes::nasnet_a,
                                           nas::Stack{.layers = 3, .channels = 4, .classes = 5});
  CHECK(nasnet->forward(torch::randn({1, 3, 16, 16})).sizes() == torch::IntArrayRef{1, 5});
}

TEST_CASE("Network: module names are stable and readable") {
  nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2,
                                       nas::Stack{.layers = 3, .channels = 4});
  const auto params = net->named_parameters();
  CHECK(params.contains("cells.0.edge_0_2_sep_conv_3x3.depthwise_1.weight"));
  CHECK(params.contains("cells.0.preprocess0.conv.weight"));
  CHECK(params.contains("cells.1.edge_0_2_max_pool_3x3") == false);  // pools have no parameters
  CHECK(params.contains("cells.2.preprocess0.conv_1.weight"));       // after a reduction cell
  CHECK(params.contains("classifier.weight"));
  nas::Network<nas::spaces::nasnet> nasnet(nas::genotypes::nasnet_a,
                                           nas::Stack{.layers = 3, .channels = 4});
  const auto names = nasnet->named_parameters();
  CHECK(names.contains("cells.0.edge_0_3_sep_conv_3x3.bn_2.weight"));
  CHECK(names.contains("cells.0.edge_0_3_sep_conv_5x5.bn_2.weight"));
}

TEST_CASE("Network: a wrong input or size says what was expected") {
  nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2,
                                       nas::Stack{.layers = 3, .channels = 4});
  CHECK_THROWS_WITH(net->forward(torch::randn({1, 1, 32, 32})),
                    doctest::Contains("expects images [N, 3, H, W]"));
  CHECK_THROWS_WITH(
      nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, nas::Stack{.layers = 2}),
      doctest::Contains("at least 3 layers"));
  CHECK_THROWS_WITH(
      nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, nas::Stack{.channels = 7}),
      doctest::Contains("even channel count"));
  CHECK_THROWS_WITH(
      nas::Network<nas::spaces::darts>(nas::Genotype<nas::spaces::darts>{}, nas::Stack{}),
      doctest::Contains("invalid genotype"));
}

TEST_CASE("Network: the same seed gives the same network and the same output") {
  auto run = [] {
    torch::manual_seed(7);
    nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v1,
                                         nas::Stack{.layers = 3, .channels = 4});
    net->eval();
    torch::NoGradGuard no_grad;
    return net->forward(torch::ones({1, 3, 8, 8}));
  };
  CHECK(torch::equal(run(), run()));
}

TEST_CASE("Network: multiply-adds as the papers count them (convolutions and linear layers)") {
  const nas::Stack cifar{.layers = 20, .channels = 36, .classes = 10, .auxiliary = true};
  const nas::Stack imagenet{.layers = 14,
                            .channels = 48,
                            .classes = 1000,
                            .auxiliary = true,
                            .skeleton = nas::Skeleton::darts_imagenet};
  // the published figures for DARTS V2
  CHECK(nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, cifar)->multiply_adds(32, 32) ==
        528359040);
  CHECK(nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, imagenet)
            ->multiply_adds(224, 224) == 529911552);
  // the others, as an independent eager-PyTorch count (forward hooks on Conv2d and Linear) gives
  CHECK(nas::Network<nas::spaces::darts>(nas::genotypes::darts_v1, cifar)->multiply_adds(32, 32) ==
        500987520);
  CHECK(nas::Network<nas::spaces::nasnet>(nas::genotypes::amoebanet_a, cifar)
            ->multiply_adds(32, 32) == 488931552);
  CHECK(nas::Network<nas::spaces::nasnet>(nas::genotypes::nasnet_a, cifar)->multiply_adds(32, 32) ==
        603452448);
  CHECK(nas::Network<nas::spaces::darts>(nas::genotypes::pc_darts, cifar)->multiply_adds(32, 32) ==
        556670592);
}

namespace {
// A user's op that does not count its multiply-adds.
struct UncountedImpl : torch::nn::Module {
  explicit UncountedImpl(const nas::OpArgs& args) : stride(args.stride) {}
  torch::Tensor forward(const torch::Tensor& x) {
    using torch::indexing::None;
    using torch::indexing::Slice;
    return x.index({Slice(), Slice(), Slice(None, None, stride), Slice(None, None, stride)});
  }
  std::int64_t stride;
};
TORCH_MODULE(Uncounted);
// A user's op that forgets the stride.
struct SloppyImpl : torch::nn::Module {
  explicit SloppyImpl(const nas::OpArgs& /*args*/) {}
  torch::Tensor forward(const torch::Tensor& x) { return x; }
};
TORCH_MODULE(Sloppy);
using user_ops = nas::OpSet<nas::Op<"conv", nas::ops::SepConv<3>>, nas::Op<"mine", Uncounted>>;
using user_space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, user_ops>,
                              nas::Cell<"reduce", nas::spaces::darts_cell, user_ops>>;
using sloppy_ops = nas::OpSet<nas::Op<"conv", nas::ops::SepConv<3>>, nas::Op<"sloppy", Sloppy>>;
using sloppy_space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, sloppy_ops>,
                                nas::Cell<"reduce", nas::spaces::darts_cell, sloppy_ops>>;
}  // namespace
template <>
struct nas::layout_of<user_space> : std::type_identity<nas::layouts::Darts> {};
template <>
struct nas::layout_of<sloppy_space> : std::type_identity<nas::layouts::Darts> {};

TEST_CASE(
    "Network: a user's op works in a network; one that does not count multiply-adds says so") {
  static_assert(nas::operation<Uncounted>);
  static_assert(!nas::counts_multiply_adds<Uncounted>);
  static_assert(nas::counts_multiply_adds<nas::ops::SepConv<3>>);
  nas::Rng rng(0);
  nas::Genotype<user_space> g;
  do g = nas::sample<user_space>(rng);
  while (g.cell<"normal">().op(1, 2) != user_ops::index_of<"mine">);
  nas::Network<user_space> net(g, nas::Stack{.layers = 3, .channels = 4});
  CHECK(net->forward(torch::zeros({1, 3, 8, 8})).sizes() == torch::IntArrayRef{1, 10});
  CHECK_THROWS_WITH((void)net->multiply_adds(8, 8),
                    doctest::Contains("op 'mine' does not count its multiply-adds"));
}

TEST_CASE("Network: an op that returns the wrong shape is named, with what the node needs") {
  nas::Genotype<sloppy_space> g;
  g.for_each_cell([](auto& cell) {
    cell.set(0, 2, "conv").set(1, 2, "sloppy").set(0, 3, "conv").set(1, 3, "conv");
    cell.set(0, 4, "conv").set(1, 4, "conv").set(0, 5, "conv").set(1, 5, "conv");
  });
  nas::Network<sloppy_space> net(g, nas::Stack{.layers = 3, .channels = 4});
  CHECK_THROWS_WITH(net->forward(torch::zeros({1, 3, 8, 8})),
                    doctest::Contains("op 'sloppy' on edge (1 -> 2) of a 'reduce' cell returned "
                                      "shape [1, 8, 8, 8]; the node needs 8 channels"));
}

TEST_CASE("NAS-Bench-201 network: published parameter count, shapes, multiply-adds") {
  const auto g = nas::parse_nb201<nas::spaces::nb201>(
      "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_"
      "3x3~"
      "2|");
  const nas::Stack stack{
      .layers = 5, .channels = 16, .classes = 10, .skeleton = nas::Skeleton::nb201};
  nas::Network<nas::spaces::nb201> net(g, stack);
  CHECK(nas::parameter_count(*net) == 1531546);
  CHECK(net->forward(torch::randn({2, 3, 32, 32})).sizes() == torch::IntArrayRef{2, 10});
  // as an independent eager-PyTorch count (forward hooks on Conv2d and Linear) gives
  CHECK(net->multiply_adds(32, 32) == 220119680);
  // the same genotype at another size, and every op of the space in one cell
  const auto mixed = nas::parse_nb201<nas::spaces::nb201>(
      "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|nor_conv_3x3~1|skip_connect~2|");
  nas::Network<nas::spaces::nb201> small(
      mixed, nas::Stack{.layers = 1, .channels = 4, .skeleton = nas::Skeleton::nb201});
  CHECK(small->forward(torch::randn({1, 3, 16, 16})).sizes() == torch::IntArrayRef{1, 10});
  CHECK(net->named_parameters().contains("cells.0.edge_0_1_nor_conv_3x3.op.conv.weight"));
  CHECK(net->named_parameters().contains("cells.5.conv_a.conv.weight"));  // the reduction block
  CHECK_THROWS_WITH(nas::Network<nas::spaces::nb201>(g, nas::Stack{}),
                    doctest::Contains("Skeleton::nb201"));
  CHECK_THROWS_WITH(net->forward(torch::randn({1, 3, 30, 30})),
                    doctest::Contains("divisible by 4"));
}

TEST_CASE_TEMPLATE("NAS-Bench-201 ops: the operation laws hold, also when the channels change", M,
                   nas::ops::Nb201Skip, nas::ops::NorConv<1>, nas::ops::NorConv<3>,
                   nas::ops::Nb201AvgPool, nas::ops::ResNetBasicBlock) {
  static_assert(nas::operation<M>);
  static_assert(nas::counts_multiply_adds<M>);
  for (const auto& broken : nas::check_operation_laws<M>({.check_channel_change = true}))
    FAIL_CHECK(broken);
}

namespace {
// An op that breaks two laws: it ignores the stride, and its clone forgets its weights.
struct BrokenImpl : torch::nn::Module {
  explicit BrokenImpl(const nas::OpArgs& a)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 1)))) {
  }
  torch::Tensor forward(const torch::Tensor& x) { return conv(x); }
  torch::nn::Conv2d conv;
};
TORCH_MODULE(Broken);
}  // namespace

TEST_CASE("check_operation_laws: a broken op is reported, law by law") {
  const auto broken = nas::check_operation_laws<Broken>();
  REQUIRE_FALSE(broken.empty());
  bool shape = false;
  for (const auto& b : broken)
    shape =
        shape || b.find("output shape [2, 8, 8, 8], expected [2, 8, 4, 4]") != std::string::npos;
  CHECK(shape);
  bool clone = false;
  for (const auto& b : broken) clone = clone || b.find("clone()") != std::string::npos;
  CHECK(clone);  // torch::nn::Module::clone() needs Cloneable
}

namespace {
using MBConv3E1 = nas::ops::MBConv<3, 1>;
using MBConv3E6 = nas::ops::MBConv<3, 6>;
using MBConv5E3SE = nas::ops::MBConv<5, 3, true>;
using MBConv7E6SE = nas::ops::MBConv<7, 6, true>;
}  // namespace

TEST_CASE_TEMPLATE("Mobile ops: the operation laws hold, also when the channels change", M,
                   nas::ops::Skip, MBConv3E1, MBConv3E6, MBConv5E3SE, MBConv7E6SE) {
  static_assert(nas::operation<M>);
  static_assert(nas::counts_multiply_adds<M>);
  for (const auto& broken : nas::check_operation_laws<M>({.check_channel_change = true}))
    FAIL_CHECK(broken);
}

TEST_CASE("Mobile ops: MBConv is the inverted residual ProxylessNAS defines") {
  // 3x3_MBConv6 at 16 channels: expand 16->96, depthwise 3x3, project 96->16, three BNs
  nas::ops::MBConv<3, 6> mb(nas::OpArgs{16, 16, 1, true});
  CHECK(nas::parameter_count(*mb) == 16 * 96 + 96 * 9 + 96 * 16 + 2 * (96 + 96 + 16));
  CHECK(mb->residual());
  CHECK_FALSE(nas::ops::MBConv<3, 6>(nas::OpArgs{16, 24, 1, true})->residual());
  CHECK(mb->multiply_adds(8, 8) == 64 * (16 * 96 + 96 * 9 + 96 * 16));
  // squeeze-excite adds two 1x1 convolutions with bias around a quarter of the channels
  nas::ops::MBConv<3, 6, true> se(nas::OpArgs{16, 16, 1, true});
  CHECK(nas::parameter_count(*se) == nas::parameter_count(*mb) + (96 * 24 + 24) + (24 * 96 + 96));
  static_assert(nas::ops::proxyless_ops::size == 7);
  static_assert(nas::ops::proxyless_ops::index_of<"zero"> == 6);
  static_assert(nas::ops::proxyless_ops::zero_count == 1);
}

TEST_CASE("Network: images of a size the skeleton cannot halve are refused with the reason") {
  nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2,
                                       nas::Stack{.layers = 3, .channels = 4, .auxiliary = true});
  net->eval();
  CHECK_THROWS_WITH(net->forward(torch::zeros({1, 3, 30, 30})),
                    doctest::Contains("needs a height and width divisible by 4"));
  net->train();
  CHECK_THROWS_WITH(net->forward(torch::zeros({2, 3, 16, 16})),
                    doctest::Contains("needs, in training, images of at least 32x32"));
  CHECK(net->forward(torch::zeros({2, 3, 32, 32})).sizes() == torch::IntArrayRef{2, 10});
}

TEST_CASE("Network: drop path follows DARTS's linear schedule and acts only in training") {
  torch::manual_seed(0);
  nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2,
                                       nas::Stack{.layers = 3, .channels = 4, .drop_path = 0.2});
  CHECK(net->drop_path() == 0.0);
  net->set_epoch(50, 100);
  CHECK(net->drop_path() == doctest::Approx(0.1));
  net->set_epoch(100, 100);
  CHECK(net->drop_path() == doctest::Approx(0.2));
  CHECK_THROWS_WITH(net->set_epoch(101, 100), doctest::Contains("0 <= epoch <= epochs"));
  const auto x = torch::randn({4, 3, 8, 8});
  net->eval();
  torch::NoGradGuard no_grad;
  const auto a = net->forward(x);
  CHECK(torch::equal(a, net->forward(x)));  // eval: no drop path
  net->train();
  net->set_drop_path(0.9);
  torch::manual_seed(1);
  const auto b = net->forward(x);
  torch::manual_seed(2);
  CHECK_FALSE(torch::equal(b, net->forward(x)));  // training: a different path is dropped
}

namespace {
// A user's own skeleton: a stem, two DARTS cells and a head, composed from nas's cell module.
struct MySkeletonImpl : torch::nn::Module {
  using normal = nas::spaces::darts::cell<"normal">;
  explicit MySkeletonImpl(const nas::CellGenotype<normal>& g)
      : stem(register_module("stem",
                             torch::nn::Conv2d(torch::nn::Conv2dOptions(3, 12, 3).padding(1)))),
        cell_1(register_module(
            "cell_1",
            nas::DartsCell<normal>(g, nas::CellSizes{.prev_prev = 12, .prev = 12, .channels = 4}))),
        cell_2(register_module(
            "cell_2",
            nas::DartsCell<normal>(g, nas::CellSizes{.prev_prev = 12, .prev = 16, .channels = 4}))),
        head(register_module("head", torch::nn::Linear(16, 10))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    const auto s = stem(x);
    const auto a = cell_1(s, s);
    const auto b = cell_2(s, a);
    return head(torch::adaptive_avg_pool2d(b, {1, 1}).flatten(1));
  }
  torch::nn::Conv2d stem;
  nas::DartsCell<normal> cell_1, cell_2;
  torch::nn::Linear head;
};
TORCH_MODULE(MySkeleton);
}  // namespace

TEST_CASE("Cells: a user stacks nas's cells on a skeleton of their own") {
  MySkeleton net(nas::genotypes::darts_v2.cell<"normal">());
  CHECK(net->forward(torch::randn({2, 3, 8, 8})).sizes() == torch::IntArrayRef{2, 10});
  CHECK(net->named_parameters().contains("cell_1.edge_0_2_sep_conv_3x3.depthwise_1.weight"));
  CHECK(net->cell_1->out_channels() == 16);
}

TEST_CASE("cost: parameters and multiply-adds of a genotype at a stack, in one call") {
  const auto c = nas::cost(nas::genotypes::darts_v2,
                           nas::Stack{.layers = 20, .channels = 36, .auxiliary = true}, 32, 32);
  CHECK(c == nas::Cost{3349342, 528359040});
  // the proxy costs a small fraction of the final network
  const auto proxy =
      nas::cost(nas::genotypes::darts_v2, nas::Stack{.layers = 8, .channels = 16}, 32, 32);
  CHECK(proxy.parameters * 10 < c.parameters);
  CHECK(proxy.multiply_adds * 5 < c.multiply_adds);
}

TEST_CASE("Network: the ImageNet skeleton maps 224x224 images to 1000 logits") {
  nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2,
                                       nas::Stack{.layers = 3,
                                                  .channels = 8,
                                                  .classes = 1000,
                                                  .auxiliary = true,
                                                  .skeleton = nas::Skeleton::darts_imagenet});
  net->train();
  const auto [logits, auxiliary] = net->forward_with_auxiliary(torch::randn({2, 3, 224, 224}));
  CHECK(logits.sizes() == torch::IntArrayRef{2, 1000});
  CHECK(auxiliary.sizes() == torch::IntArrayRef{2, 1000});
  CHECK_THROWS_WITH(net->forward(torch::randn({1, 3, 200, 200})),
                    doctest::Contains("divisible by 32"));
}

namespace {
// A third-party module that cannot be changed: built from (in, out, stride), runs with run().
struct TheirConvImpl : torch::nn::Cloneable<TheirConvImpl> {
  TheirConvImpl(std::int64_t in, std::int64_t out, std::int64_t stride)
      : in_(in), out_(out), stride_(stride) {
    reset();
  }
  void reset() override {
    conv = register_module(
        "conv",
        torch::nn::Conv2d(torch::nn::Conv2dOptions(in_, out_, 3).stride(stride_).padding(1)));
  }
  torch::Tensor run(const torch::Tensor& x) { return conv(x); }
  std::int64_t in_, out_, stride_;
  torch::nn::Conv2d conv{nullptr};
};
TORCH_MODULE(TheirConv);
}  // namespace

template <>
inline constexpr bool nas::enable_operation<TheirConv> = true;
template <>
struct nas::operation_traits<TheirConv> {
  static TheirConv make(const nas::OpArgs& a) { return TheirConv(a.in, a.out, a.stride); }
  static torch::Tensor forward(TheirConv& m, const torch::Tensor& x) { return m->run(x); }
  static std::shared_ptr<torch::nn::Module> module(TheirConv& m) { return m.ptr(); }
};
using their_ops = nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"their_conv", TheirConv>>;
using their_space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, their_ops>,
                               nas::Cell<"reduce", nas::spaces::darts_cell, their_ops>>;
template <>
struct nas::layout_of<their_space> : std::type_identity<nas::layouts::Darts> {};

TEST_CASE("operation_traits: a third-party module is adapted without changing it") {
  static_assert(nas::operation<TheirConv>);
  for (const auto& broken : nas::check_operation_laws<TheirConv>({.check_channel_change = true}))
    FAIL_CHECK(broken);
  using ops = their_ops;
  nas::BuiltOp built = nas::make_op<ops>(1, nas::OpArgs{4, 4, 2, true});
  CHECK(built.module.forward(torch::zeros({1, 4, 8, 8})).sizes() == torch::IntArrayRef{1, 4, 4, 4});
  CHECK_THROWS_WITH(built.multiply_adds(8, 8),
                    doctest::Contains("op 'their_conv' does not count its multiply-adds"));
  // and in a network, where it is registered under the edge's name with an `op` level
  using space = their_space;
  nas::Genotype<space> g;
  g.for_each_cell([](auto& cell) {
    for (std::size_t node = 2; node < 6; ++node)
      cell.set(0, node, "their_conv").set(1, node, "their_conv");
  });
  nas::Network<space> net(g, nas::Stack{.layers = 3, .channels = 4});
  CHECK(net->forward(torch::zeros({1, 3, 8, 8})).sizes() == torch::IntArrayRef{1, 10});
  CHECK(net->named_parameters().contains("cells.0.edge_0_2_their_conv.op.conv.weight"));
}

TEST_CASE("Network: clone() gives an independent copy that computes the same") {
  torch::manual_seed(0);
  nas::Network<nas::spaces::darts> net(nas::genotypes::darts_v2,
                                       nas::Stack{.layers = 3, .channels = 4});
  net->eval();
  auto copy = std::dynamic_pointer_cast<nas::NetworkImpl<nas::spaces::darts>>(net->clone());
  REQUIRE(copy != nullptr);
  copy->eval();
  torch::NoGradGuard no_grad;
  const auto x = torch::randn({2, 3, 8, 8});
  CHECK(torch::equal(copy->forward(x), net->forward(x)));
  CHECK(copy->multiply_adds(8, 8) == net->multiply_adds(8, 8));
  // independent: changing the copy's weights leaves the original alone
  for (auto& p : copy->parameters()) p.add_(1.0);
  CHECK_FALSE(torch::equal(copy->forward(x), net->forward(x)));
  nas::Network<nas::spaces::nb201> nb(
      nas::parse_nb201<nas::spaces::nb201>("|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_"
                                           "pool_3x3~0|none~1|nor_conv_3x3~2|"),
      nas::Stack{.layers = 1, .channels = 4, .skeleton = nas::Skeleton::nb201});
  nb->eval();
  auto nb_copy = std::dynamic_pointer_cast<nas::NetworkImpl<nas::spaces::nb201>>(nb->clone());
  REQUIRE(nb_copy != nullptr);
  nb_copy->eval();
  CHECK(torch::equal(nb_copy->forward(x), nb->forward(x)));
}
