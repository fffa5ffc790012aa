// needs: torch, own main, cli11, zlib
// bench_quality_cells: the random side of the quality benchmark (docs/quality.md). Draws random
// NAS-Bench-201 cells, scores each untrained one with every zero-cost proxy (nas::proxy), trains
// it from scratch with the demo's final-training recipe (nas::eval::FromScratch: 16 channels, one
// cell per stage, 4 epochs on 15,000 Fashion-MNIST images, SGD 0.05 cosine, batch 64) and tests
// it on the 10,000 test images. One JSON line per cell, appended to --out as soon as it is
// trained, so a killed run goes on where it stopped (cells already in the file are skipped).
//
//   bench_quality_cells [--cells 50] [--seed 0] [--out benchmarks/quality/cells.jsonl]
//                       [--threads T] [--largest] [--genotype TEXT]...
//
// The cells are the ones `nas_search --preset demo --seed S` draws for its random baseline
// (std::mt19937_64 seeded S + 1000003): the first six of seed S are that run's baseline, trained
// with the same recipe and seed (`--train-seed`, default S); bit for bit the same numbers only on
// the same CPU type and thread count (LibTorch picks its kernels by CPU). `--largest` adds the
// cell with the most parameters (on every edge the op with the most weights); `--genotype` adds
// any other cell. benchmarks/quality/run.py reads the file.
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <nas/data/idx.hpp>
#include <nas/nas.hpp>

using space = nas::spaces::nb201;

namespace {

// The cells already in `path` (their "genotype" field), so that a resumed run skips them.
std::set<std::string> done_cells(const std::filesystem::path& path) {
  std::set<std::string> out;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    const auto v = nas::json::parse(line, path.string());
    if (const auto* g = v.find("genotype"); g != nullptr && g->is_string()) out.insert(g->string);
  }
  return out;
}

// The cell with the most parameters: on every edge the op whose module has the most weights
// (NAS-Bench-201's edges are independent, so the count is a sum over edges).
nas::Genotype<space> largest_cell(const nas::Stack& stack) {
  nas::Supernet<space, nas::relax::Softmax> net(stack);
  const auto counts = net->op_parameter_counts().front();
  const auto best = counts.argmax(-1).to(torch::kLong).contiguous();
  nas::Genotype<space> g;
  for (std::int64_t e = 0; e < best.numel(); ++e)
    g.cell_at<0>().set(static_cast<std::size_t>(e),
                       static_cast<std::size_t>(best.data_ptr<std::int64_t>()[e]));
  return g;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench_quality_cells: random NAS-Bench-201 cells, zero-cost proxies and trained "
      "test accuracy (docs/quality.md)"};
  std::size_t cells = 50;
  std::uint64_t seed = 0;
  std::int64_t train_seed = -1;
  std::string out = "benchmarks/quality/cells.jsonl";
  std::string data_dir;
  int threads = 0;
  bool largest = false;
  std::vector<std::string> extra;
  std::int64_t epochs = 4, train = 15000, test = 10000, channels = 16, layers = 1, batch = 64;
  std::int64_t proxy_batch = 64;
  double lr = 0.05;
  app.add_option("--cells", cells, "random cells (the first ones a demo run of --seed draws)");
  app.add_option("--seed", seed, "the demo seed whose random cells are drawn");
  app.add_option("--train-seed", train_seed, "the final training's seed (default: --seed)");
  app.add_option("--out", out, "JSON lines, appended (cells already there are skipped)");
  app.add_option("--data-dir", data_dir, "Fashion-MNIST's folder (default: Debian's)");
  app.add_option("--threads", threads, "intra-op threads (0: LibTorch's default)");
  app.add_flag("--largest", largest, "also the cell with the most parameters");
  app.add_option("--genotype", extra, "also this cell (NAS-Bench-201 text; repeatable)");
  app.add_option("--final-epochs", epochs, "epochs of each cell's training");
  app.add_option("--final-train", train, "training images");
  app.add_option("--test", test, "test images");
  app.add_option("--final-channels", channels, "channels of the trained network");
  app.add_option("--final-layers", layers, "cells per stage");
  app.add_option("--batch", batch, "batch size");
  app.add_option("--final-lr", lr, "SGD learning rate (cosine-annealed)");
  app.add_option("--proxy-batch", proxy_batch, "training images each proxy sees");
  CLI11_PARSE(app, argc, argv);
  try {
    if (threads > 0) torch::set_num_threads(threads);
    const std::filesystem::path dir =
        data_dir.empty() ? nas::data::fashion_mnist_dir : std::filesystem::path(data_dir);
    const auto train_set = nas::data::fashion_mnist("train", dir);
    const auto test_set = nas::data::fashion_mnist("test", dir);
    const nas::Stack stack{.layers = layers,
                           .channels = channels,
                           .classes = 10,
                           .input_channels = 1,
                           .skeleton = nas::Skeleton::nb201};

    std::vector<std::pair<std::string, nas::Genotype<space>>> todo;
    nas::Rng rng(seed + 1000003);
    for (std::size_t i = 0; i < cells; ++i) todo.emplace_back("random", nas::sample<space>(rng));
    if (largest) todo.emplace_back("largest", largest_cell(stack));
    for (const auto& text : extra) todo.emplace_back("given", nas::parse<space>(text));

    const std::filesystem::path path(out);
    if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path());
    auto done = done_cells(path);
    std::ofstream file(path, std::ios::app);
    TORCH_CHECK(file.good(), "cannot append to ", path.string());

    const auto proxy_data = train_set.slice(0, proxy_batch);
    nas::eval::FromScratch<space> trainer(
        train_set.slice(0, train), test_set.slice(0, test),
        {.stack = stack,
         .epochs = epochs,
         .batch_size = batch,
         .learning_rate = lr,
         .seed = train_seed < 0 ? seed : static_cast<std::uint64_t>(train_seed)});
    std::size_t index = 0;
    for (const auto& [role, g] : todo) {
      ++index;
      const auto text = nas::to_string(g);
      if (done.count(text) != 0) {
        std::printf("%zu/%zu %s: in the file already\n", index, todo.size(), text.c_str());
        continue;
      }
      nas::detail::JsonObject line;
      line.text("role", role).text("genotype", text).integer("seed", static_cast<long long>(seed));
      for (const nas::proxy::Kind kind : nas::proxy::kinds) {
        nas::eval::ZeroCost<space> proxy(
            proxy_data, {.proxy = kind, .stack = stack, .batch_size = proxy_batch});
        const auto t0 = std::chrono::steady_clock::now();
        const double score = proxy(g).accuracy;
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        line.number(std::string(nas::proxy::to_string(kind)), score)
            .number(std::string(nas::proxy::to_string(kind)) + "_seconds", secs);
      }
      const auto t0 = std::chrono::steady_clock::now();
      const nas::Metrics m = trainer(g);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      line.number("test_accuracy", m.accuracy)
          .integer("parameters", static_cast<long long>(m.parameters.value_or(-1)))
          .number("train_seconds", secs);
      file << line.str() << '\n';
      file.flush();
      done.insert(text);
      std::printf("%zu/%zu %s %s: test accuracy %.4f, %lld parameters, %.0f s\n", index,
                  todo.size(), role.c_str(), text.c_str(), m.accuracy,
                  static_cast<long long>(m.parameters.value_or(-1)), secs);
      std::fflush(stdout);
    }
    return 0;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "bench_quality_cells: %s\n", e.what_without_backtrace());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_quality_cells: %s\n", e.what());
  }
  return 1;
}
