#pragma once
/// @file
/// Line plots as standalone SVG, with no plotting library: search curves (losses and
/// accuracies over epochs) and the architecture weights of every edge over epochs (one
/// small panel per edge, one line per op).

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdio>
#include <limits>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/core/diagnostic.hpp"

namespace nas::viz {

/// One line: a name for the legend and its values at x = 0, 1, 2, ...
struct Series {
  std::string name;
  std::vector<double> values;
};

/// One panel: a title and its lines. All panels of a figure share the legend (lines are
/// matched by position: the i-th line of every panel has the i-th color).
struct Panel {
  std::string title;
  std::vector<Series> series;
};

/// Options of nas::viz::to_svg.
struct PlotOptions {
  std::string title;  ///< above the figure
  std::string x_label = "epoch";
  std::size_t columns = 3;      ///< panels per row
  double panel_width = 260.0;   ///< pixels
  double panel_height = 170.0;  ///< pixels
  bool unit_range = false;      ///< y from 0 to 1 in every panel (probabilities, accuracies)
  /// one y range for every panel, fitted to all of their data (panels compare at a glance;
  /// unit_range wins when both are set)
  bool shared_range = false;
};

namespace detail {
inline std::string svg_escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

inline std::string fixed(double v, int digits = 1) {
  char buf[48];
  const int n = std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return {buf, static_cast<std::size_t>(n)};
}

/// Appends every piece to `s` (one append each: GCC 12 at -O3 misreads chains of
/// "literal" + std::string).
template <class... Pieces>
void append(std::string& s, const Pieces&... pieces) {
  (s.append(std::string_view(pieces)), ...);
}

/// Ten distinguishable colors (the "tab10" palette's values).
inline constexpr const char* palette[] = {"#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                                          "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"};
}  // namespace detail

/// The panels as one SVG document: a grid of line charts with axes, tick labels, a title
/// per panel and a shared legend. Non-finite values break a line. Throws
/// nas::InvalidArgument for a figure without panels or a panel without lines.
[[nodiscard]] inline std::string to_svg(const std::vector<Panel>& panels,
                                        const PlotOptions& options = {}) {
  if (panels.empty()) throw InvalidArgument("nas::viz::to_svg: no panels to draw");
  std::size_t lines = 0;
  for (const auto& p : panels) {
    if (p.series.empty())
      throw InvalidArgument("nas::viz::to_svg: panel '" + p.title + "' has no lines");
    lines = std::max(lines, p.series.size());
  }
  const std::size_t columns = std::max<std::size_t>(1, std::min(options.columns, panels.size()));
  const std::size_t rows = (panels.size() + columns - 1) / columns;
  const double w = options.panel_width, h = options.panel_height;
  const double top = options.title.empty() ? 10.0 : 34.0;
  const double legend_h = 22.0 * static_cast<double>((lines + 3) / 4) + 10.0;
  const double width = w * static_cast<double>(columns) + 20.0;
  const double height = top + h * static_cast<double>(rows) + legend_h;
  using detail::fixed;
  std::string s;
  detail::append(s, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"", fixed(width, 0),
                 "\" height=\"", fixed(height, 0), "\" font-family=\"Helvetica, Arial\">\n");
  s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
  if (!options.title.empty())
    detail::append(s, "<text x=\"", fixed(width / 2, 0),
                   "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">",
                   detail::svg_escape(options.title), "</text>\n");
  // the y range of the finite values of `panels` (infinite when there are none)
  const auto range = [](std::span<const Panel> of) {
    double lo = std::numeric_limits<double>::infinity(), hi = -lo;
    for (const auto& panel : of)
      for (const auto& series : panel.series)
        for (double v : series.values)
          if (std::isfinite(v)) {
            lo = std::min(lo, v);
            hi = std::max(hi, v);
          }
    return std::pair{lo, hi};
  };
  const auto shared = range(panels);
  for (std::size_t k = 0; k < panels.size(); ++k) {
    const Panel& p = panels[k];
    const double x0 = 10.0 + w * static_cast<double>(k % columns) + 42.0;
    const double y0 = top + h * static_cast<double>(k / columns) + 20.0;
    const double pw = w - 56.0, ph = h - 52.0;
    std::size_t n = 0;
    for (const auto& series : p.series) n = std::max(n, series.values.size());
    // not a structured binding: the lambdas below capture these (Clang before 16 cannot)
    const auto fitted = options.shared_range ? shared : range(std::span<const Panel>(&p, 1));
    double lo = fitted.first, hi = fitted.second;
    if (options.unit_range || !std::isfinite(lo)) {
      lo = 0.0;
      hi = 1.0;
    }
    if (hi - lo < 1e-12) {
      lo -= 0.5;
      hi += 0.5;
    }
    const double span_x = n > 1 ? static_cast<double>(n - 1) : 1.0;
    auto px = [&](std::size_t i) { return x0 + pw * static_cast<double>(i) / span_x; };
    auto py = [&](double v) { return y0 + ph * (1.0 - (v - lo) / (hi - lo)); };
    detail::append(s, "<text x=\"", fixed(x0 + pw / 2, 0), "\" y=\"", fixed(y0 - 6, 0),
                   "\" text-anchor=\"middle\" font-size=\"12\">", detail::svg_escape(p.title),
                   "</text>\n");
    detail::append(s, "<rect x=\"", fixed(x0), "\" y=\"", fixed(y0), "\" width=\"", fixed(pw),
                   "\" height=\"", fixed(ph), "\" fill=\"none\" stroke=\"#999\"/>\n");
    for (int t = 0; t <= 2; ++t) {  // y ticks: low, middle, high
      const double v = lo + (hi - lo) * t / 2.0;
      detail::append(s, "<text x=\"", fixed(x0 - 4), "\" y=\"", fixed(py(v) + 4),
                     "\" text-anchor=\"end\" font-size=\"10\">", detail::fixed(v, 2), "</text>\n");
    }
    detail::append(s, "<text x=\"", fixed(x0), "\" y=\"", fixed(y0 + ph + 14),
                   "\" font-size=\"10\">1</text>\n");
    detail::append(s, "<text x=\"", fixed(x0 + pw), "\" y=\"", fixed(y0 + ph + 14),
                   "\" text-anchor=\"end\" font-size=\"10\">", std::to_string(n), " ",
                   detail::svg_escape(options.x_label), "s</text>\n");
    for (std::size_t j = 0; j < p.series.size(); ++j) {
      const auto& values = p.series[j].values;
      const char* color = detail::palette[j % 10];
      std::string d;
      bool pen = false;
      for (std::size_t i = 0; i < values.size(); ++i) {
        if (!std::isfinite(values[i])) {
          pen = false;
          continue;
        }
        d += pen ? " L" : " M";
        detail::append(d, fixed(px(i)), ",", fixed(py(values[i])));
        pen = true;
      }
      if (!d.empty())
        detail::append(s, "<path d=\"", d, "\" fill=\"none\" stroke=\"", color,
                       "\" stroke-width=\"1.6\"/>\n");
      if (values.size() == 1 && std::isfinite(values[0]))
        detail::append(s, "<circle cx=\"", fixed(px(0)), "\" cy=\"", fixed(py(values[0])),
                       "\" r=\"2.5\" fill=\"", color, "\"/>\n");
    }
  }
  // legend: the names of the first panel with the most lines
  const Panel* named = &panels.front();
  for (const auto& p : panels)
    if (p.series.size() > named->series.size()) named = &p;
  const double ly = top + h * static_cast<double>(rows) + 8.0;
  for (std::size_t j = 0; j < named->series.size(); ++j) {
    const double lx = 20.0 + static_cast<double>(j % 4) * (width - 20.0) / 4.0;
    const double yy = ly + 22.0 * static_cast<double>(j / 4);
    detail::append(s, "<line x1=\"", fixed(lx), "\" y1=\"", fixed(yy), "\" x2=\"", fixed(lx + 18),
                   "\" y2=\"", fixed(yy), "\" stroke=\"", detail::palette[j % 10],
                   "\" stroke-width=\"3\"/>\n");
    detail::append(s, "<text x=\"", fixed(lx + 24), "\" y=\"", fixed(yy + 4),
                   "\" font-size=\"11\">", detail::svg_escape(named->series[j].name), "</text>\n");
  }
  s += "</svg>\n";
  return s;
}

}  // namespace nas::viz
