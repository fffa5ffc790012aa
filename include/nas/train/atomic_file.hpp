#pragma once
/// @file
/// nas::write_atomically: a file replaced whole or not at all, with errors that name the file and
/// the cause.

#include <c10/util/Exception.h>

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <filesystem>
#include <string>
#include <string_view>
#include <system_error>

namespace nas {

namespace detail {
[[nodiscard]] inline std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}
}  // namespace detail

/// Writes `bytes` to `path` atomically: to `path` + ".tmp" first, written in full, flushed to the
/// disk (fsync) and closed, then renamed over `path` (a rename within one folder is atomic on
/// POSIX file systems) and the folder flushed, so a reader, or a run killed while writing, never
/// sees half a file. (The folder's flush is best effort and not reported: not every file system
/// lets a folder be opened for it.)
///
/// When any of it fails (no space left, a read-only or removed folder, a quota, an I/O error,
/// including one reported only by fsync or close), the temporary file is removed, `path` is left
/// as it was (the previous version stays whole), and a c10::Error names `path`, the step that
/// failed and the system's reason, e.g. "cannot write 'runs/x/checkpoint.pt': writing
/// 'runs/x/checkpoint.pt.tmp' failed: No space left on device; the previous 'checkpoint.pt' is
/// unchanged".
inline void write_atomically(const std::filesystem::path& path, std::string_view bytes) {
  auto tmp = path;
  tmp += ".tmp";
  const auto fail = [&](const char* step, int err, int fd) {
    if (fd >= 0) ::close(fd);
    ::unlink(tmp.c_str());
    std::error_code ec;
    const bool had = std::filesystem::exists(path, ec);
    TORCH_CHECK(
        false, "cannot write '", path.string(), "': ", step, " '", tmp.string(),
        "' failed: ", detail::errno_text(err),
        had ? "; the previous '" + path.filename().string() + "' is unchanged" : std::string(),
        err == ENOSPC || err == EDQUOT                  ? " (free some space, then resume)"
        : err == ENOENT                                 ? " (was the folder removed?)"
        : err == EACCES || err == EROFS || err == EPERM ? " (is the folder writable?)"
                                                        : "");
  };
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) fail("creating", errno, -1);
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ::ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      fail("writing", errno, fd);
    }
    if (n == 0) fail("writing", EIO, fd);
    done += static_cast<std::size_t>(n);
  }
  int synced = 0;
  while ((synced = ::fsync(fd)) != 0 && errno == EINTR) {
  }
  if (synced != 0 && errno != EINVAL) fail("flushing", errno, fd);  // EINVAL: cannot sync (a pipe)
  // EINTR from close: Linux has closed the descriptor anyway, and the data was synced above
  if (::close(fd) != 0 && errno != EINTR) fail("closing", errno, -1);
  if (::rename(tmp.c_str(), path.c_str()) != 0) fail("renaming", errno, -1);
  // the rename itself reaches the disk with the folder (best effort: not every file system
  // lets a folder be opened for fsync)
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  if (const int d = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); d >= 0) {
    (void)::fsync(d);
    ::close(d);
  }
}

}  // namespace nas
