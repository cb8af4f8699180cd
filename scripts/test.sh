#!/bin/bash
#
# Runs every test of gst-ds-stream on a Debian 12 machine (as root, or
# with sudo): installs what is missing with apt-get and npm (npm ci in
# relay/viewer and tests/browser), builds into build/ with -Dwerror=true,
# then runs the whole meson test suite (unit and element tests, the relay
# tests, formatting, fuzz corpora, the demo and the browser tests); then builds the same tree with ASan+UBSan into
# build-asan/ and runs the suite there (all but the demo and the browser
# tests). Exits non-zero when anything fails.
#
# Usage: bash scripts/test.sh [extra `meson test` arguments]

set -u
set -o pipefail

. "$(dirname "$0")/lib.sh"

ds_install_deps
ds_viewer_deps
ds_browser_deps
ds_build

ds_log "meson test -C $DS_BUILD_DIR --print-errorlogs $*"
meson test -C "$DS_BUILD_DIR" --print-errorlogs "$@"
status=$?

# The second pass: the same suite built with ASan+UBSan (the 'asan' test
# setup: leak checking, UBSan fatal), all but the demo and the browser
# tests, which drive the system's gst-launch-1.0 (see tests/meson.build)
ds_build_asan
ds_log "meson test -C $DS_ASAN_BUILD_DIR --print-errorlogs $*"
meson test -C "$DS_ASAN_BUILD_DIR" --print-errorlogs "$@"
asan_status=$?

if [ $status -eq 0 ] && [ $asan_status -eq 0 ]; then
  ds_log "all tests passed (plain and ASan+UBSan builds)"
  exit 0
fi
[ $status -eq 0 ] ||
  ds_log "tests FAILED (see above and $DS_BUILD_DIR/meson-logs/testlog.txt)"
[ $asan_status -eq 0 ] ||
  ds_log "tests FAILED under ASan+UBSan (see above and $DS_ASAN_BUILD_DIR/meson-logs/testlog.txt)"
exit 1
