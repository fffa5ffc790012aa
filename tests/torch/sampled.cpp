// Sampled search: the driver and its cache, random search, regularized evolution,
// REINFORCE, objectives, the Pareto front, histories as JSON lines, the evaluators,
// ENAS and SPOS at tiny sizes.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <set>
#include <sstream>
#include <stop_token>
#include <string>
#include <type_traits>
#include <vector>

#include <nas/controller/controller.hpp>
#include <nas/eval/expected_cost.hpp>
#include <nas/eval/from_scratch.hpp>
#include <nas/eval/metrics.hpp>
#include <nas/eval/shared_weights.hpp>
#include <nas/nn/supernet.hpp>
#include <nas/relax/single_path.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/space/enumerate.hpp>
#include <nas/space/format.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/driver.hpp>
#include <nas/strategy/enas.hpp>
#include <nas/strategy/evolution.hpp>
#include <nas/strategy/history.hpp>
#include <nas/strategy/random_search.hpp>
#include <nas/strategy/reinforce.hpp>
#include <nas/strategy/spos.hpp>

namespace {

using darts = nas::spaces::darts;
using nb201 = nas::spaces::nb201;

// A synthetic score with a known optimum: the share of kept ops that are sep_conv_3x3
// (1.0 for the cell of sep_conv_3x3 only), plus 0.01 per kept input from a computed node.
struct SepConvShare {
  int calls = 0;
  double operator()(const nas::Genotype<darts>& g) {
    ++calls;
    double score = 0.0;
    int kept = 0;
    g.for_each_cell([&](const auto& c) {
      for (std::size_t e = 0; e < c.edge_count; ++e)
        if (const auto op = c.op_name(e)) {
          ++kept;
          score += *op == "sep_conv_3x3" ? 1.0 : 0.0;
          score += std::decay_t<decltype(c)>::cell::edges[e].from >= 2 ? 0.01 : 0.0;
        }
    });
    return score / kept;
  }
};
static_assert(nas::evaluator_for<SepConvShare, darts>);

template <class Strategy>
double best_of(Strategy& s, std::size_t trials) {
  SepConvShare eval;
  return nas::run_trials(s, eval, {.trials = trials}).best().score;
}

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.size() % 2 == 1 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2.0;
}

nas::Data tiny_data(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto y = torch::randint(0, 3, {n}, torch::kLong);
  // class-dependent mean so a network can learn something
  auto x = torch::randn({n, 1, 8, 8}) + y.to(torch::kFloat).view({n, 1, 1, 1});
  return {x, y};
}

constexpr nas::Stack tiny_stack{.layers = 1,
                                .channels = 4,
                                .classes = 3,
                                .input_channels = 1,
                                .skeleton = nas::Skeleton::nb201};

}  // namespace

TEST_CASE("sampled search: evolution and REINFORCE beat random search's median") {
  // 5 seeds x 150 trials each on the DARTS space (about 1e18 architectures)
  constexpr std::size_t trials = 150;
  std::vector<double> random_best, evolution_best, reinforce_best;
  for (std::uint64_t seed = 0; seed < 5; ++seed) {
    nas::RandomSearch<darts> random({.seed = seed});
    random_best.push_back(best_of(random, trials));
    nas::Evolution<darts> evolution({.population = 30, .sample = 8, .seed = seed});
    evolution_best.push_back(best_of(evolution, trials));
    torch::manual_seed(seed);
    nas::Reinforce<darts> reinforce(nas::Controller<darts>({.hidden = 32}),
                                    {.children = 10, .learning_rate = 0.05, .seed = seed});
    reinforce_best.push_back(best_of(reinforce, trials));
  }
  MESSAGE("median best: random " << median(random_best) << ", evolution " << median(evolution_best)
                                 << ", reinforce " << median(reinforce_best));
  CHECK(median(evolution_best) > median(random_best));
  CHECK(median(reinforce_best) > median(random_best));
}

