"""A real Podman, with netavark-py as its ``netavark``, shut inside namespaces the test owns.

Layout of one :class:`Sandbox`:

* a network namespace ``<prefix>-h`` that plays the machine Podman runs on (its
  bridges, veths, nftables table, aardvark-dns) and ``<prefix>-c``, a second
  machine wired to it by a veth pair (``ext0`` 198.51.100.1/24, 2001:db8:51::1/64
  on the host side; ``eth0`` .2 / ::2 with default routes on the client side);
* a private mount namespace, held open by a ``sleep`` process (the *holder*),
  with fresh tmpfs on ``/run`` (Podman's netns bind mounts, ``/run/containers/networks``,
  ``/run/libpod``, runc state, sysctl.d), ``/dev/shm`` (Podman's locks) and
  ``/var/lib`` (the image blob cache), a sysfs of the test host namespace, and
  the real cgroup hierarchy;
* Podman configured only through files in the sandbox directory
  (``CONTAINERS_CONF``, ``CONTAINERS_STORAGE_CONF``, ``CONTAINERS_REGISTRIES_CONF``),
  storage in the sandbox directory, and a helper directory whose ``netavark``
  runs this checkout.

Every ``podman`` command runs as ``nsenter -t <holder> --mount --net podman ...``,
so all commands of a test share one view of ``/run`` (Podman needs that between
``podman run`` and a later ``podman stop``).  Nothing reaches the real ``/run``,
``/etc/containers``, ``/var/lib/containers`` or the host's network namespace.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import tarfile
import time

from tests.conftest import LAUNCHER, ROOT
from tests.kernel.conftest import Netns, make_netns, remove_netns

PROBE = os.path.join(ROOT, "tests", "e2e", "probe.py")
IMAGE = "localhost/pe2e-busybox:latest"
PYTHON_IN_CTR = "/usr/bin/python3"  # the host's, through the read-only /usr mount

HOST_V4, CLIENT_V4 = "198.51.100.1", "198.51.100.2"
HOST_V6, CLIENT_V6 = "2001:db8:51::1", "2001:db8:51::2"

# chains that stay in `inet netavark` once every network is torn down, and the
# rules that stay with them: G1-G7 and the ISOLATION-3 jump
FIXED_CHAINS = {"INPUT", "FORWARD", "POSTROUTING", "PREROUTING", "OUTPUT",
                "NETAVARK-HOSTPORT-DNAT", "NETAVARK-HOSTPORT-SETMARK",
                "NETAVARK-ISOLATION-1", "NETAVARK-ISOLATION-2", "NETAVARK-ISOLATION-3"}
FIXED_RULE_COUNT = 8

_counter = itertools.count()

_HOLDER = r"""
set -e
cg="$1"
mount --rbind /sys/fs/cgroup "$cg"
mount -t sysfs sysfs /sys
mount --move "$cg" /sys/fs/cgroup
for d in /run /dev/shm /var/lib; do mount -t tmpfs -o mode=755 tmpfs "$d"; done
mkdir -m 1777 /run/lock
echo ready
exec sleep 100000
"""


def system_helper(name: str) -> str | None:
    """Where the distribution's Podman keeps helper ``name`` (aardvark-dns, ...)."""
    for d in ("/usr/local/libexec/podman", "/usr/local/lib/podman", "/usr/libexec/podman",
              "/usr/lib/podman"):
        path = os.path.join(d, name)
        if os.access(path, os.X_OK):
            return path
    return None


def is_static_elf(path: str) -> bool:
    """True for an ELF executable without a program interpreter (statically linked)."""
    import struct

    with open(path, "rb") as f:
        head = f.read(64)
        if head[:4] != b"\x7fELF" or head[4] != 2:
            return False
        phoff, = struct.unpack_from("<Q", head, 32)
        phentsize, phnum = struct.unpack_from("<HH", head, 54)
        f.seek(phoff)
        table = f.read(phentsize * phnum)
    return all(struct.unpack_from("<I", table, i * phentsize)[0] != 3  # PT_INTERP
               for i in range(phnum))


