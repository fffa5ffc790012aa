#pragma once
/// @file
/// nas::run::Session: a whole architecture search as a long-running job (search, run folder,
/// final training, comparison with random architectures), checkpointed and resumable end to end.
/// nas::run::open_run opens a new run or the one to resume; nas::run::run_session
/// (nas/run/program.hpp) runs it on a built-in space by name.

#include <torch/torch.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <thread>
#include <type_traits>
#include <utility>
#include <vector>

#include "nas/controller/controller.hpp"
#include "nas/core/json.hpp"
#include "nas/core/random.hpp"
#include "nas/core/text_cursor.hpp"
#include "nas/data/data.hpp"
#include "nas/eval/from_scratch.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/eval/proxies.hpp"
#include "nas/layout/stack.hpp"
#include "nas/nn/supernet.hpp"
#include "nas/ops/cost.hpp"
#include "nas/relax/gumbel.hpp"
#include "nas/relax/partial_channel.hpp"
#include "nas/relax/single_path.hpp"
#include "nas/relax/softmax.hpp"
#include "nas/run/baseline.hpp"
#include "nas/run/folder.hpp"
#include "nas/run/output.hpp"
#include "nas/run/progress.hpp"
#include "nas/run/settings.hpp"
#include "nas/run/signals.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/format.hpp"
#include "nas/space/format_json.hpp"
#include "nas/spaces/darts.hpp"
#include "nas/spaces/mobile.hpp"
#include "nas/spaces/nb201.hpp"
#include "nas/strategy/darts.hpp"
#include "nas/strategy/driver.hpp"
#include "nas/strategy/enas.hpp"
#include "nas/strategy/evolution.hpp"
#include "nas/strategy/gdas.hpp"
#include "nas/strategy/history.hpp"
#include "nas/strategy/random_search.hpp"
#include "nas/strategy/reinforce.hpp"
#include "nas/strategy/spos.hpp"
#include "nas/train/checkpoint.hpp"
#include "nas/train/options.hpp"
#include "nas/viz/dot.hpp"
#include "nas/viz/plot.hpp"

namespace nas::run {

/// The images of a run: the training split (the search's training and validation images and
/// the final training images are its first ones) and the test split.
struct Dataset {
  Data train;
  Data test;
  std::string name;  ///< for messages ("Fashion-MNIST")

