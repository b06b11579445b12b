"""Firewall state files under ``<config>/firewall/`` (read back by firewall reloads).

Layout and JSON exactly as upstream writes them, so either implementation can
reload the other's state.  Writers and readers hold ``firewall-reload.lock``;
files are replaced atomically (write to a temporary name, then rename).
"""

from __future__ import annotations

import errno
import fcntl
import os

from .. import serde
from ..errors import IoError, NetavarkError, wrap
from ..rustfmt import debug_path
from . import PortForwardConfig, SetupNetwork

FIREWALL_DIR = "firewall"
DRIVER_FILE = "firewall-driver"
LOCK_FILE = "firewall-reload.lock"
NETWORKS_DIR = "networks"
PORTS_DIR = "ports"


def _fs_err(msg: str, path: str, e: OSError) -> NetavarkError:
    return wrap(f"{msg} {debug_path(path)}", IoError.from_os(e))


class _Locked:
    """Paths of the state tree with the reload lock held until :meth:`close`."""

    def __init__(self, config_dir: str, create_dirs: bool) -> None:
        base = os.path.join(config_dir, FIREWALL_DIR)
        self.base = base
        self.driver_file = os.path.join(base, DRIVER_FILE)
        self.networks = os.path.join(base, NETWORKS_DIR)
        self.ports = os.path.join(base, PORTS_DIR)
        _makedirs(base, "create firewall config dir")
        if create_dirs:
            _makedirs(self.networks, "create network config dir")
            _makedirs(self.ports, "create port config dir")
        lock_path = os.path.join(base, LOCK_FILE)
        try:
            self.lock_fd = os.open(lock_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                                   0o666)
        except OSError as e:
            raise _fs_err("create firewall lock file", lock_path, e) from None
        try:
            fcntl.flock(self.lock_fd, fcntl.LOCK_EX)
        except OSError as e:
            os.close(self.lock_fd)
            raise wrap("lock firewall lock file", IoError.from_os(e)) from None

    def close(self) -> None:
        if self.lock_fd >= 0:
            os.close(self.lock_fd)
            self.lock_fd = -1

    def __enter__(self) -> _Locked:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _makedirs(path: str, msg: str) -> None:
    try:
        os.makedirs(path, exist_ok=True)
    except OSError as e:
        raise _fs_err(msg, path, e) from None


def _write_atomic(path: str, data: bytes) -> None:
    head, tail = os.path.split(path)
    tmp = os.path.join(head, f".{tail}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
    try:
        os.write(fd, data)
    finally:
        os.close(fd)
    os.rename(tmp, path)


def write_fw_config(config_dir: str, network_id: str, container_id: str, driver: str,
                    net: SetupNetwork, pf: PortForwardConfig) -> None:
    with _Locked(config_dir, True) as p:
        try:
            _write_atomic(p.driver_file, driver.encode())
        except OSError as e:
            raise _fs_err("create firewall-driver file", p.driver_file, e) from None
        net_file = os.path.join(p.networks, network_id)
        try:
            fd = os.open(net_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            fd = -1  # the network is already recorded
        except OSError as e:
            raise _fs_err("create network config", net_file, e) from None
        if fd >= 0:
            try:
                os.write(fd, serde.dumps(net.to_json()).encode())
            finally:
                os.close(fd)
        port_file = os.path.join(p.ports, f"{network_id}_{container_id}")
        try:
            _write_atomic(port_file, serde.dumps(pf.to_json()).encode())
        except OSError as e:
            raise _fs_err("create port config", port_file, e) from None


def remove_fw_config(config_dir: str, network_id: str, container_id: str,
                     complete: bool) -> None:
    with _Locked(config_dir, False) as p:
        _remove(os.path.join(p.ports, f"{network_id}_{container_id}"), "remove port config")
        if complete:
            _remove(os.path.join(p.networks, network_id), "remove network config")


def _remove(path: str, msg: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass
    except OSError as e:
        raise _fs_err(msg, path, e) from None


class FirewallConfig:
    """Everything recorded, with the lock held until :meth:`close`."""

    def __init__(self, driver: str, networks: list[SetupNetwork],
                 ports: list[PortForwardConfig], lock: _Locked) -> None:
        self.driver = driver
        self.networks = networks
        self.ports = ports
        self._lock = lock

    def close(self) -> None:
        self._lock.close()


def read_fw_config(config_dir: str) -> FirewallConfig | None:
    """None when nothing was ever recorded (no ``firewall-driver`` file)."""
    lock = _Locked(config_dir, False)
    try:
        try:
            with open(lock.driver_file) as f:
                driver = f.read()
        except FileNotFoundError:
            lock.close()
            return None
        except OSError as e:
            raise _fs_err("read firewall-driver", lock.driver_file, e) from None
        nets = _read_dir(lock.networks, SetupNetwork.from_json)
        ports = _read_dir(lock.ports, PortForwardConfig.from_json)
    except BaseException:
        lock.close()
        raise
    return FirewallConfig(driver, nets, ports, lock)


def _read_dir(path: str, builder: object) -> list:
    try:
        names = os.listdir(path)
    except OSError as e:
        raise _fs_err("read dir", path, e) from None
    out = []
    for name in names:
        if name.startswith("."):
            continue  # a writer's temporary file
        full = os.path.join(path, name)
        try:
            with open(full, "rb") as f:
                raw = f.read()
        except OSError as e:
            if e.errno == errno.ENOENT:
                continue
            raise _fs_err("read config", full, e) from None
        try:
            doc = serde.loads(raw)
            out.append(builder(doc, ()))  # type: ignore[operator]
        except serde.SchemaError as e:
            from ..errors import JsonError

            raise JsonError(str(serde.located(raw, e))) from None
        except serde.DecodeError as e:
            from ..errors import JsonError

            raise JsonError(str(e)) from None
    return out
