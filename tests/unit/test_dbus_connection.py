"""The blocking connection: against scripted peers and against a real dbus-daemon."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import pytest

from netavark.dbus import system_bus
from netavark.dbus.connection import Connection
from netavark.dbus.marshal import DbusDecodeError
from netavark.dbus.message import ERROR, METHOD_RETURN, SIGNAL, Framer, Message
from netavark.errors import DbusError

# -- a scripted peer ---------------------------------------------------------------


class ScriptedPeer:
    """A unix socket server whose single connection is handled by ``script``."""

    def __init__(self, directory: str, script) -> None:
        self.path = os.path.join(directory, "peer")
        self.address = f"unix:path={self.path}"
        self.listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.listener.bind(self.path)
        self.listener.listen(1)
        self.received = bytearray()
        self.framer = Framer()
        self.error: BaseException | None = None
        self.thread = threading.Thread(target=self._run, args=(script,), daemon=True)
        self.thread.start()

    def _run(self, script) -> None:
        conn, _ = self.listener.accept()
        try:
            script(self, conn)
        except BaseException as e:  # reported by join()
            self.error = e
        finally:
            conn.close()

    def read_until(self, conn: socket.socket, marker: bytes) -> None:
        while marker not in self.received:
            data = conn.recv(4096)
            if not data:
                raise EOFError
            self.received += data

    def next_message(self, conn: socket.socket) -> Message:
        while True:
            start = self.received.find(b"BEGIN\r\n") + 7
            msgs = self.framer.feed(bytes(self.received[start:]))
            self.received = self.received[:start]
            if msgs:
                self.pending = msgs[1:]
                return msgs[0]
            data = conn.recv(4096)
            if not data:
                raise EOFError
            self.received += data

    def handshake(self, conn: socket.socket, unique: str = ":1.42") -> Message:
        self.read_until(conn, b"BEGIN\r\n")
        assert self.received.startswith(b"\0AUTH EXTERNAL ")
        hello = self.next_message(conn)
        assert hello.member == "Hello" and hello.serial == 1
        conn.sendall(b"OK 0123456789abcdef0123456789abcdef\r\n")
        reply = Message.method_return(hello, "s", (unique,))
        reply.sender = "org.freedesktop.DBus"
        conn.sendall(reply.encode(1))
        return hello

    def join(self) -> None:
        self.thread.join(10)
        self.listener.close()
        if self.error is not None:
            raise self.error


def test_handshake_and_call_with_interleaved_signals(tmp_path) -> None:
    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.handshake(conn)
        call = peer.next_message(conn)
        assert (call.member, call.body) == ("getZoneOfSource", ("10.88.0.0/16",))
        # a signal and a stray reply arrive before the answer, all in one write,
        # and the answer itself is split across writes
        sig = Message.signal("/org/fedoraproject/FirewallD1", "org.fedoraproject.FirewallD1",
                             "Reloaded")
        sig.sender = ":1.7"
        stray = Message.method_return(call, "s", ("stray",))
        stray.reply_serial = 999
        answer = Message.method_return(call, "s", ("trusted",)).encode(9)
        conn.sendall(sig.encode(5) + stray.encode(6) + answer[:10])
        time.sleep(0.05)
        conn.sendall(answer[10:])
        peer.read_until(conn, b"never")  # wait for the client to hang up

    peer = ScriptedPeer(str(tmp_path), script)
    conn = Connection.connect(peer.address)
    assert conn.unique_name == ":1.42"
    assert conn.guid == "0123456789abcdef0123456789abcdef"
    reply = conn.call("org.fedoraproject.FirewallD1", "/org/fedoraproject/FirewallD1",
                      "org.fedoraproject.FirewallD1.zone", "getZoneOfSource", "s",
                      ("10.88.0.0/16",))
    assert reply.msg_type == METHOD_RETURN and reply.body == ("trusted",)
    sig = conn.receive(timeout=1)
    assert sig is not None and sig.is_signal("org.fedoraproject.FirewallD1", "Reloaded")
    assert conn.receive(timeout=0.05) is None and not conn.closed
    conn.close()
    with pytest.raises(EOFError):
        peer.join()


def test_error_reply_raises_dbus_error(tmp_path) -> None:
    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.handshake(conn)
        call = peer.next_message(conn)
        conn.sendall(Message.error(call, "org.fedoraproject.FirewallD1.Exception",
                                   "INVALID_ZONE: nope").encode(2))
        call = peer.next_message(conn)
        err = Message(ERROR, reply_serial=call.serial, error_name="org.x.NoText")
        conn.sendall(err.encode(3))

    peer = ScriptedPeer(str(tmp_path), script)
    conn = Connection.connect(peer.address)
    with pytest.raises(DbusError) as e:
        conn.call("d", "/p", "i.f", "M")
    assert str(e.value) == ("DBus error: org.fedoraproject.FirewallD1.Exception: "
                            "INVALID_ZONE: nope")
    assert e.value.name == "org.fedoraproject.FirewallD1.Exception"
    with pytest.raises(DbusError) as e:
        conn.call("d", "/p", "i.f", "M")
    assert str(e.value) == "DBus error: org.x.NoText: no details"
    conn.close()
    peer.join()


def test_call_timeout(tmp_path) -> None:
    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.handshake(conn)
        peer.next_message(conn)
        peer.read_until(conn, b"never")

    peer = ScriptedPeer(str(tmp_path), script)
    conn = Connection.connect(peer.address)
    t0 = time.monotonic()
    with pytest.raises(DbusError) as e:
        conn.call("d", "/p", "i.f", "M", timeout=0.2)
    assert 0.15 < time.monotonic() - t0 < 5
    assert str(e.value) == "DBus error: I/O error: Connection timed out (os error 110)"
    conn.close()
    with pytest.raises(EOFError):
        peer.join()


def test_rejected_handshake(tmp_path) -> None:
    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.read_until(conn, b"BEGIN\r\n")
        conn.sendall(b"REJECTED DBUS_COOKIE_SHA1\r\n")

    peer = ScriptedPeer(str(tmp_path), script)
    with pytest.raises(DbusError) as e:
        Connection.connect(peer.address)
    assert str(e.value) == ("DBus error: D-Bus handshake failed: EXTERNAL authentication "
                            "rejected (server offers: DBUS_COOKIE_SHA1)")
    peer.join()


def test_peer_hangs_up_during_handshake(tmp_path) -> None:
    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.read_until(conn, b"BEGIN\r\n")

    peer = ScriptedPeer(str(tmp_path), script)
    with pytest.raises(DbusError) as e:
        Connection.connect(peer.address)
    assert str(e.value) == "DBus error: D-Bus handshake failed: the bus closed the connection"
    peer.join()


def test_garbage_from_the_bus(tmp_path) -> None:
    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.handshake(conn)
        peer.next_message(conn)
        conn.sendall(b"X" * 32)
        peer.read_until(conn, b"never")

    peer = ScriptedPeer(str(tmp_path), script)
    conn = Connection.connect(peer.address)
    with pytest.raises(DbusDecodeError):
        conn.call("d", "/p", "i.f", "M")
    assert conn.closed
    with pytest.raises(DbusError):
        conn.call("d", "/p", "i.f", "M")
    conn.close()
    with pytest.raises(EOFError):
        peer.join()


def test_we_answer_calls_addressed_to_us(tmp_path) -> None:
    answers: list[Message] = []

    def script(peer: ScriptedPeer, conn: socket.socket) -> None:
        peer.handshake(conn)
        ping = Message.method_call(":1.42", "/", "org.freedesktop.DBus.Peer", "Ping")
        ping.sender = ":1.1"
        other = Message.method_call(":1.42", "/", "org.example.Thing", "Frob")
        other.sender = ":1.1"
        conn.sendall(ping.encode(10) + other.encode(11))
        answers.append(peer.next_message(conn))
        answers.extend(peer.pending)
        while len(answers) < 2:
            answers.append(peer.next_message(conn))
        conn.sendall(Message.signal("/x", "org.example.Thing", "Done").encode(12))

    peer = ScriptedPeer(str(tmp_path), script)
    conn = Connection.connect(peer.address)
    msg = conn.receive(timeout=5)
    assert msg is not None and msg.member == "Done"
    peer.join()
    assert [(m.msg_type, m.reply_serial) for m in answers] == [(METHOD_RETURN, 10),
                                                               (ERROR, 11)]
    assert answers[1].error_name == "org.freedesktop.DBus.Error.UnknownMethod"
    assert conn.receive(timeout=1) is None and conn.closed
    conn.close()


def test_connect_errors(tmp_path) -> None:
    missing = tmp_path / "nope"
    with pytest.raises(DbusError) as e:
        Connection.connect(f"unix:path={missing}")
    assert str(e.value) == "DBus error: I/O error: No such file or directory (os error 2)"
    plain = tmp_path / "file"
    plain.write_text("")
    with pytest.raises(DbusError) as e:
        Connection.connect(f"unix:path={plain}")
    assert str(e.value) == "DBus error: I/O error: Connection refused (os error 111)"


# -- a real dbus-daemon -------------------------------------------------------------




def test_system_bus_from_environment(daemon, monkeypatch) -> None:
    address, _ = daemon
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", f"tcp:host=localhost,port=1;{address}")
    with system_bus() as conn:
        assert conn.unique_name.startswith(":")
        (names,) = conn.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", "ListNames").expect("as")
        assert conn.unique_name in names
        assert conn.name_owner("org.freedesktop.DBus") == "org.freedesktop.DBus"
        with pytest.raises(DbusError) as e:
            conn.name_owner("org.fedoraproject.FirewallD1")
        assert e.value.name == "org.freedesktop.DBus.Error.NameHasNoOwner"
        assert str(e.value) == (
            "DBus error: org.freedesktop.DBus.Error.NameHasNoOwner: Could not get owner of "
            "name 'org.fedoraproject.FirewallD1': no such name")


def test_signals_carry_the_unique_sender_name(daemon) -> None:
    address, _ = daemon
    with Connection.connect(address) as emitter, Connection.connect(address) as listener:
        reply = emitter.call("org.freedesktop.DBus", "/org/freedesktop/DBus",
                             "org.freedesktop.DBus", "RequestName", "su",
                             ("org.netavark.Test", 0))
        assert reply.expect("u") == (1,)  # primary owner
        listener.add_match("type='signal',sender='org.netavark.Test',path='/org/netavark/Test',"
                           "interface='org.netavark.Test',member='Reloaded'")
        # a matching signal from somebody else must not be delivered
        with Connection.connect(address) as impostor:
            impostor.send(Message.signal("/org/netavark/Test", "org.netavark.Test",
                                         "Reloaded"))
            emitter.send(Message.signal("/org/netavark/Test", "org.netavark.Test",
                                        "Reloaded", "s", ("real",)))
            got = []
            while True:
                msg = listener.receive(timeout=1)
                if msg is None:
                    break
                if msg.member == "Reloaded":
                    got.append(msg)
        assert [(m.msg_type, m.sender, m.body) for m in got] == [
            (SIGNAL, emitter.unique_name, ("real",))]


def test_bus_going_away_ends_receive(daemon) -> None:
    address, pid = daemon
    conn = Connection.connect(address)
    conn.add_match("type='signal',interface='org.netavark.Nothing'")
    os.kill(pid, signal.SIGKILL)
    t0 = time.monotonic()
    while conn.receive(timeout=5) is not None:
        pass
    assert conn.closed
    assert time.monotonic() - t0 < 5
    with pytest.raises(DbusError):
        conn.call("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus",
                  "ListNames")
