# Drives one consumer project of tests/package (ctest tests package.<mode>):
#   cmake -DMODE=find_package|add_subdirectory|fetchcontent -DNAS_SOURCE_DIR=... -DNAS_BUILD_DIR=...
#         -DWORK_DIR=... -DCONSUMER_DIR=... -DGENERATOR=... -DCXX_COMPILER=... [-DLAUNCHER=...]
#         [-DBUILD_TYPE=...] [-DPREFIX_PATH=a|b] [-DTORCH_DIR=...] [-DTORCH_CUDA_TOOLKIT=...]
#         -P run_package_test.cmake
# Configures the consumer from scratch with this build's toolchain, builds it and runs it.
cmake_minimum_required(VERSION 3.23)

function(run step)
  string(TIMESTAMP t0 "%s")
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(TIMESTAMP t1 "%s")
  math(EXPR dt "${t1} - ${t0}")
  if(NOT rc EQUAL 0)
    message("${out}")
    message(FATAL_ERROR "package.${MODE}: ${step} failed (exit code ${rc})")
  endif()
  message(STATUS "package.${MODE}: ${step} ok (${dt} s)")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

string(REPLACE "|" ";" prefix_path "${PREFIX_PATH}")
if(NOT BUILD_TYPE)
  set(BUILD_TYPE Release)
endif()
file(REMOVE_RECURSE "${WORK_DIR}")
file(MAKE_DIRECTORY "${WORK_DIR}")

set(extra "")
if(MODE STREQUAL "find_package")
  # Install this build tree (header-only: nothing to build first) into a private prefix.
  run("install" "${CMAKE_COMMAND}" --install "${NAS_BUILD_DIR}" --prefix "${WORK_DIR}/prefix"
      --config "${BUILD_TYPE}")
  list(PREPEND prefix_path "${WORK_DIR}/prefix")
elseif(MODE STREQUAL "add_subdirectory")
  list(APPEND extra "-DNAS_SOURCE_DIR=${NAS_SOURCE_DIR}")
elseif(MODE STREQUAL "fetchcontent")
  # A source archive of the library parts only, as a release tarball would hold them, fetched
  # through FetchContent's real download + hash check + extract path (file:// URL).
  set(tarball "${WORK_DIR}/nas-src.tar.gz")
  set(parts CMakeLists.txt cmake include)
  run("archive" "${CMAKE_COMMAND}" -E chdir "${NAS_SOURCE_DIR}" "${CMAKE_COMMAND}" -E tar czf
      "${tarball}" -- ${parts})
  file(SHA256 "${tarball}" sha)
  list(APPEND extra "-DNAS_URL=file://${tarball}" "-DNAS_URL_HASH=SHA256=${sha}")
else()
  message(FATAL_ERROR "unknown MODE '${MODE}'")
endif()

# The prefix path travels as the environment variable (':'-separated), which avoids quoting a
# CMake list through execute_process.
if(CMAKE_HOST_WIN32)
  set(sep ";")
else()
  set(sep ":")
endif()
list(JOIN prefix_path "${sep}" prefix_env)
set(configure "${CMAKE_COMMAND}" -E env "CMAKE_PREFIX_PATH=${prefix_env}"
              "${CMAKE_COMMAND}" -S "${CONSUMER_DIR}" -B "${WORK_DIR}/build" -G "${GENERATOR}"
              "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}" "-DCMAKE_BUILD_TYPE=${BUILD_TYPE}" ${extra})
if(LAUNCHER)
  list(APPEND configure "-DCMAKE_CXX_COMPILER_LAUNCHER=${LAUNCHER}")
endif()
if(TORCH_DIR)
  list(APPEND configure "-DTorch_DIR=${TORCH_DIR}")
endif()
if(TORCH_CUDA_TOOLKIT)
  list(APPEND configure "-DNAS_TORCH_CUDA_TOOLKIT=${TORCH_CUDA_TOOLKIT}")
endif()
run("configure" ${configure})
run("build" "${CMAKE_COMMAND}" --build "${WORK_DIR}/build" --config "${BUILD_TYPE}")
run("run" "${WORK_DIR}/build/consumer")
message(STATUS "package.${MODE}: consumer says: ${last_output}")
if(EXISTS "${WORK_DIR}/build/consumer_nas")
  run("run consumer_nas" "${WORK_DIR}/build/consumer_nas")
  message(STATUS "package.${MODE}: consumer_nas says: ${last_output}")
endif()
