#!/usr/bin/env bash
# Builds our ejabberd module, server/ejabberd/mod_invites_bridge.erl, into server/ejabberd/ebin/.
# The one place that says how: scripts/setup.sh runs it, and the test harness
# (src/server/ejabberd/local-ejabberd.ts) runs it whenever the .erl is newer than the .beam.
# Built once against 23.01's headers; the same beam loads in 23.01 and 24.12 (both on OTP 25).
# Nothing to do (exit 0) while there is no .erl yet.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
src="$root/server/ejabberd/mod_invites_bridge.erl"
out="$root/server/ejabberd/ebin"
include="${EJABBERD_INCLUDE:-/usr/lib/x86_64-linux-gnu/ejabberd-23.01-1/include}"
[ -f "$src" ] || exit 0
mkdir -p "$out"
# Into a temp dir first, then renamed: test runs side by side may build at the same time,
# and none may load a half-written beam.
tmp="$(mktemp -d "$out/.build-XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# ERL_LIBS: include_lib("ejabberd/include/…") finds 23.01; include_lib("xmpp/include/xmpp.hrl")
# finds bookworm's xmpp in OTP's lib dir.
ERL_LIBS=/usr/lib/x86_64-linux-gnu erlc -o "$tmp" -I "$include" "$src"
mv -f "$tmp/mod_invites_bridge.beam" "$out/mod_invites_bridge.beam"
