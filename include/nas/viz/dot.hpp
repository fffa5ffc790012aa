#pragma once
/// @file
/// Drawings of derived cells: a genotype's cells as Graphviz DOT, and rendering with
/// Graphviz's `dot` when it is installed.

#include <cstddef>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <vector>

#include "nas/core/diagnostic.hpp"
#include "nas/space/genotype.hpp"

namespace nas {

namespace detail {
/// The label of node `v` of a cell with `inputs` input nodes: DARTS's names for the
/// inputs (`c_{k-2}`, `c_{k-1}`), the computed nodes numbered from 0.
inline std::string dot_node_label(std::size_t v, std::size_t inputs) {
  // appended piece by piece: GCC 12 at -O3 misreads "literal" + std::string
  std::string label;
  if (v < inputs) {
    label = inputs <= 2 ? "c_{k-" : "in_";
    label += std::to_string(inputs <= 2 ? inputs - v : v);
    if (inputs <= 2) label += '}';
    return label;
  }
  label = std::to_string(v - inputs);
  return label;
}

template <cell_kind C>
std::string cell_dot(const CellGenotype<C>& g) {
  constexpr const Dag& dag = C::dag;
  std::string s = "digraph \"";
  s += C::name;
  s += "\" {\n  rankdir=LR;\n  label=\"";
  s += C::name;
  s += "\";\n  node [style=\"rounded,filled\", shape=rect, fontname=\"Helvetica\"];\n"
       "  edge [fontname=\"Helvetica\", fontsize=10];\n";
  auto node = [&](std::size_t v) {
    std::string n = "n";
    n += std::to_string(v);
    return n;
  };
  for (std::size_t v = 0; v < dag.node_count(); ++v) {
    const bool input = v < dag.inputs;
    const bool output = dag.output == Output::last_node && v + 1 == dag.node_count();
    s += "  ";
    s += node(v);
    s += " [label=\"";
    s += dot_node_label(v, dag.inputs);
    s += "\", fillcolor=";
    s += input ? "darkseagreen2" : output ? "palegoldenrod" : "lightblue";
    s += "];\n";
  }
  for (std::size_t e = 0; e < C::edge_count; ++e)
    for (std::size_t op : g.ops(e)) {
      s += "  ";
      s += node(C::edges[e].from);
      s += " -> ";
      s += node(C::edges[e].to);
      s += " [label=\"";
      s += C::ops::names[op];
      s += "\"];\n";
    }
  if (dag.output == Output::concat_nodes) {
    s += "  out [label=\"c_{k}\", fillcolor=palegoldenrod];\n";
    for (std::size_t v = dag.inputs; v < dag.node_count(); ++v)
      if (g.concatenated(v)) {
        s += "  ";
        s += node(v);
        s += " -> out;\n";
      }
  }
  s += "}\n";
  return s;
}
}  // namespace detail

/// One cell of a genotype as a Graphviz digraph: inputs green (`c_{k-2}`, `c_{k-1}`),
/// computed nodes blue (numbered from 0), the output yellow (`c_{k}` joining the
/// concatenated nodes, or the last node), every kept edge labelled with its op.
template <search_space S>
[[nodiscard]] std::string to_dot(const Genotype<S>& g, std::string_view cell_kind) {
  std::string out;
  bool found = false;
  g.for_each_cell([&](const auto& c) {
    using C = typename std::decay_t<decltype(c)>::cell;
    if (C::name == cell_kind) {
      out = detail::cell_dot(c);
      found = true;
    }
  });
  if (!found)
    throw InvalidArgument("nas::to_dot: the space has no cell kind named '" +
                          std::string(cell_kind) + "'");
  return out;
}

/// Every cell of a genotype as (cell kind name, DOT text), in cell-kind order.
template <search_space S>
[[nodiscard]] std::vector<std::pair<std::string, std::string>> cell_dots(const Genotype<S>& g) {
  std::vector<std::pair<std::string, std::string>> out;
  g.for_each_cell([&](const auto& c) {
    using C = typename std::decay_t<decltype(c)>::cell;
    out.emplace_back(std::string(C::name), detail::cell_dot(c));
  });
  return out;
}

/// Whether Graphviz's `dot` is on the PATH.
[[nodiscard]] inline bool graphviz_available() {
  return std::system("dot -V > /dev/null 2>&1") == 0;
}

/// Renders the DOT file `dot_file` to `out` (format from its extension: `.svg`, `.png`,
/// `.pdf`) with Graphviz's `dot`. Returns false, writing nothing, when `dot` is not
/// installed (Debian: `apt install graphviz`); throws nas::InvalidArgument when `dot`
/// fails on the file.
inline bool render_dot(const std::filesystem::path& dot_file, const std::filesystem::path& out) {
  std::string format = out.extension().string();
  if (!format.empty()) format.erase(0, 1);
  if (format != "svg" && format != "png" && format != "pdf")
    throw InvalidArgument("nas::render_dot: '" + out.string() + "' must end in .svg, .png or .pdf");
  if (!graphviz_available()) return false;
  auto quote = [](const std::filesystem::path& p) {
    std::string q = "'";
    for (char c : p.string()) {
      if (c == '\'')
        q += "'\\''";
      else
        q += c;
    }
    return q + "'";
  };
  const std::string command =
      "dot -T" + format + " " + quote(dot_file) + " -o " + quote(out) + " 2>/dev/null";
  if (std::system(command.c_str()) != 0)
    throw InvalidArgument("nas::render_dot: Graphviz's dot could not render '" + dot_file.string() +
                          "' to '" + out.string() + "'");
  return true;
}

}  // namespace nas
