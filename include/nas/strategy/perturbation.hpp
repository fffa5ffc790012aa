#pragma once
/// @file
/// DARTS-PT's perturbation-based selection (Wang et al., ICLR 2021, "Rethinking Architecture
/// Selection in Differentiable NAS"): nas::PerturbationOptions and nas::PerturbationDecision,
/// what nas::Darts::derive_by_perturbation (nas/strategy/bilevel.hpp) takes and reports.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "nas/core/options.hpp"

namespace nas {

/// One choice of DARTS-PT's selection: an op for an edge, or the kept inputs of a node.
struct PerturbationDecision {
  std::size_t cell_kind = 0;
  /// an op decision: the edge; a topology decision: the node
  std::size_t edge_or_node = 0;
  bool topology = false;
  /// the candidates measured (ops of the edge, or edges into the node) and the supernet's
  /// score (PerturbationOptions::score: validation accuracy by default) with each one masked
  std::vector<std::size_t> candidates{};
  std::vector<double> score_without{};
  /// the op kept (an op decision) or the edges kept (a topology decision)
  std::vector<std::size_t> kept{};
};

/// Options of DARTS-PT's selection. The defaults are the reference code's NAS-Bench-201
/// settings (`--edge_decision random --proj_crit acc --proj_intv 5`), with the weights'
/// learning rate a tenth of the search's initial one (WeightTraining::learning_rate).
struct PerturbationOptions {
  /// epochs of fine-tuning (architecture and weight steps, as in the search) between two
  /// decisions; none after the last
  std::int64_t tune_epochs = 5;
  /// the weights' SGD rate while fine-tuning (0: WeightTraining::learning_rate / 10)
  double learning_rate = 0.0;
  /// validation batches each measurement scores (0: the whole validation data)
  std::int64_t eval_batches = 0;
  /// on a cell that keeps some inputs of each node (DARTS): also choose each node's inputs by
  /// what removing an edge costs; off, nas::derive's rule picks them from the projected ops,
  /// which all weigh 1: the lowest-index inputs
  bool topology = true;
  /// what a candidate's removal is measured by, higher is better, called with the candidate
  /// masked (empty: the supernet's accuracy on the validation data, in training mode, as the
  /// reference's `--proj_crit acc`); a user's criterion (minus a loss, a proxy) goes here
  std::function<double()> score{};
  /// called after every decision
  std::function<void(const PerturbationDecision&)> on_decision{};

  NAS_WITH(tune_epochs)
  NAS_WITH(learning_rate)
  NAS_WITH(eval_batches)
  NAS_WITH(topology)
  NAS_WITH(score)
  NAS_WITH(on_decision)
};

}  // namespace nas
