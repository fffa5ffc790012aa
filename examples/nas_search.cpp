// nas_search: a whole architecture search on real data, as a long-running job.
//
// Any strategy (darts, pc-darts, gdas, enas, reinforce, random, evolution, spos) over any built-in
// space (darts, nb201, mobile) on Fashion-MNIST (the Debian package), CIFAR-10 (binary
// batches) or a folder of IDX files. Progress with ETA per epoch or trial (or JSON lines,
// or quiet); the whole search state checkpointed atomically every epoch / N trials, and
// `--resume DIR` continues a killed run to the same result; a run folder with the
// genotype (text and JSON), the history, the cells drawn, the architecture weights and
// the search curves plotted, and summary.json. After the search the derived architecture
// is trained from scratch at the final size and tested; `--baseline N` trains N random
// architectures of the space under the same budget, so the run says whether the search
// beat chance.
//
//   nas_search --preset demo                       # the README's first command
//   nas_search --strategy darts --space darts --preset full --data cifar10 --data-dir D
//   nas_search --resume runs/demo                  # after a kill
#include <torch/torch.h>
#include <CLI/CLI.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include <nas/data/cifar.hpp>
#include <nas/data/idx.hpp>
#include <nas/nas.hpp>
#include <nas/spaces/mobile.hpp>
#include <nas/train/checkpoint.hpp>
#include <nas/viz/dot.hpp>
#include <nas/viz/plot.hpp>

namespace {

// ---------------------------------------------------------------------------------------
// Settings and presets

struct Settings {
  std::string strategy = "gdas";
  std::string space = "nb201";
  std::string preset = "demo";
  std::string data = "fashion-mnist";
  std::string data_dir;  // empty: the data set's default folder
  std::string out;       // empty: runs/<strategy>-<space>-seed<seed>
  std::string device = "cpu";
  std::uint64_t seed = 0;
  int threads = 0;
  // search
  std::int64_t epochs = 0;
  std::int64_t train = 0;
  std::int64_t valid = 0;
  std::int64_t batch = 0;
  std::int64_t channels = 0;
  std::int64_t layers = 0;
  double lr = 0.0;
  int order = 1;
  std::size_t trials = 0;
  std::size_t children = 0;
  std::size_t controller_steps = 0;
  std::int64_t child_epochs = 0;
  // final training
  std::int64_t final_epochs = 0;
  std::int64_t final_train = 0;
  std::int64_t final_channels = 0;
  std::int64_t final_layers = 0;
  double final_lr = 0.0;
  std::int64_t test = 0;
  std::size_t baseline = 0;
  // job
  std::size_t checkpoint_every = 0;
  std::string on_nan = "stop";
  bool quiet = false;
  bool json = false;
  std::int64_t die_after = 0;  // test hook: SIGKILL after this many steps/trials
  bool overwrite = false;
};

// The settings that decide what a run computes (a resumed run must agree on them).
std::string settings_json(const Settings& s) {
  nas::detail::JsonObject o;
  o.text("strategy", s.strategy)
      .text("space", s.space)
      .text("preset", s.preset)
      .text("data", s.data)
      .text("data_dir", s.data_dir)
      .text("device", s.device)
      .integer("seed", static_cast<std::int64_t>(s.seed))
      .integer("threads", s.threads)
      .integer("epochs", s.epochs)
      .integer("train", s.train)
      .integer("valid", s.valid)
      .integer("batch", s.batch)
      .integer("channels", s.channels)
      .integer("layers", s.layers)
      .number("lr", s.lr)
      .integer("order", s.order)
      .integer("trials", static_cast<std::int64_t>(s.trials))
      .integer("children", static_cast<std::int64_t>(s.children))
      .integer("controller_steps", static_cast<std::int64_t>(s.controller_steps))
      .integer("child_epochs", s.child_epochs)
      .integer("final_epochs", s.final_epochs)
      .integer("final_train", s.final_train)
      .integer("final_channels", s.final_channels)
      .integer("final_layers", s.final_layers)
      .number("final_lr", s.final_lr)
      .integer("test", s.test)
      .integer("baseline", static_cast<std::int64_t>(s.baseline))
      .integer("checkpoint_every", static_cast<std::int64_t>(s.checkpoint_every))
      .text("on_nan", s.on_nan);
  return o.str();
}

Settings parse_settings(const std::string& text) {
  const auto v = nas::json::parse(text);
  const auto str = [&](const char* k) { return nas::detail::json_member_text(v, k, "settings"); };
  const auto num = [&](const char* k) {
    return nas::detail::json_member_integer(v, k, "settings");
  };
  const auto real = [&](const char* k) {
    return nas::detail::json_member_number(v, k, "settings");
  };
  Settings s;
  s.strategy = str("strategy");
  s.space = str("space");
  s.preset = str("preset");
  s.data = str("data");
  s.data_dir = str("data_dir");
  s.device = str("device");
  s.seed = static_cast<std::uint64_t>(num("seed"));
  s.threads = static_cast<int>(num("threads"));
  s.epochs = num("epochs");
  s.train = num("train");
  s.valid = num("valid");
  s.batch = num("batch");
  s.channels = num("channels");
  s.layers = num("layers");
  s.lr = real("lr");
  s.order = static_cast<int>(num("order"));
  s.trials = static_cast<std::size_t>(num("trials"));
  s.children = static_cast<std::size_t>(num("children"));
  s.controller_steps = static_cast<std::size_t>(num("controller_steps"));
  s.child_epochs = num("child_epochs");
  s.final_epochs = num("final_epochs");
  s.final_train = num("final_train");
  s.final_channels = num("final_channels");
  s.final_layers = num("final_layers");
  s.final_lr = real("final_lr");
  s.test = num("test");
  s.baseline = static_cast<std::size_t>(num("baseline"));
  s.checkpoint_every = static_cast<std::size_t>(num("checkpoint_every"));
  s.on_nan = str("on_nan");
  return s;
}

bool trial_strategy(const std::string& s) {
  return s == "reinforce" || s == "random" || s == "evolution";
}
bool one_shot(const std::string& s) { return s == "enas" || s == "spos"; }
bool differentiable_strategy(const std::string& s) {
  return s == "darts" || s == "pc-darts" || s == "gdas";
}

// Fills every setting the user did not give from the preset. `given(name)` tells whether
// the option was on the command line.
template <class Given>
void apply_preset(Settings& s, Given&& given) {
  const bool demo = s.preset == "demo";
  const auto set = [&](const char* name, auto& field, auto value) {
    if (!given(name)) field = static_cast<std::decay_t<decltype(field)>>(value);
  };
  const bool darts = s.space == "darts", mobile = s.space == "mobile";
  if (demo) {
    // 2 CPU cores, about 10 minutes for search, final training and baseline together
    set("--train", s.train, trial_strategy(s.strategy) ? 2000 : 5000);
    set("--valid", s.valid, trial_strategy(s.strategy) ? 1000 : 5000);
    set("--batch", s.batch, 64);
    set("--channels", s.channels, mobile ? 4 : 8);
    set("--layers", s.layers, darts ? 5 : 1);
    set("--epochs", s.epochs, differentiable_strategy(s.strategy) ? 30 : 6);
    set("--lr", s.lr, 0.05);
    set("--trials", s.trials, s.strategy == "spos" ? 100 : 20);
    set("--children", s.children, 5);
    set("--controller-steps", s.controller_steps, 5);
    set("--child-epochs", s.child_epochs, 1);
    set("--final-epochs", s.final_epochs, 4);
    set("--final-train", s.final_train, 15000);
    set("--final-channels", s.final_channels, mobile ? 8 : 16);
    set("--final-layers", s.final_layers, darts ? 8 : 1);
    set("--final-lr", s.final_lr, 0.05);
    set("--test", s.test, 10000);
    set("--baseline", s.baseline, 4);
    set("--checkpoint-every", s.checkpoint_every, 5);
  } else {
    // the published search settings (DARTS, GDAS, ENAS, NAS-Bench-201, ProxylessNAS-size)
    set("--train", s.train, 25000);
    set("--valid", s.valid, 25000);
    set("--batch", s.batch, s.strategy == "enas" ? 160 : (s.strategy == "pc-darts" ? 256 : 64));
    set("--channels", s.channels, 16);
    set("--layers", s.layers, darts ? 8 : (mobile ? 1 : 5));
    set("--epochs", s.epochs, s.strategy == "gdas" ? 240 : (s.strategy == "enas" ? 150 : 50));
    set("--lr", s.lr, s.strategy == "enas" ? 0.05 : (s.strategy == "pc-darts" ? 0.1 : 0.025));
    set("--trials", s.trials, s.strategy == "spos" ? 1000 : 100);
    set("--children", s.children, 10);
    set("--controller-steps", s.controller_steps, 30);
    set("--child-epochs", s.child_epochs, 10);
    set("--final-epochs", s.final_epochs, darts ? 600 : 200);
    set("--final-train", s.final_train, 50000);
    set("--final-channels", s.final_channels, darts ? 36 : 16);
    set("--final-layers", s.final_layers, darts ? 20 : (mobile ? 1 : 5));
    set("--final-lr", s.final_lr, darts ? 0.025 : 0.1);
    set("--test", s.test, 10000);
    set("--baseline", s.baseline, 10);
    set("--checkpoint-every", s.checkpoint_every, 10);
    set("--device", s.device, torch::cuda::is_available() ? "cuda" : "cpu");
  }
}

// ---------------------------------------------------------------------------------------
// Output

class Log {
 public:
  explicit Log(const Settings& s) : quiet_(s.quiet), json_(s.json) {}
  // A human line (hidden in quiet and JSON modes).
  void line(const std::string& text) const {
    if (quiet_ || json_) return;
    std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  // An event: a JSON line in JSON mode, `text` otherwise.
  void event(const std::string& json, const std::string& text) const {
    if (json_)
      std::printf("%s\n", json.c_str());
    else if (!quiet_)
      std::printf("%s\n", text.c_str());
    std::fflush(stdout);
  }
  // Always shown (the result), as JSON in JSON mode.
  void result(const std::string& json, const std::string& text) const {
    std::printf("%s\n", json_ ? json.c_str() : text.c_str());
    std::fflush(stdout);
  }

 private:
  bool quiet_;
  bool json_;
};

__attribute__((format(printf, 1, 2))) std::string format(const char* fmt, ...) {
  std::va_list args;
  va_start(args, fmt);
  std::va_list again;
  va_copy(again, args);
  const int n = std::vsnprintf(nullptr, 0, fmt, args);
  va_end(args);
  std::string out(static_cast<std::size_t>(std::max(n, 0)) + 1, '\0');
  std::vsnprintf(out.data(), out.size(), fmt, again);
  va_end(again);
  out.resize(static_cast<std::size_t>(std::max(n, 0)));
  return out;
}

std::string duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0) return "?";
  const auto s = static_cast<long long>(seconds + 0.5);
  if (s >= 3600) return format("%lldh%02lldm", s / 3600, (s % 3600) / 60);
  if (s >= 60) return format("%lldm%02llds", s / 60, s % 60);
  return format("%llds", s);
}

