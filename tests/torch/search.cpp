// Differentiable search: DARTS's first- and second-order architecture gradients, GDAS's
// sampler, derivation rules, planted-op recovery and reproducibility.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <array>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nas/nn/supernet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/single_path.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/space/format.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/derive.hpp>
#include <nas/strategy/driver.hpp>
#include <nas/strategy/enas.hpp>
#include <nas/strategy/gdas.hpp>
#include <nas/strategy/spos.hpp>

namespace {

// ---- smooth ops (no ReLU, no max): finite differences see no kinks inside the cells
struct TanhConvImpl : torch::nn::Module {
  explicit TanhConvImpl(const nas::OpArgs& a)
      : conv(register_module(
            "conv", torch::nn::Conv2d(
                        torch::nn::Conv2dOptions(a.in, a.out, 3).padding(1).stride(a.stride)))) {}
  torch::Tensor forward(const torch::Tensor& x) { return torch::tanh(conv(x)); }
  torch::nn::Conv2d conv;
};
TORCH_MODULE(TanhConv);
struct ScaleImpl : torch::nn::Module {
  explicit ScaleImpl(const nas::OpArgs&) : w(register_parameter("w", torch::ones({1}))) {}
  torch::Tensor forward(const torch::Tensor& x) { return x * w; }
  torch::Tensor w;
};
TORCH_MODULE(Scale);
using smooth_ops = nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"tanh_conv", TanhConv>,
                              nas::Op<"skip", nas::ops::Nb201Skip>,
                              nas::Op<"avg_pool", nas::ops::Nb201AvgPool>, nas::Op<"scale", Scale>>;
using smooth_space = nas::Space<nas::Cell<"cell", nas::spaces::nb201_cell, smooth_ops>>;

// ---- ops that count their calls
std::array<int, 3> calls{};
template <int I>
struct CountImpl : torch::nn::Module {
  explicit CountImpl(const nas::OpArgs&) : w(register_parameter("w", torch::full({1}, 1.0 + I))) {}
  torch::Tensor forward(const torch::Tensor& x) {
    ++calls[I];
    return x * w;
  }
  torch::Tensor w;
};
template <int I>
struct Count : torch::nn::ModuleHolder<CountImpl<I>> {
  using torch::nn::ModuleHolder<CountImpl<I>>::ModuleHolder;
};
using counting_ops =
    nas::OpSet<nas::Op<"a", Count<0>>, nas::Op<"b", Count<1>>, nas::Op<"c", Count<2>>>;
using counting_space = nas::Space<nas::Cell<"cell", nas::spaces::nb201_cell, counting_ops>>;

}  // namespace
template <>
struct nas::layout_of<smooth_space> : std::type_identity<nas::layouts::Nb201> {};
template <>
struct nas::layout_of<counting_space> : std::type_identity<nas::layouts::Nb201> {};
namespace {

nas::Stack tiny_nb201(std::int64_t classes = 3) {
  return nas::Stack{.layers = 1,
                    .channels = 4,
                    .classes = classes,
                    .input_channels = 1,
                    .skeleton = nas::Skeleton::nb201};
}

nas::Batch batch(std::int64_t n, std::int64_t classes, torch::Dtype dtype = torch::kFloat) {
  return {torch::randn({n, 1, 8, 8}, dtype), torch::randint(classes, {n}, torch::kLong)};
}

double max_abs(const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
  double m = 0.0;
  for (std::size_t i = 0; i < a.size(); ++i)
    m = std::max(m, (a[i] - b[i]).abs().max().item<double>());
  return m;
}
double max_abs(const std::vector<torch::Tensor>& a) {
  double m = 0.0;
  for (const auto& t : a) m = std::max(m, t.abs().max().item<double>());
  return m;
}

}  // namespace

TEST_CASE("DARTS first order: the architecture gradient is plain autograd's") {
  torch::manual_seed(0);
  nas::Supernet<smooth_space, nas::relax::Softmax> net(tiny_nb201());
  nas::Darts darts(net, {.order = 1});
  const auto t = batch(4, 3), v = batch(4, 3);
  const auto g = darts.architecture_gradient(t, v);
  const auto l = torch::nn::functional::cross_entropy(net->forward(v.data), v.target);
  const auto expected = torch::autograd::grad({l}, net->arch_parameters());
  REQUIRE(g.size() == 1);
  CHECK(max_abs(g, expected) == 0.0);
  CHECK(max_abs(g) > 0.0);
}

