#pragma once
/// @file
/// nas::relax::SinglePath: a supernet that runs one architecture (a path) at a time.

#include <torch/types.h>

#include <c10/util/Exception.h>

#include <cstddef>
#include <utility>
#include <vector>

#include "nas/relax/relaxation.hpp"

namespace nas::relax {

/// Single path: the forward follows the architecture set with the supernet's
/// `set_path(genotype)` (or `sample_path(rng)`) and runs only its ops, unweighted, every
/// node the sum of its kept inputs, as the discrete network would. The weights are
/// shared by every path: ENAS (Pham et al., ICML 2018) trains them on the paths its
/// controller samples, single-path one-shot (Guo et al., ECCV 2020) on uniform samples.
/// No architecture parameters. Models: nas::relaxation.
class SinglePath {
 public:
  static constexpr bool learns_architecture = false;

  [[nodiscard]] EdgeMix mix(const torch::Tensor&, const MixContext& context) const {
    TORCH_CHECK(context.cell_kind < paths_.size() && !paths_[context.cell_kind].empty(),
                "a SinglePath supernet runs one architecture at a time: call "
                "set_path(genotype) or sample_path(rng) before the forward");
    return EdgeMix{.weights = {}, .active = paths_[context.cell_kind], .straight_through = false};
  }

  /// Sets the ops of each edge of cell kind `kind` (the supernet's set_path does this).
  void set_path(std::size_t kind, std::vector<std::vector<std::size_t>> ops_per_edge) {
    if (paths_.size() <= kind) paths_.resize(kind + 1);
    paths_[kind] = std::move(ops_per_edge);
  }

 private:
  std::vector<std::vector<std::vector<std::size_t>>> paths_;
};

}  // namespace nas::relax
