// phrony: the library's version, as CMake's project(VERSION), phrony.pc and meson.build give it.
#pragma once

#define PHRONY_VERSION_MAJOR 0
#define PHRONY_VERSION_MINOR 1
#define PHRONY_VERSION_PATCH 0
/// MAJOR * 10000 + MINOR * 100 + PATCH, for #if comparisons.
#define PHRONY_VERSION                                                                             \
  (PHRONY_VERSION_MAJOR * 10000 + PHRONY_VERSION_MINOR * 100 + PHRONY_VERSION_PATCH)
#define PHRONY_VERSION_STRING "0.1.0"