TEST_CASE("DARTS second order: the unrolled gradient matches double backward") {
  // Exact: d/da L_val(w'(a), a) with w'(a) = w - eta (m + dL_train(w, a)/dw + wd w)
  //      = dL_val/da (w') - eta * d/da [ dL_train(w, a)/dw . v ],  v = dL_val/dw' (w'),
  // the second term by double backward. DARTS approximates it by a central difference
  // whose step has norm r (eps = r / ||v||). Its error is O(r^2) from third derivatives
  // plus rounding O(1e-16 |grad| / r) in double precision, as long as no ReLU of the
  // skeleton (residual blocks, last activation) changes sign within the step: the
  // difference of gradients then jumps, and the error is O(jump / r). Measured on this
  // net, r = 1e-2 and 1e-4 cross such kinks; r <= 1e-5 does not. At r = 1e-7 the
  // expected error is about 1e-9 relative, so a bound of 1e-6 of the gradient's size
  // leaves a wide margin while a wrong formula (sign, factor 2, missing momentum or
  // weight decay) misses by the size of the second-order term, checked to be larger.
  torch::manual_seed(1);
  nas::Supernet<smooth_space, nas::relax::Softmax> net(tiny_nb201());
  net->to(torch::kDouble);
  for (const double r : {1e-7, 1e-6}) {
    nas::Darts darts(net, {.order = 2, .unrolled_step = r});
    const auto t = batch(6, 3, torch::kDouble), v = batch(6, 3, torch::kDouble);
    darts.step(t, v);  // a first step fills SGD's momentum buffers
    const auto weights = net->weight_parameters();
    const auto alphas = net->arch_parameters();
    const double eta = darts.learning_rate();
    const auto snapshot = [&] {
      std::vector<torch::Tensor> s;
      for (const auto& w : weights) s.push_back(w.detach().clone());
      return s;
    }();
    const auto fd = darts.architecture_gradient(t, v);
    // the weights are unchanged
    CHECK(max_abs(snapshot, [&] {
            std::vector<torch::Tensor> s;
            for (const auto& w : weights) s.push_back(w.detach());
            return s;
          }()) == 0.0);
    // exact, by hand: the virtual step ...
    auto lt = torch::nn::functional::cross_entropy(net->forward(t.data), t.target);
    auto gw = torch::autograd::grad({lt}, weights, {}, false, false, true);
    {
      torch::NoGradGuard no_grad;
      auto& state = darts.weight_optimizer().state();
      for (std::size_t i = 0; i < weights.size(); ++i) {
        auto step =
            (gw[i].defined() ? gw[i] : torch::zeros_like(weights[i])) + 3e-4 * weights[i].detach();
        const auto it = state.find(weights[i].unsafeGetTensorImpl());
        if (it != state.end())
          step += 0.9 * static_cast<torch::optim::SGDParamState&>(*it->second).momentum_buffer();
        weights[i].detach().sub_(eta * step);
      }
    }
    // ... the validation gradients at w' ...
    auto lv = torch::nn::functional::cross_entropy(net->forward(v.data), v.target);
    std::vector<torch::Tensor> all(alphas);
    all.insert(all.end(), weights.begin(), weights.end());
    auto gv = torch::autograd::grad({lv}, all, {}, false, false, true);
    {
      torch::NoGradGuard no_grad;
      for (std::size_t i = 0; i < weights.size(); ++i) weights[i].detach().copy_(snapshot[i]);
    }
    // ... and the mixed second derivative by double backward at w
    lt = torch::nn::functional::cross_entropy(net->forward(t.data), t.target);
    gw = torch::autograd::grad({lt}, weights, {}, true, true, true);
    auto dot = torch::zeros({}, torch::kDouble);
    for (std::size_t i = 0; i < weights.size(); ++i)
      if (gw[i].defined() && gv[alphas.size() + i].defined())
        dot = dot + (gw[i] * gv[alphas.size() + i].detach()).sum();
    const auto hvp = torch::autograd::grad({dot}, alphas);
    std::vector<torch::Tensor> exact;
    for (std::size_t i = 0; i < alphas.size(); ++i) exact.push_back(gv[i] - eta * hvp[i]);
    const double err = max_abs(fd, exact);
    const double second = eta * max_abs(hvp);
    MESSAGE("r = " << r << ": |fd - exact| = " << err << ", |second-order term| = " << second);
    const double bound = 1e-6 * max_abs(exact);
    CHECK(second > 100.0 * bound);  // the second-order term is there to be checked
    CHECK(err <= bound);
  }
}

