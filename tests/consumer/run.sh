#!/usr/bin/env bash
# ctest driver: builds tests/consumer against phrony via add_subdirectory or an installed package.
# usage: run.sh subdirectory|package SOURCE_DIR WORK_DIR CXX
set -euo pipefail
mode=$1 src=$2 work=$3 cxx=$4
rm -rf "$work" && mkdir -p "$work"
if [ "$mode" = package ]; then
  cmake -S "$src" -B "$work/phrony" -DCMAKE_CXX_COMPILER="$cxx" -DPHRONY_BUILD_TESTS=OFF \
    -DPHRONY_BUILD_EXAMPLES=OFF -DPHRONY_BUILD_FUZZ=OFF -DCMAKE_INSTALL_PREFIX="$work/prefix" >/dev/null
  cmake --install "$work/phrony" >/dev/null
  cmake -S "$src/tests/consumer" -B "$work/build" -DCMAKE_CXX_COMPILER="$cxx" \
    -DPHRONY_CONSUME=package -DCMAKE_PREFIX_PATH="$work/prefix" >/dev/null
else
  cmake -S "$src/tests/consumer" -B "$work/build" -DCMAKE_CXX_COMPILER="$cxx" \
    -DPHRONY_CONSUME=subdirectory -DPHRONY_SOURCE_DIR="$src" >/dev/null
fi
cmake --build "$work/build" >/dev/null
"$work/build/consumer"