TEST_CASE("sampled search: the driver evaluates each architecture once") {
  // NAS-Bench-201 restricted to 2 ops by the evaluator's view: evolution revisits
  struct Counting {
    std::set<std::uint64_t> seen;
    int calls = 0;
    nas::Metrics operator()(const nas::Genotype<nb201>& g) {
      ++calls;
      seen.insert(nas::rank(g));
      return {.accuracy = static_cast<double>(nas::rank(g) % 97) / 97.0, .parameters = 5};
    }
  } eval;
  nas::Evolution<nb201> evolution({.population = 4, .sample = 4, .seed = 3});
  const auto r = nas::run_trials(evolution, eval, {.trials = 400});
  CHECK(r.trials.size() == 400);
  CHECK(static_cast<std::size_t>(eval.calls) == eval.seen.size());
  CHECK(r.trials.evaluations() == eval.seen.size());
  CHECK(eval.seen.size() < 400);  // tournaments of the whole population revisit
  for (const auto& t : r.trials)
    if (t.cached) CHECK(t.seconds == 0.0);
  CHECK(r.best().score == doctest::Approx(96.0 / 97.0).epsilon(0.2));
  CHECK(r.genotype == r.best().genotype);
}

TEST_CASE("sampled search: same seed, same history") {
  auto run = [](auto make) {
    SepConvShare eval;
    auto s = make();
    return nas::run_trials(s, eval, {.trials = 60}).trials;
  };
  const auto evo = [] { return nas::Evolution<darts>({.population = 10, .sample = 3, .seed = 4}); };
  auto a = run(evo), b = run(evo);
  for (auto* h : {&a, &b})
    for (auto& t : h->trials) t.seconds = 0.0;
  CHECK(a == b);
  const auto rl = [] {
    torch::manual_seed(4);
    return nas::Reinforce<darts>(nas::Controller<darts>({.hidden = 16}),
                                 {.children = 5, .seed = 4});
  };
  auto c = run(rl), d = run(rl);
  for (auto* h : {&c, &d})
    for (auto& t : h->trials) t.seconds = 0.0;
  CHECK(c == d);
}

TEST_CASE("sampled search: a user's strategy plugs into the driver") {
  // proposes the architectures of NAS-Bench-201 in rank order
  struct Sweep {
    using space = nb201;
    std::uint64_t next = 0;
    std::vector<double> scores;
    nas::Genotype<nb201> propose() { return nas::unrank<nb201>(next++); }
    void observe(const nas::Trial<nb201>& t) { scores.push_back(t.score); }
  };
  static_assert(nas::search_strategy<Sweep>);
  static_assert(nas::search_strategy<nas::Evolution<darts>>);
  static_assert(nas::search_strategy<nas::Reinforce<darts>>);
  static_assert(!nas::search_strategy<int>);
  Sweep sweep;
  auto eval = [](const nas::Genotype<nb201>& g) { return nas::rank(g) == 7 ? 1.0 : 0.5; };
  const auto r = nas::run_trials(sweep, eval, {.trials = 10});
  CHECK(sweep.scores.size() == 10);
  CHECK(nas::rank(r.genotype) == 7);
}

TEST_CASE("objectives: accuracy, MnasNet trade-off, hard budget") {
  const nas::Metrics m{.accuracy = 0.8, .parameters = 2'000'000, .latency_ms = 20.0};
  CHECK(nas::objectives::Accuracy{}(m) == 0.8);
  const nas::objectives::MnasNet at_target{.cost = nas::CostKind::latency_ms, .target = 20.0};
  const nas::objectives::MnasNet half_target{.cost = nas::CostKind::latency_ms, .target = 10.0};
  CHECK(at_target(m) == doctest::Approx(0.8));
  CHECK(half_target(m) == doctest::Approx(0.8 * std::pow(2.0, -0.07)));
  const nas::objectives::Budget loose{.cost = nas::CostKind::parameters, .limit = 3e6};
  const nas::objectives::Budget tight{.cost = nas::CostKind::parameters, .limit = 1e6};
  CHECK(loose(m) == 0.8);
  CHECK(std::isinf(tight(m)));
  const nas::objectives::Budget by_madds{.cost = nas::CostKind::multiply_adds, .limit = 1};
  CHECK_THROWS_WITH_AS((void)by_madds(m), doctest::Contains("did not measure multiply_adds"),
                       c10::Error);
}

TEST_CASE("objectives: a budget steers REINFORCE away from rejected architectures") {
  // cost = kept sep_conv_3x3 ops; over budget is rejected (reward 0)
  auto eval = [](const nas::Genotype<nb201>& g) {
    nas::Metrics m;
    std::int64_t convs = 0;
    for (std::size_t e = 0; e < 6; ++e) convs += *g.cell_at<0>().op(e) == 3 ? 1 : 0;
    m.accuracy = 0.5 + 0.08 * static_cast<double>(convs);
    m.parameters = convs;
    return m;
  };
  torch::manual_seed(0);
  nas::Reinforce<nb201> rl(nas::Controller<nb201>({.hidden = 16}),
                           {.children = 10, .learning_rate = 0.05, .seed = 1});
  const auto r =
      nas::run_trials(rl, eval, {.trials = 300},
                      nas::objectives::Budget{.cost = nas::CostKind::parameters, .limit = 2});
  CHECK(*r.best().metrics.parameters <= 2);
  CHECK(r.best().score == doctest::Approx(0.66));
  CHECK(rl.last_update().update == 30);
}

