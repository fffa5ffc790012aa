// A layout nas does not ship, declared in user code: "residual stages". Its space has two cell
// kinds, "stage" (one input, stride 1, wrapped by the skeleton in a residual connection) and
// "down" (one input whose channels the skeleton doubles with a 1x1 ReLU-conv-BN, stride 2 on
// the edges that leave it). The skeleton stacks stem, `layers` stages with a "down" cell
// between two stages, global pooling and a classifier. With no change to nas, the layout gets
// a nas::Network, a nas::Supernet under Softmax, Gumbel and SinglePath, DARTS and GDAS steps,
// derive, a controller, cost counts and checkpoints.
//
// This is the layout example of docs/design.md; CI runs it and compares its output with
// custom_layout.expected.

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <string>
#include <type_traits>
#include <vector>

#include <nas/nas.hpp>

// ---- the space: two cell kinds over NAS-Bench-201's ops ------------------------------------
inline constexpr auto stage_dag =
    nas::make_dag({.inputs = 1, .output = nas::last_node}, {{0, 1}, {0, 2}, {1, 2}});
using residual_space = nas::Space<nas::Cell<"stage", stage_dag, nas::ops::nb201_ops>,
                                  nas::Cell<"down", stage_dag, nas::ops::nb201_ops>>;

// ---- the layout ------------------------------------------------------------------------------
struct ResidualStages {
  static constexpr std::string_view name = "residual stages";
  // which spaces it stacks: a "stage" and a "down" cell kind, one input each, last node out
  template <nas::search_space S>
  static constexpr bool accepts =
      S::cell_count == 2 && S::find_cell("stage").has_value() && S::find_cell("down").has_value();

  struct skeleton {
    torch::nn::Sequential stem{nullptr};
    torch::nn::Linear classifier{nullptr};
    std::vector<bool> residual;  // per position: a "stage" cell, added to its input

    template <class Net>
    void build(Net& net) {
      const nas::Stack& s = net.stack();
      TORCH_CHECK(s.layers >= 1, "residual stages: Stack::layers (stages) must be positive");
      stem = net.register_module(
          "stem",
          torch::nn::Sequential(
              torch::nn::Conv2d(
                  torch::nn::Conv2dOptions(s.input_channels, s.channels, 3).padding(1).bias(false)),
              torch::nn::BatchNorm2d(s.channels)));
      std::int64_t c = s.channels;
      residual.clear();
      for (std::int64_t stage = 0; stage < s.layers; ++stage) {
        if (stage > 0) {
          const nas::CellOptions o = net.cell_options();
          nas::CellInput widen{
              2 * c, 1, [c, o] {
                return nas::built_op(nas::ops::ReLUConvBN(
                    nas::ops::ReLUConvBNOptions{.in = c,
                                                .out = 2 * c,
                                                .affine = o.affine,
                                                .track_running_stats = o.track_running_stats}));
              }};
          c = net.template add_cell<"down">({{widen}, nas::uniform_edges(2 * c, 2)});
          residual.push_back(false);
        }
        net.template add_cell<"stage">({{nas::CellInput{c}}, nas::uniform_edges(c)});
        residual.push_back(true);
      }
      classifier = net.register_module("classifier", torch::nn::Linear(c, s.classes));
    }

    template <class Net>
    torch::Tensor forward(Net& net, const torch::Tensor& x) {
      auto y = stem->forward(x);
      for (std::size_t i = 0; i < net.positions(); ++i)
        y = residual[i] ? y + net.cell(i, y) : net.cell(i, y);
      return classifier(torch::adaptive_avg_pool2d(y, {1, 1}).flatten(1));
    }

    template <class Net>
    std::int64_t multiply_adds(const Net& net, std::int64_t h, std::int64_t w) const {
      const nas::Stack& s = net.stack();
      std::int64_t n = nas::conv_multiply_adds(s.input_channels, s.channels, 3, 3, 1, h, w);
      for (std::size_t i = 0; i < net.positions(); ++i) {
        n += net.cell_multiply_adds(i, {{h, w}});
        if (!residual[i]) {
          h = nas::conv_output_size(h, 3, 2, 1);
          w = nas::conv_output_size(w, 3, 2, 1);
        }
      }
      return n + classifier->options.in_features() * classifier->options.out_features();
    }
  };
};
static_assert(nas::layout<ResidualStages>);

// ---- the declaration: this space stacks on that layout ---------------------------------------
template <>
struct nas::layout_of<residual_space> : std::type_identity<ResidualStages> {};
static_assert(nas::laid_out_space<residual_space>);

