// A user's mistake that must fail to compile with a message in nas's words.
// expect: invalid_dag_shape
// expect: edge .from -> to. points backwards; edges go from lower to higher node ids
// expect: dag_backward_edge.cpp:[0-9]+:[0-9]+:   in .constexpr. expansion of
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto bad = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {2, 1}});
#else  // the control: the same construct done right compiles
inline constexpr auto good = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}});
#endif
