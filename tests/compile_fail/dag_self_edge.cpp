// A user's mistake that must fail to compile with a message in nas's words.
// expect: self edge .node -> same node.; edges go from lower to higher node ids
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto bad = nas::make_dag({.inputs = 1}, {{0, 1}, {1, 1}});
#else  // the control: the same construct done right compiles
inline constexpr auto good = nas::make_dag({.inputs = 1}, {{0, 1}, {1, 2}});
#endif
