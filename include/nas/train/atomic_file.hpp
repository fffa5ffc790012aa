#pragma once
/// @file
/// nas::write_atomically: a file replaced whole or not at all.

#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>
#include <string_view>
#include <system_error>

namespace nas {

/// Writes `bytes` to `path` atomically: to `path` + ".tmp" first, flushed and closed, then
/// renamed over `path` (a rename within one folder is atomic on POSIX file systems), so a
/// reader, or a run killed while writing, never sees half a file: the previous version
/// stays whole until the new one is complete. Throws a c10::Error naming the path when the
/// folder is missing or not writable.
inline void write_atomically(const std::filesystem::path& path, std::string_view bytes) {
  auto tmp = path;
  tmp += ".tmp";
  {
    std::ofstream os(tmp, std::ios::binary | std::ios::trunc);
    TORCH_CHECK(os.good(), "cannot write '", tmp.string(),
                "': does the folder exist and is it writable?");
    os.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    os.flush();
    TORCH_CHECK(os.good(), "writing '", tmp.string(), "' failed (disk full?)");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  TORCH_CHECK(!ec, "cannot rename '", tmp.string(), "' to '", path.string(), "': ", ec.message());
}

}  // namespace nas