  /// Classes: the largest training label + 1.
  [[nodiscard]] std::int64_t classes() const {
    return train.targets.max().item<std::int64_t>() + 1;
  }
};

/// Checks that `data` holds what a run of `s` needs: class-index labels, images of one shape,
/// and enough of them; that the space takes the settings and the images. Throws c10::Error
/// naming the setting (by its command-line name) and the fix.
inline void check(const Settings& s, const Dataset& d) {
  const auto classes = d.classes();
  TORCH_CHECK(classes >= 2 && d.train.targets.min().item<std::int64_t>() >= 0,
              "the training labels must be class indices 0..K-1 with K >= 2");
  TORCH_CHECK(d.test.targets.min().item<std::int64_t>() >= 0 &&
                  d.test.targets.max().item<std::int64_t>() < classes,
              "the test labels name classes the training labels do not have");
  TORCH_CHECK(d.train.inputs.dim() == 4 && d.test.inputs.dim() == 4 &&
                  d.train.inputs.sizes().slice(1) == d.test.inputs.sizes().slice(1),
              "training and test images must have the same shape [C, H, W]");
  const auto n = d.train.size();
  TORCH_CHECK(s.train + s.valid <= n, "--train ", s.train, " + --valid ", s.valid, " = ",
              s.train + s.valid, " images, but the training split has ", n,
              "; lower --train or --valid");
  TORCH_CHECK(s.final_train <= n, "--final-train ", s.final_train, " exceeds the ", n,
              " training images; lower it");
  TORCH_CHECK(s.test <= d.test.size(), "--test ", s.test, " exceeds the ", d.test.size(),
              " test images; lower it");
  TORCH_CHECK(s.batch <= s.train, "--batch ", s.batch, " is larger than --train ", s.train);
  if (s.space == "darts") {
    TORCH_CHECK(s.layers >= 3 && s.final_layers >= 3,
                "the darts space stacks at least 3 cells (two are reduction cells); raise "
                "--layers / --final-layers");
    TORCH_CHECK(s.channels % 2 == 0 && s.final_channels % 2 == 0,
                "the darts space needs even --channels and --final-channels");
  }
  TORCH_CHECK(s.derive == "argmax" || s.derive == "perturbation",
              "--derive is argmax or "
              "perturbation; got '",
              s.derive, "'");
  TORCH_CHECK(s.derive == "argmax" || s.strategy == "darts" || s.strategy == "pc-darts" ||
                  s.strategy == "drnas",
              "--derive perturbation (DARTS-PT) masks ops of a supernet that weighs every op: "
              "darts, pc-darts or drnas, not ",
              s.strategy);
  TORCH_CHECK(s.pt_tune >= 0, "--pt-tune is a number of epochs >= 0; got ", s.pt_tune);
  TORCH_CHECK(s.warm_start.empty() || s.strategy == "evolution",
              "--warm-start (a zero-cost warm start) seeds regularized evolution's population: "
              "use it with --strategy evolution, not ",
              s.strategy);
  if (!s.warm_start.empty()) (void)proxy::parse(s.warm_start);  // names the known proxies
  TORCH_CHECK(!s.aux_skip || is_differentiable_strategy(s.strategy),
              "--aux-skip (DARTS-'s auxiliary skip connection) is an option of the "
              "differentiable strategies (darts, pc-darts, drnas, gdas), not of ",
              s.strategy);
  TORCH_CHECK(!s.aux_skip || s.space != "mobile",
              "--aux-skip needs edges that keep their shape or halve it (nb201, darts); the "
              "mobile space's layers change their channel count");
  if (s.strategy == "pc-darts") {
    TORCH_CHECK(s.space != "mobile",
                "pc-darts searches the darts and nb201 spaces (partial channels need edges that "
                "keep their channel count; the mobile space's layers change it)");
    TORCH_CHECK(s.channels % 4 == 0,
                "pc-darts sends 1 of every 4 channels through an edge's ops: --channels must be "
                "divisible by 4; got ",
                s.channels);
  }
  if (s.space != "mobile")
    TORCH_CHECK(d.train.inputs.size(2) % 4 == 0 && d.train.inputs.size(3) % 4 == 0, "the ", s.space,
                " space needs image sides divisible by 4; got ", d.train.inputs.size(2), "x",
                d.train.inputs.size(3));
}

/// The sizes of a network of the built-in space `S` (its layout's skeleton).
template <search_space S>
Stack stack_for(std::int64_t layers, std::int64_t channels, std::int64_t classes,
                std::int64_t input_channels) {
  Stack st{
      .layers = layers, .channels = channels, .classes = classes, .input_channels = input_channels};
  if constexpr (std::is_same_v<S, spaces::nb201>)
    st.skeleton = Skeleton::nb201;
  else if constexpr (std::is_same_v<S, spaces::mobile>)
    st.skeleton = Skeleton::mobile;
  return st;
}

/// A whole search on `S` as a job. `run()`:
///  1. searches with `settings.strategy` (checkpoint every epoch, or every `checkpoint_every`
///     trials), with progress lines through nas::run::Progress;
///  2. writes the run folder: genotype.txt and .json, history.jsonl (and epochs.jsonl for
///     one-shot searches), the cells as DOT (and SVG when Graphviz is installed), curves.svg,
///     alpha_<kind>.svg for differentiable searches;
///  3. trains the found architecture from scratch at the final size, tests it, then trains
///     `baseline` random architectures the same way (nas::run::compare_with_random), and
///     writes summary.json.
/// The checkpoint holds the strategy's state and the run's own (found genotype, search time,
/// architecture weights per epoch, finished final trainings): a run killed at any point and
/// constructed again with `resume = true` ends with the result the uninterrupted run has.
///
/// `stop` (nas::run::StopOnSignals::token() in nas::run::run_session): asked to stop, the run
/// finishes its current step (a search step, a trial between trials, or a step of a child's or
/// final network's training, whose partial training is then discarded), writes its checkpoint,
/// mid-epoch included, and run() throws nas::run::Preempted; resumed, it ends with the
/// uninterrupted run's result.
template <search_space S>
class Session {
 public:
  Session(Settings s, Dataset data, RunFolder folder, bool resume, std::stop_token stop = {})
      : s_(std::move(s)),
        data_(std::move(data)),
        folder_(std::move(folder)),
        out_(s_.verbosity),
        stop_(std::move(stop)) {
    const auto classes = data_.classes();
    const auto input_channels = data_.train.inputs.size(1);
    search_stack_ = stack_for<S>(s_.layers, s_.channels, classes, input_channels);
    final_stack_ = stack_for<S>(s_.final_layers, s_.final_channels, classes, input_channels);
    train_ = data_.train.slice(0, s_.train);
    valid_ = data_.train.slice(s_.train, s_.train + s_.valid);
    device_ = torch::Device(s_.device);
    if (resume) {
      checkpoint_ = Checkpoint::load(folder_.checkpoint_path());
      read_state();
    }
  }

  /// Runs (or finishes) the search and the final training; returns the comparison with the
  /// random architectures.
  Comparison run() {
    if (!found_) {
      out_.line(format(
          "searching: %s on the %s space, %lld training / %lld validation images, %s, seed %llu",
          s_.strategy.c_str(), s_.space.c_str(), static_cast<long long>(s_.train),
          static_cast<long long>(s_.valid), data_.name.c_str(),
          static_cast<unsigned long long>(s_.seed)));
      search();
    } else {
      out_.line("search already complete in the checkpoint: " + to_string(*found_));
    }
    write_search_outputs();
    return final_training();
  }

 private:
  // ---- checkpoints

