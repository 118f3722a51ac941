#!/usr/bin/env bash
# Installs every system package the project needs (as root; through sudo when run as a user):
#   - Prosody 0.12 and prosody-modules (Debian 12), the default test and `npm start` server;
#   - Prosody 13 from Debian 12 backports, unpacked beside it under $PROSODY13_DIR
#     (default /opt/prosody13) without touching the system's sources or its 0.12;
#   - Debian's Chromium, which the browser tests drive through playwright-core;
#   - Debian's PostgreSQL (15 on Debian 12), which the PostgreSQL tests and benchmarks run as
#     private servers of their own (src/postgres/local-postgres.ts), never the system's cluster.
# Idempotent: what is there already is not fetched again. README's setup line and .ci/run call it.
set -euo pipefail

PROSODY13_DIR="${PROSODY13_DIR:-/opt/prosody13}"
# Empty: whatever 13.x bookworm-backports has (13.0.1-1~bpo12+1 when this was written).
PROSODY13_VERSION="${PROSODY13_VERSION:-}"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo --preserve-env=PROSODY13_DIR,PROSODY13_VERSION,POSTGRES_BIN_DIR bash "$0" "$@"; fi
  echo "scripts/setup.sh installs system packages: run it as root" >&2
  exit 1
fi

updated=0
apt_update() { if [ "$updated" -eq 0 ]; then apt-get update -qq; updated=1; fi; }

# Debian packages. lua-bitop is Prosody 13's one dependency beyond 0.12's; procps gives the tests pgrep.
need=()
for pkg in prosody prosody-modules lua-bitop chromium procps postgresql; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
if [ "${#need[@]}" -gt 0 ]; then
  apt_update
  apt-get install -y -qq "${need[@]}" >/dev/null
fi
# The package starts a system Prosody where it can; ours run as our own children.
if command -v systemctl >/dev/null; then systemctl stop prosody 2>/dev/null || true; fi
if command -v systemctl >/dev/null; then systemctl disable prosody 2>/dev/null || true; fi
# Installing postgresql creates a cluster "main" on port 5432 and starts it where it can. The
# tests never use it (each runs its own, on a free port, as the postgres user), so a cluster
# we have just installed is stopped and not started at boot; one that was there before is
# someone's own and left as it is.
if [[ " ${need[*]} " == *" postgresql "* ]]; then
  if command -v systemctl >/dev/null; then
    systemctl stop postgresql 2>/dev/null || true
    systemctl disable postgresql 2>/dev/null || true
  fi
  if command -v pg_lsclusters >/dev/null; then
    pg_lsclusters --no-header 2>/dev/null | while read -r ver name _port status _rest; do
      case "$status" in online*) pg_ctlcluster "$ver" "$name" stop 2>/dev/null || true ;; esac
    done
  fi
fi
# The harness's choice too: POSTGRES_BIN_DIR, else the highest /usr/lib/postgresql/<version>/bin.
pg_bin="${POSTGRES_BIN_DIR:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n1)}"
if [ ! -x "$pg_bin/postgres" ] || [ ! -x "$pg_bin/initdb" ]; then
  echo "setup: no PostgreSQL server (postgres, initdb) in $pg_bin" >&2
  exit 1
fi
# initdb and postgres refuse root: as root, the tests run them as this user (the package makes it).
if ! id -u postgres >/dev/null 2>&1; then
  echo "setup: no postgres system user (the postgresql package creates it); the tests need it when run as root" >&2
  exit 1
fi

# Prosody 13 from bookworm-backports, fetched with a private apt state so the system's
# sources, lists and installed 0.12 stay as they are; then unpacked (dpkg-deb -x).
have13="$(cat "$PROSODY13_DIR/.version" 2>/dev/null || true)"
if [ ! -x "$PROSODY13_DIR/usr/bin/prosody" ] || [ -z "$have13" ] || { [ -n "$PROSODY13_VERSION" ] && [ "$have13" != "$PROSODY13_VERSION" ]; }; then
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
  mkdir -p "$work/lists/partial" "$work/cache/archives/partial"
  # The same archive and keyring as the system's own sources.
  uri="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  uri="${uri:-http://deb.debian.org/debian}"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main" > "$work/sources.list"
  opts=(-o "Dir::Etc::sourcelist=$work/sources.list" -o Dir::Etc::sourceparts=/dev/null
        -o "Dir::State::Lists=$work/lists" -o "Dir::Cache=$work/cache" -o Debug::NoLocking=1)
  apt-get "${opts[@]}" -o APT::Sandbox::User=root update -qq
  candidate() { apt-cache "${opts[@]}" policy "$1" | sed -n 's/^ *Candidate: *//p'; }
  version="${PROSODY13_VERSION:-$(candidate prosody)}"
  case "$version" in
    13.*) ;;
    *) echo "setup: bookworm-backports offers prosody ${version:-(none)}, not 13.x; set PROSODY13_VERSION" >&2; exit 1 ;;
  esac
  (cd "$work" && apt-get "${opts[@]}" -o APT::Sandbox::User=root download -qq "prosody=$version" \
    "prosody-modules=$(candidate prosody-modules)")
  rm -rf "$PROSODY13_DIR"
  mkdir -p "$PROSODY13_DIR"
  for deb in "$work"/*.deb; do dpkg-deb -x "$deb" "$PROSODY13_DIR"; done
  # Point the launchers at the unpacked tree instead of /usr/lib/prosody (0.12's).
  for bin in prosody prosodyctl; do
    sed -i -e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$PROSODY13_DIR/usr/lib/prosody';|" \
           -e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$PROSODY13_DIR/usr/lib/prosody/modules/';|" \
           "$PROSODY13_DIR/usr/bin/$bin"
  done
  echo "$version" > "$PROSODY13_DIR/.version"
  rm -rf "$work"
  trap - EXIT
fi

echo "setup: Prosody $(cat /usr/lib/prosody/prosody.version 2>/dev/null || echo '?') at /usr/bin/prosody," \
  "Prosody $(cat "$PROSODY13_DIR/usr/lib/prosody/prosody.version" 2>/dev/null || echo '?') at $PROSODY13_DIR/usr/bin/prosody," \
  "$(chromium --version 2>/dev/null || echo 'no chromium')," \
  "$("$pg_bin/postgres" --version 2>/dev/null || echo 'no postgres') at $pg_bin"
