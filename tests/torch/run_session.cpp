// The run session (nas/run/): the baseline comparison, settings and presets, callback chaining,
// opening and resuming runs, and a whole (tiny) session that resumes to the same result.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cmath>
#include <csignal>
#include <cstdint>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <nas/run/baseline.hpp>
#include <nas/run/folder.hpp>
#include <nas/run/progress.hpp>
#include <nas/run/session.hpp>
#include <nas/run/settings.hpp>
#include <nas/run/signals.hpp>
#include <nas/spaces/nb201.hpp>

#include "temp_dir.hpp"

namespace {

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Images a network can tell apart (class k: a bright pixel at position k), 16x16, 1 channel.
nas::run::Dataset toy_data(std::int64_t train, std::int64_t test) {
  const auto make = [](std::int64_t n, std::uint64_t seed) {
    torch::manual_seed(seed);
    auto targets = torch::randint(0, 4, {n}, torch::kLong);
    auto inputs = torch::randn({n, 1, 16, 16}) * 0.1;
    for (std::int64_t i = 0; i < n; ++i) inputs[i][0][targets[i].item<std::int64_t>()] += 2.0;
    return nas::Data{inputs, targets};
  };
  return {make(train, 1), make(test, 2), "toy"};
}

nas::run::Settings tiny(std::string strategy) {
  nas::run::Settings s;
  s.strategy = std::move(strategy);
  s.verbosity = nas::run::Verbosity::quiet;
  s.threads = 1;
  const auto given = [](const char* name) {
    return std::string_view(name) != "--device" && std::string_view(name) != "--order";
  };
  nas::run::apply_preset(s, given);  // nothing but the device taken from the preset
  s.epochs = 2;
  s.train = 64;
  s.valid = 64;
  s.batch = 32;
  s.channels = 4;
  s.layers = 1;
  s.lr = 0.05;
  s.trials = 3;
  s.children = 2;
  s.controller_steps = 1;
  s.child_epochs = 1;
  s.final_epochs = 1;
  s.final_train = 64;
  s.final_channels = 4;
  s.final_layers = 1;
  s.final_lr = 0.05;
  s.test = 64;
  s.baseline = 2;
  s.checkpoint_every = 1;
  return s;
}

}  // namespace

TEST_CASE("run::compare_with_random: statistics and the verdict") {
  const auto c = nas::run::compare_with_random(0.9, {0.92, 0.1, 0.89, 0.88});
  CHECK(c.count == 4);
  CHECK(c.mean == doctest::Approx(0.6975));
  CHECK(c.median == doctest::Approx(0.885));
  CHECK(c.min == 0.1);
  CHECK(c.max == 0.92);
  // sample standard deviation of {0.92, 0.1, 0.89, 0.88}
  CHECK(c.std == doctest::Approx(0.39883).epsilon(1e-4));
  CHECK(c.verdict ==
        "the found architecture beat the random mean and median, not every random architecture");
  CHECK(nas::run::compare_with_random(0.95, {0.92, 0.1}).verdict ==
        "the found architecture beat every random architecture");
  CHECK(nas::run::compare_with_random(0.7, {0.92, 0.1, 0.89}).verdict ==
        "the found architecture beat the random mean (pulled down by weak samples) but not the "
        "median");
  CHECK(nas::run::compare_with_random(0.1, {0.92, 0.1}).verdict ==
        "the found architecture did not beat the random mean");
  const auto one = nas::run::compare_with_random(0.5, {0.4});
  CHECK(one.median == 0.4);
  CHECK(std::isnan(one.std));
  const auto none = nas::run::compare_with_random(0.5, {});
  CHECK(none.count == 0);
  CHECK(std::isnan(none.mean));
}

