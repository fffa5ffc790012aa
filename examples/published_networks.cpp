// published_networks: the published DARTS-family architectures, built by nas from the
// text of their genotypes, with their parameter counts on the published skeletons.
//
// This is the example of docs/networks.md; CI runs it and compares its output with
// published_networks.expected. Counting follows DARTS's code: the auxiliary head is
// built (it is part of training) but not counted; multiply-adds count convolutions and
// linear layers for one image.
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <type_traits>

#include <nas/nas.hpp>

// A user's own operation: any TORCH_MODULE built from nas::OpArgs whose forward maps a
// tensor to a tensor. Here: ReLU, a 3x3 convolution without bias, batch norm.
struct PlainConv3x3Impl : torch::nn::Module {
  explicit PlainConv3x3Impl(const nas::OpArgs& a)
      : conv(register_module(
            "conv",
            torch::nn::Conv2d(
                torch::nn::Conv2dOptions(a.in, a.out, 3).stride(a.stride).padding(1).bias(false)))),
        bn(register_module(
            "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(a.out).affine(a.affine)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return bn(conv(torch::relu(x))); }
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
};
TORCH_MODULE(PlainConv3x3);
static_assert(nas::operation<PlainConv3x3>);

// Put it in an op set next to built-in ops, and make a DARTS-style space of it.
using my_ops =
    nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"skip_connect", nas::ops::SkipConnect>,
               nas::Op<"conv_3x3", PlainConv3x3>, nas::Op<"sep_conv_3x3", nas::ops::SepConv<3>>>;
using my_space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, my_ops>,
                            nas::Cell<"reduce", nas::spaces::darts_cell, my_ops>>;
// Stacked as DARTS stacks its cells (the space declares its layout; nothing is guessed).
template <>
struct nas::layout_of<my_space> : std::type_identity<nas::layouts::Darts> {};

int main() {
  const nas::Stack cifar{.layers = 20, .channels = 36, .classes = 10, .auxiliary = true};
  const nas::Stack imagenet{.layers = 14,
                            .channels = 48,
                            .classes = 1000,
                            .auxiliary = true,
                            .skeleton = nas::Skeleton::darts_imagenet};
  auto count = [](const auto& net) { return static_cast<long long>(nas::parameter_count(*net)); };
  auto report = [&](const char* name, const auto& net, std::int64_t resolution) {
    std::printf("  %-16s %9lld parameters %11lld multiply-adds at %lldx%lld\n", name, count(net),
                static_cast<long long>(net->multiply_adds(resolution, resolution)),
                static_cast<long long>(resolution), static_cast<long long>(resolution));
  };

  std::printf("CIFAR-10 skeleton (20 cells, 36 channels):\n");
  report("DARTS V2", nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, cifar), 32);
  report("DARTS V1", nas::Network<nas::spaces::darts>(nas::genotypes::darts_v1, cifar), 32);
  report("PC-DARTS", nas::Network<nas::spaces::darts>(nas::genotypes::pc_darts, cifar), 32);
  report("NASNet-A", nas::Network<nas::spaces::nasnet>(nas::genotypes::nasnet_a, cifar), 32);
  report("AmoebaNet-A", nas::Network<nas::spaces::nasnet>(nas::genotypes::amoebanet_a, cifar), 32);
  std::printf("ImageNet mobile skeleton (14 cells, 48 channels):\n");
  report("DARTS V2", nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, imagenet), 224);

  std::printf("NAS-Bench-201 skeleton (5 cells per stage, 16 channels):\n");
  report(
      "all nor_conv_3x3",
      nas::Network<nas::spaces::nb201>(
          nas::parse_nb201<nas::spaces::nb201>("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+"
                                               "|nor_conv_3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"),
          nas::Stack{.layers = 5, .channels = 16, .skeleton = nas::Skeleton::nb201}),
      32);

  // The same genotype at proxy size: one line from the final network to the search-size one.
  const nas::Stack proxy{.layers = 5, .channels = 8};
  std::printf("DARTS V2 as a 5-cell, 8-channel proxy: %lld parameters\n",
              count(nas::Network<nas::spaces::darts>(nas::genotypes::darts_v2, proxy)));

  // A genotype of the user's own space, read from text, built and run.
  const auto mine = nas::parse_darts<my_space>(
      "Genotype(normal=[('conv_3x3', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
      "('conv_3x3', 2), ('conv_3x3', 1), ('skip_connect', 3), ('sep_conv_3x3', 0), "
      "('conv_3x3', 4)], normal_concat=[2, 3, 4, 5], reduce=[('conv_3x3', 0), ('conv_3x3', 1), "
      "('skip_connect', 2), ('conv_3x3', 1), ('conv_3x3', 0), ('skip_connect', 3), "
      "('skip_connect', 2), ('sep_conv_3x3', 1)], reduce_concat=[2, 3, 4, 5])");
  torch::manual_seed(0);
  nas::Network<my_space> net(mine, proxy);
  net->eval();
  torch::NoGradGuard no_grad;
  const auto logits = net->forward(torch::zeros({2, 3, 32, 32}));
  std::printf("my_space network: %lld parameters, logits of shape [%lld, %lld]\n", count(net),
              static_cast<long long>(logits.size(0)), static_cast<long long>(logits.size(1)));
  return 0;
}
