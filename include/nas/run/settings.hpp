#pragma once
/// @file
/// nas::run::Settings: everything a search run (nas::run::Session) needs, by name, with the
/// presets `demo` and `full`, and their JSON form (kept in the checkpoint, so that a resumed run
/// computes what the first one would have).

#include <torch/cuda.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <type_traits>

#include "nas/core/json.hpp"
#include "nas/run/output.hpp"
#include "nas/strategy/common.hpp"

namespace nas::run {

/// The strategies a Session runs, by name.
inline constexpr std::string_view strategy_names[] = {
    "darts", "pc-darts", "drnas", "gdas", "enas", "reinforce", "random", "evolution", "spos"};
/// The built-in spaces a Session searches, by name.
inline constexpr std::string_view space_names[] = {"nb201", "darts", "mobile"};
/// The data sets nas::run::load_data reads, by name.
inline constexpr std::string_view data_names[] = {"fashion-mnist", "cifar10", "idx"};

/// Strategies that train child networks one by one (nas::run_trials).
inline bool is_trial_strategy(std::string_view s) {
  return s == "reinforce" || s == "random" || s == "evolution";
}
/// Strategies that train shared weights, then sample architectures from them.
inline bool is_one_shot_strategy(std::string_view s) { return s == "enas" || s == "spos"; }
/// Strategies that train architecture weights by gradient descent.
inline bool is_differentiable_strategy(std::string_view s) {
  return s == "darts" || s == "pc-darts" || s == "drnas" || s == "gdas";
}

/// The settings of a search run. nas::run::apply_preset fills every number the user did not
/// give from the preset. The fields under "what the run computes" go into the checkpoint: a
/// resumed run (nas::run::open_run) takes them from there, refuses a different strategy, space,
/// preset or data set, and lets only the threads, the learning rate and `on_nan` change.
struct Settings {
  // ---- what the run computes
  std::string strategy = "gdas";  ///< one of nas::run::strategy_names
  std::string space = "nb201";    ///< one of nas::run::space_names
  std::string preset = "demo";    ///< "demo" (2 CPU cores, minutes) or "full" (published sizes)
  std::string data = "fashion-mnist";  ///< one of nas::run::data_names
  std::string data_dir;                ///< empty: the data set's default folder
  std::string device = "cpu";          ///< "cpu" or "cuda"
  std::uint64_t seed = 0;              ///< initialization, sampling and data order
  int threads = 0;                     ///< intra-op threads (0: LibTorch's default)
  // search
  std::int64_t epochs = 0;    ///< search epochs (one-shot strategies: shared-weight epochs)
  std::int64_t train = 0;     ///< training images the search uses
  std::int64_t valid = 0;     ///< the next training images, held out for the architecture
  std::int64_t batch = 0;     ///< batch size
  std::int64_t channels = 0;  ///< search network channels
  std::int64_t layers = 0;    ///< search network cells (nb201: per stage)
  double lr = 0.0;            ///< search SGD learning rate (cosine-annealed)
  int order = 1;              ///< darts: 1 (first order) or 2 (unrolled)
  /// differentiable strategies: the architecture's Adam learning rate before scaling (0: the
  /// strategy's published rate, 3e-4; PC-DARTS 6e-4)
  double arch_lr = 0.0;
  /// differentiable strategies: the architecture steps `arch_lr` is meant for
  /// (nas::ArchTraining::reference_steps; 0: no scaling)
  std::int64_t arch_steps_ref = 0;
  std::int64_t warmup = 0;  ///< differentiable strategies: weight-only epochs first
  double beta_decay = 0.0;  ///< differentiable strategies: beta-DARTS's regularizer (0: off)
  /// differentiable strategies: DARTS-'s auxiliary skip connection, its weight decaying from 1
  /// to 0 over the epochs (nas::SupernetOptions::auxiliary_skip)
  bool aux_skip = false;
  /// darts, pc-darts, drnas: how the found cell is chosen: "argmax" (of alpha) or
  /// "perturbation" (DARTS-PT, nas::Darts::derive_by_perturbation)
  std::string derive = "argmax";
  std::int64_t pt_tune = 0;  ///< derive perturbation: fine-tuning epochs between decisions
  /// evolution: a zero-cost warm start, the proxy (nas::proxy::parse's names) that picks the
  /// first population from 10 times as many random cells; empty: uniform (off)
  std::string warm_start;
  std::size_t trials = 0;            ///< trial strategies: children trained; spos: evolution trials
  std::size_t children = 0;          ///< reinforce, enas: children per controller update
  std::size_t controller_steps = 0;  ///< enas: controller updates per epoch
  std::int64_t child_epochs = 0;     ///< trial strategies: epochs each child trains
  // final training
  std::int64_t final_epochs = 0;     ///< epochs of the found and the random architectures
  std::int64_t final_train = 0;      ///< training images of the final training
  std::int64_t final_channels = 0;   ///< final network channels
  std::int64_t final_layers = 0;     ///< final network cells
  double final_lr = 0.0;             ///< final SGD learning rate
  std::int64_t test = 0;             ///< test images scored
  std::size_t baseline = 0;          ///< random architectures trained like the found one
  std::size_t checkpoint_every = 0;  ///< trials between checkpoints (epoch searches: every epoch)
  std::string on_nan = "stop";       ///< a non-finite loss: "stop" or "skip" the batch
  // ---- how the run behaves (not saved)
  Verbosity verbosity = Verbosity::human;
  std::int64_t die_after = 0;  ///< tests only: SIGKILL after this many steps or trials (0: never)
  /// tests only: SIGTERM to itself at this step or trial (one-shot searches count weight steps and
  /// trials; 0: never)
  std::int64_t signal_after = 0;
};

/// Calls `f(name, member)` for every setting that decides what a run computes, in the order
/// the JSON form lists them (`member` is a pointer to the nas::run::Settings member).
template <class F>
void for_each_setting(F&& f) {
  f("strategy", &Settings::strategy);
  f("space", &Settings::space);
  f("preset", &Settings::preset);
  f("data", &Settings::data);
  f("data_dir", &Settings::data_dir);
  f("device", &Settings::device);
  f("seed", &Settings::seed);
  f("threads", &Settings::threads);
  f("epochs", &Settings::epochs);
  f("train", &Settings::train);
  f("valid", &Settings::valid);
  f("batch", &Settings::batch);
  f("channels", &Settings::channels);
  f("layers", &Settings::layers);
  f("lr", &Settings::lr);
  f("order", &Settings::order);
  f("arch_lr", &Settings::arch_lr);
  f("arch_steps_ref", &Settings::arch_steps_ref);
  f("warmup", &Settings::warmup);
  f("beta_decay", &Settings::beta_decay);
  f("aux_skip", &Settings::aux_skip);
  f("derive", &Settings::derive);
  f("pt_tune", &Settings::pt_tune);
  f("warm_start", &Settings::warm_start);
  f("trials", &Settings::trials);
  f("children", &Settings::children);
  f("controller_steps", &Settings::controller_steps);
  f("child_epochs", &Settings::child_epochs);
  f("final_epochs", &Settings::final_epochs);
  f("final_train", &Settings::final_train);
  f("final_channels", &Settings::final_channels);
  f("final_layers", &Settings::final_layers);
  f("final_lr", &Settings::final_lr);
  f("test", &Settings::test);
  f("baseline", &Settings::baseline);
  f("checkpoint_every", &Settings::checkpoint_every);
  f("on_nan", &Settings::on_nan);
}

/// The settings that decide what a run computes, as one JSON object.
inline std::string to_json(const Settings& s) {
  detail::JsonObject o;
  for_each_setting([&]<class T>(const char* name, T Settings::*member) {
    if constexpr (std::is_same_v<T, std::string>)
      o.text(name, s.*member);
    else if constexpr (std::is_floating_point_v<T>)
      o.number(name, s.*member);
    else
      o.integer(name, static_cast<std::int64_t>(s.*member));
  });
  return o.str();
}

/// The settings `to_json` wrote. Throws c10::Error naming a missing or mistyped member. The
/// architecture-training settings (`arch_lr`, `arch_steps_ref`, `warmup`, `beta_decay`) came
/// later: a run that saved none of them ran with the published architecture training, which
/// they are then set to. `aux_skip`, `derive`, `pt_tune` and `warm_start` came after them: a
/// run that saved none of them ran without DARTS-'s skip, with the argmax rule, without a warm
/// start.
inline Settings settings_from_json(const std::string& text) {
  const auto v = json::parse(text);
  Settings s;
  const bool legacy = v.find("arch_lr") == nullptr;
  for_each_setting([&]<class T>(const char* name, T Settings::*member) {
    const std::string_view n = name;
    if (legacy && (n == "arch_lr" || n == "arch_steps_ref" || n == "warmup" || n == "beta_decay"))
      return;
    if ((n == "aux_skip" || n == "derive" || n == "pt_tune" || n == "warm_start") &&
        v.find(name) == nullptr)
      return;
    if constexpr (std::is_same_v<T, std::string>)
      s.*member = detail::json_member_text(v, name, "settings");
    else if constexpr (std::is_floating_point_v<T>)
      s.*member = detail::json_member_number(v, name, "settings");
    else
      s.*member = static_cast<T>(detail::json_member_integer(v, name, "settings"));
  });
  if (legacy) {
    s.arch_lr = s.strategy == "pc-darts" ? 6e-4 : 3e-4;
    s.warmup = s.strategy == "pc-darts" ? s.epochs * 3 / 10 : 0;
  }
  return s;
}

/// Fills every setting the user did not give from `s.preset`. `given(name)` tells whether the
/// setting was given; `name` is the command-line spelling ("--train", "--final-lr", ...).
///
/// `demo`: 2 CPU cores, about 10 minutes for search, final training and baseline together.
/// `full`: the published search settings (DARTS, PC-DARTS, GDAS, ENAS, NAS-Bench-201,
/// ProxylessNAS-size), on CUDA when it is available.
template <class Given>
  requires std::is_invocable_r_v<bool, Given&, const char*>
void apply_preset(Settings& s, Given&& given) {
  const auto set = [&](const char* name, auto& field, auto value) {
    if (!given(name)) field = static_cast<std::decay_t<decltype(field)>>(value);
  };
  const bool darts = s.space == "darts", mobile = s.space == "mobile";
  const bool trials = is_trial_strategy(s.strategy);
  if (s.preset == "demo") {
    set("--train", s.train, trials ? 2000 : 5000);
    set("--valid", s.valid, trials ? 1000 : 5000);
    set("--batch", s.batch, 64);
    set("--channels", s.channels, mobile ? 4 : 8);
    set("--layers", s.layers, darts ? 5 : 1);
    set("--epochs", s.epochs, is_differentiable_strategy(s.strategy) ? 30 : 6);
    set("--lr", s.lr, 0.05);
    set("--trials", s.trials, s.strategy == "spos" ? 100 : 20);
    set("--children", s.children, 5);
    set("--controller-steps", s.controller_steps, 5);
    set("--child-epochs", s.child_epochs, 1);
    set("--final-epochs", s.final_epochs, 4);
    set("--final-train", s.final_train, 15000);
    set("--final-channels", s.final_channels, mobile ? 8 : 16);
    set("--final-layers", s.final_layers, darts ? 8 : 1);
    set("--final-lr", s.final_lr, 0.05);
    set("--test", s.test, 10000);
    set("--baseline", s.baseline, 6);
    set("--checkpoint-every", s.checkpoint_every, 5);
  } else {
    TORCH_CHECK(s.preset == "full", "unknown preset '", s.preset, "'; use demo or full");
    set("--train", s.train, 25000);
    set("--valid", s.valid, 25000);
    set("--batch", s.batch, s.strategy == "enas" ? 160 : (s.strategy == "pc-darts" ? 256 : 64));
    set("--channels", s.channels, 16);
    set("--layers", s.layers, darts ? 8 : (mobile ? 1 : 5));
    set("--epochs", s.epochs,
        s.strategy == "gdas" ? 240
                             : (s.strategy == "enas" ? 150 : (s.strategy == "drnas" ? 100 : 50)));
    set("--lr", s.lr, s.strategy == "enas" ? 0.05 : (s.strategy == "pc-darts" ? 0.1 : 0.025));
    set("--trials", s.trials, s.strategy == "spos" ? 1000 : 100);
    set("--children", s.children, 10);
    set("--controller-steps", s.controller_steps, 30);
    set("--child-epochs", s.child_epochs, 10);
    set("--final-epochs", s.final_epochs, darts ? 600 : 200);
    set("--final-train", s.final_train, 50000);
    set("--final-channels", s.final_channels, darts ? 36 : 16);
    set("--final-layers", s.final_layers, darts ? 20 : (mobile ? 1 : 5));
    set("--final-lr", s.final_lr, darts ? 0.025 : 0.1);
    set("--test", s.test, 10000);
    set("--baseline", s.baseline, 10);
    set("--checkpoint-every", s.checkpoint_every, 10);
    set("--device", s.device, torch::cuda::is_available() ? "cuda" : "cpu");
  }
  // the architecture's training: the published rate; the demo scales it to its budget (the
  // published run's architecture steps: GDAS 240 epochs, DrNAS 100, DARTS 50, PC-DARTS 35 after
  // its warm-up, of 391 batches of 64, PC-DARTS 98 of 256) and trains the weights alone first
  const bool demo = s.preset == "demo", pc = s.strategy == "pc-darts";
  set("--arch-lr", s.arch_lr, pc ? 6e-4 : 3e-4);
  const std::int64_t published_epochs =
      s.strategy == "gdas" ? 240 : (s.strategy == "drnas" ? 100 : 50);
  set("--arch-steps-ref", s.arch_steps_ref, !demo ? 0 : (pc ? 35 * 98 : published_epochs * 391));
  set("--warmup", s.warmup, pc || demo ? s.epochs * 3 / 10 : 0);
  set("--beta-decay", s.beta_decay, 0.0);
  // DARTS-PT's fine-tuning between two decisions: the reference's 5 epochs; the demo's 1
  set("--pt-tune", s.pt_tune, demo ? 1 : 5);
}

}  // namespace nas::run
