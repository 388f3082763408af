# Driver of the docs_snippets test: builds the extracted blocks (target docs_snippets_build; a
# block that does not compile fails here), then runs every program among them.
cmake_host_system_information(RESULT jobs QUERY NUMBER_OF_LOGICAL_CORES)
set(config_args "")
if(CONFIG)
  set(config_args --config ${CONFIG})
endif()
execute_process(COMMAND ${CMAKE_COMMAND} --build ${BUILD_DIR} --target docs_snippets_build
                        ${config_args} --parallel ${jobs}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "a C++ block of README.md or docs/*.md does not compile (see above)")
endif()
include(${RUN_LIST})
list(LENGTH programs n)
foreach(program IN LISTS programs)
  execute_process(COMMAND ${program} RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${program} exited with ${rc}")
  endif()
endforeach()
message(STATUS "docs snippets: ${counts} compiled; ${n} programs ran")
