#pragma once
/// @file
/// CIFAR-10 in its binary version (`cifar-10-binary.tar.gz`: `data_batch_1.bin` to
/// `data_batch_5.bin`, `test_batch.bin`) as nas::Data, for users who have it on disk.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "nas/data/data.hpp"
#include "nas/data/idx.hpp"

namespace nas::data {

/// Bytes of one CIFAR-10 record: a label byte, then 32 x 32 red, green and blue planes.
inline constexpr std::size_t cifar10_record = 1 + 3 * 32 * 32;

/// CIFAR-10's per-channel mean and standard deviation over its training set (the values
/// DARTS normalizes with).
inline constexpr float cifar10_mean[3] = {0.49139968F, 0.48215827F, 0.44653124F};
inline constexpr float cifar10_std[3] = {0.24703233F, 0.24348505F, 0.26158768F};

/// Images `[N, 3, 32, 32]` (uint8) and labels `[N]` (int64) from the bytes of one
/// CIFAR-10 binary batch file. `name` names the source in errors. Throws a c10::Error
/// when the size is not a whole number of records (a truncated file) or a label is not
/// in 0..9 (not a CIFAR-10 file).
inline Data parse_cifar10(std::span<const std::uint8_t> bytes, const std::string& name) {
  TORCH_CHECK(!bytes.empty(), name, ": empty file; expected CIFAR-10 records of ", cifar10_record,
              " bytes");
  TORCH_CHECK(bytes.size() % cifar10_record == 0, name, ": ", bytes.size(),
              " bytes is not a whole number of CIFAR-10 records (", cifar10_record,
              " bytes each): the file is truncated or not CIFAR-10's binary version");
  const auto n = static_cast<std::int64_t>(bytes.size() / cifar10_record);
  auto records = torch::from_blob(const_cast<std::uint8_t*>(bytes.data()),
                                  {n, static_cast<std::int64_t>(cifar10_record)}, torch::kUInt8);
  auto labels = records.select(1, 0).to(torch::kInt64);
  const auto bad = labels.gt(9).nonzero();
  TORCH_CHECK(bad.numel() == 0, name, ": record ",
              bad.numel() > 0 ? bad[0][0].item<std::int64_t>() : 0, " has label ",
              bad.numel() > 0 ? labels[bad[0][0]].item<std::int64_t>() : 0,
              "; CIFAR-10 labels are 0 to 9 (is this the CIFAR-100 or the Python version?)");
  auto images = records.slice(1, 1).reshape({n, 3, 32, 32}).clone();
  return {images, labels};
}

/// Reads one CIFAR-10 binary batch file (gzip-compressed or not).
inline Data read_cifar10(const std::filesystem::path& path) {
  const auto bytes = read_bytes(path);
  return parse_cifar10(bytes, path.string());
}

/// CIFAR-10's `train` (50,000 images, the five data batches) or `test` (10,000) split from
/// `dir`, the folder of the binary version (`cifar-10-batches-bin`): images `[N, 3, 32,
/// 32]` as floats scaled to [0, 1] and standardized per channel (nas::data::cifar10_mean,
/// cifar10_std), labels `[N]`. A missing file gets an error that says where the data
/// set comes from.
inline Data cifar10(const std::string& split, const std::filesystem::path& dir) {
  TORCH_CHECK(split == "train" || split == "test", "cifar10: the split is 'train' or 'test'; got '",
              split, "'");
  std::vector<std::filesystem::path> files;
  if (split == "train")
    for (int i = 1; i <= 5; ++i)
      files.push_back(dir / ("data_batch_" + std::to_string(i) + ".bin"));
  else
    files.push_back(dir / "test_batch.bin");
  std::vector<torch::Tensor> images, labels;
  for (const auto& f : files) {
    TORCH_CHECK(std::filesystem::exists(f), "missing ", f.string(),
                ": cifar10 reads CIFAR-10's binary version; download cifar-10-binary.tar.gz "
                "from https://www.cs.toronto.edu/~kriz/cifar.html, extract it, and pass the "
                "cifar-10-batches-bin folder");
    auto part = read_cifar10(f);
    images.push_back(part.inputs);
    labels.push_back(part.targets);
  }
  auto x = torch::cat(images).to(torch::kFloat32).div_(255.0);
  const auto mean =
      torch::tensor(std::vector<float>(cifar10_mean, cifar10_mean + 3)).view({1, 3, 1, 1});
  const auto std =
      torch::tensor(std::vector<float>(cifar10_std, cifar10_std + 3)).view({1, 3, 1, 1});
  return {x.sub_(mean).div_(std), torch::cat(labels)};
}

}  // namespace nas::data
