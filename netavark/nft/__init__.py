"""nf_tables over nfnetlink, without the ``nft`` program.

* :mod:`.consts`, :mod:`.policies` — numbers and attribute tables of the uapi;
* :mod:`.expr` — one class per kernel expression (encode/decode symmetric);
* :mod:`.objects` — tables, chains, rules, sets, set elements as messages;
* :mod:`.stmt` — nft-level statements and their translation to and from
  expressions (the same bytecode ``nft`` generates);
* :mod:`.batch` — a transaction built as data (sans-IO);
* :mod:`.transport` — the only module doing I/O.
"""
