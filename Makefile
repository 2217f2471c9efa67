# sysfill — plain GNU make. `make`, `make check`, `make bench`, `make dist`,
# `make install PREFIX=... DESTDIR=...`, `make uninstall`.
PREFIX ?= /usr/local
DESTDIR ?=
CC ?= cc
BUILD ?= build
WERROR ?= $(if $(CI),-Werror,)

CFLAGS ?= -O2 -g
SF_CFLAGS = -std=gnu11 -Wall -Wextra -Wno-unused-parameter $(WERROR) \
	-fPIC -fvisibility=hidden -fno-strict-aliasing -D_GNU_SOURCE \
	-Iinclude -Ishim
LIBSECCOMP_A ?= $(firstword $(wildcard /usr/lib/*/libseccomp.a /usr/lib/libseccomp.a))

SHIM_SRC = $(wildcard shim/*.c)
PRELOAD_SRC = $(wildcard preload/*.c)
SHIM_OBJ = $(SHIM_SRC:%.c=$(BUILD)/%.o)
PRELOAD_OBJ = $(PRELOAD_SRC:%.c=$(BUILD)/%.o)
HDRS = $(wildcard shim/*.h shim/arch/*.h include/*.h include/sysfill/*.h)

# Build and test dependencies, installed when absent (Debian).
DEB_BUILD_DEPS = gcc make libseccomp-dev libelf-dev libcapstone-dev pkg-config
DEB_TEST_DEPS = libcriterion-dev runsc python3 procps qemu-user

.PHONY: all deps test-deps demo check bench install uninstall clean
all: $(BUILD)/libsysfill.so $(BUILD)/libsysfill.a $(BUILD)/sysfill

deps:
	@./tests/ensure-deps.sh $(DEB_BUILD_DEPS)
test-deps:
	@./tests/ensure-deps.sh $(DEB_BUILD_DEPS) $(DEB_TEST_DEPS)

$(BUILD)/%.o: %.c $(HDRS) | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SF_CFLAGS) -c $< -o $@

$(BUILD)/libsysfill.so: $(SHIM_OBJ) $(PRELOAD_OBJ) preload/exports.map
	@test -n "$(LIBSECCOMP_A)" || { echo "libseccomp.a not found: run 'make deps'" >&2; exit 1; }
	$(CC) -shared -o $@ $(SHIM_OBJ) $(PRELOAD_OBJ) $(LIBSECCOMP_A) \
		-Wl,--version-script=preload/exports.map -Wl,-z,now -Wl,-z,relro \
		-ldl -lpthread

$(BUILD)/libsysfill.a: $(SHIM_OBJ)
	@rm -f $@
	ar rcs $@ $^

demo: all
	@./tests/ensure-deps.sh runsc python3
	@./tests/demo.sh

include tracer/tracer.mk
include tracer/dist.mk
include tests/tests.mk

install: all man $(BUILD)/sysfill.pc
	install -d $(DESTDIR)$(PREFIX)/lib $(DESTDIR)$(PREFIX)/include/sysfill
	install -m 0755 $(BUILD)/libsysfill.so $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 $(BUILD)/libsysfill.a $(DESTDIR)$(PREFIX)/lib/
	install -m 0644 include/sysfill.h $(DESTDIR)$(PREFIX)/include/
	install -m 0644 include/sysfill/uapi.h $(DESTDIR)$(PREFIX)/include/sysfill/
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(BUILD)/sysfill $(DESTDIR)$(PREFIX)/bin/
	install -d $(DESTDIR)$(PREFIX)/lib/pkgconfig $(DESTDIR)$(PREFIX)/share/man/man1 $(DESTDIR)$(PREFIX)/share/man/man3
	install -m 0644 $(BUILD)/sysfill.pc $(DESTDIR)$(PREFIX)/lib/pkgconfig/
	install -m 0644 $(BUILD)/man/sysfill.1 $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 0644 $(BUILD)/man/libsysfill.3 $(DESTDIR)$(PREFIX)/share/man/man3/
	for f in $(MAN3_LINKS); do echo '.so man3/libsysfill.3' >$(DESTDIR)$(PREFIX)/share/man/man3/$$f.3; done

uninstall:
	rm -f $(DESTDIR)$(PREFIX)/lib/libsysfill.so $(DESTDIR)$(PREFIX)/lib/libsysfill.a
	rm -f $(DESTDIR)$(PREFIX)/bin/sysfill
	rm -f $(DESTDIR)$(PREFIX)/include/sysfill.h $(DESTDIR)$(PREFIX)/include/sysfill/uapi.h
	rm -f $(DESTDIR)$(PREFIX)/lib/pkgconfig/sysfill.pc
	rm -f $(DESTDIR)$(PREFIX)/share/man/man1/sysfill.1 $(DESTDIR)$(PREFIX)/share/man/man3/libsysfill.3
	rm -f $(MAN3_LINKS:%=$(DESTDIR)$(PREFIX)/share/man/man3/%.3)
	-rmdir $(DESTDIR)$(PREFIX)/include/sysfill 2>/dev/null

clean:
	rm -rf $(BUILD)

.PHONY: bench
bench: all
	./bench/run.sh
