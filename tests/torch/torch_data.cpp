// nas::data_from and nas::data_from_batches: LibTorch data sets and data loaders into a
// nas::Data, the same tensors whichever way they are read, and the errors for what cannot be.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <optional>
#include <utility>
#include <vector>

#include <nas/data/torch_data.hpp>

namespace {

using torch::data::Example;

// Example i: data [1, 2, 3] = i + (0..5) / 10, target the scalar i % 3.
Example<> square(std::size_t i) {
  const auto base = static_cast<double>(i);
  return {torch::arange(6, torch::kFloat).div(10).add(base).view({1, 2, 3}),
          torch::tensor(static_cast<std::int64_t>(i % 3))};
}

// What every reading of `n` squares must give, built without nas.
nas::Data expected_squares(std::int64_t n) {
  const auto rows = torch::arange(n, torch::kFloat).view({n, 1, 1, 1});
  return {(torch::arange(6, torch::kFloat).div(10).view({1, 1, 2, 3}) + rows).contiguous(),
          torch::arange(n, torch::kLong).remainder(3)};
}

bool same(const nas::Data& a, const nas::Data& b) {
  return a.inputs.sizes() == b.inputs.sizes() && a.targets.sizes() == b.targets.sizes() &&
         a.inputs.scalar_type() == b.inputs.scalar_type() &&
         a.targets.scalar_type() == b.targets.scalar_type() && torch::equal(a.inputs, b.inputs) &&
         torch::equal(a.targets, b.targets);
}

// A user's data set: the torch::data::datasets::Dataset way (get_batch is the default one).
class Squares : public torch::data::datasets::Dataset<Squares> {
 public:
  explicit Squares(std::size_t n) : n_(n) {}
  Example<> get(std::size_t i) override { return square(i); }
  [[nodiscard]] std::optional<std::size_t> size() const override { return n_; }

 private:
  std::size_t n_;
};

// No torch base class: only get and size.
struct OnlyGet {
  std::size_t n;
  Example<> get(std::size_t i) const { return square(i); }
  [[nodiscard]] std::optional<std::size_t> size() const { return n; }
};

// Its own get_batch, counting the calls (nas::data_from must prefer it to get()).
class CountedBatches : public torch::data::datasets::Dataset<CountedBatches> {
 public:
  explicit CountedBatches(std::size_t n) : n_(n) {}
  Example<> get(std::size_t i) override {
    ++gets;
    return square(i);
  }
  std::vector<Example<>> get_batch(c10::ArrayRef<std::size_t> indices) override {
    ++batches;
    std::vector<Example<>> out;
    for (const auto i : indices) out.push_back(square(i));
    return out;
  }
  [[nodiscard]] std::optional<std::size_t> size() const override { return n_; }
  int gets = 0;
  int batches = 0;

 private:
  std::size_t n_;
};

// Squares with one example spoiled: the `bad` one's data, target or its type.
enum class Spoil { shape, target_shape, dtype, undefined, device };
class Spoiled : public torch::data::datasets::Dataset<Spoiled> {
 public:
  Spoiled(std::size_t n, std::size_t bad, Spoil how) : n_(n), bad_(bad), how_(how) {}
  Example<> get(std::size_t i) override {
    auto e = square(i);
    if (i != bad_) return e;
    switch (how_) {
      case Spoil::shape:
        return {torch::zeros({1, 2, 4}), e.target};
      case Spoil::target_shape:
        return {e.data, e.target.view({1})};
      case Spoil::dtype:
        return {e.data, e.target.to(torch::kInt)};
      case Spoil::undefined:
        return {e.data, torch::Tensor()};
      case Spoil::device:
        return {torch::empty({1, 2, 3}, torch::device(torch::kMeta)), e.target};
    }
    return e;
  }
  [[nodiscard]] std::optional<std::size_t> size() const override { return n_; }

