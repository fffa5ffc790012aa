#pragma once
/// @file
/// Genotypes as JSON: `{"normal": {"edges": [[0, 2, "sep_conv_3x3"], ...], "concat": [2, 3, 4, 5]},
/// ...}`.

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "nas/core/json.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

/// Writes `g` as one line of JSON: an object with one member per cell kind, each
/// an object with `edges` (`[from, to, "op"]` for each kept edge, in edge order)
/// and, for a cell whose output is a concatenation, `concat` (node ids).
template <search_space S>
[[nodiscard]] std::string to_json(const Genotype<S>& g) {
  std::string out = "{";
  bool first_cell = true;
  g.for_each_cell([&]<class C>(const CellGenotype<C>& c) {
    if (!first_cell) out += ", ";
    first_cell = false;
    out += json::quote(C::name);
    out += ": {\"edges\": [";
    bool first = true;
    for (std::size_t e = 0; e < C::edge_count; ++e) {
      for (std::size_t op : c.ops(e)) {
        if (!first) out += ", ";
        first = false;
        // appended piece by piece: GCC 12 at -O3 misreads "literal" + std::string
        out += '[';
        out += std::to_string(C::edges[e].from);
        out += ", ";
        out += std::to_string(C::edges[e].to);
        out += ", ";
        out += json::quote(C::ops::names[op]);
        out += ']';
      }
    }
    out += "]";
    if constexpr (C::dag.output == Output::concat_nodes) {
      out += ", \"concat\": [";
      bool first_node = true;
      for (std::size_t n = C::input_count; n < C::input_count + C::node_count; ++n) {
        if (!c.concatenated(n)) continue;
        if (!first_node) out += ", ";
        first_node = false;
        out += std::to_string(n);
      }
      out += "]";
    }
    out += "}";
  });
  out += '}';
  return out;
}

/// Reads the JSON written by nas::to_json (member order free, spaces free).
/// Throws nas::ParseError naming the position and the problem, including a
/// genotype that breaks its cell's keep rule.
template <search_space S>
[[nodiscard]] Genotype<S> parse_json(std::string_view text) {
  constexpr std::string_view format = "JSON genotype";
  const json::Value doc = json::parse(text, format);
  auto fail = [&](std::size_t at, const std::string& problem) {
    throw ParseError(format, text, at, problem);
  };
  if (!doc.is_object()) fail(doc.offset, "expected an object with one member per cell kind");
  for (const auto& [key, value] : doc.object)
    if (!S::find_cell(key)) {
      std::string names;
      for (auto n : S::cell_names) names += (names.empty() ? "" : ", ") + std::string(n);
      fail(value.offset, "unknown cell kind \"" + key + "\"; this space has " + names);
    }
  Genotype<S> g;
  g.for_each_cell([&]<class C>(CellGenotype<C>& c) {
    const json::Value* cell = doc.find(C::name);
    if (cell == nullptr) fail(text.size(), "missing cell kind \"" + std::string(C::name) + "\"");
    if (!cell->is_object()) fail(cell->offset, "expected an object with \"edges\"");
    for (const auto& [key, value] : cell->object)
      if (key != "edges" && key != "concat")
        fail(value.offset, "unknown member \"" + key + "\"; a cell has \"edges\" and \"concat\"");
    const json::Value* edges = cell->find("edges");
    if (edges == nullptr || !edges->is_array())
      fail(cell->offset, "cell \"" + std::string(C::name) + "\" needs an \"edges\" array");
    constexpr double max_node = static_cast<double>(max_dag_nodes);
    for (const json::Value& e : edges->array) {
      if (!e.is_array() || e.array.size() != 3 || !json::is_integer(e.array[0], 0, max_node) ||
          !json::is_integer(e.array[1], 0, max_node) || !e.array[2].is_string())
        fail(e.offset, "expected an edge [from, to, \"op\"]");
      const auto from = static_cast<std::size_t>(e.array[0].number);
      const auto to = static_cast<std::size_t>(e.array[1].number);
      const auto index = C::dag.edge_index(from, to);
      if (!index)
        fail(e.offset, "cell \"" + std::string(C::name) + "\" has no edge (" +
                           std::to_string(from) + " -> " + std::to_string(to) + ")");
      const auto op = C::ops::find(e.array[2].string);
      if (!op)
        fail(e.array[2].offset, "unknown op \"" + e.array[2].string + "\"; cell \"" +
                                    std::string(C::name) + "\" has ops " + C::ops::name_list());
      if (c.ops(*index).size() == C::dag.max_ops_per_edge())
        fail(e.offset, "edge (" + std::to_string(from) + " -> " + std::to_string(to) +
                           (C::dag.max_ops_per_edge() == 1
                                ? ") appears twice; the cell's nodes take each input once"
                                : ") appears more often than a node keeps inputs"));
      c.add(*index, *op);
    }
    const json::Value* concat = cell->find("concat");
    if constexpr (C::dag.output == Output::concat_nodes) {
      if (concat == nullptr || !concat->is_array())
        fail(cell->offset, "cell \"" + std::string(C::name) + "\" needs a \"concat\" array");
      std::uint64_t mask = 0;
      for (const json::Value& n : concat->array) {
        if (!json::is_integer(n, static_cast<double>(C::input_count),
                              static_cast<double>(C::input_count + C::node_count - 1)))
          fail(n.offset, "concat names a node that is not a computed node of cell \"" +
                             std::string(C::name) + "\"");
        const std::uint64_t bit = std::uint64_t{1}
                                  << (static_cast<std::size_t>(n.number) - C::input_count);
        if ((mask & bit) != 0) fail(n.offset, "concat names a node twice");
        mask |= bit;
      }
      c.set_concat_mask(mask);
    } else if (concat != nullptr) {
      fail(concat->offset,
           "cell \"" + std::string(C::name) + "\" outputs its last node; it has no \"concat\"");
    }
    if (!c.valid()) fail(cell->offset, c.describe_problem());
  });
  return g;
}

}  // namespace nas
