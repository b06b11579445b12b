"""Drive aardvark-dns (or our built-in server) the way upstream netavark does.

Config files live in ``<config>/aardvark-dns/<network>``; the server's pid is in
``aardvark.pid`` there.  After changing files we send SIGHUP, or start the
server when none runs.  Unlike upstream, every change of a network file is
made under ``<config>/aardvark.lock`` (upstream locks only in setup) and lands
atomically: the new content is written to a temporary file next to the
directory (never inside it: the server treats every file there as a network)
and renamed over the old one, so concurrent setups and teardowns never lose a
line and the server never reads a half-written file.
"""

from __future__ import annotations

import errno
import os

from .. import log
from ..errors import IoError, NetavarkError, io_display, wrap
from ..rustfmt import debug_path, debug_str
from . import RustIntError, parse_rust_int
from .fileformat import (
    INTERNAL_SUFFIX,
    PID_FILE,
    container_line,
    header_line,
    remove_container,
    replace_network_dns_servers,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from . import AardvarkEntry, DnsServerCommand

LOG = log.Logger("netavark::dns::aardvark")

SYSTEMD_RUN = "systemd-run"
COMMIT_LOCK = "aardvark.lock"

# Rust's char::is_whitespace (str::trim), which differs from str.isspace
_RUST_WS = ("\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
            "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _io(e: OSError) -> IoError:
    return IoError.from_os(e)


def _read_text(path: str) -> str:
    """``fs::read_to_string``: I/O errors and invalid UTF-8 become IoError."""
    with open(path, "rb") as f:
        data = f.read()
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        raise IoError(errno.EINVAL, "stream did not contain valid UTF-8") from None


def utf8_error_display(data: bytes) -> str:
    """Rust's ``Utf8Error`` display for the first bad sequence in ``data``."""
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as e:
        if e.reason == "unexpected end of data":
            return f"incomplete utf-8 byte sequence from index {e.start}"
        return f"invalid utf-8 sequence of {e.end - e.start} bytes from index {e.start}"
    return ""


def _errno_text(err: int) -> str:
    """nix's ``Errno`` display: ``ENAME: description``."""
    return f"{errno.errorcode.get(err, 'UnknownErrno')}: {os.strerror(err)}"


def _opt_list(value: list | None) -> str:
    if value is None:
        return "None"
    return "Some([" + ", ".join(str(v) for v in value) + "])"


def entry_debug(entry: AardvarkEntry) -> str:
    """``{:?}`` of upstream's ``AardvarkEntry`` (used in a commit error message)."""
    names = ", ".join(f"SafeString({debug_str(n)})" for n in entry.container_names)
    return (f"AardvarkEntry {{ network_name: {debug_str(entry.network_name)}, "
            f"network_gateways: [{', '.join(str(g) for g in entry.network_gateways)}], "
            f"network_dns_servers: {_opt_list(entry.network_dns_servers)}, "
            f"container_id: SafeString({debug_str(entry.container_id)}), "
            f"container_ips_v4: [{', '.join(str(i) for i in entry.container_ips_v4)}], "
            f"container_ips_v6: [{', '.join(str(i) for i in entry.container_ips_v6)}], "
            f"container_names: [{names}], "
            f"container_dns_servers: {_opt_list(entry.container_dns_servers)}, "
            f"is_internal: {'true' if entry.is_internal else 'false'} }}")


def is_using_systemd() -> bool:
    return os.path.exists("/run/systemd/system")


def is_executable_in_path(program: str) -> bool:
    """Upstream's check: any ``PATH`` entry where ``<dir>/<program>`` can be stat'ed."""
    path = os.environ.get("PATH")
    if path is None:
        return False
    for d in path.split(":"):
        try:
            os.stat(f"{d}/{program}")
            return True
        except (OSError, ValueError):
            continue
    return False


class _CommitLock:
    """``flock`` on ``<config>/aardvark-dns/../aardvark.lock`` (upstream's spelling)."""

    __slots__ = ("fd", "path")

    def __init__(self, config_dir: str) -> None:
        self.path = os.path.join(config_dir, "..", COMMIT_LOCK)
        self.fd = -1

    def acquire(self) -> None:
        import fcntl

        try:
            self.fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC,
                              0o666)
        except OSError as e:
            raise NetavarkError(f"Failed to open/create lockfile {debug_path(self.path)}: "
                                f"{io_display(e.errno)}") from None
        try:
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except OSError as e:
            self.release()
            raise NetavarkError(f"Failed to acquire exclusive lock on "
                                f"{debug_path(self.path)}: {io_display(e.errno)}") from None

    def try_acquire(self) -> bool:
        """Best effort, for paths where upstream takes no lock: never adds an error."""
        try:
            self.acquire()
        except NetavarkError:
            return False
        return True

    def release(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1


class Aardvark:
    """Config files and process control for one ``<config>/aardvark-dns`` directory."""

    __slots__ = ("_held", "aardvark_bin", "argv", "config", "port", "rootless")

    def __init__(self, config_dir: str, rootless: bool,
                 aardvark_bin: str | DnsServerCommand, dns_port: int) -> None:
        self.config = config_dir
        self.rootless = rootless
        if isinstance(aardvark_bin, str):
            self.aardvark_bin = aardvark_bin
            self.argv = [aardvark_bin]
        else:
            self.aardvark_bin = aardvark_bin.path
            self.argv = list(aardvark_bin.argv)
        self.port = str(dns_port)
        self._held = False  # this process holds the commit lock already

    # -- paths ------------------------------------------------------------
    def _net_path(self, name: str) -> str:
        return os.path.join(self.config, name)

    def _tmp_path(self, name: str) -> str:
        # outside the watched directory but on the same file system; one writer per
        # process at a time, so the pid makes the name unique
        return os.path.join(self.config, "..", f".aardvark-dns.{os.getpid()}.tmp")

    def _replace(self, path: str, name: str, content: str, mode_from: int | None) -> None:
        """Atomically make ``path`` hold ``content``."""
        tmp = self._tmp_path(name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        except OSError:
            # no room next to the directory: fall back to rewriting in place
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(content)
            return
        try:
            try:
                if mode_from is not None:
                    os.fchmod(fd, mode_from & 0o7777)
                data = content.encode("utf-8")
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
            finally:
                os.close(fd)
            os.rename(tmp, path)
        except OSError as e:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if e.errno != errno.EXDEV:
                raise
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(content)

    # -- pid / process ------------------------------------------------------
    def get_aardvark_pid(self) -> int:
        path = os.path.join(self.config, PID_FILE)
        try:
            content = _read_text(path)
        except OSError as e:
            raise _io(e) from None
        try:
            return parse_rust_int(content, 32, True)
        except RustIntError as e:
            raise NetavarkError(f"parse aardvark pid: {e}") from None

    def start_aardvark_server(self) -> None:
        import subprocess

        LOG.debug("Spawning aardvark server")
        args: list[str] = []
        if is_using_systemd() and is_executable_in_path(SYSTEMD_RUN):
            args = [SYSTEMD_RUN, "-q", "--scope"]
            if self.rootless:
                args.append("--user")
        args += [*self.argv, "--config", self.config, "-p", self.port, "run"]
        if LOG.enabled(log.DEBUG):
            LOG.debug(f"start aardvark-dns: [{', '.join(debug_path(a) for a in args)}]")
        env = dict(os.environ)
        env["RUST_LOG"] = log.max_level_name()
        try:
            # blocks until aardvark's forking parent exits: the daemon is ready then
            proc = subprocess.run(args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                  stderr=subprocess.PIPE, env=env, check=False)
        except OSError as e:
            raise _io(e) from None
        if proc.returncode == 0:
            return
        if not proc.stderr:
            raise NetavarkError("aardvark-dns exited unexpectedly without error message")
        try:
            msg = proc.stderr.decode("utf-8")
        except UnicodeDecodeError:
            raise NetavarkError("failed to parse aardvark-dns stderr message: "
                                f"{utf8_error_display(proc.stderr)}") from None
        raise NetavarkError(f"aardvark-dns failed to start: {msg.strip(_RUST_WS)}")

    def check_netns(self, pid: int) -> None:
        try:
            cur = os.readlink("/proc/self/ns/net")
            other = os.readlink(f"/proc/{pid}/ns/net")
        except OSError:
            return  # the process may be exiting; this check is best effort
        if cur != other:
            LOG.error("aardvark-dns runs in a different netns, dns will not work for this "
                      "container. To resolve please stop all containers, kill the "
                      f"aardvark-dns process, remove the {_display(self.config)} "
                      "directory and then start the containers again")

    def notify(self, start: bool, is_update: bool) -> None:
        """SIGHUP the running server, or start one."""
        try:
            pid = self.get_aardvark_pid()
        except NetavarkError as e:
            if not start:
                raise wrap("failed to get aardvark pid", e) from None
        else:
            # a pid <= 0 would signal a process group (or everything): never do that
            if pid > 0:
                try:
                    os.kill(pid, 1)  # SIGHUP
                except OSError as e:
                    if e.errno != errno.ESRCH:
                        raise NetavarkError("failed to send SIGHUP to aardvark: "
                                            f"{_errno_text(e.errno or 0)}") from None
                else:
                    if not is_update:
                        self.check_netns(pid)
                    return
        self.start_aardvark_server()

    # -- setup --------------------------------------------------------------
    @staticmethod
    def check_for_dns_loop(entries: list[AardvarkEntry]) -> None:
        owners: dict[object, str] = {}
        for entry in entries:
            for gw in entry.network_gateways:
                owners.setdefault(gw, entry.network_name)
        for entry in entries:
            for dns in entry.container_dns_servers or ():
                owner = owners.get(dns)
                if owner is not None:
                    raise NetavarkError(
                        f"DNS server {dns} is the gateway of network {debug_str(owner)}; "
                        "using it would cause aardvark-dns to forward queries to itself.")
            for dns in entry.network_dns_servers or ():
                owner = owners.get(dns)
                if owner is not None:
                    raise NetavarkError(
                        f"network DNS server {dns} matches the gateway of network "
                        f"{debug_str(owner)}; using it would cause aardvark-dns to forward "
                        "queries to itself.")

    def commit_entries(self, entries: list[AardvarkEntry]) -> None:
        lock = _CommitLock(self.config)
        lock.acquire()
        try:
            for entry in entries:
                self._commit_entry(entry)
        finally:
            lock.release()

    def _commit_entry(self, entry: AardvarkEntry) -> None:
        name = entry.network_name
        path = self._net_path(name)
        if entry.is_internal:
            new_path = self._net_path(name + INTERNAL_SUFFIX)
            try:
                os.rename(path, new_path)
            except OSError:
                pass
            path, name = new_path, name + INTERNAL_SUFFIX
        line = container_line(entry)
        try:
            st = os.stat(path)
        except FileNotFoundError:
            st = None
        except OSError as e:
            raise _io(e) from None
        if st is None:
            # new network file: publish header and first line in one step; link()
            # fails if someone created the file meanwhile (upstream: create_new)
            if self._create_new(path, name, header_line(entry) + line):
                return
            try:
                st = os.stat(path)
            except OSError as e:
                raise _io(e) from None
        try:
            old = _read_text(path)
        except OSError as e:
            raise _io(e) from None
        try:
            self._replace(path, name, old + line, st.st_mode)
        except OSError as e:
            raise NetavarkError(f"Failed to commit entry {entry_debug(entry)}: "
                                f"{io_display(e.errno) if e.errno else e}") from None

    def _create_new(self, path: str, name: str, content: str) -> bool:
        """Create ``path`` with ``content`` unless it exists; False if it existed."""
        tmp = self._tmp_path(name)
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o666)
        except OSError:
            fd = -1
        if fd >= 0:
            try:
                try:
                    os.write(fd, content.encode("utf-8"))
                finally:
                    os.close(fd)
                os.link(tmp, path)
                return True
            except FileExistsError:
                return False
            except OSError:
                pass  # e.g. a file system without hard links: plain exclusive create
            finally:
                try:
                    os.unlink(tmp)
                except OSError:
                    pass
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            return False
        except OSError as e:
            raise _io(e) from None
        try:
            os.write(fd, content.encode("utf-8"))
        except OSError as e:
            raise _io(e) from None
        finally:
            os.close(fd)
        return True

    def commit_netavark_entries(self, entries: list[AardvarkEntry]) -> None:
        """Setup: loop check, write all entries, then SIGHUP or start the server.

        If the server cannot be notified the entries are removed again.
        """
        if not entries:
            return
        self.check_for_dns_loop(entries)
        lock = _CommitLock(self.config)
        lock.acquire()
        # unlike upstream the lock is kept until the server was told: two setups
        # finding no server would otherwise both start one, and the loser's bind
        # failure would roll back its container's entries
        self._held = True
        try:
            for entry in entries:
                self._commit_entry(entry)
            try:
                self.notify(True, False)
            except NetavarkError as e:
                try:
                    self.delete_from_netavark_entries(entries)
                except NetavarkError as err:
                    LOG.warn(f"Failed to delete aardvark-dns entries after failed start: {err}")
                raise e from None
        finally:
            self._held = False
            lock.release()

    # -- teardown -----------------------------------------------------------
    def delete_entry(self, container_id: str, network_name: str) -> None:
        path = self._net_path(network_name)
        name = network_name
        if not os.path.exists(path):
            name = network_name + INTERNAL_SUFFIX
            path = self._net_path(name)
        lock = _CommitLock(self.config)
        # read before locking so a missing file fails exactly like upstream and
        # creates no lock file; re-read under the lock for the real update
        try:
            _read_text(path)
            locked = not self._held and lock.try_acquire()
            try:
                content = _read_text(path)
                mode = os.stat(path).st_mode
                new, count = remove_container(content, container_id)
                if count <= 1:
                    os.unlink(path)
                else:
                    self._replace(path, name, new, mode)
            finally:
                if locked:
                    lock.release()
        except OSError as e:
            raise _io(e) from None

    def delete_from_netavark_entries(self, entries: list[AardvarkEntry]) -> None:
        """Teardown: remove the containers' lines, then SIGHUP (start only on ESRCH)."""
        for entry in entries:
            self.delete_entry(entry.container_id, entry.network_name)
        self.notify(False, False)

    # -- update -------------------------------------------------------------
    def modify_network_dns_servers(self, network_name: str, servers: list[str]) -> None:
        """Rewrite the network DNS servers of line 1; SIGHUP only if the list is non-empty."""
        path = self._net_path(network_name)
        try:
            _read_text(path)
        except FileNotFoundError:
            return  # no container on this network runs: nothing to tell aardvark
        except OSError as e:
            raise _io(e) from None
        lock = _CommitLock(self.config)
        locked = not self._held and lock.try_acquire()
        try:
            try:
                content = _read_text(path)
                mode = os.stat(path).st_mode
            except FileNotFoundError:
                return
            except OSError as e:
                raise _io(e) from None
            try:
                self._replace(path, network_name,
                              replace_network_dns_servers(content, servers), mode)
            except OSError as e:
                raise _io(e) from None
        finally:
            if locked:
                lock.release()
        if servers:
            self.notify(False, True)


def _display(path: str) -> str:
    """``Path::display()``: undecodable bytes shown as U+FFFD."""
    return os.fsencode(path).decode("utf-8", "replace")
