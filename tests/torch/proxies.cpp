// Zero-cost proxies (nas/eval/proxies.hpp): each proxy's mechanism against a hand computation
// (NASWOT's kernel and log-determinant, synflow's closed form on linear layers, grad_norm and
// snip from the closed-form cross-entropy gradient, jacob_cov's eigenvalues of known
// correlation matrices), the ReLU tap on a real network (ReLUs counted by hand), the state every
// proxy must leave as it found it, and nas::eval::ZeroCost in a trial search.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <vector>

#include <nas/eval/proxies.hpp>
#include <nas/ops/relu.hpp>
#include <nas/space/format.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/driver.hpp>
#include <nas/strategy/evolution.hpp>
#include <nas/strategy/random_search.hpp>
#include <nas/train/checkpoint.hpp>

namespace {

using nb201 = nas::spaces::nb201;

// ---- small modules with known behaviour
struct ReluOnlyImpl : torch::nn::Module {  // y = relu(x): the codes are the inputs' signs
  torch::Tensor forward(const torch::Tensor& x) { return nas::ops::relu(x); }
};
TORCH_MODULE(ReluOnly);
struct SquareSumImpl : torch::nn::Module {  // y = sum_d x_d^2: the Jacobian row is 2 x
  torch::Tensor forward(const torch::Tensor& x) { return (x * x).sum(1, true); }
};
TORCH_MODULE(SquareSum);

torch::nn::Linear linear(std::int64_t in, std::int64_t out, const torch::Tensor& w,
                         const torch::Tensor& b = {}) {
  torch::nn::Linear l(torch::nn::LinearOptions(in, out).bias(b.defined()));
  torch::NoGradGuard no_grad;
  l->weight.copy_(w);
  if (b.defined()) l->bias.copy_(b);
  return l;
}

torch::Tensor rows(std::vector<double> values, std::int64_t n) {
  return torch::tensor(values, torch::kDouble).view({n, -1});
}

constexpr nas::Stack tiny{.layers = 1,
                          .channels = 4,
                          .classes = 3,
                          .input_channels = 1,
                          .skeleton = nas::Skeleton::nb201};

nas::Genotype<nb201> genotype(const char* text) { return nas::parse<nb201>(text); }

// ---- what a proxy must leave as it found it
struct State {
  std::vector<torch::Tensor> params, buffers, grads;
  std::vector<const void*> storage;
  std::vector<bool> modes;
};
State snapshot(torch::nn::Module& m) {
  State s;
  for (const auto& p : m.parameters()) {
    s.params.push_back(p.detach().clone());
    s.storage.push_back(p.data_ptr());
    s.grads.push_back(p.grad().defined() ? p.grad().clone() : torch::Tensor());
  }
  for (const auto& b : m.buffers()) s.buffers.push_back(b.detach().clone());
  s.modes.push_back(m.is_training());
  for (const auto& sub : m.modules(false)) s.modes.push_back(sub->is_training());
  return s;
}
bool same_tensors(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a[i].defined() != b[i].defined()) return false;
    if (!a[i].defined()) continue;
    if (a[i].scalar_type() != b[i].scalar_type() || !torch::equal(a[i], b[i])) return false;
  }
  return true;
}
// bitwise: parameters (in their own storage), buffers, gradients, every module's mode
void check_same(const State& before, const State& after) {
  CHECK(same_tensors(before.params, after.params));
  CHECK(before.storage == after.storage);
  CHECK(same_tensors(before.buffers, after.buffers));
  CHECK(same_tensors(before.grads, after.grads));
  CHECK(before.modes == after.modes);
}

nas::Data tiny_data(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto y = torch::randint(0, 3, {n}, torch::kLong);
  auto x = torch::randn({n, 1, 8, 8}) + y.to(torch::kFloat).view({n, 1, 1, 1});
  return {x, y};
}

constexpr double k_jacob = 1e-5;
double jacob_term(double v) { return std::log(v + k_jacob) + 1.0 / (v + k_jacob); }

}  // namespace

// ---- the tap -------------------------------------------------------------------------------

