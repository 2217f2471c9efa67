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
	-Iinclude -Ishim $(VARIANT_CFLAGS)

# Sanitizer and hardened builds, each in its own build directory:
#   make ubsan     build-ubsan/     SAN=undefined (stops at the first report)
#   make asan      build-asan/      SAN=address: the sysfill command only
#   make hardened  build-hardened/  HARDEN=1: Debian's, Ubuntu's and
#                                   Fedora's default hardening flags
# or by hand: make BUILD=DIR SAN=LIST HARDEN=1. $(BUILD)/flags records the
# flags, so that changing them rebuilds what they went into.
SAN ?=
HARDEN ?=
HARDEN_CFLAGS = -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fcf-protection
SAN_CFLAGS = -fsanitize=$(SAN) -fno-sanitize-recover=all -fno-omit-frame-pointer
VARIANT_CFLAGS = $(if $(SAN),$(SAN_CFLAGS)) $(if $(HARDEN),$(HARDEN_CFLAGS))
VARIANT_LDFLAGS = $(if $(SAN),-fsanitize=$(SAN))
LIBSECCOMP_A ?= $(firstword $(wildcard /usr/lib/*/libseccomp.a /usr/lib/libseccomp.a))

SHIM_SRC = $(wildcard shim/*.c)
PRELOAD_SRC = $(wildcard preload/*.c)
SHIM_OBJ = $(SHIM_SRC:%.c=$(BUILD)/%.o)
PRELOAD_OBJ = $(PRELOAD_SRC:%.c=$(BUILD)/%.o)
HDRS = $(wildcard shim/*.h shim/arch/*.h include/*.h include/sysfill/*.h)

# Build and test dependencies, installed when absent (Debian).
DEB_BUILD_DEPS = gcc make libseccomp-dev libelf-dev libcapstone-dev pkg-config
DEB_TEST_DEPS = libcriterion-dev runsc python3 procps qemu-user

.PHONY: all deps test-deps demo check bench clean
.PHONY: ubsan asan hardened
all: $(BUILD)/libsysfill.so $(BUILD)/libsysfill.a $(BUILD)/sysfill

ubsan:
	@$(MAKE) --no-print-directory BUILD=build-ubsan SAN=undefined all
asan:
	@$(MAKE) --no-print-directory BUILD=build-asan SAN=address build-asan/sysfill
hardened:
	@$(MAKE) --no-print-directory BUILD=build-hardened HARDEN=1 all

$(BUILD)/flags: FORCE | deps
	@mkdir -p $(dir $@)
	@f='$(CC) $(CFLAGS) $(VARIANT_CFLAGS) $(VARIANT_LDFLAGS)'; \
	[ "$$f" = "$$(cat $@ 2>/dev/null)" ] || echo "$$f" >$@

deps:
	@./tests/ensure-deps.sh $(DEB_BUILD_DEPS)
test-deps:
	@./tests/ensure-deps.sh $(DEB_BUILD_DEPS) $(DEB_TEST_DEPS)

# Every compile waits for deps (order-only), or make -j would compile
# while packages are still being installed.
$(BUILD)/%.o: %.c $(HDRS) $(BUILD)/flags | deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(SF_CFLAGS) -c $< -o $@

$(BUILD)/libsysfill.so: $(SHIM_OBJ) $(PRELOAD_OBJ) preload/exports.map
	@test -n "$(LIBSECCOMP_A)" || { echo "libseccomp.a not found: run 'make deps'" >&2; exit 1; }
	$(CC) -shared $(VARIANT_LDFLAGS) -o $@ $(SHIM_OBJ) $(PRELOAD_OBJ) $(LIBSECCOMP_A) \
		-Wl,--version-script=preload/exports.map -Wl,-z,now -Wl,-z,relro \
		-Wl,-soname,libsysfill.so.0 -ldl -lpthread

$(BUILD)/libsysfill.a: $(SHIM_OBJ)
	@rm -f $@
	ar rcs $@ $^

demo: all
	@./tests/ensure-deps.sh runsc python3
	@./tests/demo.sh

include tracer/tracer.mk
TRACER_CFLAGS += $(VARIANT_CFLAGS)
$(BUILD)/sysfill: $(BUILD)/flags | deps
include tracer/dist.mk
include tests/tests.mk
include install.mk

clean:
	rm -rf $(BUILD)

.PHONY: bench
bench: all
	./bench/run.sh
