// The data readers: IDX (MNIST format, gzip or not) and CIFAR-10's binary version, on good
// and corrupt files written by the test.
#include <doctest/doctest.h>
#include <torch/torch.h>
#include <zlib.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include <nas/data/cifar.hpp>
#include <nas/data/idx.hpp>
#include "temp_dir.hpp"

namespace {

namespace fs = std::filesystem;

using nas_test::TempDir;

void write(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  std::ofstream(p, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

void write_gz(const fs::path& p, const std::vector<std::uint8_t>& bytes) {
  gzFile f = gzopen(p.string().c_str(), "wb");
  REQUIRE(f != nullptr);
  REQUIRE(gzwrite(f, bytes.data(), static_cast<unsigned>(bytes.size())) ==
          static_cast<int>(bytes.size()));
  gzclose(f);
}

// An IDX file of unsigned bytes with the given dimensions; values i % 251.
std::vector<std::uint8_t> idx(const std::vector<std::uint32_t>& dims) {
  std::vector<std::uint8_t> out = {0, 0, 0x08, static_cast<std::uint8_t>(dims.size())};
  std::size_t count = 1;
  for (auto d : dims) {
    for (int s = 24; s >= 0; s -= 8) out.push_back(static_cast<std::uint8_t>((d >> s) & 0xFFU));
    count *= d;
  }
  for (std::size_t i = 0; i < count; ++i) out.push_back(static_cast<std::uint8_t>(i % 251));
  return out;
}

// `n` CIFAR-10 records: label i % 10, pixel bytes (i + j) % 256.
std::vector<std::uint8_t> cifar_records(std::size_t n) {
  std::vector<std::uint8_t> out;
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(static_cast<std::uint8_t>(i % 10));
    for (std::size_t j = 0; j < 3072; ++j) out.push_back(static_cast<std::uint8_t>((i + j) % 256));
  }
  return out;
}

}  // namespace

TEST_CASE("IDX: images and labels, plain and gzip-compressed") {
  TempDir dir("nas_idx_test");
  write(dir.path / "images", idx({3, 4, 5}));
  write_gz(dir.path / "labels.gz", {0, 0, 0x08, 1, 0, 0, 0, 3, 7, 1, 9});
  const auto x = nas::data::read_idx(dir.path / "images");
  CHECK(x.sizes() == torch::IntArrayRef{3, 4, 5});
  CHECK(x[2][3][4].item<int>() == 59);
  const auto y = nas::data::read_idx(dir.path / "labels.gz");
  CHECK(y.sizes() == torch::IntArrayRef{3});
  CHECK(y[2].item<int>() == 9);
  const auto d = nas::data::read_idx_pair(dir.path / "images", dir.path / "labels.gz", 0.0, 1.0);
  CHECK(d.inputs.sizes() == torch::IntArrayRef{3, 1, 4, 5});
  CHECK(d.inputs[2][0][3][4].item<float>() == doctest::Approx(59.0 / 255.0));
  CHECK(d.targets.dtype() == torch::kInt64);
}

TEST_CASE("IDX: corrupt files are named with the problem") {
  TempDir dir("nas_idx_bad");
  auto bad_magic = idx({2, 2});
  bad_magic[0] = 1;
  write(dir.path / "magic", bad_magic);
  CHECK_THROWS_WITH_AS((void)nas::data::read_idx(dir.path / "magic"), doctest::Contains("magic"),
                       c10::Error);
  auto truncated = idx({4, 3, 3});
  truncated.resize(truncated.size() - 5);
  write(dir.path / "truncated", truncated);
  CHECK_THROWS_AS((void)nas::data::read_idx(dir.path / "truncated"), c10::Error);
  write(dir.path / "images", idx({3, 2, 2}));
  write(dir.path / "labels", idx({4}));
  CHECK_THROWS_WITH_AS(
      (void)nas::data::read_idx_pair(dir.path / "images", dir.path / "labels", 0.0, 1.0),
      doctest::Contains("holds 3 images but"), c10::Error);
  write(dir.path / "notgz.gz", {1, 2, 3, 4, 5});
  CHECK_THROWS_AS((void)nas::data::read_idx(dir.path / "notgz.gz"), c10::Error);
  CHECK_THROWS_WITH_AS((void)nas::data::read_idx(dir.path / "absent"),
                       doctest::Contains("missing file"), c10::Error);
  CHECK_THROWS_WITH_AS((void)nas::data::fashion_mnist("train", dir.path),
                       doctest::Contains("dataset-fashion-mnist"), c10::Error);
}

TEST_CASE("CIFAR-10: records, standardization, and the splits' files") {
  TempDir dir("nas_cifar_test");
  for (int i = 1; i <= 5; ++i)
    write(dir.path / ("data_batch_" + std::to_string(i) + ".bin"), cifar_records(4));
  write(dir.path / "test_batch.bin", cifar_records(3));
  const auto batch = nas::data::read_cifar10(dir.path / "test_batch.bin");
  CHECK(batch.inputs.sizes() == torch::IntArrayRef{3, 3, 32, 32});
  CHECK(batch.inputs.dtype() == torch::kUInt8);
  CHECK(batch.targets[2].item<std::int64_t>() == 2);
  // record 1, green plane (offset 1024), row 0, column 5: (1 + 1024 + 5) % 256
  CHECK(batch.inputs[1][1][0][5].item<int>() == (1 + 1024 + 5) % 256);
  const auto train = nas::data::cifar10("train", dir.path);
  CHECK(train.inputs.sizes() == torch::IntArrayRef{20, 3, 32, 32});
  CHECK(train.targets.size(0) == 20);
  const float expect =
      (static_cast<float>(5) / 255.0F - nas::data::cifar10_mean[0]) / nas::data::cifar10_std[0];
  CHECK(train.inputs[0][0][0][5].item<float>() == doctest::Approx(expect));
  const auto test = nas::data::cifar10("test", dir.path);
  CHECK(test.size() == 3);
}

TEST_CASE("CIFAR-10: corrupt and missing files are named with the problem") {
  TempDir dir("nas_cifar_bad");
  auto truncated = cifar_records(2);
  truncated.pop_back();
  write(dir.path / "truncated.bin", truncated);
  CHECK_THROWS_WITH_AS((void)nas::data::read_cifar10(dir.path / "truncated.bin"),
                       doctest::Contains("not a whole number of CIFAR-10 records"), c10::Error);
  auto bad_label = cifar_records(3);
  bad_label[2 * 3073] = 57;
  write(dir.path / "label.bin", bad_label);
  CHECK_THROWS_WITH_AS((void)nas::data::read_cifar10(dir.path / "label.bin"),
                       doctest::Contains("record 2 has label 57"), c10::Error);
  write(dir.path / "empty.bin", {});
  CHECK_THROWS_WITH_AS((void)nas::data::read_cifar10(dir.path / "empty.bin"),
                       doctest::Contains("empty file"), c10::Error);
  CHECK_THROWS_WITH_AS((void)nas::data::cifar10("train", dir.path),
                       doctest::Contains("cifar-10-binary.tar.gz"), c10::Error);
  CHECK_THROWS_WITH_AS((void)nas::data::cifar10("valid", dir.path),
                       doctest::Contains("'train' or 'test'"), c10::Error);
}
