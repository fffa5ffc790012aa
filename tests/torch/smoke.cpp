// Smoke test: nas::nas links, LibTorch works, and the torch-free core coexists with LibTorch.
#include <doctest/doctest.h>
#include <torch/torch.h>

#if __has_include(<nas/core.hpp>)
#include <nas/core.hpp>
#endif
#if __has_include(<nas/space.hpp>)
#include <nas/space.hpp>
#endif

#include <cstdint>
#include <string>

#ifndef NAS_TEST_TORCH_PACKAGE_MAJOR  // set by tests/CMakeLists.txt from find_package(Torch)
#define NAS_TEST_TORCH_PACKAGE_MAJOR TORCH_VERSION_MAJOR
#define NAS_TEST_TORCH_PACKAGE_MINOR TORCH_VERSION_MINOR
#endif

TEST_CASE("libtorch: the headers are those of the package CMake found") {
  CHECK(TORCH_VERSION_MAJOR == NAS_TEST_TORCH_PACKAGE_MAJOR);
  CHECK(TORCH_VERSION_MINOR == NAS_TEST_TORCH_PACKAGE_MINOR);
  const std::string version = TORCH_VERSION;
  CHECK(version.starts_with(std::to_string(TORCH_VERSION_MAJOR) + "." +
                            std::to_string(TORCH_VERSION_MINOR) + "."));
  // scripts/torch-version pins the tested release; anything else is reported, not failed.
  if (TORCH_VERSION_MAJOR != 2 || TORCH_VERSION_MINOR != 11) {
    MESSAGE("LibTorch " << version << " is not the tested 2.11");
  }
}

TEST_CASE("libtorch: a matmul of known tensors gives the known result") {
  const auto a = torch::arange(6, torch::kFloat32).reshape({2, 3});  // [[0 1 2] [3 4 5]]
  const auto b = torch::ones({3, 2});
  const auto c = a.matmul(b);  // row sums: [[3 3] [12 12]]
  CHECK(c.sizes() == torch::IntArrayRef{2, 2});
  CHECK(torch::equal(c, torch::tensor({{3.0F, 3.0F}, {12.0F, 12.0F}})));
  CHECK(c.sum().item<float>() == doctest::Approx(30.0));
}

TEST_CASE("libtorch: autograd gives d(sum x^2)/dx = 2x") {
  auto x = torch::tensor({1.0F, -2.0F, 3.0F}, torch::requires_grad());
  x.pow(2).sum().backward();
  CHECK(torch::allclose(x.grad(), torch::tensor({2.0F, -4.0F, 6.0F})));
}

TEST_CASE("libtorch: a manual seed makes random tensors reproducible") {
  torch::manual_seed(42);
  const auto first = torch::randn({4});
  torch::manual_seed(42);
  const auto second = torch::randn({4});
  CHECK(torch::equal(first, second));
}

TEST_CASE("libtorch: an nn::Linear holder registers weight and bias") {
  torch::nn::Linear linear(torch::nn::LinearOptions(4, 3));
  const auto params = linear->named_parameters();
  CHECK(params.size() == 2);
  CHECK(params.contains("weight"));
  CHECK(params.contains("bias"));
  CHECK(linear->forward(torch::zeros({5, 4})).sizes() == torch::IntArrayRef{5, 3});
}

TEST_CASE("libtorch: CUDA tensors when a GPU is present") {
  if (!torch::cuda::is_available()) {
    MESSAGE("no CUDA device: skipped");
    return;
  }
  const auto x = torch::ones({8}, torch::kCUDA);
  CHECK(x.sum().item<float>() == doctest::Approx(8.0));
  CHECK(static_cast<std::int64_t>(torch::cuda::device_count()) >= 1);
}
