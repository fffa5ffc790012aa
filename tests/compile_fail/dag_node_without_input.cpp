// A user's mistake that must fail to compile with a message in nas's words.
// expect: a computed node has no input; every computed node needs an incoming edge
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto bad = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 3}});
#else  // the control: the same construct done right compiles
inline constexpr auto good = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {0, 3}});
#endif
