// Text formats: DARTS, NAS-Bench-201 and JSON, both ways.
#include <doctest/doctest.h>

#include <sstream>
#include <string>

#include "test_spaces.hpp"

using namespace nas_test;

namespace {
// Published genotypes, as written in DARTS's genotypes.py.
constexpr const char* darts_v1_text =
    "Genotype(normal=[('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('skip_connect', 0), "
    "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
    "('skip_connect', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
    "('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), ('max_pool_3x3', 0), "
    "('skip_connect', 2), ('skip_connect', 2), ('avg_pool_3x3', 0)], reduce_concat=[2, 3, 4, 5])";
// AmoebaNet-A (5 nodes) as published in DARTS's genotypes.py, with its concat lists
// [4, 5, 6] and [3, 4, 6], Python's trailing commas, and a node that takes input 1 twice.
constexpr const char* amoeba_text =
    "Genotype(\n"
    "  normal = [\n"
    "    ('avg_pool_3x3', 0), ('max_pool_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_5x5', 2),\n"
    "    ('sep_conv_3x3', 0), ('avg_pool_3x3', 3), ('sep_conv_3x3', 1), ('skip_connect', 1),\n"
    "    ('skip_connect', 0), ('avg_pool_3x3', 1),\n"
    "  ],\n"
    "  normal_concat = [4, 5, 6],\n"
    "  reduce = [\n"
    "    ('avg_pool_3x3', 0), ('sep_conv_3x3', 1), ('max_pool_3x3', 0), ('sep_conv_7x7', 2),\n"
    "    ('sep_conv_7x7', 0), ('avg_pool_3x3', 1), ('max_pool_3x3', 0), ('max_pool_3x3', 1),\n"
    "    ('conv_7x1_1x7', 0), ('sep_conv_3x3', 5),\n"
    "  ],\n"
    "  reduce_concat = [3, 4, 6]\n"
    ")";
constexpr const char* nb201_text =
    "|nor_conv_3x3~0|+|nor_conv_3x3~0|avg_pool_3x3~1|+|skip_connect~0|nor_conv_3x3~1|skip_connect~"
    "2|";

/// "offset: problem" of the ParseError that `parse` throws, or "no error".
template <class Parse>
std::string error_of(Parse parse) {
  try {
    (void)parse();
  } catch (const nas::ParseError& e) {
    return std::to_string(e.offset()) + ": " + e.problem();
  }
  return "no error";
}
template <class S>
std::string darts_error(const std::string& text) {
  return error_of([&] { return nas::parse_darts<S>(text); });
}
std::string nb201_error(const std::string& text) {
  return error_of([&] { return nas::parse_nb201<nb201_space>(text); });
}
std::string json_error(const std::string& text) {
  return error_of([&] { return nas::parse_json<darts_space>(text); });
}
}  // namespace

TEST_CASE("DARTS text: the published genotypes read, print and read back to the same value") {
  for (const char* text : {darts_v1_text, darts_v2_text}) {
    const auto g = nas::parse_darts<darts_space>(text);
    CHECK(g.valid());
    const std::string printed = nas::to_darts(g);
    CHECK(nas::parse_darts<darts_space>(printed) == g);
    CHECK(nas::to_darts(nas::parse_darts<darts_space>(printed)) ==
          printed);  // canonical text is stable
  }
  const auto v2 = nas::parse_darts<darts_space>(darts_v2_text);
  CHECK(v2.cell<"normal">().op(2, 5) == darts_ops::index_of<"dil_conv_3x3">);
  CHECK(v2.cell<"reduce">().op(2, 3) == darts_ops::index_of<"skip_connect">);
}

TEST_CASE(
    "DARTS text: a text listing each node's inputs in ascending order round-trips byte for byte") {
  const std::string text =
      "Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), "
      "('sep_conv_3x3', 1), ('skip_connect', 0), ('sep_conv_3x3', 1), ('skip_connect', 0), "
      "('dil_conv_3x3', 2)], normal_concat=[2, 3, 4, 5], reduce=[('max_pool_3x3', 0), "
      "('max_pool_3x3', 1), ('max_pool_3x3', 1), ('skip_connect', 2), ('max_pool_3x3', 0), "
      "('skip_connect', 2), ('max_pool_3x3', 1), ('skip_connect', 2)], reduce_concat=[2, 3, 4, 5])";
  CHECK(nas::to_darts(nas::parse_darts<darts_space>(text)) == text);
  CHECK(nas::to_darts(nas::parse_darts<darts_space>(darts_v2_text)) == text);
}

