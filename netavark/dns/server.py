"""The built-in DNS server's event loop: one thread, ``epoll``, non-blocking sockets.

Per (network, bind address) one UDP socket and one TCP listener.  Local
answers come from :mod:`.backend`; other names are forwarded to upstream
servers one after the other (UDP for UDP clients, TCP for TCP clients, 5 s
shared among the servers).  SIGHUP reloads the configuration directory;
``/etc/resolv.conf`` is re-read when it changes.  Local UDP answers are cached
per (listener, client address, request bytes after the id) until the next
reload, since they only depend on those.
"""

from __future__ import annotations

import _signal  # `signal` would pull in enum: milliseconds at start
import _socket
import errno
import heapq
import os
import select
import time

from ..errors import NetavarkError, io_display
from ..ip import IpAddr
from . import wire
from .backend import FORWARD, LOCAL, Backend, decide, load_config_dir
from .fileformat import PID_FILE
from .resolvconf import RESOLV_CONF, read_resolv_conf, sockaddr

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from .dnslog import Log

EPOLLIN = select.EPOLLIN
EPOLLOUT = select.EPOLLOUT
EPOLLERR = select.EPOLLERR | select.EPOLLHUP

UDP_RECV = 4096
TCP_IDLE = 3.0
FORWARD_BUDGET = 5.0
MAX_FORWARDS = 1024
MAX_TCP_CONNS = 1024
CACHE_MAX = 8192  # NETAVARK_DNS_CACHE_SIZE overrides; 0 turns the answer cache off
UDP_BATCH = 64

_SOCK_FLAGS = _socket.SOCK_NONBLOCK | _socket.SOCK_CLOEXEC


def _sockaddr_display(ip: IpAddr, port: int) -> str:
    return f"{ip}:{port}" if ip.version == 4 else f"[{ip}]:{port}"


def _family(addr: tuple) -> int:
    return _socket.AF_INET if len(addr) == 2 else _socket.AF_INET6


def _cache_size() -> int:
    value = os.environ.get("NETAVARK_DNS_CACHE_SIZE", "")
    return int(value) if value.isdigit() else CACHE_MAX


class StartError(NetavarkError):
    """The first load failed: aardvark-dns prints it and exits 1."""


class Listener:
    __slots__ = ("index", "ip", "network", "tcp", "udp")

    def __init__(self, index: int, network: str, ip: IpAddr, udp: _socket.socket,
                 tcp: _socket.socket) -> None:
        self.index = index
        self.network = network
        self.ip = ip
        self.udp = udp
        self.tcp = tcp


