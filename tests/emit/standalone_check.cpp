// standalone_check.c compiled as C++17, against the C++17 form.
#include <type_traits>

#include "standalone_check.c"
