// differentiable_search: DARTS, DrNAS and GDAS on Fashion-MNIST, on CPU, in a few minutes.
//
// The supernet is NAS-Bench-201's (every op on every edge of a 4-node cell, 3 stages) or
// DARTS's (normal and reduction cells), at reduced sizes. Each epoch prints the losses and
// accuracies of the weight and architecture steps, the derived cell and how many of its
// ops are parameter-free (a DARTS search collapsing to skip-connections shows here first).
//
//   differentiable_search --strategy darts --order 2 --space nb201 --epochs 10
//   differentiable_search --strategy drnas --aux-skip   (DrNAS's Dirichlet weights, DARTS-'s skip)
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>
#include <utility>
#include <vector>

#include <nas/data/idx.hpp>
#include <nas/nas.hpp>

namespace {

struct Settings {
  std::string strategy = "both";
  std::string space = "nb201";
  int order = 1;
  std::int64_t epochs = 10;
  std::int64_t train = 6000;
  std::int64_t test = 1000;
  std::int64_t batch = 64;
  std::int64_t channels = 8;
  std::int64_t layers = 1;
  std::uint64_t seed = 0;
  int threads = 0;
  std::string data = nas::data::fashion_mnist_dir.string();
  std::string plots;  // prefix of the SVG plots (empty: none)
  // the architecture's training at this budget (docs/search.md, "At the budget you have")
  std::int64_t warmup = 0;          // weight-only epochs first
  std::int64_t arch_steps_ref = 0;  // the steps Adam's 3e-4 was published for (0: no scaling)
  double beta_decay = 0.0;          // beta-DARTS's regularizer (0: off)
  bool aux_skip = false;            // DARTS-'s auxiliary skip connection
};

// Accuracy of the supernet in evaluation mode (GDAS: the argmax op of every edge).
template <class Net>
double accuracy(Net& net, const nas::Data& data) {
  torch::NoGradGuard no_grad;
  net->eval();
  std::int64_t correct = 0;
  for (std::int64_t i = 0; i < data.size(); i += 500) {
    const auto n = std::min<std::int64_t>(500, data.size() - i);
    correct += net->forward(data.inputs.narrow(0, i, n))
                   .argmax(1)
                   .eq(data.targets.narrow(0, i, n))
                   .sum()
                   .template item<std::int64_t>();
  }
  net->train();
  return static_cast<double>(correct) / static_cast<double>(data.size());
}

// Writes `<prefix>curves.svg` (losses and accuracies per epoch) and, per cell kind,
// `<prefix>alpha_<kind>.svg` (softmax(alpha) of every edge over the epochs, a line per op).
template <class S>
void write_plots(const std::string& prefix, const std::vector<nas::EpochReport<S>>& reports,
                 const std::vector<std::vector<torch::Tensor>>& weights) {
  std::vector<double> tl, vl, ta, va;
  for (const auto& r : reports) {
    tl.push_back(r.train_loss);
    vl.push_back(r.valid_loss);
    ta.push_back(r.train_accuracy);
    va.push_back(r.valid_accuracy);
  }
  const auto write = [](const std::string& file, const std::string& svg) {
    std::ofstream(file) << svg;
    std::printf("wrote %s\n", file.c_str());
  };
  write(prefix + "curves.svg",
        nas::viz::to_svg({{"loss", {{"train (weights)", tl}, {"valid (architecture)", vl}}},
                          {"accuracy", {{"train (weights)", ta}, {"valid (architecture)", va}}}},
                         {.title = "search curves"}));
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    (([&] {
       using C = typename S::template cell_at<I>;
       std::vector<nas::viz::Panel> panels;
       for (std::size_t e = 0; e < C::edge_count; ++e) {
         nas::viz::Panel panel{
             std::to_string(C::edges[e].from) + " -> " + std::to_string(C::edges[e].to), {}};
         for (std::size_t o = 0; o < C::op_count; ++o) {
           nas::viz::Series line{std::string(C::ops::names[o]), {}};
           for (const auto& epoch : weights)
             line.values.push_back(
                 epoch[I][static_cast<std::int64_t>(e)][static_cast<std::int64_t>(o)]
                     .template item<double>());
           panel.series.push_back(std::move(line));
         }
         panels.push_back(std::move(panel));
       }
       write(prefix + "alpha_" + std::string(C::name) + ".svg",
             nas::viz::to_svg(panels, {.title = "softmax(alpha) of the '" + std::string(C::name) +
                                                "' cell per edge",
                                       .columns = 4,
                                       .unit_range = true}));
     }()),
     ...);
  }
  (std::make_index_sequence<S::cell_count>{});
}

