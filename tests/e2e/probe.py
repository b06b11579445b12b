"""Network probes for the Podman end-to-end tests (standard library only).

Runs on the test's namespaces and inside containers (the busybox image gets the
host's ``/usr`` mounted read-only, so ``/usr/bin/python3`` works there):

    probe.py http HOST PORT [TIMEOUT]      GET / and print the body
    probe.py udp HOST PORT MESSAGE [TIMEOUT]   send a datagram, print the reply
    probe.py udp-echo PORT TAG             answer every datagram with "TAG:<datagram>"
    probe.py tcp HOST PORT [TIMEOUT]       connect and print what the server sends
    probe.py whoami PORT                   tell every TCP client its source address

Clients retry until TIMEOUT (servers may still be starting); on failure they
print the last error to stderr and exit 1.
"""

from __future__ import annotations

import socket
import sys
import time


def _addr(host: str, port: int, kind: int) -> tuple:
    family, _, _, _, sockaddr = socket.getaddrinfo(host, port, type=kind)[0]
    return family, sockaddr


def http(host: str, port: int, timeout: float) -> str:
    family, sockaddr = _addr(host, port, socket.SOCK_STREAM)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(max(0.2, min(2.0, deadline - time.monotonic())))
                s.connect(sockaddr)
                s.sendall(b"GET / HTTP/1.0\r\nHost: probe\r\n\r\n")
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            _, _, body = data.partition(b"\r\n\r\n")
            if not data.startswith(b"HTTP/1.") or b" 200 " not in data.split(b"\r\n")[0]:
                raise OSError(f"bad reply {data[:80]!r}")
            return body.decode().strip()
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def tcp(host: str, port: int, timeout: float) -> str:
    family, sockaddr = _addr(host, port, socket.SOCK_STREAM)
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.socket(family, socket.SOCK_STREAM) as s:
                s.settimeout(max(0.2, min(2.0, deadline - time.monotonic())))
                s.connect(sockaddr)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        return data.decode().strip()
                    data += chunk
        except OSError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.1)


def whoami(port: int) -> None:
    s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
    s.bind(("::", port))
    s.listen(16)
    print("ready", flush=True)
    while True:
        conn, peer = s.accept()
        with conn:
            host = peer[0]
            conn.sendall(host.removeprefix("::ffff:").encode() + b"\n")


def udp(host: str, port: int, message: str, timeout: float) -> str:
    family, sockaddr = _addr(host, port, socket.SOCK_DGRAM)
    deadline = time.monotonic() + timeout
    with socket.socket(family, socket.SOCK_DGRAM) as s:
        s.connect(sockaddr)
        while True:
            try:
                s.send(message.encode())
                s.settimeout(max(0.1, min(0.5, deadline - time.monotonic())))
                return s.recv(65536).decode()
            except OSError:
                # timeout, or ECONNREFUSED from an ICMP port unreachable
                if time.monotonic() >= deadline:
                    raise


def udp_echo(port: int, tag: str) -> None:
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind(("::", port))
    except OSError:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("0.0.0.0", port))
    while True:
        data, peer = s.recvfrom(65536)
        s.sendto(tag.encode() + b":" + data, peer)


def main(argv: list[str]) -> int:
    cmd = argv[0]
    try:
        if cmd == "http":
            timeout = float(argv[3]) if len(argv) > 3 else 10.0
            print(http(argv[1], int(argv[2]), timeout))
        elif cmd == "udp":
            timeout = float(argv[4]) if len(argv) > 4 else 10.0
            print(udp(argv[1], int(argv[2]), argv[3], timeout))
        elif cmd == "tcp":
            timeout = float(argv[3]) if len(argv) > 3 else 10.0
            print(tcp(argv[1], int(argv[2]), timeout))
        elif cmd == "whoami":
            whoami(int(argv[1]))
        elif cmd == "udp-echo":
            udp_echo(int(argv[1]), argv[2])
        else:
            print(f"unknown probe {cmd}", file=sys.stderr)
            return 2
    except OSError as e:
        print(f"{cmd} {' '.join(argv[1:3])}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
