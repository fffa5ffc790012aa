// The epoch-based strategies (DARTS, GDAS, PC-DARTS, ENAS, SPOS) saved after an epoch, or
// stopped by their stop token at any step or trial and saved there, then resumed into objects
// built afresh end exactly as the uninterrupted search: same reports, same genotype, same weights.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdint>
#include <stop_token>
#include <string>
#include <utility>
#include <vector>

#include <nas/controller/controller.hpp>
#include <nas/nn/supernet.hpp>
#include <nas/relax/gumbel.hpp>
#include <nas/relax/partial_channel.hpp>
#include <nas/relax/single_path.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/nb201.hpp>
#include <nas/strategy/darts.hpp>
#include <nas/strategy/enas.hpp>
#include <nas/strategy/gdas.hpp>
#include <nas/strategy/spos.hpp>
#include <nas/train/checkpoint.hpp>

namespace {
using space = nas::spaces::nb201;
const nas::Stack tiny{.layers = 1,
                      .channels = 4,
                      .classes = 3,
                      .input_channels = 1,
                      .skeleton = nas::Skeleton::nb201};

nas::Data data(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({n, 1, 8, 8}), torch::randint(0, 3, {n}, torch::kLong)};
}

// The searches the tests stop and resume: 3 epochs of 4 steps on 64 images.
nas::Darts<space> make_darts2() {
  return nas::Darts<space>(nas::Supernet<space, nas::relax::Softmax>(tiny),
                           {.order = 2, .epochs = 3, .weights = {.batch_size = 16}});
}
nas::Gdas<space> make_gdas() {
  return nas::Gdas<space>(nas::Supernet<space, nas::relax::Gumbel>(tiny),
                          {.epochs = 3, .weights = {.batch_size = 16}});
}
nas::Enas<space> make_enas() {
  return nas::Enas<space>(nas::Supernet<space, nas::relax::SinglePath>(tiny),
                          nas::Controller<space>(),
                          {.epochs = 3,
                           .weights = {.batch_size = 16},
                           .controller_steps = 2,
                           .controller = {.children = 2, .seed = 3},
                           .derive_samples = 3});
}
nas::Spos<space> make_spos() {
  return nas::Spos<space>(nas::Supernet<space, nas::relax::SinglePath>(tiny),
                          {.epochs = 3,
                           .weights = {.batch_size = 16},
                           .evolution = {.population = 4, .sample = 2, .seed = 1},
                           .trials = 8,
                           .seed = 5});
}

std::string parameters_text(const torch::nn::Module& m) {
  std::string s;
  for (const auto& p : m.named_parameters()) {
    s += p.key();
    s += ' ';
    s += std::to_string(p.value().sum().item<double>());
    s += '\n';
  }
  return s;
}

// Runs `make()`'s strategy straight through, and again saving after epoch `at`, then
// resumes a fresh one from that checkpoint; the two must agree.
template <class Make, class Run>
void check_resume(Make&& make, Run&& run, std::int64_t at) {
  const auto train = data(64, 1), valid = data(64, 2);
  std::string straight_reports, straight_genotype, straight_weights;
  {
    torch::manual_seed(7);
    auto s = make();
    const auto [reports, genotype] = run(s, train, valid, [](auto&, std::int64_t) {});
    straight_reports = reports;
    straight_genotype = genotype;
    straight_weights = parameters_text(*s.supernet());
  }
  nas::Checkpoint saved;
  {
    torch::manual_seed(7);
    auto s = make();
    bool stopped = false;
    try {
      (void)run(s, train, valid, [&](auto& self, std::int64_t epoch) {
        if (epoch + 1 != at) return;
        self.save(saved, "search");
        stopped = true;
        throw std::runtime_error("stop");  // the process dies after the checkpoint
      });
    } catch (const std::runtime_error&) {
    }
    REQUIRE(stopped);
  }
  torch::manual_seed(99);  // a different state: everything must come from the checkpoint
  auto s = make();
  s.load(saved, "search");
  const auto [reports, genotype] = run(s, train, valid, [](auto&, std::int64_t) {});
  CHECK(reports == straight_reports);
  CHECK(genotype == straight_genotype);
  CHECK(parameters_text(*s.supernet()) == straight_weights);
}

std::string strip_seconds(std::string lines) {
  // the wall times differ; everything else must not
  std::string out;
  std::size_t at = 0;
  while (true) {
    const auto k = lines.find("\"seconds\": ", at);
    if (k == std::string::npos) break;
    out += lines.substr(at, k - at);
    at = lines.find_first_of(",}", k);
  }
  out += lines.substr(at);
  return out;
}
}  // namespace

