#pragma once
/// @file
/// nas::Cell: a named cell kind (a DAG shape and an op set), and the nas::cell_kind concept.

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "nas/core/fixed_string.hpp"
#include "nas/core/math.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/space/dag.hpp"

namespace nas {

namespace diagnostic {
template <FixedString Name>
void cell_name_must_be_non_empty_and_use_only_letters_digits_or_underscore();
void Dag_edges_must_be_sorted_by_target_then_source__build_the_Dag_with_nas_make_dag();
void a_cell_that_keeps_k_inputs_needs_an_op_that_is_not_a_zero_op();
}  // namespace diagnostic

namespace detail {
template <FixedString Name>
consteval bool check_cell_name() {
  bool ok = !Name.empty();
  for (char c : Name.view())
    ok = ok &&
         ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_');
  if (!ok)
    diagnostic::cell_name_must_be_non_empty_and_use_only_letters_digits_or_underscore<Name>();
  return true;
}

consteval bool check_cell_dag(const Dag& shape) {
  // finish_dag reports any broken rule; a hand-built Dag must also be in canonical order.
  if (!(finish_dag(shape) == shape))
    diagnostic::Dag_edges_must_be_sorted_by_target_then_source__build_the_Dag_with_nas_make_dag();
  return true;
}

template <Dag Shape, class Ops>
consteval bool check_cell_ops() {
  if (!Shape.keeps_all() && Ops::nonzero_count == 0)
    diagnostic::a_cell_that_keeps_k_inputs_needs_an_op_that_is_not_a_zero_op();
  return true;
}

template <FixedString Name, Dag Shape, class Ops>
concept valid_cell = check_cell_name<Name>() &&
    check_cell_dag(Shape) && check_cell_ops<Shape, Ops>();
}  // namespace detail

/// A cell kind: a name, a DAG shape and the op set searched on its edges.
///
/// ```
/// inline constexpr auto darts_dag = nas::dense_dag({.inputs = 2, .nodes = 4, .keep = 2});
/// using normal = nas::Cell<"normal", darts_dag, my_ops>;
/// static_assert(normal::edge_count == 14);
/// ```
///
/// Requirements: the name is non-empty and uses letters, digits and `_` (it becomes
/// a field name in DARTS text: `normal=[...]`, `normal_concat=[...]`); `Ops` is a
/// nas::op_set; a cell that keeps k inputs has at least one op that is not a zero op.
/// Models: nas::cell_kind.
template <FixedString Name, Dag Shape, op_set Ops>
  requires detail::valid_cell<Name, Shape, Ops>
struct Cell {
  /// The cell kind's name.
  static constexpr std::string_view name = Name.view();
  static constexpr auto fixed_name = Name;
  /// The DAG shape.
  static constexpr Dag dag = Shape;
  /// The candidate operations of every edge.
  using ops = Ops;

  static constexpr std::size_t input_count = Shape.inputs;
  /// Computed nodes.
  static constexpr std::size_t node_count = Shape.nodes;
  static constexpr std::size_t edge_count = Shape.edge_count;
  static constexpr std::size_t op_count = Ops::size;

  /// The edges in index order.
  static constexpr auto edges = [] {
    std::array<Edge, edge_count> out{};
    for (std::size_t e = 0; e < edge_count; ++e) out[e] = Shape.edges[e];
    return out;
  }();

  /// Choices a controller makes for this cell: for a node that keeps k inputs, an
  /// input and an op for each (2k); under nas::keep_all, an op per edge.
  static constexpr std::size_t decision_count = [] {
    std::size_t n = 0;
    for (std::size_t v = Shape.inputs; v < Shape.node_count(); ++v)
      n += Shape.keeps_all() ? Shape.in_degree(v) : 2 * Shape.keep;
    return n;
  }();

  /// Distinct derived cells, or nothing when the count does not fit in 64 bits.
  /// Under nas::keep_all: ops^edges. Keeping k distinct inputs: for each node,
  /// C(in-degree, k) input choices times (ops that are not zero ops)^k. Keeping k
  /// inputs that may repeat: for each node, the multisets of k (input, op) pairs,
  /// C(in-degree * non-zero ops + k - 1, k) (the pairs feed a sum: order does not count).
  static constexpr std::optional<std::uint64_t> architecture_count = [] {
    std::optional<std::uint64_t> n = 1;
    for (std::size_t v = Shape.inputs; v < Shape.node_count(); ++v) {
      if (Shape.keeps_all()) {
        n = detail::checked_mul(n, detail::checked_pow(Ops::size, Shape.in_degree(v)));
      } else if (Shape.repeat) {
        // a multiset of k (input, op) pairs out of in-degree x non-zero ops
        const std::uint64_t pairs = Shape.in_degree(v) * Ops::nonzero_count;
        n = detail::checked_mul(n, detail::checked_binomial(pairs + Shape.keep - 1, Shape.keep));
      } else {
        n = detail::checked_mul(n, detail::checked_binomial(Shape.in_degree(v), Shape.keep));
        n = detail::checked_mul(n, detail::checked_pow(Ops::nonzero_count, Shape.keep));
      }
    }
    return n;
  }();

  /// The index of edge `from -> to`; an edge that does not exist fails to compile
  /// in a constant expression and throws nas::InvalidArgument at run time.
  [[nodiscard]] static constexpr std::size_t edge_index(std::size_t from, std::size_t to) {
    const auto e = Shape.edge_index(from, to);
    if (!e) diagnostic::invalid_description("this cell has no edge between these nodes");
    return *e;
  }
};

namespace detail {
template <class T>
inline constexpr bool is_cell = false;
template <FixedString Name, Dag Shape, class Ops>
inline constexpr bool is_cell<Cell<Name, Shape, Ops>> = true;
}  // namespace detail

/// A cell kind of a search space.
///
/// Requirements: `T` is a specialization of nas::Cell.
/// Models: nas::Cell.
template <class T>
concept cell_kind = detail::is_cell<T>;

}  // namespace nas
