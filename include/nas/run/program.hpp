#pragma once
/// @file
/// The program side of a run: nas::run::load_data (the data set a nas::run::Settings names:
/// Fashion-MNIST, CIFAR-10 or a folder of IDX files) and nas::run::run_session (a
/// nas::run::Session on the built-in space the settings name). Not part of <nas/nas.hpp>: it
/// reads gzip files, so it includes <zlib.h> (link ZLIB::ZLIB), and run_session compiles every
/// strategy on every built-in space, which a program that names its space does not need.

#include <c10/util/Exception.h>

#include <filesystem>
#include <stop_token>
#include <utility>

#include "nas/data/cifar.hpp"
#include "nas/data/idx.hpp"
#include "nas/run/session.hpp"
#include "nas/run/settings.hpp"

namespace nas::run {

/// Reads the training and test splits of `s.data` from `s.data_dir` (Fashion-MNIST: Debian's
/// dataset-fashion-mnist folder when empty). Throws c10::Error naming the file and the problem
/// (a missing folder, a bad magic number, a truncated file, a count mismatch).
inline Dataset load_data(const Settings& s) {
  Dataset d;
  if (s.data == "cifar10") {
    TORCH_CHECK(!s.data_dir.empty(),
                "--data cifar10 needs --data-dir: the folder with CIFAR-10's binary batches "
                "(data_batch_1.bin ... test_batch.bin)");
    d.train = data::cifar10("train", s.data_dir);
    d.test = data::cifar10("test", s.data_dir);
    d.name = "CIFAR-10";
    return d;
  }
  TORCH_CHECK(s.data == "fashion-mnist" || s.data == "idx", "unknown data set '", s.data,
              "'; use fashion-mnist, cifar10 or idx");
  TORCH_CHECK(s.data != "idx" || !s.data_dir.empty(),
              "--data idx needs --data-dir: a folder with train-images-idx3-ubyte.gz, "
              "train-labels-idx1-ubyte.gz, t10k-images-idx3-ubyte.gz and "
              "t10k-labels-idx1-ubyte.gz (MNIST's file names and format)");
  const std::filesystem::path dir =
      s.data_dir.empty() ? data::fashion_mnist_dir : std::filesystem::path(s.data_dir);
  d.train = data::fashion_mnist("train", dir);
  d.test = data::fashion_mnist("test", dir);
  d.name = s.data == "idx" ? "IDX files in " + dir.string() : "Fashion-MNIST";
  return d;
}

/// Runs an opened run (nas::run::open_run set up its device and folder): checks `data`
/// against the settings and runs a nas::run::Session on the built-in space the settings name.
/// `stop` (nas::run::StopOnSignals::token()): asked to stop, the run saves its checkpoint and
/// throws nas::run::Preempted (exit with nas::run::exit_preempted).
inline Comparison run_session(const Opened& run, const Dataset& data, std::stop_token stop = {}) {
  const Settings& s = run.settings;
  check(s, data);
  if (s.space == "nb201")
    return Session<spaces::nb201>(s, data, run.folder, run.resume, std::move(stop)).run();
  if (s.space == "darts")
    return Session<spaces::darts>(s, data, run.folder, run.resume, std::move(stop)).run();
  TORCH_CHECK(s.space == "mobile", "unknown space '", s.space, "'; use nb201, darts or mobile");
  return Session<spaces::mobile>(s, data, run.folder, run.resume, std::move(stop)).run();
}

}  // namespace nas::run
