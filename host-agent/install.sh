#!/bin/sh
# Installs, upgrades or removes the Vigil agent on one load balancer.
#
#   curl -fsSL URL/install.sh | sudo sh -s -- --url URL --release-key KEY --token-file FILE --node NAME
#
# Options:
#   --url URL           the control plane, https:// (required to install)
#   --release-key KEY   the release signing key (43 characters) the bundle must be signed with;
#                       take it from your own records or the operator CLI, not from this server.
#                       Kept in /etc/vigil/release-key: upgrades verify against it
#   --token-file FILE   read the single-use enrollment token from FILE (not needed once enrolled)
#   --token-stdin       read the token from the first line of stdin (not with curl | sh, where
#                       stdin is this script)
#   --token TOKEN       the token on the command line (ps and sudo's log can show it)
#   --insecure-http     allow an http:// URL: anyone on the path could then swap what is
#                       downloaded or read the token; for an isolated lab only
#   --node NAME         this host's node name in the cluster (default: short hostname)
#   --version V         install this agent version (default: the control plane's current one)
#   --haproxy-socket P  HAProxy's admin socket, writable by the agent (default /run/haproxy/admin.sock)
#   --install-deps      install missing iproute2 / arping / Node.js with apt, dnf or yum
#   --no-start          install and enroll, but do not enable or start the service
#   --uninstall         remove everything this script added (the node's key included)
#   --dry-run           print what would be done, change nothing
#   --root DIR          install under DIR instead of / (staging and tests): the files written
#                       point into DIR, and systemctl is not called
# Every failure exits non-zero with the reason and what to do about it.
#
# Firewall: the agent connects out to the control plane (HTTPS), and listens on UDP 7441 (the
# node's peerPort in the cluster and the agent's config) for signed lease promises from the
# other directors of its VIP groups. Open that port between the directors, and only there.
set -eu

URL=""
TOKEN=""
TOKEN_STDIN=0
TOKEN_FILE=""
RELEASE_KEY=""
INSECURE_HTTP=0
NODE_NAME=""
VERSION=""
HAPROXY_SOCKET="/run/haproxy/admin.sock"
INSTALL_DEPS=0
START=1
UNINSTALL=0
DRY_RUN=0
ROOT=""

say() { printf 'vigil-install: %s\n' "$*"; }
die() {
  printf 'vigil-install: error: %s\n' "$*" >&2
  exit 1
}
usage() {
  printf 'vigil-install: %s\n' "$*" >&2
  printf 'usage: install.sh --url URL --release-key KEY [--token-file FILE | --token-stdin | --token TOKEN]\n' >&2
  printf '                  [--node NAME] [--version V] [--haproxy-socket PATH] [--install-deps] [--no-start]\n' >&2
  printf '                  [--insecure-http] [--dry-run] [--root DIR]\n' >&2
  printf '       install.sh --uninstall [--dry-run] [--root DIR]\n' >&2
  exit 2
}
# Runs a command, or only prints it with --dry-run.
act() {
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would run: %s\n' "$*"
  else
    "$@"
  fi
}
need_value() {
  if [ $# -lt 2 ] || [ -z "$2" ]; then usage "$1 needs a value"; fi
}

while [ $# -gt 0 ]; do
  case "$1" in
    --url) need_value "$@"; URL=$2; shift 2 ;;
    --token) need_value "$@"; TOKEN=$2; shift 2 ;;
    --token-stdin) TOKEN_STDIN=1; shift ;;
    --token-file) need_value "$@"; TOKEN_FILE=$2; shift 2 ;;
    --release-key) need_value "$@"; RELEASE_KEY=$2; shift 2 ;;
    --insecure-http) INSECURE_HTTP=1; shift ;;
    --node) need_value "$@"; NODE_NAME=$2; shift 2 ;;
    --version) need_value "$@"; VERSION=$2; shift 2 ;;
    --haproxy-socket) need_value "$@"; HAPROXY_SOCKET=$2; shift 2 ;;
    --install-deps) INSTALL_DEPS=1; shift ;;
    --no-start) START=0; shift ;;
    --uninstall) UNINSTALL=1; shift ;;
    --dry-run) DRY_RUN=1; shift ;;
    --root) need_value "$@"; ROOT=${2%/}; shift 2 ;;
    -h | --help) usage "installs the Vigil agent" ;;
    *) usage "unknown option: $1" ;;
  esac
