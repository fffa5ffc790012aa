#pragma once
/// @file
/// One include for everything in nas (LibTorch included; link nas::nas).
/// `nas/core.hpp` alone is the torch-free part (link nas::core). The data readers,
/// `nas/data/idx.hpp`, are apart: they need zlib (link ZLIB::ZLIB).

#include "nas/core.hpp"
#include "nas/nn/cell_edges.hpp"
#include "nas/nn/darts_network.hpp"
#include "nas/nn/make_op.hpp"
#include "nas/nn/mixed_edge.hpp"
#include "nas/nn/nb201_network.hpp"
#include "nas/nn/network.hpp"
#include "nas/nn/stack.hpp"
#include "nas/nn/supernet.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/darts.hpp"
#include "nas/ops/mobile.hpp"
#include "nas/ops/nb201.hpp"
#include "nas/ops/operation.hpp"
#include "nas/relax/gumbel.hpp"
#include "nas/relax/single_path.hpp"
#include "nas/relax/softmax.hpp"
#include "nas/spaces/darts.hpp"
#include "nas/spaces/nb201.hpp"
#include "nas/strategy/bilevel.hpp"
#include "nas/strategy/common.hpp"
#include "nas/strategy/darts.hpp"
#include "nas/strategy/derive.hpp"
#include "nas/strategy/gdas.hpp"
#include "nas/testing/operation_laws.hpp"
