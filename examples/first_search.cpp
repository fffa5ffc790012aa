// first_search: the smallest complete architecture search with nas.
//
// A user declares operations (LibTorch modules built from nas::OpArgs), an op set
// and a search space of two blocks of layers, and says how the blocks are stacked
// (a layout: stem, blocks, pools, head); nas supplies the space's constants, uniform
// sampling, the genotype text, the network a genotype stands for and the data reader.
// The program samples architectures, builds each as a small CNN with nas::Network,
// trains it briefly with its own loop on a Fashion-MNIST subset, scores it on
// held-out training images, and finally reports the best architecture's accuracy
// on the test set next to the mean over all trials (chance is 10%).
//
// Fashion-MNIST comes from the Debian package dataset-fashion-mnist (gzip IDX
// files under /usr/share/datasets/fashion-mnist). This is random search, the
// baseline every NAS method is measured against; the library's strategies
// (DARTS, GDAS, ENAS, evolution, ...) replace the sampling loop below.
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include <nas/data/idx.hpp>
#include <nas/nas.hpp>

namespace {

// ---- 1. Operations: ordinary LibTorch modules, each constructible from nas::OpArgs.

struct ConvBnReluImpl : torch::nn::Module {
  ConvBnReluImpl(const nas::OpArgs& a, std::int64_t kernel, std::int64_t groups)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, kernel)
                                                           .stride(a.stride)
                                                           .padding(kernel / 2)
                                                           .groups(groups)
                                                           .bias(false)))),
        bn(register_module(
            "bn", torch::nn::BatchNorm2d(torch::nn::BatchNorm2dOptions(a.out).affine(a.affine)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(bn(conv(x))); }
  torch::nn::Conv2d conv;
  torch::nn::BatchNorm2d bn;
};

struct Conv3x3Impl : ConvBnReluImpl {
  explicit Conv3x3Impl(const nas::OpArgs& a) : ConvBnReluImpl(a, 3, 1) {}
};
TORCH_MODULE(Conv3x3);

struct Conv5x5Impl : ConvBnReluImpl {
  explicit Conv5x5Impl(const nas::OpArgs& a) : ConvBnReluImpl(a, 5, 1) {}
};
TORCH_MODULE(Conv5x5);

// depthwise 3x3 then pointwise 1x1
struct SepConv3x3Impl : torch::nn::Module {
  explicit SepConv3x3Impl(const nas::OpArgs& a)
      : depthwise(register_module("depthwise", ConvBnRelu(a, 3, a.in))),
        pointwise(register_module("pointwise",
                                  ConvBnRelu(nas::OpArgs{a.in, a.out, 1, a.affine}, 1, 1))) {}
  torch::Tensor forward(const torch::Tensor& x) { return pointwise(depthwise(x)); }
  using ConvBnRelu = torch::nn::ModuleHolder<ConvBnReluImpl>;
  ConvBnRelu depthwise;
  ConvBnRelu pointwise;
};
TORCH_MODULE(SepConv3x3);

struct MaxPool3x3Impl : torch::nn::Module {
  explicit MaxPool3x3Impl(const nas::OpArgs& a)
      : pool(torch::nn::MaxPool2dOptions(3).stride(a.stride).padding(1)) {}
  torch::Tensor forward(const torch::Tensor& x) { return pool(x); }
  torch::nn::MaxPool2d pool;
};
TORCH_MODULE(MaxPool3x3);

struct IdentityImpl : torch::nn::Module {
  static constexpr bool nas_identity_op = true;
  explicit IdentityImpl(const nas::OpArgs& /*unused*/) {}
  torch::Tensor forward(const torch::Tensor& x) { return x; }
};
TORCH_MODULE(Identity);

// ---- 2. The op set and the space: two blocks of two searched layers, one op each
//         (25 x 25 = 625 architectures).

using layer_ops =
    nas::OpSet<nas::Op<"conv_3x3", Conv3x3>, nas::Op<"conv_5x5", Conv5x5>,
               nas::Op<"sep_conv_3x3", SepConv3x3>, nas::Op<"max_pool_3x3", MaxPool3x3>,
               nas::Op<"skip_connect", Identity>>;
inline constexpr auto two_layers = nas::chain_dag({.layers = 2});
using space =
    nas::Space<nas::Cell<"low", two_layers, layer_ops>, nas::Cell<"high", two_layers, layer_ops>>;
static_assert(*space::architecture_count == 625);

// ---- 3. The layout: how the blocks are stacked. A stem (the Conv3x3 op), block "low", a 2x2
//         max pool, block "high", a 2x2 max pool, global average pooling, a linear classifier.
//         nas builds each block's chosen ops; nas::Network<space> is the whole network.

struct TwoBlocks {
  static constexpr std::string_view name = "two blocks";
  struct skeleton {
    Conv3x3 stem{nullptr};
    torch::nn::Linear classifier{nullptr};
    template <class Net>
    void build(Net& net) {
      const nas::Stack& s = net.stack();
      stem = net.register_module("stem", Conv3x3(nas::OpArgs{s.input_channels, s.channels, 1}));
      const nas::CellShape block{{nas::CellInput{s.channels}}, nas::uniform_edges(s.channels)};
      net.template add_cell<"low">(block);
      net.template add_cell<"high">(block);
      classifier = net.register_module("classifier", torch::nn::Linear(s.channels, s.classes));
    }
    template <class Net>
    torch::Tensor forward(Net& net, const torch::Tensor& x) {
      auto y = stem(x);
      y = torch::max_pool2d(net.cell(0, y), 2);
      y = torch::max_pool2d(net.cell(1, y), 2);
      return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
    }
  };
};
}  // namespace
template <>  // the declaration: this space stacks on TwoBlocks (at namespace scope)
struct nas::layout_of<space> : std::type_identity<TwoBlocks> {};
namespace {

// ---- 4. Train and score one architecture (your own training loop; nas::data reads the files).

double accuracy(nas::Network<space>& net, const nas::Data& data) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < data.size(); i += 500) {
    const std::int64_t n = std::min<std::int64_t>(500, data.size() - i);
    const auto logits = net->forward(data.inputs.narrow(0, i, n));
    correct += logits.argmax(1).eq(data.targets.narrow(0, i, n)).sum().item<std::int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

nas::Network<space> train(const nas::Genotype<space>& g, const nas::Data& data,
                          std::int64_t channels, int steps, std::uint64_t seed) {
  torch::manual_seed(seed);
  nas::Network<space> net(g, nas::Stack{.channels = channels, .input_channels = 1});
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
  net->train();
  const std::int64_t n = data.size();
  constexpr std::int64_t batch = 64;
  auto order = torch::randperm(n, torch::kInt64);
  for (int step = 0; step < steps; ++step) {
    const std::int64_t at = (step * batch) % n;
    if (at + batch > n) order = torch::randperm(n, torch::kInt64);
    const auto idx = order.narrow(0, at + batch > n ? 0 : at, std::min(batch, n));
    opt.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(
        net->forward(data.inputs.index_select(0, idx)), data.targets.index_select(0, idx));
    loss.backward();
    opt.step();
  }
  return net;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"first_search: random architecture search on Fashion-MNIST with nas"};
  int trials = 8;
  int steps = 150;
  std::int64_t train_size = 4000;
  std::int64_t valid_size = 1000;
  std::int64_t test_size = 2000;
  std::int64_t channels = 16;
  std::uint64_t seed = 0;
  int threads = 0;
  std::string data = "/usr/share/datasets/fashion-mnist";
  app.add_option("--trials", trials, "architectures to sample and train")
      ->capture_default_str()
      ->check(CLI::Range(1, 625));
  app.add_option("--steps", steps, "training steps per architecture (batch 64)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--train", train_size, "training images used for search")
      ->capture_default_str()
      ->check(CLI::Range(64, 50000));
  app.add_option("--valid", valid_size, "held-out training images that score each architecture")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--test", test_size, "test images for the final report")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--channels", channels, "channels of every searched layer")
      ->capture_default_str()
      ->check(CLI::Range(1, 512));
  app.add_option("--seed", seed, "seed of sampling, initialization and data order")
      ->capture_default_str();
  app.add_option("--threads", threads, "intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--data", data, "folder with the Fashion-MNIST .gz IDX files")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (threads > 0) torch::set_num_threads(threads);

  try {
    // search on training images only: the first `train` for weights, the last `valid` to score
    const nas::Data train_all = nas::data::fashion_mnist("train", data);
    const nas::Data train_split = train_all.slice(0, train_size);
    const nas::Data valid_split = train_all.slice(train_all.size() - valid_size, train_all.size());
    const nas::Data test_split = nas::data::fashion_mnist("test", data).slice(0, test_size);
    std::printf(
        "space: %zu searched layers x %zu ops = %llu architectures; %d trials of %d steps\n",
        space::edge_count, layer_ops::size,
        static_cast<unsigned long long>(*space::architecture_count), trials, steps);

    nas::Rng rng(seed);
    nas::Genotype<space> best;
    double best_valid = -1;
    double sum_valid = 0;
    for (int t = 0; t < trials; ++t) {
      const auto start = std::chrono::steady_clock::now();
      const auto g = nas::sample<space>(rng);
      auto net = train(g, train_split, channels, steps, seed + static_cast<std::uint64_t>(t));
      const double acc = accuracy(net, valid_split);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      std::printf("trial %2d  valid %.3f  params %6lld  %5.1fs  %s\n", t + 1, acc,
                  static_cast<long long>(nas::parameter_count(*net)), secs,
                  nas::to_string(g).c_str());
      std::fflush(stdout);
      sum_valid += acc;
      if (acc > best_valid) {
        best_valid = acc;
        best = g;
      }
    }
    // retrain the best architecture from scratch with the same budget and report test accuracy
    auto net = train(best, train_split, channels, steps, seed + 1000);
    std::printf("best: %s\n", nas::to_string(best).c_str());
    std::printf("valid accuracy: best %.3f, mean of %d trials %.3f (chance 0.100)\n", best_valid,
                trials, sum_valid / trials);
    std::printf("test accuracy of the best, retrained: %.3f on %lld images\n",
                accuracy(net, test_split), static_cast<long long>(test_size));
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "first_search: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "first_search: %s\n", e.what());
    return 1;
  }
  return 0;
}
