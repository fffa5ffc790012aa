// A user's mistake that must fail to compile with a message in nas's words.
// expect: template constraint failure
// expect: op_descriptor
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using bad = nas::OpSet<cf::Conv>;
#else  // the control: the same construct done right compiles
using good = nas::OpSet<nas::Op<"conv", cf::Conv>>;
#endif
