#pragma once
/// @file
/// What the differentiable strategies report: per-step and per-epoch reports, their JSON
/// lines, callbacks. (Data and batches: nas/data/data.hpp; losses, schedules and guards:
/// nas/train/training.hpp; both included here.)

#include <torch/data/example.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <numbers>
#include <optional>
#include <stop_token>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/core/json.hpp"
#include "nas/core/options.hpp"
#include "nas/core/text_cursor.hpp"
#include "nas/data/data.hpp"
#include "nas/eval/metrics.hpp"
#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"
#include "nas/strategy/state.hpp"
#include "nas/train/checkpoint.hpp"
#include "nas/train/training.hpp"

namespace nas {

namespace detail {
/// Member `key` of a JSON object as a number (null reads as NaN); throws naming `what`.
inline double json_member_number(const json::Value& v, std::string_view key,
                                 std::string_view what) {
  const json::Value* m = v.find(key);
  TORCH_CHECK(m != nullptr && (m->is_number() || m->is_null()), what, ": no number '",
              std::string(key), "'");
  return m->is_null() ? std::numeric_limits<double>::quiet_NaN() : m->number;
}
inline std::int64_t json_member_integer(const json::Value& v, std::string_view key,
                                        std::string_view what) {
  const double d = json_member_number(v, key, what);
  TORCH_CHECK(std::floor(d) == d && std::fabs(d) < 1e15, what, ": '", std::string(key),
              "' is not an integer");
  return static_cast<std::int64_t>(d);
}
inline const std::string& json_member_text(const json::Value& v, std::string_view key,
                                           std::string_view what) {
  const json::Value* m = v.find(key);
  TORCH_CHECK(m != nullptr && m->is_string(), what, ": no text '", std::string(key), "'");
  return m->string;
}
}  // namespace detail

/// What one search step measured.
struct StepReport {
  double train_loss = 0.0;  ///< loss of the weight step's batch
  double valid_loss = 0.0;  ///< loss of the architecture step's batch
  std::int64_t train_correct = 0;
  std::int64_t train_count = 0;
  std::int64_t valid_correct = 0;
  std::int64_t valid_count = 0;
  std::int64_t skipped = 0;  ///< 1 when the step's loss was not finite and the update skipped
};

/// What one search epoch measured, and the architecture derived after it.
template <search_space S>
struct EpochReport {
  std::int64_t epoch = 0;   ///< 0-based
  std::int64_t epochs = 0;  ///< planned
  double train_loss = 0.0;  ///< mean over the epoch's weight steps
  double train_accuracy = 0.0;
  double valid_loss = 0.0;  ///< mean over the epoch's architecture steps
  double valid_accuracy = 0.0;
  double learning_rate = 0.0;
  double tau = 0.0;  ///< Gumbel temperature (GDAS), 0 otherwise
  /// the architecture's learning rate in force (ArchTraining::reference_steps scales it), 0
  /// in a warm-up epoch (no architecture step)
  double arch_learning_rate = 0.0;
  /// over every edge, the largest softmax(alpha) weight after the epoch: the mean, the least
  /// and the greatest (1 / ops on every edge while alpha is uniform, 1 once one op has won
  /// an edge): whether the architecture is learning at all
  double alpha_top_mean = 0.0;
  double alpha_top_min = 0.0;          ///< see alpha_top_mean
  double alpha_top_max = 0.0;          ///< see alpha_top_mean
  Genotype<S> genotype;                ///< derived after the epoch
  std::size_t parameter_free_ops = 0;  ///< kept parameter-free ops in `genotype`
  std::size_t identity_ops = 0;        ///< kept identity ops (`skip_connect`) in `genotype`
  double seconds = 0.0;                ///< wall time of the epoch
  std::int64_t skipped = 0;            ///< steps skipped for a non-finite loss
  /// The report as one JSON object (epoch 1-based; numbers read back exactly).
  [[nodiscard]] std::string json() const {
    return detail::JsonObject{}
        .integer("epoch", epoch + 1)
        .integer("epochs", epochs)
        .number("train_loss", train_loss)
        .number("train_accuracy", train_accuracy)
        .number("valid_loss", valid_loss)
        .number("valid_accuracy", valid_accuracy)
        .number("learning_rate", learning_rate)
        .number("tau", tau)
        .number("arch_learning_rate", arch_learning_rate)
        .number("alpha_top_mean", alpha_top_mean)
        .number("alpha_top_min", alpha_top_min)
        .number("alpha_top_max", alpha_top_max)
        .text("genotype", to_string(genotype))
        .integer("parameter_free_ops", static_cast<std::int64_t>(parameter_free_ops))
        .integer("skip_ops", static_cast<std::int64_t>(identity_ops))
        .integer("skipped", skipped)
        .number("seconds", seconds)
        .str();
  }
  /// One line for a log: epoch, losses, accuracies, parameter-free ops, genotype.
  [[nodiscard]] std::string line() const {
    std::string s = "epoch ";
    s += std::to_string(epoch + 1);
    s += '/';
    s += std::to_string(epochs);
    const auto num = [&](const char* name, double v, int digits) {
      s += ' ';
      s += name;
      s += ' ';
      std::string t(32, '\0');
      t.resize(static_cast<std::size_t>(std::snprintf(t.data(), t.size(), "%.*f", digits, v)));
      s += t;
    };
    num("train_loss", train_loss, 4);
    num("train_acc", train_accuracy, 4);
    num("valid_loss", valid_loss, 4);
    num("valid_acc", valid_accuracy, 4);
    num("lr", learning_rate, 5);
    if (tau > 0.0) num("tau", tau, 3);
    if (arch_learning_rate > 0.0) num("arch_lr", arch_learning_rate, 5);
    {
      std::string t(64, '\0');
      t.resize(
          static_cast<std::size_t>(std::snprintf(t.data(), t.size(), " alpha_top %.3f [%.3f, %.3f]",
                                                 alpha_top_mean, alpha_top_min, alpha_top_max)));
      s += t;
    }
    s += " param_free_ops ";
    s += std::to_string(parameter_free_ops);
    s += " skip_ops ";
    s += std::to_string(identity_ops);
    num("s", seconds, 1);
    s += "\n  ";
    s += to_string(genotype);
    return s;
  }
};

/// One JSON object per report (nas::EpochReport::json, nas::OneShotEpoch::json), one per
/// line.
template <class Report>
  requires requires(const Report& r) {
    { r.json() } -> std::convertible_to<std::string>;
  }
[[nodiscard]] std::string epoch_lines(const std::vector<Report>& reports) {
  std::string out;
  for (const auto& r : reports) {
    out += r.json();
    out += '\n';
  }
  return out;
}
/// Reads what nas::epoch_lines wrote; throws a c10::Error naming `what` and the line.
template <search_space S>
[[nodiscard]] std::vector<EpochReport<S>> parse_epoch_lines(std::string_view text,
                                                            std::string_view what) {
  std::vector<EpochReport<S>> out;
  detail::for_each_line(text, [&](std::string_view line) {
    const json::Value v = json::parse(line);
    EpochReport<S> r;
    r.epoch = detail::json_member_integer(v, "epoch", what) - 1;
    r.epochs = detail::json_member_integer(v, "epochs", what);
    r.train_loss = detail::json_member_number(v, "train_loss", what);
    r.train_accuracy = detail::json_member_number(v, "train_accuracy", what);
    r.valid_loss = detail::json_member_number(v, "valid_loss", what);
    r.valid_accuracy = detail::json_member_number(v, "valid_accuracy", what);
    r.learning_rate = detail::json_member_number(v, "learning_rate", what);
    r.tau = detail::json_member_number(v, "tau", what);
    // not in the reports of an older checkpoint: left 0 there
    const auto optional_number = [&](const char* name, double& field) {
      if (v.find(name) != nullptr) field = detail::json_member_number(v, name, what);
    };
    optional_number("arch_learning_rate", r.arch_learning_rate);
    optional_number("alpha_top_mean", r.alpha_top_mean);
    optional_number("alpha_top_min", r.alpha_top_min);
    optional_number("alpha_top_max", r.alpha_top_max);
    r.genotype = parse<S>(detail::json_member_text(v, "genotype", what));
    r.parameter_free_ops =
        static_cast<std::size_t>(detail::json_member_integer(v, "parameter_free_ops", what));
    r.identity_ops = static_cast<std::size_t>(detail::json_member_integer(v, "skip_ops", what));
    r.seconds = detail::json_member_number(v, "seconds", what);
    if (v.find("skipped") != nullptr) r.skipped = detail::json_member_integer(v, "skipped", what);
    out.push_back(std::move(r));
  });
  return out;
}

/// The hooks every search in nas calls; every one is optional, and a search calls those it
/// has events for: DARTS, GDAS and PC-DARTS `on_step` and `on_epoch` (`Callbacks<S>`), ENAS
/// and SPOS all three (`OneShotCallbacks<S>`, whose epochs are nas::OneShotEpoch),
/// nas::run_trials `on_trial` (`TrialCallbacks<S>`). One shape, so one observer (a logger,
/// nas::run::Progress) attaches to any search.
template <search_space S, class Epoch = EpochReport<S>>
struct SearchCallbacks {
  /// After every weight step that was not skipped: the step's index (counted from the start
  /// of the search) and its report.
  std::function<void(std::int64_t step, const StepReport&)> on_step{};
  std::function<void(const Epoch&)> on_epoch{};  ///< after every epoch, with its report
  /// After every trial: the trial and the best trial so far (of the whole history).
  std::function<void(const Trial<S>& trial, const Trial<S>& best)> on_trial{};
  /// Asked to stop (std::stop_source::request_stop, from a callback, another thread, or
  /// nas::run::StopOnSignals), the search ends at the next step or trial boundary with
  /// nas::StopReason::interrupted; its save() then holds where it stopped, mid-epoch included,
  /// and a search() resumed from it ends as the uninterrupted one would. The default token is
  /// never asked.
  std::stop_token stop{};

