#!/usr/bin/env bash
# Builds the fuzz targets the way OSS-Fuzz's build.sh does: plain $CXX calls, no CMake (one per
# target, and one for the oracle's json_oracle.cpp, linked into each).
#   fuzz/build.sh [target ...]              every fuzz/fuzz_*.cpp, or the named ones (accept ...)
# For each target it writes, into $OUT:
#   fuzz_<target>                  the binary ($CXXFLAGS, linked with $LIB_FUZZING_ENGINE)
#   fuzz_<target>.dict             its dictionary (fuzz/dict/make <target>)
#   fuzz_<target>.options          fuzz/<target>.options ([libfuzzer] max_len = ...)
#   fuzz_<target>_seed_corpus.zip  fuzz/corpus/<target>/
# Environment (OSS-Fuzz sets the first four; the defaults are for a local libFuzzer build):
#   CXX                 default clang++
#   CXXFLAGS            default -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined
#                       -fno-sanitize-recover=all -fsanitize=fuzzer-no-link; for afl-* compilers
#                       -O1 -g -fno-omit-frame-pointer (AFL_USE_ASAN=1 adds ASan)
#   LIB_FUZZING_ENGINE  default -fsanitize=fuzzer; for afl-* compilers AFL++'s libAFLDriver.a
#   OUT                 default build-ossfuzz/out;  WORK: scratch, default build-ossfuzz/work
#   SIMDJSON_SRC        a directory holding simdjson's single-header simdjson.cpp and simdjson.h:
#                       compiled with $CXXFLAGS and linked in (instrumented, what OSS-Fuzz wants)
#   SIMDJSON_CFLAGS, SIMDJSON_LIBS   otherwise; default `pkg-config simdjson`, else -lsimdjson
#   PHRONY_FUZZ_ORACLE  1 or 0; default 1 when <nlohmann/json.hpp> compiles with $CXX $CXXFLAGS
#                       (the nlohmann::json oracle of the fuzz build, fuzz/README.md)
#   JOBS                targets compiled at once, default $(nproc)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"

CXX="${CXX:-clang++}"
read -r -a cxx <<<"$CXX" # may be a launcher and a compiler: CXX="ccache clang++"
case "$(basename "${cxx[-1]}")" in
  afl-*)
    CXXFLAGS="${CXXFLAGS:--O1 -g -fno-omit-frame-pointer}"
    if [ -z "${LIB_FUZZING_ENGINE:-}" ]; then
      for d in /usr/lib/afl /usr/local/lib/afl; do
        [ -f "$d/libAFLDriver.a" ] && LIB_FUZZING_ENGINE="$d/libAFLDriver.a" && break
      done
    fi
    ;;
  *)
    CXXFLAGS="${CXXFLAGS:--O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all -fsanitize=fuzzer-no-link}"
    ;;
esac
LIB_FUZZING_ENGINE="${LIB_FUZZING_ENGINE:--fsanitize=fuzzer}"
OUT="${OUT:-$here/build-ossfuzz/out}"
WORK="${WORK:-$here/build-ossfuzz/work}"
JOBS="${JOBS:-$(nproc)}"
mkdir -p "$OUT" "$WORK"
OUT="$(cd "$OUT" && pwd)"
WORK="$(cd "$WORK" && pwd)"

# Word-split on purpose: these hold flag lists, as in OSS-Fuzz.
read -r -a cxxflags <<<"$CXXFLAGS"
read -r -a engine <<<"$LIB_FUZZING_ENGINE"

# simdjson: compiled from source with our flags, or the system's library.
simdjson_cflags=() simdjson_libs=()
if [ -n "${SIMDJSON_SRC:-}" ]; then
  obj="$WORK/simdjson.o"
  if [ ! -f "$obj" ] || [ "$SIMDJSON_SRC/simdjson.cpp" -nt "$obj" ]; then
    echo "build.sh: compiling $SIMDJSON_SRC/simdjson.cpp"
    "${cxx[@]}" -std=c++20 "${cxxflags[@]}" -isystem "$SIMDJSON_SRC" -c "$SIMDJSON_SRC/simdjson.cpp" -o "$obj"
  fi
  simdjson_cflags=(-isystem "$SIMDJSON_SRC")
  simdjson_libs=("$obj")