TEST_CASE("Pareto front: exactly the non-dominated points") {
  nas::History<nb201> h;
  // (accuracy, parameters): dominated ones marked
  const std::vector<std::pair<double, std::int64_t>> points = {
      {0.70, 100},  // front
      {0.80, 300},  // front
      {0.75, 300},  // dominated by (0.80, 300)
      {0.60, 150},  // dominated by (0.70, 100)
      {0.90, 900},  // front
      {0.80, 400},  // dominated by (0.80, 300)
      {0.85, 500},  // front
      {0.70, 100},  // same as the first: the first is kept
  };
  for (std::size_t i = 0; i < points.size(); ++i) {
    nas::Trial<nb201> t;
    t.genotype = nas::unrank<nb201>(i);
    t.metrics = {.accuracy = points[i].first, .parameters = points[i].second};
    t.score = points[i].first;
    h.push(t);
  }
  nas::Trial<nb201> no_cost;
  no_cost.genotype = nas::unrank<nb201>(99);
  no_cost.metrics.accuracy = 0.99;
  h.push(no_cost);  // without the cost: not on a parameters front
  CHECK(nas::pareto_front(h, nas::CostKind::parameters) == std::vector<std::size_t>{0, 1, 6, 4});
  CHECK(nas::pareto_front(h, nas::CostKind::latency_ms).empty());
}

TEST_CASE("history: JSON lines round trip; bad lines are named") {
  SepConvShare eval;
  nas::RandomSearch<darts> random({.seed = 2});
  const auto r = nas::run_trials(random, eval, {.trials = 5});
  std::stringstream ss;
  r.trials.to_jsonl(ss);
  const auto back = nas::History<darts>::read_jsonl(ss);
  CHECK(back == r.trials);

  nas::History<nb201> h;
  nas::Trial<nb201> t;
  t.genotype = nas::unrank<nb201>(5);
  t.metrics = {
      .accuracy = 0.25, .loss = 1.5, .parameters = 10, .multiply_adds = 20, .latency_ms = 0.125};
  t.score = -std::numeric_limits<double>::infinity();
  t.cached = true;
  t.round = 3;
  h.push(t);
  std::stringstream s2;
  h.to_jsonl(s2);
  CHECK(nas::History<nb201>::read_jsonl(s2) == h);

  std::stringstream bad("{\"trial\": 0, \"genotype\": \"|none~0|\", \"accuracy\": 1}\n");
  CHECK_THROWS_AS((void)nas::History<nb201>::read_jsonl(bad), nas::ParseError);
  std::stringstream missing(
      "\n{\"trial\": 0, \"genotype\": \"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\"}\n");
  CHECK_THROWS_WITH_AS((void)nas::History<nb201>::read_jsonl(missing),
                       doctest::Contains("history line 2"), nas::ParseError);
  std::stringstream other_space(
      "{\"trial\": 0, \"genotype\": \"Genotype(normal=[], normal_concat=[2], reduce=[], "
      "reduce_concat=[2])\", \"accuracy\": 0.5}\n");
  CHECK_THROWS_WITH_AS((void)nas::History<nb201>::read_jsonl(other_space),
                       doctest::Contains("not an architecture of this space"), nas::ParseError);
  std::stringstream order(
      "{\"trial\": 4, \"genotype\": \"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|\", "
      "\"accuracy\": 0.5}\n");
  CHECK_THROWS_WITH_AS((void)nas::History<nb201>::read_jsonl(order),
                       doctest::Contains("out of order"), nas::ParseError);
}

TEST_CASE("driver: bad input is refused with a message") {
  SepConvShare eval;
  nas::RandomSearch<darts> random;
  CHECK_THROWS_WITH_AS((void)nas::run_trials(random, eval, {.trials = 0}),
                       doctest::Contains("trials must be positive"), c10::Error);
  auto nan_objective = [](const nas::Metrics&) { return std::nan(""); };
  CHECK_THROWS_WITH_AS((void)nas::run_trials(random, eval, {.trials = 1}, nan_objective),
                       doctest::Contains("returned NaN"), c10::Error);
  CHECK_THROWS_WITH_AS(nas::Evolution<darts>({.population = 5, .sample = 6}),
                       doctest::Contains("cannot exceed the population"), c10::Error);
  CHECK_THROWS_WITH_AS(nas::Reinforce<darts>(nas::Controller<darts>(), {.children = 0}),
                       doctest::Contains("children must be at least 1"), c10::Error);
}

