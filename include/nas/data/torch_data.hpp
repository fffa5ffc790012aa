#pragma once
/// @file
/// nas::data_from and nas::data_from_batches: a nas::Data from a LibTorch data set (a user's
/// `torch::data::datasets::Dataset` subclass, `torch::data::datasets::MNIST`, either mapped with
/// `.map(transform)`) or from the batches of a `torch::data::make_data_loader`, so that a
/// torch::data pipeline feeds every strategy and evaluator. The concepts nas::map_dataset,
/// nas::example_batch and nas::example_batches say what each one takes.

#include <torch/data/example.h>
#include <torch/types.h>
#include <torch/utils.h>

#include <c10/util/ArrayRef.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <limits>
#include <numeric>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "nas/data/data.hpp"

namespace nas {

namespace detail {
/// A batch whose examples are stacked already: data `[k, ...]`, targets `[k, ...]`.
template <class B>
concept stacked_batch = std::same_as<std::remove_cvref_t<B>, torch::data::Example<>>;
/// A batch of examples one by one, as a data loader without a stack transform yields it.
template <class B>
concept example_list = std::same_as<std::remove_cvref_t<B>, std::vector<torch::data::Example<>>>;
}  // namespace detail

/// One batch of labelled examples, as LibTorch's data loaders and `get_batch` give them.
///
/// Requirements: `std::remove_cvref_t<B>` is either `torch::data::Example<>` holding the batch
/// stacked (data `[k, ...]`, targets `[k, ...]` or `[k]`: what the transform
/// `torch::data::transforms::Stack<>` makes) or `std::vector<torch::data::Example<>>` (one
/// example each: data `[...]`, target `[...]` or a scalar).
///
/// Models: the batches of `*torch::data::make_data_loader(dataset.map(Stack<>()))` and of
/// `*torch::data::make_data_loader(dataset)`. Not a model: `torch::data::TensorExample` (no
/// target, so no nas::Data).
template <class B>
concept example_batch = detail::stacked_batch<B> || detail::example_list<B>;

namespace detail {
/// A range a range-based `for` walks, as it walks LibTorch's DataLoader (whose iterator has no
/// post-increment and a non-const `operator*`, so it is no std::ranges::input_range).
template <class R>
concept walkable = requires(R& r) {
  std::begin(r);
  std::end(r);
}
&&requires(decltype(std::begin(std::declval<R&>())) it,
           decltype(std::end(std::declval<R&>())) end) {
  ++it;
  *it;
  { it != end } -> std::convertible_to<bool>;
};
/// What walking `R` gives: `decltype(*begin)`.
template <class R>
using walked_t = decltype(*std::begin(std::declval<R&>()));

/// `size()` on a const dataset gives its example count, or nothing for an unsized data set.
template <class D>
concept sized_dataset = requires(const D& d) {
  { d.size() } -> std::convertible_to<std::optional<std::size_t>>;
};
/// `get(index)` gives one labelled example.
template <class D>
concept indexed_examples = requires(D& d, std::size_t i) {
  { d.get(i) } -> std::convertible_to<torch::data::Example<>>;
};
/// `get_batch(indices)` gives the examples at those indices, stacked or one by one.
template <class D>
concept batched_examples = requires(D& d, c10::ArrayRef<std::size_t> indices) {
  { d.get_batch(indices) } -> example_batch;
};
/// A stream: its batch request is a batch size (torch::data::datasets::StreamDataset).
template <class D>
concept stream_dataset = requires {
  typename D::BatchRequestType;
}
&&std::same_as<typename D::BatchRequestType, std::size_t>;
}  // namespace detail

/// A LibTorch map-style data set of labelled examples: what nas::data_from reads.
///
/// Requirements:
/// - `std::as_const(d).size()` converts to `std::optional<std::size_t>` (the example count; an
///   empty optional, an unsized data set, is refused at run time);
/// - `d.get(index)` returns `torch::data::Example<>`, or `d.get_batch(indices)`, with indices a
///   `c10::ArrayRef<std::size_t>`, returns a nas::example_batch (nas::data_from prefers it);
/// - `D` is not const: LibTorch's `get` and `get_batch` are non-const members.
///
/// Laws: `get(i)` and `get_batch` give the same example for one index, whatever was read
/// before (the data set is read once, in index order).
///
/// Models: a user's `class Mine : public torch::data::datasets::Dataset<Mine>` (it overrides
/// `get` and `size`); `torch::data::datasets::MNIST`; either mapped with `.map(transform)` where
/// the transform keeps examples (`Normalize<>`, `Lambda`) or stacks them (`Stack<>`). Not
/// models: a `torch::data::datasets::StreamDataset` (read its data loader with
/// nas::data_from_batches), a data set of `torch::data::TensorExample` (no targets).
///
/// See also: nas::example_batches, for data loaders.
template <class D>
concept map_dataset = detail::sized_dataset<D> &&
    (detail::indexed_examples<D> || detail::batched_examples<D>);

/// A range of labelled batches: what nas::data_from_batches reads.
///
/// Requirements: `for (auto&& batch : r)` compiles on an lvalue `r` (members or `std::begin`
/// and `std::end`; `++it`, `*it`, `it != end`), and each `batch` is a nas::example_batch. A
/// DataLoader must not be const (its `begin()` is a non-const member).
///
/// Models: `*torch::data::make_data_loader(...)` over a nas::map_dataset, with or without
/// `.map(torch::data::transforms::Stack<>())`, any sampler, any number of workers;
/// `std::vector<torch::data::Example<>>` of stacked batches;
/// `std::vector<std::vector<torch::data::Example<>>>`.
///
/// See also: nas::map_dataset.
template <class R>
concept example_batches = detail::walkable<R> && example_batch<detail::walked_t<R>>;

namespace detail {

/// How many indices nas::data_from asks get_batch for at once.
inline constexpr std::int64_t data_from_chunk = 256;

/// "example 5", "examples 5 to 9", with " (batch 2)" when the batch is known.
inline std::string example_place(std::int64_t first, std::int64_t count, std::int64_t batch) {
  std::string s =
      count == 1 ? "example " + std::to_string(first)
                 : "examples " + std::to_string(first) + " to " + std::to_string(first + count - 1);
  if (batch >= 0) s += " (batch " + std::to_string(batch) + ")";
  return s;
}

/// What every example of one data set shares: shapes (without a batch dimension), element
/// types and the device; taken from the first example and checked on every other.
class ExampleForm {
 public:
  /// Checks one example, data `[...]` and target `[...]`; the first sets the form.
  void check_example(const char* who, const torch::data::Example<>& e, std::int64_t index,
                     std::int64_t batch) {
    check_defined(who, e, index, 1, batch);
    check(who, e.data.sizes(), e.target.sizes(), e, index, 1, batch);
  }

