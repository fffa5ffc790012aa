// A user's mistake that must fail to compile with a message in nas's words.
// expect: cell_names_in_a_Space_must_be_unique__this_name_appears_twice
// expect: Name = nas::FixedString<6>."normal".
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using bad = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>,
                       nas::Cell<"normal", cf::darts_dag, cf::ops>>;
#else  // the control: the same construct done right compiles
using good = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>,
                        nas::Cell<"reduce", cf::darts_dag, cf::ops>>;
#endif
