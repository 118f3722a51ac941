#!/usr/bin/env bash
# Installs every system package the project needs (as root; through sudo when run as a user):
#   - Prosody 0.12 and prosody-modules (Debian 12), the default test and `npm start` server;
#   - Prosody 13 from Debian 12 backports, unpacked beside it under $PROSODY13_DIR
#     (default /opt/prosody13) without touching the system's sources or its 0.12;
#   - ejabberd 23.01 (Debian 12, with erlc), the other test server, never run as a system service;
#   - ejabberd 24.12 from Debian 12 backports, unpacked under $EJABBERD24_DIR (default
#     /opt/ejabberd24) with the erlang-p1-* libraries it needs newer than bookworm's;
#     it runs on bookworm's Erlang/OTP 25 (src/server/ejabberd/builds.ts sets ERL_LIBS);
#   - our ejabberd module, server/ejabberd/mod_invites_bridge.erl, built into server/ejabberd/ebin/
#     (scripts/build-ejabberd-bridge.sh, which the test harness also runs when the .erl is newer);
#   - Debian's Chromium, which the browser tests drive through playwright-core;
#   - Debian's PostgreSQL (15 on Debian 12), which the PostgreSQL tests and benchmarks run as
#     private servers of their own (src/postgres/local-postgres.ts), never the system's cluster.
# Idempotent: what is there already is not fetched again. README's setup line and .ci/run call it.
set -euo pipefail

PROSODY13_DIR="${PROSODY13_DIR:-/opt/prosody13}"
# Empty: whatever 13.x bookworm-backports has (13.0.1-1~bpo12+1 when this was written).
PROSODY13_VERSION="${PROSODY13_VERSION:-}"
EJABBERD24_DIR="${EJABBERD24_DIR:-/opt/ejabberd24}"
EJABBERD24_VERSION="${EJABBERD24_VERSION:-24.12-3~bpo12+1}"
export DEBIAN_FRONTEND=noninteractive

if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null; then exec sudo --preserve-env=PROSODY13_DIR,PROSODY13_VERSION,EJABBERD24_DIR,EJABBERD24_VERSION,POSTGRES_BIN_DIR bash "$0" "$@"; fi
  echo "scripts/setup.sh installs system packages: run it as root" >&2
  exit 1
fi

updated=0
apt_update() { if [ "$updated" -eq 0 ]; then apt-get update -qq; updated=1; fi; }

# Debian packages. lua-bitop is Prosody 13's one dependency beyond 0.12's; procps gives the tests pgrep.
need=()
for pkg in prosody prosody-modules lua-bitop chromium procps postgresql ejabberd; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'install ok installed' || need+=("$pkg")
done
# What runs before the install, to tell an ejabberd and epmd the install starts from someone's own.
erlang_before=" $(pgrep -x epmd || true) $(pgrep -u ejabberd 2>/dev/null || true) "
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
# Installing ejabberd starts a system ejabberd where it can (ejabberdctl, as the ejabberd user,
# with an epmd beside it). The tests run their own, as our children: one the install has just
# started is stopped and not started at boot; one that was running before is left as it is.
if [[ " ${need[*]} " == *" ejabberd "* ]]; then
  if command -v systemctl >/dev/null; then
    systemctl stop ejabberd 2>/dev/null || true
    systemctl disable ejabberd 2>/dev/null || true
  fi
  # pgrep -c prints 0 and exits 1 when nothing matches, and nothing when there is no such user.
  running="$(pgrep -c -u ejabberd 2>/dev/null || true)"
  if [ -x /etc/init.d/ejabberd ] && [ "${running:-0}" -gt 0 ]; then
    /etc/init.d/ejabberd stop >/dev/null 2>&1 || true
  fi
  for pid in $(pgrep -u ejabberd 2>/dev/null || true) $(pgrep -x epmd || true); do
    [[ "$erlang_before" == *" $pid "* ]] || kill "$pid" 2>/dev/null || true
  done