TEST_CASE("FromScratch: trains the proxy, counts its cost, is reproducible") {
  const auto train = tiny_data(96, 1);
  const auto valid = tiny_data(48, 2);
  nas::eval::FromScratch<nb201> proxy(
      train, valid,
      {.stack = tiny_stack, .epochs = 2, .data_fraction = 0.5, .batch_size = 16, .seed = 5});
  CHECK(proxy.train_data().size() == 48);
  const auto g = nas::unrank<nb201>(12345);
  torch::manual_seed(77);
  const auto m1 = proxy(g);
  const auto after = torch::rand({1}).item<double>();
  torch::manual_seed(77);
  const auto expected_after = torch::rand({1}).item<double>();
  CHECK(after == expected_after);  // the caller's random stream is left as it was
  const auto m2 = proxy(g);
  CHECK(m1 == m2);
  CHECK(m1.accuracy >= 0.0);
  CHECK(m1.accuracy <= 1.0);
  REQUIRE(m1.loss.has_value());
  const auto c = nas::cost(g, tiny_stack, 8, 8);
  CHECK(*m1.parameters == c.parameters);
  CHECK(*m1.multiply_adds == c.multiply_adds);
  CHECK_FALSE(m1.latency_ms.has_value());

  nas::eval::FromScratch<nb201> resized(
      train, valid,
      {.stack = tiny_stack,
       .resolution = 4,
       .batch_size = 32,
       .cost = {.latency = true,
                .stack = nas::Stack{.layers = 2,
                                    .channels = 4,
                                    .classes = 3,
                                    .input_channels = 1,
                                    .skeleton = nas::Skeleton::nb201}}});
  CHECK(resized.train_data().inputs.size(2) == 4);
  const auto m3 = resized(g);
  REQUIRE(m3.latency_ms.has_value());
  CHECK(*m3.latency_ms > 0.0);
  CHECK(*m3.parameters > c.parameters);  // counted at the larger stack
  CHECK_THROWS_WITH_AS(nas::eval::FromScratch<nb201>(train, valid, {.data_fraction = 0.0}),
                       doctest::Contains("data_fraction must be in (0, 1]"), c10::Error);

  // asked to stop: the training throws nas::Interrupted before its next step, the caller's random
  // stream stays as it was, and the next call (not asked) trains as if nothing had happened
  std::stop_source source;
  nas::eval::FromScratch<nb201> stoppable(train, valid,
                                          {.stack = tiny_stack,
                                           .epochs = 2,
                                           .data_fraction = 0.5,
                                           .batch_size = 16,
                                           .seed = 5,
                                           .stop = source.get_token()});
  source.request_stop();
  torch::manual_seed(77);
  CHECK_THROWS_WITH_AS(stoppable(g), doctest::Contains("was interrupted"), nas::Interrupted);
  CHECK(torch::rand({1}).item<double>() == expected_after);
  nas::eval::FromScratch<nb201> again(
      train, valid,
      {.stack = tiny_stack, .epochs = 2, .data_fraction = 0.5, .batch_size = 16, .seed = 5});
  CHECK(again(g) == m1);
}

TEST_CASE("SharedWeights: scores a path and leaves the supernet's state as it was") {
  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::SinglePath> net(tiny_stack);
  const auto valid = tiny_data(40, 3);
  nas::eval::SharedWeights<nb201> eval(net, valid, {.samples = 30, .batch_size = 16});
  CHECK(eval.data().size() == 30);
  std::vector<torch::Tensor> before;
  for (const auto& t : net->parameters()) before.push_back(t.clone());
  for (const auto& t : net->buffers()) before.push_back(t.clone());
  const auto g = nas::unrank<nb201>(4321);
  const auto m1 = eval(g);
  const auto m2 = eval(g);
  CHECK(m1 == m2);
  CHECK(m1.accuracy >= 0.0);
  CHECK(m1.accuracy <= 1.0);
  std::size_t i = 0;
  for (const auto& t : net->parameters()) CHECK(torch::equal(t, before[i++]));
  for (const auto& t : net->buffers()) CHECK(torch::equal(t, before[i++]));
  CHECK(net->path() == g);

  // costs build a network (random initial weights): the caller's stream is left alone
  nas::eval::SharedWeights<nb201> with_costs(net, valid, {.cost = {.count = true}});
  torch::manual_seed(5);
  const auto m3 = with_costs(g);
  const auto next = torch::rand({1}).item<double>();
  torch::manual_seed(5);
  CHECK(next == torch::rand({1}).item<double>());
  CHECK(*m3.parameters == nas::cost(g, tiny_stack, 8, 8).parameters);
}

