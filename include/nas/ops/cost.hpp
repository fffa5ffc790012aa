#pragma once
/// @file
/// Multiply-add counting: the convention of counting convolutions and linear layers
/// only (batch 1), which DARTS-family papers use for "FLOPs".

#include <concepts>
#include <cstdint>

namespace nas {

/// Output size of a convolution or pooling along one axis.
constexpr std::int64_t conv_output_size(std::int64_t in, std::int64_t kernel, std::int64_t stride,
                                        std::int64_t padding, std::int64_t dilation = 1) {
  return (in + 2 * padding - dilation * (kernel - 1) - 1) / stride + 1;
}

/// Multiply-adds of one convolution producing an `out_h` x `out_w` map (batch 1).
constexpr std::int64_t conv_multiply_adds(std::int64_t in, std::int64_t out, std::int64_t kernel_h,
                                          std::int64_t kernel_w, std::int64_t groups,
                                          std::int64_t out_h, std::int64_t out_w) {
  return out_h * out_w * out * (in / groups) * kernel_h * kernel_w;
}

/// A module type that reports its multiply-adds for an input of `height` x `width`.
///
/// Requirements: `m->multiply_adds(height, width)` returns a count convertible to
/// `std::int64_t` (convolutions and linear layers, batch 1). Every built-in op models
/// it; give your own op's `Impl` such a member to have networks that use it counted.
template <class M>
concept counts_multiply_adds = requires(M& m, std::int64_t h) {
  { m->multiply_adds(h, h) } -> std::convertible_to<std::int64_t>;
};

}  // namespace nas
