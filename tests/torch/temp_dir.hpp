#pragma once
// A temporary folder for a test, removed afterwards.
//
// Not with std::filesystem::remove_all: the PyPI LibTorch (libtorch.so of torch 2.11)
// exports its own copies of several std::filesystem functions, and its remove_all, which
// the dynamic linker picks over libstdc++'s, jumps to a null address (seen in gdb). The
// removal below uses directory_iterator (libstdc++'s) and POSIX lstat/unlink/rmdir.
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <string>
#include <vector>

namespace nas_test {

inline void remove_tree(const std::filesystem::path& p) {
  struct stat st {};
  if (::lstat(p.c_str(), &st) != 0) return;
  if (!S_ISDIR(st.st_mode)) {
    ::unlink(p.c_str());
    return;
  }
  std::error_code ec;
  std::vector<std::filesystem::path> children;
  for (const auto& entry : std::filesystem::directory_iterator(p, ec))
    children.push_back(entry.path());
  for (const auto& c : children) remove_tree(c);
  ::rmdir(p.c_str());
}

struct TempDir {
  std::filesystem::path path;
  explicit TempDir(const std::string& name)
      : path(std::filesystem::temp_directory_path() / (name + "_" + std::to_string(::getpid()))) {
    remove_tree(path);
    std::filesystem::create_directories(path);
  }
  ~TempDir() { remove_tree(path); }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
};

}  // namespace nas_test