done

OPT_DIR="$ROOT/opt/vigil"
ETC_DIR="$ROOT/etc/vigil"
STATE_DIR="$ROOT/var/lib/vigil"
CONFIG="$ETC_DIR/agent.json"
BIN="$ROOT/usr/local/bin/vigil-agent"
UNIT="$ROOT/etc/systemd/system/vigil-agent.service"
BUNDLE="$OPT_DIR/vigil-agent.js"

systemd_running() { [ -z "$ROOT" ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null 2>&1; }

check_root() {
  if [ -z "$ROOT" ] && [ "$DRY_RUN" = 0 ] && [ "$(id -u)" != 0 ]; then
    die "run as root: curl -fsSL URL/install.sh | sudo sh -s -- ..."
  fi
}

uninstall() {
  check_root
  if systemd_running && [ -f "$UNIT" ]; then
    act systemctl disable --now vigil-agent.service || say "the service was not running"
  fi
  for path in "$UNIT" "$BIN" "$OPT_DIR" "$ETC_DIR" "$STATE_DIR"; do
    if [ -e "$path" ] || [ -L "$path" ]; then
      say "removing $path"
      act rm -rf "$path"
    fi
  done
  if systemd_running; then act systemctl daemon-reload; fi
  say "uninstalled. To enroll this node again, an admin resets it: DELETE /v1/clusters/CLUSTER/nodes/NODE/enrollment"
}

if [ "$UNINSTALL" = 1 ]; then
  uninstall
  exit 0
fi

# ---- checks -----------------------------------------------------------------------------

[ -n "$URL" ] || usage "--url is required: the control plane's address, e.g. https://vigil.example.com"
case "$URL" in
  https://*) URL=${URL%/} ;;
  http://*)
    [ "$INSECURE_HTTP" = 1 ] || usage "--url is plain http: anyone on the path could swap the agent or read the token; use https://, or pass --insecure-http on an isolated lab network"
    say "warning: --insecure-http: downloads and the token travel unencrypted"
    URL=${URL%/}
    ;;
  *) usage "--url must start with https:// (or http:// with --insecure-http), got: $URL" ;;
esac
case "$RELEASE_KEY" in
  "") ;;
  *[!A-Za-z0-9_-]*) usage "--release-key must be 43 characters of base64url, got: $RELEASE_KEY" ;;
  *) [ "${#RELEASE_KEY}" = 43 ] || usage "--release-key must be 43 characters of base64url, got ${#RELEASE_KEY}" ;;
esac
[ "$(uname -s)" = Linux ] || die "the Vigil agent runs on Linux only (this is $(uname -s))"
check_root

if [ "$TOKEN_STDIN" = 1 ]; then
  # Piped into sh, this script is itself standard input: reading a token would eat a line of it.
  [ -f "$0" ] || die "--token-stdin cannot work when the script is piped into sh (stdin is the script): use --token-file FILE, or download install.sh and run: sh install.sh ... --token-stdin < FILE"
  IFS= read -r TOKEN || true
  [ -n "$TOKEN" ] || die "--token-stdin was given but stdin had no token"
fi
if [ -n "$TOKEN_FILE" ]; then
  [ -r "$TOKEN_FILE" ] || die "cannot read the token file $TOKEN_FILE"
  IFS= read -r TOKEN <"$TOKEN_FILE" || true
  [ -n "$TOKEN" ] || die "the token file $TOKEN_FILE is empty"
