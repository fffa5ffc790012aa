#pragma once
/// @file
/// Saving and restoring the state of the sampled strategies (nas::Checkpoint entries), so
/// that a killed search resumes where its last checkpoint left it.

#include <c10/util/Exception.h>

#include <cmath>
#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "nas/space/format.hpp"
#include "nas/space/genotype.hpp"
#include "nas/strategy/history.hpp"

namespace nas::detail {

/// `value<TAB>genotype` lines: the scored architectures a strategy keeps.
template <search_space S>
std::string scored_lines(const std::vector<std::pair<double, Genotype<S>>>& items) {
  std::string out;
  for (const auto& [v, g] : items) {
    out += number_text(v);
    out += '\t';
    out += to_string(g);
    out += '\n';
  }
  return out;
}

template <search_space S>
std::vector<std::pair<double, Genotype<S>>> parse_scored_lines(std::string_view text,
                                                               const std::string& what) {
  std::vector<std::pair<double, Genotype<S>>> out;
  std::size_t at = 0;
  while (at < text.size()) {
    const std::size_t end = std::min(text.find('\n', at), text.size());
    const std::string line(text.substr(at, end - at));
    at = end + 1;
    if (line.empty()) continue;
    const std::size_t tab = line.find('\t');
    TORCH_CHECK(tab != std::string::npos, what, ": a line without a tab: '", line, "'");
    char* stop = nullptr;
    const double v = std::strtod(line.c_str(), &stop);
    TORCH_CHECK(stop == line.c_str() + tab, what, ": '", line.substr(0, tab), "' is not a number");
    out.emplace_back(v, parse<S>(std::string_view(line).substr(tab + 1)));
  }
  return out;
}

inline double text_number(const std::string& text, const std::string& what) {
  char* stop = nullptr;
  const double v = std::strtod(text.c_str(), &stop);
  TORCH_CHECK(!text.empty() && stop == text.c_str() + text.size(), what, ": '", text,
              "' is not a number");
  return v;
}

}  // namespace nas::detail
