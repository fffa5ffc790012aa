// A user's mistake that must fail to compile with a message in nas's words.
// expect: Dag_edges_must_be_sorted_by_target_then_source__build_the_Dag_with_nas_make_dag
#include "cf_common.hpp"

#ifdef NAS_COMPILE_FAIL
inline constexpr nas::Dag hand_built{.inputs = 1,
                                     .nodes = 2,
                                     .output = nas::last_node,
                                     .keep = nas::keep_all,
                                     .edge_count = 2,
                                     .edges = {nas::Edge{1, 2}, nas::Edge{0, 1}}};
using bad = nas::Cell<"cell", hand_built, cf::ops>;
#else  // the control: the same construct done right compiles
inline constexpr nas::Dag hand_built = nas::validate({.inputs = 1,
                                                      .nodes = 2,
                                                      .output = nas::last_node,
                                                      .keep = nas::keep_all,
                                                      .edge_count = 2,
                                                      .edges = {nas::Edge{1, 2}, nas::Edge{0, 1}}});
using good = nas::Cell<"cell", hand_built, cf::ops>;
#endif
