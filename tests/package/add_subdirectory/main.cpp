// Package test consumer (add_subdirectory): nas::nas gives LibTorch and the nas headers.
#include <ATen/core/Tensor.h>  // a light LibTorch header set: this TU must compile fast
#include <ATen/ops/ones.h>
#include <torch/version.h>

#include <cstdio>

#if __has_include(<nas/core/fixed_string.hpp>)
#include <nas/core/fixed_string.hpp>
#define CONSUMER_HAS_NAS_HEADER 1
#else
#define CONSUMER_HAS_NAS_HEADER 0
#endif

int main() {
  const auto sum = at::ones({2, 3}).sum().item<float>();
  if (sum != 6.0F) {
    std::printf("unexpected tensor sum %f\n", static_cast<double>(sum));
    return 1;
  }
#if CONSUMER_HAS_NAS_HEADER
  constexpr nas::FixedString name{"add_subdirectory"};
  static_cast<void>(name);
#endif
  std::printf("add_subdirectory consumer: LibTorch %s, nas header %s\n", TORCH_VERSION,
              CONSUMER_HAS_NAS_HEADER ? "included" : "absent");
  return 0;
}
