# cmake -DPROGRAM=<exe> [-DARGS=a|b|c] -DGOLDEN=<file> -P run_golden.cmake
# Runs PROGRAM; passes when it exits 0 and its stdout equals GOLDEN (line endings normalised).
cmake_minimum_required(VERSION 3.23)
string(REPLACE "|" ";" args "${ARGS}")
execute_process(
  COMMAND "${PROGRAM}" ${args}
  RESULT_VARIABLE result
  OUTPUT_VARIABLE out)
file(READ "${GOLDEN}" expected)
string(REPLACE "\r\n" "\n" out "${out}")
string(REPLACE "\r\n" "\n" expected "${expected}")
if(NOT result EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} exited with ${result}\n${out}")
endif()
if(NOT out STREQUAL expected)
  message("---- expected (${GOLDEN}) ----\n${expected}---- got ----\n${out}----")
  message(FATAL_ERROR "output of ${PROGRAM} differs from ${GOLDEN}")
endif()