fi
EJABBERD23_VERSION="$(dpkg-query -W -f='${Version}' ejabberd 2>/dev/null || true)"
case "$EJABBERD23_VERSION" in
  23.01*) ;;
  *) echo "setup: the system's ejabberd is ${EJABBERD23_VERSION:-missing}, not Debian 12's 23.01" >&2; exit 1 ;;
esac
if ! command -v erlc >/dev/null; then
  echo "setup: no erlc (Debian's erlang-dev, which ejabberd pulls in, has it)" >&2
  exit 1
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

# Packages from bookworm-backports, fetched with a private apt state so the system's sources,
# lists and installed packages stay as they are, then unpacked (dpkg-deb -x), never installed.
# The state is made once, by the first backports_* call, and removed on exit.
bp_work=""
bp_opts=()
backports_init() {
  [ -n "$bp_work" ] && return
  bp_work="$(mktemp -d)"
  trap 'rm -rf "$bp_work"' EXIT
  mkdir -p "$bp_work/lists/partial" "$bp_work/cache/archives/partial"
  # The same archive and keyring as the system's own sources.
  local uri
  uri="$(sed -n 's/^URIs: *//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | head -n1)"
  uri="${uri:-http://deb.debian.org/debian}"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $uri bookworm-backports main" > "$bp_work/sources.list"
  bp_opts=(-o "Dir::Etc::sourcelist=$bp_work/sources.list" -o Dir::Etc::sourceparts=/dev/null
           -o "Dir::State::Lists=$bp_work/lists" -o "Dir::Cache=$bp_work/cache" -o Debug::NoLocking=1)
  apt-get "${bp_opts[@]}" -o APT::Sandbox::User=root update -qq
}
# The version backports offers (the private state also sees what dpkg has installed: ask for the backports one).
backports_candidate() {
  backports_init
  apt-cache "${bp_opts[@]}" madison "$1" | awk -F' [|] ' '/bookworm-backports/ {gsub(/ /, "", $2); print $2; exit}'
}
# backports_unpack DIR PKG=VERSION...: download exactly these and unpack them all into a fresh DIR.
backports_unpack() {
  local dest="$1" deb
  shift
  backports_init
  rm -rf "$bp_work/debs" && mkdir -p "$bp_work/debs"
  (cd "$bp_work/debs" && apt-get "${bp_opts[@]}" -o APT::Sandbox::User=root download -qq "$@")
  rm -rf "$dest"
  mkdir -p "$dest"
  for deb in "$bp_work"/debs/*.deb; do dpkg-deb -x "$deb" "$dest"; done
}

# Prosody 13 (its launchers then pointed at the unpacked tree).
have13="$(cat "$PROSODY13_DIR/.version" 2>/dev/null || true)"
if [ ! -x "$PROSODY13_DIR/usr/bin/prosody" ] || [ -z "$have13" ] || { [ -n "$PROSODY13_VERSION" ] && [ "$have13" != "$PROSODY13_VERSION" ]; }; then
  version="${PROSODY13_VERSION:-$(backports_candidate prosody)}"
  case "$version" in
    13.*) ;;
    *) echo "setup: bookworm-backports offers prosody ${version:-(none)}, not 13.x; set PROSODY13_VERSION" >&2; exit 1 ;;
  esac
  backports_unpack "$PROSODY13_DIR" "prosody=$version" "prosody-modules=$(backports_candidate prosody-modules)"
  # Point the launchers at the unpacked tree instead of /usr/lib/prosody (0.12's).
  for bin in prosody prosodyctl; do
    sed -i -e "s|^CFG_SOURCEDIR=.*|CFG_SOURCEDIR='$PROSODY13_DIR/usr/lib/prosody';|" \
           -e "s|^CFG_PLUGINDIR=.*|CFG_PLUGINDIR='$PROSODY13_DIR/usr/lib/prosody/modules/';|" \
           "$PROSODY13_DIR/usr/bin/$bin"
  done
  echo "$version" > "$PROSODY13_DIR/.version"
fi

# ejabberd 24.12, with each Erlang library it depends on whose installed (bookworm) version is too
# old for its Depends, followed through those libraries' own Depends. Erlang/OTP stays bookworm's:
# its packages satisfy 24.12's >= 1:25.2.3 as they are. Alternatives and virtual packages
# (erlang-abi, provided by erlang-base) are not followed.
have24="$(cat "$EJABBERD24_DIR/.version" 2>/dev/null || true)"
if [ "$have24" != "$EJABBERD24_VERSION" ] || ! compgen -G "$EJABBERD24_DIR/usr/lib/x86_64-linux-gnu/ejabberd-24.12*/ebin" >/dev/null; then
  backports_init
  fetch=("ejabberd=$EJABBERD24_VERSION")
  seen=" ejabberd "
  queue=("ejabberd=$EJABBERD24_VERSION")
  while [ "${#queue[@]}" -gt 0 ]; do
    item="${queue[0]}"
    queue=("${queue[@]:1}")
    # One dependency a line: NAME [(OP VERSION)]
    while read -r name op ver; do
      [ -n "$name" ] || continue
      case "$name" in erlang-*) ;; *) continue ;; esac
      [[ "$seen" == *" $name "* ]] && continue
      have="$(dpkg-query -W -f='${Version}' "$name" 2>/dev/null || true)"
      if [ -n "$have" ] && { [ -z "$op" ] || dpkg --compare-versions "$have" "$op" "$ver"; }; then continue; fi
      newer="$(backports_candidate "$name")"
      [ -n "$newer" ] || continue # virtual (erlang-abi): provided by an installed package
      if [ -n "$op" ] && ! dpkg --compare-versions "$newer" "$op" "$ver"; then
        echo "setup: ejabberd $EJABBERD24_VERSION needs $name ($op $ver); bookworm-backports has $newer" >&2
        exit 1
      fi
      seen+="$name "
      fetch+=("$name=$newer")
      queue+=("$name=$newer")
    done < <(apt-cache "${bp_opts[@]}" show "$item" 2>/dev/null | sed -n '1,/^$/s/^Depends: //p' | tr ',' '\n' |
             grep -v '|' | sed -E 's/^ *([^ ]+)( \(([<>=]+) ([^)]+)\))?.*/\1 \3 \4/')
  done
  backports_unpack "$EJABBERD24_DIR" "${fetch[@]}"
  # ejabberd's code server lists are ERL_LIBS: both lib dirs must be there.
  for d in "$EJABBERD24_DIR/usr/lib/x86_64-linux-gnu" "$EJABBERD24_DIR/usr/lib/erlang/lib"; do
    [ -d "$d" ] || { echo "setup: unpacked ejabberd $EJABBERD24_VERSION has no $d" >&2; exit 1; }
  done
  printf '%s\n' "${fetch[@]}" > "$EJABBERD24_DIR/.packages"
  echo "$EJABBERD24_VERSION" > "$EJABBERD24_DIR/.version"
fi
rm -rf "$bp_work"
trap - EXIT

# Our ejabberd module, when it is there (the script is the one place that says how to build it).
bash "$(dirname "$0")/build-ejabberd-bridge.sh"

echo "setup: Prosody $(cat /usr/lib/prosody/prosody.version 2>/dev/null || echo '?') at /usr/bin/prosody," \
  "Prosody $(cat "$PROSODY13_DIR/usr/lib/prosody/prosody.version" 2>/dev/null || echo '?') at $PROSODY13_DIR/usr/bin/prosody," \
  "ejabberd $EJABBERD23_VERSION (system), ejabberd $(cat "$EJABBERD24_DIR/.version" 2>/dev/null || echo '?') at $EJABBERD24_DIR," \
  "$(chromium --version 2>/dev/null || echo 'no chromium')," \
  "$("$pg_bin/postgres" --version 2>/dev/null || echo 'no postgres') at $pg_bin"