  /// Checks a stacked batch of `count` examples, data `[count, ...]` and targets `[count, ...]`.
  void check_stacked(const char* who, const torch::data::Example<>& b, std::int64_t first,
                     std::int64_t count, std::int64_t batch) {
    check_defined(who, b, first, count, batch);
    const auto place = example_place(first, count, batch);
    TORCH_CHECK(b.data.dim() >= 1 && b.data.size(0) == count, who, ": the stacked batch of ", place,
                " has inputs of shape ", b.data.sizes(), "; it must hold its ", count,
                " examples along dim 0");
    TORCH_CHECK(b.target.dim() >= 1 && b.target.size(0) == count, who, ": the stacked batch of ",
                place, " has targets of shape ", b.target.sizes(), "; it must hold its ", count,
                " examples along dim 0 (a list of single examples is one batch: pass it as a "
                "std::vector<torch::data::Example<>> inside a range, not as the range)");
    check(who, b.data.sizes().slice(1), b.target.sizes().slice(1), b, first, count, batch);
  }

  [[nodiscard]] bool set() const { return set_; }
  [[nodiscard]] torch::TensorOptions input_options() const {
    return torch::TensorOptions().dtype(data_type_).device(device_);
  }
  [[nodiscard]] torch::TensorOptions target_options() const {
    return torch::TensorOptions().dtype(target_type_).device(device_);
  }
  /// `[n, ...]` for the inputs and the targets.
  [[nodiscard]] std::vector<std::int64_t> input_shape(std::int64_t n) const {
    return with_count(n, data_);
  }
  [[nodiscard]] std::vector<std::int64_t> target_shape(std::int64_t n) const {
    return with_count(n, target_);
  }