TEST_CASE("GDAS: each forward runs exactly the sampled op of every edge") {
  torch::manual_seed(2);
  nas::Supernet<counting_space, nas::relax::Gumbel> net(tiny_nb201());
  for (int trial = 0; trial < 5; ++trial) {
    calls = {};
    const auto y = net->forward(torch::randn({2, 1, 8, 8}));
    const auto& chosen = net->relaxation().last_choice(0);
    REQUIRE(chosen.size() == 6);
    std::array<int, 3> expected{};
    for (const auto& edge : chosen) {
      REQUIRE(edge.size() == 1);
      expected[edge[0]] += 3;  // 3 cells share the sample
    }
    CHECK(calls == expected);
    // the hard weights are exactly one-hot, so the output is the chosen path's
    (void)y;
  }
  // evaluation mode runs the argmax op of every edge
  net->eval();
  calls = {};
  net->forward(torch::randn({2, 1, 8, 8}));
  const auto argmax = net->alpha_at(0).argmax(-1);
  std::array<int, 3> expected{};
  for (std::int64_t e = 0; e < 6; ++e)
    expected[static_cast<std::size_t>(argmax[e].item<std::int64_t>())] += 3;
  CHECK(calls == expected);
}

TEST_CASE("GDAS: the straight-through gradient reaches every alpha of every edge") {
  torch::manual_seed(3);
  nas::Supernet<counting_space, nas::relax::Gumbel> net(tiny_nb201());
  const auto l = torch::nn::functional::cross_entropy(net->forward(torch::randn({4, 1, 8, 8})),
                                                      torch::randint(3, {4}, torch::kLong));
  const auto g = torch::autograd::grad({l}, net->arch_parameters())[0];
  CHECK(g.ne(0).all().item<bool>());
}

TEST_CASE("GDAS: sampled ops follow softmax(alpha) at any temperature") {
  // Gumbel-max: argmax(log softmax(alpha) + g) is distributed as softmax(alpha); the
  // temperature only shapes the gradient. 20,000 draws per temperature with a fixed seed;
  // each frequency must lie within 4.5 standard errors sqrt(p(1-p)/n) of p (a false alarm
  // has probability below 1e-5 per check for an unbiased sampler).
  const auto alpha = torch::tensor({0.5, -0.3, 1.0, 0.0, -2.0}).repeat({1000, 1});
  const auto p = torch::softmax(alpha[0], -1);
  for (const double tau : {10.0, 1.0, 0.1}) {
    torch::manual_seed(4);
    nas::relax::Gumbel gumbel;
    gumbel.set_tau(tau);
    std::array<double, 5> count{};
    const int rounds = 20;
    for (int r = 0; r < rounds; ++r) {
      const auto mix = gumbel.mix(alpha, nas::MixContext{0, 1000, 5, true});
      for (const auto& edge : mix.active) count[edge[0]] += 1;
      // the hard weights are one-hot in value
      CHECK(mix.weights.sum(-1).eq(1.0).all().item<bool>());
    }
    const double n = 1000.0 * rounds;
    for (std::int64_t k = 0; k < 5; ++k) {
      const double pk = p[k].item<double>();
      const double f = count[static_cast<std::size_t>(k)] / n;
      CHECK_MESSAGE(std::abs(f - pk) <= 4.5 * std::sqrt(pk * (1 - pk) / n),
                    "tau " << tau << " op " << k << ": frequency " << f << ", p " << pk);
    }
  }
}

