// resume_search: a sampled search that checkpoints, is interrupted, and resumes.
//
// Regularized evolution over the DARTS space runs 60 trials with a checkpoint (strategy
// state and history, one file written atomically) every 10 trials. A second run stops after
// 25 trials, as a killed job would, and a third run, built with another seed, loads the last
// checkpoint (trial 20) and finishes. The resumed run ends with the same history and the
// same best architecture as the uninterrupted one.
//
// The evaluator is a stand-in with a known optimum (the share of sep_conv_3x3 ops), so the
// example runs in a blink; nas::eval::FromScratch or SharedWeights go in its place.
//
//   resume_search [checkpoint-folder]
#include <torch/torch.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <optional>

#include <nas/nas.hpp>

using space = nas::spaces::darts;

namespace {

double sep_share(const nas::Genotype<space>& g) {
  double kept = 0, sep = 0;
  g.for_each_cell([&](const auto& c) {
    for (std::size_t e = 0; e < c.edge_count; ++e)
      if (const auto op = c.op_name(e)) {
        kept += 1;
        sep += *op == "sep_conv_3x3" ? 1 : 0;
      }
  });
  return sep / kept;
}

// Runs evolution up to `total` trials in chunks of `every`, checkpointing after each chunk;
// resumes from `file` when it exists; stops early after `stop_after` trials when given.
nas::TrialResult<space> run(const std::filesystem::path& file, std::uint64_t seed,
                            std::size_t total, std::size_t every,
                            std::optional<std::size_t> stop_after) {
  nas::Evolution<space> evolution({.population = 20, .sample = 5, .seed = seed});
  nas::History<space> history;
  if (std::filesystem::exists(file)) {
    const auto c = nas::Checkpoint::load(file);
    history = nas::load_search(c, "evolution", evolution);
    std::printf("  resumed from %s at trial %zu\n", file.filename().string().c_str(),
                history.size());
  }
  auto evaluator = [](const nas::Genotype<space>& g) { return sep_share(g); };
  nas::TrialResult<space> result;
  result.trials = history;
  while (result.trials.size() < total) {
    const std::size_t done = result.trials.size();
    std::size_t n = std::min(every - done % every, total - done);  // up to the next checkpoint
    if (stop_after) n = std::min(n, *stop_after - done);
    result = nas::run_trials(evolution, evaluator, {.trials = n, .reuse_history = true}, {}, {},
                             std::move(result.trials));
    if (stop_after && result.trials.size() >= *stop_after) {
      std::printf("  stopped after trial %zu\n", result.trials.size());
      return result;
    }
    if (result.trials.size() % every == 0) {
      nas::Checkpoint c;
      nas::save_search(c, "evolution", evolution, result.trials);
      c.save(file);
    }
  }
  return result;
}

bool same(nas::History<space> a, nas::History<space> b) {
  for (auto* h : {&a, &b})
    for (auto& t : h->trials) t.seconds = 0.0;
  return a == b;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const std::filesystem::path dir = argc > 1 ? argv[1] : "resume_search_checkpoints";
    std::filesystem::create_directories(dir);
    for (const char* name : {"straight.pt", "interrupted.pt"}) std::filesystem::remove(dir / name);

    std::printf("uninterrupted run:\n");
    const auto straight = run(dir / "straight.pt", 1, 60, 10, std::nullopt);
    std::printf("interrupted run:\n");
    (void)run(dir / "interrupted.pt", 1, 60, 10, 25);
    std::printf("resumed run (seed 2; its state comes from the checkpoint):\n");
    const auto resumed = run(dir / "interrupted.pt", 2, 60, 10, std::nullopt);

    std::printf("best of the uninterrupted run: %.4f %s\n", straight.best().score,
                nas::to_string(straight.genotype).c_str());
    std::printf("best of the resumed run:       %.4f %s\n", resumed.best().score,
                nas::to_string(resumed.genotype).c_str());
    std::printf("same 60 trials: %s\n", same(straight.trials, resumed.trials) ? "yes" : "NO");
    return same(straight.trials, resumed.trials) ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "resume_search: %s\n", e.what());
    return 1;
  }
}
