#pragma once
/// @file
/// How nas reports a user's mistake.
///
/// At compile time, validation code runs in constant evaluation and calls one of
/// the functions below on failure. They are deliberately not `constexpr`: the
/// compiler stops at the call, names the function (whose name says which kind of
/// description is wrong), and prints the source line, which carries the message
/// in nas's words. The "in 'constexpr' expansion of" lines above it show the
/// values involved and the user's line. Called at run time the same functions
/// throw, so one validation routine serves both.

#include <stdexcept>
#include <string>

namespace nas {

/// Thrown when a run-time value breaks a description's rules (a genotype that
/// does not fit its space, an index out of range, a mutation with no neighbour).
class InvalidArgument : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

namespace diagnostic {

/// A cell DAG shape is invalid (see nas::make_dag, nas::dense_dag, nas::chain_dag).
[[noreturn]] inline void invalid_dag_shape(const char* message) {
  throw InvalidArgument(std::string("nas: invalid DAG shape: ") + message);
}

/// An op descriptor, op set or space description is invalid.
[[noreturn]] inline void invalid_description(const char* message) {
  throw InvalidArgument(std::string("nas: invalid description: ") + message);
}

/// A genotype does not satisfy its cell's rules.
[[noreturn]] inline void invalid_genotype(const char* message) {
  throw InvalidArgument(std::string("nas: invalid genotype: ") + message);
}

}  // namespace diagnostic
}  // namespace nas
