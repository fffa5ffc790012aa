// The controller: its decision sequence, valid samples, sampling frequencies that follow
// its probabilities, log_prob of a sample equal to the sample's, gradients to every
// parameter.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>

#include <nas/controller/controller.hpp>
#include <nas/space/enumerate.hpp>
#include <nas/space/format.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>

namespace {

using small_ops =
    nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"skip", nas::ops::SkipConnect>,
               nas::Op<"pool", nas::ops::Nb201AvgPool>>;
// keep 2 distinct of 2 or 3 inputs: 1 * 2^2 * 3 * 2^2 = 48 architectures
inline constexpr auto small_dense = nas::dense_dag({.inputs = 2, .nodes = 2, .keep = 2});
using small_keep = nas::Space<nas::Cell<"normal", small_dense, small_ops>>;
// keep 2 that may repeat: C(2*2+1, 2) * C(3*2+1, 2) = 10 * 21 = 210 architectures
inline constexpr auto small_repeat =
    nas::dense_dag({.inputs = 2, .nodes = 2, .keep = 2, .repeat = true});
using small_rep = nas::Space<nas::Cell<"normal", small_repeat, small_ops>>;
// keep every edge: 3^3 = 27 architectures
inline constexpr auto small_all =
    nas::make_dag({.inputs = 1, .output = nas::last_node}, {{0, 1}, {0, 2}, {1, 2}});
using small_every = nas::Space<nas::Cell<"cell", small_all, small_ops>>;

// Draws `n` samples and checks every architecture's frequency against exp(log_prob)
// within 5 standard errors (a false alarm has probability about 6e-7 per architecture),
// and that the probabilities of all architectures sum to 1.
template <class S>
void check_frequencies(std::uint64_t n, double temperature) {
  torch::manual_seed(3);
  nas::Controller<S> c({.hidden = 16, .temperature = temperature, .init_range = 1.0});
  nas::Rng rng(11);
  std::map<std::uint64_t, std::uint64_t> counts;
  {
    torch::NoGradGuard no_grad;
    for (std::uint64_t i = 0; i < n; ++i) ++counts[nas::rank(c->sample(rng).genotype)];
  }
  double total = 0.0;
  std::uint64_t index = 0;
  torch::NoGradGuard no_grad;
  for (const auto& g : nas::architectures<S>()) {
    const double p = std::exp(c->log_prob(g).template item<double>());
    total += p;
    const double freq = static_cast<double>(counts[index]) / static_cast<double>(n);
    const double se = std::sqrt(p * (1.0 - p) / static_cast<double>(n));
    CHECK_MESSAGE(std::abs(freq - p) <= 5.0 * se + 1e-12,
                  nas::to_string(g) << ": frequency " << freq << " probability " << p);
    ++index;
  }
  CHECK(index == *S::architecture_count);
  CHECK(total == doctest::Approx(1.0).epsilon(1e-5));
}

}  // namespace

TEST_CASE("controller: decision sequence is derived from the space") {
  static_assert(nas::decisions<nas::spaces::darts>.size() == 32);  // 2 kinds x 4 nodes x (2+2)
  static_assert(nas::decisions<nas::spaces::nb201>.size() == 6);   // one op per edge
  constexpr auto& d = nas::decisions<nas::spaces::darts>;
  CHECK(d[0].kind == nas::Decision::Kind::input);
  CHECK(d[0].choices == 2);  // node 2 chooses among inputs 0 and 1
  CHECK(d[2].kind == nas::Decision::Kind::op);
  CHECK(d[2].choices == 8);
  CHECK(d[16].cell == 1);     // the reduce cell's decisions follow the normal cell's
  CHECK(d[12].choices == 5);  // node 5 has 5 predecessors
}

TEST_CASE("controller: samples are valid; log_prob of a sample equals the sample's") {
  torch::manual_seed(0);
  auto check = [](auto tag) {
    using S = decltype(tag);
    nas::Controller<S> c;
    nas::Rng rng(5);
    for (int i = 0; i < 50; ++i) {
      const auto s = c->sample(rng);
      REQUIRE(s.genotype.valid());
      const auto again = c->evaluate(s.genotype);
      CHECK(again.log_prob.template item<double>() ==
            doctest::Approx(s.log_prob.template item<double>()).epsilon(1e-6));
      CHECK(again.entropy.template item<double>() ==
            doctest::Approx(s.entropy.template item<double>()).epsilon(1e-6));
      CHECK(s.log_prob.template item<double>() <= 0.0);
      CHECK(s.entropy.template item<double>() > 0.0);
    }
    const auto g = c->greedy();
    CHECK(g.valid());
  };
  check(nas::spaces::darts{});
  check(nas::spaces::nasnet{});
  check(nas::spaces::nb201{});
}

TEST_CASE("controller: sampling frequencies follow the probabilities") {
  SUBCASE("keep 2 distinct inputs") { check_frequencies<small_keep>(8000, 1.0); }
  SUBCASE("keep 2 inputs that may repeat") { check_frequencies<small_rep>(8000, 1.0); }
  SUBCASE("keep every edge, temperature 5") { check_frequencies<small_every>(8000, 5.0); }
}

TEST_CASE("controller: same seed, same samples; decisions_of round-trips") {
  torch::manual_seed(1);
  nas::Controller<nas::spaces::darts> a;
  torch::manual_seed(1);
  nas::Controller<nas::spaces::darts> b;
  nas::Rng ra(9), rb(9);
  torch::NoGradGuard no_grad;
  for (int i = 0; i < 5; ++i) CHECK(a->sample(ra).genotype == b->sample(rb).genotype);
}

TEST_CASE("controller: the REINFORCE gradient reaches every parameter") {
  torch::manual_seed(2);
  auto check = [](auto tag) {
    using S = decltype(tag);
    nas::Controller<S> c({.hidden = 12});
    nas::Rng rng(3);
    torch::Tensor loss = torch::zeros({});
    for (int i = 0; i < 8; ++i) {
      const auto s = c->sample(rng);
      loss = loss - (i % 2 == 0 ? 1.0 : -0.5) * s.log_prob - 0.1 * s.entropy;
    }
    loss.backward();
    for (const auto& p : c->named_parameters()) {
      REQUIRE_MESSAGE(p.value().grad().defined(), p.key());
      CHECK_MESSAGE(p.value().grad().abs().sum().template item<double>() > 0.0, p.key());
    }
  };
  check(small_keep{});
  check(nas::spaces::nb201{});
  check(nas::spaces::darts{});
}

TEST_CASE("controller: bad options and genotypes are refused with a message") {
  CHECK_THROWS_WITH_AS(nas::Controller<small_keep>({.hidden = 0}),
                       doctest::Contains("hidden must be positive"), c10::Error);
  CHECK_THROWS_WITH_AS(nas::Controller<small_keep>({.temperature = 0.0}),
                       doctest::Contains("temperature must be positive"), c10::Error);
  nas::Controller<small_keep> c;
  nas::Genotype<small_keep> empty;
  CHECK_THROWS_AS((void)c->log_prob(empty), nas::InvalidArgument);
}
