#pragma once
/// @file
/// nas::run::RunFolder: the folder a search run writes its checkpoint and results into.

#include <c10/util/Exception.h>

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <system_error>
#include <utility>

#include "nas/train/atomic_file.hpp"

namespace nas::run {

/// The folder of one run: `checkpoint.pt` (the whole state, replaced atomically) and the
/// results a run writes beside it. Every write is atomic (nas::write_atomically): a killed run
/// leaves each file either old or new, never half-written.
class RunFolder {
 public:
  static constexpr const char* checkpoint_name = "checkpoint.pt";

  explicit RunFolder(std::filesystem::path dir) : dir_(std::move(dir)) {}

  [[nodiscard]] const std::filesystem::path& path() const { return dir_; }
  [[nodiscard]] std::filesystem::path checkpoint_path() const { return dir_ / checkpoint_name; }

  /// True when the folder holds a run's checkpoint.
  [[nodiscard]] bool holds_run() const {
    struct stat st {};
    return ::stat(checkpoint_path().c_str(), &st) == 0;
  }

  /// Creates the folder (and its parents) and checks that it takes files. Throws c10::Error
  /// naming the folder and the fix (`fix`, e.g. "choose another --out") otherwise.
  void prepare(const std::string& fix = "choose another folder") const {
    std::error_code ec;
    std::filesystem::create_directories(dir_, ec);
    struct stat st {};
    TORCH_CHECK(!ec && ::stat(dir_.c_str(), &st) == 0 && S_ISDIR(st.st_mode),
                "cannot create the output folder '", dir_.string(), "'",
                ec ? ": " + ec.message() : std::string(), "; ", fix);
    TORCH_CHECK(::access(dir_.c_str(), W_OK) == 0, "the output folder '", dir_.string(),
                "' is not writable; ", fix);
  }

  /// Writes `text` to the file `name` in the folder, atomically.
  void write(const std::string& name, const std::string& text) const {
    write_atomically(dir_ / name, text);
  }

 private:
  std::filesystem::path dir_;
};

}  // namespace nas::run
