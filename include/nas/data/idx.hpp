#pragma once
/// @file
/// IDX files (the MNIST format) and the Fashion-MNIST data set as nas::Data. Reading the
/// gzip-compressed files of the Debian package `dataset-fashion-mnist` needs zlib: this
/// header includes <zlib.h>; link ZLIB::ZLIB.

#include <torch/types.h>

#include <c10/util/Exception.h>
#include <zlib.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <span>
#include <string>
#include <vector>

#include "nas/data/data.hpp"

namespace nas::data {

/// The bytes of a file, gunzipped when its name ends in `.gz`. Throws a c10::Error naming
/// the file when it is missing, unreadable or corrupt.
inline std::vector<std::uint8_t> read_bytes(const std::filesystem::path& path) {
  TORCH_CHECK(std::filesystem::exists(path), "missing file ", path.string());
  std::vector<std::uint8_t> out;
  if (path.extension() == ".gz") {
    gzFile f = gzopen(path.c_str(), "rb");
    TORCH_CHECK(f != nullptr, "cannot open ", path.string());
    std::vector<std::uint8_t> chunk(1 << 20);
    int n = 0;
    while ((n = gzread(f, chunk.data(), static_cast<unsigned>(chunk.size()))) > 0)
      out.insert(out.end(), chunk.begin(), chunk.begin() + n);
    int code = Z_OK;
    const char* message = gzerror(f, &code);
    const std::string error = message == nullptr ? "" : message;
    gzclose(f);
    TORCH_CHECK(n == 0 && (code == Z_OK || code == Z_STREAM_END), "corrupt gzip data in ",
                path.string(), " (", error, "): download or install it again");
  } else {
    std::ifstream in(path, std::ios::binary);
    TORCH_CHECK(in.good(), "cannot open ", path.string());
    out.resize(static_cast<std::size_t>(std::filesystem::file_size(path)));
    in.read(reinterpret_cast<char*>(out.data()), static_cast<std::streamsize>(out.size()));
    TORCH_CHECK(in.gcount() == static_cast<std::streamsize>(out.size()), "cannot read ",
                path.string());
  }
  return out;
}

/// An IDX file of unsigned bytes (magic 0x00000801 for 1 dimension, 0x00000803 for 3) as a
/// uint8 tensor of the shape its header gives. `name` names the source in errors. Throws a
/// c10::Error for a wrong magic number, an unsupported type or rank, or a size that does
/// not match the header (a truncated file).
inline torch::Tensor parse_idx(std::span<const std::uint8_t> bytes, const std::string& name) {
  TORCH_CHECK(bytes.size() >= 4 && bytes[0] == 0 && bytes[1] == 0, name,
              ": not an IDX file (wrong magic number)");
  TORCH_CHECK(bytes[2] == 0x08, name, ": IDX data type 0x", std::hex, static_cast<int>(bytes[2]),
              std::dec, " is not unsigned bytes (0x08)");
  const std::size_t dims = bytes[3];
  TORCH_CHECK(dims >= 1 && dims <= 4, name, ": IDX rank ", dims, " is not supported (1 to 4)");
  TORCH_CHECK(bytes.size() >= 4 + 4 * dims, name, ": truncated IDX header");
  std::vector<std::int64_t> shape;
  std::size_t count = 1;
  for (std::size_t d = 0; d < dims; ++d) {
    const std::size_t at = 4 + 4 * d;
    const std::uint32_t n = (std::uint32_t{bytes[at]} << 24) |
                            (std::uint32_t{bytes[at + 1]} << 16) |
                            (std::uint32_t{bytes[at + 2]} << 8) | std::uint32_t{bytes[at + 3]};
    shape.push_back(n);
    count *= n;
  }
  const std::size_t header = 4 + 4 * dims;
  TORCH_CHECK(bytes.size() == header + count, name, ": holds ", bytes.size() - header,
              " bytes of data where its header announces ", count,
              bytes.size() < header + count ? " (truncated)" : " (trailing bytes)");
  auto t = torch::empty(shape, torch::kUInt8);
  std::copy(bytes.begin() + static_cast<std::ptrdiff_t>(header), bytes.end(),
            t.data_ptr<std::uint8_t>());
  return t;
}

/// Reads an IDX file (gzip-compressed or not).
inline torch::Tensor read_idx(const std::filesystem::path& path) {
  return parse_idx(read_bytes(path), path.string());
}

/// Where the Debian package `dataset-fashion-mnist` installs Fashion-MNIST.
inline const std::filesystem::path fashion_mnist_dir = "/usr/share/datasets/fashion-mnist";

/// Images `[N, 1, H, W]` (float, scaled to [0, 1] then standardized with `mean` and `std`)
/// and labels `[N]` (int64) from an IDX image file and an IDX label file. Throws a
/// c10::Error when the files disagree (counts) or are not images and labels.
inline Data read_idx_pair(const std::filesystem::path& images, const std::filesystem::path& labels,
                          double mean, double std) {
  const auto x = read_idx(images);
  const auto y = read_idx(labels);
  TORCH_CHECK(x.dim() == 3, images.string(), ": expected images [N, rows, cols]; got ", x.sizes());
  TORCH_CHECK(y.dim() == 1, labels.string(), ": expected labels [N]; got ", y.sizes());
  TORCH_CHECK(x.size(0) == y.size(0), images.string(), " holds ", x.size(0), " images but ",
              labels.string(), " holds ", y.size(0), " labels");
  return {x.unsqueeze(1).to(torch::kFloat32).div_(255.0).sub_(mean).div_(std), y.to(torch::kInt64)};
}

/// Fashion-MNIST's `train` (60,000) or `test` (10,000) split, standardized, from `dir`
/// (default: the Debian package's folder). A missing file gets an error that names the
/// package to install.
inline Data fashion_mnist(const std::string& split,
                          const std::filesystem::path& dir = fashion_mnist_dir) {
  TORCH_CHECK(split == "train" || split == "test",
              "Fashion-MNIST splits are \"train\" and \"test\"; got \"", split, "\"");
  const std::string prefix = split == "train" ? "train" : "t10k";
  const auto images = dir / (prefix + "-images-idx3-ubyte.gz");
  const auto labels = dir / (prefix + "-labels-idx1-ubyte.gz");
  for (const auto& f : {images, labels})
    TORCH_CHECK(std::filesystem::exists(f), "missing ", f.string(),
                ": install the Fashion-MNIST data set (apt-get install dataset-fashion-mnist) "
                "or give the folder that holds its .gz IDX files");
  return read_idx_pair(images, labels, 0.2860, 0.3530);
}

}  // namespace nas::data
