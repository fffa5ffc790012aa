// The remedies for a collapsing differentiable search, each by its mechanism: DrNAS's Dirichlet
// relaxation (samples that follow their concentration, PyTorch's pathwise gradient, the mean in
// evaluation) and DARTS-'s auxiliary skip connection (what it adds to a cell, its modules, its
// linear decay over the search).
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include <nas/layout/layout.hpp>
#include <nas/nn/cell.hpp>
#include <nas/nn/supernet.hpp>
#include <nas/relax/dirichlet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/gdas.hpp>
#include <nas/strategy/perturbation.hpp>

namespace {
const nas::Stack small{.layers = 1,
                       .channels = 4,
                       .classes = 4,
                       .input_channels = 1,
                       .skeleton = nas::Skeleton::nb201};
using space = nas::spaces::nb201;
using cell_kind = space::cell_at<0>;

template <class Cell>
std::vector<std::size_t> ops_of(const Cell& cell, std::size_t e) {
  std::vector<std::size_t> out;
  for (const std::size_t k : cell.ops(e)) out.push_back(k);
  return out;
}
}  // namespace

TEST_CASE("dirichlet_sample: the samples' mean and variance are the concentration's") {
  torch::manual_seed(0);
  const auto c = torch::tensor({0.5, 1.0, 2.0, 4.5}, torch::kDouble);
  const std::int64_t n = 40000;
  const auto x = nas::dirichlet_sample(c.expand({n, 4}).contiguous());
  CHECK(torch::allclose(x.sum(-1), torch::ones({n}, torch::kDouble), 1e-12, 1e-12));
  CHECK((x > 0).all().item<bool>());
  const double total = 8.0;
  const auto mean = x.mean(0);
  const auto var = x.var(0);
  for (std::int64_t i = 0; i < 4; ++i) {
    const double ci = c[i].item<double>();
    // Dirichlet: E[x_i] = c_i / C, Var[x_i] = c_i (C - c_i) / (C^2 (C + 1))
    const double m = ci / total, v = ci * (total - ci) / (total * total * (total + 1.0));
    CHECK(mean[i].item<double>() == doctest::Approx(m).epsilon(0.02));
    CHECK(var[i].item<double>() == doctest::Approx(v).epsilon(0.05));
  }
  CHECK_THROWS_WITH((void)nas::dirichlet_sample(torch::tensor({1.0, 0.0})),
                    doctest::Contains("must be positive"));
}

TEST_CASE("dirichlet_sample: the pathwise gradient's mean is the gradient of the mean") {
  // d E[x_i] / d c_j = (delta_ij C - c_i) / C^2: averaged over many samples, the pathwise
  // gradient of sum_i w_i x_i equals sum_i w_i (delta_ij C - c_i) / C^2
  torch::manual_seed(1);
  const std::int64_t n = 40000;
  const auto c = torch::tensor({0.7, 1.5, 3.0}, torch::kDouble).requires_grad_();
  const auto w = torch::tensor({1.0, -2.0, 0.5}, torch::kDouble);
  const auto x = nas::dirichlet_sample(c.expand({n, 3}));
  const auto loss = (x * w).sum(-1).mean();
  const auto g = torch::autograd::grad({loss}, {c})[0];
  const auto cd = c.detach();
  const double total = cd.sum().item<double>();
  for (std::int64_t j = 0; j < 3; ++j) {
    double expected = 0.0;
    for (std::int64_t i = 0; i < 3; ++i)
      expected +=
          w[i].item<double>() * ((i == j ? total : 0.0) - cd[i].item<double>()) / (total * total);
    CHECK(g[j].item<double>() == doctest::Approx(expected).epsilon(0.05).scale(0.01));
  }
}

TEST_CASE(
    "relax::Dirichlet: elu(alpha) + 1, a new sample every training forward, the mean in "
    "evaluation") {
  torch::manual_seed(2);
  const auto alpha = torch::tensor({{0.0, 0.0, 0.0}, {2.0, -1.0, 0.5}});
  CHECK(torch::allclose(nas::relax::Dirichlet::concentration(alpha),
                        torch::tensor({{1.0, 1.0, 1.0}, {3.0, std::exp(-1.0), 1.5}})));
  nas::relax::Dirichlet r;
  nas::MixContext train{0, 2, 3, true, nullptr, {}};
  const auto a = r.mix(alpha, train).weights;
  const auto b = r.mix(alpha, train).weights;
  CHECK(torch::allclose(a.sum(-1), torch::ones({2}), 1e-6, 1e-6));
  CHECK_FALSE(torch::allclose(a, b));  // sampled anew
  nas::MixContext eval = train;
  eval.training = false;
  const auto c = nas::relax::Dirichlet::concentration(alpha);
  CHECK(torch::allclose(r.mix(alpha, eval).weights, c / c.sum(-1, true)));
  CHECK(torch::equal(r.mix(alpha, eval).weights, r.mix(alpha, eval).weights));
}

