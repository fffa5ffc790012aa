// A user's mistake that must fail to compile with a message in nas's words.
// expect: op_names_in_an_OpSet_must_be_unique__this_name_appears_twice
// expect: Name = nas::FixedString<12>."sep_conv_3x3".
// expect: op_set_duplicate_name.cpp:[0-9]+:[0-9]+:   required from here
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using bad = nas::OpSet<nas::Op<"sep_conv_3x3", cf::Conv>, nas::Op<"sep_conv_3x3", cf::Conv>>;
#else  // the control: the same construct done right compiles
using good = nas::OpSet<nas::Op<"sep_conv_3x3", cf::Conv>, nas::Op<"sep_conv_5x5", cf::Conv>>;
#endif
