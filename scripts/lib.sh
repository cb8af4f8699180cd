# Shared by scripts/demo.sh and scripts/test.sh (sourced, not run).
#
# ds_install_deps   installs, with apt-get, every package of
#                   scripts/apt-packages.txt that is not installed yet
#                   (apt-get update runs once, only when something is missing)
# ds_viewer_deps    node and npm, then `npm ci` in relay/viewer: the npm
#                   package fzstd, the viewer's zstd decoder, which the
#                   relay's build embeds (once; again when the lock changes)
# ds_browser_deps   node, npm and chromium for tests/browser (if present),
#                   then `npm ci` there
# ds_build          meson setup build/ -Dwerror=true -Dviewer-zstd=enabled
#                   (once) and ninja
# ds_build_asan     the same in build-asan/ with ASan and UBSan

DS_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
DS_BUILD_DIR=${DS_BUILD_DIR:-$DS_ROOT/build}
DS_ASAN_BUILD_DIR=${DS_ASAN_BUILD_DIR:-$DS_ROOT/build-asan}
export DEBIAN_FRONTEND=noninteractive

ds_log () {
  printf '\n==> %s\n' "$*"
}

ds_die () {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

_ds_provided=

# ds_pkg_installed PKG: installed, or provided by an installed package
# (NodeSource's nodejs provides npm, which Debian's npm then conflicts with)
ds_pkg_installed () {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null |
    grep -q 'install ok installed' && return 0
  if [ -z "$_ds_provided" ]; then
    _ds_provided=" $(dpkg-query -W -f='${db:Status-Abbrev}|${Provides}\n' 2>/dev/null |
      sed -n 's/^ii *|//p' | tr ',' '\n' | sed 's/(.*)//; s/:any//' |
      tr -d ' ' | grep -v '^$' | sort -u | tr '\n' ' ') "
  fi
  case $_ds_provided in
    *" $1 "*) return 0 ;;
  esac
  return 1
}

_ds_apt_updated=no

# ds_apt_install PKG...: installs the given packages that are missing
ds_apt_install () {
  local missing=() pkg sudo=()

  for pkg in "$@"; do
    ds_pkg_installed "$pkg" || missing+=("$pkg")
  done
  [ ${#missing[@]} -eq 0 ] && return 0

  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 ||
      ds_die "missing packages (${missing[*]}): run as root"
    sudo=(sudo)
  fi
  ds_log "apt-get install ${missing[*]}"
  if [ "$_ds_apt_updated" = no ]; then
    "${sudo[@]}" apt-get update -q || ds_die "apt-get update failed"
    _ds_apt_updated=yes
  fi
  "${sudo[@]}" apt-get install -y -q "${missing[@]}" ||
    ds_die "apt-get install failed"
  _ds_provided=
}

ds_install_deps () {
  local list=$DS_ROOT/scripts/apt-packages.txt pkgs=()

  command -v dpkg-query >/dev/null 2>&1 ||
    ds_die "this script expects Debian 12 (dpkg/apt-get)"
  [ -f "$list" ] || ds_die "$list not found"
  # one package per line; blank lines and # comments are ignored
  mapfile -t pkgs < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$' | sort -u)
  ds_apt_install "${pkgs[@]}"
}

# ds_node_deps: node and npm, from Debian unless some node (one that
# bundles npm) is there already: commands are checked, not package names
ds_node_deps () {
  local want=()

  command -v node >/dev/null 2>&1 || want+=(nodejs)
  command -v npm >/dev/null 2>&1 || want+=(npm)
  [ ${#want[@]} -eq 0 ] || ds_apt_install ca-certificates "${want[@]}"
}

# The viewer's npm packages (relay/viewer/package-lock.json): fzstd, its
# zstd decoder. relay/meson.build copies its ES module and licence into
# ds-relay's resources, so they are installed before meson runs; the
# build asks for them (-Dviewer-zstd=enabled). npm ci runs again only when
# package-lock.json is newer than what it installed.
ds_viewer_deps () {
  local dir=$DS_ROOT/relay/viewer

  [ -f "$dir/package-lock.json" ] || return 0
  if [ "$dir/node_modules/.package-lock.json" -nt "$dir/package-lock.json" ]; then
    return 0
  fi
  ds_node_deps
  ds_log "npm ci in relay/viewer (the viewer's zstd decoder)"
  (cd "$dir" && npm ci --no-audit --no-fund) || ds_die "npm ci failed in relay/viewer"
}

# Browser tests (tests/browser, added by the viewer work): a Node
# project run against a headless Chromium. Node may come from Debian
# (nodejs + npm) or from elsewhere (a node that bundles npm), so commands
# are checked rather than package names.
ds_browser_deps () {
  local dir=$DS_ROOT/tests/browser want=()

  [ -f "$dir/package.json" ] || return 0
  ds_node_deps
  command -v chromium >/dev/null 2>&1 ||
    command -v chromium-browser >/dev/null 2>&1 || want+=(chromium)
  [ ${#want[@]} -eq 0 ] || ds_apt_install ca-certificates "${want[@]}"

  if [ -z "${CHROME_BIN:-}" ]; then
    CHROME_BIN=$(command -v chromium || command -v chromium-browser)
    export CHROME_BIN
  fi
  # Browsers come from apt; npm packages must not download their own.
  export PUPPETEER_SKIP_DOWNLOAD=1 PUPPETEER_SKIP_CHROMIUM_DOWNLOAD=1
  export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

  ds_log "npm ci in tests/browser"
  (cd "$dir" && npm ci --no-audit --no-fund) || ds_die "npm ci failed"
}

# _ds_setup_and_build DIR [meson options...]: configures DIR once
# (reconfigures it afterwards) and builds it
_ds_setup_and_build () {
  local dir=$1
  shift

  ds_log "meson setup $dir $*"
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$DS_ROOT" "$@" ||
      ds_die "meson setup failed"
  else
    meson setup "$dir" "$DS_ROOT" "$@" || ds_die "meson setup failed"
  fi
  ds_log "ninja -C $dir"
  ninja -C "$dir" || ds_die "build failed"
}

ds_build () {
  _ds_setup_and_build "$DS_BUILD_DIR" -Dwerror=true -Dviewer-zstd=enabled
}

# The same tree with AddressSanitizer and UndefinedBehaviorSanitizer
# (gcc's; README "Building by hand" shows the clang build that also makes
# libFuzzer programs), without benchmarks and examples
ds_build_asan () {
  _ds_setup_and_build "$DS_ASAN_BUILD_DIR" -Dwerror=true -Dviewer-zstd=enabled \
    -Db_sanitize=address,undefined -Db_lundef=false \
    -Dbenchmarks=disabled -Dexamples=disabled
}