void write_file(const std::filesystem::path& path, const std::string& text) {
  nas::write_atomically(path, text);
}

// Creates the run folder and checks that it takes files; one clear error otherwise.
void prepare_folder(const std::filesystem::path& dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  struct stat st {};
  TORCH_CHECK(!ec && ::stat(dir.c_str(), &st) == 0 && S_ISDIR(st.st_mode),
              "cannot create the output folder '", dir.string(), "'",
              ec ? ": " + ec.message() : std::string(), "; choose another --out");
  TORCH_CHECK(::access(dir.c_str(), W_OK) == 0, "the output folder '", dir.string(),
              "' is not writable; choose another --out");
}

// ---------------------------------------------------------------------------------------
// Data

struct Dataset {
  nas::Data train;  // the training split
  nas::Data test;
  std::string name;
};

Dataset load_data(const Settings& s) {
  Dataset d;
  if (s.data == "cifar10") {
    TORCH_CHECK(!s.data_dir.empty(),
                "--data cifar10 needs --data-dir: the folder with CIFAR-10's binary batches "
                "(data_batch_1.bin ... test_batch.bin)");
    d.train = nas::data::cifar10("train", s.data_dir);
    d.test = nas::data::cifar10("test", s.data_dir);
    d.name = "CIFAR-10";
  } else {
    const std::filesystem::path dir =
        s.data_dir.empty() ? nas::data::fashion_mnist_dir : std::filesystem::path(s.data_dir);
    if (s.data == "idx") {
      TORCH_CHECK(!s.data_dir.empty(),
                  "--data idx needs --data-dir: a folder with train-images-idx3-ubyte.gz, "
                  "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
                  "t10k-labels-idx1-ubyte.gz (MNIST's file names and format)");
    }
    d.train = nas::data::fashion_mnist("train", dir);
    d.test = nas::data::fashion_mnist("test", dir);
    d.name = s.data == "idx" ? "IDX files in " + dir.string() : "Fashion-MNIST";
  }
  const auto classes = d.train.targets.max().item<std::int64_t>() + 1;
  TORCH_CHECK(classes >= 2 && d.train.targets.min().item<std::int64_t>() >= 0,
              "the training labels must be class indices 0..K-1 with K >= 2");
  TORCH_CHECK(d.test.targets.min().item<std::int64_t>() >= 0 &&
                  d.test.targets.max().item<std::int64_t>() < classes,
              "the test labels name classes the training labels do not have");
  TORCH_CHECK(d.train.inputs.dim() == 4 && d.test.inputs.dim() == 4 &&
                  d.train.inputs.sizes().slice(1) == d.test.inputs.sizes().slice(1),
              "training and test images must have the same shape [C, H, W]");
  return d;
}

