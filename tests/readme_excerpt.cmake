# Checks that the g++ diagnostic README.md quotes under "### Shape errors are compile errors"
# is what g++ prints for the program it names, line for line (paths from the top folder,
# file and line numbers included), so that the excerpt cannot drift from the code.
#   cmake -DCOMPILER=g++ -DTOP=<source folder> -DFLAGS=<include flags> -P readme_excerpt.cmake
file(READ ${TOP}/README.md readme)
string(REGEX MATCH "g\\+\\+ 12 prints[^`]*```\n([^`]*)```" block "${readme}")
if(NOT block)
  message(FATAL_ERROR "README.md has no \"g++ 12 prints\" block")
endif()
set(excerpt "${CMAKE_MATCH_1}")
string(REGEX MATCH "tests/compile_fail/[a-z_]+\\.cpp" program "${excerpt}")
if(NOT program)
  message(FATAL_ERROR "the README's excerpt names no program of tests/compile_fail")
endif()
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
execute_process(COMMAND ${CMAKE_COMMAND} -E env LC_ALL=C ${COMPILER} -std=c++20 -fsyntax-only ${flags} ${program}
                WORKING_DIRECTORY ${TOP} ERROR_VARIABLE output OUTPUT_QUIET)
string(REPLACE "${TOP}/include/" "" output "${output}")
string(REPLACE "${TOP}/" "" output "${output}")
string(REPLACE ";" "," output "${output}")  # a ';' in a message would split the lists
string(REPLACE ";" "," excerpt "${excerpt}")
string(REPLACE "\n" ";" printed "${output}")
string(REPLACE "\n" ";" quoted "${excerpt}")
foreach(line IN LISTS quoted)
  if(line STREQUAL "")
    continue()
  endif()
  list(FIND printed "${line}" found)
  if(found EQUAL -1)
    message(FATAL_ERROR "g++ no longer prints this line of README.md's excerpt:\n${line}\nIt prints:\n${output}")
  endif()
endforeach()
message(STATUS "README.md's excerpt is what g++ prints for ${program}")
