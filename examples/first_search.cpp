// first_search: the smallest complete architecture search with nas.
//
// A user declares operations (LibTorch modules built from nas::OpArgs), an op set
// and a layer-wise search space; nas supplies the space's constants, uniform
// sampling and the genotype text. The program samples architectures, builds
// each as a small CNN, trains it briefly on a Fashion-MNIST subset, scores it on
// held-out training images, and finally reports the best architecture's accuracy
// on the test set next to the mean over all trials (chance is 10%).
//
// Fashion-MNIST comes from the Debian package dataset-fashion-mnist (gzip IDX
// files under /usr/share/datasets/fashion-mnist). This is random search, the
// baseline every NAS method is measured against; the library's strategies
// (DARTS, GDAS, ENAS, evolution, ...) replace the sampling loop below.
#include <torch/torch.h>
#include <zlib.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include <nas/core.hpp>

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

// ---- 2. The op set and the space: four searched layers, one op each (5^4 = 625 architectures).

using layer_ops =
    nas::OpSet<nas::Op<"conv_3x3", Conv3x3>, nas::Op<"conv_5x5", Conv5x5>,
               nas::Op<"sep_conv_3x3", SepConv3x3>, nas::Op<"max_pool_3x3", MaxPool3x3>,
               nas::Op<"skip_connect", Identity>>;
inline constexpr auto four_layers = nas::chain_dag({.layers = 4});
using space = nas::Space<nas::Cell<"layers", four_layers, layer_ops>>;
static_assert(*space::architecture_count == 625);
using layers_cell = space::cell<"layers">;

/// The module of op `index`, built from `args` (a run-time index to a compile-time type).
torch::nn::AnyModule make_op(std::size_t index, const nas::OpArgs& args) {
  torch::nn::AnyModule m;
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((index == I ? (m = torch::nn::AnyModule(typename layer_ops::template op<I>::module(args)), 0)
                 : 0),
     ...);
  }
  (std::make_index_sequence<layer_ops::size>{});
  return m;
}

/// The network a genotype stands for: stem, the four searched layers (a 2x2 max pool after
/// layers 2 and 4), global average pooling, a linear classifier.
torch::nn::Sequential build_network(const nas::Genotype<space>& g, std::int64_t channels) {
  torch::nn::Sequential net;
  net->push_back(Conv3x3(nas::OpArgs{1, channels, 1, true}));
  for (std::size_t e = 0; e < layers_cell::edge_count; ++e) {
    net->push_back(make_op(*g.cell<"layers">().op(e), nas::OpArgs{channels, channels, 1, true}));
    if (e % 2 == 1) net->push_back(torch::nn::MaxPool2d(torch::nn::MaxPool2dOptions(2)));
  }
  net->push_back(torch::nn::AdaptiveAvgPool2d(torch::nn::AdaptiveAvgPool2dOptions(1)));
  net->push_back(torch::nn::Flatten());
  net->push_back(torch::nn::Linear(channels, 10));
  return net;
}

// ---- 3. Data: gzip-compressed IDX files, read directly.