TEST_CASE("expected cost: softmax-weighted op costs, differentiable in alpha") {
  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::Softmax> net(tiny_stack);
  const auto costs = net->op_parameter_counts();
  REQUIRE(costs.size() == 1);
  CHECK(costs[0].sizes() == torch::IntArrayRef{6, 5});
  // none, skip_connect, avg_pool_3x3 have no parameters; the convolutions do
  for (std::int64_t e = 0; e < 6; ++e) {
    CHECK(costs[0][e][0].item<double>() == 0.0);
    CHECK(costs[0][e][1].item<double>() == 0.0);
    CHECK(costs[0][e][4].item<double>() == 0.0);
    // 3 cells (one per stage at layers = 1) of 4, 8, 16 channels: conv weights only
    // and biases (NAS-Bench-201 convolutions have a bias when their batch norm is not
    // affine, as in search): 1x1: 16 + 64 + 256 + 28; 3x3: 9 x 336 + 28
    CHECK(costs[0][e][2].item<double>() == 364.0);
    CHECK(costs[0][e][3].item<double>() == 3052.0);
  }
  const auto alphas = net->arch_parameters();
  const auto penalty = nas::expected_cost(alphas, costs);
  const auto manual = (torch::softmax(alphas[0], -1) * costs[0]).sum();
  CHECK(penalty.item<double>() == doctest::Approx(manual.item<double>()));
  penalty.backward();
  CHECK(alphas[0].grad().abs().sum().item<double>() > 0.0);
  CHECK_THROWS_WITH_AS((void)nas::expected_cost(alphas, {}),
                       doctest::Contains("one cost table per"), c10::Error);
}

TEST_CASE("ENAS: runs at tiny sizes, records every controller trial, is reproducible") {
  const auto train = tiny_data(64, 4);
  const auto valid = tiny_data(32, 5);
  auto run = [&] {
    torch::manual_seed(0);
    nas::Supernet<nb201, nas::relax::SinglePath> net(tiny_stack);
    nas::Controller<nb201> controller({.hidden = 16});
    nas::Enas<nb201> enas(net, controller,
                          {.epochs = 2,
                           .weights = {.batch_size = 16, .learning_rate = 0.05},
                           .controller_steps = 2,
                           .controller = {.children = 3, .seed = 1},
                           .reward_samples = 16,
                           .derive_samples = 4});
    int epochs_seen = 0;
    int trials_seen = 0;
    auto r = enas.search(train, valid,
                         {.on_epoch = [&](const auto&) { ++epochs_seen; },
                          .on_trial = [&](const auto&, const auto&) { ++trials_seen; }});
    CHECK(epochs_seen == 2);
    CHECK(trials_seen == 12);
    CHECK(enas.reinforce().last_update().update == 4);
    return r;
  };
  auto a = run();
  CHECK(a.genotype.valid());
  CHECK(a.trials.size() == 12);  // 2 epochs x 2 updates x 3 children
  CHECK(a.trials[11].round == 1);
  CHECK(a.epochs.size() == 2);
  REQUIRE(a.epochs[1].genotype.has_value());
  CHECK(std::isfinite(a.epochs[1].train_loss));
  auto b = run();
  CHECK(a.genotype == b.genotype);
  CHECK(a.metrics == b.metrics);
  CHECK(a.epochs[1].train_loss == b.epochs[1].train_loss);
}

