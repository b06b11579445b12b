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
  is netavark-py (this checkout's launcher unless a test installs it otherwise).

Every ``podman`` command runs as ``nsenter -t <holder> --mount --net podman ...``,
so all commands of a test share one view of ``/run`` (Podman needs that between
``podman run`` and a later ``podman stop``).  Nothing reaches the real ``/run``,
``/etc/containers``, ``/var/lib/containers`` or the host's network namespace.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import shutil
import signal
import struct
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
for d in /run /var/lib; do mount -t tmpfs -o mode=755 tmpfs "$d"; done
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
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
            tar.addfile(ti, io.BytesIO(data))


class PodmanError(AssertionError):
    pass


class Sandbox:
    """See the module docstring.  ``launcher`` is what Podman runs as ``netavark``
    (default: this checkout's ``bin/netavark``); ``aardvark`` is the DNS server in the
    helper directory (default: the distribution's aardvark-dns; "": none, so
    netavark-py falls back to its built-in server).  ``firewall_driver``
    (None = netavark's default) is passed to netavark as ``NETAVARK_FW`` through
    containers.conf ``[engine] env``,
    which also reaches the ``podman container cleanup`` processes conmon starts.
    With ``log_calls``, the helper ``netavark`` is a wrapper that appends each
    argv to ``calls.log`` before running the launcher."""

    def __init__(self, workdir: str, image_tar: str, *, firewall_driver: str | None = None,
                 log_calls: bool = False, aardvark: str | None = None,
                 launcher: str = LAUNCHER) -> None:
        self.dir = workdir
        self.image_tar = image_tar
        self.firewall_driver = firewall_driver
        self.log_calls = log_calls
        # the DNS server Podman hands to netavark (--aardvark-binary); "" for none
        self.aardvark = system_helper("aardvark-dns") if aardvark is None else aardvark
        self.prefix = f"pe2e{next(_counter)}"  # make_netns adds pid and a counter
        self.host: Netns | None = None
        self.client: Netns | None = None
        self.extra_ns: list[Netns] = []
        self.holder: subprocess.Popen | None = None
        self.servers: list[subprocess.Popen] = []
        self.calls_log = os.path.join(workdir, "calls.log")
        # what Podman runs as netavark, the probe script, storage and netavark's
        # run dir: the rootless sandbox overrides them
        self.launcher = launcher
        self.probe = PROBE
        self.storage_driver = "overlay"
        self.run_dir = "/run/containers/networks"
        self.holder_extra = ""
        self.import_image = True
        self.podman_prefix: list[str] = []  # e.g. dropping to an unprivileged user

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
        script = _HOLDER.replace("echo ready", self.holder_extra + "\necho ready")
        self.holder = subprocess.Popen(
            ["nsenter", f"--net={self.host.path}", "unshare", "--mount", "--propagation",
             "private", "sh", "-c", script, "sh", cg],
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        assert self.holder.stdout is not None
        line = self.holder.stdout.readline()
        if line.strip() != "ready":
            err = self.holder.stderr.read() if self.holder.stderr else ""
            raise PodmanError(f"mount namespace holder failed: {line}{err}")
        if self.import_image:
            self.podman("import", "--change", "ENV=PATH=/bin", "--change", 'CMD=["sh"]',
                        self.image_tar, IMAGE)
        return self

    def close(self) -> None:
        if self.holder is not None and self.holder.poll() is None:
            # let Podman stop its containers (teardown runs netavark), then make sure
            # nothing started in the sandbox survives it
            self.podman("rm", "-a", "-f", "-t", "0", check=False, timeout=120)
            self._kill_sandbox_processes()
            self._kill_more()
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

    def _kill_more(self) -> None:
        """Subclasses: kill what else the sandbox may have started."""

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
                        f"exec {self.launcher} \"$@\"\n")
            os.chmod(nv, 0o755)
        else:
            # bin/netavark finds its checkout through realpath, so a symlink is enough
            os.symlink(self.launcher, nv)
        if self.aardvark:
            os.symlink(self.aardvark, os.path.join(self.helpers, "aardvark-dns"))
        for helper in ("rootlessport", "catatonit"):
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
driver = "{self.storage_driver}"
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
        return self.in_host(*self.podman_prefix, "podman", *args, check=check,
                            timeout=timeout, input=input)

    def launcher_path(self) -> str:
        """The ``netavark`` in Podman's helper directory."""
        return os.path.join(self.helpers, "netavark")

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
        assert name not in ("host", "client"), "probes would run in that namespace instead"
        script = []
        for p in http:
            script.append(f"mkdir -p /srv/{p} && echo {name}:{p} > /srv/{p}/index.html && "
                          f"httpd -p {p} -h /srv/{p}")
        for p in udp:
            script.append(f"{PYTHON_IN_CTR} /probe.py udp-echo {p} {name}:{p} &")
        script.append("exec sleep 100000")
        self.podman("run", "-d", "--name", name, "-v", "/usr:/usr:ro",
                    "-v", f"{self.probe}:/probe.py:ro", *opts, IMAGE,
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
            if ns is not None and (ns.name == name or (name == "client" and ns is self.client)):
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

    def http_fails(self, where: str, host: str, port: int, timeout: float = 1.0) -> str:
        res = self._probe_cmd(where, ["http", host, str(port), str(timeout)])
        assert res.returncode != 0, f"{host}:{port} reachable from {where}: {res.stdout}"
        return res.stderr.strip()

    def udp(self, where: str, host: str, port: int, message: str,
            timeout: float = 10) -> str:
        res = self._probe_cmd(where, ["udp", host, str(port), message, str(timeout)])
        if res.returncode != 0:
            raise PodmanError(f"udp {host}:{port} from {where}: {res.stderr.strip()}")
        return res.stdout.strip()

    def nslookup(self, ctr: str, name: str, server: str | None = None) -> list[str]:
        """Addresses busybox ``nslookup`` in ``ctr`` gets for ``name`` (A and AAAA),
        from ``server`` or else the first nameserver in the container's resolv.conf."""
        res = self.exec(ctr, "nslookup", name, *([server] if server else []), check=False)
        addrs, answer = set(), False
        for line in res.stdout.splitlines():
            if line.startswith("Name:"):
                answer = True
            elif answer and line.startswith("Address:"):
                addrs.add(line.split(":", 1)[1].strip())
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

    def dns_servers(self) -> dict[int, list[str]]:
        """pid → argv of the DNS servers serving this sandbox's networks (aardvark-dns
        or the built-in one, however started: found by their ``--config`` directory)."""
        config = os.path.join(self.run_dir, "aardvark-dns")
        out = {}
        for pid in self.host_processes():
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    argv = [a.decode(errors="replace") for a in f.read().split(b"\0") if a]
            except OSError:
                continue
            if config in argv and "run" in argv:
                out[pid] = argv
        return out

    def aardvark_running(self) -> list[int]:
        return sorted(self.dns_servers())

    def run_dir_files(self) -> list[str]:
        """Files below Podman's netavark run dir (``--config``) in the sandbox."""
        res = self.in_host("find", self.run_dir, "-type", "f", check=False)
        return sorted(res.stdout.split())

    def state_leftovers(self) -> list[str]:
        """Per-network/per-container state files in netavark's run dir (firewall state,
        DNS entries); the lock and driver files stay."""
        return [f for f in self.run_dir_files()
                if "/firewall/networks/" in f or "/firewall/ports/" in f
                or ("/aardvark-dns/" in f and not f.endswith(".lock"))]

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
        # a DNS server told to stop may take a moment to exit
        assert wait_for(lambda: not self.aardvark_running()), self.host_processes()
        assert not self.state_leftovers(), self.state_leftovers()

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


class RootlessSandbox(Sandbox):
    """The same sandbox, with Podman run by an unprivileged user.

    The user exists only inside the sandbox's mount namespace: private copies of
    ``/etc/passwd``, ``/etc/group``, ``/etc/subuid`` and ``/etc/subgid`` (with a
    65536-id range for the user) are bind-mounted there, so ``newuidmap`` and
    ``newgidmap`` (setuid root) accept the mapping and nothing on the machine
    changes.  Everything the user needs lives in a world-traversable temporary
    directory: a copy of the ``netavark`` package and launcher, the probe, the
    image, storage (``vfs``), ``$HOME`` and ``$XDG_RUNTIME_DIR``.

    ``tun_fix`` (set by :meth:`prepare`): when ``/dev/net/tun`` is not usable by
    other users (slirp4netns, which rootless Podman needs, opens it), a private
    ``crw-rw-rw-`` node for the same device is bind-mounted over it in the
    sandbox, as distributions ship it.
    """

    NAME = "pe2e-rootless"

    def __init__(self, image_tar: str, *, firewall_driver: str | None = None,
                 aardvark: str | None = None) -> None:
        import tempfile

        base = tempfile.mkdtemp(prefix="pe2e-rootless-")
        os.chmod(base, 0o755)
        super().__init__(base, image_tar, firewall_driver=firewall_driver, aardvark=aardvark)
        self.uid = free_uid()
        self.subid_start = 1_000_000 + (self.uid - 4100) * 65536
        self.home = os.path.join(base, "home")
        self.xdg = os.path.join(base, "xdg")
        self.run_dir = os.path.join(self.xdg, "containers", "networks")
        self.storage_driver = "vfs"
        self.tun_fix = not tun_usable_by_others()

    def _write_config(self) -> None:
        d, uid = self.dir, self.uid
        # netavark-py as the user can read it (the checkout may be private to root)
        checkout = os.path.join(d, "checkout")
        shutil.copytree(os.path.join(ROOT, "netavark"), os.path.join(checkout, "netavark"),
                        ignore=shutil.ignore_patterns("__pycache__"))
        os.makedirs(os.path.join(checkout, "bin"))
        for launcher in ("netavark", "aardvark-dns"):
            src = os.path.join(ROOT, "bin", launcher)
            if os.path.exists(src):
                shutil.copy2(src, os.path.join(checkout, "bin", launcher))
        if self.aardvark and self.aardvark.startswith(os.path.join(ROOT, "bin") + os.sep):
            self.aardvark = os.path.join(checkout, "bin", os.path.basename(self.aardvark))
        self.launcher = os.path.join(checkout, "bin", "netavark")
        self.probe = os.path.join(d, "probe.py")
        shutil.copy2(PROBE, self.probe)
        image = os.path.join(d, "image.tar")
        shutil.copy2(self.image_tar, image)
        self.image_tar = image
        for path in (checkout, self.probe, image):
            _chmod_tree(path)
        for sub in (self.home, self.xdg):
            os.mkdir(sub, 0o700)
            os.chown(sub, uid, uid)
        etc = os.path.join(d, "etc")
        os.mkdir(etc)
        for name, line in (("passwd", f"{self.NAME}:x:{uid}:{uid}::{self.home}:/bin/sh\n"),
                           ("group", f"{self.NAME}:x:{uid}:\n"),
                           ("subuid", f"{self.NAME}:{self.subid_start}:65536\n"),
                           ("subgid", f"{self.NAME}:{self.subid_start}:65536\n")):
            try:
                with open(f"/etc/{name}") as f:
                    base = f.read()
            except FileNotFoundError:
                base = ""
            if base and not base.endswith("\n"):
                base += "\n"
            with open(os.path.join(etc, name), "w") as f:
                f.write(base + line)
            os.chmod(os.path.join(etc, name), 0o644)
        binds = [f"mount --bind {etc}/{n} /etc/{n}" for n in ("passwd", "group", "subuid",
                                                               "subgid")]
        if self.tun_fix:
            dev = os.path.join(d, "dev")
            os.mkdir(dev)
            binds += [f"mount -t tmpfs -o mode=755 tmpfs {dev}",
                      f"mknod -m 666 {dev}/tun c 10 200",
                      f"mount --bind {dev}/tun /dev/net/tun"]
        # rootless Podman wants "/" to be a shared mount; shared inside this private
        # namespace only
        binds.append("mount --make-rshared /")
        self.holder_extra = "\n".join(binds)
        super()._write_config()
        for path in (self.helpers, self.netconf, os.path.join(d, "storage")):
            os.chown(path, uid, uid)
        if self.log_calls:
            open(self.calls_log, "w").close()
            os.chown(self.calls_log, uid, uid)
        self.podman_prefix = [
            "setpriv", f"--reuid={uid}", f"--regid={uid}", "--init-groups", "env", "-i",
            *(f"{k}={v}" for k, v in self.user_env().items())]

    def user_env(self) -> dict[str, str]:
        env = self.env()
        env.update(HOME=self.home, XDG_RUNTIME_DIR=self.xdg, USER=self.NAME,
                   LOGNAME=self.NAME)
        return env

    def rootless_netns(self, *cmd: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``cmd`` in Podman's rootless network namespace (as the user's root)."""
        return self.podman("unshare", "--rootless-netns", *cmd, check=check)

    def user_processes(self) -> dict[int, str]:
        """pid → command name of processes of the user and of its subordinate ids."""
        ids = {self.uid, *range(self.subid_start, self.subid_start + 65536)}
        return {pid: comm for pid, (uid, comm) in _process_uids().items() if uid in ids}

    def _kill_more(self) -> None:
        # rootless Podman leaves its pause process (and slirp4netns, rootlessport,
        # aardvark-dns if a container was still running) in namespaces of its own
        for pid in self.user_processes():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass

    def close(self) -> None:
        try:
            super().close()
        finally:
            shutil.rmtree(self.dir, ignore_errors=True)


def _chmod_tree(path: str) -> None:
    """World-readable (and traversable/executable where it already is for root)."""
    paths = [path]
    if os.path.isdir(path):
        for dirpath, dirs, files in os.walk(path):
            paths += [os.path.join(dirpath, n) for n in dirs + files]
    for p in paths:
        mode = os.stat(p).st_mode & 0o777
        os.chmod(p, mode | 0o044 | (0o011 if mode & 0o100 else 0))


def _process_uids() -> dict[int, tuple[int, str]]:
    out = {}
    for pid_s in os.listdir("/proc"):
        if not pid_s.isdigit():
            continue
        try:
            with open(f"/proc/{pid_s}/status") as f:
                status = f.read()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        try:
            out[int(pid_s)] = (int(fields["Uid"].split()[0]), fields["Name"].strip())
        except (KeyError, ValueError, IndexError):
            continue
    return out


def free_uid() -> int:
    """A uid with no passwd entry and no process: the rootless test's user."""
    import pwd

    busy = {uid for uid, _ in _process_uids().values()}
    for uid in range(4100, 4400):
        try:
            pwd.getpwuid(uid)
        except KeyError:
            if uid not in busy:
                return uid
    raise PodmanError("no free uid in 4100-4399 for the rootless test user")


def tun_usable_by_others() -> bool:
    try:
        st = os.stat("/dev/net/tun")
    except OSError:
        return False
    return st.st_mode & 0o006 == 0o006


class FreshMachineSandbox(Sandbox):
    """A stand-in for a freshly installed machine, to follow README.md literally.

    On top of the usual sandbox, ``/usr`` and ``/etc`` are overlays whose changes
    land in the sandbox directory (``make install`` and Podman's configuration
    drop-ins go there), and ``/tmp`` and ``/root`` are empty.  Podman reads its
    configuration from ``/etc`` as usual (no ``CONTAINERS_*`` variables).  The
    directory must not be below ``/tmp`` (hidden inside).
    """

    def __init__(self, workdir: str) -> None:
        super().__init__(workdir, "")
        self.import_image = False
        mounts = []
        for d in ("usr", "etc"):
            upper = os.path.join(workdir, "ov", d, "upper")
            work = os.path.join(workdir, "ov", d, "work")
            os.makedirs(upper)
            os.makedirs(work)
            mounts.append(f"mount -t overlay overlay -o lowerdir=/{d},upperdir={upper},"
                          f"workdir={work} /{d}")
        mounts += ["mount -t tmpfs -o mode=1777 tmpfs /tmp",
                   "mount -t tmpfs -o mode=700 tmpfs /root"]
        self.holder_extra = "\n".join(mounts)

    def env(self) -> dict[str, str]:
        return {"PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME": "/root", "LANG": "C.UTF-8"}
