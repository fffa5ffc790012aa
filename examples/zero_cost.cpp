// zero_cost: scores NAS-Bench-201 cells without training any of them (docs/proxies.md).
//
// Each zero-cost proxy (NASWOT, synflow, grad_norm, snip, jacob_cov, and the parameter count
// as the baseline) scores the untrained network of a cell from one batch; nas::eval::ZeroCost
// is the evaluator that does so for any strategy. The example ranks five hand-picked cells by
// each proxy, then lets random search pick the best of 20 random cells by NASWOT, and starts
// regularized evolution from NASWOT's best of 30 random cells (a zero-cost warm start).
//
// The data is a stand-in with Fashion-MNIST's shape (1 x 28 x 28 images, 10 classes), drawn
// at random so the example needs no data set (and its output is a test's golden file);
// `zero_cost fashion-mnist` scores on the first 64 real training images instead
// (nas::data::fashion_mnist, docs/data.md).
// The ranks say what each proxy prefers, not which cell trains best: that takes training (or a
// benchmark's table) to know.
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <numeric>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include <nas/data/idx.hpp>
#include <nas/nas.hpp>

using space = nas::spaces::nb201;

// ---- a user's op joins NASWOT by calling nas::ops::relu (not torch::relu) ------------------
struct ReluConvImpl : torch::nn::Module {
  explicit ReluConvImpl(const nas::OpArgs& a)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 3)
                                                           .stride(a.stride)
                                                           .padding(1)
                                                           .bias(false)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return conv(nas::ops::relu(x)); }
  torch::nn::Conv2d conv;
};
TORCH_MODULE(ReluConv);
using my_ops = nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"skip", nas::ops::Nb201Skip>,
                          nas::Op<"relu_conv", ReluConv>>;
using my_space = nas::Space<nas::Cell<"cell", nas::spaces::nb201_cell, my_ops>>;
template <>
struct nas::layout_of<my_space> : std::type_identity<nas::layouts::Nb201> {};

int main(int argc, char** argv) {
  try {
    // Fashion-MNIST-shaped stand-in: 64 images, 10 classes (or the real first 64)
    torch::manual_seed(0);
    const bool real = argc > 1 && std::string_view(argv[1]) == "fashion-mnist";
    const nas::Data data =
        real ? nas::data::fashion_mnist("train").slice(0, 64)
             : nas::Data{torch::randn({64, 1, 28, 28}), torch::randint(0, 10, {64})};
    const nas::Stack stack{.layers = 1,
                           .channels = 8,
                           .classes = 10,
                           .input_channels = 1,
                           .skeleton = nas::Skeleton::nb201};

    const std::vector<std::string> cells = {
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_3x3~0|nor_conv_3x3~1|nor_"
        "conv_3x3~2|",
        "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_"
        "conv_3x3~2|",
        "|nor_conv_1x1~0|+|nor_conv_1x1~0|nor_conv_1x1~1|+|nor_conv_1x1~0|nor_conv_1x1~1|nor_"
        "conv_1x1~2|",
        "|avg_pool_3x3~0|+|skip_connect~0|avg_pool_3x3~1|+|skip_connect~0|avg_pool_3x3~1|skip_"
        "connect~2|",
        "|nor_conv_1x1~0|+|none~0|none~1|+|none~0|none~1|nor_conv_3x3~2|",
    };
    for (std::size_t i = 0; i < cells.size(); ++i)
      std::printf("cell %c: %s\n", static_cast<char>('A' + i), cells[i].c_str());

    // ---- every proxy ranks the five cells (best first) -------------------------------------
    for (const nas::proxy::Kind kind : nas::proxy::kinds) {
      nas::eval::ZeroCost<space> proxy(data, {.proxy = kind, .stack = stack, .batch_size = 32});
      std::vector<double> score;
      for (const auto& cell : cells) score.push_back(proxy(nas::parse<space>(cell)).accuracy);
      std::vector<std::size_t> order(cells.size());
      std::iota(order.begin(), order.end(), std::size_t{0});
      std::stable_sort(order.begin(), order.end(),
                       [&](std::size_t a, std::size_t b) { return score[a] > score[b]; });
      std::string ranks;
      for (const std::size_t i : order) {
        if (!ranks.empty()) ranks += " > ";
        ranks += static_cast<char>('A' + i);
      }
      std::printf("%-10s %s\n", std::string(nas::proxy::to_string(kind)).c_str(), ranks.c_str());
    }

    // ---- a user's op: NASWOT sees its ReLUs ------------------------------------------------
    const auto batch = data.slice(0, 32);
    nas::Network<my_space> skips(
        nas::parse<my_space>("|skip~0|+|skip~0|skip~1|+|skip~0|skip~1|skip~2|"), stack);
    nas::Network<my_space> convs(
        nas::parse<my_space>("|relu_conv~0|+|relu_conv~0|relu_conv~1|+|relu_conv~0|relu_"
                             "conv~1|relu_conv~2|"),
        stack);
    std::printf("NASWOT's code length, user cell of skips: %lld, of relu_convs: %lld\n",
                static_cast<long long>(nas::proxy::relu_codes(skips, batch.inputs).size(1)),
                static_cast<long long>(nas::proxy::relu_codes(convs, batch.inputs).size(1)));
    std::printf("NASWOT of the relu_conv cell is finite: %s\n",
                std::isfinite(nas::proxy::naswot(convs, batch.inputs)) ? "yes" : "no");

    // ---- a trial strategy with a zero-cost evaluator ---------------------------------------
    nas::eval::ZeroCost<space> naswot(data, {.proxy = nas::proxy::Kind::naswot, .stack = stack});
    nas::RandomSearch<space> random({.seed = 0});
    const auto result = nas::run_trials(random, naswot, {.trials = 20});
    std::printf("random search, 20 cells scored by NASWOT, the best: %s\n",
                nas::to_string(result.best().genotype).c_str());

    // ---- a zero-cost warm start: evolution begins with the cells NASWOT likes --------------
    const auto initial = nas::eval::best_of_random<space>(naswot, 30, 5, /*seed=*/1);
    nas::Evolution<space> evolution({.population = 5, .sample = 2, .seed = 0});
    evolution.seed_population(initial);
    std::printf("evolution's first proposal, NASWOT's best of 30 random cells: %s\n",
                nas::to_string(evolution.propose()).c_str());
    return 0;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "zero_cost: %s\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "zero_cost: %s\n", e.what());
  }
  return 1;
}
