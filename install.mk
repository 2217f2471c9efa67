# make install / make uninstall, with the GNU directory variables. Included
# from the top Makefile (after tracer/dist.mk). DESTDIR stages a package:
#   make install PREFIX=/usr LIBDIR=/usr/lib/x86_64-linux-gnu DESTDIR=/tmp/stage
# The library is installed as libsysfill.so.0 (its SONAME) with the
# libsysfill.so link that -lsysfill and LD_PRELOAD=.../libsysfill.so use.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DATAROOTDIR ?= $(PREFIX)/share
MANDIR ?= $(DATAROOTDIR)/man
DOCDIR ?= $(DATAROOTDIR)/doc/sysfill
PKGCONFIGDIR ?= $(LIBDIR)/pkgconfig
SONAME = libsysfill.so.0
INSTALL_DOCS = README docs/design.md docs/testing.md docs/benchmarks.md \
	$(wildcard LICENSE COPYING docs/bench.txt)

.PHONY: install uninstall
install: all man $(BUILD)/sysfill.pc
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(LIBDIR) $(DESTDIR)$(PKGCONFIGDIR) \
		$(DESTDIR)$(INCLUDEDIR)/sysfill $(DESTDIR)$(MANDIR)/man1 \
		$(DESTDIR)$(MANDIR)/man3 $(DESTDIR)$(DOCDIR)
	install -m 0755 $(BUILD)/sysfill $(DESTDIR)$(BINDIR)/
	install -m 0755 $(BUILD)/libsysfill.so $(DESTDIR)$(LIBDIR)/$(SONAME)
	ln -sf $(SONAME) $(DESTDIR)$(LIBDIR)/libsysfill.so
	install -m 0644 $(BUILD)/libsysfill.a $(DESTDIR)$(LIBDIR)/
	install -m 0644 include/sysfill.h $(DESTDIR)$(INCLUDEDIR)/
	install -m 0644 include/sysfill/uapi.h $(DESTDIR)$(INCLUDEDIR)/sysfill/
	install -m 0644 $(BUILD)/sysfill.pc $(DESTDIR)$(PKGCONFIGDIR)/
	install -m 0644 $(BUILD)/man/sysfill.1 $(DESTDIR)$(MANDIR)/man1/
	install -m 0644 $(BUILD)/man/libsysfill.3 $(DESTDIR)$(MANDIR)/man3/
	for f in $(MAN3_LINKS); do echo '.so man3/libsysfill.3' >$(DESTDIR)$(MANDIR)/man3/$$f.3; done
	install -m 0644 $(INSTALL_DOCS) $(DESTDIR)$(DOCDIR)/

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/sysfill
	rm -f $(DESTDIR)$(LIBDIR)/$(SONAME) $(DESTDIR)$(LIBDIR)/libsysfill.so \
		$(DESTDIR)$(LIBDIR)/libsysfill.a
	rm -f $(DESTDIR)$(INCLUDEDIR)/sysfill.h $(DESTDIR)$(INCLUDEDIR)/sysfill/uapi.h
	rm -f $(DESTDIR)$(PKGCONFIGDIR)/sysfill.pc
	rm -f $(DESTDIR)$(MANDIR)/man1/sysfill.1 $(DESTDIR)$(MANDIR)/man3/libsysfill.3
	rm -f $(MAN3_LINKS:%=$(DESTDIR)$(MANDIR)/man3/%.3)
	rm -f $(addprefix $(DESTDIR)$(DOCDIR)/,$(notdir $(INSTALL_DOCS)))
	-rmdir $(DESTDIR)$(INCLUDEDIR)/sysfill $(DESTDIR)$(DOCDIR) 2>/dev/null
