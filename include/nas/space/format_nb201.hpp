#pragma once
/// @file
/// The NAS-Bench-201 architecture string: `|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|...|`.

#include <cstddef>
#include <string>
#include <string_view>

#include "nas/core/text_cursor.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

/// Writes one cell in the NAS-Bench-201 form: for each computed node a group
/// `|op~input|op~input|` of its kept edges in ascending input order, groups
/// joined by `+`.
template <cell_kind C>
[[nodiscard]] std::string to_nb201(const CellGenotype<C>& g) {
  std::string out;
  for (std::size_t v = C::dag.inputs; v < C::dag.node_count(); ++v) {
    if (v != C::dag.inputs) out += '+';
    out += '|';
    for (std::size_t e = C::dag.first_edge_into(v); e < C::dag.end_edge_into(v); ++e) {
      for (std::size_t op : g.ops(e)) {
        out += C::ops::names[op];
        out += '~' + std::to_string(C::edges[e].from) + '|';
      }
    }
  }
  return out;
}

/// Writes a genotype of a one-cell space in the NAS-Bench-201 form.
template <search_space S>
  requires(S::cell_count == 1)
[[nodiscard]] std::string to_nb201(const Genotype<S>& g) {
  return to_nb201(g.template cell_at<0>());
}

/// Reads one cell in the NAS-Bench-201 form. The text is exact (no spaces inside;
/// spaces and line breaks around it are ignored): one
/// group per computed node, each listing the node's kept edges (every edge under
/// nas::keep_all) once, in any order. Throws nas::ParseError naming the position
/// and the problem. Usable in constant expressions.
template <cell_kind C>
[[nodiscard]] constexpr CellGenotype<C> parse_nb201_cell(std::string_view text) {
  detail::TextCursor cur{text, "NAS-Bench-201 string", 0};
  constexpr const Dag& dag = C::dag;
  CellGenotype<C> g;
  cur.skip_space();
  for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) {
    if (v != dag.inputs && !cur.eat_exact('+'))
      cur.fail(cur.pos, cur.at_end() ? "the string ended after " : "expected '+' after ",
               v - dag.inputs, " node group(s); cell '", C::name, "' has ", dag.nodes,
               " computed nodes");
    const std::size_t group_at = cur.pos;
    if (!cur.eat_exact('|')) cur.fail(cur.pos, "expected '|' to open the group of node ", v);
    std::size_t kept = 0;
    while (detail::TextCursor::is_word_char(cur.peek())) {
      const std::size_t op_at = cur.pos;
      const std::string_view op = cur.word();
      if (op.empty()) cur.fail(op_at, "expected an op name");
      const auto op_index = C::ops::find(op);
      if (!op_index)
        cur.fail(op_at, "unknown op '", op, "'; cell '", C::name, "' has ops ",
                 C::ops::name_list());
      if (!cur.eat_exact('~')) cur.fail(cur.pos, "expected '~' between the op and its input node");
      const std::size_t input_at = cur.pos;
      const std::size_t input = cur.integer("input node");
      const auto edge = dag.edge_index(input, v);
      if (!edge)
        cur.fail(input_at, "node ", v, " has no edge from node ", input,
                 "; its inputs are nodes 0 to ", v - 1);
      if (C::dag.max_ops_per_edge() == 1 && g.op(*edge))
        cur.fail(input_at, "node ", v, " lists input ", input, " twice");
      if (!dag.keeps_all() && C::ops::is_zero[*op_index])
        cur.fail(op_at, "the zero op '", op, "' on a kept edge; a derived cell keeps no zero op");
      if (kept == dag.kept_inputs(v))
        cur.fail(op_at, "node ", v, " lists more than the ", kept, " edge(s) it keeps");
      g.add(*edge, *op_index);
      ++kept;
      if (!cur.eat_exact('|')) cur.fail(cur.pos, "expected '|' after an edge");
    }
    if (kept == 0 && !cur.at_end() && cur.peek() != '+') cur.fail(cur.pos, "expected an op name");
    if (kept != dag.kept_inputs(v))
      cur.fail(group_at, "node ", v, " lists ", kept, " edge(s); it keeps ", dag.kept_inputs(v));
  }
  cur.skip_space();
  if (!cur.at_end())
    cur.fail(cur.pos, "unexpected text after the last node group; cell '", C::name, "' has ",
             dag.nodes, " computed nodes");
  return g;
}

/// Reads a genotype of a one-cell space in the NAS-Bench-201 form.
template <search_space S>
[[nodiscard]] constexpr Genotype<S> parse_nb201(std::string_view text) {
  static_assert(S::cell_count == 1,
                "nas::parse_nb201: a NAS-Bench-201 string describes one cell, and this space has "
                "several cell kinds; use nas::parse_darts or nas::parse_json");
  Genotype<S> g;
  g.template cell_at<0>() = parse_nb201_cell<typename S::template cell_at<0>>(text);
  return g;
}

}  // namespace nas
