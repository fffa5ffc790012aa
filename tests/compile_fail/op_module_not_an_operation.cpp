// A user's mistake that must fail to compile with a message in nas's words.
// expect: the_module_of_this_op_is_not_constructible_from_nas_OpArgs__give_it_a_constructor
// expect: Name = nas::FixedString<8>."conv_3x3"
// expect: Module = NotAnOp
// expect: op_module_not_an_operation.cpp:[0-9]+:[0-9]+:   required from here
#include "cf_common.hpp"

struct NotAnOp {
  NotAnOp(int channels, int stride);  // not built from nas::OpArgs
};
struct Adapted {
  Adapted(int channels, int stride);
};
template <>
inline constexpr bool nas::enable_operation<Adapted> = true;  // adapted elsewhere

#ifdef NAS_COMPILE_FAIL
using bad = nas::Op<"conv_3x3", NotAnOp>;
#else  // the control: an adapted module type is accepted
using good = nas::Op<"conv_3x3", Adapted>;
#endif