 private:
  static std::vector<std::int64_t> with_count(std::int64_t n, const std::vector<std::int64_t>& s) {
    std::vector<std::int64_t> out{n};
    out.insert(out.end(), s.begin(), s.end());
    return out;
  }

  static void check_defined(const char* who, const torch::data::Example<>& e, std::int64_t first,
                            std::int64_t count, std::int64_t batch) {
    TORCH_CHECK(e.data.defined() && e.target.defined(), who, ": ",
                example_place(first, count, batch), " has an undefined ",
                e.data.defined() ? "target" : "data",
                " tensor; get() must return torch::data::Example<>{data, target} with both "
                "tensors set");
  }

  void check(const char* who, torch::IntArrayRef data, torch::IntArrayRef target,
             const torch::data::Example<>& e, std::int64_t first, std::int64_t count,
             std::int64_t batch) {
    const auto place = example_place(first, count, batch);
    if (!set_) {
      TORCH_CHECK(e.data.device() == e.target.device(), who, ": ", place, " has inputs on ",
                  e.data.device(), " and targets on ", e.target.device(),
                  "; a nas::Data keeps both on one device (move them in get() or a transform)");
      data_.assign(data.begin(), data.end());
      target_.assign(target.begin(), target.end());
      data_type_ = e.data.scalar_type();
      target_type_ = e.target.scalar_type();
      device_ = e.data.device();
      first_place_ = place;
      set_ = true;
      return;
    }
    TORCH_CHECK(data == torch::IntArrayRef(data_), who, ": ", place, " has inputs of shape ", data,
                " but ", first_place_, " has ", torch::IntArrayRef(data_),
                " (per example); every example must have the same shape (resize or crop them "
                "in get() or a transform)");
    TORCH_CHECK(target == torch::IntArrayRef(target_), who, ": ", place, " has targets of shape ",
                target, " but ", first_place_, " has ", torch::IntArrayRef(target_),
                " (per example); every target must have the same shape (a class index is a "
                "scalar: torch::tensor(label))");
    TORCH_CHECK(e.data.scalar_type() == data_type_ && e.target.scalar_type() == target_type_, who,
                ": ", place, " has inputs of type ", e.data.scalar_type(), " and targets of ",
                e.target.scalar_type(), " but ", first_place_, " has ", data_type_, " and ",
                target_type_, "; every example must have the same element types");
    TORCH_CHECK(e.data.device() == device_ && e.target.device() == device_, who, ": ", place,
                " has inputs on ", e.data.device(), " and targets on ", e.target.device(), " but ",
                first_place_, " is on ", device_,
                "; every example must be on one device (a nas::Data is one tensor each)");
  }

  bool set_ = false;
  std::vector<std::int64_t> data_, target_;
  torch::ScalarType data_type_ = torch::kFloat;
  torch::ScalarType target_type_ = torch::kLong;
  torch::Device device_ = torch::kCPU;
  std::string first_place_;
};

/// Copies `n` examples into two tensors allocated when the first arrives (nas::data_from).
class DataFiller {
 public:
  DataFiller(const char* who, std::int64_t n) : who_(who), n_(n) {}

  void add(const torch::data::Example<>& e, std::int64_t index) {
    form_.check_example(who_, e, index, -1);
    allocate();
    torch::NoGradGuard no_grad;
    inputs_.select(0, index).copy_(e.data);
    targets_.select(0, index).copy_(e.target);
  }

  void add_stacked(const torch::data::Example<>& b, std::int64_t first, std::int64_t count) {
    form_.check_stacked(who_, b, first, count, -1);
    allocate();
    torch::NoGradGuard no_grad;
    inputs_.narrow(0, first, count).copy_(b.data);
    targets_.narrow(0, first, count).copy_(b.target);
  }

  [[nodiscard]] Data finish() && { return {std::move(inputs_), std::move(targets_)}; }

