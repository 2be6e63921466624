# Compiles SOURCE with COMPILER (and DEFINES). MODE=fail: compiling must fail, with the
# text of the file's "// EXPECT:" line (or EXPECTED) in the diagnostic and at most
# MAX_ERRORS errors (no cascade); given CALL_AFTER, the line after the one holding that
# text (the user's call) must be in the diagnostic's trail. MODE=control: the same file
# with -DSTATICGRAD_COMPILE_FAIL_OK must compile, -Werror.
set(MAX_ERRORS 1)
separate_arguments(flags UNIX_COMMAND "${FLAGS} ${DEFINES}")
if(MODE STREQUAL "control")
  execute_process(COMMAND ${COMPILER} -std=c++20 -fsyntax-only -Wall -Wextra -Werror
                          -DSTATICGRAD_COMPILE_FAIL_OK ${flags} ${SOURCE}
                  RESULT_VARIABLE result ERROR_VARIABLE output)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "the control build of ${SOURCE} failed:\n${output}")
  endif()
  return()
endif()

if(DEFINED EXPECTED)
  set(expected "${EXPECTED}")
else()
  file(STRINGS ${SOURCE} expect_line REGEX "// EXPECT: ")
  string(REGEX REPLACE ".*// EXPECT: " "" expected "${expect_line}")
endif()
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
if(DEFINED CALL_AFTER)
  file(READ ${SOURCE} text)
  string(FIND "${text}" "${CALL_AFTER}" marker)
  if(marker EQUAL -1)
    message(FATAL_ERROR "${SOURCE} has no line holding '${CALL_AFTER}'")
  endif()
  string(SUBSTRING "${text}" 0 ${marker} before)
  string(REGEX MATCHALL "\n" newlines "${before}")
  list(LENGTH newlines marker_index)  # the marker's line number, less one
  math(EXPR call_line "${marker_index} + 2")
  string(FIND "${output}" "${SOURCE}:${call_line}:" call_position)
  if(call_position EQUAL -1)
    message(FATAL_ERROR "the diagnostic does not show the call, ${SOURCE}:${call_line}:\n${output}")
  endif()
endif()
message(STATUS "failed as expected with ${error_count} error(s), naming '${expected}'")
