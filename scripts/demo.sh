#!/bin/sh
# netavark-py demo (root): a "container" on a bridge network with a published
# port and DNS, shown working, then torn down.
#
# Everything happens inside two private network namespaces this script creates
# ("host" and "container"), so the machine's own interfaces, routes and firewall
# are never touched.  Needs python3 and iproute2 (for `ip netns`); nothing else.
set -eu

HERE=$(cd "$(dirname "$0")/.." && pwd)
NETAVARK="$HERE/bin/netavark"
PY=/usr/bin/python3
HOST="nvdemo-host-$$"
CTR="nvdemo-ctr-$$"
CFG=$(mktemp -d)
WEB_PID=""

cleanup() {
    [ -n "$WEB_PID" ] && kill "$WEB_PID" 2>/dev/null || true
    # stop the DNS server netavark started for the demo network, if still running
    if [ -s "$CFG/aardvark-dns/aardvark.pid" ]; then
        kill "$(cat "$CFG/aardvark-dns/aardvark.pid")" 2>/dev/null || true
    fi
    ip netns del "$CTR" 2>/dev/null || true
    ip netns del "$HOST" 2>/dev/null || true
    rm -rf "$CFG"
}
trap cleanup EXIT INT TERM

in_host() { ip netns exec "$HOST" "$@"; }
in_ctr() { ip netns exec "$CTR" "$@"; }
step() { printf '\n== %s\n' "$*"; }

step "create the namespaces: $HOST (plays the host) and $CTR (the container)"
ip netns add "$HOST"
ip netns add "$CTR"
in_host ip link set lo up

cat >"$CFG/net.json" <<'EOF'
{
  "container_id": "d3m0c0ffee0000000000000000000000000000000000000000000000000000aa",
  "container_name": "web",
  "port_mappings": [
    {"host_ip": "", "container_port": 80, "host_port": 8080, "range": 1, "protocol": "tcp"}
  ],
  "networks": {
    "demo": {"interface_name": "eth0", "static_ips": ["10.89.7.2"], "aliases": ["www"]}
  },
  "network_info": {
    "demo": {
      "name": "demo",
      "id": "7d3e6f0a1b2c3d4e5f60718293a4b5c6d7e8f90112233445566778899aabbcc",
      "driver": "bridge",
      "network_interface": "podman7",
      "subnets": [{"subnet": "10.89.7.0/24", "gateway": "10.89.7.1"}],
      "ipv6_enabled": false,
      "internal": false,
      "dns_enabled": true,
      "ipam_options": {"driver": "host-local"}
    }
  }
}
EOF

step "netavark setup (stdin: the JSON Podman would send)"
export DBUS_SYSTEM_BUS_ADDRESS=
in_host "$NETAVARK" --config "$CFG" --rootless=false -f "$CFG/net.json" setup "/run/netns/$CTR"

step "the container's interface and routes"
in_ctr ip -br addr show eth0
in_ctr ip route

step "a web server in the container, reached through the published port 8080"
mkdir -p "$CFG/www"
echo "hello from the container" >"$CFG/www/index.html"
in_ctr "$PY" -m http.server 80 --bind 10.89.7.2 --directory "$CFG/www" >/dev/null 2>&1 &
WEB_PID=$!
"$PY" - "$HOST" <<'EOF'
import subprocess, sys, time
for _ in range(50):
    r = subprocess.run(["ip", "netns", "exec", sys.argv[1], "/usr/bin/python3", "-c",
                        "import urllib.request;"
                        "print(urllib.request.urlopen('http://127.0.0.1:8080/',"
                        " timeout=2).read().decode().strip())"],
                       capture_output=True, text=True)
    if r.returncode == 0:
        print(f"host -> 127.0.0.1:8080 -> container:80 says: {r.stdout.strip()}")
        break
    time.sleep(0.1)
else:
    sys.exit("the published port did not answer: " + r.stderr)
EOF

step "the nftables rules netavark created (read back from the kernel)"
if command -v nft >/dev/null 2>&1; then
    in_host nft list chain inet netavark NETAVARK-HOSTPORT-DNAT
else
    echo "(install nftables to see them with 'nft list ruleset')"
fi

step "container DNS: names resolved by the DNS server on the gateway 10.89.7.1"
if [ -s "$CFG/aardvark-dns/aardvark.pid" ]; then
    printf 'DNS server process: '
    tr '\0' ' ' <"/proc/$(cat "$CFG/aardvark-dns/aardvark.pid")/cmdline"
    echo
fi
in_ctr "$PY" - <<'EOF'
import random, socket, struct

def query(name):
    qid = random.randrange(65536)
    q = struct.pack(">HHHHHH", qid, 0x0100, 1, 0, 0, 0)
    q += b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\0"
    q += struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    for _ in range(20):
        try:
            s.sendto(q, ("10.89.7.1", 53))
            data = s.recv(512)
            break
        except OSError:
            pass
    else:
        raise SystemExit(f"no DNS answer for {name}")
    # the answer's last 4 bytes hold the A record of a one-answer reply
    return socket.inet_ntoa(data[-4:]) if struct.unpack(">H", data[6:8])[0] else "NXDOMAIN"

for name in ("web", "www", "web.dns.podman"):
    print(f"{name:16} -> {query(name)}")
EOF

step "netavark teardown"
in_host "$NETAVARK" --config "$CFG" --rootless=false -f "$CFG/net.json" teardown "/run/netns/$CTR"
kill "$WEB_PID" 2>/dev/null || true
WEB_PID=""

step "after teardown: only loopback is left in the host namespace"
in_host ip -br link
if command -v nft >/dev/null 2>&1; then
    echo "rules mentioning the demo subnet: $(in_host nft list ruleset | grep -c 10.89.7 || true)"
fi
echo
echo "demo finished"
