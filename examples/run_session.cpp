// run_session: nas_search's run session in a program of your own (docs/nas_search.md, "The
// session in your own program"): progress lines with an ETA attached to a search you run, and
// a whole checkpointed run (search, run folder, final training, random baseline) on your data.
//
//   run_session [run folder]      (default: run_session_out)
#include <torch/torch.h>

#include <cstdint>
#include <cstdio>
#include <string>

#include <nas/nas.hpp>

namespace {

// Your data: 16x16 one-channel images of 4 classes (class k: a bright row k).
nas::Data toy(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  auto targets = torch::randint(0, 4, {n}, torch::kLong);
  auto inputs = torch::randn({n, 1, 16, 16}) * 0.1;
  for (std::int64_t i = 0; i < n; ++i) inputs[i][0][targets[i].item<std::int64_t>()] += 2.0;
  return {inputs, targets};
}

}  // namespace

int main(int argc, char** argv) {
  torch::set_num_threads(1);
  using space = nas::spaces::nb201;
  const nas::Data train = toy(256, 1), valid = toy(128, 2), test = toy(128, 3);

  // [progress] Progress lines with an ETA on a search you run: attach them to its callbacks,
  // after (or instead of) your own.
  nas::Stack stack{.layers = 1, .channels = 4, .classes = 4, .input_channels = 1};
  stack.skeleton = nas::Skeleton::nb201;  // the NAS-Bench-201 layout's sizes
  nas::Supernet<space, nas::relax::Gumbel> supernet(stack);
  nas::Gdas<space> gdas(supernet,
                        {.epochs = 2, .weights = {.batch_size = 32, .learning_rate = 0.05}});
  nas::Callbacks<space> callbacks;
  std::int64_t steps = 0;
  callbacks.on_step = [&](std::int64_t, const nas::StepReport&) { ++steps; };
  nas::run::Progress<space> progress(nas::run::Output(nas::run::Verbosity::human));
  progress.attach(callbacks);
  const auto searched = gdas.search(train, valid, callbacks);
  // [/progress]
  std::printf("gdas: %lld steps, found %s\n", static_cast<long long>(steps),
              nas::to_string(searched.genotype).c_str());

  // [session] A whole run on your data: the search, the run folder, the final training of the
  // found architecture and of random ones, checkpointed; `resume = true` continues a killed run.
  nas::run::Settings s;
  s.strategy = "random";
  s.preset = "demo";
  nas::run::apply_preset(s, [](const char*) { return false; });
  s.train = 256, s.valid = 128, s.trials = 3, s.channels = 4, s.final_channels = 4;
  s.final_train = 256, s.test = 128, s.baseline = 2, s.final_epochs = 1;
  const nas::run::Dataset data{.train = nas::Data{torch::cat({train.inputs, valid.inputs}),
                                                  torch::cat({train.targets, valid.targets})},
                               .test = test,
                               .name = "toy rows"};
  nas::run::check(s, data);  // the sizes against the data, before anything runs
  const nas::run::RunFolder folder(argc > 1 ? argv[1] : "run_session_out");
  folder.prepare();
  const nas::run::Comparison result = nas::run::Session<space>(s, data, folder, false).run();
  // [/session]
  std::printf("random search: found %.4f, random mean %.4f over %zu; files in %s\n", result.found,
              result.mean, result.count, folder.path().c_str());
  return 0;
}