TEST_CASE("DrNas: the architecture step reaches alpha through the Dirichlet sample, seeded") {
  const auto run = [] {
    torch::manual_seed(4);
    nas::Supernet<space, nas::relax::Dirichlet> net(small);
    // no weight decay on alpha: only the gradient through the Dirichlet sample moves it
    nas::DrNas<space> drnas(
        net,
        {.epochs = 2, .weights = {.batch_size = 8, .steps = 2}, .arch = {.weight_decay = 0.0}});
    const nas::Data data{torch::randn({32, 1, 8, 8}), torch::randint(0, 4, {32})};
    const auto before = net->alpha_at(0).detach().clone();
    const auto result = drnas.search(data);
    CHECK_FALSE(torch::equal(before, net->alpha_at(0).detach()));
    return std::pair{nas::to_string(result.genotype), net->alpha_at(0).detach().clone()};
  };
  const auto [g1, a1] = run();
  const auto [g2, a2] = run();
  CHECK(g1 == g2);
  CHECK(torch::equal(a1, a2));
}

TEST_CASE("auxiliary skip: every edge adds weight * its input, on top of its ops") {
  // a cell whose every edge runs `none` (zero): without the skip it outputs zeros; with weight
  // b, node 1 = b x, node 2 = b x + b node1, node 3 = b x + b node1 + b node2
  const std::int64_t ch = 3;
  nas::CellShape shape;
  shape.inputs = {nas::CellInput{.channels = ch, .stride = 1, .preprocess = {}}};
  shape.edge = nas::uniform_edges(ch);
  nas::relax::Softmax r;
  nas::SearchCellImpl<cell_kind, nas::relax::Softmax> plain(shape, {false, false}, r);
  nas::SearchCellImpl<cell_kind, nas::relax::Softmax> aux(shape, {false, false}, r, true);
  CHECK(aux.parameters().size() == plain.parameters().size());  // identities: no weights
  const auto none = cell_kind::ops::find("none");
  REQUIRE(none.has_value());
  nas::EdgeMix mix;
  mix.weights = torch::zeros({6, 5});
  mix.weights.select(1, static_cast<std::int64_t>(*none)).fill_(1.0);
  const auto x = torch::randn({2, ch, 4, 4});
  CHECK(torch::equal(plain.forward({x}, mix, r), torch::zeros_like(x)));
  const double b = 0.5;
  mix.auxiliary_skip = b;
  const double expected = b + 2 * b * b + b * b * b;
  CHECK(torch::allclose(aux.forward({x}, mix, r), expected * x, 1e-6, 1e-6));
  mix.auxiliary_skip = 0.0;
  CHECK(torch::equal(aux.forward({x}, mix, r), torch::zeros_like(x)));
  // the cell built without the skip ignores the weight
  mix.auxiliary_skip = b;
  CHECK(torch::equal(plain.forward({x}, mix, r), torch::zeros_like(x)));
}

