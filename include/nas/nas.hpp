#pragma once
/// @file
/// One include for everything in nas.

#include "nas/core.hpp"
