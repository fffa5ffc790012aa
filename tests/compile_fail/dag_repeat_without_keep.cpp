// A user's mistake that must fail to compile with a message in nas's words.
// expect: repeat needs a keep rule k; a cell that keeps every edge takes each input once
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto bad = nas::make_dag({.inputs = 1, .repeat = true}, {{0, 1}, {0, 2}, {1, 2}});
#else  // the control: the same construct done right compiles
inline constexpr auto good =
    nas::make_dag({.inputs = 1, .keep = 2, .repeat = true}, {{0, 1}, {0, 2}, {1, 2}});
#endif
