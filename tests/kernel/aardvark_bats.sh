#!/bin/sh
# Run aardvark-dns's own integration tests (test/*.bats of containers/aardvark-dns)
# against the built-in DNS server, driven by this checkout's netavark.
#
# usage: tests/kernel/aardvark_bats.sh GITDIR [BATS_FILE...]
#   GITDIR: a git clone or bare mirror of containers/aardvark-dns
# Needs root, bats, jq, dig, dnsmasq and socat.  Everything runs in a private PID
# namespace, so every process the tests start dies with it.  The firewall driver
# is "none": these tests check DNS only.
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
gitdir=$1
shift
work=$(mktemp -d /var/tmp/aardvark-bats.XXXXXX)
trap 'rm -rf "$work"' EXIT
git --git-dir="$gitdir" archive HEAD test | tar -x -C "$work"
cat > "$work/netavark" <<EOS
#!/bin/sh
NETAVARK_FW=none exec "$root/bin/netavark" "\$@"
EOS
chmod +x "$work/netavark"
cd "$work"
[ $# -gt 0 ] || set -- test/*.bats
NETAVARK="$work/netavark" AARDVARK="$root/bin/aardvark-dns" \
    unshare --pid --fork --kill-child --mount-proc bats "$@"
