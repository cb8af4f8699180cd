#!/bin/bash
#
# Runs every test of gst-ds-stream on a Debian 12 machine (as root, or
# with sudo): installs what is missing with apt-get, builds into build/
# with -Dwerror=true, then runs the whole meson test suite (unit and
# element tests, the relay tests, formatting, and the browser tests when
# tests/browser exists). Exits non-zero when anything fails.
#
# Usage: bash scripts/test.sh [extra `meson test` arguments]

set -u
set -o pipefail

. "$(dirname "$0")/lib.sh"

ds_install_deps
ds_browser_deps
ds_build

ds_log "meson test -C $DS_BUILD_DIR --print-errorlogs $*"
meson test -C "$DS_BUILD_DIR" --print-errorlogs "$@"
status=$?
if [ $status -eq 0 ]; then
  ds_log "all tests passed"
else
  ds_log "tests FAILED (see above and $DS_BUILD_DIR/meson-logs/testlog.txt)"
fi
exit $status