TEST_CASE("run::Settings: presets fill what was not given; JSON reads back every field") {
  nas::run::Settings s;
  s.strategy = "pc-darts";
  s.preset = "full";
  s.lr = 0.3;
  nas::run::apply_preset(s, [](const char* name) { return std::string_view(name) == "--lr"; });
  CHECK(s.lr == 0.3);       // given: kept
  CHECK(s.batch == 256);    // PC-DARTS's batch
  CHECK(s.epochs == 50);    // PC-DARTS's epochs
  CHECK(s.train == 25000);  // half of CIFAR-10's training images
  const auto back = nas::run::settings_from_json(nas::run::to_json(s));
  CHECK(nas::run::to_json(back) == nas::run::to_json(s));
  CHECK(back.batch == 256);
  CHECK(back.lr == 0.3);
  nas::run::Settings bad;
  bad.preset = "huge";
  CHECK_THROWS_WITH_AS(nas::run::apply_preset(bad, [](const char*) { return false; }),
                       doctest::Contains("unknown preset 'huge'"), c10::Error);
  CHECK_THROWS_AS((void)nas::run::settings_from_json("{\"strategy\": \"gdas\"}"), c10::Error);
}

namespace {
// The settings of `strategy` under preset `name`, nothing given on a command line.
nas::run::Settings preset(std::string strategy, std::string name) {
  nas::run::Settings s;
  s.strategy = std::move(strategy);
  s.preset = std::move(name);
  nas::run::apply_preset(s, [](const char*) { return false; });
  return s;
}
}  // namespace

TEST_CASE("run::Settings: the presets' architecture training; a run saved before it had one") {
  const auto demo = preset("gdas", "demo");
  CHECK(demo.arch_lr == 3e-4);
  CHECK(demo.arch_steps_ref == 240 * 391);  // GDAS's published architecture steps
  CHECK(demo.warmup == 9);                  // 3/10 of the 30 epochs
  CHECK(demo.beta_decay == 0.0);
  CHECK(demo.baseline == 6);
  const auto full = preset("darts", "full");
  CHECK(full.arch_steps_ref == 0);  // the published run, unscaled
  CHECK(full.warmup == 0);
  const auto pc = preset("pc-darts", "full");
  CHECK(pc.arch_lr == 6e-4);
  CHECK(pc.warmup == 15);
  // settings saved without these four fields: the published architecture training
  for (const auto& s : {demo, pc}) {
    const std::regex newer(R"re("(arch_lr|arch_steps_ref|warmup|beta_decay)": [^,]+, )re");
    const auto text = std::regex_replace(nas::run::to_json(s), newer, "");
    REQUIRE(text.find("warmup") == std::string::npos);
    const auto old = nas::run::settings_from_json(text);
    CHECK(old.arch_lr == (s.strategy == "pc-darts" ? 6e-4 : 3e-4));
    CHECK(old.arch_steps_ref == 0);
    CHECK(old.warmup == (s.strategy == "pc-darts" ? 15 : 0));
    CHECK(old.beta_decay == 0.0);
  }
}

TEST_CASE(
    "run::Settings: DrNAS's presets, DARTS-'s skip and DARTS-PT's selection round-trip; "
    "a run saved before them had neither") {
  const auto demo = preset("drnas", "demo");
  CHECK(demo.arch_steps_ref == 100 * 391);  // DrNAS's 100 published epochs of 391 batches
  CHECK(demo.epochs == 30);
  CHECK(demo.pt_tune == 1);
  const auto full = preset("drnas", "full");
  CHECK(full.epochs == 100);
  CHECK(full.pt_tune == 5);  // DARTS-PT's --proj_intv 5
  auto s = demo;
  s.aux_skip = true;
  s.derive = "perturbation";
  s.pt_tune = 3;
  const auto back = nas::run::settings_from_json(nas::run::to_json(s));
  CHECK(back.aux_skip);
  CHECK(back.derive == "perturbation");
  CHECK(back.pt_tune == 3);
  s.warm_start = "naswot";
  CHECK(nas::run::settings_from_json(nas::run::to_json(s)).warm_start == "naswot");
  const std::regex newer(R"re(, "(aux_skip|derive|pt_tune|warm_start)": [^,}]+)re");
  const auto text = std::regex_replace(nas::run::to_json(s), newer, "");
  REQUIRE(text.find("derive") == std::string::npos);
  const auto old = nas::run::settings_from_json(text);
  CHECK_FALSE(old.aux_skip);
  CHECK(old.derive == "argmax");
  CHECK(old.pt_tune == 0);
  CHECK(old.warm_start.empty());
}

