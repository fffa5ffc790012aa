// needs: torch, own main, cli11, zlib
// bench_memory_growth: does a long run grow? A small differentiable search (GDAS or DARTS on
// NAS-Bench-201's space, Fashion-MNIST) for 50 epochs, checkpointed to a file after every epoch
// as real runs are, then a sampled search (regularized evolution, children trained from scratch,
// nas::run_trials) for 200 trials, checkpointed after every trial. After every epoch and every
// trial it reads the process's resident memory (VmRSS, VmHWM, RssAnon of /proc/self/status),
// glibc malloc's bytes in use and held (mallinfo2), the open file descriptors (/proc/self/fd) and
// the threads (/proc/self/task). It prints a summary with a verdict and writes every sample as
// JSON (docs/robustness.md, "Long runs").
//
//   bench_memory_growth [--epochs 50] [--trials 200] [--out benchmarks/results/memory-growth.json]
//                       [--strategy gdas|darts] [--threads T] [--trim] [--synthetic]
//
// The criterion (a benchmark, not a test: the exit status is 0 whatever it measures): resident
// memory after the last epoch within 5% of that after epoch 5, and no more file descriptors or
// threads at the end than after the first epoch or trial. `--trim` calls malloc_trim(0) before
// every measurement (an investigation of what the allocator keeps, not the criterion).
#include <dirent.h>
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include <nas/data/idx.hpp>
#include <nas/nas.hpp>

#if defined(__GLIBC__)
#include <malloc.h>
#if __GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33)
#define NAS_BENCH_MALLINFO2 1
#endif
#endif

#include <sys/stat.h>
#include <unistd.h>