 private:
  void allocate() {
    if (inputs_.defined()) return;
    inputs_ = torch::empty(form_.input_shape(n_), form_.input_options());
    targets_ = torch::empty(form_.target_shape(n_), form_.target_options());
  }

  const char* who_;
  std::int64_t n_;
  ExampleForm form_;
  torch::Tensor inputs_, targets_;
};

/// Collects batches of unknown count and concatenates them (nas::data_from_batches).
class DataJoiner {
 public:
  explicit DataJoiner(const char* who) : who_(who) {}

  void add_stacked(const torch::data::Example<>& b, std::int64_t batch) {
    const auto count = b.data.defined() && b.data.dim() >= 1 ? b.data.size(0) : 1;
    form_.check_stacked(who_, b, seen_, count, batch);
    inputs_.push_back(b.data);
    targets_.push_back(b.target);
    seen_ += count;
  }

  void add_examples(const std::vector<torch::data::Example<>>& examples, std::int64_t batch) {
    if (examples.empty()) return;
    std::vector<torch::Tensor> data, target;
    data.reserve(examples.size());
    target.reserve(examples.size());
    for (const auto& e : examples) {
      form_.check_example(who_, e, seen_, batch);
      data.push_back(e.data);
      target.push_back(e.target);
      ++seen_;
    }
    torch::NoGradGuard no_grad;
    inputs_.push_back(torch::stack(data));
    targets_.push_back(torch::stack(target));
  }

  [[nodiscard]] Data finish(std::int64_t batches) && {
    TORCH_CHECK(seen_ > 0, who_, ": no examples: the range yielded ", batches,
                " batches and none held an example (is the data set behind the loader empty?)");
    torch::NoGradGuard no_grad;
    return {torch::cat(inputs_).contiguous(), torch::cat(targets_).contiguous()};
  }

