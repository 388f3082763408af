# Cross-compiles for 64-bit ARM Linux with Debian's g++-aarch64-linux-gnu; ctest runs the
# binaries under qemu-user (Debian: qemu-user). scripts/cross aarch64 uses it like this:
#   cmake -S . -B build-aarch64 -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/aarch64-linux-gnu.cmake \
#         -DCMAKE_PREFIX_PATH=<simdjson for arm64, e.g. Debian's libsimdjson-dev:arm64 unpacked>
# Libraries for arm64 come from the cross sysroot (/usr/aarch64-linux-gnu), from multiarch
# packages (/usr/lib/aarch64-linux-gnu) or from CMAKE_PREFIX_PATH; headers-only packages
# (doctest) and programs (python3) from the build machine.
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR aarch64)
set(CMAKE_LIBRARY_ARCHITECTURE aarch64-linux-gnu)

set(CMAKE_C_COMPILER aarch64-linux-gnu-gcc)
set(CMAKE_CXX_COMPILER aarch64-linux-gnu-g++)

set(PHRONY_AARCH64_SYSROOT /usr/aarch64-linux-gnu CACHE PATH "The arm64 C library's root for qemu -L")
set(CMAKE_FIND_ROOT_PATH ${PHRONY_AARCH64_SYSROOT})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE BOTH)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE BOTH)

# qemu-aarch64 finds the dynamic loader and libc under -L; libraries outside the sysroot are
# found through the binaries' RPATH (CMake sets it for libraries linked by full path) or the
# multiarch directory given here.
find_program(PHRONY_QEMU_AARCH64 qemu-aarch64 REQUIRED)
set(CMAKE_CROSSCOMPILING_EMULATOR
    ${PHRONY_QEMU_AARCH64} -L ${PHRONY_AARCH64_SYSROOT}
    -E LD_LIBRARY_PATH=/usr/lib/aarch64-linux-gnu:${PHRONY_AARCH64_SYSROOT}/lib)
