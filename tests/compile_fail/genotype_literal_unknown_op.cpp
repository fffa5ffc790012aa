// A user's mistake that must fail to compile with a message in nas's words.
// expect: unknown op '
// expect: genotype_literal_unknown_op.cpp:[0-9]+:[0-9]+:   in .constexpr. expansion of
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using space = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>>;
constexpr auto g = nas::parse_darts<space>(
    "Genotype(normal=[(\x27sep_conv_5x5\x27, 0), (\x27sep_conv_3x3\x27, 1), (\x27sep_conv_3x3\x27, "
    "0), (\x27sep_conv_3x3\x27, 1), (\x27sep_conv_3x3\x27, 0), (\x27sep_conv_3x3\x27, 1), "
    "(\x27sep_conv_3x3\x27, 0), (\x27sep_conv_3x3\x27, 1)], normal_concat=[2, 3, 4, 5])");
#else  // the control: the same construct done right compiles
using space = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>>;
constexpr auto g = nas::parse_darts<space>(
    "Genotype(normal=[(\x27sep_conv_3x3\x27, 0), (\x27sep_conv_3x3\x27, 1), (\x27sep_conv_3x3\x27, "
    "0), (\x27sep_conv_3x3\x27, 1), (\x27sep_conv_3x3\x27, 0), (\x27sep_conv_3x3\x27, 1), "
    "(\x27sep_conv_3x3\x27, 0), (\x27sep_conv_3x3\x27, 1)], normal_concat=[2, 3, 4, 5])");
static_assert(g.valid());
#endif
