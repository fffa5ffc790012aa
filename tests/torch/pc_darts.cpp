// PC-DARTS (Xu et al., ICLR 2020) as a relaxation that owns the edge: partial channels, channel
// shuffle, edge normalization, derive with edge weights, the published counts and settings.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include <nas/nn/supernet.hpp>
#include <nas/relax/partial_channel.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/derive.hpp>

using nas::relax::PartialChannel;

TEST_CASE("PC-DARTS supernet: PC-DARTS's weight and architecture-parameter counts") {
  torch::NoGradGuard no_grad;
  // PC-DARTS's model_search.Network(16, 10, 8) has 299,578 weights; its arch_parameters() are
  // alphas_normal, alphas_reduce [14, 8] and betas_normal, betas_reduce [14]: 252 (counted with
  // the reference code on this machine)
  nas::Supernet<nas::spaces::darts, PartialChannel> net(nas::Stack{});
  CHECK(nas::parameter_count(*net) - 252 == 299'578);
  std::int64_t arch = 0;
  for (const auto& a : net->arch_parameters()) arch += a.numel();
  CHECK(arch == 252);
  REQUIRE(net->arch_parameters().size() == 4);
  CHECK(net->arch_parameters()[2].sizes() == torch::IntArrayRef{14});
  std::int64_t weights = 0;
  for (const auto& w : net->weight_parameters()) weights += w.numel();
  CHECK(weights == 299'578);
  CHECK(net->named_parameters().contains("beta_normal"));
  // the smaller search setting of the same reference: Network(8, 10, 5)
  nas::Supernet<nas::spaces::darts, PartialChannel> small(nas::Stack{.layers = 5, .channels = 8});
  std::int64_t small_weights = 0;
  for (const auto& w : small->weight_parameters()) small_weights += w.numel();
  CHECK(small_weights == 66'586);
  // K = 1 is DARTS's supernet (every channel through the ops)
  nas::Supernet<nas::spaces::darts, PartialChannel> k1(nas::Stack{}, PartialChannel(1));
  std::int64_t k1_weights = 0;
  for (const auto& w : k1->weight_parameters()) k1_weights += w.numel();
  CHECK(k1_weights == 1'930'618);
}

TEST_CASE("channel_shuffle: channel g * (C / K) + i moves to i * K + g") {
  const auto x = torch::arange(8, torch::kFloat).view({1, 8, 1, 1});
  const auto y = nas::relax::channel_shuffle(x, 4).flatten();
  const std::vector<float> want{0, 2, 4, 6, 1, 3, 5, 7};
  for (std::int64_t c = 0; c < 8; ++c)
    CHECK(y[c].item<float>() == want[static_cast<std::size_t>(c)]);
}

TEST_CASE("edge normalization: a softmax over the edges into each node") {
  using C = nas::spaces::darts::cell<"normal">;
  const auto beta = torch::randn({14});
  const auto w = nas::relax::node_softmax(beta, C::edges.data(), C::edge_count);
  // PC-DARTS's slices: node 2 <- edges 0..1, node 3 <- 2..4, node 4 <- 5..8, node 5 <- 9..13
  const std::vector<std::pair<std::int64_t, std::int64_t>> slices{{0, 2}, {2, 5}, {5, 9}, {9, 14}};
  for (const auto& [a, b] : slices)
    CHECK(torch::allclose(w.slice(0, a, b), torch::softmax(beta.slice(0, a, b), 0)));
  CHECK_THROWS_WITH(nas::relax::node_softmax(torch::randn({3}), C::edges.data(), C::edge_count),
                    doctest::Contains("one parameter per edge (14)"));
}

TEST_CASE("PC-DARTS supernet: forward, gradients reach alpha and beta, derive uses edge weights") {
  torch::manual_seed(0);
  const nas::Stack stack{.layers = 3, .channels = 8, .classes = 4, .input_channels = 1};
  nas::Supernet<nas::spaces::darts, PartialChannel> net(stack);
  const auto x = torch::randn({2, 1, 8, 8});
  const auto logits = net->forward(x);
  CHECK(logits.sizes() == torch::IntArrayRef{2, 4});
  torch::nn::functional::cross_entropy(logits, torch::tensor({0, 3}, torch::kLong)).backward();
  for (const auto& a : net->arch_parameters()) {
    REQUIRE(a.grad().defined());
    CHECK(a.grad().abs().sum().item<double>() > 0.0);
  }
  // derive ranks op weights times edge weights: node 3 keeps 2 of its edges (0, 1, 2 -> 3)
  using normal = nas::spaces::darts::cell<"normal">;
  const auto sep = normal::ops::index_of<"sep_conv_3x3">;
  const auto e03 = normal::edge_index(0, 3), e13 = normal::edge_index(1, 3),
             e23 = normal::edge_index(2, 3);
  {
    torch::NoGradGuard no_grad;
    net->alpha_at(0).zero_();
    net->alpha_at(0)[static_cast<std::int64_t>(e03)][sep] = 1.0;
    net->alpha_at(0)[static_cast<std::int64_t>(e13)][sep] = 1.2;
    net->alpha_at(0)[static_cast<std::int64_t>(e23)][sep] = 1.1;
    net->beta_at(0).zero_();
  }
  auto g = nas::derive(net);
  CHECK_FALSE(g.cell<"normal">().op(0, 3).has_value());  // equal edge weights: alpha decides
  CHECK(g.cell<"normal">().op(1, 3) == sep);
  CHECK(g.cell<"normal">().op(2, 3) == sep);
  {
    torch::NoGradGuard no_grad;
    net->beta_at(0)[static_cast<std::int64_t>(e03)] = 3.0;  // edge (0 -> 3) takes node 3's weight
  }
  g = nas::derive(net);
  CHECK(g.cell<"normal">().op(0, 3) == sep);
  CHECK(g.cell<"normal">().op(1, 3) == sep);
  CHECK_FALSE(g.cell<"normal">().op(2, 3).has_value());
}

TEST_CASE("PartialChannel: K must divide the channels, and edges must keep them") {
  CHECK_THROWS_WITH(
      (nas::Supernet<nas::spaces::darts, PartialChannel>(nas::Stack{.layers = 3, .channels = 6})),
      doctest::Contains("K = 4 must divide every edge's channels"));
  CHECK_THROWS_WITH(PartialChannel(0), doctest::Contains("K must be at least 1"));
  CHECK_THROWS_WITH((void)PartialChannel().candidate_args(nas::OpArgs{8, 16, 1}),
                    doctest::Contains("an edge must keep its channel count"));
}

TEST_CASE("PC-DARTS search: no architecture step during the warm-up epochs, then steps") {
  torch::manual_seed(0);
  const nas::Stack stack{.layers = 1,
                         .channels = 4,
                         .classes = 3,
                         .input_channels = 1,
                         .skeleton = nas::Skeleton::nb201};
  nas::Supernet<nas::spaces::nb201, PartialChannel> net(stack);
  auto options = nas::pc_darts_options();
  options.epochs = 3;
  options.weights.batch_size = 4;
  options.arch.warmup_epochs = 2;
  nas::PcDarts<nas::spaces::nb201> pc(net, options);
  const nas::Batch b{torch::randn({4, 1, 8, 8}), torch::tensor({0, 1, 2, 0}, torch::kLong)};
  const auto before = net->alpha_at(0).detach().clone();
  pc.set_epoch(1);
  (void)pc.step(b, b);
  CHECK(torch::equal(before, net->alpha_at(0)));  // warm-up: weights only
  pc.set_epoch(2);
  (void)pc.step(b, b);
  CHECK_FALSE(torch::equal(before, net->alpha_at(0)));
  CHECK(nas::pc_darts_options().weights.batch_size == 256);
  CHECK(nas::pc_darts_options().arch.learning_rate == 6e-4);
}