  NAS_WITH(on_step)
  NAS_WITH(on_epoch)
  NAS_WITH(on_trial)
  NAS_WITH(stop)
};

/// The callbacks of a differentiable search (nas::Darts, nas::Gdas, nas::PcDarts).
template <search_space S>
using Callbacks = SearchCallbacks<S>;

/// Why a search ended.
enum class StopReason : std::uint8_t {
  completed,     ///< every planned epoch ran
  identity_ops,  ///< DARTS+ early stop: a derived cell reached the identity-op limit
  /// the callbacks' stop token was asked to stop: the search ended early at a step or trial
  /// boundary; save() it and call search() again (after load()) to go on
  interrupted,
};

namespace detail {
/// Where an interrupted epoch stopped: the steps done (skipped ones included), the sums of
/// their reports (losses weighted by their counts), the steps skipped and the seconds spent.
/// Saved with the search, so a resumed one finishes the epoch as the uninterrupted one would.
struct PartialEpoch {
  std::int64_t steps = 0;
  StepReport sum{};
  std::int64_t skipped = 0;
  double seconds = 0.0;

  void save(Checkpoint& c, const std::string& key) const {
    std::string t;
    for (const double v :
         {static_cast<double>(steps), static_cast<double>(skipped), seconds, sum.train_loss,
          sum.valid_loss, static_cast<double>(sum.train_correct),
          static_cast<double>(sum.train_count), static_cast<double>(sum.valid_correct),
          static_cast<double>(sum.valid_count)}) {
      if (!t.empty()) t += ' ';
      t += number_text(v);
    }
    c.put_text(key, t);
  }
  /// What save() wrote under `key`; none (a checkpoint written between epochs, or by a nas
  /// that saved only there) reads as no partial epoch.
  static PartialEpoch load(const Checkpoint& c, const std::string& key) {
    PartialEpoch p;
    if (!c.contains(key)) return p;
    std::vector<double> v;
    for_each_line(c.get_text(key), [&](std::string_view line) {
      std::size_t at = 0;
      while (at < line.size()) {
        const auto end = std::min(line.find(' ', at), line.size());
        v.push_back(
            text_number(std::string(line.substr(at, end - at)), "checkpoint entry '" + key + "'"));
        at = end + 1;
      }
    });
    const auto count = [](double d) { return d >= 0.0 && d < 1e15 && std::floor(d) == d; };
    TORCH_CHECK(v.size() == 9 && count(v[0]) && count(v[1]) && v[1] <= v[0] && count(v[5]) &&
                    count(v[6]) && count(v[7]) && count(v[8]) && std::isfinite(v[2]),
                "checkpoint entry '", key,
                "' is corrupt (a partial epoch: 9 numbers, counts whole and non-negative)");
    const auto i = [](double d) { return static_cast<std::int64_t>(d); };
    p.steps = i(v[0]);
    p.skipped = i(v[1]);
    p.seconds = v[2];
    p.sum = {.train_loss = v[3],
             .valid_loss = v[4],
             .train_correct = i(v[5]),
             .train_count = i(v[6]),
             .valid_correct = i(v[7]),
             .valid_count = i(v[8])};
    return p;
  }
};
}  // namespace detail

/// The outcome of every search in nas: DARTS, GDAS and PC-DARTS (`SearchResult<S>`), ENAS and
/// SPOS (`OneShotResult<S>`, whose epochs are nas::OneShotEpoch) and nas::run_trials
/// (`TrialResult<S>`). One shape: the architecture, its metrics where the search measured
/// them, every trial, every epoch and why the search ended; a field a strategy has nothing
/// for stays empty (a differentiable search has no trials, nas::run_trials no epochs).
template <search_space S, class Epoch = EpochReport<S>>
struct SearchResult {
  Genotype<S> genotype{};  ///< the architecture the search settled on
  /// its metrics, where the search measured them: ENAS and SPOS through the shared weights,
  /// nas::run_trials the best trial's; DARTS, GDAS and PC-DARTS measure none (empty)
  std::optional<Metrics> metrics{};
  History<S> trials;          ///< every trial, in order (sampled and one-shot searches)
  std::vector<Epoch> epochs;  ///< every epoch's report (differentiable and one-shot searches)
  StopReason stop = StopReason::completed;  ///< why the search ended

  /// The trial with the highest score (the first on ties); throws a c10::Error when the
  /// search recorded no trials (DARTS, GDAS and PC-DARTS do not).
  [[nodiscard]] const Trial<S>& best() const {
    const Trial<S>* b = trials.best_trial();
    TORCH_CHECK(b != nullptr,
                "SearchResult::best(): this search recorded no trials (a differentiable "
                "search has epochs, not trials: read `genotype` and `epochs`)");
    return *b;
  }
};

}  // namespace nas
