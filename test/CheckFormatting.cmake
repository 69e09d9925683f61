# Fails, listing the files, when any C++ source differs from what clang-format would write.
# Usage: cmake -DCLANG_FORMAT=<clang-format> -DSOURCE_DIR=<module root> -P CheckFormatting.cmake
execute_process(COMMAND ${CLANG_FORMAT} --version OUTPUT_VARIABLE version)
if(NOT version MATCHES "version 14\\.")
  message(FATAL_ERROR "The style is defined for clang-format 14; found: ${version}")
endif()
file(GLOB_RECURSE sources RELATIVE ${SOURCE_DIR}
  ${SOURCE_DIR}/include/*.h ${SOURCE_DIR}/include/*.hxx
  ${SOURCE_DIR}/src/*.h ${SOURCE_DIR}/src/*.cxx
  ${SOURCE_DIR}/test/*.h ${SOURCE_DIR}/test/*.cxx
  ${SOURCE_DIR}/examples/*.h ${SOURCE_DIR}/examples/*.cxx)
set(unformatted "")
foreach(source IN LISTS sources)
  execute_process(COMMAND ${CLANG_FORMAT} --style=file --dry-run --Werror ${source}
    WORKING_DIRECTORY ${SOURCE_DIR} RESULT_VARIABLE result OUTPUT_QUIET ERROR_QUIET)
  if(NOT result EQUAL 0)
    list(APPEND unformatted ${source})
  endif()
endforeach()
list(LENGTH sources count)
if(unformatted)
  string(REPLACE ";" "\n  " listing "${unformatted}")
  message(FATAL_ERROR "Not clang-formatted (run: clang-format -i <file>):\n  ${listing}")
endif()
message(STATUS "${count} C++ files are clang-formatted")
