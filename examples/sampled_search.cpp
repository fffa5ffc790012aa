// sampled_search: the sampled strategies on Fashion-MNIST, on CPU, in minutes.
//
//   reinforce  an LSTM controller (nas::Controller) trained by REINFORCE on the validation
//              accuracy of each child, every child trained from scratch at a low fidelity
//              (nas::eval::FromScratch: few cells, few channels, one epoch, a data subset)
//   random     uniform samples, each trained from scratch the same way
//   evolution  regularized evolution, each child trained from scratch the same way
//   enas       the controller samples paths of one single-path supernet; shared weights
//              train on the paths, the controller on their validation accuracy
//   spos       the supernet trains on uniform paths, then evolution searches it through
//              the shared weights
//
// Every trial prints its accuracy, cost and score and the best architecture so far; the
// end prints the Pareto front of accuracy against parameters and the evaluation rate.
//
//   sampled_search --strategy reinforce --trials 30
//   sampled_search --strategy enas --epochs 5 --objective budget --budget 20000
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <string>
#include <type_traits>

#include <nas/data/idx.hpp>
#include <nas/nas.hpp>

namespace {

struct Settings {
  std::string strategy = "reinforce";
  std::string space = "nb201";
  std::string objective = "accuracy";
  double target = 20000;          // MnasNet: target parameters
  double budget = 20000;          // budget: most parameters allowed
  std::size_t trials = 30;        // reinforce, random, evolution, spos
  std::size_t children = 5;       // reinforce, enas: children per controller update
  std::int64_t child_epochs = 1;  // reinforce, random, evolution: epochs per child
  // reinforce, random, evolution: successive halving over the strategy's children, this many
  // rungs (0: off); rung r trains children 3^r times the child epochs, the best third go on
  std::size_t halving = 0;
  double learning_rate = 0.05;        // SGD learning rate of the children and the shared weights
  std::int64_t epochs = 5;            // enas, spos: epochs of shared-weight training
  std::size_t controller_steps = 10;  // enas: controller updates per epoch
  std::int64_t train = 2000;
  std::int64_t valid = 1000;
  std::int64_t batch = 32;
  std::int64_t channels = 8;
  std::int64_t layers = 1;
  std::int64_t resolution = 0;
  std::uint64_t seed = 0;
  int threads = 0;
  std::string data = nas::data::fashion_mnist_dir.string();
};

template <class S>
nas::Stack stack_of(const Settings& s) {
  return {.layers = s.layers,
          .channels = s.channels,
          .classes = 10,
          .input_channels = 1,
          .skeleton = std::is_same_v<S, nas::spaces::nb201> ? nas::Skeleton::nb201
                                                            : nas::Skeleton::darts_cifar};
}

template <class S>
void print_trial(const nas::Trial<S>& t, const nas::Trial<S>& best, std::size_t planned) {
  std::printf("trial %zu/%zu acc %.4f params %lld score %.4f %s%.2f s | best %.4f (trial %zu) %s\n",
              t.index + 1, planned, t.metrics.accuracy,
              static_cast<long long>(t.metrics.parameters.value_or(-1)), t.score,
              t.cached ? "cached " : "", t.seconds, best.score, best.index + 1,
              nas::to_string(best.genotype).c_str());
  std::fflush(stdout);
}

template <class S>
void summarize(const nas::History<S>& history, const nas::Genotype<S>& found, const nas::Metrics& m,
               double seconds) {
  std::printf("best: %s\n  accuracy %.4f, parameters %lld\n", nas::to_string(found).c_str(),
              m.accuracy, static_cast<long long>(m.parameters.value_or(-1)));
  const auto front = nas::pareto_front(history, nas::CostKind::parameters);
  if (!front.empty()) {
    std::printf("Pareto front (accuracy vs parameters):\n");
    for (const std::size_t i : front)
      std::printf("  %8lld params  acc %.4f  %s\n",
                  static_cast<long long>(*history[i].metrics.parameters),
                  history[i].metrics.accuracy, nas::to_string(history[i].genotype).c_str());
  }
  const auto evaluations = history.evaluations();
  std::printf("%zu trials, %zu evaluations in %.1f s: %.1f evaluations per minute\n",
              history.size(), evaluations, seconds,
              60.0 * static_cast<double>(evaluations) / seconds);
}

template <class S, class Objective>
void search(const Settings& s, const nas::Data& train, const nas::Data& valid,
            const Objective& objective) {
  const auto stack = stack_of<S>(s);
  const auto start = std::chrono::steady_clock::now();
  const auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  torch::manual_seed(s.seed);
  if (s.strategy == "enas" || s.strategy == "spos") {
    nas::Supernet<S, nas::relax::SinglePath> net(stack);
    nas::OneShotCallbacks<S> callbacks;
    const std::size_t planned =
        s.strategy == "enas" ? static_cast<std::size_t>(s.epochs) * s.controller_steps * s.children
                             : s.trials;
    callbacks.on_trial = [&](const nas::Trial<S>& t, const nas::Trial<S>& best) {
      print_trial(t, best, planned);
    };
    callbacks.on_epoch = [](const nas::OneShotEpoch<S>& e) {
      std::printf("%s\n", e.line().c_str());
      std::fflush(stdout);
    };
    const nas::WeightTraining weights{.batch_size = s.batch, .learning_rate = s.learning_rate};
    const nas::eval::CostOptions costs{.count = true};
    nas::OneShotResult<S> r;
    if (s.strategy == "enas") {
      nas::Controller<S> controller;
      nas::Enas<S> enas(net, controller,
                        {.epochs = s.epochs,
                         .weights = weights,
                         .controller_steps = s.controller_steps,
                         .controller = {.children = s.children, .seed = s.seed},
                         .reward_samples = s.batch,
                         .derive_samples = 10,
                         .cost = costs});
      r = enas.search(train, valid, callbacks, objective);
    } else {
      nas::Spos<S> spos(net, {.epochs = s.epochs,
                              .weights = weights,
                              .evolution = {.population = 10, .sample = 3, .seed = s.seed},
                              .trials = s.trials,
                              .seed = s.seed,
                              .cost = costs});
      r = spos.search(train, valid, callbacks, objective);
    }
    summarize(r.trials, r.genotype, *r.metrics, elapsed());
    return;
  }
  nas::eval::FromScratch<S> evaluator(train, valid,
                                      {.stack = stack,
                                       .epochs = s.child_epochs,
                                       .resolution = s.resolution,
                                       .batch_size = s.batch,
                                       .learning_rate = s.learning_rate,
                                       .seed = s.seed});
  nas::TrialCallbacks<S> callbacks;
  callbacks.on_trial = [&](const nas::Trial<S>& t, const nas::Trial<S>& best) {
    print_trial(t, best, s.trials);
  };
  auto finish = [&](const nas::TrialResult<S>& r) {
    summarize(r.trials, r.genotype, *r.metrics, elapsed());
  };
  // --halving R: `trials` children at rung 0, the best third of each rung trained 3x longer
  const auto at_rung = [&](std::size_t rung) {
    std::int64_t epochs = s.child_epochs;
    for (std::size_t r = 0; r < rung; ++r) epochs *= 3;
    return nas::eval::FromScratch<S>(train, valid,
                                     {.stack = stack,
                                      .epochs = epochs,
                                      .resolution = s.resolution,
                                      .batch_size = s.batch,
                                      .learning_rate = s.learning_rate,
                                      .seed = s.seed});
  };
  const auto drive = [&](auto& strategy) {
    if (s.halving == 0)
      return nas::run_trials(strategy, evaluator, {.trials = s.trials}, objective, callbacks);
    return nas::successive_halving(strategy, at_rung,
                                   {.children = s.trials, .eta = 3, .rungs = s.halving}, objective,
                                   callbacks);
  };
  if (s.strategy == "reinforce") {
    nas::Reinforce<S> rl(nas::Controller<S>(), {.children = s.children, .seed = s.seed});
    finish(drive(rl));
  } else if (s.strategy == "random") {
    nas::RandomSearch<S> random({.seed = s.seed});
    finish(drive(random));
  } else {
    nas::Evolution<S> evolution({.population = 10, .sample = 3, .seed = s.seed});
    finish(drive(evolution));
  }
}

template <class S>
void search(const Settings& s, const nas::Data& train, const nas::Data& valid) {
  if (s.objective == "accuracy") {
    search<S>(s, train, valid, nas::objectives::Accuracy{});
  } else if (s.objective == "mnasnet") {
    search<S>(s, train, valid,
              nas::objectives::MnasNet{.cost = nas::CostKind::parameters, .target = s.target});
  } else {
    search<S>(s, train, valid,
              nas::objectives::Budget{.cost = nas::CostKind::parameters, .limit = s.budget});
  }
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "sampled_search: REINFORCE, ENAS, random search, evolution and SPOS on "
      "Fashion-MNIST with nas"};
  Settings s;
  app.add_option("--strategy", s.strategy, "reinforce, random, evolution, enas or spos")
      ->capture_default_str()
      ->check(CLI::IsMember({"reinforce", "random", "evolution", "enas", "spos"}));
  app.add_option("--space", s.space, "nb201 or darts")
      ->capture_default_str()
      ->check(CLI::IsMember({"nb201", "darts"}));
  app.add_option("--objective", s.objective,
                 "accuracy; mnasnet (accuracy x (parameters / target)^-0.07); budget "
                 "(reject architectures over --budget parameters)")
      ->capture_default_str()
      ->check(CLI::IsMember({"accuracy", "mnasnet", "budget"}));
  app.add_option("--target", s.target, "mnasnet: target parameters")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--budget", s.budget, "budget: most parameters allowed")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  app.add_option("--trials", s.trials,
                 "architectures proposed (reinforce, random, evolution; spos: its evolution)")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--halving", s.halving,
                 "reinforce, random, evolution: successive halving in this many rungs (--trials "
                 "children at rung 0, each rung's best third trained 3x longer; 0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  app.add_option("--children", s.children, "reinforce, enas: children per controller update")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--child-epochs", s.child_epochs,
                 "reinforce, random, evolution: training epochs of each child")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--lr", s.learning_rate,
                 "SGD learning rate (children; enas, spos: shared weights), cosine-annealed")
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 10.0));
  app.add_option("--epochs", s.epochs, "enas, spos: epochs of shared-weight training")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  app.add_option("--controller-steps", s.controller_steps, "enas: controller updates per epoch")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--train", s.train, "Fashion-MNIST training images that train children/weights")
      ->capture_default_str()
      ->check(CLI::Range(8, 50000));
  app.add_option("--valid", s.valid,
                 "the next training images, held out: the validation accuracy that is the reward")
      ->capture_default_str()
      ->check(CLI::Range(8, 10000));
  app.add_option("--batch", s.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  app.add_option("--channels", s.channels, "channels of the first cells")
      ->capture_default_str()
      ->check(CLI::Range(2, 512));
  app.add_option("--layers", s.layers, "cells per stage (nb201) or cells (darts, at least 3)")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  app.add_option("--resolution", s.resolution,
                 "reinforce, random, evolution: children train on r x r images (0: 28 x 28)")
      ->capture_default_str()
      ->check(CLI::Range(0, 28));
  app.add_option("--seed", s.seed, "seed of initialization, sampling and data order")
      ->capture_default_str();
  app.add_option("--threads", s.threads, "intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_option("--data", s.data, "folder with the Fashion-MNIST .gz IDX files")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  if (s.threads > 0) torch::set_num_threads(s.threads);
  try {
    const auto all = nas::data::fashion_mnist("train", s.data);
    const auto train = all.slice(0, s.train);
    const auto valid = all.slice(s.train, s.train + s.valid);
    std::printf("Fashion-MNIST: %s on the %s space, %lld training and %lld validation images\n",
                s.strategy.c_str(), s.space.c_str(), static_cast<long long>(train.size()),
                static_cast<long long>(valid.size()));
    if (s.space == "nb201")
      search<nas::spaces::nb201>(s, train, valid);
    else
      search<nas::spaces::darts>(s, train, valid);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "sampled_search: %s\n", e.what());
    return 1;
  }
  return 0;
}