fi
if [ -z "$NODE_NAME" ]; then NODE_NAME=$(hostname -s 2>/dev/null || hostname); fi
case "$NODE_NAME" in
  *[!A-Za-z0-9_.-]* | "" | [!A-Za-z0-9]*) die "node name '$NODE_NAME' is not valid: use letters, digits, '_', '.', '-' (pass --node NAME)" ;;
esac

package_manager() {
  for pm in apt-get dnf yum; do
    if command -v "$pm" >/dev/null 2>&1; then
      echo "$pm"
      return 0
    fi
  done
  return 1
}

# install_package APT_NAME RPM_NAME: installs with the host's package manager.
install_package() {
  pm=$(package_manager) || die "no apt-get, dnf or yum here: install $1 yourself, then re-run"
  case "$pm" in
    apt-get) act apt-get install -y -q "$1" ;;
    *) act "$pm" install -y -q "$2" ;;
  esac
}

# require COMMAND APT_PACKAGE RPM_PACKAGE
require() {
  if command -v "$1" >/dev/null 2>&1; then return 0; fi
  if [ "$INSTALL_DEPS" = 1 ]; then
    say "$1 is missing: installing it"
    install_package "$2" "$3"
    [ "$DRY_RUN" = 1 ] || command -v "$1" >/dev/null 2>&1 || die "$1 is still missing after installing $2"
  else
    die "$1 is missing: install it ($2 on Debian/Ubuntu, $3 on RHEL/Fedora) or re-run with --install-deps"
  fi
}

if [ "$INSTALL_DEPS" = 1 ] && [ "$DRY_RUN" = 0 ] && [ "$(package_manager || true)" = apt-get ]; then
  apt-get update -q >/dev/null || say "apt-get update failed; trying with the package lists as they are"
fi
require ip iproute2 iproute
require arping iputils-arping iputils
require node nodejs nodejs

NODE_BIN=$(command -v node || echo /usr/bin/node)
if [ "$DRY_RUN" = 0 ] || command -v node >/dev/null 2>&1; then
  NODE_MAJOR=$("$NODE_BIN" -e 'process.stdout.write(process.versions.node.split(".")[0])' 2>/dev/null || echo 0)
  if [ "$NODE_MAJOR" -lt 18 ]; then
    die "Node.js 18 or newer is needed, $NODE_BIN is $("$NODE_BIN" --version 2>/dev/null || echo unknown): install a newer nodejs package (or NodeSource's), then re-run"
  fi
fi

if command -v curl >/dev/null 2>&1; then
  fetch() { curl -fsSL --retry 2 -o "$2" "$1"; }
elif command -v wget >/dev/null 2>&1; then
  fetch() { wget -q -O "$2" "$1"; }
else
  die "neither curl nor wget is here: install one of them, then re-run"
fi

if command -v sha256sum >/dev/null 2>&1; then
  sha256() { sha256sum "$1" | cut -d' ' -f1; }
elif command -v shasum >/dev/null 2>&1; then
  sha256() { shasum -a 256 "$1" | cut -d' ' -f1; }
else
  die "sha256sum is missing (coreutils): install it, then re-run"
fi

# ---- download and verify ----------------------------------------------------------------

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM

if [ -z "$VERSION" ]; then
  fetch "$URL/agent/VERSION" "$TMP/VERSION" || die "cannot reach $URL/agent/VERSION: is --url the control plane, and can this host reach it?"
  VERSION=$(tr -d ' \r\n' <"$TMP/VERSION")
fi
case "$VERSION" in
  *[!0-9A-Za-z.+-]* | "") die "the control plane sent an unexpected agent version: '$VERSION'" ;;
