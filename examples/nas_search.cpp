// nas_search: a whole architecture search on real data, as a long-running job.
//
// Any strategy (darts, pc-darts, drnas, gdas, enas, reinforce, random, evolution, spos) over any
// built-in space (darts, nb201, mobile) on Fashion-MNIST (the Debian package), CIFAR-10 (binary
// batches) or a folder of IDX files. Progress with ETA per epoch or trial (or JSON lines,
// or quiet); the whole search state checkpointed atomically every epoch / N trials, and
// `--resume DIR` continues a killed run to the same result; a run folder with the
// genotype (text and JSON), the history, the cells drawn, the architecture weights and
// the search curves plotted, and summary.json. After the search the derived architecture
// is trained from scratch at the final size and tested; `--baseline N` trains N random
// architectures of the space under the same budget, so the run says whether the search
// beat chance.
//
// The program is option parsing: the run session is the library's (nas::run::Settings and its
// presets, nas::run::open_run, nas::run::load_data, nas::run::Session; docs/nas_search.md).
//
//   nas_search --preset demo                       # the README's first command
//   nas_search --strategy darts --space darts --preset full --data cifar10 --data-dir D
//   nas_search --resume runs/demo                  # after a kill
//
// And the everyday verbs (docs/tools.md; each with --help):
//   nas_search count --space darts --genotype darts_v2 --channels 36 --layers 20
//   nas_search convert --space nb201 --genotype '|nor_conv_3x3~0|+|...|' --to json
//   nas_search draw --space darts --genotype-file runs/x/genotype.txt --out cells/
//   nas_search train --space nb201 --genotype-file G --epochs 4 --save net.pt
//   nas_search evaluate --network net.pt
//
// Exit codes: 0 done; 1 an error (one line naming it); 3 a non-finite loss (the last checkpoint
// is intact); 75 stopped by SIGTERM or SIGINT after saving its checkpoint (a scheduler's
// preemption: resume it).
#include <CLI/CLI.hpp>

#include <cstdio>
#include <exception>
#include <optional>
#include <string>
#include <vector>

#include <nas/nas.hpp>
#include <nas/run/program.hpp>
#include <nas/run/tools.hpp>

