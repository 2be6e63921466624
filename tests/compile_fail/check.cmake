# Compiles SOURCE with COMPILER. MODE=fail: compiling must fail, with the text of the
# file's "// EXPECT:" line in the diagnostic and at most MAX_ERRORS errors (no cascade).
# MODE=control: the same file with -DSTATICGRAD_COMPILE_FAIL_OK must compile, -Werror.
set(MAX_ERRORS 1)
separate_arguments(flags UNIX_COMMAND "${FLAGS}")
if(MODE STREQUAL "control")
  execute_process(COMMAND ${COMPILER} -std=c++20 -fsyntax-only -Wall -Wextra -Werror
                          -DSTATICGRAD_COMPILE_FAIL_OK ${flags} ${SOURCE}
                  RESULT_VARIABLE result ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "the control build of ${SOURCE} failed:\n${output}")
  endif()
  return()
endif()

file(STRINGS ${SOURCE} expect_line REGEX "// EXPECT: ")
string(REGEX REPLACE ".*// EXPECT: " "" expected "${expect_line}")
if(expected STREQUAL "")
  message(FATAL_ERROR "${SOURCE} has no // EXPECT: line")
endif()
execute_process(COMMAND ${COMPILER} -std=c++20 -fsyntax-only ${flags} ${SOURCE}
                RESULT_VARIABLE result ERROR_VARIABLE output OUTPUT_VARIABLE stdout)
string(APPEND output "${stdout}")
if(result EQUAL 0)
  message(FATAL_ERROR "${SOURCE} compiled, but it must not")
endif()
string(FIND "${output}" "${expected}" position)
if(position EQUAL -1)
  message(FATAL_ERROR "the diagnostic does not contain '${expected}':\n${output}")
endif()
string(REPLACE ";" "," flat_output "${output}")  # a ';' in a message would split the list
string(REGEX MATCHALL "[^\n]*error: [^\n]*" errors "${flat_output}")
list(LENGTH errors error_count)
if(error_count GREATER MAX_ERRORS)
  message(FATAL_ERROR "${error_count} errors (at most ${MAX_ERRORS} allowed):\n${output}")
endif()
message(STATUS "failed as expected with ${error_count} error(s), naming '${expected}'")