TEST_CASE("DARTS text: concat lists as [..] and as range(a, b); fields in any order") {
  const auto g = nas::parse_darts<darts_space>(darts_v2_text);
  const std::string ranged = nas::to_darts(g, {.concat_as_range = true});
  CHECK(ranged.find("normal_concat=range(2, 6)") != std::string::npos);
  CHECK(nas::parse_darts<darts_space>(ranged) == g);
  // reordered fields, double quotes
  std::string reordered =
      "Genotype(reduce_concat=range(2, 6), reduce=[(\"max_pool_3x3\", 0), (\"max_pool_3x3\", 1), "
      "(\"skip_connect\", 2), (\"max_pool_3x3\", 1), (\"max_pool_3x3\", 0), (\"skip_connect\", 2), "
      "(\"skip_connect\", 2), (\"max_pool_3x3\", 1)], normal_concat=[2, 3, 4, 5], "
      "normal=[('sep_conv_3x3', "
      "0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 1), "
      "('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)])";
  CHECK(nas::parse_darts<darts_space>(reordered) == g);
}

TEST_CASE("DARTS text: a node may take one input twice only where the DAG allows it") {
  // DARTS cells keep distinct inputs
  std::string twice = darts_v2_text;
  twice.replace(twice.find("('sep_conv_3x3', 1)"), 19, "('sep_conv_5x5', 0)");
  CHECK(darts_error<darts_space>(twice) ==
        "55: node 2 of cell 'normal' lists input 0 twice; its nodes take each input once (a DAG "
        "with .repeat = true allows it)");
  // NASNet/AmoebaNet cells (.repeat = true) hold both pairs on one edge
  const auto g = nas::parse_darts<amoeba_space>(amoeba_text);
  REQUIRE(g.valid());
  const auto on_edge = g.cell<"normal">().ops(1, 5);
  REQUIRE(on_edge.size() == 2);
  CHECK(on_edge[0] == amoeba_ops::index_of<"skip_connect">);
  CHECK(on_edge[1] == amoeba_ops::index_of<"sep_conv_3x3">);
  CHECK(g.cell<"normal">().kept_inputs(5) == 2);
  CHECK(nas::to_darts(g).find("('skip_connect', 1), ('sep_conv_3x3', 1)") != std::string::npos);
}

TEST_CASE("DARTS text: AmoebaNet-A as published reads, keeps its concat lists, and round-trips") {
  const auto g = nas::parse_darts<amoeba_space>(amoeba_text);
  CHECK(g.valid());
  CHECK(g.cell<"normal">().concat_mask() == 0b11100);
  CHECK(g.cell<"reduce">().concat_mask() == 0b10110);
  const std::string printed = nas::to_darts(g);
  CHECK(printed.find("normal_concat=[4, 5, 6]") != std::string::npos);
  CHECK(printed.find("reduce_concat=[3, 4, 6]") != std::string::npos);
  CHECK(nas::parse_darts<amoeba_space>(printed) == g);
  CHECK(nas::to_darts(nas::parse_darts<amoeba_space>(printed)) == printed);
  CHECK(nas::parse_json<amoeba_space>(nas::to_json(g)) == g);
  CHECK(nas::to_darts(g, {.concat_as_range = true}).find("reduce_concat=[3, 4, 6]") !=
        std::string::npos);
}

TEST_CASE("DARTS text: a genotype literal parses at compile time") {
  constexpr auto g = nas::parse_darts<darts_space>(darts_v2_text);
  static_assert(g.valid());
  static_assert(g.cell<"normal">().op(2, 5) == darts_ops::index_of<"dil_conv_3x3">);
  constexpr auto n = nas::parse_nb201<nb201_space>(nb201_text);
  static_assert(n.cell<"cell">().op(1, 2) == nb201_ops::index_of<"avg_pool_3x3">);
  CHECK(nas::to_nb201(n) == nb201_text);
}

