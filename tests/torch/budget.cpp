// Differentiable search at a user's budget: the architecture learning rate scaled to the planned
// steps, the weight-only warm-up (GDAS's temperature after it), the per-epoch alpha movement,
// and beta-DARTS's Beta-Decay regularizer (its closed-form gradient, and that the step applies
// it).
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstdint>
#include <vector>

#include <nas/nn/supernet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/gdas.hpp>
#include <nas/strategy/regularizers.hpp>
#include <nas/train/options.hpp>

namespace {
const nas::Stack small{.layers = 1,
                       .channels = 4,
                       .classes = 4,
                       .input_channels = 1,
                       .skeleton = nas::Skeleton::nb201};
using space = nas::spaces::nb201;
}  // namespace

TEST_CASE("beta_decay_loss: the mean smooth maximum of every edge, gradient softmax / edges") {
  const auto a =
      torch::tensor({{0.5, -1.0, 2.0}, {0.0, 0.0, 0.0}}, torch::kDouble).requires_grad_();
  const auto b = torch::tensor({{3.0, 1.0, -2.0}}, torch::kDouble).requires_grad_();
  const auto loss = nas::beta_decay_loss({a, b});
  // by hand: (lse(0.5, -1, 2) + lse(0, 0, 0) + lse(3, 1, -2)) / 3 edges
  const auto lse = [](double x, double y, double z) {
    return std::log(std::exp(x) + std::exp(y) + std::exp(z));
  };
  const double expected = (lse(0.5, -1.0, 2.0) + std::log(3.0) + lse(3.0, 1.0, -2.0)) / 3.0;
  CHECK(loss.item<double>() == doctest::Approx(expected).epsilon(1e-14));
  const auto grads = torch::autograd::grad({loss}, {a, b});
  CHECK(torch::allclose(grads[0], torch::softmax(a.detach(), -1) / 3.0, 1e-14, 1e-14));
  CHECK(torch::allclose(grads[1], torch::softmax(b.detach(), -1) / 3.0, 1e-14, 1e-14));
  // the uniform edge's gradient is 1 / (ops * edges) on every op
  CHECK(grads[0][1][0].item<double>() == doctest::Approx(1.0 / 9.0));
  CHECK_THROWS_WITH((void)nas::beta_decay_loss({}),
                    doctest::Contains("no architecture parameters"));
  CHECK_THROWS_WITH((void)nas::beta_decay_loss({torch::zeros({3})}),
                    doctest::Contains("needs [edges, ops] tensors"));
}

TEST_CASE("ArchTraining::beta_decay: the architecture step adds lambda * softmax(alpha) / edges") {
  torch::manual_seed(3);
  nas::Supernet<space, nas::relax::Softmax> net(small);
  {
    torch::NoGradGuard no_grad;
    net->alpha_at(0).copy_(torch::randn({6, 5}));  // far from uniform: softmax differs per op
  }
  const double beta = 8.0;
  nas::Darts darts(net, {.epochs = 4, .weights = {.batch_size = 8}, .arch = {.beta_decay = beta}});
  const nas::Batch batch{torch::randn({8, 1, 8, 8}), torch::randint(4, {8}, torch::kLong)};
  for (const std::int64_t epoch : {0, 3}) {
    darts.set_epoch(epoch);
    const auto alpha = net->alpha_at(0).detach().clone();
    const auto plain = darts.architecture_gradient(batch, batch);  // without the regularizer
    (void)darts.step(batch, batch);
    const double lambda = beta * static_cast<double>(epoch) / 4.0;  // linear from 0
    const auto expected = plain[0] + lambda * torch::softmax(alpha, -1) / 6.0;
    CHECK(torch::allclose(net->alpha_at(0).grad(), expected, 1e-6, 1e-7));
    if (epoch > 0) CHECK_FALSE(torch::allclose(plain[0], expected, 1e-6, 1e-7));
  }
  CHECK_THROWS_WITH((nas::Darts(net, {.arch = {.beta_decay = -1.0}})),
                    doctest::Contains("arch.beta_decay must be a finite number >= 0"));
}

