"""Containers resolving each other through aardvark-dns and through the built-in server.

Every test builds its own "host" namespace with bridges (``ip``), "container"
namespaces on veth pairs, writes the DNS config with netavark's Aardvark API
(``dns_driver.py``, run inside the host namespace) and asks with ``dig`` from
the containers.  Upstream resolvers are dnsmasq instances on loopback
addresses of the host namespace; the host's ``/etc/resolv.conf`` is replaced
by a private bind mount for the server.  Each test runs once with Debian's
aardvark-dns and once with the built-in server.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import time

import pytest

from tests.conftest import ROOT
from tests.dns_procs import kill_dns_server
from tests.kernel.conftest import PYTHON, Netns

AARDVARK = "/usr/lib/podman/aardvark-dns"
DRIVER = os.path.join(ROOT, "tests", "kernel", "dns_driver.py")
EXTERNAL = "external.example"


def aardvark_version() -> tuple[int, ...]:
    out = subprocess.run([AARDVARK, "version"], capture_output=True, text=True).stdout
    return tuple(int(x) for x in json.loads(out)["version"].split("-")[0].split("."))


@pytest.fixture(params=["aardvark", "builtin"])
def server(request) -> str:
    if request.param == "aardvark" and not os.access(AARDVARK, os.X_OK):
        pytest.skip(f"aardvark-dns is not installed at {AARDVARK}")
    for tool in ("dig", "dnsmasq", "nsenter", "unshare"):
        if shutil.which(tool) is None:
            pytest.skip(f"{tool} is not installed")
    return AARDVARK if request.param == "aardvark" else "builtin"


class Lab:
    def __init__(self, netns_factory, tmp_path, server: str) -> None:
        self.factory = netns_factory
        self.server = server
        self.host = netns_factory("dnsh")
        self.dir = str(tmp_path / "config" / "aardvark-dns")
        os.makedirs(self.dir)
        self.resolv = tmp_path / "resolv.conf"
        self.resolv.write_text("nameserver 127.0.0.53\n")
        self.stubs: list[subprocess.Popen] = []
        self.seen_pids: set[int] = set()
        self.veths = 0
        # Debian 12 ships aardvark-dns 1.4.  Later versions added: no forwarding for
        # internal-only containers (1.11), DNS over TCP and failing the start when a
        # listener cannot bind (1.12), and strict network isolation (1.13: before, a
        # name missing on the client's networks was looked up on the network of the
        # gateway asked).  The built-in server does all of it.
        version = (99,) if server == "builtin" else aardvark_version()
        self.internal_nxdomain = version >= (1, 11)
        self.tcp = self.bind_errors = version >= (1, 12)
        self.isolated = version >= (1, 13)

    # -- topology ----------------------------------------------------------
    def bridge(self, name: str, v4: str, v6: str | None = None) -> None:
        h = self.host
        h.run("ip", "link", "add", name, "type", "bridge")
        h.run("ip", "link", "set", name, "up")
        h.run("ip", "addr", "add", v4, "dev", name)
        if v6:
            h.run("ip", "addr", "add", v6, "dev", name, "nodad")

    def container(self, bridge: str, v4: str, gw4: str, v6: str | None = None,
                  gw6: str | None = None) -> Netns:
        ns = self.factory("dnsc")
        self.veths += 1
        veth = f"vd{self.veths}"
        self.host.run("ip", "link", "add", veth, "type", "veth", "peer", "name", "eth0",
                      "netns", ns.name)
        self.host.run("ip", "link", "set", veth, "master", bridge, "up")
        ns.run("ip", "addr", "add", v4, "dev", "eth0")
        if v6:
            ns.run("ip", "addr", "add", v6, "dev", "eth0", "nodad")
        ns.run("ip", "link", "set", "eth0", "up")
        ns.run("ip", "route", "add", "default", "via", gw4)
        if gw6:
            ns.run("ip", "-6", "route", "add", "default", "via", gw6)
        return ns

    def stub(self, ip: str, answer: str) -> None:
        """A dnsmasq upstream on ``ip``:53 that knows only ``external.example``."""
        self.host.run("ip", "addr", "add", f"{ip}/32", "dev", "lo")
        proc = subprocess.Popen(
            ["ip", "netns", "exec", self.host.name, "dnsmasq", "--keep-in-foreground",
             "--conf-file=/dev/null", "--no-resolv", "--no-hosts", "--bind-interfaces",
             f"--listen-address={ip}", "--port=53", "--pid-file=", "--user=root",
             f"--address=/{EXTERNAL}/{answer}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.stubs.append(proc)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            out = self.host.run("dig", "+short", "+time=1", "+tries=1", f"@{ip}", EXTERNAL,
                                check=False).stdout.strip()
            if out == answer:
                return
            time.sleep(0.05)
        raise AssertionError(f"dnsmasq on {ip} did not come up")

    # -- netavark's DNS step -------------------------------------------------
    def netavark(self, op: str, payload: list, port: int = 53) -> subprocess.CompletedProcess:
        cmd = ["nsenter", f"--net={self.host.path}", "unshare", "--mount", "--propagation",
               "private", "sh", "-c", 'mount --bind "$0" /etc/resolv.conf && exec "$@"',
               str(self.resolv), PYTHON, DRIVER, op, self.dir, self.server, str(port),
               json.dumps(payload)]
        res = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
        pid = self.pid()
        if pid:
            self.seen_pids.add(pid)
        return res

    def commit(self, *entries: dict, port: int = 53) -> None:
        res = self.netavark("commit", list(entries), port)
        assert res.returncode == 0, (res.stdout, res.stderr)

    def delete(self, *entries: dict) -> subprocess.CompletedProcess:
        return self.netavark("delete", list(entries))

    def pid(self) -> int | None:
        try:
            with open(os.path.join(self.dir, "aardvark.pid")) as f:
                return int(f.read())
        except (OSError, ValueError):
            return None

    def cleanup(self) -> None:
        for pid in self.seen_pids:
            kill_dns_server(pid)
        for proc in self.stubs:
            proc.kill()
            proc.wait()


@pytest.fixture
def lab(netns_factory, tmp_path, server):
    lab = Lab(netns_factory, tmp_path, server)
    yield lab
    lab.cleanup()


def dig(ns: Netns, *args: str) -> list[str]:
    res = ns.run("dig", "+short", "+time=2", "+tries=1", *args, check=False)
    return res.stdout.split()


def status(ns: Netns, *args: str) -> str:
    out = ns.run("dig", "+time=2", "+tries=1", *args, check=False).stdout
    m = re.search(r"status: (\w+)", out)
    return m.group(1) if m else out


def entry(network: str, gw: list[str], cid: str, names: list[str], v4: list[str],
          v6: list[str] | None = None, **kw) -> dict:
    return {"network": network, "gateways": gw, "id": cid, "names": names, "v4": v4,
            "v6": v6 or [], **kw}


GW = ["10.89.7.1", "fd10:89:7::1"]


def two_containers(lab: Lab) -> tuple[Netns, Netns, dict, dict]:
    lab.bridge("brdns", "10.89.7.1/24", "fd10:89:7::1/64")
    c1 = lab.container("brdns", "10.89.7.2/24", "10.89.7.1", "fd10:89:7::2/64", "fd10:89:7::1")
    c2 = lab.container("brdns", "10.89.7.3/24", "10.89.7.1", "fd10:89:7::3/64", "fd10:89:7::1")
    e1 = entry("netdns", GW, "a" * 64, ["one", "alias-one"], ["10.89.7.2"], ["fd10:89:7::2"])
    e2 = entry("netdns", GW, "b" * 64, ["two"], ["10.89.7.3"], ["fd10:89:7::3"])
    lab.commit(e1)
    pid = lab.pid()
    lab.commit(e2)
    assert lab.pid() == pid  # second container: SIGHUP, no new server
    return c1, c2, e1, e2


def test_containers_resolve_names_aliases_and_reverse(lab):
    c1, c2, _, _ = two_containers(lab)
    assert dig(c1, "@10.89.7.1", "two") == ["10.89.7.3"]
    assert dig(c1, "@10.89.7.1", "two.dns.podman") == ["10.89.7.3"]
    assert dig(c1, "@10.89.7.1", "TWO") == ["10.89.7.3"]
    assert dig(c2, "@10.89.7.1", "alias-one") == ["10.89.7.2"]
    assert dig(c2, "@fd10:89:7::1", "one", "AAAA") == ["fd10:89:7::2"]
    assert dig(c2, "@fd10:89:7::1", "one.dns.podman", "A") == ["10.89.7.2"]
    if lab.tcp:
        assert dig(c1, "@10.89.7.1", "+tcp", "two", "AAAA") == ["fd10:89:7::3"]
    assert sorted(dig(c2, "@10.89.7.1", "-x", "10.89.7.2")) == ["alias-one.", "one."]
    assert dig(c1, "@10.89.7.1", "-x", "fd10:89:7::3") == ["two."]
    assert status(c1, "@10.89.7.1", "nothere.dns.podman") == "NXDOMAIN"
    # the server runs as netavark started it
    with open(f"/proc/{lab.pid()}/cmdline", "rb") as f:
        cmdline = f.read().replace(b"\0", b" ").decode()
    assert re.search(f".*aardvark-dns --config {lab.dir} -p 53 run", cmdline), cmdline


def test_builtin_answers_with_ttl_0(lab):
    if lab.server != "builtin":
        pytest.skip("aardvark-dns 1.4.0 answers with TTL 86400; 2.x and ours with 0")
    c1, _, _, _ = two_containers(lab)
    out = c1.run("dig", "+noall", "+answer", "@10.89.7.1", "two.dns.podman").stdout
    assert out.split()[1] == "0"


def test_forwarding_to_upstream_resolvers(lab):
    lab.stub("127.0.0.53", "198.51.100.53")
    lab.stub("127.0.0.54", "198.51.100.54")
    lab.stub("127.0.0.55", "198.51.100.55")
    lab.bridge("brfw", "10.89.9.1/24")
    c1 = lab.container("brfw", "10.89.9.2/24", "10.89.9.1")
    c2 = lab.container("brfw", "10.89.9.3/24", "10.89.9.1")
    lab.bridge("brhost", "10.89.10.1/24")
    c3 = lab.container("brhost", "10.89.10.2/24", "10.89.10.1")
    lab.commit(entry("fw", ["10.89.9.1"], "c" * 64, ["fw1"], ["10.89.9.2"],
                     network_dns=["127.0.0.54"]),
               entry("hostres", ["10.89.10.1"], "e" * 64, ["h1"], ["10.89.10.2"]))
    lab.commit(entry("fw", ["10.89.9.1"], "d" * 64, ["fw2"], ["10.89.9.3"],
                     network_dns=["127.0.0.54"], dns=["127.0.0.55"]))
    # network DNS servers, then the container's own, then the host's resolv.conf
    assert dig(c1, "@10.89.9.1", EXTERNAL) == ["198.51.100.54"]
    assert dig(c2, "@10.89.9.1", EXTERNAL) == ["198.51.100.55"]
    assert dig(c3, "@10.89.10.1", EXTERNAL) == ["198.51.100.53"]
    if lab.tcp:
        assert dig(c1, "@10.89.9.1", "+tcp", EXTERNAL) == ["198.51.100.54"]
    assert dig(c1, "@10.89.9.1", "fw2") == ["10.89.9.3"]
    # netavark update changes the network servers; the server picks them up on SIGHUP
    res = lab.netavark("update", ["fw", ["127.0.0.53"]])
    assert res.returncode == 0, res.stdout
    deadline = time.monotonic() + 5
    while dig(c1, "@10.89.9.1", EXTERNAL) != ["198.51.100.53"]:
        assert time.monotonic() < deadline, "update not picked up"
        time.sleep(0.1)


def test_isolation_and_internal_networks(lab):
    lab.stub("127.0.0.53", "198.51.100.53")
    c1, _, _, _ = two_containers(lab)
    lab.bridge("brother", "10.89.8.1/24")
    c3 = lab.container("brother", "10.89.8.2/24", "10.89.8.1")
    lab.bridge("brint", "10.89.11.1/24")
    c4 = lab.container("brint", "10.89.11.2/24", "10.89.11.1")
    lab.commit(entry("other", ["10.89.8.1"], "f" * 64, ["three"], ["10.89.8.2"]))
    lab.commit(entry("internal", ["10.89.11.1"], "9" * 64, ["four"], ["10.89.11.2"],
                     internal=True))
    assert os.path.exists(os.path.join(lab.dir, "internal%int"))
    # other networks' names stay invisible, whichever gateway is asked
    assert status(c1, "@10.89.7.1", "three.dns.podman") == "NXDOMAIN"
    if lab.isolated:
        assert status(c1, "@10.89.8.1", "three.dns.podman") == "NXDOMAIN"
    assert dig(c3, "@10.89.8.1", "three") == ["10.89.8.2"]
    assert status(c3, "@10.89.8.1", "one.dns.podman") == "NXDOMAIN"
    # internal-only containers: local names work, nothing is forwarded
    assert dig(c4, "@10.89.11.1", "four") == ["10.89.11.2"]
    if lab.internal_nxdomain:
        assert status(c4, "@10.89.11.1", EXTERNAL) == "NXDOMAIN"
    assert dig(c1, "@10.89.7.1", EXTERNAL) == ["198.51.100.53"]


def test_teardown_removes_entries_and_server_exits(lab):
    c1, _, e1, e2 = two_containers(lab)
    pid = lab.pid()
    res = lab.delete(e2)
    assert res.returncode == 0, res.stdout
    with open(os.path.join(lab.dir, "netdns")) as f:
        assert f.read() == f"10.89.7.1,fd10:89:7::1\n{'a' * 64} 10.89.7.2 fd10:89:7::2 " \
                           "one,alias-one\n"
    deadline = time.monotonic() + 5
    while dig(c1, "@10.89.7.1", "two") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert status(c1, "@10.89.7.1", "two.dns.podman") == "NXDOMAIN"
    res = lab.delete(e1)
    assert res.returncode == 0, res.stdout
    assert os.listdir(lab.dir) in ([], ["aardvark.pid"])
    deadline = time.monotonic() + 5
    while os.path.exists(f"/proc/{pid}") and time.monotonic() < deadline:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().split(") ")[1].startswith("Z"):
                break  # exited, waiting to be reaped by init
        time.sleep(0.05)
    else:
        assert not os.path.exists(f"/proc/{pid}"), "server still running"
    assert not os.path.exists(os.path.join(lab.dir, "aardvark.pid"))


def test_failed_start_is_rolled_back(lab):
    if not lab.bind_errors:
        pytest.skip("this aardvark-dns reports ready before it binds (fixed in 1.12)")
    lab.bridge("brdns", "10.89.7.1/24")
    # something else already listens on the gateway's DNS port
    blocker = subprocess.Popen(["ip", "netns", "exec", lab.host.name, PYTHON, "-c",
                                "import socket,time\n"
                                "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
                                "s.bind(('10.89.7.1',53)); print('ok',flush=True)\n"
                                "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert blocker.stdout.readline().strip() == "ok"
        res = lab.netavark("commit", [entry("netdns", ["10.89.7.1"], "a" * 64, ["one"],
                                            ["10.89.7.2"])])
    finally:
        blocker.kill()
        blocker.wait()
    assert res.returncode == 1
    assert res.stdout.startswith("aardvark-dns failed to start: ")
    assert "10.89.7.1:53" in res.stdout
    # the entries are gone again; aardvark-dns leaves its pid file behind, ours not
    assert os.listdir(lab.dir) == ([] if lab.server == "builtin" else ["aardvark.pid"])


# ---------------------------------------------------------------------------
# through netavark's own setup and teardown (bridge driver, firewall driver none)

UPSTREAM_FILES = os.path.join(ROOT, "tests", "data", "upstream", "test", "testfiles")


@pytest.mark.parametrize("which", ["aardvark", "builtin", "auto"])
def test_setup_and_teardown_end_to_end(netavark, container, which):
    if which == "aardvark" and not os.access(AARDVARK, os.X_OK):
        pytest.skip(f"aardvark-dns is not installed at {AARDVARK}")
    with open(os.path.join(UPSTREAM_FILES, "dualstack-bridge.json")) as f:
        doc = json.load(f)
    # auto: the default aardvark-dns path does not exist here, so the built-in server
    # is used; aardvark: Debian's aardvark-dns given like Podman gives it
    args = ["--aardvark-binary", AARDVARK] if which == "aardvark" else \
        ["--aardvark-binary", "/nonexistent/aardvark-dns"]
    env = {"NETAVARK_FW": "none"}
    if which != "auto":
        env["NETAVARK_DNS_SERVER"] = which
    adir = os.path.join(netavark.config_dir, "aardvark-dns")
    res = netavark(*args, "setup", container.path, input=doc, env=env)
    assert res.returncode == 0, (res.stdout, res.stderr)
    out = json.loads(res.stdout)
    assert out["podman1"]["dns_server_ips"] == ["10.89.3.1", "fd10:88:a::1"]
    with open(os.path.join(adir, "aardvark.pid")) as f:
        pid = int(f.read())
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\0", b" ").decode()
        assert re.search(f"aardvark-dns --config {adir} -p 53 run", cmdline), cmdline
        assert (AARDVARK in cmdline) == (which == "aardvark")
        assert dig(container, "@10.89.3.1", "somename") == ["10.89.3.2"]
        assert dig(container, "@fd10:88:a::1", "somename.dns.podman", "AAAA") == \
            ["fd10:88:a::2"]
        res = netavark(*args, "teardown", container.path, input=doc, env=env)
        assert res.returncode == 0, (res.stdout, res.stderr)
        assert not os.path.exists(os.path.join(adir, "podman1"))
        deadline = time.monotonic() + 5
        while os.path.exists(os.path.join(adir, "aardvark.pid")):
            assert time.monotonic() < deadline, "server did not stop"
            time.sleep(0.05)
    finally:
        kill_dns_server(pid)
