#pragma once
/// @file
/// nas::version: the library's version, as the top-level CMakeLists.txt states it (a test
/// compares the two). Checkpoints record it.

#include <string_view>

/// The library's version: major, minor, patch.
#define NAS_VERSION_MAJOR 0
#define NAS_VERSION_MINOR 2
#define NAS_VERSION_PATCH 0

namespace nas {

/// "major.minor.patch", as the project's CMake version.
inline constexpr std::string_view version = "0.2.0";

}  // namespace nas