 private:
  const char* who_;
  ExampleForm form_;
  std::vector<torch::Tensor> inputs_, targets_;
  std::int64_t seen_ = 0;
};

/// The first thing that keeps `D` from being a nas::map_dataset, said once.
template <class D>
constexpr bool explain_data_from() {
  using plain = std::remove_const_t<D>;
  constexpr bool batches = example_batches<plain> || requires(plain & p) {
    requires example_batches<std::remove_reference_t<decltype(*p)>>;
  };
  if constexpr (batches)
    static_assert(!batches,
                  "nas::data_from(dataset) takes a data set; this is a range of batches (a data "
                  "loader?): read it with nas::data_from_batches(*loader)");
  else if constexpr (std::is_const_v<D> && map_dataset<plain>)
    static_assert(!std::is_const_v<D>,
                  "nas::data_from(dataset): the data set is const, but LibTorch's get() and "
                  "get_batch() are non-const members; pass it non-const (or a copy)");
  else if constexpr (stream_dataset<plain>)
    static_assert(!stream_dataset<plain>,
                  "nas::data_from(dataset): this data set is a stream (its get_batch takes a "
                  "batch size, as a torch::data::datasets::StreamDataset's does), so it cannot "
                  "be read by index; read its data loader with nas::data_from_batches(*loader)");
  else if constexpr (!sized_dataset<plain>)
    static_assert(sized_dataset<plain>,
                  "nas::data_from(dataset): the data set needs `std::optional<size_t> size() "
                  "const` (a torch::data::datasets::Dataset subclass overrides it)");
  else
    static_assert(indexed_examples<D> || batched_examples<D>,
                  "nas::data_from(dataset): the data set needs `torch::data::Example<> "
                  "get(size_t)`, or a get_batch(c10::ArrayRef<size_t>) that returns "
                  "torch::data::Example<> or std::vector<torch::data::Example<>>; examples "
                  "without a target (torch::data::TensorExample) cannot make a nas::Data");
  return false;
}

/// The first thing that keeps `R` from being a nas::example_batches, said once.
template <class R>
constexpr bool explain_data_from_batches() {
  using plain = std::remove_const_t<R>;
  constexpr bool pointer = requires(plain & p) {
    requires example_batches<std::remove_reference_t<decltype(*p)>>;
  };
  if constexpr (pointer)
    static_assert(!pointer,
                  "nas::data_from_batches(loader): torch::data::make_data_loader returns a "
                  "std::unique_ptr; pass the loader itself: nas::data_from_batches(*loader)");
  else if constexpr (map_dataset<plain>)
    static_assert(!map_dataset<plain>,
                  "nas::data_from_batches(range) takes a range of batches; this is a data set: "
                  "read it with nas::data_from(dataset)");
  else if constexpr (std::is_const_v<R> && example_batches<plain>)
    static_assert(!std::is_const_v<R>,
                  "nas::data_from_batches(loader): the loader is const, but a DataLoader's "
                  "begin() is a non-const member; pass it non-const");
  else if constexpr (!walkable<R>)
    static_assert(walkable<R>,
                  "nas::data_from_batches(range) needs a range of batches that a range-based "
                  "for loop walks, as *torch::data::make_data_loader(...)");
  else
    static_assert(example_batch<walked_t<R>>,
                  "nas::data_from_batches(range): each batch must be torch::data::Example<> "
                  "(a loader over dataset.map(torch::data::transforms::Stack<>())) or "
                  "std::vector<torch::data::Example<>> (a loader without a stack transform); "
                  "batches without targets (torch::data::TensorExample) cannot make a "
                  "nas::Data");
  return false;
}

}  // namespace detail

/// Reads every example of a LibTorch map-style data set, in index order, into one nas::Data:
/// inputs stacked along a new dim 0 (`[N, ...]`), targets likewise (a scalar target per
/// example, a class index, gives `[N]`). Uses `get_batch` on chunks of indices where the data
/// set has it (a `.map(Stack<>())` data set has only that), `get(index)` otherwise; the result
/// is the same either way.
///
/// Copies: the result owns two new contiguous tensors, detached, with the examples' element
/// types, on the examples' device (CPU unless get() returned tensors elsewhere); they are
/// allocated once at the full size when the first example arrives, so the peak is the data
/// set plus one chunk of examples.
///
/// Throws a c10::Error naming the problem for: a data set without a size (`size()` returns an
/// empty optional), an empty one, an undefined tensor, an example whose inputs or targets
/// differ in shape, element type or device from the first (both shapes and the index named),
/// inputs and targets on different devices.
///
/// ```
/// class Stripes : public torch::data::datasets::Dataset<Stripes> {
///  public:
///   torch::data::Example<> get(size_t i) override { return {image(i), torch::tensor(label(i))}; }
///   std::optional<size_t> size() const override { return 96; }
/// };
/// Stripes stripes;
/// nas::Data train = nas::data_from(stripes);  // inputs [96, 1, 8, 8], targets [96]
/// using torch::data::transforms::Normalize;
/// nas::Data normalized = nas::data_from(Stripes().map(Normalize<>(0.5, 0.25)));
/// auto result = nas::Gdas(net, {.epochs = 1}).search(normalized);
/// ```
template <class D>
  requires map_dataset<std::remove_reference_t<D>>
[[nodiscard]] Data data_from(D&& dataset) {
  using set = std::remove_reference_t<D>;
  constexpr const char* who = "nas::data_from";
  const std::optional<std::size_t> size = std::as_const(dataset).size();
  TORCH_CHECK(size.has_value(), who,
              ": the data set has no size (its size() returned an empty std::optional), so it "
              "cannot be read by index to its end; read it through a data loader with a sampler "
              "that knows how many examples to draw, and pass that to "
              "nas::data_from_batches(*loader)");
  TORCH_CHECK(*size > 0, who,
              ": the data set is empty (size() is 0); a nas::Data needs at least one example");
  TORCH_CHECK(*size <= static_cast<std::size_t>(std::numeric_limits<std::int64_t>::max()), who,
              ": the data set's size ", *size, " is too large for a tensor");
  const auto n = static_cast<std::int64_t>(*size);
  detail::DataFiller out(who, n);
  if constexpr (detail::batched_examples<set>) {
    std::vector<std::size_t> indices;
    for (std::int64_t first = 0; first < n; first += detail::data_from_chunk) {
      const auto count = std::min(detail::data_from_chunk, n - first);
      indices.resize(static_cast<std::size_t>(count));
      std::iota(indices.begin(), indices.end(), static_cast<std::size_t>(first));
      auto batch = [&] {
        try {
          return dataset.get_batch(c10::ArrayRef<std::size_t>(indices));
        } catch (const c10::Error& e) {
          TORCH_CHECK(false, who, ": reading ", detail::example_place(first, count, -1),
                      " with get_batch failed (for example: a Stack<> transform needs every "
                      "example of the same shape): ",
                      e.what_without_backtrace());
          throw;  // not reached: TORCH_CHECK(false, ...) throws
        }
      }();
      if constexpr (detail::stacked_batch<decltype(batch)>) {
        out.add_stacked(batch, first, count);
      } else {
        TORCH_CHECK(static_cast<std::int64_t>(batch.size()) == count, who, ": get_batch for ",
                    detail::example_place(first, count, -1), " returned ", batch.size(),
                    " examples; it must return one per index");
        for (std::int64_t i = 0; i < count; ++i)
          out.add(batch[static_cast<std::size_t>(i)], first + i);
      }
    }
  } else {
    for (std::int64_t i = 0; i < n; ++i) out.add(dataset.get(static_cast<std::size_t>(i)), i);
  }
  return std::move(out).finish();
}

/// Chosen only when the argument is no nas::map_dataset: stops compilation with a message that
/// names what is missing.
template <class D>
  requires(!map_dataset<std::remove_reference_t<D>>)
Data data_from(D&& /*dataset*/) {
  static_assert(detail::explain_data_from<std::remove_reference_t<D>>(), "see the message above");
  return {};
}

/// Reads every batch of a range, in the order it yields them, into one nas::Data: the batches
/// of `*torch::data::make_data_loader(...)` with a `Stack<>` transform (each a
/// `torch::data::Example<>` of `[k, ...]` tensors) or without one (each a
/// `std::vector<torch::data::Example<>>`), concatenated along dim 0; a scalar target per
/// example gives targets `[N]`. It walks the range once (a DataLoader starts a new epoch).
///
/// Order: a shuffling loader (the default RandomSampler) gives its shuffled order. nas's
/// strategies shuffle their batches themselves (seeded by torch::manual_seed), so a
/// `torch::data::samplers::SequentialSampler` is the right choice: the same nas::Data as
/// nas::data_from, reproducible. Workers (`DataLoaderOptions::workers`) change nothing in the
/// result with a sequential sampler (the loader keeps the order by default).
///
/// Copies: the result owns two new contiguous tensors, detached, on the batches' device; the
/// batches are kept until they are concatenated, so the peak is about twice the data set.
///
/// Throws a c10::Error naming the problem for: no examples at all, an undefined tensor, a
/// stacked batch whose inputs or targets do not hold its examples along dim 0, an example or
/// batch whose shapes (per example), element types or device differ from the first (the
/// example's position in the order seen and its batch named).
///
/// ```
/// auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
///     Stripes().map(torch::data::transforms::Stack<>()),
///     torch::data::DataLoaderOptions().batch_size(32));
/// nas::Data train = nas::data_from_batches(*loader);  // the same as nas::data_from(stripes)
/// ```
template <class R>
  requires example_batches<std::remove_reference_t<R>>
[[nodiscard]] Data data_from_batches(R&& batches) {
  detail::DataJoiner out("nas::data_from_batches");
  std::int64_t b = 0;
  for (auto&& batch : batches) {
    if constexpr (detail::stacked_batch<decltype(batch)>)
      out.add_stacked(batch, b);
    else
      out.add_examples(batch, b);
    ++b;
  }
  return std::move(out).finish(b);
}

/// Chosen only when the argument is no nas::example_batches: stops compilation with a message
/// that names what is missing.
template <class R>
  requires(!example_batches<std::remove_reference_t<R>>)
Data data_from_batches(R&& /*batches*/) {
  static_assert(detail::explain_data_from_batches<std::remove_reference_t<R>>(),
                "see the message above");
  return {};
}

}  // namespace nas