TEST_CASE(
    "auxiliary skip: identity on NAS-Bench-201, a factorized reduction on DARTS's stride-2 "
    "edges") {
  nas::Supernet<space, nas::relax::Softmax> off(small);
  nas::Supernet<space, nas::relax::Softmax> on(small, nas::relax::Softmax{},
                                               nas::SupernetOptions{.auxiliary_skip = true});
  CHECK(off->weight_parameters().size() == on->weight_parameters().size());
  using darts = nas::spaces::darts;
  const nas::Stack d{.layers = 3, .channels = 4, .classes = 4, .input_channels = 1};
  nas::Supernet<darts, nas::relax::Softmax> doff(d);
  nas::Supernet<darts, nas::relax::Softmax> don(d, nas::relax::Softmax{},
                                                nas::SupernetOptions{.auxiliary_skip = true});
  std::int64_t extra = 0, modules = 0;
  for (const auto& p : don->named_parameters())
    if (p.key().find("_aux_skip") != std::string::npos) extra += p.value().numel();
  for (const auto& m : don->named_modules())
    if (m.key().ends_with("_aux_skip")) ++modules;
  std::int64_t n_off = 0, n_on = 0;
  for (const auto& p : doff->weight_parameters()) n_off += p.numel();
  for (const auto& p : don->weight_parameters()) n_on += p.numel();
  CHECK(extra > 0);
  CHECK(n_on - n_off == extra);
  // 3 layers: two reduction cells (at 3 / 3 and 2 * 3 / 3), 8 edges leave each one's two
  // inputs, each a factorized reduction of two 1x1 convolutions (no affine batch norm)
  CHECK(modules == 8 * 2);
  const auto x = torch::randn({2, 1, 16, 16});
  CHECK(don->forward(x).sizes() == doff->forward(x).sizes());
}

TEST_CASE(
    "auxiliary skip: its weight decays linearly, (epochs - epoch) / epochs, set by the "
    "strategy") {
  CHECK(nas::auxiliary_skip_weight(0, 4) == 1.0);
  CHECK(nas::auxiliary_skip_weight(3, 4) == 0.25);
  CHECK_THROWS_WITH((void)nas::auxiliary_skip_weight(4, 4), doctest::Contains("0 <= epoch"));
  nas::Supernet<space, nas::relax::Softmax> net(small, nas::relax::Softmax{},
                                                nas::SupernetOptions{.auxiliary_skip = true});
  CHECK(net->auxiliary_skip_weight() == 1.0);
  nas::Darts darts(net, {.epochs = 5});
  for (std::int64_t e = 0; e < 5; ++e) {
    darts.set_epoch(e);
    CHECK(net->auxiliary_skip_weight() == doctest::Approx((5.0 - static_cast<double>(e)) / 5.0));
  }
  nas::Supernet<space, nas::relax::Gumbel> g(small, nas::relax::Gumbel{},
                                             nas::SupernetOptions{.auxiliary_skip = true});
  nas::Gdas gdas(g, {.epochs = 4});
  gdas.set_epoch(2);
  CHECK(g->auxiliary_skip_weight() == 0.5);
  nas::Supernet<space, nas::relax::Softmax> plain(small);
  CHECK(plain->auxiliary_skip_weight() == 0.0);
  CHECK_THROWS_WITH(plain->set_auxiliary_skip_weight(0.5),
                    doctest::Contains("SupernetOptions::auxiliary_skip = true"));
  CHECK_THROWS_WITH(net->set_auxiliary_skip_weight(-1.0), doctest::Contains(">= 0"));
}

TEST_CASE("projection: a projected edge runs its one op, a mask zeroes one weight") {
  torch::manual_seed(5);
  nas::Supernet<space, nas::relax::Softmax> net(small);
  {
    torch::NoGradGuard no_grad;
    net->alpha_at(0).copy_(torch::randn({6, 5}));
  }
  const auto x = torch::randn({4, 1, 8, 8});
  net->train();
  const auto plain = net->forward(x).detach();
  // projecting edge 2 to op 3 equals an alpha row whose softmax is exactly one-hot at 3
  net->project_op(0, 2, 3);
  CHECK(net->projected_op(0, 2) == std::optional<std::size_t>(3));
  const auto projected = net->forward(x).detach();
  CHECK_FALSE(torch::allclose(projected, plain));
  const auto saved = net->alpha_at(0).detach().clone();
  net->clear_projection();
  {
    torch::NoGradGuard no_grad;
    net->alpha_at(0)[2].fill_(-1e4);
    net->alpha_at(0)[2][3] = 1e4;
  }
  CHECK(torch::allclose(net->forward(x).detach(), projected, 1e-6, 1e-6));
  {
    torch::NoGradGuard no_grad;
    net->alpha_at(0).copy_(saved);
  }
  // candidate_weights (what nas::derive reads) follow the projection
  net->project_op(0, 2, 3);
  const auto w = net->candidate_weights(0);
  CHECK(torch::equal(w[2], torch::one_hot(torch::tensor(3), 5).to(w.dtype())));
  CHECK(torch::allclose(w[1], torch::softmax(saved[1], -1)));
  CHECK(ops_of(nas::derive(net).cell_at<0>(), 2) == std::vector<std::size_t>{3});
  // masking the projected edge's op leaves it no weight: the same as removing the edge
  net->set_mask(0, 2, 3);
  const auto masked = net->forward(x).detach();
  net->set_mask(0, 2, std::nullopt);
  CHECK(torch::allclose(net->forward(x).detach(), masked, 1e-6, 1e-6));
  net->clear_mask();
  net->remove_edge(0, 2);
  CHECK(net->edge_removed(0, 2));
  CHECK(torch::allclose(net->forward(x).detach(), masked, 1e-6, 1e-6));
  CHECK_THROWS_WITH(net->project_op(0, 6, 0), doctest::Contains("out of range"));
}