TEST_CASE("resume: DARTS (second order) and GDAS continue exactly after a checkpoint") {
  const auto run = [](auto& s, const nas::Data& train, const nas::Data& valid, auto&& on_epoch) {
    nas::Callbacks<space> callbacks;
    callbacks.on_epoch = [&](const nas::EpochReport<space>& r) { on_epoch(s, r.epoch); };
    const auto result = s.search(train, valid, callbacks);
    return std::pair{strip_seconds(nas::epoch_lines(result.epochs)),
                     nas::to_string(result.genotype)};
  };
  check_resume(make_darts2, run, 1);
  check_resume(make_gdas, run, 2);
}

TEST_CASE("resume: ENAS and SPOS continue exactly after a checkpoint") {
  const auto run = [](auto& s, const nas::Data& train, const nas::Data& valid, auto&& on_epoch) {
    nas::OneShotCallbacks<space> callbacks;
    callbacks.on_epoch = [&](const nas::OneShotEpoch<space>& r) { on_epoch(s, r.epoch); };
    const auto result = s.search(train, valid, callbacks);
    return std::pair{strip_seconds(nas::epoch_lines(result.epochs) + result.trials.jsonl()),
                     nas::to_string(result.genotype)};
  };
  check_resume(make_enas, run, 1);
  check_resume(make_spos, run, 2);
}

TEST_CASE("resume: a checkpoint of another strategy or size is refused by name") {
  const auto train = data(32, 1), valid = data(32, 2);
  nas::Darts<space> darts(nas::Supernet<space, nas::relax::Softmax>(tiny), {.epochs = 2});
  nas::Checkpoint c;
  nas::Callbacks<space> callbacks;
  callbacks.on_epoch = [&](const nas::EpochReport<space>&) { darts.save(c, "search"); };
  (void)darts.search(train, valid, callbacks);
  nas::Gdas<space> gdas(nas::Supernet<space, nas::relax::Gumbel>(tiny), {.epochs = 2});
  CHECK_THROWS_WITH_AS(gdas.load(c, "search"), doctest::Contains("holds a 'darts' search"),
                       c10::Error);
  nas::Stack wider = tiny;
  wider.channels = 8;
  nas::Darts<space> other(nas::Supernet<space, nas::relax::Softmax>(wider), {.epochs = 2});
  CHECK_THROWS_WITH_AS(other.load(c, "search"), doctest::Contains("does not match"), c10::Error);
  nas::Darts<space> shorter(nas::Supernet<space, nas::relax::Softmax>(tiny), {.epochs = 1});
  CHECK_THROWS_WITH_AS(shorter.load(c, "search"), doctest::Contains("epochs"), c10::Error);
}

namespace {
struct Outcome {
  std::string reports;  // epoch reports (and trials), wall times aside
  std::string genotype;
  nas::StopReason stop;
};

// Stops `make()`'s search through its stop token at event `at` (`run` calls `event` after every
// step, and every trial where there are trials), saves it, then (a) goes on in the same object
// and (b) resumes a fresh object from the checkpoint: both must equal the uninterrupted search.
template <class Make, class Run>
void check_interrupt(Make&& make, Run&& run, std::int64_t at) {
  CAPTURE(at);
  const auto train = data(64, 1), valid = data(64, 2);
  torch::manual_seed(7);
  auto straight = make();
  const Outcome full = run(
      straight, train, valid, [] {}, std::stop_token{});
  REQUIRE(full.stop == nas::StopReason::completed);
  const auto full_weights = parameters_text(*straight.supernet());

  nas::Checkpoint saved;
  {
    torch::manual_seed(7);
    auto t = make();
    std::stop_source src;
    std::int64_t n = 0;
    const Outcome stopped = run(
        t, train, valid,
        [&] {
          if (++n == at) src.request_stop();
        },
        src.get_token());
    REQUIRE(stopped.stop == nas::StopReason::interrupted);
    t.save(saved, "search");
    const Outcome rest = run(
        t, train, valid, [] {}, std::stop_token{});
    CHECK(rest.stop == nas::StopReason::completed);
    CHECK(rest.reports == full.reports);
    CHECK(rest.genotype == full.genotype);
    CHECK(parameters_text(*t.supernet()) == full_weights);
  }
  torch::manual_seed(99);  // everything must come from the checkpoint
  auto fresh = make();
  fresh.load(saved, "search");
  const Outcome resumed = run(
      fresh, train, valid, [] {}, std::stop_token{});
  CHECK(resumed.stop == nas::StopReason::completed);
  CHECK(resumed.reports == full.reports);
  CHECK(resumed.genotype == full.genotype);
  CHECK(parameters_text(*fresh.supernet()) == full_weights);
}
}  // namespace

