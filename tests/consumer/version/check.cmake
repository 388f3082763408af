# ctest version_matches: project(VERSION) in CMakeLists.txt (passed in as VERSION), meson.build's
# version and include/phrony/version.hpp must all say the same.
# cmake -DVERSION=.. -DSOURCE_DIR=.. -DCXX=.. -P check.cmake
cmake_minimum_required(VERSION 3.21)

file(READ ${SOURCE_DIR}/meson.build meson)
if(NOT meson MATCHES "project\\('phrony',[^)]*[^_]version: *'([^']*)'")
  message(FATAL_ERROR "no version: '...' in meson.build's project()")
endif()
if(NOT CMAKE_MATCH_1 STREQUAL VERSION)
  message(FATAL_ERROR "meson.build says ${CMAKE_MATCH_1}, CMakeLists.txt says ${VERSION}")
endif()

if(NOT VERSION MATCHES "^([0-9]+)\\.([0-9]+)\\.([0-9]+)$")
  message(FATAL_ERROR "project(VERSION ${VERSION}) is not MAJOR.MINOR.PATCH")
endif()
execute_process(
  COMMAND ${CXX} -std=c++20 -I${SOURCE_DIR}/include -DEXPECT_MAJOR=${CMAKE_MATCH_1}
          -DEXPECT_MINOR=${CMAKE_MATCH_2} -DEXPECT_PATCH=${CMAKE_MATCH_3}
          -fsyntax-only ${CMAKE_CURRENT_LIST_DIR}/version_check.cpp
  RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "phrony/version.hpp disagrees with project(VERSION ${VERSION}):\n${out}")
endif()
message(STATUS "CMakeLists.txt, meson.build and phrony/version.hpp: ${VERSION}")