class TcpConn:
    """A client connection: 2-byte length framed messages, 3 s idle limit."""

    __slots__ = ("closed", "eof", "fd", "listener", "pending", "rbuf", "server", "sock", "src",
                 "timer", "wbuf")

    def __init__(self, server: Server, sock: _socket.socket, listener: Listener,
                 src: bytes | None) -> None:
        self.server = server
        self.sock = sock
        self.fd = sock.fileno()
        self.listener = listener
        self.src = src
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.pending = 0
        self.eof = False
        self.closed = False
        self.timer = server.schedule(TCP_IDLE, self.on_idle)

    def events(self) -> int:
        ev = 0 if self.eof else EPOLLIN
        return ev | EPOLLOUT if self.wbuf else ev

    def on_event(self, ev: int) -> None:
        if ev & select.EPOLLHUP:
            self.close()  # both directions are gone: nothing can be delivered
            return
        if ev & EPOLLOUT:
            self.flush()
        if self.closed:
            return
        if ev & (EPOLLIN | EPOLLERR) and not self.eof:
            try:
                data = self.sock.recv(65536)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                self.close()
                return
            if not data:
                self.eof = True
            else:
                self.rbuf += data
                self.process()
            if not self.closed:
                self.done_maybe()

    def process(self) -> None:
        rbuf = self.rbuf
        while len(rbuf) >= 2 and not self.closed:
            size = (rbuf[0] << 8) | rbuf[1]
            if len(rbuf) < 2 + size:
                break
            msg = bytes(rbuf[2:2 + size])
            del rbuf[:2 + size]
            self.server.cancel(self.timer)
            self.timer = self.server.schedule(TCP_IDLE, self.on_idle)
            self.server.handle_tcp_message(self, msg)

    def send_frame(self, msg: bytes) -> None:
        if self.closed:
            return
        self.wbuf += len(msg).to_bytes(2, "big") + msg
        self.flush()

    def flush(self) -> None:
        while self.wbuf and not self.closed:
            try:
                n = self.sock.send(self.wbuf)
            except (BlockingIOError, InterruptedError):
                break
            except OSError:
                self.close()
                return
            del self.wbuf[:n]
        if not self.closed:
            self.done_maybe()

    def done_maybe(self) -> None:
        if self.eof and not self.pending and not self.wbuf:
            self.close()
            return
        self.server.modify(self.fd, self.events())

    def on_idle(self) -> None:
        if self.closed:
            return
        if self.pending:
            # a forwarded query is still out: the client is not idle
            self.timer = self.server.schedule(TCP_IDLE, self.on_idle)
            return
        self.server.log.debug(f"Tcp connection was cancelled after {TCP_IDLE:.0f}s as it took "
                              "too long to receive message")
        self.close()

    def forward_done(self, reply: bytes | None) -> None:
        self.pending -= 1
        if reply is not None:
            self.send_frame(reply)
        elif not self.closed:
            self.done_maybe()

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.server.cancel(self.timer)
        self.server.unregister(self.fd)
        self.server.tcp_conns.pop(self.fd, None)
        self.sock.close()


