#!/usr/bin/env bash
# Build the mediasoup worker offline from the C++ sources shipped in node_modules/mediasoup/worker,
# against Debian's system libraries, and cache the binary under a key of mediasoup version +
# compiler version + a hash of our build inputs. A second run finds the cached binary and returns
# at once. Prints the binary's path on stdout (last line); progress goes to stderr.
#
#   native/mediasoup/build.sh               build if missing, print the path
#   native/mediasoup/build.sh --print-path  only print where the binary is / will be (cheap)
#   native/mediasoup/build.sh --force       rebuild even if cached
#
# Env: EDGEVOX_CACHE_DIR (default ~/.cache/edgevox), MEDIASOUP_DIR (default
# <repo>/node_modules/mediasoup), CXX/CC (default c++/cc), MEDIASOUP_BUILD_JOBS (default nproc).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
mediasoup_dir=${MEDIASOUP_DIR:-$repo/node_modules/mediasoup}
cache_root=${EDGEVOX_CACHE_DIR:-$HOME/.cache/edgevox}/mediasoup-worker
cxx=${CXX:-c++}
cc=${CC:-cc}

die() { echo "native/mediasoup: $*" >&2; exit 1; }
log() { echo "native/mediasoup: $*" >&2; }

mode=build
case "${1:-}" in
  '') ;;
  --print-path) mode=print ;;
  --force) mode=force ;;
  -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
  *) die "unknown argument '$1' (use --print-path, --force or nothing)" ;;
esac

# --- cache key: mediasoup version + compiler + our inputs (patches, shim subprojects) ----------
if [[ -f $mediasoup_dir/package.json ]]; then
  ms_version=$(sed -n 's/^[[:space:]]*"version":[[:space:]]*"\([^"]*\)".*/\1/p' "$mediasoup_dir/package.json" | head -n1)
elif [[ -f $repo/package-lock.json ]]; then
  # Before `npm ci` (make computes the path first, so that npm ci already sees MEDIASOUP_WORKER_BIN
  # and mediasoup's postinstall skips its download): the version npm ci is about to install.
  ms_version=$(awk '/"node_modules\/mediasoup": *\{/ { f = 1 } f && /"version":/ { gsub(/[",]/, "", $2); print $2; exit }' "$repo/package-lock.json")
fi
[[ -n ${ms_version:-} ]] || die "cannot read the mediasoup version from $mediasoup_dir/package.json or package-lock.json"

if command -v "$cxx" >/dev/null 2>&1; then
  cxx_banner=$("$cxx" --version 2>/dev/null | head -n1)
  case "$cxx_banner" in
    *clang*) cxx_family=clang ;;
    *) cxx_family=gcc ;;
  esac
  # gcc's -dumpversion prints only the major version; -dumpfullversion the whole one (clang: -dumpversion).
  cxx_version=$("$cxx" -dumpfullversion 2>/dev/null || "$cxx" -dumpversion 2>/dev/null)
  cxx_id="$cxx_family-$cxx_version-$("$cxx" -dumpmachine 2>/dev/null)"
else
  # No compiler yet (apt has not run): the key still names something; the build step will fail
  # with a clear message if it is asked to build.
  cxx_id=no-compiler
fi
inputs_hash=$(cd "$here" && find patches system-subprojects -type f -print0 | LC_ALL=C sort -z |
  xargs -0 sha256sum | sha256sum | cut -c1-10)
key="mediasoup-$ms_version-$cxx_id-$inputs_hash"
key=${key//[^A-Za-z0-9._+-]/_}
bin="$cache_root/$key/mediasoup-worker"

if [[ $mode == print ]]; then
  echo "$bin"
  exit 0
fi

if [[ $mode == build && -x $bin ]]; then
  log "cached worker found"
  echo "$bin"
  exit 0
fi

# --- build ----------------------------------------------------------------------------------
command -v "$cxx" >/dev/null 2>&1 || die "no C++ compiler ('$cxx'); install g++ (provisioning/apt-packages.txt)"
for tool in meson ninja pkg-config flatc patch; do
  command -v "$tool" >/dev/null 2>&1 ||
    die "'$tool' is missing; install the Debian packages listed for webrtc in provisioning/apt-packages.txt (make apt)"
done
[[ -f $mediasoup_dir/worker/meson.build ]] || die "no worker sources in $mediasoup_dir/worker (run npm ci first)"

mkdir -p "$cache_root"
# Two concurrent `make setup` runs must not build into the same directory.
exec 9>"$cache_root/.lock"
flock 9
if [[ $mode == build && -x $bin ]]; then
  log "cached worker found (built by a concurrent run)"
  echo "$bin"
  exit 0
fi

work="$cache_root/$key/build"
rm -rf "$work"
mkdir -p "$work"
started=$SECONDS
log "building mediasoup $ms_version worker with $cxx_id in $work"

# Work on a copy: node_modules stays pristine, and the copy gets our edits.
cp -R "$mediasoup_dir/worker" "$work/worker"
rm -rf "$work/worker/out" "$work/worker/subprojects/packagecache"
for p in "$here"/patches/*.patch; do
  log "applying $(basename "$p")"
  patch -d "$work" -p1 --forward --quiet < "$p" || die "patch $(basename "$p") does not apply to mediasoup $ms_version"
done
# Replace each downloadable wrap with a subproject that exposes the same variables from Debian's
# libraries (see system-subprojects/*/meson.build); without the .wrap file meson uses the directory.
for dir in "$here"/system-subprojects/*/; do
  name=$(basename "$dir")
  rm -f "$work/worker/subprojects/$name.wrap"
  cp -R "$dir" "$work/worker/subprojects/$name"
done
# Neither liburing nor wingetopt is used (liburing disabled by option, wingetopt is Windows-only).
rm -f "$work/worker/subprojects/liburing.wrap" "$work/worker/subprojects/wingetopt.wrap"

jobs=${MEDIASOUP_BUILD_JOBS:-$(nproc)}
(
  cd "$work/worker"
  CC=$cc CXX=$cxx meson setup --wrap-mode=nodownload --buildtype=release -Db_ndebug=true \
    -Dms_disable_liburing=true build >"$work/meson-setup.log" 2>&1 ||
    { tail -n 40 "$work/meson-setup.log" >&2; exit 1; }
  # The FlatBuffers headers are generated by a custom target the sources include from; build them
  # first so the parallel compile never races them.
  ninja -C build -j "$jobs" fbs/FBS >"$work/ninja.log" 2>&1 || { tail -n 40 "$work/ninja.log" >&2; exit 1; }
  ninja -C build -j "$jobs" mediasoup-worker >>"$work/ninja.log" 2>&1 || { tail -n 60 "$work/ninja.log" >&2; exit 1; }
) || die "build failed (logs in $work)"

built="$work/worker/build/mediasoup-worker"
[[ -x $built ]] || die "ninja finished but $built is missing"
strip "$built" 2>/dev/null || true
install -m 0755 "$built" "$bin.tmp"
mv -f "$bin.tmp" "$bin"
{
  echo "mediasoup=$ms_version"
  echo "compiler=$cxx_banner"
  echo "inputs=$inputs_hash"
  echo "built_at=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "build_seconds=$((SECONDS - started))"
} >"$cache_root/$key/BUILD-INFO"
rm -rf "$work"
log "built in $((SECONDS - started)) s"
echo "$bin"
