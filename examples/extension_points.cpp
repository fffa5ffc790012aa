// The extension points of nas, one short user type each (docs/design.md, "Extension points"):
// an operation, a relaxation, a search strategy, an evaluator, an objective and callbacks, and
// how any strategy's options are written.
// (The layout, the sixth, is examples/custom_layout.cpp.) Each is checked against its concept
// and used once. CI runs it and compares its output with extension_points.expected; the code
// blocks of docs/design.md are checked to be in this file or in custom_layout.cpp.
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <limits>
#include <optional>
#include <string>
#include <type_traits>
#include <vector>

#include <nas/nas.hpp>

// [op] An operation: a LibTorch module built from nas::OpArgs, mapping a tensor to a tensor.
struct Conv3Impl : torch::nn::Module {
  explicit Conv3Impl(const nas::OpArgs& a)
      : conv(register_module("conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(a.in, a.out, 3)
                                                           .stride(a.stride)
                                                           .padding(1)
                                                           .bias(false)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::relu(conv(x)); }
  std::int64_t multiply_adds(std::int64_t h, std::int64_t w) const {  // optional: for nas::cost
    const auto& o = conv->options;
    return nas::conv_multiply_adds(o.in_channels(), o.out_channels(), 3, 3, 1,
                                   nas::conv_output_size(h, 3, o.stride()->at(0), 1),
                                   nas::conv_output_size(w, 3, o.stride()->at(0), 1));
  }
  torch::nn::Conv2d conv;
};
TORCH_MODULE(Conv3);
static_assert(nas::operation<Conv3>);

using my_ops = nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"skip", nas::ops::Nb201Skip>,
                          nas::Op<"conv3", Conv3>>;
using space = nas::Space<nas::Cell<"cell", nas::spaces::nb201_cell, my_ops>>;
template <>
struct nas::layout_of<space> : std::type_identity<nas::layouts::Nb201> {};
// [/op]

// [relaxation] A relaxation: how a supernet's edges mix their ops. This one weighs every op
// equally and learns nothing (a "uniform supernet", as one-shot baselines train).
struct Uniform {
  static constexpr bool learns_architecture = false;
  nas::EdgeMix mix(const torch::Tensor& /*alpha*/, const nas::MixContext& c) const {
    const auto shape = std::vector<std::int64_t>{static_cast<std::int64_t>(c.edges),
                                                 static_cast<std::int64_t>(c.ops)};
    return {torch::full(shape, 1.0 / static_cast<double>(c.ops)), {}, false};
  }
};
static_assert(nas::relaxation<Uniform>);
// [/relaxation]

// [strategy] A search strategy for nas::run_trials: propose an architecture, observe its
// result. This one mutates the best architecture seen so far.
struct MutateBest {
  using space = ::space;
  nas::Rng rng{7};
  std::optional<nas::Trial<space>> best;
  nas::Genotype<space> propose() {
    return best ? nas::mutate(best->genotype, rng) : nas::sample<space>(rng);
  }
  void observe(const nas::Trial<space>& t) {
    if (!best || t.score > best->score) best = t;
  }
};
static_assert(nas::search_strategy<MutateBest>);
// [/strategy]

// [evaluator] An evaluator: anything callable on a genotype that returns nas::Metrics (or a
// number, the accuracy). This one scores without training: the network's size at a stack,
// and an "accuracy" that counts its convolutions (a stand-in for a lookup table or a
// surrogate model).
const nas::Stack stack{.layers = 1, .channels = 8, .skeleton = nas::Skeleton::nb201};
nas::Metrics by_size(const nas::Genotype<space>& g) {
  const auto c = nas::cost(g, stack, 32, 32);
  double convs = 0;
  for (std::size_t e = 0; e < space::edge_count; ++e)
    convs += *g.cell<"cell">().op_name(e) == "conv3" ? 1.0 : 0.0;
  return {.accuracy = convs / 6.0, .parameters = c.parameters};
}
static_assert(nas::evaluator_for<decltype(&by_size), space>);
// [/evaluator]

// [objective] An objective: a score to maximize from the metrics; minus infinity rejects.
struct AccurateUnderBudget {
  std::int64_t budget = 40000;
  double operator()(const nas::Metrics& m) const {
    return *m.parameters <= budget ? m.accuracy : -std::numeric_limits<double>::infinity();
  }
};
static_assert(nas::objective<AccurateUnderBudget>);
// [/objective]

int main() {
  // the op and the relaxation in a supernet
  torch::manual_seed(0);
  nas::Supernet<space, Uniform> supernet(stack);
  std::printf("uniform supernet: %lld weights, no architecture parameters: %s\n",
              static_cast<long long>(nas::parameter_count(*supernet)),
              supernet->arch_parameters().empty() ? "yes" : "no");

  // [callback] Callbacks: nas::run_trials calls `on_trial` after every trial; every other
  // search takes the same nas::SearchCallbacks (`on_step`, `on_epoch`, `on_trial`).
  MutateBest strategy;
  std::size_t rejected = 0;
  nas::TrialCallbacks<space> callbacks{
      .on_trial = [&](const nas::Trial<space>& t, const nas::Trial<space>& /*best*/) {
        if (t.score == -std::numeric_limits<double>::infinity()) ++rejected;
      }};
  const auto result =
      nas::run_trials(strategy, by_size, {.trials = 30}, AccurateUnderBudget{}, callbacks);
  // [/callback]
  std::printf("mutate-best, 30 trials: best %s, score %.3f, %lld parameters\n",
              nas::to_string(result.genotype).c_str(), result.best().score,
              static_cast<long long>(*result.best().metrics.parameters));
  std::printf("rejected over budget: %zu of 30; the best is within budget: %s\n", rejected,
              *result.best().metrics.parameters <= AccurateUnderBudget{}.budget ? "yes" : "no");

  // [options] Options: every strategy's options are composed of shared parts (`weights`, a
  // nas::WeightTraining; `arch`, a nas::ArchTraining) and the budget `epochs`. Designated
  // initializers follow declaration order; the `with_` setters take fields in any order.
  const nas::DartsOptions designated{
      .order = 2, .epochs = 10, .weights = {.batch_size = 32, .learning_rate = 0.05}};
  const auto fluent =
      nas::DartsOptions{}
          .with_weights(nas::WeightTraining{}.with_learning_rate(0.05).with_batch_size(32))
          .with_epochs(10)
          .with_order(2);
  // [/options]
  std::printf("options: designated and fluent agree: %s (order %d, %lld epochs, batch %lld)\n",
              designated.order == fluent.order && designated.epochs == fluent.epochs &&
                      designated.weights.batch_size == fluent.weights.batch_size &&
                      designated.weights.learning_rate == fluent.weights.learning_rate
                  ? "yes"
                  : "no",
              fluent.order, static_cast<long long>(fluent.epochs),
              static_cast<long long>(fluent.weights.batch_size));
  return 0;
}
