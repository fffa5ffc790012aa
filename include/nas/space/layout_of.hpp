#pragma once
/// @file
/// nas::layout_of: the layout a search space declares (how its cells are stacked into a
/// network). Torch-free: the declaration is part of the space; the layouts themselves and the
/// skeletons they build live in nas/layout/.

#include <type_traits>

namespace nas {

/// The layout a space declares: specialize it for your space with `type` naming a layout
/// (nas::layouts::Darts, nas::layouts::Nb201, nas::layouts::Mobile or your own type that
/// models nas::layout):
///
/// ```
/// using my_space = nas::Space<nas::Cell<"block", my_dag, my_ops>>;
/// template <> struct nas::layout_of<my_space> : std::type_identity<MyLayout> {};
/// ```
///
/// Nothing is guessed from cell names or edge counts: a space without a declared layout has
/// genotypes, text forms, enumeration and a controller, and fails to compile, with a message
/// that says so, where it is asked for a nas::Network or nas::Supernet. The built-in spaces
/// (nas::spaces::darts, nasnet, nb201, mobile) declare theirs next to their definition.
template <class S>
struct layout_of {};

/// Whether space `S` declares a layout (nas::layout_of<S> has a member `type`).
template <class S>
concept declares_layout = requires {
  typename layout_of<S>::type;
};

/// The layout space `S` declares.
template <declares_layout S>
using layout_t = typename layout_of<S>::type;

}  // namespace nas
