#!/bin/sh
# Install what the test suite uses (Debian/Ubuntu, as root).  The runtime
# itself needs only python3; everything else here is a test oracle or peer
# (Podman and its runtime for the end-to-end tests, make/pip for the install tests).
# Services these packages ship (firewalld, dnsmasq, dbus) must not start on the
# host: the tests start private instances inside their own namespaces.
set -eu
export DEBIAN_FRONTEND=noninteractive
guard=/usr/sbin/policy-rc.d
placed=0
if [ ! -e "$guard" ]; then
    printf '#!/bin/sh\nexit 101\n' > "$guard"
    chmod +x "$guard"
    placed=1
fi
cleanup() { if [ "$placed" = 1 ]; then rm -f "$guard"; fi; }
trap cleanup EXIT
apt-get update -q
apt-get install -y -q --no-install-recommends \
    python3 python3-pytest python3-hypothesis \
    iproute2 nftables iptables procps util-linux kmod strace \
    iputils-ping bind9-dnsutils dnsmasq-base aardvark-dns \
    dbus firewalld python3-grpcio curl \
    podman conmon runc busybox-static uidmap slirp4netns catatonit \
    make python3-pip python3-setuptools python3-wheel python3-venv