TEST_CASE("derive: DARTS's rule, NAS-Bench-201's argmax, P-DARTS's cap") {
  torch::manual_seed(5);
  nas::Supernet<nas::spaces::darts, nas::relax::Softmax> net(
      nas::Stack{.layers = 3, .channels = 4});
  {
    torch::NoGradGuard no_grad;
    auto a = net->alpha<"normal">();
    a.zero_();
    // node 2 (edges 0 and 1 from inputs 0, 1): none is strongest on edge 0 but never kept
    a[0][0] = 5.0;  // none
    a[0][4] = 1.0;  // sep_conv_3x3
    a[1][7] = 2.0;  // dil_conv_5x5
    // every other edge: skip_connect strongest
    for (std::int64_t e = 2; e < 14; ++e) a[e][3] = 1.0 + 0.1 * static_cast<double>(e);
  }
  const auto g = nas::derive(net);
  const auto& normal = g.cell<"normal">();
  CHECK(normal.op_name(0) == "sep_conv_3x3");
  CHECK(normal.op_name(1) == "dil_conv_5x5");
  CHECK(g.valid());
  // nodes 3, 4, 5 keep their two strongest (latest) edges, all skip_connect: 6 identities
  CHECK(nas::detail::identity_count(normal) == 6);
  const auto capped = nas::derive(net, {.max_identity_ops = 2});
  CHECK(nas::detail::identity_count(capped.cell<"normal">()) == 2);
  CHECK(capped.valid());
  // deterministic
  CHECK(nas::derive(net) == g);

  nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> nb(
      nas::Stack{.layers = 1, .channels = 4, .skeleton = nas::Skeleton::nb201});
  {
    torch::NoGradGuard no_grad;
    auto a = nb->alpha<"cell">();
    a.zero_();
    for (std::int64_t e = 0; e < 6; ++e) a[e][e % 5] = 1.0;  // none included
  }
  CHECK(nas::to_string(nas::derive(nb)) ==
        "|none~0|+|skip_connect~0|nor_conv_1x1~1|+|nor_conv_3x3~0|avg_pool_3x3~1|none~2|");
}

namespace {
// A task whose best architecture is known: labels are the logits of a teacher that runs
// the planted architecture through a single-path supernet; the student supernet starts
// from the teacher's weights, frozen (learning rate 0), so that only its architecture can
// match them. The candidates are convolutions of different shapes, each with its own random
// weights, so their outputs are nearly uncorrelated: on every edge only the planted one
// reproduces the teacher, even inside a mixture (with correlated candidates, such as
// skip_connect and avg_pool_3x3, the relaxed optimum can lie between them). The cell has
// one edge: with frozen random weights, composed edges (a chain of three, the
// NAS-Bench-201 cell) were not recovered by either method in 120 steps, the planted
// path's share of a mixture being the product of its edges' weights.
using planted_ops =
    nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"conv_1x1", nas::ops::NorConv<1>>,
               nas::Op<"conv_3x3", nas::ops::NorConv<3>>, nas::Op<"sep_3x3", nas::ops::SepConv<3>>,
               nas::Op<"dil_3x3", nas::ops::DilConv<3>>>;
inline constexpr nas::Dag one_edge =
    nas::make_dag({.inputs = 1, .output = nas::last_node}, {{0, 1}});
using planted_space = nas::Space<nas::Cell<"cell", one_edge, planted_ops>>;

}  // namespace
template <>
struct nas::layout_of<planted_space> : std::type_identity<nas::layouts::Nb201> {};
namespace {
const nas::Stack planted_stack{.layers = 1,
                               .channels = 8,
                               .classes = 16,
                               .input_channels = 1,
                               .skeleton = nas::Skeleton::nb201};

template <class R>
std::pair<nas::Supernet<planted_space, R>, nas::Data> planted_task(
    const nas::Genotype<planted_space>& planted, std::uint64_t seed) {
  torch::manual_seed(seed);
  nas::Supernet<planted_space, nas::relax::SinglePath> teacher(planted_stack);
  teacher->set_path(planted);
  const auto x = torch::randn({512, 1, 8, 8});
  torch::Tensor y;
  {
    torch::NoGradGuard no_grad;
    y = teacher->forward(x);
  }
  nas::Supernet<planted_space, R> student(planted_stack);
  {
    torch::NoGradGuard no_grad;
    const auto source = teacher->named_parameters();
    for (auto& p : student->named_weight_parameters()) p.value().copy_(source[p.key()]);
  }
  return {student, nas::Data{x, y}};
}
// the student matches the teacher's logits
torch::Tensor distill(const torch::Tensor& logits, const torch::Tensor& teacher) {
  return torch::mse_loss(logits, teacher);
}
}  // namespace

