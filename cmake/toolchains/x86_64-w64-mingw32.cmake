# Cross-compiles for 64-bit Windows with Debian's mingw-w64 (g++-mingw-w64-x86-64-posix: the
# posix thread model, so std::thread and std::mutex exist); ctest runs the .exe files under wine
# (Debian: wine64). scripts/cross mingw uses it like this:
#   cmake -S . -B build-mingw -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/x86_64-w64-mingw32.cmake \
#         -DCMAKE_PREFIX_PATH=<simdjson built with this toolchain>
# The executables link libgcc, libstdc++ and winpthread statically (-static), so wine needs no
# DLL search path (WINEPATH).
# Absolute Unix paths (PHRONY_FIXTURES_DIR) work under wine: its Z: drive maps /, and
# "/work/x" opens as Z:\work\x.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(PHRONY_MINGW_TRIPLET x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${PHRONY_MINGW_TRIPLET}-gcc-posix)
set(CMAKE_CXX_COMPILER ${PHRONY_MINGW_TRIPLET}-g++-posix)
set(CMAKE_RC_COMPILER ${PHRONY_MINGW_TRIPLET}-windres)

set(CMAKE_FIND_ROOT_PATH /usr/${PHRONY_MINGW_TRIPLET})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

# wine64 is the 64-bit loader (Debian installs it outside PATH); `wine` from the package of that
# name works as well. The prefix (Windows' C: drive, made on first use) lives in the cache, not
# in ~/.wine; WINEDEBUG=-all keeps wine's own messages out of the test logs, and the Mono and
# Gecko installers are turned off (nothing here needs .NET or a browser engine). Before a
# parallel ctest, start one server and boot the prefix as scripts/cross does
# (WINEPREFIX=... wineserver --persistent; WINEPREFIX=... wine64 wineboot): two tests that start
# a fresh server at once can hang or fail with "recvmsg: Connection reset by peer".
find_program(PHRONY_WINE NAMES wine64 wine PATHS /usr/lib/wine /usr/lib64/wine
             NO_CMAKE_FIND_ROOT_PATH REQUIRED)
if(DEFINED ENV{PHRONY_CACHE})
  set(phrony_wine_prefix_default "$ENV{PHRONY_CACHE}/wine64")
else()
  set(phrony_wine_prefix_default "$ENV{HOME}/.cache/phrony/wine64")
endif()
set(PHRONY_WINEPREFIX "${phrony_wine_prefix_default}" CACHE PATH "WINEPREFIX for running tests")
set(CMAKE_CROSSCOMPILING_EMULATOR
    /usr/bin/env WINEPREFIX=${PHRONY_WINEPREFIX} WINEDEBUG=-all WINEDLLOVERRIDES=mscoree,mshtml=
    ${PHRONY_WINE})
