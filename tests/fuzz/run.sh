#!/bin/sh
#
# run.sh [SECONDS] [LIBFUZZER-ARGS...]: builds the libFuzzer harness of the
# protocol library (fuzz-protocol.c) with clang and AddressSanitizer +
# UndefinedBehaviorSanitizer, then fuzzes for SECONDS (default 60).
#
# Needs: clang, libclang-rt-14-dev (or the runtime of your clang),
# libglib2.0-dev, libjson-glib-dev. Not part of the test suite.
#
# Output goes to $FUZZ_DIR (default: build-fuzz/ in the source root):
# the binary, the corpus (seeded with valid frames of every kind) and any
# crash-* / leak-* / timeout-* reproducer. Re-run one with
#   build-fuzz/fuzz-protocol build-fuzz/crash-...

set -eu

SECONDS_TO_RUN=${1:-60}
[ $# -gt 0 ] && shift

HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
LIB="$ROOT/gst-libs/ds"
OUT=${FUZZ_DIR:-$ROOT/build-fuzz}
CC=${CC:-clang}

command -v "$CC" >/dev/null 2>&1 || {
  echo "run.sh: $CC not found (apt-get install clang libclang-rt-14-dev)" >&2
  exit 1
}

mkdir -p "$OUT/corpus"

SOURCES="$HERE/fuzz-protocol.c $LIB/dsprotocol.c $LIB/dssignal.c"
DEFINES=""
# The run-length decoder joins in once dsrle.c implements it
if grep -q '^ds_rle_decode_xor' "$LIB/dsrle.c" 2>/dev/null; then
  SOURCES="$SOURCES $LIB/dsrle.c"
  DEFINES="-DDS_FUZZ_RLE"
fi

echo "run.sh: building $OUT/fuzz-protocol ($DEFINES)"
# shellcheck disable=SC2086
"$CC" -g -O1 -fno-omit-frame-pointer \
  -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$LIB" $DEFINES $SOURCES \
  $(pkg-config --cflags --libs glib-2.0 json-glib-1.0) \
  -o "$OUT/fuzz-protocol"

# Seeds: one valid message of each kind (header fields little-endian)
seed () {
  printf "$2" > "$OUT/corpus/seed-$1"
}
H='\000\000\000\000\000\000'
seed pixels     "\001\002\001\000$H\001\000\001\000\004\000\000\000\377\000\000\377"
seed delta      "\003\000\002\000$H\002\000\001\000\006\000\000\000\000\004\000\001\002\003"
seed audio      "\020\000\003\000\000\000\000\000\001\000\200\273\010\000\000\000\000\000\200\077\000\000\200\277"
seed haptic     "\040\000\004\000$H\000\000\000\000\003\000\000\000\144\000\200"
seed sync       "\060\002\005\000$H\000\000\000\000\054\000\000\000{\"a\":1,\"count\":[1,null],\"_v\":{\"a\":7,\"x\":1}}"
seed diff       "\061\000\006\000$H\000\000\000\000\015\000\000\000{\"count\":\"x\"}"
seed filter     "\063\000\007\000$H\000\000\000\000\024\000\000\000{\"select\":[\"a\",\"b\"]}"
seed schema     "\062\000\010\000$H\000\000\000\000\043\000\000\000{\"signals\":[\"a\"],\"mode\":\"signal\"}"
seed pointer    "\002\001\011\000$H\000\000\000\000\005\000\000\000\012\000\024\000\001"
seed axis       "\060\001\012\000$H\000\000\000\000\005\000\000\000\002\000\000\200\077"
seed keyframe   "\360\002\013\000$H\000\000\000\000\000\000\000\000"
seed rle        "\001\002\000\005\000\377\000\001\000"
seed json       "\001{\"a\":{\"b\":[1,2,{\"c\":null}]},\"_v\":{\"a\":2}}"
seed key        "Page_Up"

"$OUT/fuzz-protocol" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 \
  -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
  -dict="$HERE/protocol.dict" -artifact_prefix="$OUT/" "$@" "$OUT/corpus"
