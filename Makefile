# netavark-py: nothing to compile; these targets install the package, build the
# single-file zip application and regenerate the man page.
#
#   make install [DESTDIR=/staging] [PREFIX=/usr] [LIBEXECDIR=/usr/libexec/podman]
#   make uninstall            (same variables)
#   make zipapp               netavark.pyz, runs with a bare python3
#   make docs                 docs/netavark.1 from the CLI tables
#   make check                the test suite (root runs the kernel and Podman tests too)
#
# Installed layout (PREFIX=/usr):
#   $(PKGDIR)/netavark/...               the package with precompiled bytecode and _build.py
#   $(PKGDIR)/bin/aardvark-dns           launcher of the built-in DNS server (when present)
#   $(LIBEXECDIR)/netavark               the launcher Podman runs (first in its helper dirs)
#   $(SYSTEMDDIR)/netavark-*.service     firewall reload units (and any other unit in contrib/)
#   $(MANDIR)/man1/netavark.1

DESTDIR ?=
PREFIX ?= /usr
LIBEXECDIR ?= $(PREFIX)/libexec/podman
LIBDIR ?= $(PREFIX)/lib
PKGDIR ?= $(LIBDIR)/netavark-py
MANDIR ?= $(PREFIX)/share/man
SYSTEMDDIR ?= $(PREFIX)/lib/systemd/system
# the interpreter in the launcher's shebang; also compiles the bytecode, so its
# version must be the one that runs netavark
PYTHON ?= /usr/bin/python3
INSTALL ?= install
SELINUXOPT ?= $(shell test -x /usr/sbin/selinuxenabled && /usr/sbin/selinuxenabled && echo -Z)

BUILDDIR := build
SOURCES := $(shell find netavark -name '*.py' ! -name _build.py ! -path '*/__pycache__/*' | sort)
UNIT_TEMPLATES := $(wildcard contrib/systemd/system/*.in)
UNIT_FILES := $(filter-out %.in,$(wildcard contrib/systemd/system/*))
UNITS := $(notdir $(UNIT_TEMPLATES:.in=)) $(notdir $(UNIT_FILES))
# the built-in DNS server gets its own launcher when this tree has one
DNS_LAUNCHER := $(if $(wildcard netavark/dns/main.py),aardvark-dns)

.PHONY: all
all: $(BUILDDIR)/netavark $(addprefix $(BUILDDIR)/systemd/,$(notdir $(UNIT_TEMPLATES:.in=))) \
	$(if $(DNS_LAUNCHER),$(BUILDDIR)/aardvark-dns)

$(BUILDDIR)/netavark: scripts/launcher.in Makefile
	@mkdir -p $(BUILDDIR)
	sed -e 's|@PYTHON@|$(PYTHON)|' -e 's|@PKGDIR@|$(PKGDIR)|g' \
	    -e 's|@MODULE@|netavark.cli|' -e 's|@DESCRIPTION@|netavark, the launcher Podman runs|' \
	    $< > $@.tmp && chmod 0755 $@.tmp && mv -f $@.tmp $@

$(BUILDDIR)/aardvark-dns: scripts/launcher.in Makefile
	@mkdir -p $(BUILDDIR)
	sed -e 's|@PYTHON@|$(PYTHON)|' -e 's|@PKGDIR@|$(PKGDIR)|g' \
	    -e 's|@MODULE@|netavark.dns.main|' \
	    -e 's|@DESCRIPTION@|The built-in DNS server, started by netavark in place of aardvark-dns|' \
	    $< > $@.tmp && chmod 0755 $@.tmp && mv -f $@.tmp $@

$(BUILDDIR)/systemd/%: contrib/systemd/system/%.in Makefile
	@mkdir -p $(BUILDDIR)/systemd
	sed -e 's|@@NETAVARK@@|$(LIBEXECDIR)/netavark|g' $< > $@.tmp && mv -f $@.tmp $@

# Bytecode is compiled for $(PYTHON) and records the final path (not DESTDIR).
# It is unchecked-hash: used as is, so nothing is compiled (or written below
# $(PKGDIR)) when netavark runs, whatever packaging does to file times.  After
# editing an installed .py, run make install again.
.PHONY: install
install: all
	$(INSTALL) $(SELINUXOPT) -d -m 0755 $(DESTDIR)$(PKGDIR)
	for f in $(SOURCES); do \
	    $(INSTALL) $(SELINUXOPT) -D -m 0644 "$$f" "$(DESTDIR)$(PKGDIR)/$$f" || exit 1; \
	done
	$(PYTHON) scripts/buildinfo.py $(DESTDIR)$(PKGDIR)/netavark/_build.py
	chmod 0644 $(DESTDIR)$(PKGDIR)/netavark/_build.py
	$(PYTHON) -m compileall -q -j 0 --invalidation-mode unchecked-hash \
	    -d $(PKGDIR)/netavark $(DESTDIR)$(PKGDIR)/netavark
	$(INSTALL) $(SELINUXOPT) -D -m 0755 $(BUILDDIR)/netavark $(DESTDIR)$(LIBEXECDIR)/netavark
	$(if $(DNS_LAUNCHER),$(INSTALL) $(SELINUXOPT) -D -m 0755 $(BUILDDIR)/aardvark-dns \
	    $(DESTDIR)$(PKGDIR)/bin/aardvark-dns)
	$(INSTALL) $(SELINUXOPT) -D -m 0644 docs/netavark.1 $(DESTDIR)$(MANDIR)/man1/netavark.1
	$(INSTALL) $(SELINUXOPT) -d -m 0755 $(DESTDIR)$(SYSTEMDDIR)
	for f in $(addprefix $(BUILDDIR)/systemd/,$(notdir $(UNIT_TEMPLATES:.in=))) $(UNIT_FILES); do \
	    $(INSTALL) $(SELINUXOPT) -m 0644 "$$f" $(DESTDIR)$(SYSTEMDDIR)/ || exit 1; \
	done

.PHONY: uninstall
uninstall:
	rm -rf $(DESTDIR)$(PKGDIR)
	rm -f $(DESTDIR)$(LIBEXECDIR)/netavark
	rm -f $(DESTDIR)$(MANDIR)/man1/netavark.1
	rm -f $(addprefix $(DESTDIR)$(SYSTEMDDIR)/,$(UNITS))

.PHONY: zipapp
zipapp: netavark.pyz

netavark.pyz: $(SOURCES) scripts/build-zipapp.py scripts/buildinfo.py
	$(PYTHON) scripts/build-zipapp.py -o $@ --interpreter "$(PYTHON) -IS"

.PHONY: docs
docs:
	$(PYTHON) scripts/gen-manpage.py

.PHONY: check
check:
	$(PYTHON) -m pytest -q tests

.PHONY: clean
clean:
	rm -rf $(BUILDDIR) netavark.pyz
