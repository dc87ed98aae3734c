#!/usr/bin/env bash
# Install the collector at headquarters (run as root from a checkout that `make setup` prepared,
# on a Debian host with the postgresql package). Idempotent: re-running updates the code and unit
# and leaves the database, keys and token alone. See docs/central.md.
set -euo pipefail
src=$(cd "$(dirname "$0")/../.." && pwd)
dest=/opt/edgevox
db=edgevox_collector
command -v psql >/dev/null || { echo "install-collector.sh: install the postgresql package first" >&2; exit 1; }
systemctl enable --now postgresql.service
id -u edgevox_collector >/dev/null 2>&1 || useradd --system --home /var/lib/edgevox-collector --shell /usr/sbin/nologin edgevox_collector
mkdir -p "$dest" /etc/edgevox
rsync -a --delete --exclude var/ --exclude .git/ "$src/" "$dest/"

# The collector's role owns its database (PostgreSQL 15 lets only the owner create in schema
# public) and logs in by peer authentication over the unix socket: no password to keep.
psql_admin() { runuser -u postgres -- psql -v ON_ERROR_STOP=1 -qAtX "$@"; }
[[ $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = '$db'") == 1 ]] || psql_admin -c "CREATE ROLE $db LOGIN"
[[ $(psql_admin -c "SELECT 1 FROM pg_database WHERE datname = '$db'") == 1 ]] || psql_admin -c "CREATE DATABASE $db OWNER $db"
# Dashboards read with a role of their own that can only SELECT (Grafana's data source).
[[ $(psql_admin -c "SELECT 1 FROM pg_roles WHERE rolname = 'edgevox_hq_reader'") == 1 ]] || psql_admin -c "CREATE ROLE edgevox_hq_reader LOGIN"
psql_admin -d "$db" -c "GRANT CONNECT ON DATABASE $db TO edgevox_hq_reader; GRANT USAGE ON SCHEMA public TO edgevox_hq_reader;
  GRANT SELECT ON ALL TABLES IN SCHEMA public TO edgevox_hq_reader;
  ALTER DEFAULT PRIVILEGES FOR ROLE $db IN SCHEMA public GRANT SELECT ON TABLES TO edgevox_hq_reader;"

[[ -f /etc/edgevox/collector.env ]] || printf 'EDGEVOX_COLLECTOR_PG_URL=postgres:///%s?host=/run/postgresql\nCOLLECTOR_ARGS=--host 127.0.0.1\n' "$db" > /etc/edgevox/collector.env
[[ -f /etc/edgevox/collector-sites.json ]] || printf '{"sites": {}}\n' > /etc/edgevox/collector-sites.json
if [[ ! -f /etc/edgevox/collector-read-token ]]; then
  (umask 077 && head -c 32 /dev/urandom | base64 | tr -d '/+=' > /etc/edgevox/collector-read-token)
fi
chown root:edgevox_collector /etc/edgevox/collector-read-token /etc/edgevox/collector-sites.json
chmod 0640 /etc/edgevox/collector-read-token /etc/edgevox/collector-sites.json
install -m 0644 "$src/provisioning/systemd/edgevox-collector.service" /etc/systemd/system/edgevox-collector.service
systemctl daemon-reload
systemctl enable --now edgevox-collector.service
systemctl --no-pager status edgevox-collector.service || true
