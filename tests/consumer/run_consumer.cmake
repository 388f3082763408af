# Test step of the consumers that build more than one program or install nothing: runs each
# consumer (EXE, a list: find_package and add_subdirectory also build the compiled mode's), then,
# given BUILD_DIR (consumer_subdirectory, consumer_fetchcontent), checks that `cmake --install`
# of that build tree installs nothing (phrony's PHRONY_INSTALL is OFF when it is not the top-level
# project, and the consumer itself has no install rules).
# cmake -DEXE=<consumer>[;<consumer>...] [-DBUILD_DIR=<consumer build dir>] -P run_consumer.cmake
cmake_minimum_required(VERSION 3.21)

foreach(exe IN LISTS EXE)
  execute_process(COMMAND ${exe} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${exe} failed (${rc})")
  endif()
endforeach()
if(NOT DEFINED BUILD_DIR)
  return()
endif()

set(prefix ${BUILD_DIR}/install-check)
file(REMOVE_RECURSE ${prefix})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD_DIR} --prefix ${prefix}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
file(GLOB_RECURSE installed ${prefix}/*)
if(NOT rc EQUAL 0 OR installed)
  message(FATAL_ERROR "cmake --install of ${BUILD_DIR} (rc ${rc}) installed: ${installed}\n${out}")
endif()
message(STATUS "cmake --install ${BUILD_DIR}: nothing installed")