TEST_CASE("DARTS finds a planted op") {
  for (const char* text : {"|conv_1x1~0|", "|sep_3x3~0|", "|dil_3x3~0|"}) {
    const auto planted = nas::parse_nb201<planted_space>(text);
    for (const std::uint64_t seed : {0U, 1U}) {
      auto [net, data] = planted_task<nas::relax::Softmax>(planted, seed);
      nas::Darts darts(
          net, {.epochs = 20,
                .weights = {.learning_rate = 0.0, .learning_rate_min = 0.0, .loss = distill},
                .arch = {.learning_rate = 0.05}});
      const auto result = darts.search(data);
      CHECK_MESSAGE(result.genotype == planted,
                    "DARTS, seed " << seed << ": " << nas::to_string(result.genotype));
    }
  }
}

TEST_CASE("same seed, same device: the same search twice gives the same architecture") {
  const auto run_darts = [](int order) {
    torch::manual_seed(7);
    nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> net(planted_stack);
    nas::Darts darts(net, {.order = order, .epochs = 2, .weights = {.batch_size = 16}});
    const nas::Data data{torch::randn({64, 1, 8, 8}), torch::randint(16, {64}, torch::kLong)};
    const auto result = darts.search(data);
    return std::pair{result.genotype, net->alpha_at(0).detach().clone()};
  };
  for (const int order : {1, 2}) {
    const auto [g1, a1] = run_darts(order);
    const auto [g2, a2] = run_darts(order);
    CHECK(g1 == g2);
    CHECK(torch::equal(a1, a2));
  }
  const auto run_gdas = [] {
    torch::manual_seed(8);
    nas::Supernet<nas::spaces::nb201, nas::relax::Gumbel> net(planted_stack);
    nas::Gdas gdas(net, {.epochs = 2, .weights = {.batch_size = 16}});
    const nas::Data data{torch::randn({64, 1, 8, 8}), torch::randint(16, {64}, torch::kLong)};
    const auto result = gdas.search(data);
    return std::pair{result.genotype, net->alpha_at(0).detach().clone()};
  };
  const auto [g1, a1] = run_gdas();
  const auto [g2, a2] = run_gdas();
  CHECK(g1 == g2);
  CHECK(torch::equal(a1, a2));
}

TEST_CASE("search reports: per-epoch losses, genotype and parameter-free op counts") {
  torch::manual_seed(9);
  nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> net(planted_stack);
  nas::Darts darts(net, {.epochs = 2, .weights = {.batch_size = 16}});
  const nas::Data data{torch::randn({64, 1, 8, 8}), torch::randint(16, {64}, torch::kLong)};
  std::int64_t steps = 0;
  std::vector<std::string> lines;
  nas::Callbacks<nas::spaces::nb201> callbacks;
  callbacks.on_step = [&](std::int64_t, const nas::StepReport& r) {
    ++steps;
    CHECK(r.train_count == 16);
  };
  callbacks.on_epoch = [&](const nas::EpochReport<nas::spaces::nb201>& r) {
    lines.push_back(r.line());
  };
  const auto result = darts.search(data, callbacks);
  CHECK(steps == 4);  // 2 epochs of 32 / 16 training batches
  REQUIRE(result.epochs.size() == 2);
  CHECK(result.epochs[1].learning_rate < result.epochs[0].learning_rate);
  CHECK(result.genotype == result.epochs.back().genotype);
  CHECK(result.epochs[0].parameter_free_ops ==
        nas::parameter_free_count(*net, result.epochs[0].genotype));
  CHECK(lines[0].find("param_free_ops") != std::string::npos);
  CHECK(lines[0].find(nas::to_string(result.epochs[0].genotype)) != std::string::npos);
}

