# ctest consumer_meson_subproject / consumer_meson_pkgconfig: builds the Meson consumer in
# tests/consumer/meson with Debian's meson and ninja, then runs it.
#   MODE=subproject  dependency('phrony') comes from subprojects/phrony, a symlink to SOURCE_DIR
#                    (its meson.build's override_dependency), forced with --force-fallback-for
#   MODE=pkgconfig   dependency('phrony') is found through PREFIX/share/pkgconfig/phrony.pc, no
#                    fallback allowed
# Prints PHRONY_SKIP (ctest SKIP_REGULAR_EXPRESSION) only when no meson executable is found.
# cmake -DMODE=.. -DMESON=.. -DCXX=.. [-DCXXFLAGS=.. -DLDFLAGS=..] -DSOURCE_DIR=.. -DPREFIX=..
#       -DWORK=.. -DEXPECT_VERSION=.. -P check.cmake
cmake_minimum_required(VERSION 3.21)

if(NOT MESON)
  message(STATUS "PHRONY_SKIP: meson not found")
  return()
endif()

file(REMOVE_RECURSE ${WORK})
file(COPY ${CMAKE_CURRENT_LIST_DIR}/meson.build ${CMAKE_CURRENT_LIST_DIR}/../common/main.cpp
     DESTINATION ${WORK}/src)
set(ENV{CXX} "${CXX}")
set(ENV{CXXFLAGS} "${CXXFLAGS}")
set(ENV{LDFLAGS} "${LDFLAGS}")

if(MODE STREQUAL "subproject")
  file(MAKE_DIRECTORY ${WORK}/src/subprojects)
  file(CREATE_LINK ${SOURCE_DIR} ${WORK}/src/subprojects/phrony SYMBOLIC)
  set(options --force-fallback-for=phrony)
  # meson 1.0 says "(overridden)", later ones name the subproject.
  set(expect "\nDependency phrony( from subproject [^ ]+)? found: YES ${EXPECT_VERSION}")
elseif(MODE STREQUAL "pkgconfig")
  if(DEFINED ENV{PKG_CONFIG_PATH} AND NOT "$ENV{PKG_CONFIG_PATH}" STREQUAL "")
    set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig:$ENV{PKG_CONFIG_PATH}")
  else()
    set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
  endif()
  set(options --wrap-mode=nofallback)
  set(expect "\nRun-time dependency phrony found: YES ${EXPECT_VERSION}")
else()
  message(FATAL_ERROR "MODE must be subproject or pkgconfig")
endif()

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  string(REPLACE ";" " " cmd "${ARGV}")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}")
  endif()
  set(out "${out}" PARENT_SCOPE)
endfunction()

run(${MESON} setup ${options} ${WORK}/build ${WORK}/src)
if(NOT out MATCHES "${expect}")
  message(FATAL_ERROR "meson setup did not say '${expect}':\n${out}")
endif()
run(${MESON} compile -C ${WORK}/build)
run(${WORK}/build/consumer)
message(STATUS "${out}")
