# phrony_compiler_test(): a ctest test that compiles one program with a given compiler and flags
# (not CMake's: a g++ configure tests clang++ too), links it to simdjson and runs it. Used by
# tests/strict (the warning matrix) and tests/noexcept (-fno-exceptions -fno-rtti); each includes it.

# The matrix does not depend on the configured compiler or sanitizers: a CI that configures
# several times runs it in one of them (-DPHRONY_COMPILER_TESTS=OFF in the others, or ctest -LE
# compilers).
option(PHRONY_COMPILER_TESTS "Tests that compile programs with g++ and clang++ (strict, noexcept)" ON)

set(PHRONY_COMPILER_TEST_DRIVER ${CMAKE_CURRENT_LIST_DIR}/compile_and_run.cmake)

# The test compilers: the configured one for its family, the other found on PATH. Sets
# PHRONY_TEST_GCC and PHRONY_TEST_CLANG (empty when absent).
if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  set(PHRONY_TEST_GCC ${CMAKE_CXX_COMPILER})
else()
  find_program(PHRONY_TEST_GCC NAMES g++ g++-14 g++-13 g++-12)
endif()
if(CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
  set(PHRONY_TEST_CLANG ${CMAKE_CXX_COMPILER})
else()
  find_program(PHRONY_TEST_CLANG NAMES clang++ clang++-18 clang++-17 clang++-16 clang++-15 clang++-14)
endif()

# phrony_compiler_test(<name> COMPILER <path or empty> SOURCE <file> FLAGS <flag>...
#                      [ARGS <program argument>...] [PROGRAM_VAR <var>])
# An empty COMPILER gives a test that reports itself skipped. PROGRAM_VAR receives the path
# of the program the test builds.
function(phrony_compiler_test name)
  cmake_parse_arguments(PARSE_ARGV 1 arg "" "COMPILER;SOURCE;PROGRAM_VAR" "FLAGS;ARGS")
  set(program ${CMAKE_CURRENT_BINARY_DIR}/${name}${CMAKE_EXECUTABLE_SUFFIX})
  if(arg_PROGRAM_VAR)
    set(${arg_PROGRAM_VAR} ${program} PARENT_SCOPE)
  endif()
  if(NOT arg_COMPILER)
    add_test(NAME ${name} COMMAND ${CMAKE_COMMAND} -E echo "SKIPPED: compiler not found")
    set_tests_properties(${name} PROPERTIES SKIP_REGULAR_EXPRESSION "SKIPPED:" LABELS compilers)
    return()
  endif()
  # Everything phrony::phrony needs, read from the targets at generate time.
  set(simdjson_includes "$<TARGET_PROPERTY:simdjson::simdjson,INTERFACE_INCLUDE_DIRECTORIES>")
  set(simdjson_defines "$<TARGET_PROPERTY:simdjson::simdjson,INTERFACE_COMPILE_DEFINITIONS>")
  file(GENERATE OUTPUT ${CMAKE_CURRENT_BINARY_DIR}/${name}.config.cmake CONTENT
"set(LAUNCHER [==[${CMAKE_CXX_COMPILER_LAUNCHER}]==])
set(COMPILER [==[${arg_COMPILER}]==])
set(FLAGS [==[${arg_FLAGS}]==])
set(DEFINES [==[${simdjson_defines}]==])
set(INCLUDES [==[${PROJECT_SOURCE_DIR}/include]==])
set(SYSTEM_INCLUDES [==[${simdjson_includes}]==])
set(IMPLICIT_INCLUDES [==[${CMAKE_CXX_IMPLICIT_INCLUDE_DIRECTORIES}]==])
set(SOURCE [==[${arg_SOURCE}]==])
set(PROGRAM [==[${program}]==])
set(LIBS [==[$<TARGET_FILE:simdjson::simdjson>;-pthread]==])
set(ARGS [==[${arg_ARGS}]==])
")
  add_test(NAME ${name}
           COMMAND ${CMAKE_COMMAND} -DCONFIG=${CMAKE_CURRENT_BINARY_DIR}/${name}.config.cmake
                   -P ${PHRONY_COMPILER_TEST_DRIVER})
  # A compile of every header at -O3 takes a minute or two alone, more on a loaded machine.
  # COST: ctest --parallel starts the costliest tests first. Without it a new build directory
  # (CI's, with no costs recorded by an earlier run) starts these last, and they form the tail.
  set_tests_properties(${name} PROPERTIES LABELS compilers TIMEOUT 1200 COST 100)
endfunction()
