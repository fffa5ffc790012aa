#pragma once
/// @file
/// nas::DartsCell: one discrete DARTS cell, for a skeleton of the user's own.

#include <torch/nn/pimpl.h>
#include <torch/types.h>

#include <cstddef>
#include <memory>
#include <utility>

#include "nas/layout/darts.hpp"
#include "nas/nn/cell.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

/// One discrete DARTS cell (a nas::CellImpl shaped by nas::darts_cell_shape), for a skeleton
/// of the user's own: `nas::DartsCell<normal>(genotype, nas::CellSizes{...})`, called as
/// `cell(s0, s1)` (or `cell->forward({s0, s1}, drop_path)`).
///
/// Submodules: `preprocess0`, `preprocess1`, and one per kept op named `edge_<from>_<to>_<op>`.
template <cell_kind C>
class DartsCell : public torch::nn::ModuleHolder<CellImpl<C>> {
 public:
  using base = torch::nn::ModuleHolder<CellImpl<C>>;
  /// An empty holder.
  DartsCell(std::nullptr_t) : base(nullptr) {}  // NOLINT(google-explicit-constructor)
  /// Holds an existing cell (what `register_module` returns).
  DartsCell(std::shared_ptr<CellImpl<C>> cell)  // NOLINT(google-explicit-constructor)
      : base(std::move(cell)) {}
  /// A new cell for `genotype` at `sizes`, with learnable, tracking batch norms.
  DartsCell(const CellGenotype<C>& genotype, const CellSizes& sizes)
      : base(std::make_shared<CellImpl<C>>(genotype, darts_cell_shape(sizes))) {}

  /// The cell's output for the outputs `s0`, `s1` of the two previous cells.
  torch::Tensor operator()(const torch::Tensor& s0, const torch::Tensor& s1,
                           double drop_path = 0.0) {
    return (*this)->forward({s0, s1}, drop_path);
  }
};

}  // namespace nas
