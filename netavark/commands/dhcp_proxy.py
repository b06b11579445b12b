"""``netavark dhcp-proxy``: the long-running DHCP proxy serving gRPC on a Unix socket.

Run directory: env ``NETAVARK_PROXY_RUN_DIR_ENV``, else ``--dir``, else
``/run/podman``; it holds ``nv-proxy.sock`` and ``nv-proxy.lease``.  ``--uds``
is accepted and ignored, as upstream does.  With ``LISTEN_FDS`` (systemd socket
activation) fd 3 is the listening socket and is never removed.
"""

from __future__ import annotations

import os
import sys

from .. import log
from ..errors import IoError, NetavarkError, io_display

TYPE_CHECKING = False
if TYPE_CHECKING:
    import asyncio
    import socket

    from ..cli import Context

_log = log.Logger("netavark::commands::dhcp_proxy")

RUN_DIR = "/run/podman"
RUN_DIR_ENV = "NETAVARK_PROXY_RUN_DIR_ENV"
SOCK_NAME = "nv-proxy.sock"
CACHE_NAME = "nv-proxy.lease"
DEFAULT_TIMEOUT = 8
DEFAULT_INACTIVITY_TIMEOUT = 300
SYSTEMD_FD = 3


def run_dir(opt: str | None) -> str:
    env = os.environ.get(RUN_DIR_ENV)
    if env is not None:
        return env
    return opt if opt is not None else RUN_DIR


def run(ctx: Context) -> None:
    import asyncio

    args = ctx.args
    directory = run_dir(args.get("dir"))
    dora_timeout = args.get("timeout", DEFAULT_TIMEOUT)
    activity_timeout = args.get("activity_timeout", DEFAULT_INACTIVITY_TIMEOUT)
    asyncio.run(serve(directory, dora_timeout, activity_timeout))


def _listen(uds_path: str) -> tuple[socket.socket, bool]:
    import socket

    fds = os.environ.get("LISTEN_FDS")
    if fds is not None:
        if fds != "1":
            raise NetavarkError("Received more than one FD from systemd")
        try:
            sock = socket.socket(fileno=SYSTEMD_FD)
            sock.setblocking(False)
        except OSError as e:
            raise IoError.from_os(e) from None
        return sock, True
    parent = os.path.dirname(uds_path)
    if parent:
        try:
            os.makedirs(parent, exist_ok=True)
        except OSError as e:
            raise IoError.from_os(e) from None
    _install_signal_handlers(uds_path)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM | socket.SOCK_CLOEXEC)
    try:
        sock.bind(uds_path)
        sock.listen(1024)
        sock.setblocking(False)
    except OSError as e:
        sock.close()
        raise IoError.from_os(e) from None
    return sock, False


def _install_signal_handlers(uds_path: str) -> None:
    import asyncio
    import signal

    loop = asyncio.get_running_loop()

    def on_signal(name: str) -> None:
        _log.warn(f"Received {name}, cleaning up and exiting")
        try:
            os.unlink(uds_path)
        except OSError as e:
            _log.error(f"Could not close uds socket: {io_display(e.errno or 0)}")
        sys.stdout.flush()
        sys.stderr.flush()
        # upstream exits with status 0x100, which the kernel reports as 0
        os._exit(0)

    loop.add_signal_handler(signal.SIGTERM, on_signal, "SIGTERM")
    loop.add_signal_handler(signal.SIGINT, on_signal, "SIGINT")


async def serve(directory: str, dora_timeout: int, activity_timeout: int) -> None:
    import asyncio

    from ..dhcp.cache import LeaseCache
    from ..dhcp.server import connection_handler
    from ..dhcp.service import ProxyService

    uds_path = os.path.join(directory, SOCK_NAME)
    _log.debug(f"socket path: {uds_path}")
    sock, activated = _listen(uds_path)

    cache_path = os.path.join(directory, CACHE_NAME)
    try:
        cache_file = open(cache_path, "w", encoding="utf-8")  # noqa: SIM115 (lives forever)
    except OSError as e:
        raise NetavarkError("Exiting. Could not create lease cache file: "
                            f"{io_display(e.errno or 0)}") from None
    _log.debug(f"Successfully created leases file: {cache_path!r}")
    cache = LeaseCache(cache_file)

    activity = asyncio.Event()
    service = ProxyService(cache, dora_timeout,
                           activity.set if activity_timeout > 0 else None)
    server = await asyncio.start_unix_server(connection_handler(service.methods()), sock=sock)
    try:
        if activity_timeout > 0:
            await _wait_inactive(activity, activity_timeout, cache)
        else:
            await asyncio.Event().wait()  # serve until a signal
    finally:
        server.close()
        service.cancel_all()
    # socket activation: the socket belongs to systemd, removing it breaks new clients
    if not activated:
        try:
            os.unlink(uds_path)
        except OSError as e:
            raise IoError.from_os(e) from None


async def _wait_inactive(activity: asyncio.Event, seconds: int, cache: object) -> None:
    """Return once ``seconds`` pass without a request while no lease is held."""
    import asyncio

    while True:
        try:
            await asyncio.wait_for(activity.wait(), seconds)
            activity.clear()
            _log.debug("timeout timer reset")
        except asyncio.TimeoutError:
            if cache.is_empty():  # type: ignore[attr-defined]
                sys.stdout.write(f"timeout met: exiting after {seconds} secs of inactivity\n")
                sys.stdout.flush()
                return
