// A package consumer that includes <nas/nas.hpp> and nothing else (built by the find_package
// consumer): the one include must bring LibTorch and every nas header, and a network, a
// supernet and a search step must build and run from it.
#include <nas/nas.hpp>

#include <cstdio>

int main() {
  torch::manual_seed(0);
  const nas::Stack stack{.layers = 1,
                         .channels = 4,
                         .classes = 3,
                         .input_channels = 1,
                         .skeleton = nas::Skeleton::nb201};
  const auto g = nas::parse<nas::spaces::nb201>(
      "|nor_conv_3x3~0|+|skip_connect~0|nor_conv_1x1~1|+|avg_pool_3x3~0|none~1|nor_conv_3x3~2|");
  nas::Network<nas::spaces::nb201> net(g, stack);
  const auto logits = net->forward(torch::randn({2, 1, 8, 8}));
  nas::Supernet<nas::spaces::nb201, nas::relax::Gumbel> supernet(stack);
  nas::Gdas gdas(supernet, {.epochs = 1, .weights = {.batch_size = 2}});
  const nas::Batch batch{torch::randn({2, 1, 8, 8}), torch::tensor({0, 2}, torch::kLong)};
  (void)gdas.step(batch, batch);
  const auto derived = nas::derive(supernet);
  if (logits.size(1) != 3 || !derived.valid()) {
    std::printf("unexpected nas result\n");
    return 1;
  }
  std::printf("nas.hpp consumer: network %lld parameters, derived %s\n",
              static_cast<long long>(nas::parameter_count(*net)), nas::to_string(derived).c_str());
  return 0;
}
