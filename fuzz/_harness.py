"""Run a fuzz target with atheris when it is installed, else with a mutation loop.

Usage: ``python3 fuzz/<target>.py [-runs=N] [seed files...]``.  A target is a
function taking bytes that must only ever raise the parser's own error type;
anything else propagates and stops the run with the failing input saved.
"""

from __future__ import annotations

import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def _mutate(rng: random.Random, data: bytes) -> bytes:
    b = bytearray(data)
    for _ in range(rng.randint(1, 8)):
        op = rng.randrange(4)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1:
            b.insert(rng.randint(0, len(b)), rng.randrange(256))
        elif op == 2 and b:
            del b[rng.randrange(len(b))]
        else:
            cut = rng.randint(0, len(b))
            b = b[:cut]
    return bytes(b)


def run(target: Callable[[bytes], None], seeds: list[bytes]) -> None:
    try:
        import atheris  # type: ignore[import-not-found]
    except ImportError:
        atheris = None
    if atheris is not None:
        atheris.Setup(sys.argv, target)
        atheris.Fuzz()
        return
    runs = 20000
    for arg in sys.argv[1:]:
        if arg.startswith("-runs="):
            runs = int(arg.split("=", 1)[1])
    rng = random.Random(int(os.environ.get("FUZZ_SEED", "0")))
    corpus = list(seeds) or [b""]
    for i in range(runs):
        data = _mutate(rng, rng.choice(corpus)) if i % 4 else rng.randbytes(rng.randint(0, 256))
        try:
            target(data)
        except BaseException:
            path = f"crash-{os.getpid()}-{i}.bin"
            with open(path, "wb") as f:
                f.write(data)
            sys.stderr.write(f"target failed on input saved to {path}\n")
            raise
    print(f"{runs} runs, no unexpected exception")
