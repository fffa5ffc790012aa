#pragma once
/// @file
/// Labelled data in tensors (nas::Data), splits, batches (nas::Batch) and shuffled batch
/// streams that checkpoint where they are (nas::BatchStream).

#include <torch/data/example.h>
#include <torch/nn/functional/loss.h>
#include <torch/nn/module.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <numbers>
#include <string>
#include <utility>
#include <vector>

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
  /// Whether this stream draws batches of `batch_size` from `data` itself: views of the same
  /// memory with the same shape (a slice taken again counts; an equal copy does not). A search
  /// called again on the same data goes on with this stream.
  [[nodiscard]] bool draws_from(const Data& data, std::int64_t batch_size) const {
    const auto same = [](const torch::Tensor& a, const torch::Tensor& b) {
      return a.defined() && b.defined() && a.data_ptr() == b.data_ptr() && a.sizes() == b.sizes() &&
             a.strides() == b.strides() && a.scalar_type() == b.scalar_type() &&
             a.device() == b.device();
    };
    return batch_ == batch_size && same(data_.inputs, data.inputs) &&
           same(data_.targets, data.targets);
  }
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

namespace detail {
/// Copies the entries BatchStream::save wrote under `a` in `from` to `b` in `to`.
inline void copy_stream(const Checkpoint& from, const std::string& a, Checkpoint& to,
                        const std::string& b) {
  to.put_int(b + ".at", from.get_int(a + ".at"));
  to.put_int(b + ".started", from.get_int(a + ".started"));
  if (from.get_int(a + ".started") != 0) to.put_tensor(b + ".order", from.get_tensor(a + ".order"));
}
}  // namespace detail

}  // namespace nas
