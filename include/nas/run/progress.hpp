#pragma once
/// @file
/// nas::run::Progress: progress lines with an ETA, as callbacks attached to any strategy.

#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <type_traits>
#include <utility>

#include "nas/core/json.hpp"
#include "nas/run/output.hpp"
#include "nas/space/format.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/driver.hpp"
#include "nas/strategy/history.hpp"
#include "nas/strategy/one_shot.hpp"

namespace nas::run {

/// Runs `next` after what `slot` already does (or alone when `slot` is empty).
template <class... A, class F>
  requires std::is_invocable_v<F&, A...>
void then(std::function<void(A...)>& slot, F next) {
  if (!slot) {
    slot = std::move(next);
    return;
  }
  slot = [first = std::move(slot), second = std::move(next)](A... a) {
    first(a...);
    second(a...);
  };
}

/// Options of nas::run::Progress.
struct ProgressOptions {
  std::size_t planned_trials = 0;  ///< trials the search will run (0: unknown, no ETA)
  std::string epoch_note{};        ///< appended to each epoch's ETA line, e.g. "checkpoint saved"
};

/// Prints a line per epoch (nas::EpochReport::line, nas::OneShotEpoch::line) or trial, each with
/// the time left at the pace so far, through an nas::run::Output (JSON events in JSON mode). It
/// is a set of callbacks: `attach` adds them to a strategy's callbacks, after the ones already
/// there (a checkpoint written in an epoch callback is on disk when the line says so).
///
/// The pace counts from construction: make one just before the search starts (a resumed search
/// counts only what it runs itself).
template <search_space S>
class Progress {
 public:
  explicit Progress(Output out, ProgressOptions options = {})
      : out_(out), options_(std::move(options)) {}
  // the attached callbacks point at this object
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;

  /// Seconds since construction.
  [[nodiscard]] double seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  /// Progress lines of any search: its epochs (with an ETA) and its trials, after whatever
  /// the callbacks already do. Takes nas::Callbacks (DARTS, GDAS, PC-DARTS),
  /// nas::OneShotCallbacks (ENAS, SPOS) and nas::TrialCallbacks (nas::run_trials), which are all
  /// nas::SearchCallbacks.
  template <class Epoch>
  void attach(SearchCallbacks<S, Epoch>& c) {
    then(c.on_epoch, [this](const Epoch& r) { epoch(r); });
    then(c.on_trial, [this](const Trial<S>& t, const Trial<S>& best) { trial(t, best); });
  }

 private:
  [[nodiscard]] std::string note() const {
    return options_.epoch_note.empty() ? std::string() : " (" + options_.epoch_note + ")";
  }

  // a bilevel search's epoch: the ETA from the mean epoch time so far
  void epoch(const EpochReport<S>& r) {
    ++epochs_seen_;
    const double eta =
        seconds() / static_cast<double>(epochs_seen_) * static_cast<double>(r.epochs - r.epoch - 1);
    out_.event(format("{\"event\": \"epoch\", \"eta_seconds\": %.1f, \"report\": %s}", eta,
                      r.json().c_str()),
               r.line() + "\n  eta " + duration_text(eta) + note());
  }
  // a one-shot search's weight epoch: the ETA of the remaining weight epochs
  void epoch(const OneShotEpoch<S>& r) {
    const double eta = r.seconds * static_cast<double>(r.epochs - r.epoch - 1);
    out_.event(format("{\"event\": \"epoch\", \"eta_seconds\": %.1f, \"report\": %s}", eta,
                      r.json().c_str()),
               r.line() + "\n  eta " + duration_text(eta) + " for the weights" + note());
  }

  void trial(const Trial<S>& t, const Trial<S>& best) {
    ++trials_seen_;
    const std::size_t planned = options_.planned_trials;
    const double eta = planned > t.index ? seconds() / static_cast<double>(trials_seen_) *
                                               static_cast<double>(planned - t.index - 1)
                                         : -1.0;
    out_.event(format("{\"event\": \"trial\", \"eta_seconds\": %s, \"best_score\": %s, "
                      "\"trial\": %s}",
                      eta < 0 ? "null" : format("%.1f", eta).c_str(),
                      detail::json_number(best.score).c_str(), History<S>::to_json_line(t).c_str()),
               format("trial %zu/%zu acc %.4f score %.4f %s| best %.4f (trial %zu) | eta %s\n  %s",
                      t.index + 1, planned, t.metrics.accuracy, t.score, t.cached ? "cached " : "",
                      best.score, best.index + 1, duration_text(eta).c_str(),
                      to_string(t.genotype).c_str()));
  }

  Output out_;
  ProgressOptions options_;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  std::int64_t epochs_seen_ = 0;
  std::size_t trials_seen_ = 0;
};

}  // namespace nas::run