template <class S, class Strategy, class Net>
void run(const char* name, Strategy& strategy, Net& net, const nas::Data& train,
         const nas::Data& test, const std::string& plots) {
  std::int64_t arch = 0;
  for (const auto& a : net->arch_parameters()) arch += a.numel();
  std::printf("== %s: %lld weights, %lld architecture parameters\n", name,
              static_cast<long long>(nas::parameter_count(*net) - arch),
              static_cast<long long>(arch));
  std::vector<nas::EpochReport<S>> reports;
  std::vector<std::vector<torch::Tensor>> weights;  // per epoch, per cell kind: softmax(alpha)
  nas::Callbacks<S> callbacks;
  callbacks.on_epoch = [&](const nas::EpochReport<S>& r) {
    std::printf("%s\n", r.line().c_str());
    std::fflush(stdout);
    reports.push_back(r);
    std::vector<torch::Tensor> w;
    for (const auto& a : net->arch_parameters())
      w.push_back(torch::softmax(a.detach(), -1).clone());
    weights.push_back(std::move(w));
  };
  const auto start = std::chrono::steady_clock::now();
  const auto result = strategy.search(train, callbacks);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("%s derived: %s\n", name, nas::to_string(result.genotype).c_str());
  std::printf("%s: %.1f s, parameter-free ops %zu, supernet test accuracy %.3f\n", name, seconds,
              nas::parameter_free_count(*net, result.genotype), accuracy(net, test));
  if (!plots.empty())
    write_plots<S>(plots + (std::string(name).starts_with("GDAS")
                                ? "gdas_"
                                : (std::string(name).starts_with("DrNAS") ? "drnas_" : "darts_")),
                   reports, weights);
}

// Adam at the published 3e-4, scaled to this search's architecture steps when asked
nas::ArchTraining arch(const Settings& s) {
  return {
      .warmup_epochs = s.warmup, .reference_steps = s.arch_steps_ref, .beta_decay = s.beta_decay};
}

