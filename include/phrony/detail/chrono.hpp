// phrony: std::chrono's durations and clocks, for the other headers.
//
// A translation unit of the compiled mode's users (PHRONY_SEPARATE_COMPILATION: it compiles none
// of phrony's own code) gets libstdc++'s <bits/chrono.h> where that header is known to hold them
// (libstdc++ 11 to 14): <chrono> adds the calendar, time zones and their stream I/O (<sstream>),
// which no declaration here uses, and which cost such a file 2 to 9 % of its compile time
// (tests/bench/run's compile probe, two runs). Everywhere else, and with any other library,
// <chrono>. A file that uses more of <chrono> includes it itself, as it should anyway.
#pragma once

#include <version>

#include "phrony/config.hpp"

#if !PHRONY_WITH_IMPL && defined(__GLIBCXX__) && defined(_GLIBCXX_RELEASE)
#if _GLIBCXX_RELEASE >= 11 && _GLIBCXX_RELEASE <= 14 && __has_include(<bits/chrono.h>)
#define PHRONY_DETAIL_LEAN_CHRONO 1
#endif
#endif

#if defined(PHRONY_DETAIL_LEAN_CHRONO)
#include <bits/chrono.h>
#else
#include <chrono>
#endif
