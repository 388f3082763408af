# ctest consumer_install (fixture phrony_installed): installs phrony twice and checks that each
# install tree holds exactly the headers, the compiled mode's library, the CMake package files and
# phrony.pc:
#   WORK/main-prefix  `cmake --install` of the build tree running this test (tests and examples
#                     enabled: none of them may be installed);
#   WORK/prefix       a fresh configure and build of SOURCE_DIR with tests, examples and fuzzers
#                     off, the way a packager builds; the consumer tests use this one.
# cmake -DSOURCE_DIR=.. -DMAIN_BUILD_DIR=.. -DWORK=.. -DINIT_CACHE=.. -DGENERATOR=..
#       -P install_phrony.cmake
cmake_minimum_required(VERSION 3.21)

function(run)
  execute_process(COMMAND ${ARGV} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    string(REPLACE ";" " " cmd "${ARGV}")
    message(FATAL_ERROR "failed (${rc}): ${cmd}\n${out}")
  endif()
endfunction()

# Every file of include/, plus the library and the package files.
file(GLOB_RECURSE headers RELATIVE ${SOURCE_DIR} ${SOURCE_DIR}/include/*)
set(expected ${headers}
    share/cmake/phrony/phrony-config.cmake
    share/cmake/phrony/phrony-config-version.cmake
    share/cmake/phrony/phrony-targets.cmake
    share/pkgconfig/phrony.pc)
list(SORT expected)

# Named by the platform and the build type: the library (lib/, lib64/ or lib/<multiarch>/) and
# the targets file of its configuration; exactly one of each.
set(variable_names "^lib[^/]*/(.+/)?libphrony\\.a$" "^share/cmake/phrony/phrony-targets-[a-z]+\\.cmake$")

function(check_tree prefix)
  file(GLOB_RECURSE got RELATIVE ${prefix} ${prefix}/*)
  list(SORT got)
  foreach(re IN LISTS variable_names)
    set(matched ${got})
    list(FILTER matched INCLUDE REGEX "${re}")
    list(LENGTH matched n)
    if(NOT n EQUAL 1)
      message(FATAL_ERROR "${prefix}: expected one file matching ${re}, got: ${matched}")
    endif()
    list(REMOVE_ITEM got ${matched})
  endforeach()
  if(NOT got STREQUAL expected)
    set(extra ${got})
    list(REMOVE_ITEM extra ${expected})
    set(missing ${expected})
    list(REMOVE_ITEM missing ${got})
    message(FATAL_ERROR
            "${prefix}: unexpected install tree\n  extra: ${extra}\n  missing: ${missing}")
  endif()
  list(LENGTH got n)
  message(STATUS "${prefix}: ${n} files, as expected")
endfunction()

file(REMOVE_RECURSE ${WORK})

run(${CMAKE_COMMAND} --install ${MAIN_BUILD_DIR} --prefix ${WORK}/main-prefix)
check_tree(${WORK}/main-prefix)

run(${CMAKE_COMMAND} -S ${SOURCE_DIR} -B ${WORK}/build -G ${GENERATOR} -C ${INIT_CACHE}
    -DPHRONY_BUILD_TESTS=OFF -DPHRONY_BUILD_EXAMPLES=OFF -DPHRONY_BUILD_FUZZ=OFF
    -DCMAKE_INSTALL_PREFIX=${WORK}/prefix)
run(${CMAKE_COMMAND} --build ${WORK}/build) # libphrony.a, the compiled mode's library
run(${CMAKE_COMMAND} --install ${WORK}/build)
check_tree(${WORK}/prefix)