esac
say "agent $VERSION from $URL"
fetch "$URL/agent/$VERSION/vigil-agent.js" "$TMP/vigil-agent.js" || die "cannot download $URL/agent/$VERSION/vigil-agent.js"
fetch "$URL/agent/$VERSION/vigil-agent.js.sha256" "$TMP/vigil-agent.js.sha256" || die "cannot download the checksum $URL/agent/$VERSION/vigil-agent.js.sha256"
EXPECTED=$(cut -d' ' -f1 <"$TMP/vigil-agent.js.sha256")
ACTUAL=$(sha256 "$TMP/vigil-agent.js")
if [ -z "$EXPECTED" ] || [ "$EXPECTED" != "$ACTUAL" ]; then
  die "checksum mismatch for vigil-agent.js (expected ${EXPECTED:-nothing}, got $ACTUAL): nothing was installed; check what sits between this host and $URL"
fi
say "checksum ok ($ACTUAL)"

# The checksum comes from the same server; the signature is checked against a key that does not.
PINNED_KEY_FILE="$ETC_DIR/release-key"
PINNED_KEY=""
if [ -f "$PINNED_KEY_FILE" ]; then PINNED_KEY=$(tr -d ' \r\n' <"$PINNED_KEY_FILE"); fi
if [ -n "$PINNED_KEY" ] && [ -n "$RELEASE_KEY" ] && [ "$PINNED_KEY" != "$RELEASE_KEY" ]; then
  die "--release-key differs from the key this host pinned ($PINNED_KEY in $PINNED_KEY_FILE): nothing was installed. If the release key really changed, remove that file and run again with the new key"
fi
[ -n "$RELEASE_KEY" ] || RELEASE_KEY=$PINNED_KEY
[ -n "$RELEASE_KEY" ] || usage "--release-key is required: the key releases are signed with, from your own records or the operator CLI (vigil release-key), not from this server"
fetch "$URL/agent/$VERSION/vigil-agent.js.sig" "$TMP/vigil-agent.js.sig" || die "cannot download the signature $URL/agent/$VERSION/vigil-agent.js.sig"
if ! "$NODE_BIN" -e '
const crypto = require("crypto"), fs = require("fs");
const [file, sig, key] = process.argv.slice(1);
const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), Buffer.from(key, "base64url")]);
const ok = crypto.verify(null, fs.readFileSync(file), crypto.createPublicKey({ key: spki, format: "der", type: "spki" }),
  Buffer.from(fs.readFileSync(sig, "utf8").trim(), "base64"));
process.exit(ok ? 0 : 1);' "$TMP/vigil-agent.js" "$TMP/vigil-agent.js.sig" "$RELEASE_KEY" 2>/dev/null; then
  die "the signature of vigil-agent.js does not verify with release key $RELEASE_KEY: nothing was installed; the server or the path may have been tampered with"
fi
say "signature ok (release key $RELEASE_KEY)"

# ---- install ----------------------------------------------------------------------------

PREVIOUS=""
if [ -f "$OPT_DIR/VERSION" ]; then PREVIOUS=$(cat "$OPT_DIR/VERSION"); fi
if [ -n "$PREVIOUS" ]; then say "upgrading $PREVIOUS -> $VERSION (the node's key is kept)"; fi

act mkdir -p "$OPT_DIR" "$(dirname "$BIN")"
act mkdir -p -m 0700 "$ETC_DIR" "$STATE_DIR"
act chmod 0700 "$ETC_DIR" "$STATE_DIR"
if [ "$DRY_RUN" = 0 ]; then
  printf '%s\n' "$RELEASE_KEY" >"$PINNED_KEY_FILE"
  chmod 0644 "$PINNED_KEY_FILE"
else
  printf 'would write: %s\n' "$PINNED_KEY_FILE"
fi
act install -m 0644 "$TMP/vigil-agent.js" "$BUNDLE.new"
act mv -f "$BUNDLE.new" "$BUNDLE"
if [ "$DRY_RUN" = 0 ]; then
  printf '%s\n' "$VERSION" >"$OPT_DIR/VERSION"
  cat >"$BIN.new" <<EOF
#!/bin/sh
exec "$NODE_BIN" "$BUNDLE" "\$@"
EOF
  chmod 0755 "$BIN.new"
  mv -f "$BIN.new" "$BIN"
