#!/bin/sh
# Install what the test suite uses (Debian/Ubuntu, as root).  The runtime
# itself needs only python3; everything else here is a test oracle or peer.
set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends \
    python3 python3-pytest python3-hypothesis \
    iproute2 nftables iptables procps util-linux kmod strace \
    iputils-ping bind9-dnsutils dnsmasq-base aardvark-dns \
    dbus firewalld python3-grpcio
