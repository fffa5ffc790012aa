#pragma once
/// @file
/// nas::canonical: one representative for every class of isomorphic cells.

#include <algorithm>
#include <array>
#include <cstddef>
#include <string>
#include <vector>

#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {
template <cell_kind C>
inline constexpr bool canonical_applies =
    C::dag.keeps_all() && C::dag.output == Output::last_node&& C::node_count <= 9;

template <cell_kind C>
constexpr CellGenotype<C> canonical_cell(const CellGenotype<C>& g) {
  constexpr const Dag& dag = C::dag;
  constexpr std::size_t nodes = dag.node_count();
  constexpr std::size_t out = nodes - 1;
  constexpr auto zero = [] {
    for (std::size_t i = 0; i < C::ops::size; ++i)
      if (C::ops::is_zero[i]) return i;
    return C::ops::size;
  }();
  constexpr bool has_zero = zero < C::ops::size;

  // 1. An edge is live when its op is not a zero op and it lies on a path from an
  //    input to the output through such edges. Other edges change nothing: they
  //    become the zero op.
  std::array<bool, C::edge_count> alive{};
  for (std::size_t e = 0; e < C::edge_count; ++e) alive[e] = !C::ops::is_zero[*g.op(e)];
  std::array<bool, nodes> from_input{};
  for (std::size_t v = 0; v < dag.inputs; ++v) from_input[v] = true;
  for (std::size_t e = 0; e < C::edge_count; ++e)
    if (alive[e] && from_input[C::edges[e].from]) from_input[C::edges[e].to] = true;
  std::array<bool, nodes> to_output{};
  to_output[out] = true;
  for (std::size_t e = C::edge_count; e-- > 0;)
    if (alive[e] && to_output[C::edges[e].to]) to_output[C::edges[e].from] = true;
  CellGenotype<C> base = g;
  if constexpr (has_zero) {
    for (std::size_t e = 0; e < C::edge_count; ++e)
      if (!(alive[e] && from_input[C::edges[e].from] && to_output[C::edges[e].to]))
        base.set(e, zero);
  }

  // 2. Relabel the intermediate nodes (inputs and output stay) in every way that
  //    maps the live edges onto edges of the DAG; keep the smallest result.
  constexpr std::size_t m = C::node_count - 1;
  std::array<std::size_t, m> perm{};
  for (std::size_t i = 0; i < m; ++i) perm[i] = dag.inputs + i;
  CellGenotype<C> best = base;
  auto relabel = [&](std::size_t v) {
    return v < dag.inputs || v == out ? v : perm[v - dag.inputs];
  };
  do {
    CellGenotype<C> candidate;
    std::array<bool, C::edge_count> filled{};
    bool ok = true;
    for (std::size_t e = 0; e < C::edge_count && ok; ++e) {
      const std::size_t op = *base.op(e);
      if (has_zero && op == zero) continue;
      const auto target = dag.edge_index(relabel(C::edges[e].from), relabel(C::edges[e].to));
      if (!target) {
        ok = false;
        break;
      }
      candidate.set(*target, op);
      filled[*target] = true;
    }
    for (std::size_t e = 0; e < C::edge_count && ok; ++e) {
      if (filled[e]) continue;
      if constexpr (has_zero)
        candidate.set(e, zero);
      else
        ok = false;
    }
    if (ok && candidate < best) best = candidate;
  } while (std::next_permutation(perm.begin(), perm.end()));
  return best;
}
}  // namespace detail

/// The canonical form of `g`: isomorphic cells get the same canonical form.
///
/// For each cell kind that keeps every edge and outputs its last node (the
/// NAS-Bench-201 shape; at most 9 computed nodes): edges whose op is a zero op,
/// or that lie on no path from an input to the output through non-zero ops,
/// contribute nothing and become the zero op; then the intermediate nodes are
/// relabelled in every order that maps the remaining edges onto the DAG's edges,
/// and the smallest genotype wins. Other cell kinds are returned unchanged. Two
/// genotypes are isomorphic exactly when their canonical forms are equal.
/// Throws nas::InvalidArgument when `g` is invalid.
template <search_space S>
[[nodiscard]] constexpr Genotype<S> canonical(const Genotype<S>& g) {
  if (!g.valid()) diagnostic::invalid_genotype("nas::canonical needs a valid genotype");
  Genotype<S> out = g;
  out.for_each_cell([]<class C>(CellGenotype<C>& c) {
    if constexpr (detail::canonical_applies<C>) c = detail::canonical_cell(c);
  });
  return out;
}

/// NAS-Bench-201's key for isomorphic cells, exactly as its API computes it
/// (`to_unique_str(consider_zero=True)`), for comparing with published
/// NAS-Bench-201 statistics: its 15,625 cells have 6,466 distinct keys.
///
/// For the cell of a one-cell space that keeps every edge and outputs its last
/// node: each node gets a string, inputs their id; an edge contributes `#` when
/// its op is a zero op or its source's string is exactly `#`, the source's
/// string when its op is an identity op (nas::enable_identity_op), and
/// `(source)@op` otherwise; a node's string is its edges' contributions sorted
/// and joined by `+`. The key is the output node's string. Functionally equal
/// cells may still get different keys (a kept `#` term is not dropped): this is
/// the published definition, not a new one; nas::canonical is the structural one.
template <search_space S>
  requires(S::cell_count == 1 && S::template cell_at<0>::dag.keeps_all() &&
           S::template cell_at<0>::dag.output == Output::last_node)
[[nodiscard]] std::string nb201_unique_key(const Genotype<S>& g) {
  using C = typename S::template cell_at<0>;
  g.validate();
  const auto& c = g.template cell_at<0>();
  std::vector<std::string> node(C::dag.node_count());
  for (std::size_t v = 0; v < C::dag.inputs; ++v) node[v] = std::to_string(v);
  for (std::size_t v = C::dag.inputs; v < C::dag.node_count(); ++v) {
    std::vector<std::string> terms;
    for (std::size_t e = C::dag.first_edge_into(v); e < C::dag.end_edge_into(v); ++e) {
      const std::size_t op = *c.op(e);
      const std::string& source = node[C::edges[e].from];
      if (C::ops::is_zero[op] || source == "#")
        terms.emplace_back("#");
      else if (C::ops::is_identity[op])
        terms.push_back(source);
      else
        terms.push_back("(" + source + ")@" + std::string(C::ops::names[op]));
    }
    std::sort(terms.begin(), terms.end());
    for (std::size_t i = 0; i < terms.size(); ++i) node[v] += (i == 0 ? "" : "+") + terms[i];
  }
  return node.back();
}

}  // namespace nas
