# cmake -DPROGRAM=<exe> -DARGS=<a>|<b> -DEXPECT=<regex> -DFORBID=<text> -P expect_abort.cmake:
# runs PROGRAM and passes when it fails (an abort) with EXPECT matching its stderr and FORBID
# (the API key) nowhere in its output.
cmake_minimum_required(VERSION 3.21)
string(REPLACE "|" ";" args "${ARGS}")
execute_process(COMMAND ${PROGRAM} ${args} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "exit: ${rc}\nstdout: ${out}\nstderr: ${err}")
if(rc STREQUAL "0")
  message(FATAL_ERROR "${PROGRAM} exited 0: value() on an error did not abort")
endif()
if(NOT err MATCHES "${EXPECT}")
  message(FATAL_ERROR "stderr does not match: ${EXPECT}")
endif()
string(FIND "${out}${err}" "${FORBID}" at)
if(NOT at EQUAL -1)
  message(FATAL_ERROR "the output holds the API key")
endif()
