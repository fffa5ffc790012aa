#pragma once
/// @file
/// nas::relax::Softmax: DARTS's continuous relaxation.

#include <torch/types.h>

#include "nas/relax/relaxation.hpp"

namespace nas::relax {

/// DARTS (Liu, Simonyan & Yang, ICLR 2019): each edge outputs the softmax(alpha)-weighted
/// sum of all its candidates' outputs, `sum_k softmax(alpha_e)_k * op_k(x)`. Every op runs
/// (zero ops excepted: their term is zero); the gradient reaches every alpha.
/// Models: nas::relaxation.
struct Softmax {
  static constexpr bool learns_architecture = true;
  [[nodiscard]] EdgeMix mix(const torch::Tensor& alpha, const MixContext&) const {
    return EdgeMix{.weights = torch::softmax(alpha, -1), .active = {}, .straight_through = false};
  }
};

}  // namespace nas::relax