TEST_CASE("run::then: the new callback runs after the one already there") {
  std::vector<int> order;
  std::function<void(int)> slot;
  nas::run::then(slot, [&](int v) { order.push_back(v); });
  nas::run::then(slot, [&](int v) { order.push_back(10 * v); });
  slot(2);
  CHECK(order == std::vector<int>{2, 20});
}

TEST_CASE("run::Progress attaches after the callbacks a strategy already has") {
  using S = nas::spaces::nb201;
  std::vector<std::string> seen;
  nas::TrialCallbacks<S> callbacks{
      .on_trial = [&](const nas::Trial<S>&, const nas::Trial<S>&) { seen.emplace_back("mine"); }};
  nas::run::Progress<S> progress(nas::run::Output(nas::run::Verbosity::quiet),
                                 {.planned_trials = 2});
  progress.attach(callbacks);
  nas::Trial<S> t;
  callbacks.on_trial(t, t);
  CHECK(seen == std::vector<std::string>{"mine"});
  CHECK(progress.seconds() >= 0.0);
}

TEST_CASE("run::open_run: new runs, resumed runs, and what each refuses") {
  nas_test::TempDir tmp("nas_open_run");
  const auto none = [](const char*) { return false; };
  nas::run::Settings s;
  s.strategy = "random";
  s.threads = 1;
  const auto dir = (tmp.path / "a").string();
  const auto opened = nas::run::open_run(s, dir, "", false, none);
  CHECK_FALSE(opened.resume);
  CHECK(opened.settings.trials == 20);  // the demo preset
  CHECK(std::filesystem::is_directory(dir));
  CHECK_THROWS_WITH_AS((void)nas::run::open_run(s, "", dir, false, none),
                       doctest::Contains("holds no checkpoint"), c10::Error);
  // a checkpoint as a session writes it
  nas::Checkpoint c;
  c.put_text("program.settings", nas::run::to_json(opened.settings));
  c.save(opened.folder.checkpoint_path());
  CHECK_THROWS_WITH_AS((void)nas::run::open_run(s, dir, "", false, none),
                       doctest::Contains("already holds a run"), c10::Error);
  CHECK(nas::run::open_run(s, dir, "", true, none).settings.trials == 20);  // --overwrite
  nas::run::Settings other = s;
  other.strategy = "darts";
  other.lr = 0.001;
  const auto strategy_given = [](const char* n) { return std::string_view(n) == "--strategy"; };
  CHECK_THROWS_WITH_AS((void)nas::run::open_run(other, "", dir, false, strategy_given),
                       doctest::Contains("is a random search on the nb201 space"), c10::Error);
  const auto lr_given = [](const char* n) { return std::string_view(n) == "--lr"; };
  const auto resumed = nas::run::open_run(other, "", dir, false, lr_given);
  CHECK(resumed.resume);
  CHECK(resumed.settings.strategy == "random");  // the saved one
  CHECK(resumed.settings.lr == 0.001);           // the fix a non-finite loss asks for
  CHECK(torch::get_num_threads() == 1);  // the saved --threads applied (nas::run::set_up_device)
  // a run from a GPU machine, resumed where there is none: refused by name, nothing written
  if (!torch::cuda::is_available()) {
    nas::run::Settings gpu = opened.settings;
    gpu.device = "cuda";
    nas::Checkpoint g;
    g.put_text("program.settings", nas::run::to_json(gpu));
    g.save(opened.folder.checkpoint_path());
    const auto before = std::filesystem::last_write_time(opened.folder.checkpoint_path());
    CHECK_THROWS_WITH_AS((void)nas::run::open_run(s, "", dir, false, none),
                         doctest::Contains("ran on cuda and this machine has no CUDA device"),
                         c10::Error);
    CHECK(std::filesystem::last_write_time(opened.folder.checkpoint_path()) == before);
  }
}

