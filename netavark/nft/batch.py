"""A transaction built as data: the messages of one nf_tables batch (sans-IO).

Every operation becomes one message with a description used in errors
(``add rule inet netavark INPUT``).  :meth:`Batch.encode` frames them between
``NFNL_MSG_BATCH_BEGIN`` (optionally carrying the ruleset generation the batch
was computed from, so the kernel refuses it with ``ERESTART`` if anything
changed since) and ``NFNL_MSG_BATCH_END``; every object message asks for an
ACK.  :func:`check_replies` turns the kernel's answers into one error.
"""

from __future__ import annotations

from ..errors import NetavarkError, NetlinkError
from ..netlink.attrs import NLA_F_NESTED, pack_attr
from ..netlink.message import NLM_F_ACK, NLM_F_APPEND, NLM_F_CREATE, NLM_F_REQUEST, pack_message
from . import consts as C
from . import policies as P
from .expr import encode_list
from .objects import Chain, Rule, SetElems, Table, nfgenmsg
from .stmt import AnonSet, linearize

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Sequence

    from .expr import Expr

_FAMILY_NAME = {C.NFPROTO_INET: "inet", C.NFPROTO_IPV4: "ip", C.NFPROTO_IPV6: "ip6",
                C.NFPROTO_ARP: "arp", C.NFPROTO_BRIDGE: "bridge", C.NFPROTO_NETDEV: "netdev"}


class Op:
    """One message of a batch."""

    __slots__ = ("desc", "flags", "msg_type", "payload")

    def __init__(self, nft_msg: int, flags: int, payload: bytes, desc: str) -> None:
        self.msg_type = C.msg_type(nft_msg)
        self.flags = flags
        self.payload = payload
        self.desc = desc


class Batch:
    """Operations on one table, in order; nothing is sent until committed."""

    def __init__(self, table: str, family: int = C.NFPROTO_INET) -> None:
        self.table = table
        self.family = family
        self.ops: list[Op] = []
        self._set_id = 0
        self._rule_heads: dict[str, bytes] = {}
        self._where = f"{_FAMILY_NAME.get(family, family)} {table}"

    def __len__(self) -> int:
        return len(self.ops)

    def _op(self, nft_msg: int, flags: int, payload: bytes, desc: str) -> None:
        self.ops.append(Op(nft_msg, NLM_F_REQUEST | flags, payload, f"{desc}"))

    # -- objects --------------------------------------------------------
    def add_table(self, flags: int = 0) -> None:
        t = Table(self.table, self.family, flags=flags)
        self._op(C.NFT_MSG_NEWTABLE, 0, t.encode(), f"add table {self._where}")

    def add_chain(self, chain: Chain) -> None:
        self._op(C.NFT_MSG_NEWCHAIN, NLM_F_CREATE, chain.encode(),
                 f"add chain {self._where} {chain.name}")

    def delete_chain(self, name: str) -> None:
        c = Chain(self.table, name, self.family)
        self._op(C.NFT_MSG_DELCHAIN, 0, c.encode_key(), f"delete chain {self._where} {name}")

    def add_rule(self, chain: str, stmts: Sequence[tuple], *, insert: bool = False) -> None:
        """Append (or, with ``insert``, prepend) a rule given as statements."""
        self.add_rule_exprs(chain, linearize(stmts, self._alloc_set), insert=insert)

    def add_rule_exprs(self, chain: str, exprs: list[Expr], *, insert: bool = False) -> None:
        head = self._rule_heads.get(chain)
        if head is None:  # nfgenmsg + table + chain, the same for every rule of a chain
            head = Rule(self.table, chain, None, self.family).encode()
            self._rule_heads[chain] = head
        payload = head + pack_attr(P.NFTA_RULE_EXPRESSIONS | NLA_F_NESTED, encode_list(exprs))
        verb = "insert" if insert else "add"
        self._op(C.NFT_MSG_NEWRULE, NLM_F_CREATE | (0 if insert else NLM_F_APPEND), payload,
                 f"{verb} rule {self._where} {chain}")

    def delete_rule(self, chain: str, handle: int) -> None:
        r = Rule(self.table, chain, None, self.family, handle=handle)
        self._op(C.NFT_MSG_DELRULE, 0, r.encode_delete(),
                 f"delete rule {self._where} {chain} handle {handle}")

    def _alloc_set(self, s: AnonSet) -> int:
        """Create an anonymous set right before the rule that uses it (as nft does)."""
        self._set_id += 1
        sid = self._set_id
        set_obj = s.set_object(self.table, sid, self.family)
        self._op(C.NFT_MSG_NEWSET, NLM_F_CREATE, set_obj.encode(), f"add set {self._where} __set%d")
        elems = SetElems(self.table, "__set%d", s.elems(), self.family, set_id=sid)
        self._op(C.NFT_MSG_NEWSETELEM, NLM_F_CREATE, elems.encode(),
                 f"add element {self._where} __set%d")
        return sid

    # -- framing --------------------------------------------------------
    def encode(self, first_seq: int, genid: int | None = None,
               ack_all: bool = True) -> tuple[bytes, list[int]]:
        """The datagram, and the sequence numbers of the ops (begin = first_seq,
        ops = first_seq+1..., end = the one after).

        Every operation asks for an ACK, unless ``ack_all`` is false (a receive
        buffer too small to queue them all): then only the last one does —
        errors are reported for every operation anyway.
        """
        begin_attrs = b""
        if genid is not None:
            begin_attrs = P.BATCH.encode([("genid", genid)])
        parts = [pack_message(C.NFNL_MSG_BATCH_BEGIN, NLM_F_REQUEST, first_seq,
                              nfgenmsg(C.NFPROTO_UNSPEC, C.NFNL_SUBSYS_NFTABLES) + begin_attrs)]
        seqs = []
        seq = first_seq
        last = len(self.ops) - 1
        for i, op in enumerate(self.ops):
            seq += 1
            seqs.append(seq)
            ack = NLM_F_ACK if ack_all or i == last else 0
            parts.append(pack_message(op.msg_type, op.flags | ack, seq, op.payload))
        parts.append(pack_message(C.NFNL_MSG_BATCH_END, NLM_F_REQUEST, seq + 1,
                                  nfgenmsg(C.NFPROTO_UNSPEC, C.NFNL_SUBSYS_NFTABLES)))
        return b"".join(parts), seqs


class Reply:
    """An ACK or error received for one sequence number."""

    __slots__ = ("errno", "extack")

    def __init__(self, errno: int, extack: str = "") -> None:
        self.errno = errno
        self.extack = extack


def check_replies(batch: Batch, begin_seq: int, seqs: list[int],
                  replies: dict[int, Reply], ack_all: bool = True) -> None:
    """Raise the error the batch failed with, naming the operation (sans-IO).

    The kernel answers the BEGIN message only when it refuses the whole batch
    (e.g. ``ERESTART``: the generation changed).  Otherwise every operation
    that asked for an ACK has an ACK or an error; the first error in batch
    order is reported (later ones are often just consequences of it).
    """
    begin = replies.get(begin_seq)
    if begin is not None and begin.errno:
        raise NetlinkError(begin.errno, f"commit batch on {batch._where}", begin.extack)
    missing = []
    last = len(seqs) - 1
    for i, (op, seq) in enumerate(zip(batch.ops, seqs)):
        r = replies.get(seq)
        if r is None:
            if ack_all or i == last:
                missing.append(op.desc)
        elif r.errno:
            raise NetlinkError(r.errno, op.desc, r.extack)
    if missing:
        raise NetavarkError(
            f"netlink: no acknowledgement for {len(missing)} message(s), first: {missing[0]}")
