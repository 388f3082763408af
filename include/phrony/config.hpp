// phrony: header-only (the default) or compiled mode.
//
// Header-only, every function is inline and each translation unit instantiates the parsers it
// calls. Define PHRONY_SEPARATE_COMPILATION in every translation unit (the phrony::compiled
// CMake target does it for you) and link the library built from src/phrony.cpp: the parsers,
// the canonical writers and the simdjson code behind them are compiled there once, and the
// public headers do not include simdjson.h.
#pragma once

// PHRONY_WITH_IMPL: 1 when this translation unit sees the reading code (header-only, or the
// library's own source); PHRONY_DECL: how a function defined there is declared.
#if defined(PHRONY_SEPARATE_COMPILATION) && !defined(PHRONY_BUILDING_LIBRARY)
#define PHRONY_WITH_IMPL 0
#else
#define PHRONY_WITH_IMPL 1
#endif
#if defined(PHRONY_SEPARATE_COMPILATION)
#define PHRONY_DECL
#else
#define PHRONY_DECL inline
#endif

// PHRONY_NOINLINE: keeps a function out of its callers, e.g. the slow path of a call made once per
// byte, so that the caller's loop keeps its own variables in registers.
#if defined(__GNUC__)
#define PHRONY_NOINLINE [[gnu::noinline]]
#elif defined(_MSC_VER)
#define PHRONY_NOINLINE __declspec(noinline)
#else
#define PHRONY_NOINLINE
#endif

// PHRONY_LAZY (on the declaration) and PHRONY_LAZY_DEF (on the definition): header-only, a
// function template with a defaulted parameter, so that only a translation unit calling it
// compiles its body and the parsers that body instantiates; compiled mode, a plain function of
// the library.
#if defined(PHRONY_SEPARATE_COMPILATION)
#define PHRONY_LAZY
#define PHRONY_LAZY_DEF
#else
#define PHRONY_LAZY template <class = void>
#define PHRONY_LAZY_DEF template <class>
#endif

// An explicit instantiation: declared (extern) in the users' translation units of the compiled
// mode, defined in the library, absent in header-only mode (each TU instantiates what it uses).
#if !defined(PHRONY_SEPARATE_COMPILATION)
#define PHRONY_DETAIL_INSTANTIATE(...)
#elif defined(PHRONY_BUILDING_LIBRARY)
#define PHRONY_DETAIL_INSTANTIATE(...) template __VA_ARGS__;
#else
#define PHRONY_DETAIL_INSTANTIATE(...) extern template __VA_ARGS__;
#endif
