"""Talking nf_tables to the kernel: gets, filtered dumps and batch commits.

The kernel processes a batch synchronously inside ``sendmsg``: when it
returns, every ACK and error is already queued on our socket.  So a commit
sends the batch, then reads without blocking until the queue is empty, and
checks that each message got its answer.  Because all answers must fit in the
receive queue at once, the buffer is grown to the batch size first
(``SO_RCVBUFFORCE`` when privileged, else ``SO_RCVBUF``).
"""

from __future__ import annotations

import _socket
import errno as _errno
import struct

from ..errors import IoError, NetavarkError, NetlinkError
from ..netlink.message import (
    NLM_F_DUMP,
    NLM_F_DUMP_INTR,
    NLM_F_REQUEST,
    NLMSG_DONE,
    NLMSG_ERROR,
    RawMessage,
    pack_message,
    parse_error,
)
from ..netlink.socket import NETLINK_NETFILTER, NetlinkSocket, Request
from . import consts as C
from . import policies as P
from .batch import Batch, Reply, check_replies
from .objects import Chain, Rule, Set, SetElems, Table, decode_genid, nfgenmsg

_MSG_DONTWAIT = 0x40
_HDR = struct.Struct("=IHHII")  # nlmsghdr
_HDR_ERR = struct.Struct("=IHHIIi")  # nlmsghdr + the error field of nlmsgerr
_ACK = Reply(0)
_SO_SNDBUFFORCE = 32
_SO_RCVBUFFORCE = 33
# what one queued ACK/error costs in the receive buffer (skb truesize), generously
_REPLY_COST = 1280
_MIN_RCVBUF = 1 << 20


def close_detached(fd: int) -> None:
    """Close ``fd`` without waiting for the kernel's release work.

    Releasing a netfilter socket after a commit makes the kernel flush the
    transaction clean-up work (an RCU grace period, ~10 ms) before ``close``
    returns.  A one-shot command hands its last reference to a short-lived
    child that does the waiting, so the command itself exits at once.
    """
    import os

    try:
        pid = os.fork()
    except OSError:
        os.close(fd)
        return
    if pid == 0:  # child: keep nothing but the socket, close it, leave
        try:
            os.setsid()
            for name in os.listdir("/proc/self/fd"):
                other = int(name)
                if other != fd:
                    try:
                        os.close(other)
                    except OSError:
                        pass
            os.close(fd)
        finally:
            os._exit(0)
    os.close(fd)