TEST_CASE("nas::ops::relu: torch::relu's values and gradients, with a tap or without; taps nest") {
  torch::manual_seed(0);
  const auto x = torch::randn({5, 7}, torch::requires_grad());
  const auto w = torch::randn({5, 7});
  const auto expected_y = torch::relu(x);
  const auto expected_g = torch::autograd::grad({(expected_y * w).sum()}, {x})[0];
  const auto check = [&] {
    const auto y = nas::ops::relu(x);
    CHECK(torch::equal(y, expected_y));
    CHECK(torch::equal(torch::autograd::grad({(y * w).sum()}, {x})[0], expected_g));
    const auto y6 = nas::ops::relu6(x * 10);
    CHECK(torch::equal(y6, torch::nn::functional::relu6(x * 10)));
  };
  check();
  nas::ops::ReluTap outer;
  {
    nas::ops::ReluTap inner;
    check();
    CHECK(inner.relus() == 2);  // relu, relu6
    CHECK(torch::equal(inner.codes()[0], x.gt(0)));
    CHECK(torch::equal(inner.codes()[1], x.gt(0)));  // relu6 > 0 exactly where x > 0
  }
  CHECK(outer.relus() == 0);
  check();
  CHECK(outer.relus() == 2);
  CHECK(outer.code().sizes() == torch::IntArrayRef{5, 14});
}

TEST_CASE("nas::ops::ReluTap: inactive, it costs nothing and records nothing") {
  CHECK(nas::ops::detail::active_relu_tap == nullptr);
  {
    nas::ops::ReluTap tap;
    CHECK(nas::ops::detail::active_relu_tap == &tap);
  }
  CHECK(nas::ops::detail::active_relu_tap == nullptr);
}

// ---- NASWOT --------------------------------------------------------------------------------

TEST_CASE(
    "naswot: the kernel of hand-made codes counts agreements; its log-determinant is log 20") {
  // c1 = 1011, c2 = 1101, c3 = 0011 (N_A = 4):
  // hamming(c1, c2) = 2, hamming(c1, c3) = 1, hamming(c2, c3) = 3, so
  // K = [[4, 2, 3], [2, 4, 1], [3, 1, 4]] and
  // det K = 4 (4*4 - 1*1) - 2 (2*4 - 1*3) + 3 (2*1 - 4*3) = 60 - 10 - 30 = 20.
  const auto codes =
      torch::tensor({1, 0, 1, 1, 1, 1, 0, 1, 0, 0, 1, 1}).view({3, 4}).to(torch::kBool);
  const auto expected = rows({4, 2, 3, 2, 4, 1, 3, 1, 4}, 3);
  CHECK(torch::equal(nas::proxy::naswot_kernel(codes), expected));
  CHECK(torch::equal(nas::proxy::naswot_kernel(codes.to(torch::kFloat)), expected));
  CHECK(nas::proxy::naswot_score(codes) == doctest::Approx(std::log(20.0)).epsilon(1e-12));
  // two samples with one code: K is singular
  const auto twins = torch::tensor({1, 0, 1, 1, 0, 1}).view({2, 3}).to(torch::kBool);
  CHECK(torch::equal(nas::proxy::naswot_kernel(twins), rows({3, 3, 3, 3}, 2)));
  CHECK(nas::proxy::naswot_score(twins) == -std::numeric_limits<double>::infinity());
}

TEST_CASE("naswot: on a network, the codes are its ReLUs' signs, added up over its ReLUs") {
  // inputs whose signs are the codes above: one ReLU gives K, two ReLUs 2K (det 8 x 20)
  const auto x =
      torch::tensor({1.f, -1.f, 2.f, 3.f, 1.f, 1.f, -2.f, 1.f, -1.f, -3.f, 1.f, 1.f}).view({3, 4});
  ReluOnly one;
  CHECK(nas::proxy::naswot(one, x) == doctest::Approx(std::log(20.0)).epsilon(1e-12));
  auto two = torch::nn::Sequential(nas::ops::ReLU(), nas::ops::ReLU());
  CHECK(nas::proxy::naswot(two, x) == doctest::Approx(std::log(160.0)).epsilon(1e-12));
  CHECK(nas::proxy::relu_codes(two, x).sizes() == torch::IntArrayRef{3, 8});
}

