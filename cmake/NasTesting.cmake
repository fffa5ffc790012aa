# Helpers for nas's tests and examples (not installed).
#
#   nas_add_doctest_executable(<name> SOURCES <files>... LINK <libs>... [TORCH_PCH] [LABELS ...])
#   nas_add_static_tests(<name> SOURCES <files>... LINK <libs>...)
#   nas_add_compile_fail_tests(DIRECTORY <dir>)
#   nas_add_package_test(<mode>)                   find_package | add_subdirectory | fetchcontent
#   nas_add_example(<name> SOURCE <file> [TORCH] [ARGS <args>...] [GOLDEN <file>] [LABELS ...]
#                   [LINK <libs>...])
#
# Every runnable program (test executables, examples) is also added to the custom target
# nas_test_programs, which the sanitizer build in scripts/test.sh builds instead of `all`.
include_guard(GLOBAL)

include(NasWarnings)

if(NOT TARGET nas_test_programs)
  add_custom_target(nas_test_programs)
endif()

set(_NAS_CMAKE_DIR "${CMAKE_CURRENT_LIST_DIR}")

# One object library that owns the precompiled <torch/torch.h>. Test executables and examples
# that use LibTorch reuse it (REUSE_FROM) instead of each building their own ~300 MB .gch
# (~15 s each). They must be compiled with the same flags, which nas_target_defaults() ensures.
function(_nas_torch_pch_target out)
  if(NOT TARGET nas_torch_pch)
    file(WRITE "${PROJECT_BINARY_DIR}/nas_torch_pch.cpp.in"
         "// owner of the precompiled <torch/torch.h> shared by nas's tests and examples\n")
    configure_file("${PROJECT_BINARY_DIR}/nas_torch_pch.cpp.in"
                   "${PROJECT_BINARY_DIR}/nas_torch_pch.cpp" COPYONLY)
    add_library(nas_torch_pch OBJECT "${PROJECT_BINARY_DIR}/nas_torch_pch.cpp")
    target_link_libraries(nas_torch_pch PRIVATE nas::nas)
    nas_target_defaults(nas_torch_pch)
    target_precompile_headers(nas_torch_pch PRIVATE <torch/torch.h>)
  endif()
  set(${out} nas_torch_pch PARENT_SCOPE)
endfunction()

function(_nas_use_torch_pch target)
  _nas_torch_pch_target(pch)
  target_precompile_headers(${target} REUSE_FROM ${pch})
endfunction()

function(_nas_doctest_main out)
  if(NOT TARGET nas_doctest_main)
    find_package(doctest REQUIRED)
    add_library(nas_doctest_main STATIC "${PROJECT_SOURCE_DIR}/tests/doctest_main.cpp")
    target_link_libraries(nas_doctest_main PUBLIC doctest::doctest)
    target_compile_features(nas_doctest_main PUBLIC cxx_std_20)
    nas_target_defaults(nas_doctest_main)
  endif()
  set(${out} nas_doctest_main PARENT_SCOPE)
endfunction()

# One executable from many test files with the shared doctest main. One ctest test runs it all;
# with SPLIT, one ctest test per source file instead, `NAME.STEM` running the test cases of
# STEM.cpp (doctest --source-file), so `ctest -j` spreads a long suite over the cores. Test cases
# must then live in the .cpp files, not in shared headers (a header's cases would run nowhere).
function(nas_add_doctest_executable name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "TORCH_PCH;SPLIT" "" "SOURCES;LINK;LABELS")
  if(NOT arg_SOURCES)
    return()
  endif()
  _nas_doctest_main(main)
  add_executable(${name} ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${main} ${arg_LINK})
  nas_target_defaults(${name})
  if(arg_TORCH_PCH)
    _nas_use_torch_pch(${name})
  endif()
  add_dependencies(nas_test_programs ${name})
  if(NOT arg_SPLIT)
    add_test(NAME ${name} COMMAND ${name})
    set_tests_properties(${name} PROPERTIES LABELS "unit;${arg_LABELS}")
    return()
  endif()
  foreach(src IN LISTS arg_SOURCES)
    get_filename_component(stem "${src}" NAME_WE)
    add_test(NAME ${name}.${stem} COMMAND ${name} "--source-file=*/${stem}.cpp")
    set_tests_properties(${name}.${stem} PROPERTIES LABELS "unit;${arg_LABELS}")
  endforeach()
endfunction()

# Compile-time tests: a successful build of `all` is the pass.
function(nas_add_static_tests name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "" "SOURCES;LINK")
  if(NOT arg_SOURCES)
    return()
  endif()
  add_library(${name} OBJECT ${arg_SOURCES})
  target_link_libraries(${name} PRIVATE ${arg_LINK})
  nas_target_defaults(${name})
endfunction()