  void read_state() {
    const auto& c = *checkpoint_;
    if (c.contains("program.found")) found_ = parse<S>(c.get_text("program.found"));
    search_seconds_ = detail::text_number(c.get_text("program.search_seconds"),
                                          "checkpoint entry 'program.search_seconds'");
    detail::for_each_line(c.get_text("program.alphas"), [&](std::string_view line) {
      std::vector<double> row;
      std::size_t at = 0;
      while (at < line.size()) {
        const auto end = std::min(line.find(' ', at), line.size());
        row.push_back(detail::text_number(std::string(line.substr(at, end - at)),
                                          "checkpoint entry 'program.alphas'"));
        at = end + 1;
      }
      alphas_.push_back(std::move(row));
    });
    detail::for_each_line(c.get_text("program.finals"), [&](std::string_view line) {
      const auto tab = line.find('\t');
      TORCH_CHECK(tab != std::string_view::npos, "checkpoint entry 'program.finals' is corrupt");
      finals_.emplace_back(std::string(line.substr(tab + 1)),
                           detail::text_number(std::string(line.substr(0, tab)),
                                               "checkpoint entry 'program.finals'"));
    });
  }

  // Writes the checkpoint: the run's state, plus the strategy's through `strategy`.
  template <class F>
  void save(F&& strategy) {
    Checkpoint c;
    c.put_text("program.settings", to_json(s_));
    if (found_) c.put_text("program.found", to_string(*found_));
    c.put_text("program.search_seconds", detail::number_text(search_seconds_));
    std::string alphas;
    for (const auto& row : alphas_) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i > 0) alphas += ' ';
        alphas += detail::number_text(row[i]);
      }
      alphas += '\n';
    }
    c.put_text("program.alphas", alphas);
    std::string finals;
    for (const auto& [g, acc] : finals_) {
      finals += detail::number_text(acc);
      finals += '\t';
      finals += g;
      finals += '\n';
    }
    c.put_text("program.finals", finals);
    strategy(c);
    c.save(folder_.checkpoint_path());
  }
  void save() {
    save([](Checkpoint&) {});
  }

  // The test hooks: dies like `kill -9` after `die_after` steps or trials (`counts`: a trial,
  // or a step of a differentiable search); sends itself SIGTERM at the `signal_after`-th step
  // or trial (every call).
  void tick(bool counts = true) {
    if (counts && s_.die_after > 0 && ++ticks_ == s_.die_after) {
      std::fflush(stdout);
      std::raise(SIGKILL);
    }
    if (s_.signal_after > 0 && ++signal_ticks_ == s_.signal_after) {
      std::raise(SIGTERM);
      // the watcher thread hands the signal to the token: wait for it, so that the stop lands
      // at this step in every run
      for (int i = 0; i < 1000000 && !stop_.stop_requested(); ++i) std::this_thread::yield();
    }
  }

  // After a search stopped on request: save where it is and end the run.
  template <class F>
  [[noreturn]] void preempted(F&& strategy, double seconds) {
    search_seconds_ = seconds;
    save(std::forward<F>(strategy));
    throw Preempted(folder_.path());
  }

  // Seconds of search so far: those of earlier runs plus this one's since `t0`.
  struct SearchClock {
    double before;
    std::chrono::steady_clock::time_point t0 = std::chrono::steady_clock::now();
    [[nodiscard]] double now() const {
      return before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    }
  };

  // ---- the search

  void search() {
    torch::manual_seed(s_.seed);
    if (is_differentiable_strategy(s_.strategy))
      differentiable();
    else if (is_one_shot_strategy(s_.strategy))
      one_shot_search();
    else
      trial_search();
  }

  template <class Net>
  void record_alphas(Net& net) {
    std::vector<double> row;
    for (std::size_t kind = 0; kind < S::cell_count; ++kind) {
      const auto a = net->alpha_at(kind);
      const auto w = torch::softmax(a.detach().cpu().to(torch::kDouble), -1).flatten();
      const auto p = w.template data_ptr<double>();
      row.insert(row.end(), p, p + w.numel());
    }
    alphas_.push_back(std::move(row));
  }

  template <class Strategy, class Net>
  void run_bilevel(Strategy& strategy, Net& net) {
    if (checkpoint_) strategy.load(*checkpoint_, "search");
    const SearchClock clock{search_seconds_};
    Callbacks<S> callbacks;
    callbacks.on_step = [&](std::int64_t, const StepReport&) { tick(); };
    callbacks.on_epoch = [&](const EpochReport<S>&) {
      record_alphas(net);
      search_seconds_ = clock.now();
      save([&](Checkpoint& c) { strategy.save(c, "search"); });
    };
    callbacks.stop = stop_;
    Progress<S> progress(out_, {.epoch_note = "checkpoint saved"});
    progress.attach(callbacks);
    const auto result = strategy.search(train_, valid_, callbacks);
    if (result.stop == StopReason::interrupted)
      preempted([&](Checkpoint& c) { strategy.save(c, "search"); }, clock.now());
    epochs_ = result.epochs;
    found_ = result.genotype;
    if (result.stop == StopReason::identity_ops)
      out_.line("stopped early: a derived cell reached the identity-op limit");
    if (s_.derive == "perturbation") {
      // DARTS-PT: not checkpointed; a run stopped inside it does it again from the searched
      // state saved after the last epoch, to the same result
      out_.line(format("argmax of alpha: %s; selecting by perturbation (DARTS-PT) instead",
                       to_string(*found_).c_str()));
      PerturbationOptions pt;
      pt.tune_epochs = s_.pt_tune;
      pt.on_decision = [&](const PerturbationDecision& d) {
        tick();  // a decision counts as a step for the tests' --die-after
        // piece by piece: GCC 12 at -O3 misreads "literal" + std::string (stringop-overflow)
        std::string kept;
        for (const auto k : d.kept) {
          kept += ' ';
          kept += std::to_string(k);
        }
        out_.line(format("  DARTS-PT, cell kind %zu, %s %zu keeps %s%s", d.cell_kind,
                         d.topology ? "node" : "edge", d.edge_or_node, d.topology ? "edges" : "op",
                         kept.c_str()));
      };
      const SearchClock pt_clock{search_seconds_};
      try {
        found_ = strategy.derive_by_perturbation(train_, valid_, pt, stop_);
      } catch (const Interrupted&) {
        throw Preempted(folder_.path());  // the searched state is in the checkpoint
      }
      search_seconds_ = pt_clock.now();
    }
  }

  // The weight training the settings ask for (batch, learning rate, non-finite policy), the
  // rest at the strategy's defaults (DARTS's search settings).
  [[nodiscard]] WeightTraining weight_training() const {
    return {.batch_size = s_.batch, .learning_rate = s_.lr, .skip_nonfinite = s_.on_nan == "skip"};
  }
  // The architecture training the settings ask for, the rest at DARTS's (Adam's betas, decay).
  [[nodiscard]] ArchTraining arch_training() const {
    return {.learning_rate = s_.arch_lr,
            .warmup_epochs = s_.warmup,
            .reference_steps = s_.arch_steps_ref,
            .beta_decay = s_.beta_decay};
  }

  // The supernet's options: the layout's batch norms, DARTS-'s auxiliary skip if asked for.
  [[nodiscard]] SupernetOptions supernet_options() const {
    SupernetOptions o;
    o.auxiliary_skip = s_.aux_skip;
    return o;
  }

  void differentiable() {
    const WeightTraining weights = weight_training();
    if (s_.strategy == "pc-darts") {
      // PC-DARTS: partial channels (K = 4) and edge normalization; architecture steps after a
      // weight-only warm-up (the presets: 3/10 of the epochs, 15 of PC-DARTS's 50)
      Supernet<S, relax::PartialChannel> net(search_stack_, relax::PartialChannel{},
                                             supernet_options());
      net->to(device_);
      auto options = pc_darts_options();
      options.epochs = s_.epochs;
      options.weights.batch_size = s_.batch;
      options.weights.learning_rate = s_.lr;
      options.weights.skip_nonfinite = weights.skip_nonfinite;
      options.arch = arch_training();  // PC-DARTS's 6e-4 and its warm-up come from the presets
      PcDarts<S> pc(net, options);
      run_bilevel(pc, net);
    } else if (s_.strategy == "darts") {
      Supernet<S, relax::Softmax> net(search_stack_, relax::Softmax{}, supernet_options());
      net->to(device_);
      Darts<S> darts(
          net,
          {.order = s_.order, .epochs = s_.epochs, .weights = weights, .arch = arch_training()});
      run_bilevel(darts, net);
    } else if (s_.strategy == "drnas") {
      // DrNAS: DARTS over Dirichlet-sampled op weights (the reference's NAS-Bench-201 search)
      Supernet<S, relax::Dirichlet> net(search_stack_, relax::Dirichlet{}, supernet_options());
      net->to(device_);
      DrNas<S> drnas(
          net,
          {.order = s_.order, .epochs = s_.epochs, .weights = weights, .arch = arch_training()});
      run_bilevel(drnas, net);
    } else {
      Supernet<S, relax::Gumbel> net(search_stack_, relax::Gumbel{}, supernet_options());
      net->to(device_);
      Gdas<S> gdas(net, {.epochs = s_.epochs, .weights = weights, .arch = arch_training()});
      run_bilevel(gdas, net);
    }
  }

  template <class Strategy>
  // `trials_checkpoint`: also checkpoint every `checkpoint_every` trials (SPOS's evolution runs
  // after the weight epochs; ENAS's trials fall inside its epochs, checkpointed per epoch)
  void run_one_shot(Strategy& strategy, std::size_t planned_trials, bool trials_checkpoint) {
    if (checkpoint_) strategy.load(*checkpoint_, "search");
    const SearchClock clock{search_seconds_};
    std::size_t since_save = 0;
    OneShotCallbacks<S> callbacks;
    callbacks.on_step = [&](std::int64_t, const StepReport&) { tick(false); };
    callbacks.stop = stop_;
    callbacks.on_epoch = [&](const OneShotEpoch<S>&) {
      search_seconds_ = clock.now();
      save([&](Checkpoint& c) { strategy.save(c, "search"); });
      since_save = 0;
    };
    callbacks.on_trial = [&](const Trial<S>&, const Trial<S>&) {
      tick();
      if (trials_checkpoint && ++since_save >= s_.checkpoint_every) {
        search_seconds_ = clock.now();
        save([&](Checkpoint& c) { strategy.save(c, "search"); });
        since_save = 0;
      }
    };
    Progress<S> progress(out_,
                         {.planned_trials = planned_trials, .epoch_note = "checkpoint saved"});
    progress.attach(callbacks);
    const auto result = strategy.search(train_, valid_, callbacks);
    if (result.stop == StopReason::interrupted)
      preempted([&](Checkpoint& c) { strategy.save(c, "search"); }, clock.now());
    one_shot_epochs_ = result.epochs;
    history_ = result.trials;
    found_ = result.genotype;
    search_seconds_ = clock.now();
  }

  void one_shot_search() {
    Supernet<S, relax::SinglePath> net(search_stack_);
    net->to(device_);
    const WeightTraining weights = weight_training();
    if (s_.strategy == "enas") {
      Controller<S> controller;
      controller->to(device_);
      Enas<S> enas(net, controller,
                   {.epochs = s_.epochs,
                    .weights = weights,
                    .controller_steps = s_.controller_steps,
                    .controller = {.children = s_.children, .seed = s_.seed},
                    .reward_samples = s_.batch,
                    .derive_samples = 10});
      run_one_shot(enas, static_cast<std::size_t>(s_.epochs) * s_.controller_steps * s_.children,
                   false);
    } else {
      Spos<S> spos(net, {.epochs = s_.epochs,
                         .weights = weights,
                         .evolution = {.population = 20, .sample = 5, .seed = s_.seed},
                         .trials = s_.trials,
                         .seed = s_.seed});
      run_one_shot(spos, s_.trials, true);
    }
  }

  template <class Strategy, class Evaluator>
  void run_trial_strategy(Strategy& strategy, Evaluator& evaluator) {
    History<S> history;
    if (checkpoint_) {
      history = load_search(*checkpoint_, "search", strategy);
    }
    const SearchClock clock{search_seconds_};
    if (history.size() < s_.trials) {
      History<S> mirror = history;
      // the strategy and its history after the last trial: what a stop mid-trial saves (the
      // strategy has proposed the next architecture by then, and would not propose it again)
      Checkpoint last;
      save_search(last, "search", strategy, mirror);
      const auto keep_last = [&](Checkpoint& c) { c.merge(last); };
      TrialCallbacks<S> callbacks;
      callbacks.stop = stop_;
      callbacks.on_trial = [&](const Trial<S>& t, const Trial<S>&) {
        tick();
        mirror.push(t);
        last = {};
        save_search(last, "search", strategy, mirror);
        if (mirror.size() % s_.checkpoint_every == 0 || mirror.size() == s_.trials) {
          search_seconds_ = clock.now();
          save(keep_last);
        }
      };
      Progress<S> progress(out_, {.planned_trials = s_.trials});
      progress.attach(callbacks);
      const bool resumed = !history.trials.empty();
      const std::size_t remaining = s_.trials - history.size();  // before history moves
      TrialResult<S> r;
      try {
        r = run_trials(strategy, evaluator, {.trials = remaining, .reuse_history = resumed},
                       objectives::Accuracy{}, callbacks, std::move(history));
      } catch (const Interrupted&) {
        preempted(keep_last, clock.now());
      }
      if (r.stop == StopReason::interrupted) preempted(keep_last, clock.now());
      history = std::move(r.trials);
    }
    found_ = history.best()->genotype;
    history_ = std::move(history);
    search_seconds_ = clock.now();
  }

  void trial_search() {
    eval::FromScratch<S> evaluator(train_, valid_, training(search_stack_, s_.child_epochs, s_.lr));
    if (s_.strategy == "reinforce") {
      Controller<S> controller;
      Reinforce<S> rl(controller, {.children = s_.children, .seed = s_.seed});
      run_trial_strategy(rl, evaluator);
    } else if (s_.strategy == "random") {
      RandomSearch<S> random({.seed = s_.seed});
      run_trial_strategy(random, evaluator);
    } else {
      Evolution<S> evolution({.population = 10, .sample = 3, .seed = s_.seed});
      if (!s_.warm_start.empty()) {
        // a zero-cost warm start: the population starts from the 10 cells the proxy scores best
        // of 100 random ones (a resumed run draws them again, then its checkpoint says where
        // evolution is)
        eval::ZeroCost<S> scorer(train_, {.proxy = nas::proxy::parse(s_.warm_start),
                                          .stack = search_stack_,
                                          .seed = s_.seed,
                                          .device = device_});
        evolution.seed_population(eval::best_of_random<S>(scorer, 100, 10, s_.seed + 17));
        out_.line(
            format("warm start: evolution's first 10 cells are the best of 100 random "
                   "ones by %s",
                   s_.warm_start.c_str()));
      }
      run_trial_strategy(evolution, evaluator);
    }
  }

  // How a child (trial strategies) or a final network trains.
  [[nodiscard]] eval::FromScratchOptions training(const Stack& stack, std::int64_t epochs,
                                                  double lr) const {
    return {.stack = stack,
            .epochs = epochs,
            .batch_size = s_.batch,
            .learning_rate = lr,
            .seed = s_.seed,
            .device = device_,
            .stop = stop_};
  }

  // ---- the run folder

  void write_search_outputs() {
    const auto& g = *found_;
    folder_.write("genotype.txt", to_string(g) + "\n");
    folder_.write("genotype.json", to_json(g) + "\n");
    if (!history_.trials.empty()) history_.save(folder_.path() / "history.jsonl");
    if (!epochs_.empty()) folder_.write("history.jsonl", epoch_lines(epochs_));
    if (!one_shot_epochs_.empty()) folder_.write("epochs.jsonl", epoch_lines(one_shot_epochs_));
    bool rendered = false;
    for (const auto& [kind, dot] : cell_dots(g)) {
      const auto file = "cell_" + kind + ".dot";
      folder_.write(file, dot);
      rendered =
          render_dot(folder_.path() / file, folder_.path() / ("cell_" + kind + ".svg")) || rendered;
    }
    if (!rendered) out_.line("Graphviz's dot is not installed: the cells are drawn as DOT only");
    write_plots();
    // the search is over: checkpoint that, so a resume goes straight to the final training
    save();
    out_.event(
        format("{\"event\": \"search_done\", \"seconds\": %.1f, \"genotype\": %s}", search_seconds_,
               json::quote(to_string(g)).c_str()),
        format("search done in %s: %s\n  run folder %s", duration_text(search_seconds_).c_str(),
               to_string(g).c_str(), folder_.path().c_str()));
  }

  void write_plots() {
    if (!epochs_.empty()) {
      viz::Series tl{"train (weights)", {}}, vl{"valid (architecture)", {}};
      viz::Series ta{"train (weights)", {}}, va{"valid (architecture)", {}};
      viz::Series pf{"parameter-free ops", {}};
      for (const auto& r : epochs_) {
        tl.values.push_back(r.train_loss);
        vl.values.push_back(r.valid_loss);
        ta.values.push_back(r.train_accuracy);
        va.values.push_back(r.valid_accuracy);
        pf.values.push_back(static_cast<double>(r.parameter_free_ops));
      }
      folder_.write("curves.svg", viz::to_svg({{"loss", {tl, vl}},
                                               {"accuracy", {ta, va}},
                                               {"kept parameter-free ops", {pf}}},
                                              {.title = "search curves"}));
    } else if (!one_shot_epochs_.empty() || !history_.trials.empty()) {
      std::vector<viz::Panel> panels;
      if (!one_shot_epochs_.empty()) {
        viz::Series loss{"train loss", {}}, acc{"train accuracy", {}};
        for (const auto& r : one_shot_epochs_) {
          loss.values.push_back(r.train_loss);
          acc.values.push_back(r.train_accuracy);
        }
        panels.push_back({"shared weights: loss per epoch", {loss}});
        panels.push_back({"shared weights: accuracy per epoch", {acc}});
      }
      if (!history_.trials.empty()) {
        viz::Series score{"accuracy", {}}, best{"best so far", {}};
        double b = -1.0;
        for (const auto& t : history_.trials) {
          score.values.push_back(t.metrics.accuracy);
          b = std::max(b, t.metrics.accuracy);
          best.values.push_back(b);
        }
        panels.push_back({"validation accuracy per trial", {score, best}});
      }
      folder_.write("curves.svg",
                    viz::to_svg(panels, {.title = "search curves", .x_label = "epoch / trial"}));
    }
    if (alphas_.empty()) return;
    // softmax(alpha) of every edge over the epochs, a line per op, one figure per cell kind
    std::size_t offset = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         using C = typename S::template cell_at<I>;
         std::vector<viz::Panel> panels;
         for (std::size_t e = 0; e < C::edge_count; ++e) {
           viz::Panel panel{
               std::to_string(C::edges[e].from) + " -> " + std::to_string(C::edges[e].to), {}};
           for (std::size_t o = 0; o < C::op_count; ++o) {
             viz::Series line{std::string(C::ops::names[o]), {}};
             for (const auto& row : alphas_)
               line.values.push_back(row.at(offset + e * C::op_count + o));
             panel.series.push_back(std::move(line));
           }
           panels.push_back(std::move(panel));
         }
         offset += C::edge_count * C::op_count;
         folder_.write("alpha_" + std::string(C::name) + ".svg",
                       viz::to_svg(panels, {.title = "softmax(alpha) of the '" +
                                                     std::string(C::name) + "' edges per epoch",
                                            .columns = 4,
                                            .shared_range = true}));
       }()),
       ...);
    }
    (std::make_index_sequence<S::cell_count>{});
  }

  // ---- final training: the found architecture, then the random baseline

  Comparison final_training() {
    std::vector<Genotype<S>> genotypes{*found_};
    Rng rng(s_.seed + 1000003);
    for (std::size_t i = 0; i < s_.baseline; ++i) genotypes.push_back(sample<S>(rng));
    const auto final_train = data_.train.slice(0, s_.final_train);
    const auto test = data_.test.slice(0, s_.test);
    eval::FromScratch<S> trainer(final_train, test,
                                 training(final_stack_, s_.final_epochs, s_.final_lr));
    std::vector<Metrics> metrics;
    for (std::size_t i = 0; i < genotypes.size(); ++i) {
      const auto text = to_string(genotypes[i]);
      const char* role = i == 0 ? "found" : "random";
      if (i < finals_.size()) {
        TORCH_CHECK(finals_[i].first == text,
                    "the checkpoint's final training does not match this run's architectures");
        metrics.push_back({.accuracy = finals_[i].second});
        metrics.back().parameters =
            cost(genotypes[i], final_stack_, data_.train.inputs.size(2), data_.train.inputs.size(3))
                .parameters;
        continue;
      }
      out_.line(format("final training %zu/%zu (%s, %lld epochs on %lld images): %s", i + 1,
                       genotypes.size(), role, static_cast<long long>(s_.final_epochs),
                       static_cast<long long>(s_.final_train), text.c_str()));
      tick(false);
      const auto t0 = std::chrono::steady_clock::now();
      Metrics m;
      try {
        m = trainer(genotypes[i]);
      } catch (const Interrupted&) {
        throw Preempted(folder_.path());  // the trainings done are in the checkpoint
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      metrics.push_back(m);
      finals_.emplace_back(text, m.accuracy);
      save();
      out_.event(
          format("{\"event\": \"final\", \"role\": \"%s\", \"genotype\": %s, "
                 "\"test_accuracy\": %s, \"parameters\": %lld, \"seconds\": %.1f}",
                 role, json::quote(text).c_str(), detail::json_number(m.accuracy).c_str(),
                 static_cast<long long>(m.parameters.value_or(-1)), secs),
          format("  test accuracy %.4f, %lld parameters, %s", m.accuracy,
                 static_cast<long long>(m.parameters.value_or(-1)), duration_text(secs).c_str()));
    }
    return summarize(genotypes, metrics);
  }

  Comparison summarize(const std::vector<Genotype<S>>& genotypes,
                       const std::vector<Metrics>& metrics) {
    std::vector<double> random;
    for (std::size_t i = 1; i < metrics.size(); ++i) random.push_back(metrics[i].accuracy);
    const Comparison c = compare_with_random(metrics.front().accuracy, random);
    std::string list = "[";
    for (std::size_t i = 1; i < metrics.size(); ++i) {
      if (i > 1) list += ", ";
      list += detail::JsonObject{}
                  .text("genotype", to_string(genotypes[i]))
                  .number("test_accuracy", metrics[i].accuracy)
                  .integer("parameters", metrics[i].parameters.value_or(-1))
                  .str();
    }
    list += "]";
    const std::string summary = detail::JsonObject{}
                                    .raw("settings", to_json(s_))
                                    .text("genotype", to_string(genotypes.front()))
                                    .number("search_seconds", search_seconds_)
                                    .number("test_accuracy", c.found)
                                    .integer("parameters", metrics.front().parameters.value_or(-1))
                                    .integer("baseline_count", static_cast<std::int64_t>(c.count))
                                    .number("baseline_mean", c.mean)
                                    .number("baseline_std", c.std)
                                    .number("baseline_median", c.median)
                                    .number("baseline_min", c.min)
                                    .number("baseline_max", c.max)
                                    .raw("baseline", list)
                                    .text("verdict", c.verdict)
                                    .str();
    folder_.write("summary.json", summary + "\n");
    std::string text = format("found architecture: %s\n  test accuracy %.4f (%lld parameters)",
                              to_string(genotypes.front()).c_str(), c.found,
                              static_cast<long long>(metrics.front().parameters.value_or(-1)));
    if (c.count > 0)
      text += format(
          "\nrandom baseline (%zu architectures, same training): mean %.4f, std %.4f, "
          "median %.4f, min %.4f, max %.4f",
          c.count, c.mean, c.count > 1 ? c.std : 0.0, c.median, c.min, c.max);
    text += '\n';
    text += c.verdict;
    text += "\nrun folder: ";
    text += folder_.path().string();
    out_.result(summary, text);
    return c;
  }

  Settings s_;
  Dataset data_;  // tensor handles: a copy shares the images
  RunFolder folder_;
  Output out_;
  Stack search_stack_;
  Stack final_stack_;
  Data train_;
  Data valid_;
  torch::Device device_{torch::kCPU};
  std::optional<Checkpoint> checkpoint_;
  std::stop_token stop_;
  // the run's own state (checkpointed)
  std::optional<Genotype<S>> found_;  // set once the search is over
  double search_seconds_ = 0.0;
  std::vector<std::vector<double>> alphas_;  // per epoch: softmax(alpha), flattened per kind
  std::vector<std::pair<std::string, double>> finals_;  // (genotype, test accuracy) done
  // the search's reports (rebuilt by a resumed search; empty once it was over)
  std::vector<EpochReport<S>> epochs_;
  std::vector<OneShotEpoch<S>> one_shot_epochs_;
  History<S> history_;
  std::int64_t ticks_ = 0;
  std::int64_t signal_ticks_ = 0;
};