else
  printf 'would write: %s and %s\n' "$OPT_DIR/VERSION" "$BIN"
fi

if [ -f "$STATE_DIR/identity.json" ]; then
  say "already enrolled: keeping the key in $STATE_DIR"
elif [ -z "$TOKEN" ]; then
  die "not enrolled yet and no token: mint one (POST /v1/clusters/CLUSTER/enrollment-tokens {\"node\":\"$NODE_NAME\"}) and pass --token"
else
  say "enrolling as $NODE_NAME"
  if [ "$DRY_RUN" = 1 ]; then
    printf 'would run: %s enroll --url %s --node %s --config %s --state-dir %s (token from the environment)\n' \
      "$BIN" "$URL" "$NODE_NAME" "$CONFIG" "$STATE_DIR"
  else
    # The token goes through the environment, not argv, so ps does not show it.
    VIGIL_ENROLL_TOKEN=$TOKEN "$NODE_BIN" "$BUNDLE" enroll --url "$URL" --node "$NODE_NAME" \
      --config "$CONFIG" --state-dir "$STATE_DIR" || die "enrollment failed (see above); nothing else was changed since the last install"
    if [ -n "$TOKEN_FILE" ]; then say "the token in $TOKEN_FILE is spent: you may delete the file"; fi
  fi
fi
if [ "$DRY_RUN" = 0 ]; then
  [ -f "$CONFIG" ] || die "$CONFIG is missing: enroll again after an admin resets the node"
  chmod 0600 "$CONFIG"
  "$NODE_BIN" "$BUNDLE" check-config --config "$CONFIG" >/dev/null || die "$CONFIG does not validate (see above)"
fi

HAPROXY_DIR=$(dirname "$HAPROXY_SOCKET")
if [ "$DRY_RUN" = 0 ]; then
  mkdir -p "$(dirname "$UNIT")"
  cat >"$UNIT.new" <<EOF
# Written by Vigil's install.sh; re-running it rewrites this file.
[Unit]
Description=Vigil agent: VIP leases, IPVS and HAProxy on signed orders
Documentation=$URL/v1/openapi.json
Wants=network-online.target
After=network-online.target

[Service]
Type=simple
ExecStart=$NODE_BIN $BUNDLE run --config $CONFIG
Restart=on-failure
RestartSec=2
KillMode=mixed
TimeoutStopSec=15
CapabilityBoundingSet=CAP_NET_ADMIN CAP_NET_RAW
NoNewPrivileges=yes
ProtectSystem=strict
ProtectHome=yes
PrivateTmp=yes
ProtectKernelModules=yes
ProtectControlGroups=yes
RestrictSUIDSGID=yes
LockPersonality=yes
ReadWritePaths=$STATE_DIR
ReadWritePaths=-$HAPROXY_DIR

[Install]
WantedBy=multi-user.target
EOF
  mv -f "$UNIT.new" "$UNIT"
else
  printf 'would write: %s\n' "$UNIT"
fi

if ! systemd_running; then
  if [ -n "$ROOT" ]; then
    say "installed under $ROOT; systemd was not touched"
  else
    say "systemd is not running here: the agent is installed and enrolled, but not started."
    say "start it under your init system with: $BIN run --config $CONFIG"
  fi
elif [ "$START" = 0 ]; then
  act systemctl daemon-reload
  say "installed; start it with: systemctl enable --now vigil-agent"
else
  act systemctl daemon-reload
  act systemctl enable vigil-agent.service
  act systemctl restart vigil-agent.service
  if [ "$DRY_RUN" = 0 ] && ! systemctl is-active --quiet vigil-agent.service; then
    die "vigil-agent did not stay up: see journalctl -u vigil-agent"
  fi
  say "vigil-agent $VERSION is running (journalctl -u vigil-agent -f)"
fi
say "firewall: let the other directors of this node's VIP groups reach UDP 7441 here (peer lease promises)"
say "done: node $NODE_NAME, agent $VERSION"
