#pragma once
/// @file
/// One include for everything in nas (LibTorch included; link nas::nas).
/// `nas/core.hpp` alone is the torch-free part (link nas::core).

#include "nas/core.hpp"
#include "nas/nn/cell_edges.hpp"
#include "nas/nn/darts_network.hpp"
#include "nas/nn/make_op.hpp"
#include "nas/nn/nb201_network.hpp"
#include "nas/nn/network.hpp"
#include "nas/nn/stack.hpp"
#include "nas/ops/cost.hpp"
#include "nas/ops/darts.hpp"
#include "nas/ops/mobile.hpp"
#include "nas/ops/nb201.hpp"
#include "nas/ops/operation.hpp"
#include "nas/spaces/darts.hpp"
#include "nas/spaces/nb201.hpp"
#include "nas/testing/operation_laws.hpp"