/// Applies the settings' threads and device: the intra-op thread count (when > 0); on CUDA,
/// deterministic cuDNN without autotuning (same seed, same GPU, same result). Throws c10::Error
/// when `cuda` is asked for and no CUDA device is available.
inline void set_up_device(const Settings& s) {
  if (s.threads > 0) torch::set_num_threads(s.threads);
  TORCH_CHECK(s.device != "cuda" || torch::cuda::is_available(),
              "--device cuda: no CUDA device is available; use --device cpu");
  if (s.device == "cuda") {
    at::globalContext().setDeterministicCuDNN(true);
    at::globalContext().setBenchmarkCuDNN(false);
  }
}

/// A run to start or to resume: its settings (presets applied; a resumed run's from its
/// checkpoint) and its folder.
struct Opened {
  Settings settings;
  RunFolder folder;
  bool resume = false;
};

/// Opens a run. With `resume_dir` empty: a new run of `given_settings` after
/// nas::run::apply_preset, in `given_settings`' folder `out` (default
/// runs/<strategy>-<space>-seed<seed>); it refuses a folder that holds a run unless
/// `overwrite`. With `resume_dir`: the run in that folder with its saved settings, refusing a
/// different strategy, space, preset or data set given on the command line; the threads, the
/// learning rate (the fix a non-finite loss asks for), `on_nan`, the verbosity and the test
/// hook may change. `given(name)` tells whether the setting `name` ("--lr") was given. Then it
/// sets up the device (nas::run::set_up_device) and creates and checks the folder
/// (nas::run::RunFolder::prepare).
template <class Given>
  requires std::is_invocable_r_v<bool, Given&, const char*> Opened
  open_run(Settings s, const std::string& out, const std::string& resume_dir, bool overwrite,
           Given&& given) {
    if (!resume_dir.empty()) {
      RunFolder folder{resume_dir};
      TORCH_CHECK(folder.holds_run(), "'", resume_dir, "' holds no checkpoint (",
                  RunFolder::checkpoint_name,
                  "); give the run folder of an earlier nas_search run");
      const auto saved = Checkpoint::load(folder.checkpoint_path());
      Settings r = settings_from_json(saved.get_text("program.settings"));
      // what the run computes cannot change on resume
      const auto same = [&](const char* name, const std::string& mine, const std::string& theirs) {
        TORCH_CHECK(!given(name) || mine == theirs, "the run in '", resume_dir, "' is a ",
                    r.strategy, " search on the ", r.space, " space (", name, " ", theirs,
                    "); resume it without ", name, " ", mine, ", or start a new run with --out");
      };
      same("--strategy", s.strategy, r.strategy);
      same("--space", s.space, r.space);
      same("--preset", s.preset, r.preset);
      same("--data", s.data, r.data);
      r.verbosity = s.verbosity;
      if (given("--threads")) r.threads = s.threads;  // bitwise results need the same count
      r.die_after = s.die_after;
      r.signal_after = s.signal_after;
      if (given("--lr")) r.lr = s.lr;
      if (given("--on-nan")) r.on_nan = s.on_nan;
      // a run continues on the device it started on (same device, same result)
      TORCH_CHECK(r.device != "cuda" || torch::cuda::is_available(), "the run in '", resume_dir,
                  "' ran on cuda and this machine has no CUDA device: resume it on a machine "
                  "with one, or start a new run here with --device cpu");
      set_up_device(r);
      folder.prepare("choose another --out");
      return {std::move(r), std::move(folder), true};
    }
    apply_preset(s, given);
    RunFolder folder{out.empty()
                         ? std::filesystem::path("runs") /
                               (s.strategy + "-" + s.space + "-seed" + std::to_string(s.seed))
                         : std::filesystem::path(out)};
    TORCH_CHECK(overwrite || !folder.holds_run(), "'", folder.path().string(),
                "' already holds a run; continue it with --resume ", folder.path().string(),
                ", or choose another --out");
    set_up_device(s);
    folder.prepare("choose another --out");
    return {std::move(s), std::move(folder), false};
  }

}  // namespace nas::run
