#!/usr/bin/env bash
# Install the Debian packages listed in $1 that are not installed yet. Idempotent and quiet when
# everything is present, so `make setup` costs nothing on a provisioned machine.
set -euo pipefail
list=${1:?usage: apt.sh PACKAGE_LIST}
mapfile -t wanted < <(sed -e 's/#.*//' -e 's/[[:space:]]//g' "$list" | grep -v '^$')
missing=()
for pkg in "${wanted[@]}"; do
  status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
  [[ $status == "install ok installed" ]] || missing+=("$pkg")
done
[[ ${#missing[@]} -eq 0 ]] && exit 0
if [[ $(id -u) -ne 0 ]]; then
  echo "apt.sh: missing Debian packages: ${missing[*]} (run as root, or install them yourself)" >&2
  exit 1
fi
echo "apt.sh: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=300 update -qq
apt-get -o DPkg::Lock::Timeout=300 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
