// A user's mistake that must fail to compile with a message in nas's words.
// expect: nas::parse_nb201: a NAS-Bench-201 string describes one cell, and this space has several
// cell kinds expect: nb201_string_for_two_cells.cpp:[0-9]+:[0-9]+:   required from here
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using space = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>,
                         nas::Cell<"reduce", cf::darts_dag, cf::ops>>;
auto g = nas::parse_nb201<space>("|sep_conv_3x3~0|");
#else  // the control: the same construct done right compiles
using space = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>,
                         nas::Cell<"reduce", cf::darts_dag, cf::ops>>;
auto g = nas::parse<space>("Genotype(normal=[], normal_concat=[2], reduce=[], reduce_concat=[2])");
#endif