 private:
  std::size_t n_, bad_;
  Spoil how_;
};

// A map-style data set that does not know its size.
class Unsized : public torch::data::datasets::Dataset<Unsized> {
 public:
  Example<> get(std::size_t i) override { return square(i); }
  [[nodiscard]] std::optional<std::size_t> size() const override { return std::nullopt; }
};

// A stream: batches by count, not by index.
class Stream : public torch::data::datasets::StreamDataset<Stream> {
 public:
  std::vector<Example<>> get_batch(std::size_t n) override {
    std::vector<Example<>> out;
    for (std::size_t i = 0; i < n; ++i) out.push_back(square(i));
    return out;
  }
  [[nodiscard]] std::optional<std::size_t> size() const override { return std::nullopt; }
};

// Every example on the meta device (no memory): the result must stay there.
class OnMeta : public torch::data::datasets::Dataset<OnMeta> {
 public:
  Example<> get(std::size_t /*i*/) override {
    return {torch::empty({1, 2, 3}, torch::device(torch::kMeta)),
            torch::empty({}, torch::device(torch::kMeta).dtype(torch::kLong))};
  }
  [[nodiscard]] std::optional<std::size_t> size() const override { return 5; }
};

using Stacked = torch::data::transforms::Stack<>;
using Sequential = torch::data::samplers::SequentialSampler;

// What the concepts accept and refuse.
static_assert(nas::map_dataset<Squares>);
static_assert(nas::map_dataset<OnlyGet>);
static_assert(nas::map_dataset<torch::data::datasets::MNIST>);
static_assert(
    nas::map_dataset<torch::data::datasets::MapDataset<Squares, torch::data::transforms::Stack<>>>);
static_assert(!nas::map_dataset<const Squares>);  // LibTorch's get() is non-const
static_assert(!nas::map_dataset<Stream>);
static_assert(!nas::map_dataset<std::vector<Example<>>>);
static_assert(nas::example_batch<Example<>&>);
static_assert(nas::example_batch<std::vector<Example<>>>);
static_assert(!nas::example_batch<torch::data::TensorExample>);
static_assert(nas::example_batches<std::vector<Example<>>>);
static_assert(nas::example_batches<std::vector<std::vector<Example<>>>>);
static_assert(!nas::example_batches<std::vector<torch::data::TensorExample>>);
static_assert(!nas::example_batches<Squares>);

}  // namespace