elif [ -n "${SIMDJSON_CFLAGS:-}${SIMDJSON_LIBS:-}" ]; then
  read -r -a simdjson_cflags <<<"${SIMDJSON_CFLAGS:-}"
  read -r -a simdjson_libs <<<"${SIMDJSON_LIBS:-}"
elif pkg-config --exists simdjson 2>/dev/null; then
  read -r -a simdjson_cflags <<<"$(pkg-config --cflags simdjson)"
  read -r -a simdjson_libs <<<"$(pkg-config --libs simdjson)"
else
  simdjson_libs=(-lsimdjson)
fi

# The nlohmann::json oracle, when its header is there.
if [ -z "${PHRONY_FUZZ_ORACLE:-}" ]; then
  PHRONY_FUZZ_ORACLE=0
  if echo '#include <nlohmann/json.hpp>' |
     "${cxx[@]}" -std=c++20 "${cxxflags[@]}" -fsyntax-only -x c++ - >/dev/null 2>&1; then
    PHRONY_FUZZ_ORACLE=1
  fi
fi

# The oracle's nlohmann::json side (json_oracle.cpp), compiled once for every target (with the
# oracle off it compiles to nothing).
oracle="$WORK/json_oracle.o"
"${cxx[@]}" -std=c++20 "${cxxflags[@]}" -DPHRONY_FUZZ_ORACLE="$PHRONY_FUZZ_ORACLE" \
  -I"$here/include" -I"$here/fuzz" "${simdjson_cflags[@]}" -c "$here/fuzz/json_oracle.cpp" -o "$oracle"

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in "$here"/fuzz/fuzz_*.cpp; do
    t="$(basename "$src" .cpp)"
    targets+=("${t#fuzz_}")
  done
fi

build_one() {
  local t="$1" bin="$OUT/fuzz_$1"
  "${cxx[@]}" -std=c++20 "${cxxflags[@]}" -DPHRONY_FUZZ_ORACLE="$PHRONY_FUZZ_ORACLE" \
    -I"$here/include" -I"$here/fuzz" "${simdjson_cflags[@]}" \
    "$here/fuzz/fuzz_$t.cpp" "$oracle" \
    "${engine[@]}" "${simdjson_libs[@]}" -o "$bin"
  "$here/fuzz/dict/make" "$t" >"$bin.dict"
  if [ -f "$here/fuzz/$t.options" ]; then
    cp "$here/fuzz/$t.options" "$bin.options"
  fi
  rm -f "${bin}_seed_corpus.zip"
  if [ -d "$here/fuzz/corpus/$t" ]; then
    (cd "$here/fuzz/corpus/$t" && zip -q -r -X "${bin}_seed_corpus.zip" .)
  fi
  echo "build.sh: fuzz_$t"
}

echo "build.sh: $CXX, CXXFLAGS=$CXXFLAGS, LIB_FUZZING_ENGINE=$LIB_FUZZING_ENGINE," \
     "PHRONY_FUZZ_ORACLE=$PHRONY_FUZZ_ORACLE, OUT=$OUT"
status=0
pids=()
for t in "${targets[@]}"; do
  if [ ! -f "$here/fuzz/fuzz_$t.cpp" ]; then
    echo "build.sh: no fuzz/fuzz_$t.cpp" >&2
    status=1
    continue
  fi
  build_one "$t" &
  pids+=($!)
  if [ ${#pids[@]} -ge "$JOBS" ]; then
    wait "${pids[0]}" || status=1
    pids=("${pids[@]:1}")
  fi
done
for p in "${pids[@]}"; do
  wait "$p" || status=1
done
exit $status