TEST_CASE("DARTS+ stop: the search ends when a derived cell reaches the identity limit") {
  torch::manual_seed(10);
  nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> net(planted_stack);
  {
    torch::NoGradGuard no_grad;
    net->alpha_at(0).select(1, 1).fill_(10.0);  // skip_connect everywhere
  }
  nas::Darts darts(net, {.epochs = 5, .weights = {.batch_size = 16}, .stop_at_identity_ops = 2});
  const nas::Data data{torch::randn({32, 1, 8, 8}), torch::randint(16, {32}, torch::kLong)};
  const auto result = darts.search(data);
  CHECK(result.stop == nas::StopReason::identity_ops);
  CHECK(result.epochs.size() == 1);
}

TEST_CASE("SinglePath: runs only the path it is given") {
  torch::manual_seed(11);
  nas::Supernet<counting_space, nas::relax::SinglePath> net(tiny_nb201());
  CHECK(net->arch_parameters().empty());
  CHECK_THROWS_WITH(net->forward(torch::randn({2, 1, 8, 8})),
                    doctest::Contains("call set_path(genotype) or sample_path(rng)"));
  nas::Rng rng(3);
  for (int trial = 0; trial < 4; ++trial) {
    const auto g = net->sample_path(rng);
    calls = {};
    net->forward(torch::randn({2, 1, 8, 8}));
    std::array<int, 3> expected{};
    for (std::size_t e = 0; e < 6; ++e) expected[*g.cell_at<0>().op(e)] += 3;
    CHECK(calls == expected);
    CHECK(net->path() == g);
  }
}

TEST_CASE("bad input: clear errors") {
  torch::manual_seed(12);
  nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> net(planted_stack);
  CHECK_THROWS_WITH(net->forward(torch::randn({2, 3, 8, 8})),
                    doctest::Contains("expects images [N, 1, H, W]"));
  CHECK_THROWS_WITH(net->forward(torch::randn({2, 1, 6, 6})), doctest::Contains("divisible by 4"));
  CHECK_THROWS_WITH((nas::Darts(net, {.order = 3})), doctest::Contains("order is 1"));
  CHECK_THROWS_WITH((nas::Darts(net, {.epochs = 0})), doctest::Contains("epochs must be positive"));
  CHECK_THROWS_WITH(net->alpha("normal"), doctest::Contains("no cell kind named 'normal'"));
  CHECK_THROWS_WITH(nas::split(nas::Data{torch::randn({4, 1}), torch::zeros({3})}),
                    doctest::Contains("same N"));
  // a NaN loss stops with the reason and leaves the architecture untouched
  nas::Darts darts(net, {.epochs = 1, .weights = {.batch_size = 4}});
  const auto before = net->alpha_at(0).detach().clone();
  auto x = torch::randn({4, 1, 8, 8});
  x[0][0][0][0] = std::numeric_limits<float>::quiet_NaN();
  const nas::Batch bad{x, torch::zeros({4}, torch::kLong)};
  CHECK_THROWS_WITH(darts.step(bad, bad), doctest::Contains("not finite"));
  CHECK(torch::equal(before, net->alpha_at(0)));
  CHECK_THROWS_WITH((nas::Supernet<nas::spaces::darts, nas::relax::Softmax>(
                        nas::Stack{.skeleton = nas::Skeleton::nb201})),
                    doctest::Contains("Skeleton::darts_cifar"));
}

