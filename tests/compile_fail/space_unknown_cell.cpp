// A user's mistake that must fail to compile with a message in nas's words.
// expect: this_Space_has_no_cell_kind_with_this_name
// expect: Name = nas::FixedString<4>."stem".
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using space = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>>;
static_assert(space::cell<"stem">::edge_count == 14);
#else  // the control: the same construct done right compiles
using space = nas::Space<nas::Cell<"normal", cf::darts_dag, cf::ops>>;
static_assert(space::cell<"normal">::edge_count == 14);
#endif
