// nas::version (written into every checkpoint) is the project's CMake version.
#include <doctest/doctest.h>

#include <string>

#include <nas/core/version.hpp>

TEST_CASE("version: the header states the version the top-level CMakeLists.txt does") {
  CHECK(std::string(nas::version) == NAS_TEST_PROJECT_VERSION);
  CHECK(std::string(nas::version) == std::to_string(NAS_VERSION_MAJOR) + "." +
                                         std::to_string(NAS_VERSION_MINOR) + "." +
                                         std::to_string(NAS_VERSION_PATCH));
}
