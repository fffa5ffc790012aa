// Checkpoints: a round trip of modules, optimizer state, tensors, texts and random
// generators that continues exactly; atomic writes; errors that name the problem; the
// sampled strategies resumed from a checkpoint repeat the uninterrupted run.
#include <doctest/doctest.h>
#include <torch/torch.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

#include <nas/controller/controller.hpp>
#include <nas/core/random.hpp>
#include <nas/core/version.hpp>
#include <nas/spaces/darts.hpp>
#include <nas/strategy/driver.hpp>
#include <nas/strategy/evolution.hpp>
#include <nas/strategy/random_search.hpp>
#include <nas/strategy/reinforce.hpp>
#include <nas/train/checkpoint.hpp>
#include "temp_dir.hpp"

namespace {
namespace fs = std::filesystem;

using nas_test::TempDir;

struct NetImpl : torch::nn::Module {
  NetImpl()
      : fc(register_module("fc", torch::nn::Linear(4, 3))),
        bn(register_module("bn", torch::nn::BatchNorm1d(3))) {}
  torch::Tensor forward(const torch::Tensor& x) { return bn(fc(x)); }
  torch::nn::Linear fc;
  torch::nn::BatchNorm1d bn;
};
TORCH_MODULE(Net);

// One SGD step on a random batch drawn from torch's generator; returns the loss.
double step(Net& net, torch::optim::SGD& sgd) {
  const auto x = torch::randn({8, 4});
  sgd.zero_grad();
  auto loss = net->forward(x).pow(2).mean();
  loss.backward();
  sgd.step();
  return loss.item<double>();
}
}  // namespace

