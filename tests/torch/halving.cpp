// Multi-fidelity trial search: successive halving keeps the best 1/eta of each rung and returns
// the top rung's best; Hyperband's brackets; the strategy observes only the children it proposed.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <map>
#include <stop_token>
#include <utility>
#include <vector>

#include <nas/spaces/nb201.hpp>
#include <nas/strategy/halving.hpp>
#include <nas/strategy/random_search.hpp>

namespace {
using space = nas::spaces::nb201;

// A strategy that counts what it observes.
struct Counting {
  using space = nas::spaces::nb201;
  nas::RandomSearch<space> inner{{.seed = 5}};
  std::vector<nas::Genotype<space>> observed;
  nas::Genotype<space> propose() { return inner.propose(); }
  void observe(const nas::Trial<space>& t) {
    observed.push_back(t.genotype);
    inner.observe(t);
  }
};

// A deterministic score per architecture: its op indices read as a number, mirrored at odd
// rungs, so the best at rung 0 is not the best at rung 1.
double value(const nas::Genotype<space>& g, std::size_t rung) {
  double v = 0.0;
  for (std::size_t e = 0; e < 6; ++e) {
    const auto op = static_cast<double>(*g.cell_at<0>().op(e));
    v = v * 5.0 + (rung % 2 == 0 ? op : 4.0 - op);
  }
  return v;
}

struct Fake {
  std::size_t rung;
  std::map<std::size_t, int>* calls;
  double operator()(const nas::Genotype<space>& g) {
    ++(*calls)[rung];
    return value(g, rung);
  }
};
}  // namespace

TEST_CASE("successive halving: each rung keeps the best 1/eta; the top rung's best wins") {
  Counting strategy;
  std::map<std::size_t, int> calls;
  const auto at_rung = [&](std::size_t rung) { return Fake{rung, &calls}; };
  const auto result =
      nas::successive_halving(strategy, at_rung, {.children = 27, .eta = 3, .rungs = 3});
  std::map<std::int64_t, std::vector<nas::Trial<space>>> by_rung;
  for (const auto& t : result.trials.trials) by_rung[t.round].push_back(t);
  REQUIRE(by_rung[0].size() == 27);
  CHECK(strategy.observed.size() == 27);  // the children it proposed, at their first rung only
  // rung 1 holds the best 9 distinct architectures of rung 0, in order of their rung-0 score
  std::vector<std::pair<double, nas::Genotype<space>>> first;
  for (const auto& t : by_rung[0])
    if (!t.cached) first.emplace_back(t.score, t.genotype);
  std::stable_sort(first.begin(), first.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  const std::size_t keep = first.size() / 3;
  REQUIRE(by_rung[1].size() == keep);
  for (std::size_t i = 0; i < keep; ++i) CHECK(by_rung[1][i].genotype == first[i].second);
  REQUIRE(by_rung[2].size() == std::max<std::size_t>(1, keep / 3));
  CHECK(calls[0] == static_cast<int>(first.size()));  // a repeated proposal: evaluated once
  CHECK(calls[1] == static_cast<int>(keep));
  // the result: the best of rung 2 by rung 2's score
  const nas::Trial<space>* top = nullptr;
  for (const auto& t : by_rung[2])
    if (top == nullptr || t.score > top->score) top = &t;
  CHECK(result.genotype == top->genotype);
  CHECK(result.metrics->accuracy == value(top->genotype, 2));
}

TEST_CASE("Hyperband: brackets from many cheap children to few expensive ones") {
  const nas::HyperbandOptions o{.eta = 3, .rungs = 3};
  CHECK(nas::hyperband_children(o, 2) == 9);
  CHECK(nas::hyperband_children(o, 1) == 5);  // ceil(3 / 2 * 3)
  CHECK(nas::hyperband_children(o, 0) == 3);
  Counting strategy;
  std::map<std::size_t, int> calls;
  const auto at_rung = [&](std::size_t rung) { return Fake{rung, &calls}; };
  const auto result = nas::hyperband(strategy, at_rung, o);
  CHECK(strategy.observed.size() == 9 + 5 + 3);
  double best = -1.0;
  std::size_t top = 0;
  for (const auto& t : result.trials.trials)
    if (t.round == 2) {
      ++top;
      best = std::max(best, t.score);
    }
  CHECK(top == 1 + 1 + 3);  // 9 -> 3 -> 1, 5 -> 1, 3
  CHECK(result.metrics->accuracy == best);
}

TEST_CASE("successive halving: a stop request, and bad options") {
  Counting strategy;
  std::map<std::size_t, int> calls;
  const auto at_rung = [&](std::size_t rung) { return Fake{rung, &calls}; };
  std::stop_source stop;
  nas::TrialCallbacks<space> callbacks;
  callbacks.stop = stop.get_token();
  callbacks.on_trial = [&](const nas::Trial<space>& t, const nas::Trial<space>&) {
    if (t.round == 1) stop.request_stop();
  };
  const auto result = nas::successive_halving(strategy, at_rung, {.children = 9}, {}, callbacks);
  CHECK(result.stop == nas::StopReason::interrupted);
  CHECK(result.trials.trials.back().round == 1);
  CHECK(result.metrics->accuracy == value(result.genotype, 1));  // the highest rung reached
  CHECK_THROWS_WITH(nas::successive_halving(strategy, at_rung, {.eta = 1}),
                    doctest::Contains("eta must be at least 2"));
  CHECK_THROWS_WITH(nas::successive_halving(strategy, at_rung, {.rungs = 2, .first_rung = 2}),
                    doctest::Contains("first_rung (2) must be below rungs (2)"));
  CHECK_THROWS_WITH(nas::successive_halving(strategy, at_rung, {.children = 0}),
                    doctest::Contains("children must be positive"));
}
