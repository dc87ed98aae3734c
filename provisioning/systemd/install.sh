#!/usr/bin/env bash
# Install the appliance as a systemd service on a branch box (run as root from a checkout that
# `make setup` has prepared). Idempotent: re-running updates the code and the unit.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dest=/opt/edgevox
id -u edgevox >/dev/null 2>&1 || useradd --system --home /var/lib/edgevox --shell /usr/sbin/nologin edgevox
mkdir -p "$dest" /etc/edgevox /var/lib/edgevox
rsync -a --delete --exclude var/ --exclude .git/ "$src/" "$dest/"
models=$(realpath -m "${EDGEVOX_MODELS_DIR:-$src/../shared/models}")
[[ -f /etc/edgevox/edgevox.yaml ]] || printf '# EdgeVox configuration: see README.md, "Configuration reference".\nsite:\n  id: unprovisioned\nmodelsDir: %s\n' "$models" > /etc/edgevox/edgevox.yaml
# The models are installed (and verified) into the service's data dir by the service itself at start.
chown -R edgevox:edgevox /var/lib/edgevox
install -m 0644 "$src/provisioning/systemd/edgevox.service" /etc/systemd/system/edgevox.service
systemctl daemon-reload
systemctl enable --now edgevox.service
systemctl --no-pager status edgevox.service || true
