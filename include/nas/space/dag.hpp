#pragma once
/// @file
/// nas::Dag: the shape of a cell as a compile-time value, and its factories
/// nas::dense_dag, nas::make_dag and nas::chain_dag.

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <optional>

#include "nas/core/diagnostic.hpp"

namespace nas {

/// Largest number of nodes (inputs and computed nodes) in one cell.
inline constexpr std::size_t max_dag_nodes = 64;
/// Largest number of edges in one cell.
inline constexpr std::size_t max_dag_edges = 128;
/// The keep rule of a cell whose derived architectures keep every edge (NAS-Bench-201, chains).
inline constexpr std::size_t keep_all = std::numeric_limits<std::size_t>::max();

/// How a cell forms its output from its nodes.
enum class Output : std::uint8_t {
  concat_nodes,  ///< concatenation of computed nodes (DARTS, NASNet, ENAS); a genotype says which
  last_node,     ///< the last computed node (NAS-Bench-201, layer-wise chains)
};
/// Shorthands for designated initializers: `.output = nas::concat_nodes`.
inline constexpr Output concat_nodes = Output::concat_nodes;
inline constexpr Output last_node = Output::last_node;

/// A directed edge between two nodes of a cell; node ids count inputs first.
struct Edge {
  std::size_t from = 0;
  std::size_t to = 0;
  friend constexpr bool operator==(const Edge&, const Edge&) = default;
};

/// The shape of a cell: input nodes, computed nodes, edges, output rule and keep rule.
///
/// Node ids: inputs are `0 .. inputs-1`, computed nodes `inputs .. inputs+nodes-1`.
/// Every edge goes from a lower to a higher id and ends at a computed node; every
/// computed node has at least one incoming edge. Edges are stored sorted by
/// target, then source: their position is the edge's index in genotypes and in
/// a supernet's architecture parameters (DARTS order: (0,2), (1,2), (0,3), ...).
///
/// A `Dag` is a structural type: a `constexpr` value of it is a template argument
/// (`nas::Cell<"normal", my_dag, my_ops>`). Build it with nas::dense_dag,
/// nas::make_dag or nas::chain_dag, which check every rule at compile time and
/// report a broken one at the user's line.
struct Dag {
  std::size_t inputs = 0;                   ///< number of input nodes
  std::size_t nodes = 0;                    ///< number of computed nodes
  Output output = Output::concat_nodes;     ///< the output rule
  std::size_t keep = keep_all;              ///< inputs a derived node keeps, or nas::keep_all
  bool repeat = false;                      ///< a derived node may take one input more than once
  std::size_t edge_count = 0;               ///< number of edges
  std::array<Edge, max_dag_edges> edges{};  ///< the first `edge_count` are used

  /// Inputs plus computed nodes.
  [[nodiscard]] constexpr std::size_t node_count() const noexcept { return inputs + nodes; }
  /// Whether a derived cell keeps every edge.
  [[nodiscard]] constexpr bool keeps_all() const noexcept { return keep == keep_all; }
  /// Index of the first edge into `node` (edges into a node are contiguous).
  [[nodiscard]] constexpr std::size_t first_edge_into(std::size_t node) const noexcept {
    std::size_t e = 0;
    while (e < edge_count && edges[e].to < node) ++e;
    return e;
  }
  /// One past the index of the last edge into `node`.
  [[nodiscard]] constexpr std::size_t end_edge_into(std::size_t node) const noexcept {
    return first_edge_into(node + 1);
  }
  /// Number of edges into `node`.
  [[nodiscard]] constexpr std::size_t in_degree(std::size_t node) const noexcept {
    return end_edge_into(node) - first_edge_into(node);
  }
  /// How many of a node's kept inputs one edge can carry: `keep` when inputs may
  /// repeat (NASNet-A feeds a node twice from the same input), otherwise 1.
  [[nodiscard]] constexpr std::size_t max_ops_per_edge() const noexcept {
    return repeat && !keeps_all() ? keep : 1;
  }
  /// How many inputs a derived `node` keeps: `keep`, or its in-degree under nas::keep_all.
  [[nodiscard]] constexpr std::size_t kept_inputs(std::size_t node) const noexcept {
    return keeps_all() ? in_degree(node) : keep;
  }
  /// The index of edge `from -> to`, or nothing.
  [[nodiscard]] constexpr std::optional<std::size_t> edge_index(std::size_t from,
                                                                std::size_t to) const noexcept {
    for (std::size_t e = 0; e < edge_count; ++e)
      if (edges[e].from == from && edges[e].to == to) return e;
    return std::nullopt;
  }
  /// Whether `node` is an input node.
  [[nodiscard]] constexpr bool is_input(std::size_t node) const noexcept { return node < inputs; }