TEST_CASE("DARTS text: malformed and mismatched input names the position and the problem") {
  using S = darts_space;
  const std::string pairs8 =
      "[('sep_conv_3x3', 0), ('sep_conv_3x3', 1), ('sep_conv_3x3', 0), ('sep_conv_3x3', 1), "
      "('sep_conv_3x3', 1), ('skip_connect', 0), ('skip_connect', 0), ('dil_conv_3x3', 2)]";
  const std::string tail = ", reduce=" + pairs8 + ", reduce_concat=[2, 3, 4, 5])";
  auto with_normal = [&](const std::string& normal) {
    return "Genotype(normal=" + normal + ", normal_concat=[2, 3, 4, 5]" + tail;
  };
  CHECK(darts_error<S>(with_normal(pairs8)) == "no error");
  CHECK(darts_error<S>("") == "0: expected 'Genotype('");
  CHECK(darts_error<S>("Genome(normal=[])") == "0: expected 'Genotype('");
  CHECK(darts_error<S>("Genotype(normal=[('sep_conv_9x9', 0)") ==
        "18: unknown op 'sep_conv_9x9'; cell 'normal' has ops none, max_pool_3x3, avg_pool_3x3, "
        "skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5");
  CHECK(darts_error<S>("Genotype(normal=[('sep_conv_3x3', 2)") ==
        "34: node 2 of cell 'normal' has no edge from node 2; its inputs are nodes 0 to 1");
  CHECK(darts_error<S>("Genotype(normal=[('sep_conv_3x3', 0), ('sep_conv_5x5', 0)") ==
        "55: node 2 of cell 'normal' lists input 0 twice; its nodes take each input once (a DAG "
        "with .repeat = true allows it)");
  CHECK(darts_error<S>("Genotype(normal=[('none', 0)") ==
        "18: the zero op 'none' on a kept edge; a derived cell keeps no zero op");
  CHECK(darts_error<S>(with_normal("[('sep_conv_3x3', 0), ('sep_conv_3x3', 1)]")) ==
        "57: cell 'normal' lists 2 (op, input) pairs; it takes 8 (the inputs each of its 4 nodes "
        "keeps, in node order)");
  CHECK(
      darts_error<S>(with_normal(pairs8.substr(0, pairs8.size() - 1) + ", ('sep_conv_3x3', 3)]")) ==
      "185: cell 'normal' takes 8 (op, input) pairs; this is one more");
  CHECK(darts_error<S>("Genotype(normal=" + pairs8 + ", normal=" + pairs8 + ")") ==
        "186: field 'normal' appears twice");
  CHECK(darts_error<S>("Genotype(normal=" + pairs8 + ", normal_concat=[2, 3, 4, 5])") ==
        "213: missing field 'reduce'");
  CHECK(darts_error<S>("Genotype(normal=" + pairs8 + tail) == "390: missing field 'normal_concat'");
  CHECK(darts_error<S>("Genotype(stem=[])") ==
        "9: unknown field 'stem'; the fields are normal, normal_concat, reduce, reduce_concat");
  CHECK(darts_error<S>("Genotype(normal_concat=[2, 6])") ==
        "27: concat names node 6; the computed nodes of cell 'normal' are 2 to 5");
  CHECK(darts_error<S>("Genotype(normal_concat=[2, 2])") == "27: concat names node 2 twice");
  CHECK(darts_error<S>("Genotype(normal_concat=[])") ==
        "23: the concat list is empty; concatenate at least one node");
  CHECK(darts_error<S>("Genotype(normal_concat=range(4, 4))") == "32: range(4, 4) is empty");
  CHECK(darts_error<S>("Genotype(normal_concat=rangy(2, 6))") ==
        "23: expected a concat list '[...]' or 'range(a, b)'");
  CHECK(darts_error<S>("Genotype(normal=[('sep_conv_3x3, 0)]") ==
        "18: unterminated quoted op name");
  CHECK(darts_error<S>("Genotype(normal=[('sep_conv_3x3', 99999999999)]") ==
        "34: input node is too large");
  CHECK(darts_error<S>("Genotype(normal=[('sep_conv_3x3' 0)]") ==
        "33: expected ',' between the op name and the input node");
  CHECK(darts_error<S>(with_normal(pairs8) + " trailing") ==
        "419: unexpected text after the closing ')'");
  CHECK(darts_error<S>("Genotype(normal=[") ==
        "17: expected '(' to open an (op, input) pair but the text ended");
}

