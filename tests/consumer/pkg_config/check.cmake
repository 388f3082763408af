# ctest consumer_pkg_config: a consumer built with nothing but the compiler and pkg-config against
# the installed tree, as a Makefile user would:
#   ${CXX} -std=c++20 main.cpp $(pkg-config --cflags --libs phrony) -o consumer && ./consumer
# cmake -DCXX=.. [-DCXXFLAGS=.. -DLDFLAGS=..] -DPKG_CONFIG=.. -DPREFIX=<phrony prefix>
#       -DMAIN=<main.cpp> -DWORK=.. -DEXPECT_VERSION=.. -P check.cmake
cmake_minimum_required(VERSION 3.21)

file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK})
# Keep the caller's PKG_CONFIG_PATH (simdjson.pc may live outside the default search path).
if(DEFINED ENV{PKG_CONFIG_PATH} AND NOT "$ENV{PKG_CONFIG_PATH}" STREQUAL "")
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig:$ENV{PKG_CONFIG_PATH}")
else()
  set(ENV{PKG_CONFIG_PATH} "${PREFIX}/share/pkgconfig")
endif()

function(pkg_config out)
  execute_process(COMMAND ${PKG_CONFIG} ${ARGN} phrony RESULT_VARIABLE rc
                  OUTPUT_VARIABLE text ERROR_VARIABLE err OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "pkg-config ${ARGN} phrony failed (${rc}): ${err}")
  endif()
  set(${out} "${text}" PARENT_SCOPE)
endfunction()

pkg_config(version --modversion)
if(NOT version STREQUAL EXPECT_VERSION)
  message(FATAL_ERROR "pkg-config --modversion phrony: ${version}, expected ${EXPECT_VERSION}")
endif()

# -I must name the install prefix's include/ (phrony.pc finds it relative to itself).
pkg_config(cflags --cflags)
separate_arguments(cflags UNIX_COMMAND "${cflags}")
set(found_include FALSE)
file(REAL_PATH ${PREFIX}/include prefix_include)
foreach(flag IN LISTS cflags)
  if(flag MATCHES "^-I(.+)$")
    set(dir "${CMAKE_MATCH_1}")
    if(EXISTS "${dir}")
      file(REAL_PATH "${dir}" dir)
      if(dir STREQUAL prefix_include)
        set(found_include TRUE)
      endif()
    endif()
  endif()
endforeach()
if(NOT found_include)
  message(FATAL_ERROR "pkg-config --cflags phrony gave '${cflags}': no -I${PREFIX}/include")
endif()

pkg_config(flags --cflags --libs)
separate_arguments(flags UNIX_COMMAND "${CXXFLAGS} ${flags} ${LDFLAGS}")
execute_process(COMMAND ${CXX} -std=c++20 ${MAIN} ${flags} -o ${WORK}/consumer
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
if(NOT rc EQUAL 0)
  string(REPLACE ";" " " cmd "${CXX} -std=c++20 ${MAIN} ${flags} -o ${WORK}/consumer")
  message(FATAL_ERROR "${cmd} failed:\n${out}")
endif()
execute_process(COMMAND ${WORK}/consumer RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "consumer built with pkg-config failed (${rc})")
endif()
