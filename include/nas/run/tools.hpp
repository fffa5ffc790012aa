#pragma once
/// @file
/// The everyday verbs of `nas_search` beside the search (docs/tools.md), as functions a program
/// of your own can call too: nas::run::count (parameters and multiply-adds of a genotype at a
/// size), nas::run::convert (between DARTS text, NAS-Bench-201 text and JSON), nas::run::draw
/// (a genotype's cells as DOT, and SVG with Graphviz), nas::run::train_genotype (trains a
/// genotype from scratch, tests it, exports it) and nas::run::evaluate_network (tests an exported
/// network). Each takes the built-in space by name (nas::run::space_names). Not part of
/// <nas/nas.hpp>, like nas/run/program.hpp (it reads data files: link ZLIB::ZLIB).

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nas/eval/from_scratch.hpp"
#include "nas/nn/network.hpp"
#include "nas/run/program.hpp"
#include "nas/run/settings.hpp"
#include "nas/space/format.hpp"
#include "nas/spaces/darts.hpp"
#include "nas/spaces/mobile.hpp"
#include "nas/spaces/nb201.hpp"
#include "nas/train/export.hpp"
#include "nas/viz/dot.hpp"

namespace nas::run {

/// Calls `f(std::type_identity<Space>{})` for the built-in space named `space` ("nb201",
/// "darts", "mobile"); a c10::Error names the spaces for another name.
template <class F>
decltype(auto) with_space(std::string_view space, F&& f) {
  if (space == "nb201") return f(std::type_identity<spaces::nb201>{});
  if (space == "darts") return f(std::type_identity<spaces::darts>{});
  TORCH_CHECK(space == "mobile", "unknown space '", space, "'; use nb201, darts or mobile");
  return f(std::type_identity<spaces::mobile>{});
}

/// The published genotypes a verb knows by name (`--genotype darts_v2`).
inline constexpr std::string_view published_names[] = {"darts_v1", "darts_v2", "pc_darts"};

/// The genotype of `S` that `text` stands for: a published one by name (nas::run::published_names,
/// DARTS space), or DARTS text, NAS-Bench-201 text or JSON (nas::parse). Throws nas::ParseError
/// naming the position of the problem.
template <search_space S>
[[nodiscard]] Genotype<S> genotype_from(std::string_view text) {
  if constexpr (std::is_same_v<S, spaces::darts>) {
    if (text == "darts_v1") return genotypes::darts_v1;
    if (text == "darts_v2") return genotypes::darts_v2;
    if (text == "pc_darts") return genotypes::pc_darts;
  }
  return parse<S>(text);
}

/// The text of a genotype argument: `text`, or the contents of `file` when `text` is empty (one
/// of the two must be given).
[[nodiscard]] inline std::string genotype_argument(const std::string& text,
                                                   const std::string& file) {
  TORCH_CHECK(text.empty() != file.empty(),
              "give the genotype as --genotype TEXT or --genotype-file FILE (one of the two)");
  if (!file.empty()) return nas::detail::read_file_bytes(file, "--genotype-file");
  return text;
}

/// The sizes a verb builds a network at. Zero: the space's default (DARTS: 8 cells of 16
/// channels, CIFAR-shaped 3x32x32 inputs, 10 classes; NAS-Bench-201: 5 cells a stage; mobile:
/// 16 channels at 224x224).
struct NetworkSize {
  std::int64_t layers = 0;
  std::int64_t channels = 0;
  std::int64_t classes = 10;
  std::int64_t input_channels = 3;
  std::int64_t height = 0;  ///< 0: 32 (mobile: 224)
  std::int64_t width = 0;   ///< 0: the height
  bool auxiliary = false;   ///< DARTS's auxiliary head (counted out by nas::run::count)
};

/// The nas::Stack of `size` on space `S`.
template <search_space S>
[[nodiscard]] Stack stack_of(const NetworkSize& size) {
  const bool darts = std::is_same_v<S, spaces::darts>;
  const bool mobile = std::is_same_v<S, spaces::mobile>;
  Stack st =
      stack_for<S>(size.layers > 0 ? size.layers : (darts ? 8 : (mobile ? 1 : 5)),
                   size.channels > 0 ? size.channels : 16, size.classes, size.input_channels);
  st.auxiliary = size.auxiliary;
  return st;
}

/// Parameter and multiply-add counts of `genotype` (nas::run::genotype_from) on `space` at
/// `size`, for one image.
struct Count {
  std::string genotype;  ///< nas::to_string of it
  Cost cost;
  std::int64_t height = 0;
  std::int64_t width = 0;
};
[[nodiscard]] inline Count count(std::string_view space, std::string_view genotype,
                                 const NetworkSize& size = {}) {
  return with_space(space, [&]<class S>(std::type_identity<S>) {
    const auto g = genotype_from<S>(genotype);
    const std::int64_t h =
        size.height > 0 ? size.height : (std::is_same_v<S, spaces::mobile> ? 224 : 32);
    const std::int64_t w = size.width > 0 ? size.width : h;
    return Count{to_string(g), cost(g, stack_of<S>(size), h, w), h, w};
  });
}

/// `genotype` on `space` written `to` "darts" (DARTS text), "nb201" (NAS-Bench-201 text: spaces
/// of one cell kind that keeps every edge) or "json".
[[nodiscard]] inline std::string convert(std::string_view space, std::string_view genotype,
                                         std::string_view to) {
  return with_space(space, [&]<class S>(std::type_identity<S>) -> std::string {
    const auto g = genotype_from<S>(genotype);
    if (to == "json") return to_json(g);
    if (to == "darts") return to_darts(g);
    TORCH_CHECK(to == "nb201", "unknown format '", to, "'; use darts, nb201 or json");
    TORCH_CHECK(nb201_text_fits<S>, "the ", space,
                " space's genotypes do not fit NAS-Bench-201 text (it writes one cell kind that "
                "keeps every edge); use darts or json");
    if constexpr (nb201_text_fits<S>) return to_nb201(g);
    return {};
  });
}

/// Writes `<prefix><cell>.dot` for each cell of `genotype` on `space`, and `<prefix><cell>.svg`
/// when Graphviz is installed; returns the files written.
[[nodiscard]] inline std::vector<std::filesystem::path> draw(std::string_view space,
                                                             std::string_view genotype,
                                                             const std::string& prefix) {
  return with_space(space, [&]<class S>(std::type_identity<S>) {
    const auto g = genotype_from<S>(genotype);
    std::vector<std::filesystem::path> files;
    const std::filesystem::path p(prefix);
    if (p.has_parent_path()) std::filesystem::create_directories(p.parent_path());
    for (const auto& [cell, dot] : cell_dots(g)) {
      const std::filesystem::path file = prefix + cell + ".dot";
      write_atomically(file, dot);
      files.push_back(file);
      const std::filesystem::path svg = prefix + cell + ".svg";
      if (render_dot(file, svg)) files.push_back(svg);
    }
    return files;
  });
}

/// What nas::run::train_genotype does.
struct TrainOptions {
  NetworkSize size{};          ///< classes and input channels come from the data
  std::int64_t epochs = 4;     ///< passes over the training images
  std::int64_t train = 15000;  ///< the first training images used
  std::int64_t test = 0;       ///< the first test images scored (0: all)
  std::int64_t batch = 64;
  double lr = 0.05;  ///< SGD, cosine-annealed (nas::eval::FromScratch's recipe)
  std::uint64_t seed = 0;
  std::string device = "cpu";
  std::string save;  ///< nas::export_network the trained network here (empty: not saved)
};

/// A trained or evaluated network's test result.
struct TestResult {
  std::string genotype;
  double accuracy = 0.0;  ///< on the test images
  double loss = 0.0;
  std::int64_t parameters = 0;
  std::int64_t images = 0;  ///< test images scored
  double seconds = 0.0;     ///< training (train_genotype) or scoring (evaluate_network)
};

/// Trains `genotype` on `space` from scratch on `data`'s training split (the recipe of a search
/// run's final training: nas::eval::FromScratch), tests it on the test split and, with
/// `options.save`, exports the trained network (nas::export_network).
[[nodiscard]] inline TestResult train_genotype(std::string_view space, std::string_view genotype,
                                               const Dataset& data, const TrainOptions& options) {
  return with_space(space, [&]<class S>(std::type_identity<S>) {
    const auto g = genotype_from<S>(genotype);
    TORCH_CHECK(options.train >= 1 && options.train <= data.train.size(), "--train ", options.train,
                " is not between 1 and the ", data.train.size(), " training images");
    const std::int64_t test = options.test == 0 ? data.test.size() : options.test;
    TORCH_CHECK(test >= 1 && test <= data.test.size(), "--test ", test,
                " is not between 1 and the ", data.test.size(), " test images");
    NetworkSize size = options.size;
    size.classes = data.classes();
    size.input_channels = data.train.inputs.size(1);
    const Stack stack = stack_of<S>(size);
    const torch::Device device(options.device);
    eval::FromScratch<S> trainer(data.train.slice(0, options.train), data.test.slice(0, test),
                                 {.stack = stack,
                                  .epochs = options.epochs,
                                  .batch_size = options.batch,
                                  .learning_rate = options.lr,
                                  .seed = options.seed,
                                  .device = device});
    const auto t0 = std::chrono::steady_clock::now();
    Network<S> net = trainer.train(g);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const Metrics m = trainer.score(net);
    if (!options.save.empty()) export_network(net, options.save);
    return TestResult{to_string(g),          m.accuracy, m.loss.value_or(0.0),
                      parameter_count(*net), test,       secs};
  });
}

namespace detail {
/// The first built-in space that reads the genotype of an exported network's dictionary `d`.
[[nodiscard]] inline std::optional<std::string> space_of(const c10::impl::GenericDict& d,
                                                         const std::string& file) {
  const std::string json = nas::detail::export_text(d, "genotype_json", file);
  for (std::string_view name : space_names) {
    const bool fits = with_space(name, [&]<class S>(std::type_identity<S>) {
      try {
        (void)parse_json<S>(json);
        return true;
      } catch (const std::exception&) {
        return false;
      }
    });
    if (fits) return std::string(name);
  }
  return std::nullopt;
}
}  // namespace detail

/// The built-in space whose genotypes the network file `file` holds (the first that reads its
/// genotype), or nothing.
[[nodiscard]] inline std::optional<std::string> space_of_network(
    const std::filesystem::path& file) {
  return detail::space_of(nas::detail::read_export_dict(file, "network file"), file.string());
}

/// Tests the network `file` holds (nas::export_network wrote it) on the first `test` images of
/// `data`'s test split (0: all); `space` empty: found from the file (nas::run::space_of_network).
[[nodiscard]] inline TestResult evaluate_network(const std::filesystem::path& file,
                                                 const Dataset& data, std::int64_t test,
                                                 std::string space = {},
                                                 const std::string& device = "cpu") {
  const auto d = nas::detail::read_export_dict(file, "network file");  // read once
  if (space.empty()) {
    const auto found = detail::space_of(d, file.string());
    TORCH_CHECK(found.has_value(), "'", file.string(),
                "' holds a genotype of none of the built-in spaces (nb201, darts, mobile)");
    space = *found;
  }
  if (test == 0) test = data.test.size();
  TORCH_CHECK(test >= 1 && test <= data.test.size(), "--test ", test, " is not between 1 and the ",
              data.test.size(), " test images");
  return with_space(space, [&]<class S>(std::type_identity<S>) {
    const torch::Device dev(device);
    Network<S> net = nas::detail::import_from<S>(d, file.string(), dev);
    TORCH_CHECK(net->stack().input_channels == data.test.inputs.size(1) &&
                    net->stack().classes >= data.classes(),
                "'", file.string(), "' is a network for ", net->stack().input_channels,
                "-channel images and ", net->stack().classes, " classes; ", data.name, " has ",
                data.test.inputs.size(1), "-channel images and ", data.classes(), " classes");
    const auto t0 = std::chrono::steady_clock::now();
    const Metrics m = eval::score_network(net, data.test.slice(0, test), dev, 256);
    const double secs =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return TestResult{to_string(net->genotype()), m.accuracy, m.loss.value_or(0.0),
                      parameter_count(*net),      test,       secs};
  });
}

}  // namespace nas::run