namespace {

using space = nas::spaces::nb201;
namespace fs = std::filesystem;

struct Settings {
  std::string strategy = "gdas";
  std::int64_t epochs = 50;
  std::int64_t trials = 200;
  std::int64_t images = 1024;  // searched on: half for weights, half for the architecture
  std::int64_t batch = 64;
  std::int64_t channels = 8;        // the supernet's first cells
  std::int64_t layers = 1;          // cells per stage
  std::int64_t child_images = 256;  // a child's training images (one epoch)
  std::int64_t child_valid = 256;   // and validation images
  std::int64_t child_channels = 4;
  std::int64_t reference_epoch = 5;  // the criterion: the last epoch against this one
  std::int64_t reference_trial = 10;
  std::uint64_t seed = 0;
  int threads = 0;
  bool trim = false;
  bool synthetic = false;
  std::string data = nas::data::fashion_mnist_dir.string();
  std::string out = "benchmarks/results/memory-growth.json";
};

// One measurement of the process.
struct Sample {
  double rss_mib = 0, hwm_mib = 0, anon_mib = 0;  // /proc/self/status
  double heap_used_mib = -1, heap_held_mib = -1;  // mallinfo2: in use, and held from the system
  std::int64_t fds = 0, threads = 0;
  double seconds = 0;  // since the start of the part
};

// The value in kB of `key` (e.g. "VmRSS:") in /proc/self/status, in MiB; -1 when missing.
struct Status {
  double rss = -1, hwm = -1, anon = -1;
  std::int64_t threads = -1;
};
Status read_status() {
  std::ifstream in("/proc/self/status");
  Status s;
  std::string line;
  const auto kb = [](const std::string& l) {
    return static_cast<double>(std::strtoll(l.c_str() + l.find(':') + 1, nullptr, 10)) / 1024.0;
  };
  while (std::getline(in, line)) {
    if (line.starts_with("VmRSS:"))
      s.rss = kb(line);
    else if (line.starts_with("VmHWM:"))
      s.hwm = kb(line);
    else if (line.starts_with("RssAnon:"))
      s.anon = kb(line);
    else if (line.starts_with("Threads:"))
      s.threads = std::strtoll(line.c_str() + 8, nullptr, 10);
  }
  return s;
}

// Entries of a /proc folder, not counting ".", ".." and (for /proc/self/fd) the descriptor
// that reads it.
std::int64_t entries(const char* folder) {
  DIR* dir = opendir(folder);
  if (dir == nullptr) return -1;
  const std::string own = std::to_string(dirfd(dir));
  std::int64_t n = 0;
  while (const dirent* e = readdir(dir)) {
    const std::string name = e->d_name;
    if (name != "." && name != ".." && name != own) ++n;
  }
  closedir(dir);
  return n;
}

Sample measure(bool trim, std::chrono::steady_clock::time_point start) {
#if defined(__GLIBC__)
  if (trim) malloc_trim(0);
#else
  (void)trim;
#endif
  Sample m;
  const Status s = read_status();
  m.rss_mib = s.rss;
  m.hwm_mib = s.hwm;
  m.anon_mib = s.anon;
  m.fds = entries("/proc/self/fd");
  m.threads = entries("/proc/self/task");
#ifdef NAS_BENCH_MALLINFO2
  const struct mallinfo2 mi = mallinfo2();
  m.heap_used_mib = static_cast<double>(mi.uordblks + mi.hblkhd) / 1048576.0;
  m.heap_held_mib = static_cast<double>(mi.arena + mi.hblkhd) / 1048576.0;
#endif
  m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return m;
}

// What one part (the differentiable search, or the trials) measured.
struct Part {
  std::string name;             // "search" or "trials"
  std::string unit;             // "epoch" or "trial"
  std::string what;             // a line saying what ran
  Sample before;                // before the first epoch or trial
  std::vector<Sample> samples;  // after each
  std::int64_t reference = 0;   // 1-based: the epoch or trial the last one is compared with
  double seconds = 0;
};

std::string fixed(double v, int digits = 2) {
  char b[64];
  std::snprintf(b, sizeof b, "%.*f", digits, v);
  return b;
}

double ratio(const Part& p) {
  if (p.samples.empty()) return 0;
  return p.samples.back().rss_mib / p.samples[static_cast<std::size_t>(p.reference - 1)].rss_mib;
}
std::int64_t max_of(const Part& p, std::int64_t Sample::*field) {
  std::int64_t m = p.before.*field;
  for (const auto& s : p.samples) m = std::max(m, s.*field);
  return m;
}

bool rss_within(const Part& p) { return ratio(p) <= 1.05; }
bool no_leak(const Part& p, std::int64_t Sample::*field) {
  return !p.samples.empty() && p.samples.back().*field <= p.samples.front().*field;
}

void progress(const Part& p, const Sample& s, std::int64_t i, std::int64_t n) {
  if (i != 1 && i != p.reference && i % std::max<std::int64_t>(1, n / 10) != 0 && i != n) return;
  std::printf(
      "%s %lld/%lld: rss %s MiB (peak %s), heap in use %s MiB, %lld fds, %lld threads, "
      "%.1f s\n",
      p.unit.c_str(), static_cast<long long>(i), static_cast<long long>(n),
      fixed(s.rss_mib).c_str(), fixed(s.hwm_mib).c_str(), fixed(s.heap_used_mib).c_str(),
      static_cast<long long>(s.fds), static_cast<long long>(s.threads), s.seconds);
  std::fflush(stdout);
}

// Removes the folder of checkpoints. Not with std::filesystem::remove_all: the PyPI LibTorch's
// libtorch.so exports its own copy, which jumps to a null address (tests/torch/temp_dir.hpp).
void remove_tree(const fs::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return;
  if (S_ISDIR(st.st_mode)) {
    std::error_code ec;
    std::vector<fs::path> children;
    for (const auto& entry : fs::directory_iterator(p, ec)) children.push_back(entry.path());
    for (const auto& c : children) remove_tree(c);
    ::rmdir(p.c_str());
  } else {
    ::unlink(p.c_str());
  }
}

nas::Stack nb201_stack(std::int64_t layers, std::int64_t channels) {
  return {.layers = layers,
          .channels = channels,
          .classes = 10,
          .input_channels = 1,
          .skeleton = nas::Skeleton::nb201};
}

// (a) the differentiable search, checkpointed after every epoch
Part search_part(const Settings& s, const nas::Data& train, const fs::path& dir) {
  Part p;
  p.name = "search";
  p.unit = "epoch";
  p.reference = std::min(s.reference_epoch, s.epochs);
  const auto start = std::chrono::steady_clock::now();
  const auto run = [&](auto& strategy) {
    p.before = measure(s.trim, start);
    nas::Callbacks<space> callbacks;
    callbacks.on_epoch = [&](const nas::EpochReport<space>& r) {
      nas::Checkpoint c;
      strategy.save(c, "search");
      c.save(dir / "search.ckpt");
      p.samples.push_back(measure(s.trim, start));
      progress(p, p.samples.back(), r.epoch + 1, s.epochs);
    };
    (void)strategy.search(train, callbacks);
  };
  torch::manual_seed(s.seed);
  const auto stack = nb201_stack(s.layers, s.channels);
  if (s.strategy == "gdas") {
    nas::Supernet<space, nas::relax::Gumbel> net(stack);
    nas::Gdas gdas(net, {.epochs = s.epochs, .weights = {.batch_size = s.batch}});
    run(gdas);
  } else {
    nas::Supernet<space, nas::relax::Softmax> net(stack);
    nas::Darts darts(net, {.order = 1, .epochs = s.epochs, .weights = {.batch_size = s.batch}});
    run(darts);
  }
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

// (b) the sampled search: regularized evolution, children trained from scratch, the search
// (strategy and history) checkpointed after every trial
Part trials_part(const Settings& s, const nas::Data& train, const nas::Data& valid,
                 const fs::path& dir) {
  Part p;
  p.name = "trials";
  p.unit = "trial";
  p.reference = std::min(s.reference_trial, s.trials);
  const auto start = std::chrono::steady_clock::now();
  nas::eval::FromScratch<space> evaluator(train, valid,
                                          {.stack = nb201_stack(1, s.child_channels),
                                           .epochs = 1,
                                           .batch_size = s.batch,
                                           .seed = s.seed});
  nas::Evolution<space> evolution({.population = 20, .sample = 5, .seed = s.seed});
  nas::History<space> history;  // what the checkpoint holds (nas::run_trials returns its own)
  nas::TrialCallbacks<space> callbacks;
  callbacks.on_trial = [&](const nas::Trial<space>& t, const nas::Trial<space>&) {
    history.push(t);
    nas::Checkpoint c;
    nas::save_search(c, "search", evolution, history);
    c.save(dir / "trials.ckpt");
    p.samples.push_back(measure(s.trim, start));
    progress(p, p.samples.back(), static_cast<std::int64_t>(t.index) + 1, s.trials);
  };
  p.before = measure(s.trim, start);
  const auto result = nas::run_trials(
      evolution, evaluator, {.trials = static_cast<std::size_t>(s.trials)}, {}, callbacks);
  std::size_t evaluations = 0;
  for (const auto& t : result.trials) evaluations += t.cached ? 0 : 1;
  p.what = std::to_string(result.trials.size()) + " trials, " + std::to_string(evaluations) +
           " children trained";
  p.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return p;
}

std::string list(const Part& p, const std::function<std::string(const Sample&)>& f) {
  std::string out = "[";
  for (std::size_t i = 0; i < p.samples.size(); ++i) {
    if (i > 0) out += i % 10 == 0 ? ",\n    " : ", ";
    out += f(p.samples[i]);
  }
  return out + "]";
}

std::string part_json(const Part& p) {
  const auto& ref = p.samples[static_cast<std::size_t>(p.reference - 1)];
  const auto& last = p.samples.back();
  const auto mib = [](double Sample::*field) {
    return [field](const Sample& s) { return fixed(s.*field); };
  };
  const auto count = [](std::int64_t Sample::*field) {
    return [field](const Sample& s) { return std::to_string(s.*field); };
  };
  const auto counts = [&](std::int64_t Sample::*field) {
    return nas::detail::JsonObject{}
        .integer("before", p.before.*field)
        .integer("first", p.samples.front().*field)
        .integer("end", last.*field)
        .integer("max", max_of(p, field))
        .str();
  };
  std::string j = "{\n";
  const auto add = [&](const std::string& key, const std::string& value, bool more = true) {
    j += "   " + nas::json::quote(key) + ": " + value + (more ? ",\n" : "\n");
  };
  add("ran", nas::json::quote(p.what));
  add(p.unit + "s", std::to_string(p.samples.size()));
  add("reference_" + p.unit, std::to_string(p.reference));
  add("rss_mib_before", fixed(p.before.rss_mib));
  add("rss_mib_at_reference", fixed(ref.rss_mib));
  add("rss_mib_at_end", fixed(last.rss_mib));
  add("rss_ratio_end_to_reference", fixed(ratio(p), 4));
  add("rss_within_5_percent", rss_within(p) ? "true" : "false");
  add("peak_rss_mib_at_end", fixed(last.hwm_mib));
  add("heap_in_use_mib_at_reference", fixed(ref.heap_used_mib));
  add("heap_in_use_mib_at_end", fixed(last.heap_used_mib));
  add("fds", counts(&Sample::fds));
  add("threads", counts(&Sample::threads));
  add("seconds", fixed(p.seconds, 1));
  add("per_" + p.unit,
      "{\n    \"rss_mib\": " + list(p, mib(&Sample::rss_mib)) +
          ",\n    \"peak_rss_mib\": " + list(p, mib(&Sample::hwm_mib)) +
          ",\n    \"rss_anon_mib\": " + list(p, mib(&Sample::anon_mib)) +
          ",\n    \"heap_in_use_mib\": " + list(p, mib(&Sample::heap_used_mib)) +
          ",\n    \"heap_held_mib\": " + list(p, mib(&Sample::heap_held_mib)) + ",\n    \"fds\": " +
          list(p, count(&Sample::fds)) + ",\n    \"threads\": " + list(p, count(&Sample::threads)) +
          ",\n    \"seconds\": " + list(p, [](const Sample& s) { return fixed(s.seconds, 1); }) +
          "\n   }",
      false);
  return j + "  }";
}

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line))
    if (line.starts_with("model name")) return line.substr(line.find(':') + 2);
  return "unknown";
}

