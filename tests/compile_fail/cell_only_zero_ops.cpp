// A user's mistake that must fail to compile with a message in nas's words.
// expect: a_cell_that_keeps_k_inputs_needs_an_op_that_is_not_a_zero_op
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
using bad = nas::Cell<"normal", cf::darts_dag, nas::OpSet<nas::Op<"none", cf::Zero>>>;
#else  // the control: the same construct done right compiles
using good = nas::Cell<"normal", cf::darts_dag,
                       nas::OpSet<nas::Op<"none", cf::Zero>, nas::Op<"conv", cf::Conv>>>;
#endif
