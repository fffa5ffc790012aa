// needs: torch
// A user's mistake that must fail to compile with a message in nas's words: a space that
// declares a layout which cannot stack it (the DARTS layout needs "normal" and "reduce").
// expect: the layout this space declares does not accept the space
// expect: layout_rejects_space.cpp:[0-9]+:[0-9]+:   required from here
#include <torch/torch.h>

#include <nas/nn/supernet.hpp>
#include <nas/relax/softmax.hpp>
#include <nas/spaces/darts.hpp>

#include <type_traits>

// DARTS's cell over fewer ops than nas::spaces::darts (which declares its layout already).
using few_ops =
    nas::OpSet<nas::Op<"none", nas::ops::Zero>, nas::Op<"sep_conv_3x3", nas::ops::SepConv<3>>>;

#ifdef NAS_COMPILE_FAIL
using space = nas::Space<nas::Cell<"cell", nas::spaces::darts_cell, few_ops>>;
#else
using space = nas::Space<nas::Cell<"normal", nas::spaces::darts_cell, few_ops>,
                         nas::Cell<"reduce", nas::spaces::darts_cell, few_ops>>;
#endif
template <>
struct nas::layout_of<space> : std::type_identity<nas::layouts::Darts> {};

auto build() { return nas::Supernet<space, nas::relax::Softmax>(nas::Stack{}); }