namespace {

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

std::vector<std::string> names(const auto& list) { return {std::begin(list), std::end(list)}; }

// The options every verb that names a genotype takes.
struct GenotypeArgs {
  std::string space = "nb201";
  std::string text;
  std::string file;
  void add(CLI::App& app) {
    app.add_option("--space", space, "nb201, darts or mobile")
        ->capture_default_str()
        ->check(CLI::IsMember(names(nas::run::space_names)));
    app.add_option("--genotype", text,
                   "the genotype: DARTS text, NAS-Bench-201 text, JSON, or a published one by "
                   "name (darts space: darts_v1, darts_v2, pc_darts)");
    app.add_option("--genotype-file", file, "a file holding the genotype (e.g. genotype.txt)");
  }
  [[nodiscard]] std::string genotype() const { return nas::run::genotype_argument(text, file); }
};

void add_size(CLI::App& app, nas::run::NetworkSize& size, bool image_size) {
  app.add_option("--layers", size.layers,
                 "cells (nb201: per stage) [darts 8, nb201 5; mobile: unused]")
      ->check(CLI::Range(1, 1000));
  app.add_option("--channels", size.channels, "channels of the first cells [16]")
      ->check(CLI::Range(2, 4096));
  if (!image_size) return;
  app.add_option("--classes", size.classes, "classifier outputs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  app.add_option("--input-channels", size.input_channels, "image channels")
      ->capture_default_str()
      ->check(CLI::Range(1, 4096));
  app.add_option("--height", size.height, "image height [32; mobile 224]")
      ->check(CLI::Range(1, 100000));
  app.add_option("--width", size.width, "image width [the height]")->check(CLI::Range(1, 100000));
}

void add_data(CLI::App& app, nas::run::Settings& s) {
  app.add_option("--data", s.data, "fashion-mnist, cifar10 or idx")
      ->capture_default_str()
      ->check(CLI::IsMember(names(nas::run::data_names)));
  app.add_option("--data-dir", s.data_dir, "folder of the data files");
}

// Runs a verb: errors as one message (a malformed genotype's with its position and excerpt).
int verb(const char* name, auto&& body) {
  try {
    body();
    return 0;
  } catch (const nas::ParseError& e) {
    std::fprintf(stderr, "nas_search %s: error: %s\n", name, e.what());
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "nas_search %s: error: %s\n", name,
                 first_line(e.what_without_backtrace()).c_str());
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nas_search %s: error: %s\n", name, first_line(e.what()).c_str());
  }
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "nas_search: an architecture search on real data, checkpointed, resumable, and checked "
      "against random architectures"};
  app.get_formatter()->column_width(34);
  nas::run::Settings s;
  std::string out, resume;
  bool overwrite = false, quiet = false, json = false;
  app.add_option("--preset", s.preset,
                 "demo: a complete search and a short final training in about 10 minutes on 2 "
                 "CPU cores; full: the published settings (for a GPU). Every option below "
                 "without a default shown takes the preset's value")
      ->capture_default_str()
      ->check(CLI::IsMember({"demo", "full"}));
  app.add_option("--strategy", s.strategy,
                 "darts, pc-darts, drnas, gdas, enas, reinforce, random, evolution, spos")
      ->capture_default_str()
      ->check(CLI::IsMember(names(nas::run::strategy_names)));
  app.add_option("--space", s.space,
                 "nb201 (NAS-Bench-201 cell), darts (DARTS normal + reduction cells), mobile "
                 "(ProxylessNAS-style layer-wise chain)")
      ->capture_default_str()
      ->check(CLI::IsMember(names(nas::run::space_names)));
  app.add_option("--data", s.data,
                 "fashion-mnist (Debian package dataset-fashion-mnist), cifar10 (binary batches "
                 "in --data-dir), idx (MNIST-format .gz IDX files in --data-dir)")
      ->capture_default_str()
      ->check(CLI::IsMember(names(nas::run::data_names)));
  app.add_option("--data-dir", s.data_dir,
                 "folder of the data files (default for fashion-mnist: "
                 "/usr/share/datasets/fashion-mnist)");
  app.add_option("--out", out, "run folder (default: runs/<strategy>-<space>-seed<seed>)");
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
  app.add_option("--arch-lr", s.arch_lr,
                 "darts, gdas, pc-darts: architecture Adam learning rate before scaling [3e-4; "
                 "pc-darts 6e-4]")
      ->check(CLI::Range(0.0, 1e3));
  app.add_option("--arch-steps-ref", s.arch_steps_ref,
                 "architecture steps --arch-lr is meant for: scaled by that over this search's "
                 "architecture steps; 0: not scaled [demo: the published search's, gdas 93840, "
                 "darts 19550, pc-darts 3430; full 0]")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1} << 40));
  app.add_option("--warmup", s.warmup,
                 "weight-only epochs before architecture steps [demo 3/10 of the epochs; full 0, "
                 "pc-darts 3/10]")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{1000000}));
  app.add_option("--beta-decay", s.beta_decay,
                 "beta-DARTS regularizer weight reached at the last epoch, linear from 0 (0: off; "
                 "the paper's NAS-Bench-201 setting: 25 over 50 epochs) [0]")
      ->check(CLI::Range(0.0, 1e6));
  app.add_flag("--aux-skip", s.aux_skip,
               "DARTS-: an auxiliary skip connection on every edge, its weight decaying linearly "
               "from 1 to 0 over the search (darts, pc-darts, drnas, gdas)");
  app.add_option("--derive", s.derive,
                 "darts, pc-darts, drnas: the found cell is the argmax of alpha, or chosen by "
                 "perturbation (DARTS-PT: each op masked in turn, the one whose removal costs "
                 "the supernet most validation accuracy kept)")
      ->capture_default_str()
      ->check(CLI::IsMember({"argmax", "perturbation"}));
  app.add_option("--pt-tune", s.pt_tune,
                 "--derive perturbation: fine-tuning epochs between two decisions [demo 1; full "
                 "5, the reference's]")
      ->check(CLI::Range(std::int64_t{0}, std::int64_t{100000}));
  app.add_option("--warm-start", s.warm_start,
                 "evolution: a zero-cost warm start, the first population the 10 cells this proxy "
                 "scores best of 100 random ones (naswot, synflow, grad_norm, snip, jacob_cov, "
                 "params) [off]")
      ->check(CLI::IsMember({"naswot", "synflow", "grad_norm", "snip", "jacob_cov", "params"}));
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
         "random architectures trained like the found one, for comparison [demo 6; full 10]")
      ->check(CLI::Range(0, 100000));
  app.add_option("--checkpoint-every", s.checkpoint_every,
                 "trials between checkpoints (epoch-based searches: every epoch) [demo 5; full 10]")
      ->check(CLI::Range(1, 1000000));
  app.add_option("--on-nan", s.on_nan,
                 "a non-finite loss: stop (the last checkpoint stays) or skip the batch")
      ->capture_default_str()
      ->check(CLI::IsMember({"stop", "skip"}));
  app.add_flag("--overwrite", overwrite,
               "start a new run in --out even when it holds one (its files are replaced)");
  app.add_flag("--quiet", quiet, "print only the result");
  app.add_flag("--json", json, "print JSON lines (one per epoch, trial and result)");
  // tests only (tests/cli/nas_search.sh): SIGKILL after this many steps or trials; not in --help
  app.add_option("--die-after", s.die_after)->group("");
  // tests only: SIGTERM to itself at this step or trial (as a scheduler's preemption would)
  app.add_option("--signal-after", s.signal_after)->group("");

  // ---- the verbs (docs/tools.md)
  app.require_subcommand(0, 1);
  GenotypeArgs g;
  nas::run::NetworkSize size;
  std::string to = "json", prefix = "cell_", network;
  nas::run::TrainOptions train;
  nas::run::Settings data_settings;
  auto* count = app.add_subcommand(
      "count", "parameters and multiply-adds of a genotype at a size (as DARTS counts them)");
  g.add(*count);
  add_size(*count, size, true);
  count->add_flag("--json", json, "print one JSON object");
  auto* convert = app.add_subcommand(
      "convert", "write a genotype as DARTS text, NAS-Bench-201 text or JSON (read: any of them)");
  GenotypeArgs gc;
  gc.add(*convert);
  convert->add_option("--to", to, "darts, nb201 or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"darts", "nb201", "json"}));
  auto* draw = app.add_subcommand(
      "draw", "a genotype's cells as Graphviz DOT (and SVG when Graphviz is installed)");
  GenotypeArgs gd;
  gd.add(*draw);
  draw->add_option("--out", prefix, "file prefix: <out><cell>.dot, <out><cell>.svg")
      ->capture_default_str();
  auto* train_cmd = app.add_subcommand(
      "train", "train a genotype from scratch on real data, test it, and optionally save it");
  GenotypeArgs gt;
  gt.add(*train_cmd);
  add_size(*train_cmd, train.size, false);
  add_data(*train_cmd, data_settings);
  train_cmd->add_option("--epochs", train.epochs, "training epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  train_cmd->add_option("--train", train.train, "training images (the first ones)")
      ->capture_default_str()
      ->check(CLI::Range(1, 10000000));
  train_cmd->add_option("--test", train.test, "test images scored (the first ones) [all]")
      ->check(CLI::Range(1, 10000000));
  train_cmd->add_option("--batch", train.batch, "batch size")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  train_cmd->add_option("--lr", train.lr, "SGD learning rate, cosine-annealed")
      ->capture_default_str()
      ->check(CLI::Range(1e-9, 1e9));
  train_cmd->add_option("--seed", train.seed, "seed of initialization and data order")
      ->capture_default_str();
  train_cmd->add_option("--device", train.device, "cpu or cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}));
  train_cmd->add_option("--save", train.save,
                        "export the trained network here (torch.load opens it; docs/export.md)");
  train_cmd->add_flag("--json", json, "print one JSON object");
  auto* evaluate =
      app.add_subcommand("evaluate", "test a network that train --save exported on real data");
  std::int64_t test_images = 0;
  std::string eval_space;
  evaluate->add_option("--network", network, "the network file")->required();
  evaluate->add_option("--space", eval_space, "nb201, darts or mobile [found from the file]")
      ->check(CLI::IsMember(names(nas::run::space_names)));
  add_data(*evaluate, data_settings);
  evaluate->add_option("--test", test_images, "test images scored (the first ones) [all]")
      ->check(CLI::Range(1, 10000000));
  evaluate->add_option("--device", train.device, "cpu or cuda")
      ->capture_default_str()
      ->check(CLI::IsMember({"cpu", "cuda"}));
  evaluate->add_flag("--json", json, "print one JSON object");
  CLI11_PARSE(app, argc, argv);
  // an option of the search given before a verb would be ignored silently: refuse it
  if (const auto verbs = app.get_subcommands(); !verbs.empty())
    for (const CLI::Option* o : app.get_options())
      if (o->count() > 0 && !o->check_name("--help")) {
        const auto verb_name = verbs.front()->get_name();
        std::fprintf(stderr,
                     "nas_search %s: error: %s is an option of the search, not of '%s'; give "
                     "the verb's options after it (nas_search %s --help)\n",
                     verb_name.c_str(), o->get_name().c_str(), verb_name.c_str(),
                     verb_name.c_str());
        return 1;
      }

  const auto print_result = [&](const char* what, const nas::run::TestResult& r) {
    if (json)
      std::printf(
          "{\"genotype\": \"%s\", \"test_accuracy\": %.6f, \"test_loss\": %.6f, "
          "\"parameters\": %lld, \"test_images\": %lld, \"seconds\": %.3f}\n",
          r.genotype.c_str(), r.accuracy, r.loss, static_cast<long long>(r.parameters),
          static_cast<long long>(r.images), r.seconds);
    else
      std::printf("%s\ntest accuracy %.4f (loss %.4f) on %lld images; %lld parameters; %s %.1f s\n",
                  r.genotype.c_str(), r.accuracy, r.loss, static_cast<long long>(r.images),
                  static_cast<long long>(r.parameters), what, r.seconds);
  };
  if (*count)
    return verb("count", [&] {
      const auto c = nas::run::count(g.space, g.genotype(), size);
      if (json)
        std::printf(
            "{\"genotype\": \"%s\", \"parameters\": %lld, \"multiply_adds\": %lld, "
            "\"height\": %lld, \"width\": %lld}\n",
            c.genotype.c_str(), static_cast<long long>(c.cost.parameters),
            static_cast<long long>(c.cost.multiply_adds), static_cast<long long>(c.height),
            static_cast<long long>(c.width));
      else
        std::printf("%s\nparameters %lld (%.3f M), multiply-adds %lld (%.1f M) on %lldx%lld\n",
                    c.genotype.c_str(), static_cast<long long>(c.cost.parameters),
                    static_cast<double>(c.cost.parameters) / 1e6,
                    static_cast<long long>(c.cost.multiply_adds),
                    static_cast<double>(c.cost.multiply_adds) / 1e6,
                    static_cast<long long>(c.height), static_cast<long long>(c.width));
    });
  if (*convert)
    return verb("convert", [&] {
      std::printf("%s\n", nas::run::convert(gc.space, gc.genotype(), to).c_str());
    });
  if (*draw)
    return verb("draw", [&] {
      for (const auto& f : nas::run::draw(gd.space, gd.genotype(), prefix))
        std::printf("%s\n", f.string().c_str());
    });
  if (*train_cmd)
    return verb("train", [&] {
      const auto text = gt.genotype();
      const auto data = nas::run::load_data(data_settings);
      const auto r = nas::run::train_genotype(gt.space, text, data, train);
      print_result("training", r);
      if (!train.save.empty() && !json) std::printf("saved %s\n", train.save.c_str());
    });
  if (*evaluate)
    return verb("evaluate", [&] {
      const auto data = nas::run::load_data(data_settings);
      print_result("scoring", nas::run::evaluate_network(network, data, test_images, eval_space,
                                                         train.device));
    });
  // SIGTERM / SIGINT (a scheduler's preemption, Ctrl-C): finish the step, save, exit 75
  std::optional<nas::run::StopOnSignals> signals;
  try {
    signals.emplace();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "nas_search: error: %s\n", first_line(e.what()).c_str());
    return 1;
  }
  try {
    s.verbosity = json    ? nas::run::Verbosity::json
                  : quiet ? nas::run::Verbosity::quiet
                          : nas::run::Verbosity::human;
    const auto given = [&](const char* name) { return app.count(name) > 0; };
    const auto run = nas::run::open_run(s, out, resume, overwrite, given);
    const auto data = nas::run::load_data(run.settings);
    nas::run::run_session(run, data, signals->token());
    return 0;
  } catch (const nas::run::Preempted& e) {
    std::fprintf(stderr,
                 "nas_search: stopped by %s after the current step; the checkpoint is saved: "
                 "continue with nas_search --resume %s\n",
                 nas::run::StopOnSignals::name(nas::run::StopOnSignals::signal()).c_str(),
                 e.folder().c_str());
    return nas::run::exit_preempted;
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