std::int64_t classes_of(const Dataset& d) { return d.train.targets.max().item<std::int64_t>() + 1; }

void check_sizes(const Settings& s, const Dataset& d) {
  const auto n = d.train.size();
  TORCH_CHECK(s.train + s.valid <= n, "--train ", s.train, " + --valid ", s.valid, " = ",
              s.train + s.valid, " images, but the training split has ", n,
              "; lower --train or --valid");
  TORCH_CHECK(s.final_train <= n, "--final-train ", s.final_train, " exceeds the ", n,
              " training images; lower it");
  TORCH_CHECK(s.test <= d.test.size(), "--test ", s.test, " exceeds the ", d.test.size(),
              " test images; lower it");
  TORCH_CHECK(s.batch <= s.train, "--batch ", s.batch, " is larger than --train ", s.train);
  if (s.space == "darts") {
    TORCH_CHECK(s.layers >= 3 && s.final_layers >= 3,
                "the darts space stacks at least 3 cells (two are reduction cells); raise "
                "--layers / --final-layers");
    TORCH_CHECK(s.channels % 2 == 0 && s.final_channels % 2 == 0,
                "the darts space needs even --channels and --final-channels");
  }
  if (s.strategy == "pc-darts") {
    TORCH_CHECK(s.space != "mobile",
                "pc-darts searches the darts and nb201 spaces (partial channels need edges that "
                "keep their channel count; the mobile space's layers change it)");
    TORCH_CHECK(s.channels % 4 == 0,
                "pc-darts sends 1 of every 4 channels through an edge's ops: --channels must be "
                "divisible by 4; got ",
                s.channels);
  }
  if (s.space != "mobile")
    TORCH_CHECK(d.train.inputs.size(2) % 4 == 0 && d.train.inputs.size(3) % 4 == 0, "the ", s.space,
                " space needs image sides divisible by 4; got ", d.train.inputs.size(2), "x",
                d.train.inputs.size(3));
}

template <class S>
nas::Stack stack_of(std::int64_t layers, std::int64_t channels, std::int64_t classes,
                    std::int64_t input_channels) {
  nas::Stack st{
      .layers = layers, .channels = channels, .classes = classes, .input_channels = input_channels};
  if constexpr (std::is_same_v<S, nas::spaces::nb201>)
    st.skeleton = nas::Skeleton::nb201;
  else if constexpr (std::is_same_v<S, nas::spaces::mobile>)
    st.skeleton = nas::Skeleton::mobile;
  return st;
}

// ---------------------------------------------------------------------------------------
// The run

constexpr const char* checkpoint_name = "checkpoint.pt";

// What the program keeps besides the strategy's state.
template <class S>
struct RunState {
  std::optional<nas::Genotype<S>> found;  // set once the search is over
  double search_seconds = 0.0;
  std::vector<std::vector<double>> alphas;  // per epoch: softmax(alpha), flattened per kind
  std::vector<std::pair<std::string, double>> finals;  // (genotype, test accuracy) done
};

template <class S>
class Run {
 public:
  Run(const Settings& s, const Dataset& data, std::filesystem::path dir, bool resume)
      : s_(s), data_(data), dir_(std::move(dir)), log_(s) {
    classes_ = classes_of(data);
    input_channels_ = data.train.inputs.size(1);
    search_stack_ = stack_of<S>(s.layers, s.channels, classes_, input_channels_);
    final_stack_ = stack_of<S>(s.final_layers, s.final_channels, classes_, input_channels_);
    train_ = data.train.slice(0, s.train);
    valid_ = data.train.slice(s.train, s.train + s.valid);
    device_ = torch::Device(s.device);
    if (resume) {
      checkpoint_ = nas::Checkpoint::load(dir_ / checkpoint_name);
      read_state();
    }
  }

  int run() {
    start_ = std::chrono::steady_clock::now();
    if (!state_.found) {
      log_.line(
          format("searching: %s on the %s space, %lld training / %lld validation images, "
                 "%s, seed %llu",
                 s_.strategy.c_str(), s_.space.c_str(), static_cast<long long>(s_.train),
                 static_cast<long long>(s_.valid), data_.name.c_str(),
                 static_cast<unsigned long long>(s_.seed)));
      search();
      write_search_outputs();
    } else {
      log_.line("search already complete in the checkpoint: " + nas::to_string(*state_.found));
      write_search_outputs();
    }
    final_training();
    return 0;
  }

 private:
  // ---- checkpoints

  void read_state() {
    const auto& c = *checkpoint_;
    if (c.contains("program.found")) state_.found = nas::parse<S>(c.get_text("program.found"));
    state_.search_seconds = nas::detail::text_number(c.get_text("program.search_seconds"),
                                                     "checkpoint entry 'program.search_seconds'");
    nas::detail::for_each_line(c.get_text("program.alphas"), [&](std::string_view line) {
      std::vector<double> row;
      std::size_t at = 0;
      while (at < line.size()) {
        const auto end = std::min(line.find(' ', at), line.size());
        row.push_back(nas::detail::text_number(std::string(line.substr(at, end - at)),
                                               "checkpoint entry 'program.alphas'"));
        at = end + 1;
      }
      state_.alphas.push_back(std::move(row));
    });
    nas::detail::for_each_line(c.get_text("program.finals"), [&](std::string_view line) {
      const auto tab = line.find('\t');
      TORCH_CHECK(tab != std::string_view::npos, "checkpoint entry 'program.finals' is corrupt");
      state_.finals.emplace_back(
          std::string(line.substr(tab + 1)),
          nas::detail::text_number(std::string(line.substr(0, tab)), "program.finals"));
    });
  }

