// A user's mistake that must fail to compile with a message in nas's words.
// expect: op_name_must_be_non_empty_and_use_only_letters_digits_underscore_dot_or_dash
// expect: Name = nas::FixedString<8>."conv 3x3".
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using bad = nas::Op<"conv 3x3", cf::Conv>;
#else  // the control: the same construct done right compiles
using good = nas::Op<"conv_3x3", cf::Conv>;
#endif
