#pragma once
/// @file
/// Every genotype text format, and nas::parse / nas::to_string that pick one.

#include <ostream>
#include <string>
#include <string_view>

#include "nas/space/format_darts.hpp"
#include "nas/space/format_json.hpp"
#include "nas/space/format_nb201.hpp"

namespace nas {

/// Whether NAS-Bench-201 text can write every genotype of the space: one cell kind that keeps
/// every edge and outputs its last node. A property of the text form, not of how the space is
/// stacked (that is the layout the space declares, nas::layout_of).
template <search_space S>
inline constexpr bool nb201_text_fits = S::cell_count == 1 &&
                                        S::template cell_at<0>::dag.keeps_all() &&
                                        S::template cell_at<0>::dag.output == Output::last_node;

/// The default text of a genotype: NAS-Bench-201 where it fits (nas::nb201_text_fits), DARTS
/// otherwise.
template <search_space S>
[[nodiscard]] std::string to_string(const Genotype<S>& g) {
  if constexpr (nb201_text_fits<S>)
    return to_nb201(g);
  else
    return to_darts(g);
}

/// Reads any of the three forms, told apart by the first non-space character:
/// `|` NAS-Bench-201, `{` JSON, anything else DARTS.
template <search_space S>
[[nodiscard]] Genotype<S> parse(std::string_view text) {
  std::size_t i = 0;
  while (i < text.size() &&
         (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r'))
    ++i;
  if (i < text.size() && text[i] == '|') {
    if constexpr (S::cell_count == 1) return parse_nb201<S>(text);
    throw ParseError(
        "genotype", text, i,
        "a NAS-Bench-201 string describes one cell; this space has several cell kinds");
  }
  if (i < text.size() && text[i] == '{') return parse_json<S>(text);
  return parse_darts<S>(text);
}

/// Streams nas::to_string(g).
template <search_space S>
std::ostream& operator<<(std::ostream& os, const Genotype<S>& g) {
  return os << to_string(g);
}

}  // namespace nas