def build_image_tar(busybox: str, dest: str) -> None:
    """A root filesystem: static busybox with its applet links; /usr is left empty
    so tests can mount the host's /usr (python3 for the probes)."""
    applets = subprocess.run([busybox, "--list"], capture_output=True, text=True,
                             check=True).stdout.split()

    def entry(name: str, kind: bytes, mode: int, target: str = "") -> tarfile.TarInfo:
        ti = tarfile.TarInfo(name)
        ti.type, ti.mode, ti.linkname, ti.mtime = kind, mode, target, 0
        return ti

    with tarfile.open(dest, "w") as tar:
        for d, mode in (("bin", 0o755), ("etc", 0o755), ("usr", 0o755), ("srv", 0o755),
                        ("root", 0o700), ("tmp", 0o1777), ("proc", 0o555), ("sys", 0o555),
                        ("dev", 0o755), ("run", 0o755)):
            tar.addfile(entry(d, tarfile.DIRTYPE, mode))
        for link, target in (("lib", "usr/lib"), ("lib64", "usr/lib64")):
            tar.addfile(entry(link, tarfile.SYMTYPE, 0o777, target))
        with open(busybox, "rb") as f:
            ti = entry("bin/busybox", tarfile.REGTYPE, 0o755)
            ti.size = os.fstat(f.fileno()).st_size
            tar.addfile(ti, f)
        for a in applets:
            if a != "busybox" and "/" not in a:
                tar.addfile(entry(f"bin/{a}", tarfile.SYMTYPE, 0o777, "busybox"))
        for name, text in (("etc/passwd", "root:x:0:0:root:/root:/bin/sh\n"),
                           ("etc/group", "root:x:0:\n")):
            data = text.encode()
            ti = entry(name, tarfile.REGTYPE, 0o644)
            ti.size = len(data)
            import io
            tar.addfile(ti, io.BytesIO(data))


class PodmanError(AssertionError):
    pass


