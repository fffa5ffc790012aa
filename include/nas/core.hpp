#pragma once
/// @file
/// The torch-free core of nas: compile-time strings and helpers, op descriptors
/// and op sets, DAG shapes, cells, spaces, genotypes, their text formats, and
/// enumeration, sampling and mutation. Never includes LibTorch; links only
/// range-v3 (target nas::core).

#include "nas/core/diagnostic.hpp"
#include "nas/core/fixed_string.hpp"
#include "nas/core/json.hpp"
#include "nas/core/math.hpp"
#include "nas/core/names.hpp"
#include "nas/core/options.hpp"
#include "nas/core/parse_error.hpp"
#include "nas/core/random.hpp"
#include "nas/core/text_cursor.hpp"
#include "nas/core/version.hpp"
#include "nas/ops/op.hpp"
#include "nas/ops/op_args.hpp"
#include "nas/ops/op_set.hpp"
#include "nas/space.hpp"
#include "nas/viz/dot.hpp"
#include "nas/viz/plot.hpp"
