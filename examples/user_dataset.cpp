// user_dataset: an architecture search fed by your own torch::data data set.
//
// `Stripes` is an ordinary LibTorch data set (a torch::data::datasets::Dataset subclass with
// get() and size()): 8x8 grey images of horizontal, vertical or diagonal stripes, the class,
// each drawn from its index by a fixed formula. nas::data_from reads it into a nas::Data (the
// two tensors every strategy and evaluator take); nas::data_from_batches does the same from
// the batches of a torch::data data loader, here with a Normalize and a Stack transform. Then
// the data feeds GDAS on NAS-Bench-201's supernet for one epoch, and random search with
// children trained from scratch. Seconds on a CPU; docs/data_input.md walks through it.
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <optional>
#include <string>

#include <nas/nas.hpp>

namespace {

// ---- 1. A user's data set: nothing nas-specific in it.

class Stripes : public torch::data::datasets::Dataset<Stripes> {
 public:
  static constexpr std::int64_t side = 8;
  static constexpr std::int64_t classes = 3;

  explicit Stripes(std::size_t size) : size_(size) {}

  // Image `index`: class index % 3 (0 horizontal, 1 vertical, 2 diagonal stripes, two pixels
  // wide), shifted by (index / 3) % 4 pixels, with a contrast that varies with index / 12.
  torch::data::Example<> get(std::size_t index) override {
    const auto label = static_cast<std::int64_t>(index % classes);
    const auto shift = static_cast<std::int64_t>((index / 3) % 4);
    const double contrast = 0.6 + 0.1 * static_cast<double>((index / 12) % 4);
    const auto rows = torch::arange(side, torch::kLong).view({side, 1}).expand({side, side});
    const auto cols = torch::arange(side, torch::kLong).view({1, side}).expand({side, side});
    const auto coordinate = label == 0 ? rows : label == 1 ? cols : rows + cols;
    const auto on = (coordinate + shift).remainder(4).lt(2).to(torch::kFloat);
    const auto image = (on - 0.5) * contrast + 0.5;     // in [0.2, 0.8]
    return {image.unsqueeze(0), torch::tensor(label)};  // [1, 8, 8] and a scalar class index
  }

  [[nodiscard]] std::optional<std::size_t> size() const override { return size_; }

 private:
  std::size_t size_;
};

std::string shape(const torch::Tensor& t) {
  std::string s = "[";
  for (std::int64_t d = 0; d < t.dim(); ++d) s += (d > 0 ? ", " : "") + std::to_string(t.size(d));
  return s + "]";
}

const char* yes(bool b) { return b ? "yes" : "no"; }

}  // namespace

int main() {
  try {
    torch::manual_seed(0);
    using space = nas::spaces::nb201;

    // ---- 2. The data set as a nas::Data: every example read in index order and stacked.
    Stripes stripes(96);
    const nas::Data data = nas::data_from(stripes);
    std::printf("nas::data_from: inputs %s %s, targets %s %s\n", shape(data.inputs).c_str(),
                std::string(c10::toString(data.inputs.scalar_type())).c_str(),
                shape(data.targets).c_str(),
                std::string(c10::toString(data.targets.scalar_type())).c_str());
    const auto counts = torch::bincount(data.targets);
    std::printf("images per class: %lld %lld %lld\n",
                static_cast<long long>(counts[0].item<std::int64_t>()),
                static_cast<long long>(counts[1].item<std::int64_t>()),
                static_cast<long long>(counts[2].item<std::int64_t>()));

    // ---- 3. The same through a data loader: transforms, batches of 32, a sequential sampler
    //         (nas's strategies shuffle their batches themselves).
    auto loader = torch::data::make_data_loader<torch::data::samplers::SequentialSampler>(
        Stripes(96)
            .map(torch::data::transforms::Normalize<>(0.5, 0.25))
            .map(torch::data::transforms::Stack<>()),
        torch::data::DataLoaderOptions().batch_size(32));
    const nas::Data normalized = nas::data_from_batches(*loader);
    std::printf("nas::data_from_batches: inputs %s, the images of nas::data_from normalized: %s\n",
                shape(normalized.inputs).c_str(),
                yes(torch::allclose(normalized.inputs, (data.inputs - 0.5) / 0.25) &&
                    torch::equal(normalized.targets, data.targets)));

    // ---- 4. GDAS on NAS-Bench-201's supernet: one epoch, half the images for the weights,
    //         half for the architecture.
    const nas::Stack stack{.layers = 1,
                           .channels = 4,
                           .classes = Stripes::classes,
                           .input_channels = 1,
                           .skeleton = nas::Skeleton::nb201};
    nas::Supernet<space, nas::relax::Gumbel> net(stack);
    nas::Gdas gdas(net, {.epochs = 1, .weights = {.batch_size = 16}});
    const auto searched = gdas.search(normalized);
    searched.genotype.validate();
    std::printf(
        "GDAS: %zu epoch on %lld + %lld images, derived a cell of %zu edges; it "
        "round-trips through text: %s\n",
        searched.epochs.size(), static_cast<long long>(normalized.size() / 2),
        static_cast<long long>(normalized.size() - normalized.size() / 2), space::edge_count,
        yes(nas::parse<space>(nas::to_string(searched.genotype)) == searched.genotype));

    // ---- 5. Random search, each child trained from scratch on the first 64 images and scored
    //         on the last 32.
    nas::eval::FromScratch<space> from_scratch(
        data.slice(0, 64), data.slice(64, 96),
        {.stack = stack, .epochs = 1, .batch_size = 16, .eval_batch_size = 32});
    nas::RandomSearch<space> random({.seed = 1});
    const auto sampled = nas::run_trials(random, from_scratch, {.trials = 3});
    const auto& best = sampled.best();
    std::printf("random search: %zu trials trained from scratch, best accuracy in [0, 1]: %s\n",
                sampled.trials.size(),
                yes(best.metrics.accuracy >= 0.0 && best.metrics.accuracy <= 1.0));
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "user_dataset: %s\n", e.what_without_backtrace());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "user_dataset: %s\n", e.what());
    return 1;
  }
  return 0;
}