class Sandbox:
    """See the module docstring.  ``firewall_driver`` (None = netavark's default) is
    passed to netavark as ``NETAVARK_FW`` through containers.conf ``[engine] env``,
    which also reaches the ``podman container cleanup`` processes conmon starts.
    With ``log_calls``, the helper ``netavark`` is a wrapper that appends each
    argv to ``calls.log`` before running the launcher."""

    def __init__(self, workdir: str, image_tar: str, *, firewall_driver: str | None = None,
                 log_calls: bool = False) -> None:
        self.dir = workdir
        self.image_tar = image_tar
        self.firewall_driver = firewall_driver
        self.log_calls = log_calls
        self.prefix = f"pe2e-{os.getpid()}-{next(_counter)}"
        self.host: Netns | None = None
        self.client: Netns | None = None
        self.extra_ns: list[Netns] = []
        self.holder: subprocess.Popen | None = None
        self.servers: list[subprocess.Popen] = []
        self.calls_log = os.path.join(workdir, "calls.log")

    # ---- life cycle -------------------------------------------------------------------
    def start(self) -> Sandbox:
        self._write_config()
        self.host = make_netns(self.prefix + "-h")
        self.client = make_netns(self.prefix + "-c")
        run(["ip", "link", "add", "ext0", "netns", self.host.name, "type", "veth",
             "peer", "name", "eth0", "netns", self.client.name])
        self.host.run("ip", "addr", "add", f"{HOST_V4}/24", "dev", "ext0")
        self.host.run("ip", "addr", "add", f"{HOST_V6}/64", "dev", "ext0", "nodad")
        self.host.run("ip", "link", "set", "ext0", "up")
        self.client.run("ip", "addr", "add", f"{CLIENT_V4}/24", "dev", "eth0")
        self.client.run("ip", "addr", "add", f"{CLIENT_V6}/64", "dev", "eth0", "nodad")
        self.client.run("ip", "link", "set", "eth0", "up")
        self.client.run("ip", "route", "add", "default", "via", HOST_V4)
        self.client.run("ip", "-6", "route", "add", "default", "via", HOST_V6)
        cg = os.path.join(self.dir, "cgroup-move")
        os.mkdir(cg)
        self.holder = subprocess.Popen(
            ["nsenter", f"--net={self.host.path}", "unshare", "--mount", "--propagation",
             "private", "sh", "-c", _HOLDER, "sh", cg],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        assert self.holder.stdout is not None
        line = self.holder.stdout.readline()
        if line.strip() != "ready":
            err = self.holder.stderr.read() if self.holder.stderr else ""
            raise PodmanError(f"mount namespace holder failed: {line}{err}")
        self.podman("import", "--change", "ENV=PATH=/bin", "--change", 'CMD=["sh"]',
                    self.image_tar, IMAGE)
        return self

    def close(self) -> None:
        if self.holder is not None and self.holder.poll() is None:
            # let Podman stop its containers (teardown runs netavark), then make sure
            # nothing started in the sandbox survives it
            self.podman("rm", "-a", "-f", "-t", "0", check=False, timeout=120)
            self._kill_sandbox_processes()
            self.holder.kill()
            self.holder.wait()
            if self.holder.stdout:
                self.holder.stdout.close()
            if self.holder.stderr:
                self.holder.stderr.close()
        for server in self.servers:
            server.kill()
            server.wait()
        for ns in (*self.extra_ns, self.client, self.host):
            if ns is not None:
                remove_netns(ns)
        _remove_empty_cgroups("libpod_parent")

    def _kill_sandbox_processes(self) -> None:
        """SIGKILL every process in the holder's mount namespace and all their
        descendants (container processes live in namespaces of their own)."""
        assert self.holder is not None
        try:
            mnt = os.readlink(f"/proc/{self.holder.pid}/ns/mnt")
        except OSError:
            return
        children: dict[int, list[int]] = {}
        members = []
        for pid_s in os.listdir("/proc"):
            if not pid_s.isdigit():
                continue
            pid = int(pid_s)
            try:
                with open(f"/proc/{pid}/stat") as f:
                    ppid = int(f.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(pid)
                if pid != self.holder.pid and os.readlink(f"/proc/{pid}/ns/mnt") == mnt:
                    members.append(pid)
            except (OSError, ValueError, IndexError):
                continue
        todo, seen = list(members), set()
        while todo:
            pid = todo.pop()
            if pid in seen:
                continue
            seen.add(pid)
            todo.extend(children.get(pid, []))
        for pid in seen:
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    # ---- configuration ------------------------------------------------------------------
    def _write_config(self) -> None:
        d = self.dir
        self.helpers = os.path.join(d, "helpers")
        self.netconf = os.path.join(d, "networks")
        for sub in (self.helpers, self.netconf, os.path.join(d, "storage")):
            os.makedirs(sub, exist_ok=True)
        nv = os.path.join(self.helpers, "netavark")
        if self.log_calls:
            with open(nv, "w") as f:
                f.write(f"#!/bin/sh\nprintf '%s\\n' \"$*\" >> {self.calls_log}\n"
                        f"exec {LAUNCHER} \"$@\"\n")
            os.chmod(nv, 0o755)
        else:
            # bin/netavark finds its checkout through realpath, so a symlink is enough
            os.symlink(LAUNCHER, nv)
        for helper in ("aardvark-dns", "rootlessport", "catatonit"):
            path = system_helper(helper)
            if path:
                os.symlink(path, os.path.join(self.helpers, helper))
        env = [f"NETAVARK_FW={self.firewall_driver}"] if self.firewall_driver else []
        self.containers_conf = os.path.join(d, "containers.conf")
        with open(self.containers_conf, "w") as f:
            f.write(f"""\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
helper_binaries_dir = [{json.dumps(self.helpers)}]
env = {json.dumps(env)}

[network]
network_backend = "netavark"
network_config_dir = {json.dumps(self.netconf)}
""")
        self.storage_conf = os.path.join(d, "storage.conf")
        with open(self.storage_conf, "w") as f:
            f.write(f"""\
[storage]
driver = "overlay"
graphroot = {json.dumps(os.path.join(d, "storage", "root"))}
runroot = {json.dumps(os.path.join(d, "storage", "run"))}
""")
        self.registries_conf = os.path.join(d, "registries.conf")
        with open(self.registries_conf, "w") as f:
            f.write("unqualified-search-registries = []\n")

    def env(self) -> dict[str, str]:
        return {
            "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME": "/root",
            "CONTAINERS_CONF": self.containers_conf,
            "CONTAINERS_STORAGE_CONF": self.storage_conf,
            "CONTAINERS_REGISTRIES_CONF": self.registries_conf,
            "DBUS_SYSTEM_BUS_ADDRESS": "",
        }

    # ---- running things -------------------------------------------------------------------
    def in_host(self, *cmd: str, check: bool = True, timeout: float = 60,
                input: str | None = None) -> subprocess.CompletedProcess:
        """Run ``cmd`` in the sandbox (test host netns + private mounts)."""
        assert self.holder is not None
        res = subprocess.run(["nsenter", "-t", str(self.holder.pid), "--mount", "--net", *cmd],
                             capture_output=True, text=True, env=self.env(), timeout=timeout,
                             input=input)
        if check and res.returncode != 0:
            raise PodmanError(f"{' '.join(cmd)} failed ({res.returncode}):\n"
                              f"{res.stdout}{res.stderr}")
        return res

    def podman(self, *args: str, check: bool = True, timeout: float = 60,
               input: str | None = None) -> subprocess.CompletedProcess:
        return self.in_host("podman", *args, check=check, timeout=timeout, input=input)

    def network_create(self, name: str, *args: str) -> dict:
        self.podman("network", "create", *args, name)
        return self.network_inspect(name)

    def network_inspect(self, name: str) -> dict:
        return json.loads(self.podman("network", "inspect", name).stdout)[0]

    def serve(self, name: str, *opts: str, http: tuple[int, ...] = (80,),
              udp: tuple[int, ...] = ()) -> str:
        """Start container ``name`` (``opts`` = podman run options) running busybox httpd
        on the ``http`` ports, answering ``<name>:<port>``, and UDP echo servers
        answering ``<name>:<port>:<datagram>``."""
        script = []
        for p in http:
            script.append(f"mkdir -p /srv/{p} && echo {name}:{p} > /srv/{p}/index.html && "
                          f"httpd -p {p} -h /srv/{p}")
        for p in udp:
            script.append(f"{PYTHON_IN_CTR} /probe.py udp-echo {p} {name}:{p} &")
        script.append("exec sleep 100000")
        self.podman("run", "-d", "--name", name, "-v", "/usr:/usr:ro",
                    "-v", f"{PROBE}:/probe.py:ro", *opts, IMAGE,
                    "sh", "-c", "\n".join(script))
        return name

    def exec(self, ctr: str, *cmd: str, check: bool = True,
             timeout: float = 60) -> subprocess.CompletedProcess:
        return self.podman("exec", ctr, *cmd, check=check, timeout=timeout)

    def inspect(self, ctr: str) -> dict:
        return json.loads(self.podman("container", "inspect", ctr).stdout)[0]

    def ip_of(self, ctr: str, network: str) -> str:
        return self.inspect(ctr)["NetworkSettings"]["Networks"][network]["IPAddress"]

    def ip6_of(self, ctr: str, network: str) -> str:
        return self.inspect(ctr)["NetworkSettings"]["Networks"][network]["GlobalIPv6Address"]

    # ---- probes ---------------------------------------------------------------------------
    def _probe_cmd(self, where: str, args: list[str]) -> subprocess.CompletedProcess:
        if where == "host":
            return self.in_host("python3", PROBE, *args, check=False)
        try:
            ns = self._ns(where)
        except KeyError:
            pass
        else:
            return subprocess.run(["nsenter", f"--net={ns.path}", "python3", PROBE, *args],
                                  capture_output=True, text=True, timeout=60)
        return self.exec(where, PYTHON_IN_CTR, "/probe.py", *args, check=False)

    def _ns(self, name: str) -> Netns:
        for ns in (self.client, *self.extra_ns):
            if ns is not None and (ns.name == name or name == "client" and ns is self.client):
                return ns
        raise KeyError(name)

    def start_whoami(self, where: str, port: int) -> None:
        """A TCP server in namespace ``where`` ("client" or an extra namespace) that
        tells each client the source address it sees (to observe masquerading)."""
        proc = subprocess.Popen(["nsenter", f"--net={self._ns(where).path}", "python3", PROBE,
                                 "whoami", str(port)], stdout=subprocess.PIPE, text=True)
        self.servers.append(proc)
        assert proc.stdout is not None and proc.stdout.readline().strip() == "ready"

    def tcp(self, where: str, host: str, port: int, timeout: float = 10) -> str:
        res = self._probe_cmd(where, ["tcp", host, str(port), str(timeout)])
        if res.returncode != 0:
            raise PodmanError(f"tcp {host}:{port} from {where}: {res.stderr.strip()}")
        return res.stdout.strip()

    def http(self, where: str, host: str, port: int, timeout: float = 10) -> str:
        """Body served at ``host:port`` seen from ``where`` ("host", "client", an
        extra namespace's name or a container name); raises on failure."""
        res = self._probe_cmd(where, ["http", host, str(port), str(timeout)])
        if res.returncode != 0:
            raise PodmanError(f"http {host}:{port} from {where}: {res.stderr.strip()}")
        return res.stdout.strip()

    def http_fails(self, where: str, host: str, port: int, timeout: float = 1.5) -> str:
        res = self._probe_cmd(where, ["http", host, str(port), str(timeout)])
        assert res.returncode != 0, f"{host}:{port} reachable from {where}: {res.stdout}"
        return res.stderr.strip()

    def udp(self, where: str, host: str, port: int, message: str,
            timeout: float = 10) -> str:
        res = self._probe_cmd(where, ["udp", host, str(port), message, str(timeout)])
        if res.returncode != 0:
            raise PodmanError(f"udp {host}:{port} from {where}: {res.stderr.strip()}")
        return res.stdout.strip()

    def nslookup(self, ctr: str, name: str) -> list[str]:
        """Addresses busybox ``nslookup`` in ``ctr`` gets for ``name`` (A and AAAA),
        from the nameserver Podman put in the container's resolv.conf."""
        res = self.exec(ctr, "nslookup", name, check=False)
        addrs, answer = [], False
        for line in res.stdout.splitlines():
            if line.startswith("Name:"):
                answer = True
            elif answer and line.startswith("Address:"):
                addrs.append(line.split(":", 1)[1].strip())
        return sorted(addrs)

    # ---- oracles --------------------------------------------------------------------------
    def links(self) -> dict[str, dict]:
        assert self.host is not None
        return self.host.links()

    def nft_table(self) -> dict | None:
        """``inet netavark`` in the test host namespace: {"chains": {name: [rule, ...]}},
        rules as nft's JSON expressions; None when the table does not exist."""
        assert self.host is not None
        res = self.host.run("nft", "-j", "list", "table", "inet", "netavark", check=False)
        if res.returncode != 0:
            assert "No such file or directory" in res.stderr, res.stderr
            return None
        chains: dict[str, list] = {}
        for obj in json.loads(res.stdout)["nftables"]:
            if "chain" in obj:
                chains.setdefault(obj["chain"]["name"], [])
            elif "rule" in obj:
                chains.setdefault(obj["rule"]["chain"], []).append(obj["rule"]["expr"])
        return {"chains": chains}

    def nft_text(self) -> str:
        assert self.host is not None
        return self.host.run("nft", "list", "ruleset").stdout

    def host_processes(self) -> dict[int, str]:
        """pid → command name of every process in the test host network namespace."""
        assert self.host is not None
        pids = subprocess.run(["ip", "netns", "pids", self.host.name], capture_output=True,
                              text=True).stdout.split()
        out = {}
        for pid in pids:
            try:
                with open(f"/proc/{pid}/comm") as f:
                    out[int(pid)] = f.read().strip()
            except OSError:
                pass
        return out

    def aardvark_running(self) -> list[int]:
        return [pid for pid, comm in self.host_processes().items()
                if comm.startswith("aardvark")]

    def run_dir_files(self) -> list[str]:
        """Files below Podman's netavark run dir (/run/containers/networks) in the sandbox."""
        res = self.in_host("find", "/run/containers/networks", "-type", "f", check=False)
        return sorted(res.stdout.split())

    def assert_clean(self, extra_links: tuple[str, ...] = ()) -> None:
        """Nothing left by netavark: no links but the sandbox's own, only the fixed
        nftables chains and rules, no DNS server, no per-network state files."""
        links = set(self.links())
        assert links == {"lo", "ext0", *extra_links}, links
        if self.firewall_driver in (None, "nftables"):
            table = self.nft_table()
            if table is not None:
                chains = table["chains"]
                assert set(chains) == FIXED_CHAINS, sorted(chains)
                rules = sum(len(r) for r in chains.values())
                assert rules == FIXED_RULE_COUNT, self.nft_text()
        assert not self.aardvark_running(), self.host_processes()
        leftovers = [f for f in self.run_dir_files()
                     if "/firewall/networks/" in f or "/firewall/ports/" in f
                     or "/aardvark-dns/" in f and not f.endswith(".lock")]
        assert not leftovers, leftovers

    def add_netns(self, suffix: str) -> Netns:
        ns = make_netns(f"{self.prefix}-{suffix}")
        self.extra_ns.append(ns)
        return ns


def run(cmd: list[str], **kw) -> subprocess.CompletedProcess:
    res = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if res.returncode != 0:
        raise PodmanError(f"{' '.join(cmd)} failed: {res.stdout}{res.stderr}")
    return res


def _remove_empty_cgroups(name: str) -> None:
    """cgroupfs Podman leaves ``<controller>/libpod_parent`` behind; remove what is
    empty (rmdir refuses groups that still have processes or children)."""
    base = "/sys/fs/cgroup"
    try:
        controllers = os.listdir(base)
    except OSError:
        return
    for c in controllers:
        top = os.path.join(base, c, name)
        if not os.path.isdir(top):
            continue
        for dirpath, _dirs, _files in sorted(os.walk(top), key=lambda t: -len(t[0])):
            try:
                os.rmdir(dirpath)
            except OSError:
                pass


def wait_for(predicate, timeout: float = 10, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def which(name: str) -> str | None:
    return shutil.which(name, path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