TEST_CASE("checkpoint: a saved run continues exactly as the uninterrupted one") {
  TempDir dir("nas_checkpoint_test");
  torch::manual_seed(0);
  Net net;
  torch::optim::SGD sgd(net->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  nas::Rng rng(42);
  for (int i = 0; i < 3; ++i) step(net, sgd);
  (void)rng();

  nas::Checkpoint c;
  c.put("net", *net);
  c.put("sgd", sgd);
  c.put_tensor("alpha", torch::arange(6.0).view({2, 3}));
  c.put_text("history", "{\"trial\": 0}\n");
  c.put_int("epoch", 3);
  c.put_rng("sampler", rng);
  c.put_torch_rng("torch");
  c.save(dir.path / "state.pt");
  CHECK_FALSE(fs::exists(dir.path / "state.pt.tmp"));

  // the uninterrupted run
  const double next_loss = step(net, sgd);
  const auto next_draw = rng();
  const auto next_weight = net->fc->weight.clone();

  // a fresh process: new objects, state from the file
  torch::manual_seed(123);
  Net net2;
  torch::optim::SGD sgd2(net2->parameters(), torch::optim::SGDOptions(0.1).momentum(0.9));
  nas::Rng rng2(7);
  const auto r = nas::Checkpoint::load(dir.path / "state.pt");
  r.get("net", *net2);
  r.get("sgd", sgd2);
  r.get_rng("sampler", rng2);
  r.get_torch_rng("torch");
  CHECK(r.get_int("epoch") == 3);
  CHECK(r.get_text("history") == "{\"trial\": 0}\n");
  CHECK(torch::equal(r.get_tensor("alpha"), torch::arange(6.0).view({2, 3})));
  CHECK(r.contains("net"));
  CHECK_FALSE(r.contains("other"));
  CHECK(step(net2, sgd2) == next_loss);  // same data, same weights, same momentum
  CHECK(rng2() == next_draw);
  CHECK(torch::equal(net2->fc->weight, next_weight));
  CHECK(torch::equal(net2->bn->running_mean, net->bn->running_mean));
}

TEST_CASE("checkpoint: errors name the file and the entry; a failed save keeps the old file") {
  TempDir dir("nas_checkpoint_bad");
  Net net;
  nas::Checkpoint c;
  c.put("net", *net);
  c.put_int("epoch", 1);
  c.save(dir.path / "state.pt");
  const auto size = fs::file_size(dir.path / "state.pt");

  CHECK_THROWS_WITH_AS(c.save(dir.path / "absent" / "state.pt"),
                       doctest::Contains("No such file or directory (was the folder removed?)"),
                       c10::Error);
  CHECK(fs::file_size(dir.path / "state.pt") == size);

  const auto r = nas::Checkpoint::load(dir.path / "state.pt");
  CHECK_THROWS_WITH_AS((void)r.get_int("step"), doctest::Contains("no entry 'int.step'"),
                       c10::Error);
  torch::nn::Linear other(5, 5);
  CHECK_THROWS_WITH_AS(r.get("net", *other), doctest::Contains("does not match"), c10::Error);
  CHECK_THROWS_WITH_AS((void)nas::Checkpoint::load(dir.path / "none.pt"),
                       doctest::Contains("no checkpoint at"), c10::Error);

  // a truncated file (a copy cut in half) and a file of another kind
  {
    std::ifstream in(dir.path / "state.pt", std::ios::binary);
    std::string bytes(static_cast<std::size_t>(fs::file_size(dir.path / "state.pt")), '\0');
    in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    std::ofstream(dir.path / "half.pt", std::ios::binary) << bytes.substr(0, bytes.size() / 2);
  }
  CHECK_THROWS_WITH_AS((void)nas::Checkpoint::load(dir.path / "half.pt"),
                       doctest::Contains("is truncated"), c10::Error);
  std::ofstream(dir.path / "text.pt") << "hello";
  CHECK_THROWS_WITH_AS((void)nas::Checkpoint::load(dir.path / "text.pt"),
                       doctest::Contains("is not a nas checkpoint"), c10::Error);
}

namespace {
std::string read_file(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream bytes;
  bytes << in.rdbuf();
  return bytes.str();
}
std::string message_of(const std::string& bytes) {
  try {
    (void)nas::Checkpoint::from_bytes(bytes, "f.pt");
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "loaded";
}
}  // namespace

TEST_CASE("checkpoint: the file's header guards its contents (crc32, size, format)") {
  CHECK(nas::detail::crc32("123456789") == 0xCBF43926U);  // the standard check value
  CHECK(nas::detail::crc32("") == 0U);
  Net net;
  nas::Checkpoint c;
  c.put("net", *net);
  c.put_text("note", "hello");
  const std::string file = c.bytes();
  const auto eol = file.find('\n');
  REQUIRE(eol != std::string::npos);
  const std::string header = file.substr(0, eol);
  CHECK(header.starts_with("nas-checkpoint 2 nas " + std::string(nas::version) + " bytes " +
                           std::to_string(file.size() - eol - 1) + " crc32 "));
  CHECK(nas::Checkpoint::from_bytes(file, "f.pt").get_text("note") == "hello");

  // every cut of the file is refused by name (the header alone, or any part of the state)
  for (const std::size_t cut : {std::size_t{0}, std::size_t{5}, eol, eol + 1, eol + 100,
                                file.size() / 2, file.size() - 1}) {
    const auto m = message_of(file.substr(0, cut));
    CHECK_MESSAGE(m != "loaded", "cut at ", cut);
    CHECK_MESSAGE(m.find("'f.pt'") != std::string::npos, m);
  }
  CHECK(message_of(file.substr(0, eol + 50)).find("is truncated") != std::string::npos);
  CHECK(message_of(file + "x").find("is too long") != std::string::npos);
  // a flipped bit anywhere in the state: refused as corrupt, never read
  for (std::size_t at = eol + 1; at < file.size(); at += 997) {
    std::string flipped = file;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x10);
    CHECK_MESSAGE(message_of(flipped).find("is corrupt") != std::string::npos, "byte ", at);
  }
  // a flipped bit in the header: refused too (a size, a checksum or a format that disagrees)
  for (std::size_t at = 0; at < eol; ++at) {
    std::string flipped = file;
    flipped[at] = static_cast<char>(flipped[at] ^ 0x01);
    CHECK_MESSAGE(message_of(flipped) != "loaded", "header byte ", at);
  }
  // a newer format: named, with the version that wrote it
  std::string newer = file;
  newer.replace(0, std::string("nas-checkpoint 2 nas ").size(), "nas-checkpoint 3 nas ");
  newer.replace(newer.find(std::string(nas::version)), nas::version.size(), "9.9.9");
  CHECK(message_of(newer).find("has checkpoint format 3, written by nas 9.9.9; this nas (" +
                               std::string(nas::version) + ") reads formats 1 to 2") !=
        std::string::npos);
  CHECK(message_of("").find("is empty") != std::string::npos);
  // format 1 (a bare archive, what nas wrote before the header) still reads
  CHECK(nas::Checkpoint::from_bytes(file.substr(eol + 1), "old.pt").get_text("note") == "hello");
}

TEST_CASE(
    "checkpoint: an archive that makes LibTorch's reader throw std::out_of_range is refused") {
  // found by the fuzz harness `archive`: a format-1 file (a bare archive, no header) with two
  // bytes changed; LibTorch's unpickler throws std::out_of_range, which once ended the process
  const auto bytes = read_file(fs::path(NAS_TEST_SOURCE_DIR) /
                               "fuzz/corpus/archive/crash-out-of-range-in-unpickler");
  REQUIRE(bytes.size() == 2999);
  CHECK(message_of(bytes).find("'f.pt' is not a readable checkpoint") != std::string::npos);
}

TEST_CASE("checkpoint: a write that fails leaves the previous file whole and names the cause") {
  TempDir dir("nas_checkpoint_write");
  nas::Checkpoint c;
  c.put_int("epoch", 1);
  const auto file = dir.path / "state.pt";
  c.save(file);
  const std::string before = read_file(file);
  nas::Checkpoint next;
  next.put_int("epoch", 2);
  // no space left: the temporary file is /dev/full (a write there fails with ENOSPC)
  fs::create_symlink("/dev/full", dir.path / "state.pt.tmp");
  CHECK_THROWS_WITH_AS(next.save(file),
                       doctest::Contains("No space left on device; the previous 'state.pt' is "
                                         "unchanged (free some space, then resume)"),
                       c10::Error);
  CHECK(read_file(file) == before);
  CHECK(!fs::exists(fs::symlink_status(dir.path / "state.pt.tmp")));  // nothing left behind
  // the temporary file cannot be created (a folder of that name stands there)
  fs::create_directory(dir.path / "state.pt.tmp");
  const std::string cannot = "cannot write '" + file.string() + "'";
  CHECK_THROWS_WITH_AS(next.save(file), doctest::Contains(cannot.c_str()), c10::Error);
  CHECK(read_file(file) == before);
  fs::remove(dir.path / "state.pt.tmp");
  // the folder removed underneath
  const auto gone = dir.path / "gone";
  fs::create_directory(gone);
  fs::remove(gone);
  CHECK_THROWS_WITH_AS(next.save(gone / "state.pt"), doctest::Contains("(was the folder removed?)"),
                       c10::Error);
  // and a write that works replaces the file
  next.save(file);
  CHECK(nas::Checkpoint::load(file).get_int("epoch") == 2);
}

namespace {
// Architectures of the DARTS space scored by their share of sep_conv_3x3 ops.
double sep_share(const nas::Genotype<nas::spaces::darts>& g) {
  double n = 0, sep = 0;
  g.for_each_cell([&](const auto& c) {
    for (std::size_t e = 0; e < c.edge_count; ++e)
      if (const auto op = c.op_name(e)) {
        n += 1;
        sep += *op == "sep_conv_3x3" ? 1 : 0;
      }
  });
  return sep / n;
}

// Runs `total` trials straight, and `total` trials with a checkpoint after `cut` and a
// restart from it into fresh objects; the two histories must be the same (wall times aside).
template <class Make>
void check_resume(Make make, std::size_t cut, std::size_t total) {
  using S = nas::spaces::darts;
  auto eval = [](const nas::Genotype<S>& g) { return sep_share(g); };
  auto strip = [](nas::History<S> h) {
    for (auto& t : h.trials) t.seconds = 0.0;
    return h;
  };
  auto straight = make(0);
  const auto full = nas::run_trials(straight, eval, {.trials = total});

  TempDir dir("nas_resume_test");
  {
    auto first = make(0);
    const auto part = nas::run_trials(first, eval, {.trials = cut});
    nas::Checkpoint c;
    nas::save_search(c, "strategy", first, part.trials);
    c.save(dir.path / "search.pt");
  }
  auto resumed = make(99);  // another seed: everything must come from the checkpoint
  const auto c = nas::Checkpoint::load(dir.path / "search.pt");
  auto history = nas::load_search(c, "strategy", resumed);
  CHECK(history.size() == cut);
  const auto rest = nas::run_trials(resumed, eval, {.trials = total - cut, .reuse_history = true},
                                    {}, {}, std::move(history));
  CHECK(strip(rest.trials) == strip(full.trials));
  CHECK(rest.genotype == full.genotype);
}
}  // namespace

TEST_CASE("checkpoint: random search, evolution and REINFORCE resume to the same history") {
  using S = nas::spaces::darts;
  check_resume([](std::uint64_t seed) { return nas::RandomSearch<S>({.seed = seed}); }, 7, 15);
  check_resume(
      [](std::uint64_t seed) {
        return nas::Evolution<S>({.population = 6, .sample = 3, .seed = seed});
      },
      11, 30);
  check_resume(
      [](std::uint64_t seed) {
        torch::manual_seed(seed);
        return nas::Reinforce<S>(nas::Controller<S>({.hidden = 16}),
                                 {.children = 4, .learning_rate = 0.05, .seed = seed});
      },
      10, 24);  // the cut falls between two controller updates: pending children are saved
}

static_assert(nas::checkpointable<nas::RandomSearch<nas::spaces::darts>>);
static_assert(nas::checkpointable<nas::Evolution<nas::spaces::darts>>);
static_assert(nas::checkpointable<nas::Reinforce<nas::spaces::darts>>);
static_assert(!nas::checkpointable<int>);

TEST_CASE("load_search: a checkpoint without the history is refused, naming the entry") {
  using S = nas::spaces::darts;
  nas::Evolution<S> evolution({.population = 6, .sample = 3});
  nas::Checkpoint c;
  evolution.save(c, "search");  // the strategy alone, as before nas::save_search
  nas::Evolution<S> other({.population = 6, .sample = 3});
  CHECK_THROWS_WITH((void)nas::load_search(c, "search", other),
                    doctest::Contains("search.history"));
}

TEST_CASE("run_trials: stopped by its token between trials, saved, resumed: the same history") {
  using S = nas::spaces::darts;
  auto eval = [](const nas::Genotype<S>& g) { return sep_share(g); };
  const auto make = [](std::uint64_t seed) {
    torch::manual_seed(seed);
    return nas::Reinforce<S>(nas::Controller<S>({.hidden = 16}),
                             {.children = 4, .learning_rate = 0.05, .seed = seed});
  };
  auto strip = [](nas::History<S> h) {
    for (auto& t : h.trials) t.seconds = 0.0;
    return h;
  };
  auto straight = make(0);
  const auto full = nas::run_trials(straight, eval, {.trials = 12});
  CHECK(full.stop == nas::StopReason::completed);

  auto first = make(0);
  std::stop_source source;
  nas::TrialCallbacks<S> callbacks{
      .on_trial = [&](const nas::Trial<S>&, const nas::Trial<S>&) { source.request_stop(); },
      .stop = source.get_token()};
  // asked to stop after each trial: one trial per call, between two controller updates too
  nas::History<S> history;
  for (std::size_t i = 0; i < 5; ++i) {
    source = {};
    callbacks.stop = source.get_token();
    const bool again = !history.trials.empty();  // as a resumed run does: its trials fill the cache
    auto part =
        nas::run_trials(first, eval, {.trials = 12 - history.size(), .reuse_history = again}, {},
                        callbacks, std::move(history));
    CHECK(part.stop == nas::StopReason::interrupted);
    history = std::move(part.trials);
    CHECK(history.size() == i + 1);
  }
  nas::Checkpoint c;
  nas::save_search(c, "search", first, history);
  auto resumed = make(99);
  auto loaded = nas::load_search(c, "search", resumed);
  const auto rest = nas::run_trials(resumed, eval, {.trials = 7, .reuse_history = true}, {}, {},
                                    std::move(loaded));
  CHECK(strip(rest.trials) == strip(full.trials));
  CHECK(rest.genotype == full.genotype);
  // asked before the first trial: nothing proposed, an empty result
  auto idle = make(0);
  std::stop_source asked;
  asked.request_stop();
  const auto none = nas::run_trials(idle, eval, {.trials = 3}, {}, {.stop = asked.get_token()});
  CHECK(none.stop == nas::StopReason::interrupted);
  CHECK(none.trials.size() == 0);
}