TEST_CASE("run::check names the setting that does not fit the data") {
  const auto data = toy_data(200, 64);
  auto s = tiny("random");
  s.train = 150;
  s.valid = 60;
  CHECK_THROWS_WITH_AS(nas::run::check(s, data), doctest::Contains("lower --train or --valid"),
                       c10::Error);
  s = tiny("pc-darts");
  s.channels = 6;
  CHECK_THROWS_WITH_AS(nas::run::check(s, data), doctest::Contains("divisible by 4"), c10::Error);
}

TEST_CASE("run::Session: a whole run on data of your own, and a resume of the finished run") {
  torch::set_num_threads(1);
  nas_test::TempDir tmp("nas_session");
  const auto data = toy_data(160, 64);
  const auto s = tiny("gdas");
  nas::run::check(s, data);
  using S = nas::spaces::nb201;
  const nas::run::RunFolder folder(tmp.path);
  const auto first = nas::run::Session<S>(s, data, folder, false).run();
  CHECK(first.count == 2);
  for (const char* f : {"genotype.txt", "genotype.json", "history.jsonl", "curves.svg",
                        "alpha_cell.svg", "summary.json", "checkpoint.pt", "cell_cell.dot"})
    CHECK_MESSAGE(std::filesystem::exists(tmp.path / f), f);
  const auto genotype = read(tmp.path / "genotype.txt");
  CHECK_NOTHROW((void)nas::parse<S>(genotype.substr(0, genotype.size() - 1)));
  const auto summary = read(tmp.path / "summary.json");
  // resumed after it finished: nothing is trained again, the result is the same
  const auto again = nas::run::Session<S>(s, data, folder, true).run();
  CHECK(again.found == first.found);
  CHECK(again.mean == first.mean);
  CHECK(read(tmp.path / "genotype.txt") == genotype);
  CHECK(nas::json::parse(read(tmp.path / "summary.json")).find("verdict")->string ==
        nas::json::parse(summary).find("verdict")->string);
}

TEST_CASE("run::StopOnSignals: SIGTERM and SIGINT become a stop request; handlers restored") {
  struct sigaction before {
  }, before_int{};
  ::sigaction(SIGTERM, nullptr, &before);
  ::sigaction(SIGINT, nullptr, &before_int);
  {
    nas::run::StopOnSignals signals;
    CHECK_FALSE(signals.token().stop_requested());
    CHECK(nas::run::StopOnSignals::signal() == 0);
    CHECK_THROWS_WITH_AS(nas::run::StopOnSignals{}, doctest::Contains("already active"),
                         c10::Error);
    std::raise(SIGTERM);  // the process survives: the handler records it
    signals.settle();
    CHECK(signals.token().stop_requested());
    CHECK(nas::run::StopOnSignals::signal() == SIGTERM);
    CHECK(nas::run::StopOnSignals::name(SIGTERM) == "SIGTERM");
  }
  struct sigaction after {};
  ::sigaction(SIGTERM, nullptr, &after);
  struct sigaction after_int {};
  ::sigaction(SIGINT, nullptr, &after_int);
  const bool restored =
      after.sa_handler == before.sa_handler && after_int.sa_handler == before_int.sa_handler;
  CHECK(restored);  // the previous handlers are back
  {
    nas::run::StopOnSignals again;  // a new one starts afresh
    CHECK(nas::run::StopOnSignals::signal() == 0);
    CHECK_FALSE(again.token().stop_requested());
    std::raise(SIGINT);
    again.settle();
    CHECK(again.token().stop_requested());
    CHECK(nas::run::StopOnSignals::signal() == SIGINT);
  }
}