TEST_SUITE("torch data") {
  TEST_CASE("nas::data_from: a user's Dataset subclass gives its examples stacked in order") {
    // 600 examples: two full chunks of get_batch and a partial one
    Squares squares(600);
    const auto d = nas::data_from(squares);
    CHECK(d.inputs.sizes() == torch::IntArrayRef{600, 1, 2, 3});
    CHECK(d.targets.sizes() == torch::IntArrayRef{600});  // scalar targets become [N]
    CHECK(d.inputs.dtype() == torch::kFloat);
    CHECK(d.targets.dtype() == torch::kLong);
    CHECK(d.inputs.is_contiguous());
    CHECK(d.targets.is_contiguous());
    CHECK(d.inputs.device() == torch::Device(torch::kCPU));
    CHECK(same(d, expected_squares(600)));
    CHECK(d.targets[599].item<std::int64_t>() == 599 % 3);
    CHECK_NOTHROW(d.check("test"));
    // without a torch base class, and through a temporary
    CHECK(same(nas::data_from(OnlyGet{600}), d));
    CHECK(same(nas::data_from(Squares(7)), expected_squares(7)));
  }

  TEST_CASE("nas::data_from: get_batch is used where the data set has it, with the same result") {
    CountedBatches counted(300);
    CHECK(same(nas::data_from(counted), expected_squares(300)));
    CHECK(counted.batches == 2);  // chunks of 256
    CHECK(counted.gets == 0);
  }

  TEST_CASE("nas::data_from: MapDatasets with Normalize and Stack transforms") {
    const auto expected = expected_squares(40);
    const auto normalized = (expected.inputs - 0.5) / 0.25;
    using torch::data::transforms::Normalize;
    // Normalize keeps examples one by one (get_batch returns a vector)
    const auto n = nas::data_from(Squares(40).map(Normalize<>(0.5, 0.25)));
    CHECK(n.inputs.sizes() == torch::IntArrayRef{40, 1, 2, 3});
    CHECK(torch::allclose(n.inputs, normalized));
    CHECK(torch::equal(n.targets, expected.targets));
    // Stack makes get_batch return one stacked example per chunk
    auto stacked = Squares(300).map(Normalize<>(0.5, 0.25)).map(Stacked());
    const auto s = nas::data_from(stacked);
    CHECK(s.targets.sizes() == torch::IntArrayRef{300});
    CHECK(torch::allclose(s.inputs.slice(0, 0, 40), normalized));
    CHECK(same(s.slice(0, 40), n));
    CHECK(same(nas::data_from(Squares(300).map(Stacked())), expected_squares(300)));
  }

  TEST_CASE("nas::data_from_batches: sequential data loaders give what nas::data_from gives") {
    const auto direct = nas::data_from(Squares(100));
    const auto options = torch::data::DataLoaderOptions().batch_size(32);  // the last holds 4
    auto stacked = torch::data::make_data_loader<Sequential>(Squares(100).map(Stacked()), options);
    static_assert(nas::example_batches<decltype(*stacked)>);
    CHECK(same(nas::data_from_batches(*stacked), direct));
    auto lists = torch::data::make_data_loader<Sequential>(Squares(100), options);
    CHECK(same(nas::data_from_batches(*lists), direct));
    // a second pass over the same loader starts a new epoch: the same again
    CHECK(same(nas::data_from_batches(*lists), direct));
    // worker threads keep the order
    auto workers = torch::data::make_data_loader<Sequential>(
        Squares(100).map(Stacked()), torch::data::DataLoaderOptions().batch_size(8).workers(2));
    CHECK(same(nas::data_from_batches(*workers), direct));
    // plain containers of batches
    std::vector<Example<>> batches{{direct.inputs.slice(0, 0, 60), direct.targets.slice(0, 0, 60)},
                                   {direct.inputs.slice(0, 60), direct.targets.slice(0, 60)}};
    const auto joined = nas::data_from_batches(batches);
    CHECK(same(joined, direct));
    CHECK(joined.inputs.data_ptr() != direct.inputs.data_ptr());  // a copy, not a view
    std::vector<std::vector<Example<>>> singles(1);
    for (std::size_t i = 0; i < 100; ++i) singles[0].push_back(square(i));
    CHECK(same(nas::data_from_batches(std::move(singles)), direct));
  }

  TEST_CASE("nas::data_from_batches: a shuffling loader gives its shuffled order") {
    torch::manual_seed(3);
    auto shuffled = torch::data::make_data_loader(Squares(50).map(Stacked()),
                                                  torch::data::DataLoaderOptions().batch_size(16));
    const auto d = nas::data_from_batches(*shuffled);
    const auto direct = expected_squares(50);
    CHECK(d.size() == 50);
    CHECK_FALSE(torch::equal(d.inputs, direct.inputs));
    // the same examples, each with its own target: sorting by the inputs restores the order
    const auto order = d.inputs.select(1, 0).select(1, 0).select(1, 0).argsort();
    CHECK(torch::equal(d.inputs.index_select(0, order), direct.inputs));
    CHECK(torch::equal(d.targets.index_select(0, order), direct.targets));
  }

  TEST_CASE("nas::data_from: the examples' device is kept") {
    OnMeta meta;
    const auto d = nas::data_from(meta);
    CHECK(d.inputs.device() == torch::Device(torch::kMeta));
    CHECK(d.targets.device() == torch::Device(torch::kMeta));
    CHECK(d.inputs.sizes() == torch::IntArrayRef{5, 1, 2, 3});
    CHECK(d.targets.sizes() == torch::IntArrayRef{5});
    auto loader = torch::data::make_data_loader<Sequential>(
        OnMeta(), torch::data::DataLoaderOptions().batch_size(2));
    CHECK(nas::data_from_batches(*loader).inputs.device() == torch::Device(torch::kMeta));
  }

  TEST_CASE("nas::data_from: data sets that cannot become a nas::Data are named with the fix") {
    Unsized unsized;
    CHECK_THROWS_WITH_AS((void)nas::data_from(unsized), doctest::Contains("has no size"),
                         c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from(unsized), doctest::Contains("data_from_batches"),
                         c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from(Squares(0)), doctest::Contains("is empty"),
                         c10::Error);
    Spoiled shape(20, 5, Spoil::shape);
    CHECK_THROWS_WITH_AS(
        (void)nas::data_from(shape),
        doctest::Contains("example 5 has inputs of shape [1, 2, 4] but example 0 has [1, 2, 3]"),
        c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from(Spoiled(20, 0, Spoil::shape)),
                         doctest::Contains("example 1 has inputs of shape [1, 2, 3] but example "
                                           "0 has [1, 2, 4]"),
                         c10::Error);
    CHECK_THROWS_WITH_AS(
        (void)nas::data_from(Spoiled(20, 7, Spoil::target_shape)),
        doctest::Contains("example 7 has targets of shape [1] but example 0 has []"), c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from(Spoiled(20, 3, Spoil::dtype)),
                         doctest::Contains("example 3 has inputs of type Float and targets of Int"),
                         c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from(Spoiled(20, 2, Spoil::undefined)),
                         doctest::Contains("example 2 has an undefined target"), c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from(Spoiled(20, 4, Spoil::device)),
                         doctest::Contains("example 4 has inputs on meta"), c10::Error);
    // with a Stack<> transform torch::stack fails first; the error says where
    CHECK_THROWS_WITH_AS((void)nas::data_from(Spoiled(300, 260, Spoil::shape).map(Stacked())),
                         doctest::Contains("nas::data_from: reading examples 256 to 299"),
                         c10::Error);
  }

  TEST_CASE("nas::data_from_batches: batches that cannot become a nas::Data are named") {
    const auto options = torch::data::DataLoaderOptions().batch_size(8);
    auto lists = torch::data::make_data_loader<Sequential>(Spoiled(20, 13, Spoil::shape), options);
    CHECK_THROWS_WITH_AS((void)nas::data_from_batches(*lists),
                         doctest::Contains("example 13 (batch 1) has inputs of shape [1, 2, 4]"),
                         c10::Error);
    std::vector<Example<>> ragged{{torch::zeros({4, 1, 2, 3}), torch::zeros({4}, torch::kLong)},
                                  {torch::zeros({3, 1, 2, 2}), torch::zeros({3}, torch::kLong)}};
    CHECK_THROWS_WITH_AS(
        (void)nas::data_from_batches(ragged),
        doctest::Contains("examples 4 to 6 (batch 1) has inputs of shape [1, 2, 2] but examples "
                          "0 to 3 (batch 0) has [1, 2, 3]"),
        c10::Error);
    std::vector<Example<>> miscounted{
        {torch::zeros({4, 1, 2, 3}), torch::zeros({3}, torch::kLong)}};
    CHECK_THROWS_WITH_AS((void)nas::data_from_batches(miscounted),
                         doctest::Contains("has targets of shape [3]; it must hold its 4 examples"),
                         c10::Error);
    // single examples given as if they were batches
    std::vector<Example<>> singles{square(0), square(1)};
    CHECK_THROWS_WITH_AS((void)nas::data_from_batches(singles),
                         doctest::Contains("a list of single examples is one batch"), c10::Error);
    CHECK_THROWS_WITH_AS((void)nas::data_from_batches(std::vector<Example<>>{}),
                         doctest::Contains("no examples"), c10::Error);
    auto empty = torch::data::make_data_loader<Sequential>(Squares(0), options);
    CHECK_THROWS_WITH_AS((void)nas::data_from_batches(*empty), doctest::Contains("no examples"),
                         c10::Error);
  }
}
