#pragma once
/// @file
/// What the differentiable strategies share: labelled data in tensors, batches, the
/// loss, the cosine learning-rate schedule, per-step and per-epoch reports, callbacks.

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
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/core/json.hpp"
#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"
#include "nas/train/checkpoint.hpp"

namespace nas {

/// One batch: `data` (inputs) and `target` (class indices), LibTorch's own example type.
using Batch = torch::data::Example<>;

/// A labelled data set held in two tensors: `inputs [N, ...]` and `targets [N]` (class
/// indices; or `[N, ...]` scores for a nas::LossFunction that takes them).
struct Data {
  torch::Tensor inputs;
  torch::Tensor targets;
  [[nodiscard]] std::int64_t size() const { return inputs.defined() ? inputs.size(0) : 0; }
  /// Samples `begin` to `end` (a view).
  [[nodiscard]] Data slice(std::int64_t begin, std::int64_t end) const {
    return {inputs.slice(0, begin, end), targets.slice(0, begin, end)};
  }
  /// Throws a c10::Error naming the problem when the two tensors do not match.
  void check(const char* what) const {
    TORCH_CHECK(inputs.defined() && targets.defined() && inputs.dim() >= 1 && targets.dim() >= 1 &&
                    inputs.size(0) == targets.size(0),
                what, ": needs inputs [N, ...] and targets [N, ...] with the same N; got ",
                inputs.defined() ? inputs.sizes() : torch::IntArrayRef{}, " and ",
                targets.defined() ? targets.sizes() : torch::IntArrayRef{});
    TORCH_CHECK(inputs.size(0) > 0, what, ": the data set is empty");
  }
};

/// The first `portion` of `data` and the rest (DARTS searches on a 50/50 split of the
/// training set: weights on the first half, the architecture on the second).
inline std::pair<Data, Data> split(const Data& data, double portion = 0.5) {
  data.check("nas::split");
  TORCH_CHECK(portion > 0.0 && portion < 1.0, "nas::split: portion must be in (0, 1); got ",
              portion);
  const auto n = data.size();
  const auto cut = static_cast<std::int64_t>(std::floor(portion * static_cast<double>(n)));
  TORCH_CHECK(cut > 0 && cut < n, "nas::split: ", n, " samples cannot be split at ", portion);
  return {data.slice(0, cut), data.slice(cut, n)};
}

/// Shuffled mini-batches of a nas::Data, reshuffled on every pass (torch's default
/// generator: torch::manual_seed makes the order reproducible).
class BatchStream {
 public:
  BatchStream(Data data, std::int64_t batch_size) : data_(std::move(data)), batch_(batch_size) {
    data_.check("nas::BatchStream");
    TORCH_CHECK(batch_size > 0, "batch size must be positive; got ", batch_size);
  }
  /// Batches in one pass (the last may be smaller).
  [[nodiscard]] std::int64_t batches() const { return (data_.size() + batch_ - 1) / batch_; }
  /// Saves where the stream is (the pass's order and position) as entries `<prefix>.*`.
  void save(Checkpoint& c, const std::string& prefix) const {
    c.put_int(prefix + ".at", at_);
    c.put_int(prefix + ".started", order_.defined() ? 1 : 0);
    if (order_.defined()) c.put_tensor(prefix + ".order", order_);
  }
  /// Restores what save() wrote; the stream must hold a data set of the same size.
  void load(const Checkpoint& c, const std::string& prefix) {
    const auto at = c.get_int(prefix + ".at");
    if (c.get_int(prefix + ".started") == 0) {
      order_ = torch::Tensor();
      at_ = 0;
      return;
    }
    const auto order = c.get_tensor(prefix + ".order");
    TORCH_CHECK(
        order.dim() == 1 && order.size(0) == data_.size() && order.scalar_type() == torch::kLong,
        "checkpoint entry '", prefix, ".order' holds an order of ", order.numel(),
        " samples; this data set has ", data_.size(), " (resume with the same data set and sizes)");
    TORCH_CHECK(at >= 0 && at <= data_.size(), "checkpoint entry '", prefix,
                ".at' is out of range");
    order_ = order.clone();
    at_ = at;
  }

  /// The next batch, moved to `device`; a new pass starts with a new order.
  Batch next(const torch::Device& device) {
    if (!order_.defined() || at_ >= data_.size()) {
      order_ = torch::randperm(data_.size(), torch::kLong);
      at_ = 0;
    }
    const auto end = std::min(at_ + batch_, data_.size());
    const auto index = order_.slice(0, at_, end).to(data_.inputs.device());
    at_ = end;
    return {data_.inputs.index_select(0, index).to(device),
            data_.targets.index_select(0, index).to(device)};
  }

