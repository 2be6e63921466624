// Counts every heap allocation of the program that includes it (once, in one source file),
// so that an example can show that its hot loop allocates nothing.
#pragma once

#include <cstddef>
#include <cstdlib>
#include <new>

inline std::size_t allocations = 0;

void* operator new(std::size_t size) {
  ++allocations;
  if (void* p = std::malloc(size == 0 ? 1 : size)) return p;
  throw std::bad_alloc{};
}
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"  // g++ cannot pair the above
void operator delete(void* p) noexcept { std::free(p); }
void operator delete(void* p, std::size_t) noexcept { std::free(p); }
#pragma GCC diagnostic pop
