// A user's mistake that must fail to compile with a message in nas's words.
// expect: cell_name_must_be_non_empty_and_use_only_letters_digits_or_underscore
// expect: nas::FixedString<7>."normal-".
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using bad = nas::Cell<"normal-", cf::darts_dag, cf::ops>;
#else  // the control: the same construct done right compiles
using good = nas::Cell<"normal_", cf::darts_dag, cf::ops>;
#endif
