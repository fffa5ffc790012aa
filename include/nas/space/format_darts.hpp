#pragma once
/// @file
/// The DARTS genotype text: `Genotype(normal=[('sep_conv_3x3', 0), ...], normal_concat=[2, 3, 4,
/// 5], ...)`.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "nas/core/text_cursor.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

/// Options of nas::to_darts.
struct DartsTextOptions {
  /// Write a contiguous concat list as `range(2, 6)` (what DARTS's search prints)
  /// instead of `[2, 3, 4, 5]` (what its genotypes.py holds).
  bool concat_as_range = false;
};

namespace detail {
/// Calls `f(std::integral_constant<std::size_t, I>{})` for the run-time index `i < N`.
template <std::size_t N, class F>
constexpr void with_index(std::size_t i, F&& f) {
  [&]<std::size_t... I>(std::index_sequence<I...>) {
    ((i == I ? (f(std::integral_constant<std::size_t, I>{}), 0) : 0), ...);
  }
  (std::make_index_sequence<N>{});
}

template <cell_kind C>
std::string darts_pairs(const CellGenotype<C>& g) {
  std::string out = "[";
  bool first = true;
  for (std::size_t e = 0; e < C::edge_count; ++e) {
    for (std::size_t op : g.ops(e)) {
      if (!first) out += ", ";
      first = false;
      out += "('";
      out += C::ops::names[op];
      out += "', " + std::to_string(C::edges[e].from) + ")";
    }
  }
  return out + "]";
}

template <cell_kind C>
std::string darts_concat(const CellGenotype<C>& g, const DartsTextOptions& options) {
  const std::uint64_t mask = g.concat_mask();
  std::size_t lo = 0;
  while (lo < 64 && ((mask >> lo) & 1U) == 0) ++lo;
  std::size_t hi = lo;
  while (hi < 64 && ((mask >> hi) & 1U) != 0) ++hi;
  const bool contiguous = lo < 64 && (hi >= 64 || (mask >> hi) == 0);
  if (options.concat_as_range && contiguous)
    return "range(" + std::to_string(C::input_count + lo) + ", " +
           std::to_string(C::input_count + hi) + ")";
  std::string out = "[";
  bool first = true;
  for (std::size_t i = 0; i < C::node_count; ++i) {
    if (((mask >> i) & 1U) == 0) continue;
    if (!first) out += ", ";
    first = false;
    out += std::to_string(C::input_count + i);
  }
  return out + "]";
}

template <cell_kind C>
constexpr void parse_darts_pairs(TextCursor& cur, CellGenotype<C>& g) {
  constexpr const Dag& dag = C::dag;
  std::size_t total = 0;
  for (std::size_t v = dag.inputs; v < dag.node_count(); ++v) total += dag.kept_inputs(v);
  cur.expect('[', "'[' to open the list of (op, input) pairs");
  std::size_t node = dag.inputs;
  std::size_t in_node = 0;
  std::size_t seen = 0;
  if (!cur.eat(']')) {
    do {
      cur.skip_space();
      const std::size_t pair_at = cur.pos;
      cur.expect('(', "'(' to open an (op, input) pair");
      cur.skip_space();
      const std::size_t op_at = cur.pos;
      const std::string_view op = cur.quoted("op name");
      cur.expect(',', "',' between the op name and the input node");
      cur.skip_space();
      const std::size_t input_at = cur.pos;
      const std::size_t input = cur.integer("input node");
      cur.expect(')', "')' to close the (op, input) pair");
      while (node < dag.node_count() && in_node == dag.kept_inputs(node)) {
        ++node;
        in_node = 0;
      }
      if (node >= dag.node_count())
        cur.fail(pair_at, "cell '", C::name, "' takes ", total,
                 " (op, input) pairs; this is one more");
      const auto op_index = C::ops::find(op);
      if (!op_index)
        cur.fail(op_at, "unknown op '", op, "'; cell '", C::name, "' has ops ",
                 C::ops::name_list());
      const auto edge = dag.edge_index(input, node);
      if (!edge)
        cur.fail(input_at, "node ", node, " of cell '", C::name, "' has no edge from node ", input,
                 "; its inputs are nodes 0 to ", node - 1);
      if (C::dag.max_ops_per_edge() == 1 && g.op(*edge))
        cur.fail(input_at, "node ", node, " of cell '", C::name, "' lists input ", input,
                 " twice; its nodes take each input once (a DAG with .repeat = true allows it)");
      if (!dag.keeps_all() && C::ops::is_zero[*op_index])
        cur.fail(op_at, "the zero op '", op, "' on a kept edge; a derived cell keeps no zero op");
      g.add(*edge, *op_index);
      ++in_node;
      ++seen;
      if (!cur.eat(',')) {
        cur.expect(']', "',' or ']' in the list of (op, input) pairs");
        break;
      }
    } while (!cur.eat(']'));  // Python allows a trailing comma
  }
  if (seen != total)
    cur.fail(cur.pos - 1, "cell '", C::name, "' lists ", seen, " (op, input) pairs; it takes ",
             total, " (the inputs each of its ", dag.nodes, " nodes keeps, in node order)");
}

template <cell_kind C>
constexpr void parse_darts_concat(TextCursor& cur, CellGenotype<C>& g) {
  constexpr const Dag& dag = C::dag;
  std::uint64_t mask = 0;
  auto add = [&](std::size_t node, std::size_t at) {
    if (node < dag.inputs || node >= dag.node_count())
      cur.fail(at, "concat names node ", node, "; the computed nodes of cell '", C::name, "' are ",
               dag.inputs, " to ", dag.node_count() - 1);
    const std::uint64_t bit = std::uint64_t{1} << (node - dag.inputs);
    if ((mask & bit) != 0) cur.fail(at, "concat names node ", node, " twice");
    mask |= bit;
  };
  cur.skip_space();
  const std::size_t start = cur.pos;
  if (cur.peek() == 'r') {
    const std::string_view w = cur.word();
    if (w != "range") cur.fail(start, "expected a concat list '[...]' or 'range(a, b)'");
    cur.expect('(', "'(' after 'range'");
    cur.skip_space();
    const std::size_t lo_at = cur.pos;
    const std::size_t lo = cur.integer("range start");
    cur.expect(',', "',' in range(a, b)");
    cur.skip_space();
    const std::size_t hi_at = cur.pos;
    const std::size_t hi = cur.integer("range end");
    cur.expect(')', "')' to close range(a, b)");
    if (hi <= lo) cur.fail(hi_at, "range(", lo, ", ", hi, ") is empty");
    for (std::size_t n = lo; n < hi; ++n) add(n, lo_at);
  } else {
    cur.expect('[', "a concat list '[...]' or 'range(a, b)'");
    if (cur.eat(']')) cur.fail(start, "the concat list is empty; concatenate at least one node");
    do {
      cur.skip_space();
      const std::size_t at = cur.pos;
      add(cur.integer("concat node"), at);
      if (!cur.eat(',')) {
        cur.expect(']', "',' or ']' in the concat list");
        break;
      }
    } while (!cur.eat(']'));
  }
  g.set_concat_mask(mask);
}
}  // namespace detail

