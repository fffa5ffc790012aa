#pragma once
/// @file
/// Layouts: how a space's cells are stacked into a network. nas::CellShape (what a skeleton
/// asks of one cell), nas::CellOptions, nas::built_op, and the nas::layout concept that every
/// layout a space declares (nas::layout_of) models. One skeleton per layout builds stem, cells
/// and head for both nas::Network (discrete cells) and nas::Supernet (mixed cells).

#include <torch/nn/modules/container/any.h>
#include <torch/types.h>

#include <concepts>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/ops/cost.hpp"
#include "nas/ops/make_op.hpp"
#include "nas/space/dag.hpp"
#include "nas/space/layout_of.hpp"
#include "nas/space/space.hpp"

namespace nas {

/// Batch-norm settings of the cells a skeleton builds: a nas::Network's cells learn and track
/// (`{true, true}`); a nas::Supernet's follow nas::SupernetOptions. A skeleton that builds
/// preprocessing for a cell input uses the same settings (`net.cell_options()`).
struct CellOptions {
  bool affine = true;               ///< learnable scale and shift in the cells' batch norms
  bool track_running_stats = true;  ///< running statistics in the cells' batch norms
};

/// A module built at run time with its multiply-add count: `nas::built_op(ops::ReLUConvBN(...))`.
/// A module that has no `multiply_adds(h, w)` gets a count that throws when asked, naming it.
template <class M>
[[nodiscard]] BuiltOp built_op(M module) {
  BuiltOp out;
  out.module = torch::nn::AnyModule(module);
  if constexpr (counts_multiply_adds<M>) {
    out.multiply_adds = [module](std::int64_t h, std::int64_t w) {
      return static_cast<std::int64_t>(module->multiply_adds(h, w));
    };
  } else {
    out.multiply_adds = [](std::int64_t, std::int64_t) -> std::int64_t {
      TORCH_CHECK(false,
                  "a cell input's preprocessing module does not count its multiply-adds: give "
                  "it a `std::int64_t multiply_adds(std::int64_t height, std::int64_t width) "
                  "const` member");
    };
  }
  return out;
}

/// One input of a cell as a skeleton feeds it.
///
/// - `channels`: the channels of the cell's input node (after preprocessing);
/// - `stride`: how much the preprocessing reduces the resolution (DARTS's FactorizedReduce: 2);
/// - `preprocess`: builds the module that maps the skeleton's tensor to the input node (DARTS:
///   ReLUConvBN or FactorizedReduce), registered on the cell as `preprocess<i>`; empty: the
///   tensor is the input node as it is. A factory, not a module: a cloned network builds its own.
struct CellInput {
  std::int64_t channels = 0;
  std::int64_t stride = 1;
  std::function<BuiltOp()> preprocess{};
};

/// The shape of the op on one edge: input and output channels, stride.
struct EdgeShape {
  std::int64_t in = 0;
  std::int64_t out = 0;
  std::int64_t stride = 1;
};

/// What a skeleton asks of one cell: its inputs and the shape of every edge's op
/// (`edge(e, from_input)`, `from_input` when the edge leaves an input node). Every edge into a
/// node must give it the same channels; the node's resolution is its source's divided by the
/// edge's stride. The cell's output is what the cell's DAG says: the concatenation of its
/// computed (or, in a discrete cell, its genotype's concatenated) nodes, or its last node.
struct CellShape {
  std::vector<CellInput> inputs{};
  std::function<EdgeShape(const Edge&, bool)> edge{};
};

/// Every edge maps `channels` to `channels`; edges that leave an input node have stride
/// `input_stride` (2 in a DARTS reduction cell), the others stride 1.
[[nodiscard]] inline std::function<EdgeShape(const Edge&, bool)> uniform_edges(
    std::int64_t channels, std::int64_t input_stride = 1) {
  return [channels, input_stride](const Edge&, bool from_input) {
    return EdgeShape{channels, channels, from_input ? input_stride : 1};
  };
}

namespace detail {
template <class L, class S>
concept layout_accepts = !requires {
  L::template accepts<S>;
}
|| L::template accepts<S>;
}  // namespace detail

/// A layout: how a space's cells are stacked into a network, declared by the space
/// (nas::layout_of) and shared by nas::Network and nas::Supernet.
///
/// Requirements:
/// - `L::name` converts to `std::string_view` (used in messages);
/// - `typename L::skeleton` is default-constructible and copyable, with
///   `template <class Net> void build(Net& net)`: registers the stem, the cells
///   (`net.template add_cell<"kind">(CellShape)`, returning the cell's output channels) and
///   the head on `net`, reading the sizes from `net.stack()`; and
///   `template <class Net> torch::Tensor forward(Net& net, const torch::Tensor& x)`: runs
///   them (`net.cell(i, inputs...)` runs the cell at position `i`);
/// - optional: `template <search_space S> static constexpr bool accepts` (which spaces it can
///   stack); skeleton members `forward_with_auxiliary(net, x)` (a tuple of logits and
///   auxiliary logits), `multiply_adds(const Net&, h, w)` (counting the network's
///   convolutions and linear layers; nas::cost needs it), and
///   `static constexpr bool track_running_stats_in_search` on `L` (the default of
///   nas::SupernetOptions::track_running_stats; false when absent).
///
/// `Net` is the nas::NetworkImpl or nas::SupernetImpl being built: `Net::searching` tells which,
/// `net.cell_options()` gives the batch-norm settings for preprocessing,
/// `net.add_block(module)` puts a fixed module between the cells (NAS-Bench-201's residual
/// blocks) and `net.template block<Impl>(i)` finds it again, `net.cell_multiply_adds(i,
/// {h, w}, ...)` counts a cell for inputs of the given resolutions.
///
/// Laws: build registers the same modules in the same order for the same stack (so a network
/// and its clone, or two runs with one seed, initialize alike); forward reads only what build
/// registered on `net`, never a module kept elsewhere (clone() replaces modules).
///
/// Models: nas::layouts::Darts, nas::layouts::Nb201, nas::layouts::Mobile;
/// examples/custom_layout.cpp writes one more in user code.
template <class L>
concept layout = requires {
  { L::name } -> std::convertible_to<std::string_view>;
  typename L::skeleton;
  requires std::default_initializable<typename L::skeleton>;
  requires std::copy_constructible<typename L::skeleton>;
};

/// A search space that declares a layout (nas::layout_of) which accepts it: what nas::Network
/// and nas::Supernet need.
template <class S>
concept laid_out_space = search_space<S> && declares_layout<S> && layout<layout_t<S>> &&
    detail::layout_accepts<layout_t<S>, S>;

namespace detail {
/// The static_asserts nas::Network and nas::Supernet open with: one message per mistake.
template <class S>
consteval bool check_laid_out(const char* /*who*/) {
  static_assert(declares_layout<S>,
                "nas: this space declares no layout, so nas cannot stack its cells into a "
                "network. Declare one after the space: `template <> struct "
                "nas::layout_of<my_space> : std::type_identity<nas::layouts::Darts> {};` "
                "(or nas::layouts::Nb201, nas::layouts::Mobile, or a layout of your own: "
                "docs/design.md)");
  if constexpr (declares_layout<S>) {
    static_assert(layout<layout_t<S>>,
                  "nas: the type nas::layout_of<space>::type names is not a nas::layout: it "
                  "needs a `name` and a default-constructible, copyable `skeleton` with "
                  "build(net) and forward(net, x) (see nas/layout/layout.hpp)");
    if constexpr (layout<layout_t<S>>)
      static_assert(layout_accepts<layout_t<S>, S>,
                    "nas: the layout this space declares does not accept the space (its "
                    "`accepts<S>` is false): see the layout's documentation for the cells it "
                    "stacks");
  }
  return true;
}

/// Stands in for a missing or invalid layout after check_laid_out has said why, so that one
/// message is all the user sees.
struct NoLayout {
  static constexpr std::string_view name = "none";
  struct skeleton {
    template <class Net>
    void build(Net&) {}
    template <class Net>
    torch::Tensor forward(Net&, const torch::Tensor& x) {
      return x;
    }
  };
};
template <class S>
struct layout_or_none {
  using type = NoLayout;
};
template <class S>
  requires laid_out_space<S>
struct layout_or_none<S> {
  using type = layout_t<S>;
};

/// The layout's default for nas::SupernetOptions::track_running_stats.
template <class L>
constexpr bool track_running_stats_in_search() {
  if constexpr (requires { L::track_running_stats_in_search; })
    return static_cast<bool>(L::track_running_stats_in_search);
  else
    return false;
}
}  // namespace detail

}  // namespace nas