template <class S>
void search(const Settings& s, const nas::Data& train, const nas::Data& test) {
  const nas::Stack stack{.layers = s.layers,
                         .channels = s.channels,
                         .classes = 10,
                         .input_channels = 1,
                         .skeleton = std::is_same_v<S, nas::spaces::nb201>
                                         ? nas::Skeleton::nb201
                                         : nas::Skeleton::darts_cifar};
  if (s.strategy == "darts" || s.strategy == "both") {
    torch::manual_seed(s.seed);
    // DARTS-: an auxiliary skip connection on every edge, decaying from 1 to 0 (--aux-skip)
    nas::Supernet<S, nas::relax::Softmax> net(stack, nas::relax::Softmax{},
                                              nas::SupernetOptions{.auxiliary_skip = s.aux_skip});
    nas::Darts darts(net, {.order = s.order,
                           .epochs = s.epochs,
                           .weights = {.batch_size = s.batch},
                           .arch = arch(s)});
    run<S>(s.order == 2 ? "DARTS (second order)" : "DARTS (first order)", darts, net, train, test,
           s.plots);
  }
  if (s.strategy == "drnas") {
    torch::manual_seed(s.seed);
    nas::Supernet<S, nas::relax::Dirichlet> net(stack, nas::relax::Dirichlet{},
                                                nas::SupernetOptions{.auxiliary_skip = s.aux_skip});
    nas::DrNas<S> drnas(net, {.order = s.order,
                              .epochs = s.epochs,
                              .weights = {.batch_size = s.batch},
                              .arch = arch(s)});
    run<S>("DrNAS", drnas, net, train, test, s.plots);
  }
  if (s.strategy == "gdas" || s.strategy == "both") {
    torch::manual_seed(s.seed);
    nas::Supernet<S, nas::relax::Gumbel> net(stack, nas::relax::Gumbel{},
                                             nas::SupernetOptions{.auxiliary_skip = s.aux_skip});
    nas::Gdas gdas(net, {.epochs = s.epochs, .weights = {.batch_size = s.batch}, .arch = arch(s)});
    run<S>("GDAS", gdas, net, train, test, s.plots);
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"differentiable_search: DARTS and GDAS on Fashion-MNIST with nas"};
  Settings s;
  app.add_option("--strategy", s.strategy, "darts, drnas, gdas or both (darts and gdas)")
      ->capture_default_str()
      ->check(CLI::IsMember({"darts", "drnas", "gdas", "both"}));
  app.add_option("--space", s.space, "nb201 or darts")
      ->capture_default_str()
      ->check(CLI::IsMember({"nb201", "darts"}));
  app.add_option("--order", s.order, "DARTS: 1 (first order) or 2 (unrolled)")
      ->capture_default_str()
      ->check(CLI::IsMember({1, 2}));
  app.add_option("--epochs", s.epochs, "search epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--train", s.train,
                 "training images searched on (half for weights, half for the architecture)")
      ->capture_default_str()
      ->check(CLI::Range(8, 60000));
  app.add_option("--test", s.test, "test images for the supernet's final accuracy")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--batch", s.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  app.add_option("--channels", s.channels, "channels of the first cells")
      ->capture_default_str()
      ->check(CLI::Range(2, 512));
  app.add_option("--layers", s.layers, "cells per stage (nb201) or cells (darts, at least 3)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--warmup", s.warmup, "weight-only epochs before architecture steps")
      ->capture_default_str()
      ->check(CLI::Range(0, 100000));
  app.add_option("--arch-steps-ref", s.arch_steps_ref,
                 "architecture steps Adam's 3e-4 is meant for (GDAS 93840, DARTS 19550); the "
                 "rate is scaled by that over this search's (0: not scaled)")
      ->capture_default_str()
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app.add_option("--beta-decay", s.beta_decay,
                 "beta-DARTS regularizer weight at the last epoch, linear from 0 (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e6));
  app.add_flag("--aux-skip", s.aux_skip,
               "DARTS-: an auxiliary skip connection on every edge, decaying from 1 to 0");
  app.add_option("--seed", s.seed, "seed of initialization, sampling and data order")
      ->capture_default_str();
  app.add_option("--threads", s.threads, "intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--data", s.data, "folder with the Fashion-MNIST .gz IDX files")
      ->capture_default_str();
  app.add_option("--plots", s.plots,
                 "write SVG plots of the search curves and of softmax(alpha) per edge over the "
                 "epochs to files starting with this prefix (e.g. out/); none when empty");
  CLI11_PARSE(app, argc, argv);
  if (s.threads > 0) torch::set_num_threads(s.threads);
  try {
    const auto train_set = nas::data::fashion_mnist("train", s.data);
    const auto test_set = nas::data::fashion_mnist("test", s.data);
    const auto train = train_set.slice(0, s.train);
    const auto test = test_set.slice(0, s.test);
    std::printf(
        "Fashion-MNIST: searching on %lld training images (%lld for weights, the rest "
        "for the architecture), %lld epochs, batch %lld\n",
        static_cast<long long>(train.size()), static_cast<long long>(train.size() / 2),
        static_cast<long long>(s.epochs), static_cast<long long>(s.batch));
    if (s.space == "nb201")
      search<nas::spaces::nb201>(s, train, test);
    else
      search<nas::spaces::darts>(s, train, test);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "differentiable_search: %s\n", e.what());
    return 1;
  }
  return 0;
}
