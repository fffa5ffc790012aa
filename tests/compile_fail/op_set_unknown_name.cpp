// A user's mistake that must fail to compile with a message in nas's words.
// expect: this_OpSet_has_no_op_with_this_name
// expect: Name = nas::FixedString<12>."sep_conv_9x9".
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
static_assert(cf::ops::index_of<"sep_conv_9x9"> == 2);
#else  // the control: the same construct done right compiles
static_assert(cf::ops::index_of<"sep_conv_3x3"> == 2);
#endif
