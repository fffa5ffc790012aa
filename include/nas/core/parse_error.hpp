#pragma once
/// @file
/// nas::ParseError: a text that could not be read, with the position and the problem.

#include <cstddef>
#include <string>
#include <string_view>

#include "nas/core/diagnostic.hpp"

namespace nas {

/// Thrown by every nas reader (genotype text formats, JSON) on malformed or
/// mismatched input. `what()` names the format, the position (offset, line,
/// column), the problem, and shows the text around the position with a caret.
class ParseError : public InvalidArgument {
 public:
  ParseError(std::string_view format, std::string_view text, std::size_t offset,
             const std::string& problem)
      : InvalidArgument(compose(format, text, offset, problem)),
        offset_(offset),
        problem_(problem) {}

  /// Byte offset of the problem in the input.
  [[nodiscard]] std::size_t offset() const noexcept { return offset_; }
  /// The problem alone, without position or excerpt.
  [[nodiscard]] const std::string& problem() const noexcept { return problem_; }

 private:
  static std::string compose(std::string_view format, std::string_view text, std::size_t offset,
                             const std::string& problem) {
    if (offset > text.size()) offset = text.size();
    std::size_t line = 1;
    std::size_t line_start = 0;
    for (std::size_t i = 0; i < offset; ++i)
      if (text[i] == '\n') {
        ++line;
        line_start = i + 1;
      }
    std::string out = "nas: cannot read ";
    out.append(format);
    out += " at offset " + std::to_string(offset) + " (line " + std::to_string(line) + ", column " +
           std::to_string(offset - line_start + 1) + "): " + problem;
    // An excerpt of at most 60 characters of the offending line around the offset.
    std::size_t line_end = text.find('\n', offset);
    if (line_end == std::string_view::npos) line_end = text.size();
    const std::size_t from = offset - line_start > 40 ? offset - 40 : line_start;
    const std::size_t to = line_end - offset > 20 ? offset + 20 : line_end;
    out += "\n  ";
    out.append(text.substr(from, to - from));
    out += "\n  " + std::string(offset - from, ' ') + "^";
    return out;
  }

  std::size_t offset_;
  std::string problem_;
};

}  // namespace nas
