# ctest emulator_install: `cmake --install <build> --component emulator` into a scratch prefix
# installs exactly bin/phrony-emulator and its README, and the installed program runs.
# cmake -DBUILD_DIR=.. -DWORK=.. -DBINDIR=.. -DDOCDIR=.. -DVERSION=.. -P install_test.cmake
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE ${WORK})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --component emulator
                        --prefix ${WORK}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "cmake --install --component emulator failed (${rc}):\n${out}")
endif()

file(GLOB_RECURSE got RELATIVE ${WORK} ${WORK}/*)
list(SORT got)
set(expected ${BINDIR}/phrony-emulator ${DOCDIR}/emulator/README.md)
list(SORT expected)
if(NOT got STREQUAL expected)
  message(FATAL_ERROR "unexpected install tree: ${got}\n  expected: ${expected}")
endif()

execute_process(COMMAND ${WORK}/${BINDIR}/phrony-emulator --version
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err TIMEOUT 20)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "phrony-emulator ${VERSION}\n")
  message(FATAL_ERROR "installed phrony-emulator --version: exit ${rc}, said '${out}${err}'")
endif()
message(STATUS "installed ${got}; ${WORK}/${BINDIR}/phrony-emulator --version: ${out}")
file(REMOVE_RECURSE ${WORK})