TEST_CASE(
    "derive_by_perturbation: keeps the op whose removal costs most, edge by edge, "
    "fine-tuning between decisions") {
  torch::manual_seed(6);
  nas::Supernet<space, nas::relax::Softmax> net(small);
  nas::Darts darts(net, {.epochs = 1, .weights = {.batch_size = 8, .steps = 1}});
  const nas::Data data{torch::randn({32, 1, 8, 8}), torch::randint(0, 4, {32})};
  (void)darts.search(data);
  // a planted criterion: the weight the supernet gives op (edge + 1) % 5 of each edge
  // (none, skip_connect, nor_conv_1x1, nor_conv_3x3, avg_pool_3x3, ...), read with the mask on
  const auto planted = [](std::size_t e) { return (e + 1) % 5; };
  std::vector<nas::PerturbationDecision> decisions;
  const auto before = net->weight_parameters().front().detach().clone();
  nas::PerturbationOptions pt;
  pt.tune_epochs = 1;
  pt.score = [&] {
    const auto w = net->candidate_weights(0);
    double s = 0.0;
    for (std::size_t e = 0; e < 6; ++e)
      s += w[static_cast<std::int64_t>(e)][static_cast<std::int64_t>(planted(e))].item<double>();
    return s;
  };
  pt.on_decision = [&](const nas::PerturbationDecision& d) { decisions.push_back(d); };
  const auto [train, valid] = nas::split(data, 0.5);
  const auto g = darts.derive_by_perturbation(train, valid, pt);
  REQUIRE(decisions.size() == 6);
  std::vector<std::size_t> edges;
  for (const auto& d : decisions) {
    CHECK_FALSE(d.topology);
    CHECK(d.candidates.size() == 5);  // NAS-Bench-201 keeps every edge: `none` is a candidate
    CHECK(d.kept == std::vector<std::size_t>{planted(d.edge_or_node)});
    edges.push_back(d.edge_or_node);
  }
  std::sort(edges.begin(), edges.end());
  CHECK(edges == std::vector<std::size_t>{0, 1, 2, 3, 4, 5});
  for (std::size_t e = 0; e < 6; ++e)
    CHECK(ops_of(g.cell_at<0>(), e) == std::vector<std::size_t>{planted(e)});
  // the weights were fine-tuned between decisions
  CHECK_FALSE(torch::equal(before, net->weight_parameters().front().detach()));
}

TEST_CASE("derive_by_perturbation: on DARTS's cells, ops without `none`, then each node's inputs") {
  using darts_space = nas::spaces::darts;
  torch::manual_seed(7);
  const nas::Stack d{.layers = 3, .channels = 4, .classes = 4, .input_channels = 1};
  nas::Supernet<darts_space, nas::relax::Softmax> net(d);
  nas::Darts darts(net, {.epochs = 1, .weights = {.batch_size = 4, .steps = 1}});
  const nas::Data data{torch::randn({8, 1, 16, 16}), torch::randint(0, 4, {8})};
  (void)darts.search(data);
  // planted: the normal cell keeps op 4 (sep_conv_3x3) on edges into each node from its two
  // lowest inputs; the reduction cell op 1 (max_pool_3x3) from its two highest
  using normal = darts_space::cell_at<0>;
  const auto wanted = [](std::size_t kind, std::size_t e) {
    const auto edge = normal::edges[e];
    const bool low = edge.from < 2;
    const bool high = edge.from + 2 >= edge.to;
    return kind == 0 ? (low ? 1.0 : 0.0) : (high ? 1.0 : 0.0);
  };
  nas::PerturbationOptions pt;
  pt.tune_epochs = 0;
  std::size_t topology = 0;
  pt.on_decision = [&](const nas::PerturbationDecision& dec) {
    topology += dec.topology ? 1U : 0U;
    if (!dec.topology) CHECK(dec.candidates.size() == 7);  // `none` is not a candidate
  };
  pt.score = [&] {
    double s = 0.0;
    for (std::size_t kind = 0; kind < 2; ++kind) {
      const auto w = net->candidate_weights(kind);
      const std::int64_t op = kind == 0 ? 4 : 1;
      for (std::size_t e = 0; e < normal::edge_count; ++e)
        s += (1.0 + wanted(kind, e)) * w[static_cast<std::int64_t>(e)][op].item<double>();
    }
    return s;
  };
  const auto [train, valid] = nas::split(data, 0.5);
  const auto g = darts.derive_by_perturbation(train, valid, pt);
  CHECK(topology == 8);  // 4 nodes in each of the 2 cell kinds
  for (std::size_t e = 0; e < normal::edge_count; ++e) {
    const auto n = ops_of(g.cell_at<0>(), e);
    const auto r = ops_of(g.cell_at<1>(), e);
    CHECK(n == (wanted(0, e) > 0 ? std::vector<std::size_t>{4} : std::vector<std::size_t>{}));
    CHECK(r == (wanted(1, e) > 0 ? std::vector<std::size_t>{1} : std::vector<std::size_t>{}));
  }
}