std::vector<std::uint8_t> read_gzip(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw std::runtime_error("missing " + path.string() +
                             ": install the Fashion-MNIST data set (apt-get install "
                             "dataset-fashion-mnist) or pass --data DIR");
  gzFile f = gzopen(path.c_str(), "rb");
  if (f == nullptr) throw std::runtime_error("cannot open " + path.string());
  std::vector<std::uint8_t> out;
  std::vector<std::uint8_t> chunk(1 << 20);
  int n = 0;
  while ((n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
    out.insert(out.end(), chunk.begin(), chunk.begin() + n);
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw std::runtime_error("corrupt gzip data in " + path.string());
  return out;
}

std::uint32_t big_endian(const std::vector<std::uint8_t>& b, std::size_t at) {
  return (std::uint32_t{b[at]} << 24) | (std::uint32_t{b[at + 1]} << 16) |
         (std::uint32_t{b[at + 2]} << 8) | std::uint32_t{b[at + 3]};
}

/// An IDX file of unsigned bytes as a uint8 tensor: [n] labels or [n, rows, cols] images.
torch::Tensor read_idx(const std::filesystem::path& path) {
  const std::vector<std::uint8_t> bytes = read_gzip(path);
  if (bytes.size() < 8 || bytes[0] != 0 || bytes[1] != 0 || bytes[2] != 0x08)
    throw std::runtime_error(path.string() + " is not an IDX file of unsigned bytes");
  const std::size_t dims = bytes[3];
  if (dims < 1 || dims > 3 || bytes.size() < 4 + 4 * dims)
    throw std::runtime_error(path.string() + ": unsupported IDX header");
  std::vector<std::int64_t> shape;
  std::size_t count = 1;
  for (std::size_t d = 0; d < dims; ++d) {
    shape.push_back(big_endian(bytes, 4 + 4 * d));
    count *= static_cast<std::size_t>(shape.back());
  }
  const std::size_t header = 4 + 4 * dims;
  if (bytes.size() != header + count)
    throw std::runtime_error(path.string() + ": size does not match its IDX header");
  return torch::from_blob(const_cast<std::uint8_t*>(bytes.data() + header), shape, torch::kUInt8)
      .clone();
}

struct Split {
  torch::Tensor images;  // float, [n, 1, 28, 28], normalized
  torch::Tensor labels;  // int64, [n]
};

Split load(const std::filesystem::path& dir, const std::string& prefix, std::int64_t from,
           std::int64_t count) {
  const torch::Tensor images = read_idx(dir / (prefix + "-images-idx3-ubyte.gz"));
  const torch::Tensor labels = read_idx(dir / (prefix + "-labels-idx1-ubyte.gz"));
  if (images.size(0) != labels.size(0) || from + count > images.size(0))
    throw std::runtime_error("the " + prefix + " split has " + std::to_string(images.size(0)) +
                             " images; asked for " + std::to_string(from + count));
  auto x = images.narrow(0, from, count).unsqueeze(1).to(torch::kFloat32).div_(255.0);
  return {x.sub_(0.2860).div_(0.3530), labels.narrow(0, from, count).to(torch::kInt64)};
}

// ---- 4. Train and score one architecture.

double accuracy(torch::nn::Sequential& net, const Split& data) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < data.images.size(0); i += 500) {
    const std::int64_t n = std::min<std::int64_t>(500, data.images.size(0) - i);
    const auto logits = net->forward(data.images.narrow(0, i, n));
    correct += logits.argmax(1).eq(data.labels.narrow(0, i, n)).sum().item<std::int64_t>();
  }
  return static_cast<double>(correct) / static_cast<double>(data.images.size(0));
}

torch::nn::Sequential train(const nas::Genotype<space>& g, const Split& data, std::int64_t channels,
                            int steps, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto net = build_network(g, channels);
  torch::optim::Adam opt(net->parameters(), torch::optim::AdamOptions(2e-3));
  net->train();
  const std::int64_t n = data.images.size(0);
  constexpr std::int64_t batch = 64;
  auto order = torch::randperm(n, torch::kInt64);
  for (int step = 0; step < steps; ++step) {
    const std::int64_t at = (step * batch) % n;
    if (at + batch > n) order = torch::randperm(n, torch::kInt64);
    const auto idx = order.narrow(0, at + batch > n ? 0 : at, std::min(batch, n));
    opt.zero_grad();
    const auto loss = torch::nn::functional::cross_entropy(
        net->forward(data.images.index_select(0, idx)), data.labels.index_select(0, idx));
    loss.backward();
    opt.step();
  }
  return net;
}

std::int64_t parameter_count(torch::nn::Sequential& net) {
  std::int64_t n = 0;
  for (const auto& p : net->parameters()) n += p.numel();
  return n;
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
    const Split train_split = load(data, "train", 0, train_size);
    const Split valid_split = load(data, "train", 60000 - valid_size, valid_size);
    const Split test_split = load(data, "t10k", 0, test_size);
    std::printf(
        "space: %zu searched layers x %zu ops = %llu architectures; %d trials of %d steps\n",
        layers_cell::edge_count, layer_ops::size,
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
                  static_cast<long long>(parameter_count(net)), secs, nas::to_string(g).c_str());
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
  } catch (const std::exception& e) {
    std::fprintf(stderr, "first_search: %s\n", e.what());
    return 1;
  }
  return 0;
}