  friend constexpr bool operator==(const Dag&, const Dag&) = default;
};

/// Options of nas::dense_dag. Defaults are the DARTS cell.
struct DenseDagOptions {
  std::size_t inputs = 2;                ///< input nodes (the two previous cells in DARTS)
  std::size_t nodes = 4;                 ///< computed nodes
  Output output = Output::concat_nodes;  ///< output rule
  std::size_t keep = 2;                  ///< inputs a derived node keeps, or nas::keep_all
  bool repeat = false;                   ///< a derived node may take one input more than once
};

/// Options of nas::make_dag. Defaults are the NAS-Bench-201 cell.
struct DagOptions {
  std::size_t inputs = 1;             ///< input nodes
  Output output = Output::last_node;  ///< output rule
  std::size_t keep = keep_all;        ///< inputs a derived node keeps, or nas::keep_all
  bool repeat = false;                ///< a derived node may take one input more than once
};

/// Options of nas::chain_dag.
struct ChainOptions {
  std::size_t layers = 1;  ///< searchable layers, one op each
};

namespace detail {
// Each check sits in its own function so that the compiler's "in 'constexpr'
// expansion of" lines show the offending values, e.g. check_edge_goes_forward(3, 1).
constexpr void check_dag_sizes(std::size_t inputs, std::size_t nodes) {
  if (inputs == 0) diagnostic::invalid_dag_shape("a cell needs at least one input node");
  if (nodes == 0) diagnostic::invalid_dag_shape("a cell needs at least one computed node");
  if (inputs + nodes > max_dag_nodes)
    diagnostic::invalid_dag_shape("too many nodes: a cell has at most nas::max_dag_nodes (64)");
}
constexpr void check_edge_count(std::size_t count) {
  if (count > max_dag_edges)
    diagnostic::invalid_dag_shape("too many edges: a cell has at most nas::max_dag_edges (128)");
}
constexpr void check_edge_goes_forward(std::size_t from, std::size_t to) {
  if (from == to)
    diagnostic::invalid_dag_shape(
        "self edge (node -> same node); edges go from lower to higher node ids");
  if (from > to)
    diagnostic::invalid_dag_shape(
        "edge (from -> to) points backwards; edges go from lower to higher node ids");
}
constexpr void check_edge_target(std::size_t to, std::size_t inputs) {
  if (to < inputs)
    diagnostic::invalid_dag_shape(
        "edge points into an input node; input nodes have no incoming edges");
}
constexpr void check_edge_unique(std::size_t from, std::size_t to, bool seen) {
  if (seen) diagnostic::invalid_dag_shape("edge (from -> to) appears twice");
  (void)from;
  (void)to;
}
constexpr void check_node_has_input(std::size_t node, std::size_t in_degree) {
  if (in_degree == 0)
    diagnostic::invalid_dag_shape(
        "a computed node has no input; every computed node needs an incoming edge");
  (void)node;
}
constexpr void check_keep(std::size_t node, std::size_t in_degree, std::size_t keep, bool repeat) {
  if (keep == 0)
    diagnostic::invalid_dag_shape(
        "keep is 0; a derived node keeps at least one input (or nas::keep_all)");
  if (keep == keep_all && repeat)
    diagnostic::invalid_dag_shape(
        "repeat needs a keep rule k; a cell that keeps every edge takes each input once");
  if (keep != keep_all && !repeat && keep > in_degree)
    diagnostic::invalid_dag_shape(
        "keep is larger than a node's in-degree; a derived node cannot keep more inputs than it "
        "has edges (unless inputs may repeat: .repeat = true)");
  (void)node;
}

/// Sorts edges by (to, from) and checks every rule of a nas::Dag.
constexpr Dag finish_dag(Dag d) {
  check_dag_sizes(d.inputs, d.nodes);
  check_edge_count(d.edge_count);
  for (std::size_t i = 0; i < d.edge_count; ++i) {
    check_edge_goes_forward(d.edges[i].from, d.edges[i].to);
    check_edge_target(d.edges[i].to, d.inputs);
  }
  // insertion sort by (to, from): cells are small
  for (std::size_t i = 1; i < d.edge_count; ++i) {
    Edge e = d.edges[i];
    std::size_t j = i;
    while (j > 0 && (d.edges[j - 1].to > e.to ||
                     (d.edges[j - 1].to == e.to && d.edges[j - 1].from > e.from))) {
      d.edges[j] = d.edges[j - 1];
      --j;
    }
    d.edges[j] = e;
  }
  for (std::size_t i = 1; i < d.edge_count; ++i)
    check_edge_unique(d.edges[i].from, d.edges[i].to, d.edges[i] == d.edges[i - 1]);
  for (std::size_t n = d.inputs; n < d.node_count(); ++n) {
    check_node_has_input(n, d.in_degree(n));
    check_keep(n, d.in_degree(n), d.keep, d.repeat);
  }
  return d;
}
}  // namespace detail

/// Checks a hand-built nas::Dag (sorting its edges); every nas factory calls it.
/// In a constant expression a broken rule stops compilation with the rule in the message.
constexpr Dag validate(Dag d) { return detail::finish_dag(d); }

/// A DAG in which every computed node is fed by all earlier nodes (inputs included).
///
/// The DARTS cell is `nas::dense_dag({.inputs = 2, .nodes = 4, .output = nas::concat_nodes,
/// .keep = 2})`: 14 edges. NASNet, AmoebaNet and ENAS cells are dense too, and their
/// nodes may take one input twice: `.repeat = true` (NASNet: 5 nodes).
consteval Dag dense_dag(DenseDagOptions options) {
  detail::check_dag_sizes(options.inputs, options.nodes);
  Dag d{.inputs = options.inputs,
        .nodes = options.nodes,
        .output = options.output,
        .keep = options.keep,
        .repeat = options.repeat};
  std::size_t count = 0;
  for (std::size_t to = options.inputs; to < options.inputs + options.nodes; ++to) count += to;
  detail::check_edge_count(count);
  for (std::size_t to = options.inputs; to < options.inputs + options.nodes; ++to)
    for (std::size_t from = 0; from < to; ++from) d.edges[d.edge_count++] = Edge{from, to};
  return detail::finish_dag(d);
}

/// A DAG with an explicit edge list; the number of computed nodes is the largest
/// target id minus the inputs, plus one.
///
/// The NAS-Bench-201 cell: `nas::make_dag({.inputs = 1, .output = nas::last_node},
/// {{0, 1}, {0, 2}, {1, 2}, {0, 3}, {1, 3}, {2, 3}})`.
template <std::size_t N>
consteval Dag make_dag(DagOptions options, const Edge (&edges)[N]) {
  detail::check_edge_count(N);
  std::size_t last = 0;
  for (const Edge& e : edges) last = e.to > last ? e.to : last;
  if (last < options.inputs) diagnostic::invalid_dag_shape("no edge ends at a computed node");
  Dag d{.inputs = options.inputs,
        .nodes = last + 1 - options.inputs,
        .output = options.output,
        .keep = options.keep,
        .repeat = options.repeat};
  for (const Edge& e : edges) d.edges[d.edge_count++] = e;
  return detail::finish_dag(d);
}

/// A chain of `layers` computed nodes, each fed by the previous one: one op per
/// layer, as in the layer-wise spaces of ProxylessNAS, FBNet and MnasNet.
consteval Dag chain_dag(ChainOptions options) {
  detail::check_dag_sizes(1, options.layers);
  detail::check_edge_count(options.layers);
  Dag d{.inputs = 1, .nodes = options.layers, .output = Output::last_node, .keep = keep_all};
  for (std::size_t i = 0; i < options.layers; ++i) d.edges[d.edge_count++] = Edge{i, i + 1};
  return detail::finish_dag(d);
}

}  // namespace nas