TEST_CASE("naswot: a network without nas::ops::relu is refused by name") {
  torch::nn::Sequential plain(torch::nn::Linear(4, 3), torch::nn::ReLU(), torch::nn::Linear(3, 2));
  const auto x = torch::randn({3, 4});
  CHECK_THROWS_WITH((void)nas::proxy::naswot(plain, x),
                    doctest::Contains("naswot: the network applied no nas::ops::relu"));
}

TEST_CASE("naswot: a NAS-Bench-201 network's tap sees every ReLU, counted by hand") {
  torch::manual_seed(0);
  const auto x = torch::randn({6, 1, 8, 8});
  // channels 4, 8, 16 at 8x8, 4x4, 2x2 (units per ReLU: 256, 128, 64)
  // two convolutions per cell (nor_conv_3x3 on 0->1, nor_conv_1x1 on 1->3; skip_connect and
  // avg_pool_3x3 at equal channels apply no ReLU): 2 x (256 + 128 + 64) = 896 units;
  // residual blocks, two ReLU-Conv-BN each: 256 + 128 and 128 + 64 = 576; lastact: 64.
  // 11 ReLUs, 1536 units.
  nas::Network<nb201> some(
      genotype("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"),
      tiny);
  {
    nas::ops::ReluTap tap;
    torch::NoGradGuard no_grad;
    (void)some->forward(x);
    CHECK(tap.relus() == 11);
    CHECK(tap.code().sizes() == torch::IntArrayRef{6, 1536});
  }
  // every edge a 3x3 convolution: 6 ReLUs per cell (6 x (256 + 128 + 64) = 2688 units), the
  // blocks' 576 and lastact's 64: 23 ReLUs, 3328 units
  nas::Network<nb201> convs(genotype("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|nor_conv_"
                                     "3x3~0|nor_conv_3x3~1|nor_conv_3x3~2|"),
                            tiny);
  const auto codes = nas::proxy::relu_codes(convs, x);
  CHECK(codes.sizes() == torch::IntArrayRef{6, 3328});
  // the score is that of the codes (kernels added ReLU by ReLU equal the concatenation's)
  const double score = nas::proxy::naswot(convs, x);
  CHECK(score == nas::proxy::naswot_score(codes));
  CHECK(std::isfinite(score));
}

// ---- synflow -------------------------------------------------------------------------------

TEST_CASE("synflow: two linear layers give 2R by hand; parameters restored bitwise") {
  // |W1| 1 = (1 + 2 + 3, 4 + 5 + 6) = (6, 15), |W2| = (0.5, 2): R = 0.5 * 6 + 2 * 15 = 33.
  // Each layer's sum of theta dR/dtheta is R (R is linear in each layer's weights): 2R = 66.
  torch::nn::Sequential net(
      linear(3, 2, torch::tensor({1.f, -2.f, 3.f, -4.f, 5.f, -6.f}).view({2, 3})), nas::ops::ReLU(),
      linear(2, 1, torch::tensor({0.5f, -2.f}).view({1, 2})));
  const auto before = snapshot(*net);
  const auto x = torch::randn({4, 3});  // only its shape matters
  CHECK(nas::proxy::synflow(net, x) == doctest::Approx(66.0).epsilon(1e-12));
  check_same(before, snapshot(*net));
  CHECK((net->parameters()[0].scalar_type() == torch::kFloat));
  // biases take their absolute value too: |w| 1 + |b| = 6 + 4 = R, and the sum is again R
  auto one = linear(3, 1, torch::tensor({1.f, -2.f, 3.f}).view({1, 3}), torch::tensor({-4.f}));
  CHECK(nas::proxy::synflow(one, x) == doctest::Approx(10.0).epsilon(1e-12));
}