void summary(const Part& p) {
  const auto& ref = p.samples[static_cast<std::size_t>(p.reference - 1)];
  const auto& last = p.samples.back();
  std::printf("\n%s (%s, %.1f s)\n", p.name.c_str(), p.what.c_str(), p.seconds);
  std::printf("  %-22s %10s %10s %10s %10s\n", "", "before",
              p.unit == "epoch" ? "epoch 1" : "trial 1",
              (p.unit + " " + std::to_string(p.reference)).c_str(),
              (p.unit + " " + std::to_string(p.samples.size())).c_str());
  const auto row = [&](const char* name, const std::function<std::string(const Sample&)>& f) {
    std::printf("  %-22s %10s %10s %10s %10s\n", name, f(p.before).c_str(),
                f(p.samples.front()).c_str(), f(ref).c_str(), f(last).c_str());
  };
  row("RSS (MiB)", [](const Sample& s) { return fixed(s.rss_mib, 1); });
  row("peak RSS (MiB)", [](const Sample& s) { return fixed(s.hwm_mib, 1); });
  row("malloc in use (MiB)", [](const Sample& s) { return fixed(s.heap_used_mib, 1); });
  row("malloc held (MiB)", [](const Sample& s) { return fixed(s.heap_held_mib, 1); });
  row("file descriptors", [](const Sample& s) { return std::to_string(s.fds); });
  row("threads", [](const Sample& s) { return std::to_string(s.threads); });
  std::printf("  max: %lld fds, %lld threads\n", static_cast<long long>(max_of(p, &Sample::fds)),
              static_cast<long long>(max_of(p, &Sample::threads)));
  const double r = ratio(p);
  std::printf(
      "verdict (%s): RSS at %s %zu is %s%% of %s %lld: %s; file descriptors %s; "
      "threads %s\n",
      p.name.c_str(), p.unit.c_str(), p.samples.size(), fixed(100.0 * r, 1).c_str(), p.unit.c_str(),
      static_cast<long long>(p.reference), rss_within(p) ? "within 5%" : "GROWS by more than 5%",
      no_leak(p, &Sample::fds) ? "do not grow" : "GROW",
      no_leak(p, &Sample::threads) ? "do not grow" : "GROW");
}

