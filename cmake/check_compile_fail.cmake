# cmake -DBUILD_DIR=<dir> -DTARGET=<cf_target> -DSOURCE=<file.cpp> [-DCONFIG=<cfg>] -P check_compile_fail.cmake
#
# Passes when building TARGET fails AND the build output matches every `// expect: REGEX` line
# of SOURCE (CMake regular expressions). Prints what it got otherwise.
cmake_minimum_required(VERSION 3.23)
foreach(var BUILD_DIR TARGET SOURCE)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "check_compile_fail.cmake: ${var} is not set")
  endif()
endforeach()

# The expectations, one per line. Read without CMake lists, so a regex may hold ';' or '['.
file(READ "${SOURCE}" text)
string(REPLACE "\r\n" "\n" text "\n${text}\n")
set(expect_count 0)
set(rest "${text}")
while(TRUE)
  string(FIND "${rest}" "\n// expect: " at)
  if(at EQUAL -1)
    break()
  endif()
  math(EXPR start "${at} + 12")
  string(SUBSTRING "${rest}" ${start} -1 rest)
  string(FIND "${rest}" "\n" eol)
  string(SUBSTRING "${rest}" 0 ${eol} regex)
  string(STRIP "${regex}" regex)
  math(EXPR expect_count "${expect_count} + 1")
  set(expect_${expect_count} "${regex}")
endwhile()
if(expect_count EQUAL 0)
  message(FATAL_ERROR "${SOURCE}: no '// expect: REGEX' line")
endif()

set(config_args "")
if(CONFIG)
  set(config_args --config "${CONFIG}")
endif()
# LC_ALL=C: GCC quotes names with '...' instead of UTF-8 quotes, so regexes stay ASCII.
execute_process(
  COMMAND "${CMAKE_COMMAND}" -E env LC_ALL=C LANG=C CLICOLOR_FORCE=0 "${CMAKE_COMMAND}" --build
          "${BUILD_DIR}" --target "${TARGET}" ${config_args}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE output
  ERROR_VARIABLE output)
string(ASCII 27 esc)
string(REGEX REPLACE "${esc}\\[[0-9;]*[mK]" "" output "${output}") # colour codes, if any

set(failures "")
if(result EQUAL 0)
  string(APPEND failures "\n  the build succeeded, but it must fail")
endif()
foreach(i RANGE 1 ${expect_count})
  if(NOT output MATCHES "${expect_${i}}")
    string(APPEND failures "\n  expected diagnostic not found: ${expect_${i}}")
  endif()
endforeach()

if(NOT failures STREQUAL "")
  message("---- build output (target ${TARGET}, exit code ${result}) ----\n${output}")
  message(FATAL_ERROR "compile-fail test ${TARGET} (${SOURCE}):${failures}")
endif()
message(STATUS "${TARGET}: failed to compile as expected; ${expect_count} expected diagnostic(s) found")