TEST_CASE("synflow: batch norm in eval mode (a one-sample batch has no statistics): 3R") {
  // eval-mode batch norm of a fresh module is x / sqrt(1 + eps) (mean 0, variance 1, weight 1,
  // bias 0): R = 33 / sqrt(1 + 1e-5); the two linear layers and the batch-norm weight each
  // contribute R, its bias (|0| = 0) nothing
  torch::nn::Sequential net(
      linear(3, 2, torch::tensor({1.f, -2.f, 3.f, -4.f, 5.f, -6.f}).view({2, 3})),
      torch::nn::BatchNorm1d(2), linear(2, 1, torch::tensor({0.5f, -2.f}).view({1, 2})));
  net->train();
  const auto before = snapshot(*net);
  CHECK(nas::proxy::synflow(net, torch::randn({4, 3})) ==
        doctest::Approx(3.0 * 33.0 / std::sqrt(1.0 + 1e-5)).epsilon(1e-12));
  check_same(before, snapshot(*net));
  CHECK(net->is_training());
}

// ---- grad_norm and snip --------------------------------------------------------------------

TEST_CASE("grad_norm and snip: a linear model's closed-form cross-entropy gradient") {
  const auto w = torch::tensor({0.5f, -1.f, 0.25f, 1.5f, 0.75f, -0.5f}).view({2, 3});
  const auto b = torch::tensor({0.1f, -0.2f});
  auto net = linear(3, 2, w, b);
  const auto x =
      torch::tensor({1.f, 2.f, -1.f, 0.f, 1.f, 3.f, -2.f, 0.5f, 1.f, 1.f, -1.f, 2.f}).view({4, 3});
  const auto t = torch::tensor({0, 1, 1, 0}, torch::kLong);
  // dL/dlogits = (softmax(logits) - onehot(t)) / N, dL/dW = G^T x, dL/db = sum_n G
  const auto xd = x.to(torch::kDouble), wd = w.to(torch::kDouble), bd = b.to(torch::kDouble);
  const auto g =
      (torch::softmax(xd.mm(wd.t()) + bd, 1) - torch::one_hot(t, 2).to(torch::kDouble)) / 4.0;
  const auto gw = g.t().mm(xd), gb = g.sum(0);
  const double expected_norm = (gw.norm() + gb.norm()).item<double>();
  const double expected_snip = ((wd * gw).abs().sum() + (bd * gb).abs().sum()).item<double>();
  // a gradient left in .grad by the caller stays there
  net->weight.mutable_grad() = torch::full({2, 3}, 7.f);
  const auto before = snapshot(*net);
  CHECK(nas::proxy::grad_norm(net, x, t) == doctest::Approx(expected_norm).epsilon(1e-6));
  CHECK(nas::proxy::snip(net, x, t) == doctest::Approx(expected_snip).epsilon(1e-6));
  check_same(before, snapshot(*net));
  CHECK(expected_norm > 0.0);
  CHECK(expected_snip > 0.0);
  // inside the caller's inference mode or no-grad scope they still see gradients
  {
    c10::InferenceMode inference;
    CHECK(nas::proxy::grad_norm(net, x, t) == doctest::Approx(expected_norm).epsilon(1e-6));
  }
  {
    torch::NoGradGuard no_grad;
    CHECK(nas::proxy::snip(net, x, t) == doctest::Approx(expected_snip).epsilon(1e-6));
  }
  check_same(before, snapshot(*net));
  // another loss: the mean squared logit (dL/dlogits = 2 logits / (N * classes))
  const nas::LossFunction squares = [](const torch::Tensor& logits, const torch::Tensor&) {
    return (logits * logits).mean();
  };
  const auto gs = 2.0 * (xd.mm(wd.t()) + bd) / 8.0;
  CHECK(nas::proxy::grad_norm(net, x, t, squares) ==
        doctest::Approx((gs.t().mm(xd).norm() + gs.sum(0).norm()).item<double>()).epsilon(1e-6));
}

// ---- jacob_cov -----------------------------------------------------------------------------