  // Writes the checkpoint: the program's state, plus the strategy's through `strategy`.
  template <class F>
  void save(F&& strategy) {
    nas::Checkpoint c;
    c.put_text("program.settings", settings_json(s_));
    if (state_.found) c.put_text("program.found", nas::to_string(*state_.found));
    c.put_text("program.search_seconds", nas::detail::number_text(state_.search_seconds));
    std::string alphas;
    for (const auto& row : state_.alphas) {
      for (std::size_t i = 0; i < row.size(); ++i) {
        if (i > 0) alphas += ' ';
        alphas += nas::detail::number_text(row[i]);
      }
      alphas += '\n';
    }
    c.put_text("program.alphas", alphas);
    std::string finals;
    for (const auto& [g, acc] : state_.finals) {
      finals += nas::detail::number_text(acc);
      finals += '\t';
      finals += g;
      finals += '\n';
    }
    c.put_text("program.finals", finals);
    strategy(c);
    c.save(dir_ / checkpoint_name);
  }

  // The test hook: dies like `kill -9` after `die_after` steps or trials.
  void tick() {
    if (s_.die_after > 0 && ++ticks_ == s_.die_after) {
      std::fflush(stdout);
      std::raise(SIGKILL);
    }
  }

  double elapsed() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
  }

  // ---- the search

  void search() {
    torch::manual_seed(s_.seed);
    if (differentiable_strategy(s_.strategy))
      differentiable();
    else if (one_shot(s_.strategy))
      one_shot_search();
    else
      trial_search();
  }

  template <class Net>
  void record_alphas(Net& net) {
    std::vector<double> row;
    for (std::size_t kind = 0; kind < S::cell_count; ++kind) {
      const auto a = net->alpha_at(kind);
      const auto w = torch::softmax(a.detach().cpu().to(torch::kDouble), -1).flatten();
      const auto p = w.template data_ptr<double>();
      row.insert(row.end(), p, p + w.numel());
    }
    state_.alphas.push_back(std::move(row));
  }

  template <class Strategy, class Net>
  void run_bilevel(Strategy& strategy, Net& net) {
    if (checkpoint_) strategy.load(*checkpoint_, "search");
    const double before = state_.search_seconds;
    const auto t0 = std::chrono::steady_clock::now();
    const auto done_at_start = strategy.epochs_done();
    nas::Callbacks<S> callbacks;
    callbacks.on_step = [&](std::int64_t, const nas::StepReport&) { tick(); };
    callbacks.on_epoch = [&](const nas::EpochReport<S>& r) {
      record_alphas(net);
      state_.search_seconds =
          before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      const double per =
          (state_.search_seconds - before) / static_cast<double>(r.epoch + 1 - done_at_start);
      const double eta = per * static_cast<double>(r.epochs - r.epoch - 1);
      save([&](nas::Checkpoint& c) { strategy.save(c, "search"); });
      log_.event(format("{\"event\": \"epoch\", \"eta_seconds\": %.1f, \"report\": %s}", eta,
                        r.json().c_str()),
                 r.line() + format("\n  eta %s (checkpoint saved)", duration(eta).c_str()));
    };
    const auto result = strategy.search(train_, valid_, callbacks);
    epochs_ = result.history;
    state_.found = result.genotype;
    if (result.stop == nas::StopReason::identity_ops)
      log_.line("stopped early: a derived cell reached the identity-op limit");
  }

  void differentiable() {
    const bool skip = s_.on_nan == "skip";
    if (s_.strategy == "pc-darts") {
      // PC-DARTS: partial channels (K = 4) and edge normalization; architecture steps after a
      // weight-only warm-up of 3/10 of the epochs (15 of PC-DARTS's 50)
      nas::Supernet<S, nas::relax::PartialChannel> net(search_stack_);
      net->to(device_);
      auto options = nas::pc_darts_options();
      options.epochs = s_.epochs;
      options.batch_size = s_.batch;
      options.learning_rate = s_.lr;
      options.arch_warmup_epochs = s_.epochs * 3 / 10;
      options.skip_nonfinite = skip;
      nas::PcDarts<S> pc(net, options);
      run_bilevel(pc, net);
    } else if (s_.strategy == "darts") {
      nas::Supernet<S, nas::relax::Softmax> net(search_stack_);
      net->to(device_);
      nas::Darts<S> darts(net, {.order = s_.order,
                                .epochs = s_.epochs,
                                .batch_size = s_.batch,
                                .learning_rate = s_.lr,
                                .skip_nonfinite = skip});
      run_bilevel(darts, net);
    } else {
      nas::Supernet<S, nas::relax::Gumbel> net(search_stack_);
      net->to(device_);
      nas::Gdas<S> gdas(net, {.epochs = s_.epochs,
                              .batch_size = s_.batch,
                              .learning_rate = s_.lr,
                              .skip_nonfinite = skip});
      run_bilevel(gdas, net);
    }
  }

  template <class Strategy>
  void run_one_shot(Strategy& strategy, std::size_t planned_trials) {
    if (checkpoint_) strategy.load(*checkpoint_, "search");
    const double before = state_.search_seconds;
    const auto t0 = std::chrono::steady_clock::now();
    const auto spent = [&] {
      return before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    std::size_t since_save = 0;
    nas::OneShotCallbacks<S> callbacks;
    callbacks.on_epoch = [&](const nas::OneShotEpoch<S>& r) {
      state_.search_seconds = spent();
      const double eta = r.seconds * static_cast<double>(r.epochs - r.epoch - 1);
      save([&](nas::Checkpoint& c) { strategy.save(c, "search"); });
      since_save = 0;
      log_.event(format("{\"event\": \"epoch\", \"eta_seconds\": %.1f, \"report\": %s}", eta,
                        r.json().c_str()),
                 r.line() + format("\n  eta %s for the weights (checkpoint saved)",
                                   duration(eta).c_str()));
    };
    callbacks.on_trial = [&](const nas::Trial<S>& t, const nas::Trial<S>& best) {
      tick();
      const bool spos_phase = s_.strategy == "spos";
      if (spos_phase && ++since_save >= s_.checkpoint_every) {
        state_.search_seconds = spent();
        save([&](nas::Checkpoint& c) { strategy.save(c, "search"); });
        since_save = 0;
      }
      trial_line(t, best, planned_trials);
    };
    const auto result = strategy.search(train_, valid_, callbacks);
    one_shot_epochs_ = result.epochs;
    history_ = result.history;
    state_.found = result.genotype;
    state_.search_seconds = spent();
  }

  void one_shot_search() {
    nas::Supernet<S, nas::relax::SinglePath> net(search_stack_);
    net->to(device_);
    const nas::WeightTraining weights{
        .batch_size = s_.batch, .learning_rate = s_.lr, .skip_nonfinite = s_.on_nan == "skip"};
    if (s_.strategy == "enas") {
      nas::Controller<S> controller;
      controller->to(device_);
      nas::Enas<S> enas(net, controller,
                        {.epochs = s_.epochs,
                         .weights = weights,
                         .controller_steps = s_.controller_steps,
                         .controller = {.children = s_.children, .seed = s_.seed},
                         .reward_samples = s_.batch,
                         .derive_samples = 10});
      run_one_shot(enas, static_cast<std::size_t>(s_.epochs) * s_.controller_steps * s_.children);
    } else {
      nas::Spos<S> spos(net, {.epochs = s_.epochs,
                              .weights = weights,
                              .evolution = {.population = 20, .sample = 5, .seed = s_.seed},
                              .trials = s_.trials,
                              .seed = s_.seed});
      run_one_shot(spos, s_.trials);
    }
  }

  void trial_line(const nas::Trial<S>& t, const nas::Trial<S>& best, std::size_t planned) {
    const double rate = elapsed() / static_cast<double>(t.index + 1 - trials_at_start_);
    const double eta = rate * static_cast<double>(planned - t.index - 1);
    const auto g = nas::to_string(t.genotype);
    log_.event(format("{\"event\": \"trial\", \"eta_seconds\": %.1f, \"best_score\": %s, "
                      "\"trial\": %s}",
                      eta, nas::detail::json_number(best.score).c_str(),
                      nas::History<S>::to_json_line(t).c_str()),
               format("trial %zu/%zu acc %.4f score %.4f %s| best %.4f (trial %zu) | eta %s\n  %s",
                      t.index + 1, planned, t.metrics.accuracy, t.score, t.cached ? "cached " : "",
                      best.score, best.index + 1, duration(eta).c_str(), g.c_str()));
  }

  template <class Strategy, class Evaluator>
  void run_trial_strategy(Strategy& strategy, Evaluator& evaluator) {
    nas::History<S> history;
    if (checkpoint_) {
      strategy.load(*checkpoint_, "search");
      history = nas::History<S>::parse_jsonl(checkpoint_->get_text("search.history"));
    }
    trials_at_start_ = history.size();
    const double before = state_.search_seconds;
    const auto t0 = std::chrono::steady_clock::now();
    const auto spent = [&] {
      return before + std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    };
    if (history.size() < s_.trials) {
      nas::History<S> mirror = history;
      nas::TrialCallbacks<S> callbacks;
      callbacks.on_trial = [&](const nas::Trial<S>& t, const nas::Trial<S>& best) {
        tick();
        mirror.push(t);
        if (mirror.size() % s_.checkpoint_every == 0 || mirror.size() == s_.trials) {
          state_.search_seconds = spent();
          save([&](nas::Checkpoint& c) {
            strategy.save(c, "search");
            c.put_text("search.history", mirror.jsonl());
          });
        }
        trial_line(t, best, s_.trials);
      };
      const bool resumed = !history.trials.empty();
      const std::size_t remaining = s_.trials - history.size();  // before history moves
      auto r = nas::run_trials(strategy, evaluator, {.trials = remaining, .reuse_history = resumed},
                               nas::objectives::Accuracy{}, callbacks, std::move(history));
      history = std::move(r.history);
    }
    state_.found = history.best()->genotype;
    history_ = std::move(history);
    state_.search_seconds = spent();
  }

  void trial_search() {
    nas::eval::FromScratch<S> evaluator(train_, valid_,
                                        {.stack = search_stack_,
                                         .epochs = s_.child_epochs,
                                         .batch_size = s_.batch,
                                         .learning_rate = s_.lr,
                                         .seed = s_.seed,
                                         .device = device_});
    if (s_.strategy == "reinforce") {
      nas::Controller<S> controller;
      nas::Reinforce<S> rl(controller, {.children = s_.children, .seed = s_.seed});
      run_trial_strategy(rl, evaluator);
    } else if (s_.strategy == "random") {
      nas::RandomSearch<S> random({.seed = s_.seed});
      run_trial_strategy(random, evaluator);
    } else {
      nas::Evolution<S> evolution({.population = 10, .sample = 3, .seed = s_.seed});
      run_trial_strategy(evolution, evaluator);
    }
  }

  // ---- the run folder

  void write_search_outputs() {
    const auto& g = *state_.found;
    write_file(dir_ / "genotype.txt", nas::to_string(g) + "\n");
    write_file(dir_ / "genotype.json", nas::to_json(g) + "\n");
    if (!history_.trials.empty()) history_.save(dir_ / "history.jsonl");
    if (!epochs_.empty()) write_file(dir_ / "history.jsonl", nas::epoch_lines(epochs_));
    if (!one_shot_epochs_.empty())
      write_file(dir_ / "epochs.jsonl", nas::epoch_lines(one_shot_epochs_));
    bool rendered = false;
    for (const auto& [kind, dot] : nas::cell_dots(g)) {
      const auto file = dir_ / ("cell_" + kind + ".dot");
      write_file(file, dot);
      rendered = nas::render_dot(file, dir_ / ("cell_" + kind + ".svg")) || rendered;
    }
    if (!rendered) log_.line("Graphviz's dot is not installed: the cells are drawn as DOT only");
    write_plots();
    // the search is over: checkpoint that, so a resume goes straight to the final training
    save([](nas::Checkpoint&) {});
    log_.event(
        format("{\"event\": \"search_done\", \"seconds\": %.1f, \"genotype\": %s}",
               state_.search_seconds, nas::json::quote(nas::to_string(g)).c_str()),
        format("search done in %s: %s\n  run folder %s", duration(state_.search_seconds).c_str(),
               nas::to_string(g).c_str(), dir_.c_str()));
  }

  void write_plots() {
    namespace viz = nas::viz;
    if (!epochs_.empty()) {
      viz::Series tl{"train (weights)", {}}, vl{"valid (architecture)", {}};
      viz::Series ta{"train (weights)", {}}, va{"valid (architecture)", {}};
      viz::Series pf{"parameter-free ops", {}};
      for (const auto& r : epochs_) {
        tl.values.push_back(r.train_loss);
        vl.values.push_back(r.valid_loss);
        ta.values.push_back(r.train_accuracy);
        va.values.push_back(r.valid_accuracy);
        pf.values.push_back(static_cast<double>(r.parameter_free_ops));
      }
      write_file(dir_ / "curves.svg", viz::to_svg({{"loss", {tl, vl}},
                                                   {"accuracy", {ta, va}},
                                                   {"kept parameter-free ops", {pf}}},
                                                  {.title = "search curves"}));
    } else if (!one_shot_epochs_.empty() || !history_.trials.empty()) {
      std::vector<viz::Panel> panels;
      if (!one_shot_epochs_.empty()) {
        viz::Series loss{"train loss", {}}, acc{"train accuracy", {}};
        for (const auto& r : one_shot_epochs_) {
          loss.values.push_back(r.train_loss);
          acc.values.push_back(r.train_accuracy);
        }
        panels.push_back({"shared weights: loss per epoch", {loss}});
        panels.push_back({"shared weights: accuracy per epoch", {acc}});
      }
      if (!history_.trials.empty()) {
        viz::Series score{"accuracy", {}}, best{"best so far", {}};
        double b = -1.0;
        for (const auto& t : history_.trials) {
          score.values.push_back(t.metrics.accuracy);
          b = std::max(b, t.metrics.accuracy);
          best.values.push_back(b);
        }
        panels.push_back({"validation accuracy per trial", {score, best}});
      }
      write_file(dir_ / "curves.svg",
                 viz::to_svg(panels, {.title = "search curves", .x_label = "epoch / trial"}));
    }
    if (state_.alphas.empty()) return;
    // softmax(alpha) of every edge over the epochs, a line per op, one figure per cell kind
    std::size_t offset = 0;
    [&]<std::size_t... I>(std::index_sequence<I...>) {
      (([&] {
         using C = typename S::template cell_at<I>;
         std::vector<viz::Panel> panels;
         for (std::size_t e = 0; e < C::edge_count; ++e) {
           viz::Panel panel{
               std::to_string(C::edges[e].from) + " -> " + std::to_string(C::edges[e].to), {}};
           for (std::size_t o = 0; o < C::op_count; ++o) {
             viz::Series line{std::string(C::ops::names[o]), {}};
             for (const auto& row : state_.alphas)
               line.values.push_back(row.at(offset + e * C::op_count + o));
             panel.series.push_back(std::move(line));
           }
           panels.push_back(std::move(panel));
         }
         offset += C::edge_count * C::op_count;
         write_file(dir_ / ("alpha_" + std::string(C::name) + ".svg"),
                    viz::to_svg(panels, {.title = "softmax(alpha) of the '" + std::string(C::name) +
                                                  "' edges per epoch",
                                         .columns = 4,
                                         .unit_range = true}));
       }()),
       ...);
    }
    (std::make_index_sequence<S::cell_count>{});
  }

  // ---- final training: the found architecture, then the random baseline

  void final_training() {
    std::vector<nas::Genotype<S>> genotypes{*state_.found};
    nas::Rng rng(s_.seed + 1000003);
    for (std::size_t i = 0; i < s_.baseline; ++i) genotypes.push_back(nas::sample<S>(rng));
    const auto final_train = data_.train.slice(0, s_.final_train);
    const auto test = data_.test.slice(0, s_.test);
    nas::eval::FromScratch<S> trainer(final_train, test,
                                      {.stack = final_stack_,
                                       .epochs = s_.final_epochs,
                                       .batch_size = s_.batch,
                                       .learning_rate = s_.final_lr,
                                       .seed = s_.seed,
                                       .device = device_});
    std::vector<nas::Metrics> metrics;
    for (std::size_t i = 0; i < genotypes.size(); ++i) {
      const auto text = nas::to_string(genotypes[i]);
      const char* role = i == 0 ? "found" : "random";
      if (i < state_.finals.size()) {
        TORCH_CHECK(state_.finals[i].first == text,
                    "the checkpoint's final training does not match this run's architectures");
        metrics.push_back({.accuracy = state_.finals[i].second});
        metrics.back().parameters =
            nas::cost(genotypes[i], final_stack_, data_.train.inputs.size(2),
                      data_.train.inputs.size(3))
                .parameters;
        continue;
      }
      log_.line(format("final training %zu/%zu (%s, %lld epochs on %lld images): %s", i + 1,
                       genotypes.size(), role, static_cast<long long>(s_.final_epochs),
                       static_cast<long long>(s_.final_train), text.c_str()));
      const auto t0 = std::chrono::steady_clock::now();
      const nas::Metrics m = trainer(genotypes[i]);
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      metrics.push_back(m);
      state_.finals.emplace_back(text, m.accuracy);
      save([](nas::Checkpoint&) {});
      log_.event(
          format("{\"event\": \"final\", \"role\": \"%s\", \"genotype\": %s, "
                 "\"test_accuracy\": %s, \"parameters\": %lld, \"seconds\": %.1f}",
                 role, nas::json::quote(text).c_str(), nas::detail::json_number(m.accuracy).c_str(),
                 static_cast<long long>(m.parameters.value_or(-1)), secs),
          format("  test accuracy %.4f, %lld parameters, %s", m.accuracy,
                 static_cast<long long>(m.parameters.value_or(-1)), duration(secs).c_str()));
    }
    summarize(genotypes, metrics);
  }

  void summarize(const std::vector<nas::Genotype<S>>& genotypes,
                 const std::vector<nas::Metrics>& metrics) {
    if (metrics.empty() || genotypes.size() != metrics.size()) return;
    const double found = metrics.front().accuracy;
    double mean = 0.0, sd = 0.0, lo = 1.0, hi = 0.0;
    const std::size_t n = metrics.size() - 1;
    for (std::size_t i = 1; i < metrics.size(); ++i) {
      mean += metrics[i].accuracy / static_cast<double>(n);
      lo = std::min(lo, metrics[i].accuracy);
      hi = std::max(hi, metrics[i].accuracy);
    }
    for (std::size_t i = 1; i < metrics.size(); ++i)
      sd += std::pow(metrics[i].accuracy - mean, 2.0);
    sd = n > 1 ? std::sqrt(sd / static_cast<double>(n - 1)) : 0.0;
    std::vector<double> sorted;
    for (std::size_t i = 1; i < metrics.size(); ++i) sorted.push_back(metrics[i].accuracy);
    std::sort(sorted.begin(), sorted.end());
    const double median =
        n == 0 ? std::nan("")
               : (n % 2 == 1 ? sorted[n / 2] : (sorted[n / 2 - 1] + sorted[n / 2]) / 2.0);
    std::string verdict;
    if (n == 0)
      verdict = "no baseline was trained (--baseline 0)";
    else if (found > hi)
      verdict = "the found architecture beat every random architecture";
    else if (found > median && found > mean)
      verdict =
          "the found architecture beat the random mean and median, not every random "
          "architecture";
    else if (found > mean)
      verdict =
          "the found architecture beat the random mean (pulled down by weak samples) "
          "but not the median";
    else
      verdict = "the found architecture did not beat the random mean";
    nas::detail::JsonObject baseline;
    std::string list = "[";
    for (std::size_t i = 1; i < metrics.size(); ++i) {
      if (i > 1) list += ", ";
      list += nas::detail::JsonObject{}
                  .text("genotype", nas::to_string(genotypes[i]))
                  .number("test_accuracy", metrics[i].accuracy)
                  .integer("parameters", metrics[i].parameters.value_or(-1))
                  .str();
    }
    list += "]";
    const double total = state_.search_seconds + elapsed();
    std::string summary = nas::detail::JsonObject{}
                              .raw("settings", settings_json(s_))
                              .text("genotype", nas::to_string(genotypes.front()))
                              .number("search_seconds", state_.search_seconds)
                              .number("test_accuracy", found)
                              .integer("parameters", metrics.front().parameters.value_or(-1))
                              .integer("baseline_count", static_cast<std::int64_t>(n))
                              .number("baseline_mean", n > 0 ? mean : std::nan(""))
                              .number("baseline_std", n > 1 ? sd : std::nan(""))
                              .number("baseline_median", median)
                              .number("baseline_min", n > 0 ? lo : std::nan(""))
                              .number("baseline_max", n > 0 ? hi : std::nan(""))
                              .raw("baseline", list)
                              .text("verdict", verdict)
                              .str();
    write_file(dir_ / "summary.json", summary + "\n");
    (void)total;
    std::string text = format("found architecture: %s\n  test accuracy %.4f (%lld parameters)",
                              nas::to_string(genotypes.front()).c_str(), found,
                              static_cast<long long>(metrics.front().parameters.value_or(-1)));
    if (n > 0)
      text += format(
          "\nrandom baseline (%zu architectures, same training): mean %.4f, std %.4f, "
          "median %.4f, min %.4f, max %.4f",
          n, mean, sd, median, lo, hi);
    text += '\n';
    text += verdict;
    text += "\nrun folder: ";
    text += dir_.string();
    log_.result(summary, text);
  }

  Settings s_;
  const Dataset& data_;
  std::filesystem::path dir_;
  Log log_;
  std::int64_t classes_ = 10;
  std::int64_t input_channels_ = 1;
  nas::Stack search_stack_;
  nas::Stack final_stack_;
  nas::Data train_;
  nas::Data valid_;
  torch::Device device_{torch::kCPU};
  std::optional<nas::Checkpoint> checkpoint_;
  RunState<S> state_;
  std::vector<nas::EpochReport<S>> epochs_;
  std::vector<nas::OneShotEpoch<S>> one_shot_epochs_;
  nas::History<S> history_;
  std::size_t trials_at_start_ = 0;
  std::int64_t ticks_ = 0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
};

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "nas_search: an architecture search on real data, checkpointed, resumable, and checked "
      "against random architectures"};
  app.get_formatter()->column_width(34);
  Settings s;
  std::string resume;
  app.add_option("--preset", s.preset,
                 "demo: a complete search and a short final training in about 10 minutes on 2 "
                 "CPU cores; full: the published settings (for a GPU). Every option below "
                 "without a default shown takes the preset's value")
      ->capture_default_str()
      ->check(CLI::IsMember({"demo", "full"}));
  app.add_option("--strategy", s.strategy,
                 "darts, pc-darts, gdas, enas, reinforce, random, evolution, spos")
      ->capture_default_str()
      ->check(CLI::IsMember(
          {"darts", "pc-darts", "gdas", "enas", "reinforce", "random", "evolution", "spos"}));
  app.add_option("--space", s.space,
                 "nb201 (NAS-Bench-201 cell), darts (DARTS normal + reduction cells), mobile "
                 "(ProxylessNAS-style layer-wise chain)")
      ->capture_default_str()
      ->check(CLI::IsMember({"nb201", "darts", "mobile"}));
  app.add_option("--data", s.data,
                 "fashion-mnist (Debian package dataset-fashion-mnist), cifar10 (binary batches "
                 "in --data-dir), idx (MNIST-format .gz IDX files in --data-dir)")
      ->capture_default_str()
      ->check(CLI::IsMember({"fashion-mnist", "cifar10", "idx"}));
  app.add_option("--data-dir", s.data_dir,
                 "folder of the data files (default for fashion-mnist: "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--out", s.out, "run folder (default: runs/<strategy>-<space>-seed<seed>)");
  app.add_option("--resume", resume,
                 "continue the run in this folder from its checkpoint (its settings are used)");
  app.add_option("--seed", s.seed, "seed of initialization, sampling and data order")
      ->capture_default_str();
  app.add_option("--device", s.device, "cpu or cuda (full preset: cuda when available)")
      ->check(CLI::IsMember({"cpu", "cuda"}));
  app.add_option("--threads", s.threads, "intra-op threads (0: LibTorch's default)")
      ->capture_default_str()
      ->check(CLI::Range(0, 1024));
  app.add_option(
         "--epochs", s.epochs,
         "search epochs (darts, gdas; enas, spos: shared-weight epochs) [demo: darts, gdas 30, "
         "others 6; full: gdas 240, enas 150, others 50]")
      ->check(CLI::Range(1, 100000));
  app.add_option("--train", s.train,
                 "training images the search uses [demo 5000, reinforce/random/evolution 2000; "
                 "full 25000]")
      ->check(CLI::Range(2, 10000000));
  app.add_option("--valid", s.valid,
                 "the next training images, held out for the architecture [demo 5000, "
                 "reinforce/random/evolution 1000; full 25000]")
      ->check(CLI::Range(2, 10000000));
  app.add_option("--batch", s.batch, "batch size [64; full enas 160]")->check(CLI::Range(2, 65536));
  app.add_option("--channels", s.channels, "search network channels [demo 8, mobile 4; full 16]")
      ->check(CLI::Range(2, 4096));
  app.add_option(
         "--layers", s.layers,
         "search network cells (nb201: per stage; mobile: unused) [demo 1, darts 5; full nb201 "
         "5, darts 8]")
      ->check(CLI::Range(1, 1000));
  app.add_option("--lr", s.lr,
                 "search SGD learning rate, cosine-annealed [demo 0.05; full 0.025, enas 0.05]")
      ->check(CLI::Range(1e-9, 1e9));
  app.add_option("--order", s.order, "darts: 1 (first order) or 2 (unrolled)")
      ->capture_default_str()
      ->check(CLI::IsMember({1, 2}));
  app.add_option("--trials", s.trials,
                 "reinforce, random, evolution: children trained; spos: evolution trials [demo 20, "
                 "spos 100; full 100, spos 1000]")
      ->check(CLI::Range(1, 10000000));
  app.add_option("--children", s.children,
                 "reinforce, enas: children per controller update [demo 5; full 10]")
      ->check(CLI::Range(1, 100000));
  app.add_option("--controller-steps", s.controller_steps,
                 "enas: controller updates per epoch [demo 5; full 30]")
      ->check(CLI::Range(1, 100000));
  app.add_option("--child-epochs", s.child_epochs,
                 "reinforce, random, evolution: epochs each child trains [demo 1; full 10]")
      ->check(CLI::Range(1, 100000));
  app.add_option("--final-epochs", s.final_epochs,
                 "final training epochs of the found and the baseline architectures [demo 4; full "
                 "darts 600, others 200]")
      ->check(CLI::Range(1, 100000));
  app.add_option("--final-train", s.final_train, "final training images [demo 15000; full 50000]")
      ->check(CLI::Range(2, 10000000));
  app.add_option("--final-channels", s.final_channels,
                 "final network channels [demo 16, mobile 8; full 16, darts 36]")
      ->check(CLI::Range(2, 4096));
  app.add_option("--final-layers", s.final_layers,
                 "final network cells (nb201: per stage) [demo 1, darts 8; full nb201 5, darts 20]")
      ->check(CLI::Range(1, 1000));
  app.add_option("--final-lr", s.final_lr,
                 "final training SGD learning rate [demo 0.05; full 0.1, darts 0.025]")
      ->check(CLI::Range(1e-9, 1e9));
  app.add_option("--test", s.test, "test images scored [10000]")->check(CLI::Range(1, 10000000));
  app.add_option(
         "--baseline", s.baseline,
         "random architectures trained like the found one, for comparison [demo 4; full 10]")
      ->check(CLI::Range(0, 100000));
  app.add_option("--checkpoint-every", s.checkpoint_every,
                 "trials between checkpoints (epoch-based searches: every epoch) [demo 5; full 10]")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--on-nan", s.on_nan,
                 "a non-finite loss: stop (the last checkpoint stays) or skip the batch")
      ->capture_default_str()
      ->check(CLI::IsMember({"stop", "skip"}));
  app.add_flag("--overwrite", s.overwrite,
               "start a new run in --out even when it holds one (its files are replaced)");
  app.add_flag("--quiet", s.quiet, "print only the result");
  app.add_flag("--json", s.json, "print JSON lines (one per epoch, trial and result)");
  app.add_option("--die-after", s.die_after,
                 "testing: kill the process (SIGKILL) after this many steps or trials")
      ->group("Testing");
  CLI11_PARSE(app, argc, argv);
  try {
    const auto given = [&](const char* name) { return app.count(name) > 0; };
    std::filesystem::path dir;
    if (!resume.empty()) {
      dir = resume;
      struct stat st {};
      TORCH_CHECK(::stat((dir / checkpoint_name).c_str(), &st) == 0, "'", dir.string(),
                  "' holds no checkpoint (", checkpoint_name,
                  "); give the run folder of an earlier nas_search run");
      const auto saved = nas::Checkpoint::load(dir / checkpoint_name);
      Settings r = parse_settings(saved.get_text("program.settings"));
      for (const auto& [name, mine, theirs] :
           {std::tuple{"--strategy", s.strategy, r.strategy},
            std::tuple{"--space", s.space, r.space}, std::tuple{"--preset", s.preset, r.preset},
            std::tuple{"--data", s.data, r.data}})
        TORCH_CHECK(!given(name) || mine == theirs, "the run in '", dir.string(), "' is a ",
                    r.strategy, " search on the ", r.space, " space (", name, " ", theirs,
                    "); resume it without ", name, " ", mine, ", or start a new run with --out");
      r.quiet = s.quiet;
      r.json = s.json;
      if (given("--threads")) r.threads = s.threads;  // bitwise results need the same count
      r.die_after = s.die_after;
      if (given("--lr")) r.lr = s.lr;  // the fix a non-finite loss asks for
      if (given("--on-nan")) r.on_nan = s.on_nan;
      r.out = dir.string();
      s = r;
    } else {
      apply_preset(s, given);
      dir = s.out.empty() ? std::filesystem::path("runs") /
                                (s.strategy + "-" + s.space + "-seed" + std::to_string(s.seed))
                          : std::filesystem::path(s.out);
      struct stat st {};
      TORCH_CHECK(s.overwrite || ::stat((dir / checkpoint_name).c_str(), &st) != 0, "'",
                  dir.string(), "' already holds a run; continue it with --resume ", dir.string(),
                  ", or choose another --out");
    }
    if (s.threads > 0) torch::set_num_threads(s.threads);
    TORCH_CHECK(s.device != "cuda" || torch::cuda::is_available(),
                "--device cuda: no CUDA device is available; use --device cpu");
    if (s.device == "cuda") {
      // same seed, same GPU, same result: deterministic cuDNN algorithms, no autotuning
      at::globalContext().setDeterministicCuDNN(true);
      at::globalContext().setBenchmarkCuDNN(false);
    }
    prepare_folder(dir);
    const Dataset data = load_data(s);
    check_sizes(s, data);
    if (s.space == "nb201") return Run<nas::spaces::nb201>(s, data, dir, !resume.empty()).run();
    if (s.space == "darts") return Run<nas::spaces::darts>(s, data, dir, !resume.empty()).run();
    return Run<nas::spaces::mobile>(s, data, dir, !resume.empty()).run();
  } catch (const nas::NonFiniteLoss& e) {
    std::fprintf(stderr,
                 "nas_search: error: %s; the last checkpoint (if any) is intact: continue "
                 "with --resume and a lower --lr, or pass --on-nan skip\n",
                 first_line(e.what_without_backtrace()).c_str());
    return 3;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "nas_search: error: %s\n", first_line(e.what_without_backtrace()).c_str());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nas_search: error: %s\n", first_line(e.what()).c_str());
    return 1;
  }
}