TEST_CASE("SPOS: uniform paths, then evolution through the shared weights") {
  const auto train = tiny_data(64, 6);
  const auto valid = tiny_data(32, 7);
  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::SinglePath> net(tiny_stack);
  nas::Spos<nb201> spos(net, {.epochs = 2,
                              .weights = {.batch_size = 16},
                              .evolution = {.population = 5, .sample = 2, .seed = 2},
                              .trials = 12,
                              .seed = 3});
  // one callbacks shape: steps, epochs and trials of the one search
  std::vector<std::int64_t> steps;
  std::size_t epochs = 0, trials = 0;
  nas::OneShotCallbacks<nb201> callbacks{
      .on_step =
          [&](std::int64_t i, const nas::StepReport& s) {
            steps.push_back(i);
            CHECK(s.train_count == 16);
          },
      .on_epoch = [&](const nas::OneShotEpoch<nb201>&) { ++epochs; },
      .on_trial = [&](const nas::Trial<nb201>&, const nas::Trial<nb201>&) { ++trials; }};
  const auto r = spos.search(train, valid, callbacks);
  CHECK(steps == std::vector<std::int64_t>{0, 1, 2, 3, 4, 5, 6, 7});  // 2 epochs of 64 / 16
  CHECK(epochs == 2);
  CHECK(trials == 12);
  // one result shape: genotype, metrics, trials, epochs, stop
  CHECK(r.epochs.size() == 2);
  CHECK(r.trials.size() == 12);
  CHECK(r.genotype.valid());
  REQUIRE(r.metrics.has_value());
  CHECK(r.metrics->accuracy == r.best().metrics.accuracy);
  CHECK(r.stop == nas::StopReason::completed);
  CHECK(net->path() == r.genotype);
}

TEST_CASE("one result shape: a differentiable search has epochs and no trials") {
  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::Softmax> net(tiny_stack);
  nas::Darts darts(net, {.epochs = 1, .weights = {.batch_size = 16}});
  const auto r = darts.search(tiny_data(32, 8));
  CHECK(r.epochs.size() == 1);
  CHECK(r.trials.size() == 0);
  CHECK_FALSE(r.metrics.has_value());
  CHECK_THROWS_WITH((void)r.best(), doctest::Contains("recorded no trials"));
}

TEST_CASE("ENAS and SPOS: a public step trains the shared weights on one batch") {
  const auto data = tiny_data(16, 8);
  const nas::Batch batch{data.inputs, data.targets};
  const auto weights_of = [](auto& net) {
    std::vector<torch::Tensor> w;
    for (const auto& p : net->weight_parameters()) w.push_back(p.detach().clone());
    return w;
  };
  const auto moved = [](const std::vector<torch::Tensor>& a, const std::vector<torch::Tensor>& b) {
    for (std::size_t i = 0; i < a.size(); ++i)
      if (!torch::equal(a[i], b[i])) return true;
    return false;
  };
  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::SinglePath> enas_net(tiny_stack);
  nas::Enas<nb201> enas(enas_net, nas::Controller<nb201>({.hidden = 16}),
                        {.epochs = 1, .weights = {.batch_size = 16, .learning_rate = 0.05}});
  const auto before = weights_of(enas_net);
  const nas::StepReport r = enas.step(batch);
  CHECK(std::isfinite(r.train_loss));
  CHECK(r.train_count == 16);
  CHECK(r.train_correct >= 0);
  CHECK(r.skipped == 0);
  CHECK(moved(before, weights_of(enas_net)));
  CHECK(enas_net->is_training());

  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::SinglePath> spos_net(tiny_stack);
  nas::Spos<nb201> spos(spos_net, {.epochs = 1, .weights = {.batch_size = 16}, .seed = 3});
  const auto w0 = weights_of(spos_net);
  const nas::StepReport s = spos.step(batch);
  CHECK(s.train_count == 16);
  CHECK(moved(w0, weights_of(spos_net)));
  // a step draws its path from the search's generator: a fresh SPOS with the seed draws the same
  nas::Supernet<nb201, nas::relax::SinglePath> other_net(tiny_stack);
  nas::Spos<nb201> other(other_net, {.epochs = 1, .weights = {.batch_size = 16}, .seed = 3});
  (void)other.step(batch);
  CHECK(other_net->path() == spos_net->path());
}

TEST_CASE("ENAS and SPOS step: a non-finite loss stops with a message, or is skipped") {
  const auto data = tiny_data(16, 9);
  const nas::Batch bad{data.inputs * std::numeric_limits<float>::quiet_NaN(), data.targets};
  torch::manual_seed(0);
  nas::Supernet<nb201, nas::relax::SinglePath> net(tiny_stack);
  nas::Spos<nb201> stop(net, {.epochs = 1, .weights = {.batch_size = 16}});
  CHECK_THROWS_WITH_AS((void)stop.step(bad), doctest::Contains("loss is not finite"),
                       nas::NonFiniteLoss);
  nas::Spos<nb201> skip(net, {.epochs = 1, .weights = {.batch_size = 16, .skip_nonfinite = true}});
  const auto r = skip.step(bad);
  CHECK(r.skipped == 1);
  CHECK(r.train_count == 0);
}