nas::Data synthetic(std::int64_t n, std::uint64_t seed) {
  torch::manual_seed(seed);
  return {torch::randn({n, 1, 28, 28}), torch::randint(10, {n}, torch::kLong)};
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "bench_memory_growth: resident memory, file descriptors and threads of a long "
      "search (a benchmark: exit status 0 whatever it measures)"};
  Settings s;
  app.add_option("--epochs", s.epochs, "epochs of the differentiable search")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000));
  app.add_option("--trials", s.trials, "trials of the sampled search")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  app.add_option("--out", s.out, "the JSON file written")->capture_default_str();
  app.add_option("--strategy", s.strategy, "the differentiable search: gdas or darts")
      ->capture_default_str()
      ->check(CLI::IsMember({"gdas", "darts"}));
  app.add_option("--images", s.images, "images the search runs on (half for the architecture)")
      ->capture_default_str()
      ->check(CLI::Range(8, 60000));
  app.add_option("--batch", s.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::Range(2, 4096));
  app.add_option("--channels", s.channels, "the supernet's channels")
      ->capture_default_str()
      ->check(CLI::Range(1, 512));
  app.add_option("--child-images", s.child_images, "a child's training images")
      ->capture_default_str()
      ->check(CLI::Range(2, 60000));
  app.add_option("--child-channels", s.child_channels, "a child's channels")
      ->capture_default_str()
      ->check(CLI::Range(1, 512));
  app.add_option("--threads", s.threads, "intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  app.add_flag("--trim", s.trim,
               "malloc_trim(0) before every measurement (an investigation, not the criterion)");
  app.add_flag("--synthetic", s.synthetic, "random images instead of Fashion-MNIST");
  app.add_option("--data", s.data, "folder with the Fashion-MNIST .gz IDX files")
      ->capture_default_str();
  CLI11_PARSE(app, argc, argv);
  const auto start = std::chrono::steady_clock::now();
  const Sample at_start = measure(false, start);
  if (s.threads > 0) torch::set_num_threads(s.threads);
  const fs::path dir = fs::temp_directory_path() /
                       ("nas-memory-growth-" + std::to_string(static_cast<long long>(getpid())));
  try {
    fs::create_directories(dir);
    nas::Data images, child_train, child_valid;
    std::string data = "fashion-mnist";
    if (s.synthetic) {
      data = "synthetic";
      images = synthetic(s.images, 1);
      child_train = synthetic(s.child_images, 2);
      child_valid = synthetic(s.child_valid, 3);
    } else {
      // copies, so that the 60,000 images (180 MiB) are freed before the first measurement
      const auto copy = [](const nas::Data& d) {
        return nas::Data{d.inputs.clone(), d.targets.clone()};
      };
      const auto all = nas::data::fashion_mnist("train", s.data);
      images = copy(all.slice(0, s.images));
      child_train = copy(all.slice(s.images, s.images + s.child_images));
      child_valid =
          copy(all.slice(s.images + s.child_images, s.images + s.child_images + s.child_valid));
    }
    std::printf(
        "bench_memory_growth: %s on NAS-Bench-201's space (%lld channels, %lld cell per "
        "stage), %lld epochs on %lld %s images, batch %lld, then %lld trials; %d threads\n",
        s.strategy.c_str(), static_cast<long long>(s.channels), static_cast<long long>(s.layers),
        static_cast<long long>(s.epochs), static_cast<long long>(s.images), data.c_str(),
        static_cast<long long>(s.batch), static_cast<long long>(s.trials),
        torch::get_num_threads());
    std::fflush(stdout);
    Part search = search_part(s, images, dir);
    search.what = std::to_string(s.epochs) + " epochs of " + s.strategy + ", " +
                  std::to_string(s.images / 2 / s.batch + (s.images / 2 % s.batch ? 1 : 0)) +
                  " steps each";
    Part trials = trials_part(s, child_train, child_valid, dir);
    remove_tree(dir);
    const Sample at_end = measure(false, start);
    summary(search);
    summary(trials);

    const char* arenas = std::getenv("MALLOC_ARENA_MAX");
    std::string json = "{\n";
    json += " \"benchmark\": \"memory_growth\",\n";
    json += " \"machine\": " +
            nas::detail::JsonObject{}
                .text("cpu", cpu_model())
                .integer("cores", static_cast<std::int64_t>(std::thread::hardware_concurrency()))
                .str() +
            ",\n";
    json += " \"settings\": " +
            nas::detail::JsonObject{}
                .text("strategy", s.strategy)
                .text("space", "nb201")
                .integer("epochs", s.epochs)
                .integer("trials", s.trials)
                .integer("images", s.images)
                .integer("batch", s.batch)
                .integer("channels", s.channels)
                .integer("layers", s.layers)
                .integer("child_images", s.child_images)
                .integer("child_valid", s.child_valid)
                .integer("child_channels", s.child_channels)
                .text("data", data)
                .integer("threads", torch::get_num_threads())
                .raw("trim", s.trim ? "true" : "false")
                .raw("malloc_arena_max", arenas ? nas::json::quote(arenas) : "null")
                .text("torch", TORCH_VERSION)
                .str() +
            ",\n";
    json += " \"process\": " +
            nas::detail::JsonObject{}
                .raw("rss_mib_at_start", fixed(at_start.rss_mib))
                .raw("rss_mib_at_end", fixed(at_end.rss_mib))
                .raw("peak_rss_mib", fixed(at_end.hwm_mib))
                .integer("fds_at_start", at_start.fds)
                .integer("fds_at_end", at_end.fds)
                .integer("threads_at_start", at_start.threads)
                .integer("threads_at_end", at_end.threads)
                .raw("seconds", fixed(at_end.seconds, 1))
                .str() +
            ",\n";
    json += " \"search\": " + part_json(search) + ",\n";
    json += " \"trials\": " + part_json(trials) + "\n}\n";
    const fs::path out = s.out;
    if (out.has_parent_path()) fs::create_directories(out.parent_path());
    nas::write_atomically(out, json);
    std::printf("\n%.1f s in all; wrote %s\n", at_end.seconds, s.out.c_str());
  } catch (const std::exception& e) {
    remove_tree(dir);
    std::fprintf(stderr, "bench_memory_growth: %s\n", e.what());
    return 1;
  }
  return 0;
}