TEST_CASE("DARTS text: a ParseError shows line, column and a caret under the problem") {
  try {
    (void)nas::parse_darts<darts_space>("Genotype(\n  normal=[('conv_9x9', 0)])");
    FAIL("expected a ParseError");
  } catch (const nas::ParseError& e) {
    const std::string what = e.what();
    CHECK(what.find("cannot read DARTS genotype at offset 21 (line 2, column 12)") !=
          std::string::npos);
    CHECK(what.find("\n    normal=[('conv_9x9', 0)])\n             ^") != std::string::npos);
  }
}

TEST_CASE("NAS-Bench-201 text: round trip, and every published form of an edge") {
  const auto g = nas::parse_nb201<nb201_space>(nb201_text);
  CHECK(nas::to_nb201(g) == nb201_text);
  CHECK(nas::to_string(g) == nb201_text);
  CHECK(g.cell<"cell">().op(0, 3) == nb201_ops::index_of<"skip_connect">);
  // edges of a node may be listed in any order
  const auto h = nas::parse_nb201<nb201_space>(
      "|nor_conv_3x3~0|+|avg_pool_3x3~1|nor_conv_3x3~0|+|skip_connect~2|nor_conv_3x3~1|skip_"
      "connect~0|");
  CHECK(h == g);
  for (auto a : {"|none~0|+|none~0|none~1|+|none~0|none~1|none~2|",
                 "|avg_pool_3x3~0|+|nor_conv_1x1~0|skip_connect~1|+|nor_conv_1x1~0|skip_connect~1|"
                 "skip_connect~2|"}) {
    CHECK(nas::to_nb201(nas::parse_nb201<nb201_space>(a)) == a);
  }
}

TEST_CASE("NAS-Bench-201 text: malformed input names the position and the problem") {
  CHECK(nb201_error(nb201_text) == "no error");
  CHECK(nb201_error("") == "0: expected '|' to open the group of node 1");
  CHECK(nb201_error("|nor_conv_3x3~0|") ==
        "16: the string ended after 1 node group(s); cell 'cell' has 3 computed nodes");
  CHECK(nb201_error("|conv~0|") ==
        "1: unknown op 'conv'; cell 'cell' has ops none, skip_connect, nor_conv_1x1, nor_conv_3x3, "
        "avg_pool_3x3");
  CHECK(nb201_error("|nor_conv_3x3~1|") ==
        "14: node 1 has no edge from node 1; its inputs are nodes 0 to 0");
  CHECK(nb201_error("|nor_conv_3x3-0|") ==
        "1: unknown op 'nor_conv_3x3-0'; cell 'cell' has ops none, skip_connect, nor_conv_1x1, "
        "nor_conv_3x3, avg_pool_3x3");
  CHECK(nb201_error("|nor_conv_3x3~|") == "14: expected input node (a non-negative integer)");
  CHECK(nb201_error("|nor_conv_3x3~0+") == "15: expected '|' after an edge");
  CHECK(nb201_error("|nor_conv_3x3~0|+|nor_conv_3x3~0|+") ==
        "17: node 2 lists 1 edge(s); it keeps 2");
  CHECK(nb201_error("|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~0|") ==
        "46: node 2 lists input 0 twice");
  CHECK(nb201_error(std::string(nb201_text) + "+|none~0|") ==
        "95: unexpected text after the last node group; cell 'cell' has 3 computed nodes");
  CHECK(nb201_error(std::string(nb201_text) + " x") ==
        "96: unexpected text after the last node group; cell 'cell' has 3 computed nodes");
  CHECK(nb201_error(std::string("\n") + nb201_text + "\n") == "no error");
  CHECK(nb201_error("|nor_conv_3x3~0| |") ==
        "16: expected '+' after 1 node group(s); cell 'cell' has 3 computed nodes");
  CHECK(nb201_error("|nor_conv_3x3~0|+|,") == "18: expected an op name");
}

