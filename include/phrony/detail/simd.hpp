// phrony: which SIMD instructions the byte scans compile to (the JSON quote scan, the SSE line
// scan): AVX2 (g++/clang -mavx2, MSVC /arch:AVX2), else SSE2 (any x86-64, including MSVC, which
// does not define __SSE2__), else NEON on little-endian aarch64, else a portable byte loop. Only
// standard intrinsics: no GCC builtins, so MSVC takes the same paths. Included only where
// phrony's own code is compiled (the definitions sections and detail/json.hpp), so a compiled-mode
// user's file does not include the intrinsics headers.
#pragma once

#include <string_view>

#if defined(__AVX2__)
#define PHRONY_SIMD_AVX2 1
#include <immintrin.h>
#elif defined(__SSE2__) || defined(_M_X64) || (defined(_M_IX86_FP) && _M_IX86_FP >= 2)
#define PHRONY_SIMD_SSE2 1
#include <emmintrin.h>
#elif (defined(__ARM_NEON) && defined(__aarch64__) && defined(__BYTE_ORDER__) &&                   \
       __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__) ||                                               \
    defined(_M_ARM64)
#define PHRONY_SIMD_NEON 1
#include <arm_neon.h>
#endif

namespace phrony::detail {

/// Which path the scans compiled: "avx2", "sse2", "neon" or "scalar".
inline constexpr std::string_view simd_path =
#if defined(PHRONY_SIMD_AVX2)
    "avx2";
#elif defined(PHRONY_SIMD_SSE2)
    "sse2";
#elif defined(PHRONY_SIMD_NEON)
    "neon";
#else
    "scalar";
#endif

} // namespace phrony::detail