class Forward:
    """One query relayed to the upstream servers, tried in order."""

    __slots__ = ("client", "client_id", "fd", "idx", "qsection", "query", "rbuf", "server",
                 "servers", "sock", "tcp", "timeout", "timer", "wbuf", "wire_id")

    def __init__(self, server: Server, client: object, query: bytes, qd_end: int,
                 servers: list[tuple], tcp: bool) -> None:
        self.server = server
        self.client = client  # TcpConn, or (Listener, addr) for UDP
        self.client_id = (query[0] << 8) | query[1]
        self.query = query
        self.qsection = query[12:qd_end].lower()
        self.servers = servers
        self.tcp = tcp
        self.timeout = FORWARD_BUDGET / len(servers)
        self.idx = -1
        self.sock: _socket.socket | None = None
        self.fd = -1
        self.timer = 0
        self.rbuf = bytearray()
        self.wbuf = bytearray()
        self.wire_id = 0

    def next(self) -> None:
        self._drop_socket()
        self.idx += 1
        while self.idx < len(self.servers):
            if self._start(self.servers[self.idx]):
                return
            self.idx += 1
        self.finish(None)

    def _start(self, addr: tuple) -> bool:
        self.wire_id = int.from_bytes(os.urandom(2), "big")
        payload = self.wire_id.to_bytes(2, "big") + self.query[2:]
        srv = self.server
        kind = _socket.SOCK_STREAM if self.tcp else _socket.SOCK_DGRAM
        try:
            sock = _socket.socket(_family(addr), kind | _SOCK_FLAGS)
        except OSError as e:
            srv.log.error(f"{self.client_id} dns request failed: {e}")
            return False
        try:
            if self.tcp:
                err = sock.connect_ex(addr)
                if err not in (0, errno.EINPROGRESS):
                    raise OSError(err, os.strerror(err))
                self.wbuf = bytearray(len(payload).to_bytes(2, "big") + payload)
                self.rbuf = bytearray()
                events = EPOLLOUT | EPOLLIN
            else:
                sock.connect(addr)
                sock.send(payload)
                events = EPOLLIN
        except OSError as e:
            srv.log.debug(f"Failed to connect to {addr[0]}: {e}")
            sock.close()
            return False
        self.sock = sock
        self.fd = sock.fileno()
        srv.register(self.fd, events, self.on_event)
        self.timer = srv.schedule(self.timeout, self.on_timeout)
        return True

    def on_timeout(self) -> None:
        self.server.log.debug(f"{self.client_id} dns request to upstream timed out")
        self.next()

    def on_event(self, ev: int) -> None:
        sock = self.sock
        if sock is None:
            return
        if self.tcp:
            self._on_tcp(sock, ev)
            return
        while True:
            try:
                resp = sock.recv(65535)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                # e.g. ICMP port unreachable: try the next server now
                self.server.cancel(self.timer)
                self.next()
                return
            if self._accept(resp):
                return

    def _on_tcp(self, sock: _socket.socket, ev: int) -> None:
        try:
            if self.wbuf and ev & (EPOLLOUT | EPOLLERR):
                err = sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_ERROR)
                if err:
                    raise OSError(err, os.strerror(err))
                n = sock.send(self.wbuf)
                del self.wbuf[:n]
                if not self.wbuf:
                    self.server.modify(self.fd, EPOLLIN)
            if ev & (EPOLLIN | EPOLLERR) and not self.wbuf:
                data = sock.recv(65537)
                if not data:
                    raise OSError(errno.ECONNRESET, "connection closed")
                self.rbuf += data
                if len(self.rbuf) >= 2:
                    size = (self.rbuf[0] << 8) | self.rbuf[1]
                    if (len(self.rbuf) >= 2 + size
                            and not self._accept(bytes(self.rbuf[2:2 + size]))):
                        raise OSError(errno.EPROTO, "unexpected response")
        except (BlockingIOError, InterruptedError):
            return
        except OSError as e:
            self.server.log.debug(f"{self.client_id} dns request failed: {e}")
            self.server.cancel(self.timer)
            self.next()

    def _accept(self, resp: bytes) -> bool:
        """Deliver ``resp`` if it answers our question; False to keep waiting."""
        if (len(resp) < 12 or (resp[0] << 8 | resp[1]) != self.wire_id
                or not resp[2] & 0x80 or resp[12:12 + len(self.qsection)].lower()
                != self.qsection):
            return False
        try:
            wire.check_message(resp)
        except wire.DnsFormatError:
            return False
        self.server.cancel(self.timer)
        self._drop_socket()
        self.finish(wire.relay_response(resp, self.client_id))
        return True

    def _drop_socket(self) -> None:
        if self.sock is not None:
            self.server.cancel(self.timer)
            self.server.unregister(self.fd)
            self.sock.close()
            self.sock = None
            self.fd = -1

    def finish(self, reply: bytes | None) -> None:
        srv = self.server
        srv.forwards.discard(self)
        client = self.client
        if isinstance(client, TcpConn):
            client.forward_done(reply)
        elif reply is not None:
            listener, addr = client  # type: ignore[misc]
            try:
                listener.udp.sendto(reply, addr)
            except OSError as e:
                srv.log.error(f"[{self.client_id}] fail response: {e}")


