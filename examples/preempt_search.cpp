// preempt_search: a differentiable search that a scheduler preempts mid-epoch, and that resumes
// to the result it would have had.
//
// Slurm and Kubernetes send SIGTERM (Ctrl-C sends SIGINT) and kill the job some seconds later.
// nas::run::StopOnSignals turns the signal into a std::stop_token; a search given the token
// (nas::SearchCallbacks::stop) finishes its step and returns with StopReason::interrupted; its
// save() then holds the partial epoch. Here a GDAS search on the NAS-Bench-201 space sends
// itself SIGTERM in the middle of its second epoch, saves, and a new search object built from
// another seed loads the checkpoint and finishes: its genotype and architecture weights equal
// the uninterrupted run's, bit for bit.
//
//   preempt_search [checkpoint-folder]
#include <torch/torch.h>

#include <csignal>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <stop_token>
#include <string>

#include <nas/nas.hpp>

using space = nas::spaces::nb201;

namespace {

const nas::Stack stack{.layers = 1,
                       .channels = 4,
                       .classes = 3,
                       .input_channels = 1,
                       .skeleton = nas::Skeleton::nb201};

nas::Data random_data(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({n, 1, 8, 8}), torch::randint(0, 3, {n}, torch::kLong)};
}

struct Outcome {
  std::string genotype;
  torch::Tensor alpha;
};

// A GDAS search of 3 epochs of 4 steps, checkpointed to `file` after every epoch and when it is
// stopped; resumed from `file` when it exists. `on_step` sees every step (its index).
template <class OnStep>
Outcome search(const std::filesystem::path& file, std::uint64_t seed, std::stop_token stop,
               OnStep on_step) {
  const auto train = random_data(64, 1), valid = random_data(64, 2);
  torch::manual_seed(seed);
  nas::Supernet<space, nas::relax::Gumbel> net(stack);
  nas::Gdas<space> gdas(net, {.epochs = 3, .weights = {.batch_size = 16}});
  if (std::filesystem::exists(file)) {
    gdas.load(nas::Checkpoint::load(file), "search");
    std::printf("  resumed from %s\n", file.filename().string().c_str());
  }
  const auto save = [&] {
    nas::Checkpoint c;
    gdas.save(c, "search");
    c.save(file);  // atomic: a kill while writing leaves the previous checkpoint whole
  };
  const auto result =
      gdas.search(train, valid,
                  {.on_step = [&](std::int64_t step, const nas::StepReport&) { on_step(step); },
                   .on_epoch = [&](const nas::EpochReport<space>&) { save(); },
                   .stop = stop});
  if (result.stop == nas::StopReason::interrupted) {
    save();
    std::printf("  stopped by %s after %lld epoch(s) and a part: checkpoint saved\n",
                nas::run::StopOnSignals::name(nas::run::StopOnSignals::signal()).c_str(),
                static_cast<long long>(gdas.epochs_done()));
  }
  return {nas::to_string(result.genotype), net->alpha_at(0).detach().clone()};
}

}  // namespace

int main(int argc, char** argv) {
  try {
    torch::set_num_threads(1);
    const std::filesystem::path dir = argc > 1 ? argv[1] : "preempt_search_checkpoints";
    std::filesystem::create_directories(dir);
    for (const char* name : {"straight.pt", "preempted.pt"}) std::filesystem::remove(dir / name);

    std::printf("uninterrupted run:\n");
    const auto straight = search(dir / "straight.pt", 7, {}, [](std::int64_t) {});
    std::printf("preempted run (SIGTERM at step 6 of 12, as a scheduler sends it):\n");
    {
      nas::run::StopOnSignals signals;
      (void)search(dir / "preempted.pt", 7, signals.token(), [&](std::int64_t step) {
        if (step != 5) return;
        std::raise(SIGTERM);
        signals.settle();  // the signal reaches the token before the next step
      });
    }
    std::printf("resumed run (seed 99; its state comes from the checkpoint):\n");
    const auto resumed = search(dir / "preempted.pt", 99, {}, [](std::int64_t) {});

    // (the genotype itself depends on the machine's floating-point kernels; not printed)
    const bool same_genotype = straight.genotype == resumed.genotype;
    const bool same_alpha = torch::equal(straight.alpha, resumed.alpha);
    std::printf("same genotype: %s\n", same_genotype ? "yes" : "NO");
    std::printf("same architecture weights (bitwise): %s\n", same_alpha ? "yes" : "NO");
    return same_genotype && same_alpha ? 0 : 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "preempt_search: %s\n", e.what());
    return 1;
  }
}
