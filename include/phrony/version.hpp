// phrony: the library's version, as numbers for the preprocessor and as a string.
// Kept equal to project(VERSION) in CMakeLists.txt and meson.build's version by the
// version_matches test.
#pragma once

/// Major version; while it is 0, a minor release may change the API.
#define PHRONY_VERSION_MAJOR 0
/// Minor version.
#define PHRONY_VERSION_MINOR 1
/// Patch version: fixes only.
#define PHRONY_VERSION_PATCH 0
/// MAJOR * 10000 + MINOR * 100 + PATCH, for `#if PHRONY_VERSION >= 100` (0.1.0 is 100).
#define PHRONY_VERSION                                                                             \
  (PHRONY_VERSION_MAJOR * 10000 + PHRONY_VERSION_MINOR * 100 + PHRONY_VERSION_PATCH)
/// "MAJOR.MINOR.PATCH", e.g. for a User-Agent or a log line.
#define PHRONY_VERSION_STRING "0.1.0"