# tests/compile_fail/NAME.cpp holds one bad construct, enabled by NAS_COMPILE_FAIL, and its
# expected diagnostics as lines `// expect: REGEX` (CMake regex, matched against the build
# output, compiled with LC_ALL=C so GCC quotes with '...'). A first line containing
# `// needs: torch` links nas::nas instead of nas::core.
#   cf_NAME_control  OBJECT, in `all`: the file without NAS_COMPILE_FAIL must compile;
#   cf_NAME          OBJECT, EXCLUDE_FROM_ALL, with -DNAS_COMPILE_FAIL;
#   compile_fail.NAME  ctest test: building cf_NAME must fail and print every expected regex.
function(nas_add_compile_fail_tests)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "DIRECTORY" "")
  file(GLOB sources CONFIGURE_DEPENDS "${arg_DIRECTORY}/*.cpp")
  foreach(src IN LISTS sources)
    get_filename_component(stem "${src}" NAME_WE)
    file(STRINGS "${src}" first_line LIMIT_COUNT 1)
    set(lib nas::core)
    if(first_line MATCHES "// needs: torch")
      if(NOT TARGET nas::nas)
        continue()
      endif()
      set(lib nas::nas)
    endif()
    file(STRINGS "${src}" expects REGEX "^// expect: ")
    if(NOT expects)
      message(FATAL_ERROR "${src}: a compile-fail test needs at least one line '// expect: REGEX'")
    endif()

    add_library(cf_${stem}_control OBJECT "${src}")
    target_link_libraries(cf_${stem}_control PRIVATE ${lib})
    nas_target_defaults(cf_${stem}_control)

    add_library(cf_${stem} OBJECT EXCLUDE_FROM_ALL "${src}")
    target_link_libraries(cf_${stem} PRIVATE ${lib})
    target_compile_definitions(cf_${stem} PRIVATE NAS_COMPILE_FAIL)
    nas_target_defaults(cf_${stem})
    # No ccache on the build that must fail: ccache never stores failures, but a stale success
    # must not stand in for a real compile either; without the launcher every run compiles.
    set_target_properties(cf_${stem} PROPERTIES CXX_COMPILER_LAUNCHER "")

    # The driver re-reads the expectations from the source at test time, so editing a message
    # needs no re-configure; the configure-time read above only checks that there are some.
    add_test(
      NAME compile_fail.${stem}
      COMMAND
        "${CMAKE_COMMAND}" "-DBUILD_DIR=${CMAKE_BINARY_DIR}" "-DTARGET=cf_${stem}"
        "-DSOURCE=${src}" "-DCONFIG=$<CONFIG>" -P "${_NAS_CMAKE_DIR}/check_compile_fail.cmake")
    # One `cmake --build` at a time in this build tree (ninja does not lock it).
    set_tests_properties(compile_fail.${stem} PROPERTIES LABELS compile_fail RESOURCE_LOCK
                                                         nas_build_tree)
  endforeach()
endfunction()

# Consumer projects in tests/package/<mode> configured, built and run by run_package_test.cmake
# with this build's compiler, launcher, generator and prefix path.
function(nas_add_package_test mode)
  set(bin "${CMAKE_BINARY_DIR}/package")
  set(prefix_path ${CMAKE_PREFIX_PATH})
  if(DEFINED ENV{CMAKE_PREFIX_PATH})
    string(REPLACE ":" ";" env_path "$ENV{CMAKE_PREFIX_PATH}")
    list(APPEND prefix_path ${env_path})
  endif()
  string(REPLACE ";" "|" prefix_path "${prefix_path}")
  add_test(
    NAME package.${mode}
    COMMAND
      "${CMAKE_COMMAND}" "-DMODE=${mode}" "-DNAS_SOURCE_DIR=${PROJECT_SOURCE_DIR}"
      "-DNAS_BUILD_DIR=${CMAKE_BINARY_DIR}" "-DWORK_DIR=${bin}/${mode}"
      "-DCONSUMER_DIR=${PROJECT_SOURCE_DIR}/tests/package/${mode}"
      "-DGENERATOR=${CMAKE_GENERATOR}" "-DCXX_COMPILER=${CMAKE_CXX_COMPILER}"
      "-DLAUNCHER=${CMAKE_CXX_COMPILER_LAUNCHER}" "-DBUILD_TYPE=$<CONFIG>"
      "-DPREFIX_PATH=${prefix_path}" "-DTORCH_DIR=${Torch_DIR}"
      "-DTORCH_CUDA_TOOLKIT=${NAS_TORCH_CUDA_TOOLKIT}"
      -P "${_NAS_CMAKE_DIR}/run_package_test.cmake")
  set_tests_properties(package.${mode} PROPERTIES LABELS package)
endfunction()

# nas_add_example(<name> SOURCE <file> [TORCH] [ARGS <args>...] [GOLDEN <file>] [LABELS ...])
# Builds examples/<file> as executable <name> and registers ctest test example.<name> that runs
# it with ARGS (small settings). GOLDEN: stdout must equal that file (deterministic examples).
# TORCH: links nas::nas (skipped when NAS_WITH_TORCH=OFF); otherwise nas::core only.
function(nas_add_example name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "TORCH" "SOURCE;GOLDEN" "ARGS;LABELS;LINK")
  if(NOT arg_SOURCE)
    message(FATAL_ERROR "nas_add_example(${name}): SOURCE is required")
  endif()
  if(arg_TORCH AND NOT TARGET nas::nas)
    message(STATUS "nas: example ${name} skipped (needs LibTorch, NAS_WITH_TORCH=OFF)")
    return()
  endif()
  add_executable(${name} "${arg_SOURCE}")
  if(arg_TORCH)
    target_link_libraries(${name} PRIVATE nas::nas)
    _nas_use_torch_pch(${name})
  else()
    target_link_libraries(${name} PRIVATE nas::core)
  endif()
  target_link_libraries(${name} PRIVATE ${arg_LINK})
  nas_target_defaults(${name})
  add_dependencies(nas_test_programs ${name})
  if(arg_GOLDEN)
    get_filename_component(golden "${arg_GOLDEN}" ABSOLUTE)
    string(REPLACE ";" "|" args "${arg_ARGS}")
    add_test(
      NAME example.${name}
      COMMAND "${CMAKE_COMMAND}" "-DPROGRAM=$<TARGET_FILE:${name}>" "-DARGS=${args}"
              "-DGOLDEN=${golden}" -P "${_NAS_CMAKE_DIR}/run_golden.cmake")
  else()
    add_test(NAME example.${name} COMMAND ${name} ${arg_ARGS})
  endif()
  set_tests_properties(example.${name} PROPERTIES LABELS "example;${arg_LABELS}")
endfunction()