 private:
  Data data_;
  std::int64_t batch_;
  torch::Tensor order_;
  std::int64_t at_ = 0;
};

/// A loss that is not finite stopped a search step (lower the learning rate, check the
/// data, or let the strategy skip such steps: `skip_nonfinite`).
class NonFiniteLoss : public c10::Error {
 public:
  using c10::Error::Error;
};

namespace detail {
/// Throws nas::NonFiniteLoss: `what` (where, and what was not finite), then the fixes.
[[noreturn]] inline void throw_non_finite(std::string what) {
  what +=
      "; lower the learning rate, check the data for NaN or infinite values, or skip such "
      "steps (skip_nonfinite)";
  throw NonFiniteLoss(c10::SourceLocation{__func__, __FILE__, static_cast<std::uint32_t>(__LINE__)},
                      what);
}
}  // namespace detail

/// The loss of a strategy: logits and targets to a scalar (default: cross entropy).
using LossFunction = std::function<torch::Tensor(const torch::Tensor&, const torch::Tensor&)>;

namespace detail {
inline torch::Tensor cross_entropy(const torch::Tensor& logits, const torch::Tensor& targets) {
  return torch::nn::functional::cross_entropy(logits, targets);
}
/// Samples whose argmax is the target class (or, for targets that are scores, the
/// targets' argmax).
inline std::int64_t correct(const torch::Tensor& logits, const torch::Tensor& targets) {
  const auto labels = targets.dim() == 1 ? targets : targets.argmax(1);
  return logits.detach().argmax(1).eq(labels).sum().template item<std::int64_t>();
}
/// The device of a module's first parameter (CPU if it has none).
inline torch::Device device_of(const torch::nn::Module& m) {
  const auto ps = m.parameters();
  return ps.empty() ? torch::Device(torch::kCPU) : ps.front().device();
}
/// Switches `requires_grad` off on tensors for a scope (a frozen architecture).
class FreezeGuard {
 public:
  explicit FreezeGuard(std::vector<torch::Tensor> ts) : ts_(std::move(ts)) {
    for (auto& t : ts_) t.requires_grad_(false);
  }
  ~FreezeGuard() {
    for (auto& t : ts_) t.requires_grad_(true);
  }
  FreezeGuard(const FreezeGuard&) = delete;
  FreezeGuard& operator=(const FreezeGuard&) = delete;

 private:
  std::vector<torch::Tensor> ts_;
};
}  // namespace detail

/// Cosine annealing (SGDR without restarts) from `base` at epoch 0 to `minimum` at epoch
/// `epochs`, as DARTS's CosineAnnealingLR schedule.
[[nodiscard]] inline double cosine_learning_rate(double base, double minimum, std::int64_t epoch,
                                                 std::int64_t epochs) {
  return minimum + (base - minimum) *
                       (1.0 + std::cos(std::numbers::pi * static_cast<double>(epoch) /
                                       static_cast<double>(epochs))) /
                       2.0;
}

namespace detail {
/// Builds one JSON object, member by member, with numbers that read back exactly.
class JsonObject {
 public:
  JsonObject& number(std::string_view key, double v) { return raw(key, detail::json_number(v)); }
  JsonObject& integer(std::string_view key, std::int64_t v) { return raw(key, std::to_string(v)); }
  JsonObject& text(std::string_view key, std::string_view v) { return raw(key, json::quote(v)); }
  JsonObject& raw(std::string_view key, std::string_view json) {
    s_ += s_.size() == 1 ? "" : ", ";
    s_ += json::quote(key);
    s_ += ": ";
    s_ += json;
    return *this;
  }
  [[nodiscard]] std::string str() const { return s_ + "}"; }

 private:
  std::string s_ = "{";
};
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
/// Copies the entries BatchStream::save wrote under `a` in `from` to `b` in `to`.
inline void copy_stream(const Checkpoint& from, const std::string& a, Checkpoint& to,
                        const std::string& b) {
  to.put_int(b + ".at", from.get_int(a + ".at"));
  to.put_int(b + ".started", from.get_int(a + ".started"));
  if (from.get_int(a + ".started") != 0) to.put_tensor(b + ".order", from.get_tensor(a + ".order"));
}
/// Applies `f` to every non-empty line of `text`.
template <class F>
void for_each_line(std::string_view text, F&& f) {
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    if (end > at) f(text.substr(at, end - at));
    at = end + 1;
  }
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
  double tau = 0.0;                    ///< Gumbel temperature (GDAS), 0 otherwise
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

/// Hooks a search calls; every one is optional.
template <search_space S>
struct Callbacks {
  std::function<void(std::int64_t step, const StepReport&)> on_step;  ///< after every step
  std::function<void(const EpochReport<S>&)> on_epoch;                ///< after every epoch
};

/// Why a search ended.
enum class StopReason : std::uint8_t {
  completed,     ///< every planned epoch ran
  identity_ops,  ///< DARTS+ early stop: a derived cell reached the identity-op limit
};

/// The outcome of a search: the derived architecture and every epoch's report.
template <search_space S>
struct SearchResult {
  Genotype<S> genotype;
  std::vector<EpochReport<S>> history;
  StopReason stop = StopReason::completed;
};

}  // namespace nas
