// A user's mistake that must fail to compile with a message in nas's words.
// expect: edge points into an input node; input nodes have no incoming edges
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto bad = nas::make_dag({.inputs = 2}, {{0, 1}, {0, 2}, {1, 2}});
#else  // the control: the same construct done right compiles
inline constexpr auto good = nas::make_dag({.inputs = 2}, {{0, 2}, {1, 2}});
#endif
