"""``python3 -m netavark.dns``: the built-in aardvark-dns compatible server."""

from .main import entry

entry()