TEST_CASE("derive_by_perturbation: GDAS's sampled paths are refused by name") {
  nas::Supernet<space, nas::relax::Gumbel> net(small);
  nas::Gdas gdas(net, {.epochs = 1, .weights = {.batch_size = 8, .steps = 1}});
  const nas::Data data{torch::randn({16, 1, 8, 8}), torch::randint(0, 4, {16})};
  const auto [train, valid] = nas::split(data, 0.5);
  CHECK_THROWS_WITH((void)gdas.derive_by_perturbation(train, valid, {.tune_epochs = 0}),
                    doctest::Contains("weighs every op"));
}

TEST_CASE("derive_by_perturbation: by validation accuracy, the same twice from the same seed") {
  const auto run = [] {
    torch::manual_seed(8);
    nas::Supernet<space, nas::relax::Dirichlet> net(small);
    nas::DrNas<space> drnas(net, {.epochs = 1, .weights = {.batch_size = 8, .steps = 2}});
    const nas::Data data{torch::randn({32, 1, 8, 8}), torch::randint(0, 4, {32})};
    const auto [train, valid] = nas::split(data, 0.5);
    (void)drnas.search(train, valid);
    return nas::to_string(drnas.derive_by_perturbation(train, valid, {.tune_epochs = 1}));
  };
  CHECK(run() == run());
}

TEST_CASE(
    "derive_by_perturbation: DARTS-'s skip off while it runs; rate, skip and mask put back "
    "when it throws") {
  torch::manual_seed(9);
  nas::Supernet<space, nas::relax::Softmax> net(small, nas::relax::Softmax{},
                                                nas::SupernetOptions{.auxiliary_skip = true});
  nas::Darts darts(net, {.epochs = 2, .weights = {.batch_size = 8, .steps = 1}});
  const nas::Data data{torch::randn({32, 1, 8, 8}), torch::randint(0, 4, {32})};
  const auto [train, valid] = nas::split(data, 0.5);
  (void)darts.search(train, valid);
  const double rate = darts.learning_rate();
  CHECK(net->auxiliary_skip_weight() == 0.5);  // the last of 2 epochs
  std::vector<double> skip_seen;
  int calls = 0;
  nas::PerturbationOptions pt;
  pt.tune_epochs = 0;
  pt.score = [&] {
    skip_seen.push_back(net->auxiliary_skip_weight());
    if (++calls == 3) throw std::runtime_error("planted failure");
    return 0.0;
  };
  CHECK_THROWS_WITH((void)darts.derive_by_perturbation(train, valid, pt), "planted failure");
  CHECK(skip_seen == std::vector<double>{0.0, 0.0, 0.0});
  CHECK(net->auxiliary_skip_weight() == 0.5);
  CHECK(darts.learning_rate() == rate);
  // no mask left: the forward equals the one of a supernet with nothing projected
  const auto x = torch::randn({4, 1, 8, 8});
  net->train();
  const auto after = net->forward(x).detach();
  net->clear_projection();
  CHECK(torch::equal(net->forward(x).detach(), after));
}