class NftSocket(NetlinkSocket):
    """A ``NETLINK_NETFILTER`` socket with nf_tables conveniences."""

    def __init__(self) -> None:
        super().__init__(NETLINK_NETFILTER, strict=False)
        self._rcvbuf = 0
        self._sndbuf = 0
        self._committed = False

    def release_at_exit(self) -> None:
        """Close in the background when the process exits (one-shot commands)."""
        import atexit

        atexit.register(self._release)

    def _release(self) -> None:
        if self._sock.fileno() < 0:
            return
        if not self._committed:
            self.close()
            return
        fd = self._sock.detach()
        close_detached(fd)

    # -- reads ----------------------------------------------------------
    def genid(self) -> int:
        """The current ruleset generation (changes with every commit)."""
        replies = self.request(C.msg_type(C.NFT_MSG_GETGEN), 0, nfgenmsg(C.NFPROTO_UNSPEC),
                               "get generation")
        for m in replies:
            if m.type == C.msg_type(C.NFT_MSG_NEWGEN):
                return decode_genid(m.payload)
        raise NetavarkError("get generation: no answer from the kernel")

    def snapshot(self, table: str, chains: list[str],
                 family: int = C.NFPROTO_INET) -> tuple[int, bool, dict[str, Chain | None]]:
        """Generation id, whether ``table`` exists, and the named chains — one datagram.

        The generation is read first: anything committed after it makes a batch
        carrying it fail, so what is read here can be trusted until then.
        """
        reqs = [Request(C.msg_type(C.NFT_MSG_GETGEN), 0, nfgenmsg(C.NFPROTO_UNSPEC),
                        "get generation"),
                Request(C.msg_type(C.NFT_MSG_GETTABLE), 0, Table(table, family).encode_key(),
                        f"get table {table}")]
        reqs += [Request(C.msg_type(C.NFT_MSG_GETCHAIN), 0,
                         Chain(table, n, family).encode_key(), f"get chain {table} {n}")
                 for n in chains]
        self.transact(reqs)
        gen = reqs[0]
        if gen.error is not None:
            raise gen.error
        genid = None
        for m in gen.replies:
            if m.type == C.msg_type(C.NFT_MSG_NEWGEN):
                genid = decode_genid(m.payload)
        if genid is None:
            raise NetavarkError("get generation: no answer from the kernel")
        exists = not _absent(reqs[1])
        found: dict[str, Chain | None] = {}
        for name, req in zip(chains, reqs[2:]):
            found[name] = None if _absent(req) else Chain.decode(req.replies[0].payload)
        return genid, exists, found

    def get_table(self, name: str, family: int = C.NFPROTO_INET) -> Table | None:
        req = Request(C.msg_type(C.NFT_MSG_GETTABLE), 0, Table(name, family).encode_key(),
                      f"get table {name}")
        (req,) = self.transact([req])
        if _absent(req):
            return None
        return Table.decode(req.replies[0].payload)

    def get_chains(self, table: str, names: list[str],
                   family: int = C.NFPROTO_INET) -> dict[str, Chain | None]:
        """Look chains up by name (one datagram; absent ones map to None)."""
        reqs = [Request(C.msg_type(C.NFT_MSG_GETCHAIN), 0,
                        Chain(table, n, family).encode_key(), f"get chain {table} {n}")
                for n in names]
        out: dict[str, Chain | None] = {}
        for name, req in zip(names, self.transact(reqs)):
            out[name] = None if _absent(req) else Chain.decode(req.replies[0].payload)
        return out

    def _dump(self, nft_msg: int, payload: bytes, op: str) -> list[RawMessage]:
        (req,) = self.transact([Request(C.msg_type(nft_msg), NLM_F_DUMP, payload, op)])
        if req.error is not None:
            if req.error.errno == _errno.ENOENT:
                return []
            raise req.error
        return req.replies

    def dump_rules(self, table: str, chain: str | None = None,
                   family: int = C.NFPROTO_INET) -> list[Rule]:
        """Rules of a table, or of one chain (filtered by the kernel)."""
        return [Rule.decode(p) for p in self.dump_rules_raw(table, chain, family)]

    def dump_rules_raw(self, table: str, chain: str | None = None,
                       family: int = C.NFPROTO_INET) -> list[bytes]:
        """Undecoded ``NFT_MSG_NEWRULE`` payloads (callers decode only what they need).

        A chain may hold thousands of rules (one per published port), so the
        replies are split here with a plain loop instead of message objects.
        """
        attrs = [("table", table), ("chain", chain)]
        payload = nfgenmsg(family) + P.RULE.encode(attrs)
        op = f"list rules {table} {chain or ''}".rstrip()
        seq = self.next_seq()
        self.send_raw(pack_message(C.msg_type(C.NFT_MSG_GETRULE), NLM_F_REQUEST | NLM_F_DUMP,
                                   seq, payload))
        want = C.msg_type(C.NFT_MSG_NEWRULE)
        out: list[bytes] = []
        buf = self._buf
        while True:
            try:
                n = self._sock.recv_into(buf)
            except OSError as e:
                raise NetavarkError(f"recv from netlink: {IoError.from_os(e)}") from None
            data = bytes(buf[:n])
            off = 0
            while off + 16 <= n:
                length, mtype, flags, mseq, _pid = _HDR.unpack_from(data, off)
                if length < 16 or off + length > n:
                    raise NetavarkError("netlink: malformed reply to a rule dump")
                if mseq != seq:
                    raise NetavarkError(
                        f"netlink: sequence_number out of sync (got {mseq}, want {seq})")
                if mtype == want:
                    out.append(data[off + 16:off + length])
                elif mtype == NLMSG_DONE:
                    if flags & NLM_F_DUMP_INTR:
                        raise NetlinkError(_errno.EINTR, op, "dump interrupted")
                    return out
                elif mtype == NLMSG_ERROR:
                    e = parse_error(RawMessage(mtype, flags, mseq, _pid,
                                               data[off + 16:off + length]))
                    if e.error == -_errno.ENOENT:
                        return []
                    if e.error:
                        raise NetlinkError(-e.error, op, e.extack)
                off += (length + 3) & ~3

    def dump_chains(self, table: str, family: int = C.NFPROTO_INET) -> list[Chain]:
        msgs = self._dump(C.NFT_MSG_GETCHAIN, nfgenmsg(family) + P.CHAIN.encode([("table", table)]),
                          f"list chains {table}")
        want = C.msg_type(C.NFT_MSG_NEWCHAIN)
        return [c for c in (Chain.decode(m.payload) for m in msgs if m.type == want)
                if c.table == table]

    def dump_tables(self, family: int = C.NFPROTO_UNSPEC) -> list[Table]:
        msgs = self._dump(C.NFT_MSG_GETTABLE, nfgenmsg(family), "list tables")
        want = C.msg_type(C.NFT_MSG_NEWTABLE)
        return [Table.decode(m.payload) for m in msgs if m.type == want]

    def dump_sets(self, table: str, family: int = C.NFPROTO_INET) -> list[Set]:
        msgs = self._dump(C.NFT_MSG_GETSET, nfgenmsg(family) + P.SET.encode([("table", table)]),
                          f"list sets {table}")
        want = C.msg_type(C.NFT_MSG_NEWSET)
        return [Set.decode(m.payload) for m in msgs if m.type == want]

    def dump_set_elems(self, table: str, set_name: str,
                       family: int = C.NFPROTO_INET) -> list[SetElems]:
        msgs = self._dump(C.NFT_MSG_GETSETELEM,
                          SetElems(table, set_name, [], family).encode_key(),
                          f"list elements {table} {set_name}")
        want = C.msg_type(C.NFT_MSG_NEWSETELEM)
        return [SetElems.decode(m.payload) for m in msgs if m.type == want]

    # -- commit ---------------------------------------------------------
    def commit(self, batch: Batch, genid: int | None = None) -> None:
        """Apply ``batch`` atomically; raise the first error, naming its operation."""
        if not batch.ops:
            return
        ack_all = self._grow_rcvbuf(len(batch.ops))
        begin = self.next_seq()
        data, seqs = batch.encode(begin, genid, ack_all)
        self._seq = seqs[-1] + 1  # BATCH_END used the next number
        self._grow_sndbuf(len(data))
        self._committed = True
        self.send_raw(data)
        replies: dict[int, Reply] = {}
        while self._drain_into(replies):
            pass
        check_replies(batch, begin, seqs, replies, ack_all)

    def _drain_into(self, replies: dict[int, Reply]) -> bool:
        """Read one queued datagram of ACKs/errors without blocking; False when empty.

        A batch of thousands of rules gets thousands of ACKs, so this is kept
        lean: only error messages are fully decoded.
        """
        try:
            n = self._sock.recv_into(self._buf, 0, _MSG_DONTWAIT)
        except BlockingIOError:
            return False
        except OSError as e:
            if e.errno == _errno.ENOBUFS:
                raise NetavarkError("netlink receive buffer overflow: acknowledgements of the "
                                    "nftables batch were lost") from None
            raise NetavarkError(f"recv from netlink: {IoError.from_os(e)}") from None
        buf = self._buf
        off = 0
        while off + 20 <= n:
            length, mtype, flags, seq, _pid, err = _HDR_ERR.unpack_from(buf, off)
            if length < 16 or off + length > n:
                raise NetavarkError("netlink: malformed reply to an nftables batch")
            if mtype == NLMSG_ERROR:
                if err == 0:
                    replies[seq] = _ACK
                else:
                    msg = RawMessage(mtype, flags, seq, _pid, bytes(buf[off + 16:off + length]))
                    e = parse_error(msg)
                    replies[seq] = Reply(-e.error, e.extack)
            off += (length + 3) & ~3
        return True

    def _grow_rcvbuf(self, n_msgs: int) -> bool:
        """Make room for an answer to every message; False if that is impossible
        (unprivileged, capped by net.core.rmem_max): ask for fewer ACKs then."""
        need = max(_MIN_RCVBUF, (n_msgs + 16) * _REPLY_COST)
        if need > self._rcvbuf:
            self._set_buf(_SO_RCVBUFFORCE, _socket.SO_RCVBUF, need)
            try:  # the limit the kernel enforces (twice what was asked, or the cap)
                self._rcvbuf = self._sock.getsockopt(_socket.SOL_SOCKET, _socket.SO_RCVBUF)
            except OSError:
                self._rcvbuf = 0
        return self._rcvbuf >= (n_msgs + 16) * _REPLY_COST

    def _grow_sndbuf(self, size: int) -> None:
        # a netlink datagram must fit in the send buffer as a whole
        need = size + 4096
        if need > self._sndbuf:
            self._set_buf(_SO_SNDBUFFORCE, _socket.SO_SNDBUF, need)
            self._sndbuf = need

    def _set_buf(self, force_opt: int, opt: int, size: int) -> None:
        size = min(size, 0x3FFFFFFF)  # the kernel caps at INT_MAX / 2 anyway
        sock = self._sock
        try:
            sock.setsockopt(_socket.SOL_SOCKET, force_opt, size)
        except OSError:
            try:  # unprivileged: capped by net.core.[rw]mem_max
                sock.setsockopt(_socket.SOL_SOCKET, opt, size)
            except OSError:
                pass


def _absent(req: Request) -> bool:
    """True if a get failed with ENOENT; other errors are raised."""
    if req.error is None:
        return not req.replies
    if req.error.errno == _errno.ENOENT:
        return True
    raise req.error