TEST_CASE("interrupt: DARTS, GDAS and PC-DARTS stopped by their token mid-epoch go on exactly") {
  const auto run = [](auto& s, const nas::Data& train, const nas::Data& valid, auto&& event,
                      std::stop_token stop) {
    nas::Callbacks<space> callbacks;
    callbacks.on_step = [&](std::int64_t, const nas::StepReport&) { event(); };
    callbacks.stop = std::move(stop);
    const auto result = s.search(train, valid, callbacks);
    return Outcome{strip_seconds(nas::epoch_lines(result.epochs)), nas::to_string(result.genotype),
                   result.stop};
  };
  // 4 steps per epoch, 3 epochs: mid-epoch (6) and at an epoch's end (4)
  check_interrupt(make_darts2, run, 6);
  check_interrupt(make_gdas, run, 4);
  check_interrupt(
      [] {
        nas::Stack wide = tiny;
        wide.channels = 8;
        return nas::PcDarts<space>(nas::Supernet<space, nas::relax::PartialChannel>(wide),
                                   nas::pc_darts_options()
                                       .with_epochs(3)
                                       .with_weights({.batch_size = 16})
                                       .with_arch(nas::ArchTraining{.warmup_epochs = 1}));
      },
      run, 7);
}

TEST_CASE("interrupt: ENAS and SPOS stopped by their token mid-epoch or mid-trials go on exactly") {
  const auto run = [](auto& s, const nas::Data& train, const nas::Data& valid, auto&& event,
                      std::stop_token stop) {
    nas::OneShotCallbacks<space> callbacks;
    callbacks.on_step = [&](std::int64_t, const nas::StepReport&) { event(); };
    callbacks.on_trial = [&](const nas::Trial<space>&, const nas::Trial<space>&) { event(); };
    callbacks.stop = std::move(stop);
    const auto result = s.search(train, valid, callbacks);
    return Outcome{strip_seconds(nas::epoch_lines(result.epochs) + result.trials.jsonl()),
                   nas::to_string(result.genotype), result.stop};
  };
  // per epoch: 4 weight steps, then 4 controller trials
  check_interrupt(make_enas, run, 2);   // during the weight steps of epoch 1
  check_interrupt(make_enas, run, 14);  // during the controller steps of epoch 2: stops after them
  // 12 weight steps, then 8 evolution trials
  check_interrupt(make_spos, run, 5);
  check_interrupt(make_spos, run, 15);
}

TEST_CASE("interrupt: going on in the same object with the one-data search(), and other data") {
  // search(data) splits its data on every call: the slices are views of the same memory, so the
  // batch streams go on where the stop left them
  const auto all = data(128, 1);
  const auto run = [&](auto& s) {
    const auto r = s.search(all);
    return std::pair{strip_seconds(nas::epoch_lines(r.epochs)), r.stop};
  };
  torch::manual_seed(7);
  auto straight = make_gdas();
  const auto full = run(straight);
  torch::manual_seed(7);
  auto s = make_gdas();
  std::stop_source source;
  nas::Callbacks<space> callbacks;
  std::int64_t n = 0;
  callbacks.on_step = [&](std::int64_t, const nas::StepReport&) {
    if (++n == 3) source.request_stop();
  };
  callbacks.stop = source.get_token();
  CHECK(s.search(all, callbacks).stop == nas::StopReason::interrupted);
  const auto rest = run(s);
  CHECK(rest.second == nas::StopReason::completed);
  CHECK(rest.first == full.first);
  // stopped mid-epoch, then called on other data: refused, not silently mixed
  torch::manual_seed(7);
  auto t = make_gdas();
  std::stop_source again;
  n = 0;
  callbacks.on_step = [&](std::int64_t, const nas::StepReport&) {
    if (++n == 3) again.request_stop();
  };
  callbacks.stop = again.get_token();
  CHECK(t.search(all, callbacks).stop == nas::StopReason::interrupted);
  CHECK_THROWS_WITH_AS((void)t.search(data(128, 5)),
                       doctest::Contains("the interrupted epoch was on other data"), c10::Error);
}
