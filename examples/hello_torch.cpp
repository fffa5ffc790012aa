// hello_torch: the smallest LibTorch program of this repository. It builds a 2-layer MLP, takes a
// few SGD steps on a fixed random regression problem and prints the loss after each step.
//
//   hello_torch [--steps N]   (default 1; the loss must go down)
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace {

struct MlpImpl : torch::nn::Module {
  MlpImpl(std::int64_t in, std::int64_t hidden, std::int64_t out)
      : fc1(register_module("fc1", torch::nn::Linear(in, hidden))),
        fc2(register_module("fc2", torch::nn::Linear(hidden, out))) {}

  torch::Tensor forward(const torch::Tensor& x) { return fc2(torch::relu(fc1(x))); }

  torch::nn::Linear fc1;
  torch::nn::Linear fc2;
};
TORCH_MODULE(Mlp);

int parse_steps(int argc, char** argv) {
  int steps = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::string_view{argv[i]} == "--steps" && i + 1 < argc) {
      steps = std::atoi(argv[++i]);
    } else {
      std::fprintf(stderr, "usage: %s [--steps N]\n", argv[0]);
      std::exit(2);
    }
  }
  return steps > 0 ? steps : 1;
}

}  // namespace

int main(int argc, char** argv) {
  const int steps = parse_steps(argc, argv);
  torch::manual_seed(0);
  torch::set_num_threads(1);  // the same sums in the same order on every machine

  const auto x = torch::randn({64, 8});
  const auto y = x.sum(1, /*keepdim=*/true);  // a target the MLP can learn

  Mlp net(8, 16, 1);
  torch::optim::SGD opt(net->parameters(), torch::optim::SGDOptions(0.05));

  float first = 0.0F;
  float last = 0.0F;
  for (int step = 0; step <= steps; ++step) {
    const auto loss = torch::mse_loss(net->forward(x), y);
    last = loss.item<float>();
    if (step == 0) first = last;
    std::printf("step %d  loss %.4f\n", step, static_cast<double>(last));
    if (step == steps) break;
    opt.zero_grad();
    loss.backward();
    opt.step();
  }
  std::printf("LibTorch %s: loss %.4f -> %.4f\n", TORCH_VERSION, static_cast<double>(first),
              static_cast<double>(last));
  return last < first ? 0 : 1;
}
