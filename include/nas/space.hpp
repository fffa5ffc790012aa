#pragma once
/// @file
/// Search spaces: DAG shapes, cells, spaces, genotypes, text formats, enumeration.
/// Torch-free.

#include "nas/space/canonical.hpp"
#include "nas/space/cell.hpp"
#include "nas/space/dag.hpp"
#include "nas/space/enumerate.hpp"
#include "nas/space/format.hpp"
#include "nas/space/format_darts.hpp"
#include "nas/space/format_json.hpp"
#include "nas/space/format_nb201.hpp"
#include "nas/space/genotype.hpp"
#include "nas/space/space.hpp"