class Server:
    def __init__(self, config_dir: str, port: int, search_domain: str, log: Log,
                 no_proxy: bool = False, resolv_conf: str = RESOLV_CONF,
                 upstream_port: int = 53) -> None:
        self.config_dir = config_dir
        self.port = port
        self.search_domain = search_domain
        self.log = log
        self.no_proxy = no_proxy
        self.resolv_conf = resolv_conf
        # upstreams are always asked on port 53; tests move their stub elsewhere
        self.upstream_port = upstream_port
        self.ep = select.epoll()
        self.handlers: dict[int, Callable[[int], None]] = {}
        self.timers: list[tuple[float, int, Callable[[], None]]] = []
        self.armed: set[int] = set()  # scheduled, not yet fired or cancelled
        self.seq = 0
        self.listeners: dict[tuple[str, bytes], Listener] = {}
        self.next_index = 0
        self.backend = Backend(search_domain)
        self.nameservers: list[tuple] = []
        self.resolv_stamp: tuple | None = None
        self.cache: dict[tuple, bytes] = {}
        self.cache_max = _cache_size()
        self.src_keys: dict[str, bytes | None] = {}
        self.forwards: set[Forward] = set()
        self.tcp_conns: dict[int, TcpConn] = {}
        self.hup = False
        self.wake_r = -1
        self.stop_code: int | None = None

    # -- plumbing ------------------------------------------------------------
    def register(self, fd: int, events: int, handler: Callable[[int], None]) -> None:
        self.handlers[fd] = handler
        self.ep.register(fd, events)

    def modify(self, fd: int, events: int) -> None:
        try:
            self.ep.modify(fd, events)
        except OSError:
            pass

    def unregister(self, fd: int) -> None:
        if self.handlers.pop(fd, None) is not None:
            try:
                self.ep.unregister(fd)
            except OSError:
                pass

    def schedule(self, delay: float, cb: Callable[[], None]) -> int:
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq, cb))
        self.armed.add(self.seq)
        return self.seq

    def cancel(self, seq: int) -> None:
        self.armed.discard(seq)

    def _run_timers(self) -> float:
        """Fire due timers; returns the epoll timeout until the next one (-1: none)."""
        timers = self.timers
        while timers:
            deadline, seq, cb = timers[0]
            if seq not in self.armed:
                heapq.heappop(timers)  # cancelled
                continue
            now = time.monotonic()
            if deadline > now:
                return deadline - now
            heapq.heappop(timers)
            self.armed.discard(seq)
            cb()
        return -1

    # -- configuration ---------------------------------------------------------
    def _file_error(self, path: str, err: NetavarkError) -> None:
        self.log.error(f"Error reading config file {path!r} for server update: {err}")

    def reload(self, first: bool) -> list[str]:
        """Read the config dir, swap the data, re-read resolvers, fix listeners.

        Returns error texts (bind and resolver problems); raises StartError if
        the directory cannot be read.  Exits when no network is left.
        """
        try:
            backend = load_config_dir(self.config_dir, self.search_domain, self._file_error)
        except NetavarkError as e:
            raise StartError(f"unable to parse config: {e}") from None
        self.backend = backend
        self.cache.clear()
        self.src_keys.clear()
        self.log.debug("Successfully parsed config")
        wanted: dict[tuple[str, bytes], tuple[str, IpAddr]] = {}
        for net, ips in backend.listen.items():
            for ip in ips:
                wanted[(net, ip.packed)] = (net, ip)
        if not wanted:
            self.log.info("No configuration found stopping the sever")
            pid_file = os.path.join(self.config_dir, PID_FILE)
            try:
                os.unlink(pid_file)
            except OSError as e:
                self.log.error(f"failed to remove the pid file: {io_display(e.errno or 0)}")
                self.stop(1)
                return []
            if not first and self._networks_appeared():
                # a setup wrote a network after we read the directory and may have
                # signalled us already: stay, and make sure it finds us
                self._write_pid(pid_file)
                self.hup = True
                return []
            self.stop(0)
            return []
        errors: list[str] = []
        try:
            self.nameservers = read_resolv_conf(self.resolv_conf)
        except NetavarkError as e:
            errors.append("failed to get upstream nameservers, dns forwarding will not work: "
                          f"{e}")
            self.nameservers = []
        self.resolv_stamp = self._resolv_stamp()
        for key in [k for k in self.listeners if k not in wanted]:
            self._stop_listener(self.listeners.pop(key))
        for key, (net, ip) in wanted.items():
            if key not in self.listeners:
                err = self._start_listener(key, net, ip)
                if err:
                    errors.append(err)
        return errors

    def _networks_appeared(self) -> bool:
        try:
            return bool(load_config_dir(self.config_dir, self.search_domain).listen)
        except NetavarkError:
            return False

    def _write_pid(self, path: str) -> None:
        try:
            with open(path, "w") as f:
                f.write(str(os.getpid()))
        except OSError as e:
            self.log.error(f"Unable to write pid to file: {io_display(e.errno or 0)}")

    def _start_listener(self, key: tuple[str, bytes], net: str, ip: IpAddr) -> str | None:
        fam = _socket.AF_INET if ip.version == 4 else _socket.AF_INET6
        addr = (str(ip), self.port) if ip.version == 4 else (str(ip), self.port, 0, 0)
        shown = _sockaddr_display(ip, self.port)
        try:
            udp = _socket.socket(fam, _socket.SOCK_DGRAM | _SOCK_FLAGS)
        except OSError as e:
            return f"failed to bind udp listener on {shown}: IO error: {io_display(e.errno)}"
        try:
            if fam == _socket.AF_INET6:
                udp.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1)
            udp.bind(addr)
        except OSError as e:
            udp.close()
            return f"failed to bind udp listener on {shown}: IO error: {io_display(e.errno)}"
        try:
            tcp = _socket.socket(fam, _socket.SOCK_STREAM | _SOCK_FLAGS)
            tcp.setsockopt(_socket.SOL_SOCKET, _socket.SO_REUSEADDR, 1)
            if fam == _socket.AF_INET6:
                tcp.setsockopt(_socket.IPPROTO_IPV6, _socket.IPV6_V6ONLY, 1)
            tcp.bind(addr)
            tcp.listen(1024)
        except OSError as e:
            udp.close()
            try:
                tcp.close()
            except UnboundLocalError:
                pass
            return f"failed to bind tcp listener on {shown}: IO error: {io_display(e.errno)}"
        self.next_index += 1
        lst = Listener(self.next_index, net, ip, udp, tcp)
        self.listeners[key] = lst
        self.register(udp.fileno(), EPOLLIN, lambda ev, lst=lst: self.on_udp(lst))
        self.register(tcp.fileno(), EPOLLIN, lambda ev, lst=lst: self.on_accept(lst))
        return None

    def _stop_listener(self, lst: Listener) -> None:
        for sock in (lst.udp, lst.tcp):
            self.unregister(sock.fileno())
            sock.close()

    def _resolv_stamp(self) -> tuple | None:
        try:
            st = os.stat(self.resolv_conf)
        except OSError:
            return None
        return (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size, st.st_ctime_ns)

    def host_nameservers(self) -> list[tuple]:
        """The resolv.conf servers, re-read when the file changed (errors keep the old)."""
        stamp = self._resolv_stamp()
        if stamp is not None and stamp != self.resolv_stamp:
            self.resolv_stamp = stamp
            try:
                self.nameservers = read_resolv_conf(self.resolv_conf)
            except NetavarkError as e:
                self.log.error(f"Failed to reload nameservers on change: {e}")
        return self.nameservers

    # -- queries -------------------------------------------------------------
    def src_key(self, host: str) -> bytes | None:
        """Packed form of a client address as ``recvfrom`` shows it."""
        try:
            return self.src_keys[host]
        except KeyError:
            pass
        if len(self.src_keys) > 4096:
            self.src_keys.clear()
        text = host.partition("%")[0]
        key: bytes | None
        try:
            key = _socket.inet_pton(_socket.AF_INET6 if ":" in text else _socket.AF_INET, text)
        except OSError:
            key = None
        self.src_keys[host] = key
        return key

    def on_udp(self, lst: Listener) -> None:
        sock = lst.udp
        cache = self.cache
        index = lst.index
        for _ in range(UDP_BATCH):
            try:
                data, addr = sock.recvfrom(UDP_RECV)
            except (BlockingIOError, InterruptedError):
                return
            except OSError:
                return
            tail = cache.get((index, addr[0], data[2:]))
            if tail is not None:
                try:
                    sock.sendto(data[:2] + tail, addr)
                except OSError:
                    pass
                continue
            self.udp_query(lst, data, addr)

    def udp_query(self, lst: Listener, data: bytes, addr: tuple) -> None:
        try:
            q = wire.parse_query(data)
        except wire.DnsFormatError as e:
            self.log.debug(f"Error parsing dns message {e}")
            return
        src = self.src_key(addr[0])
        kind, value = decide(self.backend, lst.network, src, q, data, self.no_proxy)
        if kind == LOCAL:
            reply = value  # type: ignore[assignment]
            if len(reply) > max(q.udp_size, wire.MIN_UDP):  # type: ignore[arg-type]
                reply = wire.truncate_reply(data, q, reply)  # type: ignore[arg-type]
            try:
                lst.udp.sendto(reply, addr)  # type: ignore[arg-type]
            except OSError as e:
                self.log.error(f"[{q.id}] fail response: {e}")
                return
            if self.cache_max:
                if len(self.cache) >= self.cache_max:
                    self.cache.clear()
                self.cache[(lst.index, addr[0], data[2:])] = reply[2:]  # type: ignore[index]
        elif kind == FORWARD:
            self.forward((lst, addr), data, q, value, False)  # type: ignore[arg-type]

    def handle_tcp_message(self, conn: TcpConn, data: bytes) -> None:
        try:
            q = wire.parse_query(data)
        except wire.DnsFormatError as e:
            self.log.debug(f"Error parsing dns message {e}")
            conn.close()
            return
        kind, value = decide(self.backend, conn.listener.network, conn.src, q, data,
                             self.no_proxy)
        if kind == LOCAL:
            conn.send_frame(value)  # type: ignore[arg-type]
        elif kind == FORWARD:
            conn.pending += 1
            self.forward(conn, data, q, value, True)  # type: ignore[arg-type]

    def forward(self, client: object, data: bytes, q: wire.Query,
                servers: list[IpAddr] | None, tcp: bool) -> None:
        addrs = ([sockaddr(ip) for ip in servers] if servers
                 else list(self.host_nameservers()))
        if self.upstream_port != 53:
            addrs = [(a[0], self.upstream_port, *a[2:]) for a in addrs]
        if not addrs or len(self.forwards) >= MAX_FORWARDS:
            if isinstance(client, TcpConn):
                client.forward_done(None)
            return
        if self.log.debug_enabled:
            self.log.debug(f"Forwarding dns request for {wire.name_to_text(q.labels)} "
                           f"type: {q.qtype}")
        fw = Forward(self, client, data, q.qd_end, addrs, tcp)
        self.forwards.add(fw)
        fw.next()

    def on_accept(self, lst: Listener) -> None:
        while True:
            try:
                sock, addr = lst.tcp._accept()  # type: ignore[attr-defined]
            except (BlockingIOError, InterruptedError):
                return
            except OSError as e:
                if e.errno in (errno.EMFILE, errno.ENFILE) and self.tcp_conns:
                    # out of descriptors: sacrifice the oldest client connection
                    next(iter(self.tcp_conns.values())).close()
                    continue
                self.log.error(f"Failed to accept new tcp connection: {e}")
                return
            conn_sock = _socket.socket(fileno=sock)
            conn_sock.setblocking(False)
            if len(self.tcp_conns) >= MAX_TCP_CONNS:
                next(iter(self.tcp_conns.values())).close()
            conn = TcpConn(self, conn_sock, lst, self.src_key(addr[0]))
            self.tcp_conns[conn.fd] = conn
            self.register(conn.fd, EPOLLIN, conn.on_event)

    # -- signals and the loop ------------------------------------------------
    def _on_wake(self, ev: int) -> None:
        try:
            while os.read(self.wake_r, 64):
                pass
        except (BlockingIOError, InterruptedError):
            pass

    def _on_hup(self, signum: int, frame: object) -> None:
        self.hup = True

    def install_signals(self) -> None:
        r, w = os.pipe2(os.O_NONBLOCK | os.O_CLOEXEC)
        self.wake_r = r
        self.register(r, EPOLLIN, self._on_wake)
        _signal.set_wakeup_fd(w, warn_on_full_buffer=False)
        _signal.signal(_signal.SIGHUP, self._on_hup)

    def stop(self, code: int) -> None:
        self.stop_code = code

    def serve_forever(self) -> int:
        poll = self.ep.poll
        handlers = self.handlers
        while self.stop_code is None:
            timeout = self._run_timers()
            if self.stop_code is not None:
                break
            for fd, ev in poll(timeout):
                handler = handlers.get(fd)
                if handler is not None:
                    handler(ev)
            if self.hup:
                self.hup = False
                self.log.debug("Received SIGHUP")
                try:
                    errors = self.reload(False)
                except StartError as e:
                    self.log.error(str(e))
                    continue
                if errors:
                    self.log.error("\n".join(errors))
        return self.stop_code
