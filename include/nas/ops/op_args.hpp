#pragma once
/// @file
/// nas::OpArgs: what a candidate operation is built from.

#include <cstdint>

namespace nas {

/// The arguments every candidate operation is constructed from.
///
/// A cell builds each chosen (or, in a supernet, every candidate) operation on an
/// edge with `Module(nas::OpArgs{...})`. Sizes are run-time values: the same op
/// set serves an 8-channel proxy network and a 36-channel final network.
struct OpArgs {
  std::int64_t in = 0;      ///< input channels
  std::int64_t out = 0;     ///< output channels
  std::int64_t stride = 1;  ///< 1, or 2 on the edges of a reduction cell that leave an input node
  bool affine = true;       ///< learnable batch-norm scale and shift (DARTS search: false)
  /// batch norm keeps running statistics (NAS-Bench-201 search: false)
  bool track_running_stats = true;
  friend constexpr bool operator==(const OpArgs&, const OpArgs&) = default;
};

}  // namespace nas