TEST_CASE("jacob_cov: a linear model's Jacobian rows are equal: eigenvalues N, 0, ..., 0") {
  // y = W x: d(sum y)/dx = 1^T W = (-3, 3, -3) for every sample; its correlation matrix is all
  // ones (3 x 3), eigenvalues 3, 0, 0
  auto net = linear(3, 2, torch::tensor({1.f, -2.f, 3.f, -4.f, 5.f, -6.f}).view({2, 3}));
  const auto before = snapshot(*net);
  const double expected = -(jacob_term(3.0) + 2.0 * jacob_term(0.0));
  CHECK(nas::proxy::jacob_cov(net, torch::randn({3, 3})) ==
        doctest::Approx(expected).epsilon(1e-9));
  check_same(before, snapshot(*net));
}

TEST_CASE("jacob_cov: rows with correlation 1/2 have eigenvalues 3/2 and 1/2") {
  // y = sum x^2: the Jacobian rows are 2 x; (1, 2, 3) and (1, 3, 2) centred are (-1, 0, 1) and
  // (-1, 1, 0): correlation 1 / (sqrt 2 sqrt 2) = 1/2, so C = [[1, 1/2], [1/2, 1]], eigenvalues
  // 1 +- 1/2
  SquareSum net;
  const auto x = torch::tensor({1.f, 2.f, 3.f, 1.f, 3.f, 2.f}).view({2, 3});
  const double expected = -(jacob_term(1.5) + jacob_term(0.5));
  CHECK(nas::proxy::jacob_cov(net, x) == doctest::Approx(expected).epsilon(1e-9));
  CHECK(nas::proxy::jacob_cov_score(rows({2, 4, 6, 2, 6, 4}, 2)) ==
        doctest::Approx(expected).epsilon(1e-12));
  // a constant row has no correlation: NaN
  CHECK(std::isnan(nas::proxy::jacob_cov_score(rows({1, 1, 1, 1, 2, 3}, 2))));
  CHECK_THROWS_WITH((void)nas::proxy::jacob_cov(net, x.slice(0, 0, 1)),
                    doctest::Contains("at least 2 samples"));
}

// ---- params and names ----------------------------------------------------------------------

TEST_CASE("params: nas::parameter_count") {
  nas::Network<nb201> net(
      genotype("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|"),
      tiny);
  CHECK(nas::proxy::params(net) == static_cast<double>(nas::parameter_count(*net)));
  auto l = linear(3, 2, torch::zeros({2, 3}), torch::zeros({2}));
  CHECK(nas::proxy::params(l) == 8.0);
}

TEST_CASE("nas::proxy::Kind: to_string and parse round-trip; an unknown name lists the known") {
  for (const auto k : nas::proxy::kinds) CHECK(nas::proxy::parse(nas::proxy::to_string(k)) == k);
  CHECK(nas::proxy::to_string(nas::proxy::Kind::jacob_cov) == "jacob_cov");
  CHECK_THROWS_WITH(
      (void)nas::proxy::parse("nwot"),
      doctest::Contains("no proxy is named 'nwot'; one of naswot, synflow, grad_norm, snip"));
}

// ---- state ---------------------------------------------------------------------------------

TEST_CASE(
    "proxies: each leaves a network's parameters, buffers, gradients and modes as they were") {
  torch::manual_seed(2);
  nas::Network<nb201> net(genotype("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_pool_"
                                   "3x3~0|nor_conv_3x3~1|skip_connect~2|"),
                          tiny);
  const auto data = tiny_data(8, 3);
  // running statistics that are not the initial ones, gradients in .grad, mixed modes
  net->train();
  torch::nn::functional::cross_entropy(net->forward(data.inputs), data.targets).backward();
  net->eval();
  net->cells()->ptr(0)->train();
  net->cells()->ptr(0)->modules(false).front()->eval();
  const auto before = snapshot(*net);
  for (const auto k : nas::proxy::kinds) {
    CAPTURE(nas::proxy::to_string(k));
    const double s = nas::proxy::score(k, net, data.inputs, data.targets);
    CHECK(std::isfinite(s));
    check_same(before, snapshot(*net));
  }
}

// ---- nas::eval::ZeroCost -------------------------------------------------------------------

