#!/bin/sh
# Regenerates the shared vectors into a fresh folder and fails when they
# are not byte for byte the committed ones (tests/vectors/meson.build).
#   check-drift.sh MAKE-VECTORS SOURCE-DIR OUT-DIR
set -eu
make_vectors=$1
src=$2
out=$3

rm -rf "$out"
"$make_vectors" "$out"

status=0
for f in "$out"/*.ds "$out"/*.json; do
  name=$(basename "$f")
  if [ ! -f "$src/$name" ]; then
    echo "not committed: tests/vectors/$name"
    status=1
  elif ! cmp -s "$f" "$src/$name"; then
    echo "differs from what make-vectors writes: tests/vectors/$name"
    status=1
  fi
done
for f in "$src"/*.ds "$src"/*.json; do
  [ -e "$f" ] || continue
  name=$(basename "$f")
  if [ ! -f "$out/$name" ]; then
    echo "no longer written by make-vectors: tests/vectors/$name"
    status=1
  fi
done
if [ $status -ne 0 ]; then
  echo "regenerate: build/tests/vectors/make-vectors tests/vectors (then review and commit)"
fi
exit $status