TEST_CASE("ArchTraining::reference_steps: the learning rate scaled to the planned steps") {
  CHECK(nas::scaled_arch_learning_rate(3e-4, 93840, 1659) == doctest::Approx(3e-4 * 93840 / 1659));
  CHECK(nas::scaled_arch_learning_rate(3e-4, 0, 1659) == 3e-4);   // off
  CHECK(nas::scaled_arch_learning_rate(3e-4, 93840, 0) == 3e-4);  // nothing planned
  torch::manual_seed(4);
  nas::Supernet<space, nas::relax::Softmax> net(small);
  // 3 epochs, 1 of warm-up, 32 / 8 = 4 batches: 8 architecture steps planned
  nas::Darts darts(net,
                   {.epochs = 3,
                    .weights = {.batch_size = 8},
                    .arch = {.learning_rate = 1e-3, .warmup_epochs = 1, .reference_steps = 80}});
  CHECK(darts.planned_arch_steps(4) == 8);
  const nas::Data data{torch::randn({64, 1, 8, 8}), torch::randint(4, {64}, torch::kLong)};
  const auto result = darts.search(data);  // half trains the weights: 32 images
  REQUIRE(result.epochs.size() == 3);
  CHECK(result.epochs[0].arch_learning_rate == 0.0);  // the warm-up takes no architecture step
  CHECK(result.epochs[1].arch_learning_rate == doctest::Approx(1e-3 * 80 / 8));
  CHECK(darts.arch_learning_rate() == doctest::Approx(1e-2));
  CHECK_THROWS_WITH((nas::Darts(net, {.arch = {.reference_steps = -1}})),
                    doctest::Contains("arch.reference_steps must be >= 0"));
  CHECK_THROWS_WITH((nas::Darts(net, {.epochs = 3, .arch = {.warmup_epochs = 3}})),
                    doctest::Contains("arch.warmup_epochs (3) must be less than epochs (3)"));
}

TEST_CASE("alpha_top: each epoch reports how far the architecture has moved from uniform") {
  torch::manual_seed(5);
  nas::Supernet<space, nas::relax::Gumbel> net(small);
  nas::Gdas gdas(net, {.epochs = 2,
                       .weights = {.batch_size = 8},
                       .arch = {.learning_rate = 0.05, .warmup_epochs = 1}});
  const nas::Data data{torch::randn({64, 1, 8, 8}), torch::randint(4, {64}, torch::kLong)};
  std::vector<std::string> lines;
  nas::Callbacks<space> callbacks;
  callbacks.on_epoch = [&](const nas::EpochReport<space>& r) { lines.push_back(r.line()); };
  const auto result = gdas.search(data, callbacks);
  REQUIRE(result.epochs.size() == 2);
  // the warm-up leaves alpha where it started
  const auto& warm = result.epochs[0];
  const auto& last = result.epochs[1];
  const auto top = std::get<0>(torch::softmax(net->alpha_at(0).detach(), -1).max(-1));
  CHECK(last.alpha_top_mean == doctest::Approx(top.mean().item<double>()));
  CHECK(last.alpha_top_min == doctest::Approx(top.min().item<double>()));
  CHECK(last.alpha_top_max == doctest::Approx(top.max().item<double>()));
  CHECK(last.alpha_top_mean > warm.alpha_top_mean);  // 4 steps at 0.05 move it
  CHECK(warm.alpha_top_min >= 0.2 - 1e-6);           // 5 ops: never below uniform
  CHECK(lines[1].find(" alpha_top ") != std::string::npos);
  // read back from the JSON form, and absent from an older report
  const auto back = nas::parse_epoch_lines<space>(last.json() + "\n", "test");
  CHECK(back.front().alpha_top_max == last.alpha_top_max);
  CHECK(back.front().arch_learning_rate == last.arch_learning_rate);
}

TEST_CASE("GDAS with a warm-up: the temperature anneals over the epochs after it") {
  torch::manual_seed(6);
  nas::Supernet<space, nas::relax::Gumbel> net(small);
  nas::Gdas gdas(net, {.epochs = 4, .weights = {.batch_size = 8}, .arch = {.warmup_epochs = 2}});
  const auto tau_at = [&](std::int64_t epoch) {
    gdas.set_epoch(epoch);
    return net->relaxation().tau();
  };
  CHECK(tau_at(0) == 10.0);  // warm-up
  CHECK(tau_at(1) == 10.0);
  CHECK(tau_at(2) == 10.0);                  // the first architecture epoch starts at tau_max ...
  CHECK(tau_at(3) == doctest::Approx(0.1));  // ... and the last ends at tau_min
  nas::Gdas plain(net, {.epochs = 4, .weights = {.batch_size = 8}});
  plain.set_epoch(3);
  CHECK(net->relaxation().tau() == doctest::Approx(0.1));
  plain.set_epoch(1);
  CHECK(net->relaxation().tau() == doctest::Approx(10.0 - 9.9 / 3.0));  // without: GDAS's schedule
}