TEST_CASE("ZeroCost: the proxy of the seeded network; same genotype, same score; generator kept") {
  const auto data = tiny_data(20, 4);
  const auto g =
      genotype("|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|none~2|");
  for (const auto k : {nas::proxy::Kind::naswot, nas::proxy::Kind::synflow, nas::proxy::Kind::snip,
                       nas::proxy::Kind::jacob_cov}) {
    CAPTURE(nas::proxy::to_string(k));
    nas::eval::ZeroCost<nb201> zc(data, {.proxy = k, .stack = tiny, .batch_size = 16, .seed = 5});
    static_assert(nas::evaluator_for<nas::eval::ZeroCost<nb201>, nb201>);
    torch::manual_seed(123);
    const auto generator = at::detail::getDefaultCPUGenerator().get_state();
    const auto first = zc(g);
    CHECK(torch::equal(at::detail::getDefaultCPUGenerator().get_state(), generator));
    CHECK(zc(g).accuracy == first.accuracy);
    CHECK(zc.batch().size() == 16);
    // by hand: the network built from the seed, scored on the first 16 samples
    torch::manual_seed(5);
    nas::Network<nb201> net(g, tiny);
    CHECK(first.accuracy ==
          nas::proxy::score(k, net, data.inputs.slice(0, 0, 16), data.targets.slice(0, 0, 16)));
    CHECK(first.parameters == nas::cost(g, tiny, 8, 8).parameters);
    CHECK(first.multiply_adds == nas::cost(g, tiny, 8, 8).multiply_adds);
  }
}

TEST_CASE("ZeroCost: a NaN score (output independent of the input) is reported as -infinity") {
  const auto data = tiny_data(8, 5);
  const auto none = genotype("|none~0|+|none~0|none~1|+|none~0|none~1|none~2|");
  nas::Network<nb201> net(none, tiny);
  CHECK(std::isnan(nas::proxy::jacob_cov(net, data.inputs)));
  nas::eval::ZeroCost<nb201> zc(data, {.proxy = nas::proxy::Kind::jacob_cov, .stack = tiny});
  CHECK(zc(none).accuracy == -std::numeric_limits<double>::infinity());
}

TEST_CASE("ZeroCost: scores a random search's trials, each as scoring it alone does") {
  const auto data = tiny_data(16, 6);
  nas::eval::ZeroCost<nb201> zc(data, {.proxy = nas::proxy::Kind::naswot, .stack = tiny});
  nas::RandomSearch<nb201> random({.seed = 3});
  const auto result = nas::run_trials(random, zc, {.trials = 4});
  REQUIRE(result.trials.size() == 4);
  double best = -std::numeric_limits<double>::infinity();
  for (const auto& t : result.trials) {
    CHECK(t.score == t.metrics.accuracy);
    CHECK(zc(t.genotype).accuracy == t.metrics.accuracy);
    best = std::max(best, t.score);
  }
  CHECK(result.best().score == best);
  CHECK_THROWS_WITH(nas::eval::ZeroCost<nb201>(
                        data.slice(0, 1), {.proxy = nas::proxy::Kind::jacob_cov, .stack = tiny}),
                    doctest::Contains("at least 2"));
}

// ---- CUDA ----------------------------------------------------------------------------------

TEST_SUITE("cuda") {
  TEST_CASE("proxies on CUDA: the CPU's scores, the network's state kept") {
    if (!torch::cuda::is_available()) {
      MESSAGE("no CUDA device: skipped");
      return;
    }
    // in double on both devices: TF32 (cuDNN's default for float) would make the comparison
    // one of rounding, not of the computation
    torch::manual_seed(7);
    nas::Network<nb201> cpu(genotype("|nor_conv_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|avg_"
                                     "pool_3x3~0|nor_conv_3x3~1|skip_connect~2|"),
                            tiny);
    cpu->to(torch::kDouble);
    auto gpu = std::dynamic_pointer_cast<nas::NetworkImpl<nb201>>(cpu->clone());
    gpu->to(torch::kCUDA);
    nas::Network<nb201> on_gpu(gpu);
    const auto data = tiny_data(8, 8);
    const auto before = snapshot(*on_gpu);
    for (const auto k : nas::proxy::kinds) {
      CAPTURE(nas::proxy::to_string(k));
      const double c = nas::proxy::score(k, cpu, data.inputs, data.targets);
      const double g = nas::proxy::score(k, on_gpu, data.inputs, data.targets);
      CHECK(std::isfinite(g));
      // NASWOT's codes may flip where an activation is within rounding of 0
      if (k != nas::proxy::Kind::naswot) CHECK(g == doctest::Approx(c).epsilon(1e-6));
      check_same(before, snapshot(*on_gpu));
    }
  }
}