TEST_CASE("options: with_ setters chain in any order, equal designated initializers, copy") {
  const auto fluent = nas::DartsOptions{}.with_epochs(10).with_order(2).with_weights(
      nas::WeightTraining{}.with_learning_rate(0.05).with_batch_size(32));
  const auto reversed =
      nas::DartsOptions{}
          .with_weights(nas::WeightTraining{}.with_batch_size(32).with_learning_rate(0.05))
          .with_order(2)
          .with_epochs(10);
  const nas::DartsOptions designated{
      .order = 2, .epochs = 10, .weights = {.batch_size = 32, .learning_rate = 0.05}};
  for (const auto* o : {&fluent, &reversed}) {
    CHECK(o->order == designated.order);
    CHECK(o->epochs == designated.epochs);
    CHECK(o->weights.batch_size == designated.weights.batch_size);
    CHECK(o->weights.learning_rate == designated.weights.learning_rate);
    CHECK(o->weights.momentum == designated.weights.momentum);  // the rest at its default
  }
  const nas::GdasOptions base{};
  const auto changed = base.with_epochs(3).with_arch(nas::ArchTraining{}.with_warmup_epochs(1));
  CHECK(base.epochs == 240);  // a setter returns a copy, never modifies its object
  CHECK(base.arch.warmup_epochs == 0);
  CHECK(changed.epochs == 3);
  CHECK(changed.arch.warmup_epochs == 1);
  // the sampled strategies' options have them too
  CHECK(nas::EnasOptions{}.with_controller_steps(3).controller_steps == 3);
  CHECK(nas::SposOptions{}.with_trials(7).trials == 7);
  CHECK(nas::TrialOptions{}.with_cache(false).with_trials(4).trials == 4);
}

TEST_CASE("shared weight training: steps per epoch, Nesterov and the checks name the field") {
  torch::manual_seed(13);
  nas::Supernet<nas::spaces::nb201, nas::relax::Gumbel> net(planted_stack);
  const nas::Data data{torch::randn({64, 1, 8, 8}), torch::randint(16, {64}, torch::kLong)};
  std::int64_t steps = 0;
  nas::Callbacks<nas::spaces::nb201> callbacks;
  callbacks.on_step = [&](std::int64_t, const nas::StepReport&) { ++steps; };
  nas::Gdas gdas(net, {.epochs = 2, .weights = {.batch_size = 8, .steps = 3}});
  (void)gdas.search(data, callbacks);
  CHECK(steps == 6);  // 3 per epoch, not the 4 batches of 32 / 8
  nas::Supernet<nas::spaces::nb201, nas::relax::Softmax> soft(planted_stack);
  CHECK_THROWS_WITH((nas::Darts(soft, {.order = 2, .weights = {.nesterov = true}})),
                    doctest::Contains("plain momentum"));
  CHECK_THROWS_WITH((nas::Darts(soft, {.weights = {.batch_size = 0}})),
                    doctest::Contains("nas::Darts: weights.batch_size must be at least 1"));
  CHECK_THROWS_WITH((nas::Gdas(net, {.arch = {.beta1 = 1.0}})),
                    doctest::Contains("nas::Gdas: arch.beta1 and arch.beta2"));
  CHECK_THROWS_WITH((nas::Gdas(net, {.weights = {.learning_rate = 0.1, .learning_rate_min = 0.2}})),
                    doctest::Contains("learning_rate_min <= learning_rate"));
}

TEST_CASE("GDAS: no architecture step during ArchTraining::warmup_epochs") {
  torch::manual_seed(14);
  nas::Supernet<nas::spaces::nb201, nas::relax::Gumbel> net(planted_stack);
  nas::Gdas gdas(net, {.epochs = 3, .weights = {.batch_size = 4}, .arch = {.warmup_epochs = 1}});
  const nas::Batch b{torch::randn({4, 1, 8, 8}), torch::randint(16, {4}, torch::kLong)};
  const auto before = net->alpha_at(0).detach().clone();
  gdas.set_epoch(0);
  const auto warm = gdas.step(b, b);
  CHECK(warm.valid_count == 0);
  CHECK(torch::equal(before, net->alpha_at(0)));
  gdas.set_epoch(1);
  const auto r = gdas.step(b, b);
  CHECK(r.valid_count == 4);
  CHECK_FALSE(torch::equal(before, net->alpha_at(0)));
}

static_assert(nas::checkpointable<nas::Darts<nas::spaces::nb201>>);
static_assert(nas::checkpointable<nas::Gdas<nas::spaces::nb201>>);
static_assert(nas::checkpointable<nas::Enas<nas::spaces::nb201>>);
static_assert(nas::checkpointable<nas::Spos<nas::spaces::nb201>>);
