# cmake -DCONFIG=<name>.config.cmake -P compile_and_run.cmake: compiles SOURCE with COMPILER and
# FLAGS (warnings are errors if FLAGS say so), links LIBS, runs the program with ARGS. Written by
# phrony_compiler_test() (compiler_test.cmake); fails on any compiler output or a failing run.
cmake_minimum_required(VERSION 3.21)
include(${CONFIG})

set(cmd ${LAUNCHER} ${COMPILER} ${FLAGS})
foreach(d IN LISTS DEFINES)
  list(APPEND cmd -D${d})
endforeach()
foreach(d IN LISTS INCLUDES)
  list(APPEND cmd -I${d})
endforeach()
# simdjson's directory as a system one, as CMake passes imported targets' (unless the compiler
# searches it anyway: -isystem /usr/include breaks libstdc++'s #include_next).
foreach(d IN LISTS SYSTEM_INCLUDES)
  if(NOT d IN_LIST IMPLICIT_INCLUDES AND NOT d STREQUAL "/usr/include")
    list(APPEND cmd -isystem ${d})
  endif()
endforeach()
list(APPEND cmd ${SOURCE} -o ${PROGRAM} ${LIBS})

list(JOIN cmd " " shown)
message(STATUS "${shown}")
file(REMOVE ${PROGRAM})
string(TIMESTAMP start "%s")
execute_process(COMMAND ${cmd} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
string(TIMESTAMP stop "%s")
math(EXPR seconds "${stop} - ${start}")
message(STATUS "compiled in ${seconds} s")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compile failed (${rc}):\n${out}${err}")
endif()
if(NOT "${out}${err}" STREQUAL "")
  # Warnings not made errors (a flag list without -Werror) must not pass unseen either.
  message(FATAL_ERROR "the compiler said:\n${out}${err}")
endif()

execute_process(COMMAND ${PROGRAM} ${ARGS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message(STATUS "${out}${err}")
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${PROGRAM} failed (${rc})")
endif()
