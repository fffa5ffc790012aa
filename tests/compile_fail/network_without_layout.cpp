// needs: torch
// A user's mistake that must fail to compile with a message in nas's words: a network for a
// space that declares no layout (nothing is guessed from cell names or edge counts).
// expect: this space declares no layout
// expect: network_without_layout.cpp:[0-9]+:[0-9]+:   required from here
#include <torch/torch.h>

#include <nas/nn/network.hpp>
#include <nas/spaces/darts.hpp>

#include <type_traits>

// DARTS's cell over fewer ops than nas::spaces::darts (which declares its layout already).
using few_ops =
    nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"sep_conv_3x3", nas::ops::SepConv<3>>>;

using space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, few_ops>,
                         nas::Cell<"reduce", nas::spaces::darts_cell, few_ops>>;
#ifndef NAS_COMPILE_FAIL
template <>
struct nas::layout_of<space> : std::type_identity<nas::layouts::Darts> {};
#endif

auto build(const nas::Genotype<space>& g) {
  return nas::Network<space>(g, nas::Stack{.layers = 3, .channels = 4});
}
