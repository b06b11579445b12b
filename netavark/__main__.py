from netavark.cli import entry

entry()