TEST_CASE("JSON: round trip for every space, and nas::parse detects the format") {
  const auto d = nas::parse_darts<darts_space>(darts_v2_text);
  CHECK(nas::parse_json<darts_space>(nas::to_json(d)) == d);
  CHECK(nas::parse<darts_space>(nas::to_json(d)) == d);
  CHECK(nas::parse<darts_space>(darts_v2_text) == d);
  const auto a = nas::parse_darts<amoeba_space>(amoeba_text);
  CHECK(nas::parse_json<amoeba_space>(nas::to_json(a)) == a);
  const auto n = nas::parse_nb201<nb201_space>(nb201_text);
  CHECK(nas::to_json(n) ==
        "{\"cell\": {\"edges\": [[0, 1, \"nor_conv_3x3\"], [0, 2, \"nor_conv_3x3\"], [1, 2, "
        "\"avg_pool_3x3\"], [0, 3, \"skip_connect\"], [1, 3, \"nor_conv_3x3\"], [2, 3, "
        "\"skip_connect\"]]}}");
  CHECK(nas::parse<nb201_space>(nas::to_json(n)) == n);
  CHECK(nas::parse<nb201_space>(std::string("  ") + nb201_text) == n);
  std::ostringstream os;
  os << d;
  CHECK(os.str() == nas::to_darts(d));
  CHECK_THROWS_WITH_AS((void)nas::parse<darts_space>(nb201_text),
                       doctest::Contains("describes one cell"), nas::ParseError);
}

TEST_CASE("JSON: malformed and mismatched input names the position and the problem") {
  const std::string ok_reduce =
      "\"reduce\": {\"edges\": "
      "[[0,2,\"max_pool_3x3\"],[1,2,\"max_pool_3x3\"],[0,3,\"max_pool_3x3\"],"
      "[1,3,\"max_pool_3x3\"],[0,4,\"max_pool_3x3\"],[1,4,\"max_pool_3x3\"],[0,5,\"max_pool_3x3\"],"
      "[1,5,\"max_pool_3x3\"]], \"concat\": [2,3,4,5]}";
  CHECK(json_error("[]") == "0: expected an object with one member per cell kind");
  CHECK(json_error("{\"normal\": 1,") == "13: expected a string key");
  CHECK(json_error("{\"stem\": {}}") ==
        "9: unknown cell kind \"stem\"; this space has normal, reduce");
  CHECK(json_error("{" + ok_reduce + "}") == "213: missing cell kind \"normal\"");
  CHECK(json_error("{\"normal\": {\"edges\": [[0, 2]]}, " + ok_reduce + "}") ==
        "22: expected an edge [from, to, \"op\"]");
  CHECK(json_error("{\"normal\": {\"edges\": [[2, 2, \"skip_connect\"]]}, " + ok_reduce + "}") ==
        "22: cell \"normal\" has no edge (2 -> 2)");
  CHECK(json_error("{\"normal\": {\"edges\": [[0, 2, \"conv\"]]}, " + ok_reduce + "}") ==
        "29: unknown op \"conv\"; cell \"normal\" has ops none, max_pool_3x3, avg_pool_3x3, "
        "skip_connect, sep_conv_3x3, sep_conv_5x5, dil_conv_3x3, dil_conv_5x5");
  CHECK(json_error("{\"normal\": {\"edges\": [[0, 2, \"skip_connect\"]], \"concat\": [2]}, " +
                   ok_reduce + "}") ==
        "11: cell 'normal': node 2 keeps 1 input(s); it must keep 2");
  CHECK(json_error("{\"normal\": {\"edges\": [], \"concat\": [1]}, " + ok_reduce + "}") ==
        "36: concat names a node that is not a computed node of cell \"normal\"");
  CHECK(json_error("{\"normal\": {\"edges\": [], \"extra\": 1}}") ==
        "34: unknown member \"extra\"; a cell has \"edges\" and \"concat\"");
  CHECK(json_error("{\"normal\": {}, \"normal\": {}}") == "15: duplicate key \"normal\"");
}

TEST_CASE("DARTS text: trailing commas, as Python allows") {
  const auto g = nas::parse_darts<darts_space>(darts_v2_text);
  std::string text = nas::to_darts(g);
  text.replace(text.find("], normal_concat"), 1, ",]");
  text.replace(text.find("5], reduce="), 2, "5,]");
  text.replace(text.size() - 1, 1, ",)");
  CHECK(nas::parse_darts<darts_space>(text) == g);
  CHECK(darts_error<darts_space>("Genotype(normal=[,])") ==
        "17: expected '(' to open an (op, input) pair");
}
