// Line plots as standalone SVG: panels, lines, legend, gaps at non-finite values, escaping.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <nas/core.hpp>

namespace {
std::size_t count(const std::string& s, const std::string& part) {
  std::size_t n = 0;
  for (std::size_t at = s.find(part); at != std::string::npos; at = s.find(part, at + 1)) ++n;
  return n;
}
}  // namespace

TEST_CASE("plot: panels of lines with a shared legend") {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  const std::vector<nas::viz::Panel> panels = {
      {"edge 0->1", {{"none", {0.2, 0.1, 0.05}}, {"conv", {0.8, 0.9, 0.95}}}},
      {"edge <0->2>", {{"none", {0.5, nan, 0.4}}, {"conv", {0.5, 0.6, 0.6}}}},
  };
  const auto svg = nas::viz::to_svg(panels, {.title = "alpha & co", .unit_range = true});
  CHECK(svg.starts_with("<svg xmlns=\"http://www.w3.org/2000/svg\""));
  CHECK(svg.ends_with("</svg>\n"));
  CHECK(count(svg, "<path ") == 4);  // one per line
  CHECK(count(svg, " M") == 5);      // the NaN breaks one line in two
  CHECK(svg.find("alpha &amp; co") != std::string::npos);
  CHECK(svg.find("edge &lt;0-&gt;2&gt;") != std::string::npos);
  CHECK(svg.find(">none</text>") != std::string::npos);  // legend
  CHECK(svg.find(">conv</text>") != std::string::npos);
  CHECK(svg.find(">3 epochs</text>") != std::string::npos);
  CHECK(svg.find(">1.00</text>") != std::string::npos);  // unit range: top tick
}

TEST_CASE("plot: a single point, flat lines and bad figures") {
  const auto one = nas::viz::to_svg({{"loss", {{"train", {2.5}}}}});
  CHECK(one.find("<circle") != std::string::npos);
  const auto flat = nas::viz::to_svg({{"flat", {{"a", {1.0, 1.0, 1.0}}}}});
  CHECK(flat.find(">0.50</text>") != std::string::npos);  // range widened around 1
  CHECK_THROWS_WITH_AS((void)nas::viz::to_svg({}), doctest::Contains("no panels"),
                       nas::InvalidArgument);
  CHECK_THROWS_WITH_AS((void)nas::viz::to_svg({{"empty", {}}}), doctest::Contains("no lines"),
                       nas::InvalidArgument);
}

TEST_CASE("plot: shared_range gives every panel the y range of all the data") {
  const std::vector<nas::viz::Panel> panels = {{"low", {{"a", {0.21, 0.23}}}},
                                               {"high", {{"a", {0.25, 0.40}}}}};
  const auto own = nas::viz::to_svg(panels);
  const auto shared = nas::viz::to_svg(panels, {.title = "", .shared_range = true});
  CHECK(count(own, ">0.40</text>") == 1);  // each panel fitted to its own data
  CHECK(count(own, ">0.23</text>") == 1);
  CHECK(count(shared, ">0.40</text>") == 2);  // one range, fitted to both
  CHECK(count(shared, ">0.21</text>") == 2);
  CHECK(count(shared, ">0.23</text>") == 0);
}
