// A user's mistake that must fail to compile with a message in nas's words.
// expect: keep is larger than a node's in-degree
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto bad = nas::dense_dag({.inputs = 1, .nodes = 3, .keep = 2});
#else  // the control: the same construct done right compiles
inline constexpr auto good = nas::dense_dag({.inputs = 2, .nodes = 3, .keep = 2});
#endif
