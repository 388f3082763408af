// Replaces the global operator new/delete with ones that count allocations, for tests and the
// benchmark that check a path allocates nothing. Include it in exactly one translation unit of a
// program (it defines the replacement functions). Every form is replaced, so that no pointer
// meets an allocator it did not come from (ASan checks the pairs).
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <new>
#if defined(_WIN32) || defined(__GLIBC__)
#include <malloc.h> // _aligned_malloc, _aligned_free; malloc_usable_size
#endif

namespace phrony_test {

/// Allocations made so far by this program (single-threaded use: a plain counter).
inline std::uint64_t allocation_count = 0;
/// Heap bytes held now and the most held since reset_peak() (glibc only, from
/// malloc_usable_size: what the allocator really reserved; 0 elsewhere).
inline std::uint64_t live_bytes = 0;
inline std::uint64_t peak_bytes = 0;

/// Starts a new peak measurement from what is held now.
inline void reset_peak() noexcept { peak_bytes = live_bytes; }

inline void* note_alloc(void* p) noexcept {
#ifdef __GLIBC__
  if (p != nullptr) {
    live_bytes += malloc_usable_size(p);
    peak_bytes = std::max(peak_bytes, live_bytes);
  }
#endif
  return p;
}

inline void note_free(void* p) noexcept {
#ifdef __GLIBC__
  if (p != nullptr) {
    live_bytes -= malloc_usable_size(p);
  }
#else
  (void)p;
#endif
}

inline void* counted_alloc(std::size_t n) noexcept {
  ++allocation_count;
  return note_alloc(std::malloc(n == 0 ? 1 : n));
}

inline void* counted_alloc_aligned(std::size_t n, std::align_val_t al) noexcept {
  ++allocation_count;
  const auto a = static_cast<std::size_t>(al);
#ifdef _WIN32
  // Windows' C runtime has no aligned_alloc (its free cannot release over-aligned blocks).
  return _aligned_malloc(std::max<std::size_t>(n, 1), a);
#else
  return note_alloc(std::aligned_alloc(a, (std::max<std::size_t>(n, 1) + a - 1) / a * a));
#endif
}

/// Releases what counted_alloc returned.
inline void free_counted(void* p) noexcept {
  note_free(p);
  std::free(p);
}

/// Releases what counted_alloc_aligned returned.
inline void free_aligned(void* p) noexcept {
#ifdef _WIN32
  _aligned_free(p);
#else
  note_free(p);
  std::free(p);
#endif
}

} // namespace phrony_test

// g++ 12 flags std::free of memory from this operator new as mismatched once both are inlined
// into one function; they are a matched pair (malloc/aligned_alloc and free, or on Windows
// _aligned_malloc and _aligned_free).
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wmismatched-new-delete"
#endif

void* operator new(std::size_t n) {
  if (void* p = phrony_test::counted_alloc(n)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n) { return ::operator new(n); }
void* operator new(std::size_t n, const std::nothrow_t&) noexcept {
  return phrony_test::counted_alloc(n);
}
void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {
  return phrony_test::counted_alloc(n);
}
void* operator new(std::size_t n, std::align_val_t al) {
  if (void* p = phrony_test::counted_alloc_aligned(n, al)) {
    return p;
  }
  throw std::bad_alloc();
}
void* operator new[](std::size_t n, std::align_val_t al) { return ::operator new(n, al); }
void* operator new(std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return phrony_test::counted_alloc_aligned(n, al);
}
void* operator new[](std::size_t n, std::align_val_t al, const std::nothrow_t&) noexcept {
  return phrony_test::counted_alloc_aligned(n, al);
}
void operator delete(void* p) noexcept { phrony_test::free_counted(p); }
void operator delete[](void* p) noexcept { phrony_test::free_counted(p); }
void operator delete(void* p, std::size_t) noexcept { phrony_test::free_counted(p); }
void operator delete[](void* p, std::size_t) noexcept { phrony_test::free_counted(p); }
void operator delete(void* p, const std::nothrow_t&) noexcept { phrony_test::free_counted(p); }
void operator delete[](void* p, const std::nothrow_t&) noexcept { phrony_test::free_counted(p); }
void operator delete(void* p, std::align_val_t) noexcept { phrony_test::free_aligned(p); }
void operator delete[](void* p, std::align_val_t) noexcept { phrony_test::free_aligned(p); }
void operator delete(void* p, std::size_t, std::align_val_t) noexcept {
  phrony_test::free_aligned(p);
}
void operator delete[](void* p, std::size_t, std::align_val_t) noexcept {
  phrony_test::free_aligned(p);
}
void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  phrony_test::free_aligned(p);
}
void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {
  phrony_test::free_aligned(p);
}