/// Writes `g` as DARTS prints a genotype: one `<cell>=[(op, input), ...]` field per
/// cell kind, with each node's kept inputs in ascending order, and one
/// `<cell>_concat=[...]` field per cell whose output is a concatenation.
template <search_space S>
[[nodiscard]] std::string to_darts(const Genotype<S>& g, const DartsTextOptions& options = {}) {
  std::string out = "Genotype(";
  bool first = true;
  g.for_each_cell([&]<class C>(const CellGenotype<C>& c) {
    if (!first) out += ", ";
    first = false;
    out += std::string(C::name) + "=" + detail::darts_pairs(c);
    if constexpr (C::dag.output == Output::concat_nodes)
      out += ", " + std::string(C::name) + "_concat=" + detail::darts_concat(c, options);
  });
  return out + ")";
}

/// Reads the DARTS genotype text, as written by DARTS's code (`range(2, 6)`) and
/// its genotypes.py (`[2, 3, 4, 5]`), in any field order, spaces and line breaks
/// anywhere between tokens, quotes ' or ".
///
/// Each cell's list gives, node after node, the (op, input) pairs each node keeps
/// (2 for DARTS). The pairs of one node may come in any order; the genotype holds
/// edges, so printing it lists each node's inputs in ascending order (then ops in
/// op order). A node may list the same input twice (NASNet-A, AmoebaNet-A and ENAS
/// cells do) only when its DAG says `.repeat = true`; otherwise the text is refused
/// with a message saying so. Trailing commas are accepted, as in Python.
/// Throws nas::ParseError naming the position and the problem (unknown op, input
/// that is not a predecessor, wrong pair count, a zero op kept, a missing,
/// repeated or unknown field). Usable in constant expressions: a bad literal then
/// fails to compile.
template <search_space S>
[[nodiscard]] constexpr Genotype<S> parse_darts(std::string_view text) {
  detail::TextCursor cur{text, "DARTS genotype", 0};
  Genotype<S> g;
  std::array<bool, S::cell_count> seen_pairs{};
  std::array<bool, S::cell_count> seen_concat{};
  cur.skip_space();
  const std::size_t head_at = cur.pos;
  if (cur.word() != "Genotype") cur.fail(head_at, "expected 'Genotype('");
  cur.expect('(', "'(' after 'Genotype'");
  if (!cur.eat(')')) {
    do {
      cur.skip_space();
      const std::size_t field_at = cur.pos;
      const std::string_view field = cur.word();
      if (field.empty())
        cur.fail(field_at, "expected a field name such as '", S::cell_names[0], "'");
      cur.expect('=', "'=' after the field name");
      bool matched = false;
      for (std::size_t i = 0; i < S::cell_count && !matched; ++i) {
        const std::string_view name = S::cell_names[i];
        const bool pairs = field == name;
        const bool concat = !pairs && field.size() == name.size() + 7 &&
                            field.substr(0, name.size()) == name &&
                            field.substr(name.size()) == "_concat";
        if (!pairs && !concat) continue;
        matched = true;
        auto& seen = pairs ? seen_pairs : seen_concat;
        if (seen[i]) cur.fail(field_at, "field '", field, "' appears twice");
        seen[i] = true;
        detail::with_index<S::cell_count>(i, [&](auto index) {
          auto& cell = g.template cell_at<decltype(index)::value>();
          using C = typename std::remove_cvref_t<decltype(cell)>::cell;
          if (pairs) {
            detail::parse_darts_pairs(cur, cell);
          } else if constexpr (C::dag.output == Output::concat_nodes) {
            detail::parse_darts_concat(cur, cell);
          } else {
            cur.fail(field_at, "cell '", C::name, "' outputs its last node; it takes no '", field,
                     "' field");
          }
        });
      }
      if (!matched) {
        std::string expected;
        g.for_each_cell([&]<class C>(const CellGenotype<C>&) {
          if (!expected.empty()) expected += ", ";
          expected += std::string(C::name);
          if constexpr (C::dag.output == Output::concat_nodes)
            expected += ", " + std::string(C::name) + "_concat";
        });
        cur.fail(field_at, "unknown field '", field, "'; the fields are ", expected);
      }
      if (!cur.eat(',')) {
        cur.expect(')', "',' or ')' after a field");
        break;
      }
    } while (!cur.eat(')'));
  }
  cur.skip_space();
  if (!cur.at_end()) cur.fail(cur.pos, "unexpected text after the closing ')'");
  for (std::size_t i = 0; i < S::cell_count; ++i) {
    if (!seen_pairs[i]) cur.fail(cur.pos, "missing field '", S::cell_names[i], "'");
    bool concat_cell = false;
    detail::with_index<S::cell_count>(i, [&](auto index) {
      concat_cell = S::template cell_at<decltype(index)::value>::dag.output == Output::concat_nodes;
    });
    if (concat_cell && !seen_concat[i])
      cur.fail(cur.pos, "missing field '", S::cell_names[i], "_concat'");
  }
  return g;
}

}  // namespace nas
