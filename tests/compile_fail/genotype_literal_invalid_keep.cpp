// A user's mistake that must fail to compile with a message in nas's words.
// expect: " lists ", kept, " edge.s.; it keeps "
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr auto nb = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}});
using space = nas::Space<nas::Cell<"cell", nb, cf::ops>>;
constexpr auto g = nas::parse_nb201<space>("|sep_conv_3x3~0|+|none~0|");
#else  // the control: the same construct done right compiles
inline constexpr auto nb = nas::make_dag({.inputs = 1}, {{0, 1}, {0, 2}, {1, 2}});
using space = nas::Space<nas::Cell<"cell", nb, cf::ops>>;
constexpr auto g = nas::parse_nb201<space>("|sep_conv_3x3~0|+|none~0|skip_connect~1|");
static_assert(g.valid());
#endif
