// Drawings of derived cells as Graphviz DOT, and rendering with Graphviz when present.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include <nas/core.hpp>

#include "test_spaces.hpp"

namespace {
bool contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}
}  // namespace

TEST_CASE("DOT: a DARTS cell with its inputs, nodes, ops and concatenation") {
  const auto g = nas::parse_darts<nas_test::darts_space>(nas_test::darts_v2_text);
  const auto dot = nas::to_dot(g, "normal");
  CHECK(contains(dot, "digraph \"normal\" {"));
  CHECK(contains(dot, "n0 [label=\"c_{k-2}\", fillcolor=darkseagreen2];"));
  CHECK(contains(dot, "n1 [label=\"c_{k-1}\", fillcolor=darkseagreen2];"));
  CHECK(contains(dot, "n2 [label=\"0\", fillcolor=lightblue];"));
  CHECK(contains(dot, "n0 -> n2 [label=\"sep_conv_3x3\"];"));
  CHECK(contains(dot, "n2 -> n5 [label=\"dil_conv_3x3\"];"));
  CHECK(contains(dot, "out [label=\"c_{k}\", fillcolor=palegoldenrod];"));
  for (const char* edge : {"n2 -> out;", "n3 -> out;", "n4 -> out;", "n5 -> out;"})
    CHECK(contains(dot, edge));
  // 8 kept edges, 4 concatenated nodes
  std::size_t arrows = 0;
  for (std::size_t at = dot.find("->"); at != std::string::npos; at = dot.find("->", at + 1))
    ++arrows;
  CHECK(arrows == 12);
  const auto reduce = nas::to_dot(g, "reduce");
  CHECK(contains(reduce, "n0 -> n2 [label=\"max_pool_3x3\"];"));
  const auto all = nas::cell_dots(g);
  REQUIRE(all.size() == 2);
  CHECK(all[0].first == "normal");
  CHECK(all[1].second == reduce);
  CHECK_THROWS_WITH_AS((void)nas::to_dot(g, "stem"), doctest::Contains("no cell kind named 'stem'"),
                       nas::InvalidArgument);
}

TEST_CASE("DOT: a NAS-Bench-201 cell's output is its last node") {
  const auto g = nas::parse_nb201<nas_test::nb201_space>(
      "|nor_conv_3x3~0|+|none~0|skip_connect~1|+|avg_pool_3x3~0|nor_conv_1x1~1|nor_conv_3x3~2|");
  const auto dot = nas::to_dot(g, "cell");
  CHECK(contains(dot, "n0 [label=\"c_{k-1}\", fillcolor=darkseagreen2];"));
  CHECK(contains(dot, "n3 [label=\"2\", fillcolor=palegoldenrod];"));
  CHECK(contains(dot, "n0 -> n2 [label=\"none\"];"));
  CHECK_FALSE(contains(dot, "out"));
}

TEST_CASE("DOT: rendered by Graphviz when it is installed") {
  const auto dir = std::filesystem::temp_directory_path() / "nas_dot_test";
  std::filesystem::create_directories(dir);
  const auto g = nas::parse_darts<nas_test::darts_space>(nas_test::darts_v2_text);
  { std::ofstream(dir / "normal.dot") << nas::to_dot(g, "normal"); }
  std::filesystem::remove(dir / "normal.svg");
  const bool rendered = nas::render_dot(dir / "normal.dot", dir / "normal.svg");
  CHECK(rendered == nas::graphviz_available());
  if (rendered) {
    std::ifstream svg(dir / "normal.svg", std::ios::binary);
    std::string text(static_cast<std::size_t>(std::filesystem::file_size(dir / "normal.svg")),
                     '\0');
    svg.read(text.data(), static_cast<std::streamsize>(text.size()));
    CHECK(contains(text, "<svg"));
    CHECK(contains(text, "sep_conv_3x3"));
    std::ofstream(dir / "broken.dot") << "digraph {";
    CHECK_THROWS_WITH_AS((void)nas::render_dot(dir / "broken.dot", dir / "broken.svg"),
                         doctest::Contains("could not render"), nas::InvalidArgument);
  }
  CHECK_THROWS_WITH_AS((void)nas::render_dot(dir / "normal.dot", dir / "normal.txt"),
                       doctest::Contains("must end in .svg, .png or .pdf"), nas::InvalidArgument);
  std::filesystem::remove_all(dir);
}