namespace {
// A batch of `n` random 16x16 images whose class is the sign of their mean (learnable).
nas::Batch batch(std::int64_t n) {
  auto x = torch::randn({n, 3, 16, 16});
  auto y = (x.mean({1, 2, 3}) > 0).to(torch::kLong);
  return {x, y};
}

template <class R>
void show_supernet(const char* relaxation, const nas::Stack& stack) {
  torch::manual_seed(0);
  nas::Supernet<residual_space, R> net(stack);
  if constexpr (std::is_same_v<R, nas::relax::SinglePath>) {  // runs one architecture at a time
    nas::Rng rng(1);
    (void)net->sample_path(rng);
  }
  const auto logits = net->forward(torch::randn({2, 3, 16, 16}));
  std::int64_t weights = 0;
  for (const auto& w : net->weight_parameters()) weights += w.numel();
  std::printf("supernet under %-10s %lld weights, %zu architecture tensors, logits [%lld, %lld]\n",
              relaxation, static_cast<long long>(weights), net->arch_parameters().size(),
              static_cast<long long>(logits.size(0)), static_cast<long long>(logits.size(1)));
}
}  // namespace

int main() {
  torch::manual_seed(0);
  const nas::Stack stack{.layers = 2, .channels = 8, .classes = 2};

  // a network for a genotype, and its cost
  nas::Rng rng(0);
  const auto g = nas::sample<residual_space>(rng);
  std::printf("sampled: %s\n", nas::to_string(g).c_str());
  nas::Network<residual_space> net(g, stack);
  const auto cost = nas::cost(g, stack, 16, 16);
  std::printf("layout '%s': %zu positions, %lld parameters, %lld multiply-adds at 16x16\n",
              std::string(ResidualStages::name).c_str(), net->positions(),
              static_cast<long long>(cost.parameters), static_cast<long long>(cost.multiply_adds));
  std::printf("network logits [%lld, %lld]\n",
              static_cast<long long>(net->forward(torch::randn({4, 3, 16, 16})).size(0)),
              static_cast<long long>(net->forward(torch::randn({4, 3, 16, 16})).size(1)));

  // supernets under every relaxation
  show_supernet<nas::relax::Softmax>("Softmax", stack);
  show_supernet<nas::relax::Gumbel>("Gumbel", stack);
  show_supernet<nas::relax::SinglePath>("SinglePath", stack);

  // a few DARTS steps, then derive
  torch::manual_seed(0);
  nas::Supernet<residual_space, nas::relax::Softmax> darts_net(stack);
  nas::Darts darts(darts_net, {.epochs = 1, .weights = {.batch_size = 8}});
  for (int i = 0; i < 3; ++i) (void)darts.step(batch(8), batch(8));
  const auto found = nas::derive(darts_net);
  std::printf("DARTS, 3 steps, derived: %s\n", nas::to_string(found).c_str());

  // GDAS steps on the Gumbel supernet
  torch::manual_seed(0);
  nas::Supernet<residual_space, nas::relax::Gumbel> gdas_net(stack);
  nas::Gdas gdas(gdas_net, {.epochs = 1, .weights = {.batch_size = 8}});
  for (int i = 0; i < 3; ++i) (void)gdas.step(batch(8), batch(8));
  (void)nas::derive(gdas_net);
  std::printf("GDAS, 3 steps: derived\n");

  // a single path: the ops of one sampled architecture run
  torch::manual_seed(0);
  nas::Supernet<residual_space, nas::relax::SinglePath> path_net(stack);
  const auto sampled = path_net->sample_path(rng);
  std::printf("single path: %lld logits per image\n",
              static_cast<long long>(path_net->forward(torch::randn({2, 3, 16, 16})).size(1)));

  // a controller for the space
  nas::Controller<residual_space> policy;
  const auto choice = policy->sample(rng);
  std::printf("controller: %zu decisions, the sample round-trips through text: %s\n",
              residual_space::decision_count,
              nas::parse<residual_space>(nas::to_string(choice.genotype)) == choice.genotype
                  ? "yes"
                  : "no");

  // a checkpoint of the supernet, read back into a new one
  const auto file = std::filesystem::temp_directory_path() /
                    ("nas_custom_layout_" + std::to_string(::getpid()) + ".pt");
  nas::Checkpoint c;
  c.put("supernet", *darts_net);
  c.save(file);
  nas::Supernet<residual_space, nas::relax::Softmax> restored(stack);
  nas::Checkpoint::load(file).get("supernet", *restored);
  std::printf("checkpoint: restored alpha equal: %s\n",
              torch::equal(restored->alpha<"stage">(), darts_net->alpha<"stage">()) ? "yes" : "no");
  // (std::remove, not std::filesystem: the PyPI LibTorch exports a broken copy of some
  // std::filesystem functions, see tests/torch/temp_dir.hpp)
  std::remove(file.c_str());
  (void)sampled;
  return 0;
}