TEST_CASE("best_of_random and Evolution::seed_population: a zero-cost warm start") {
  using S = nas::spaces::nb201;
  const auto conv3 = S::cell_at<0>::ops::find("nor_conv_3x3").value();
  // a stand-in proxy: how many nor_conv_3x3 the cell keeps
  const auto convs = [&](const nas::Genotype<S>& g) {
    double n = 0.0;
    for (std::size_t e = 0; e < S::cell_at<0>::edge_count; ++e)
      for (const std::size_t k : g.cell_at<0>().ops(e)) n += k == conv3 ? 1.0 : 0.0;
    return n;
  };
  std::size_t calls = 0;
  const auto proxy = [&](const nas::Genotype<S>& g) {
    ++calls;
    return nas::Metrics{.accuracy = convs(g)};
  };
  auto evaluator = proxy;
  const auto top = nas::eval::best_of_random<S>(evaluator, 40, 5, 3);
  CHECK(calls == 40);
  REQUIRE(top.size() == 5);
  // the same 40 draws, ranked by hand
  nas::Rng rng(3);
  std::vector<nas::Genotype<S>> drawn;
  std::vector<std::string> seen;
  while (drawn.size() < 40) {
    auto g = nas::sample<S>(rng);
    const auto text = nas::to_string(g);
    if (std::find(seen.begin(), seen.end(), text) != seen.end()) continue;
    seen.push_back(text);
    drawn.push_back(g);
  }
  std::stable_sort(drawn.begin(), drawn.end(),
                   [&](const auto& a, const auto& b) { return convs(a) > convs(b); });
  for (std::size_t i = 0; i < 5; ++i) CHECK(nas::to_string(top[i]) == nas::to_string(drawn[i]));
  CHECK(convs(top.front()) >= convs(top.back()));
  CHECK_THROWS_WITH((void)nas::eval::best_of_random<S>(evaluator, 4, 5, 0),
                    doctest::Contains("keep <= candidates"));

  // evolution proposes them first, then uniform samples to P, then mutations; a checkpoint
  // taken in between goes on with the rest of them
  nas::Evolution<S> evo({.population = 8, .sample = 2, .seed = 1});
  evo.seed_population(top);
  nas::Evolution<S> twin({.population = 8, .sample = 2, .seed = 1});
  twin.seed_population(top);
  std::vector<std::string> proposed;
  for (std::size_t i = 0; i < 2; ++i) proposed.push_back(nas::to_string(evo.propose()));
  nas::Checkpoint c;
  evo.save(c, "evo");
  nas::Evolution<S> resumed({.population = 8, .sample = 2, .seed = 1});
  resumed.load(c, "evo");
  for (std::size_t i = 2; i < 8; ++i) {
    const auto g = evo.propose();
    CHECK(nas::to_string(resumed.propose()) == nas::to_string(g));
    proposed.push_back(nas::to_string(g));
  }
  for (std::size_t i = 0; i < 5; ++i) CHECK(proposed[i] == nas::to_string(top[i]));
  for (std::size_t i = 0; i < 8; ++i) CHECK(nas::to_string(twin.propose()) == proposed[i]);
  CHECK_THROWS_WITH(evo.seed_population(top), doctest::Contains("before the first proposal"));
  nas::Evolution<S> small({.population = 3, .sample = 2});
  CHECK_THROWS_WITH(small.seed_population(top), doctest::Contains("population of 3"));
}
