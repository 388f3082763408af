// phrony's compiled mode (PHRONY_SEPARATE_COMPILATION, the phrony::compiled CMake target): the
// one translation unit that compiles the parsers, the canonical writers and every function the
// headers only declare in that mode (see phrony/config.hpp).
#if !defined(PHRONY_SEPARATE_COMPILATION)
#error "src/phrony.cpp is the compiled mode's library: build it with PHRONY_SEPARATE_COMPILATION"
#endif
#define PHRONY_BUILDING_LIBRARY 1

#include "phrony/phrony.hpp"
