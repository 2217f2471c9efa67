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

.PHONY: all deps test-deps demo check bench clean
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
		-Wl,-soname,libsysfill.so.0 -ldl -lpthread

$(BUILD)/libsysfill.a: $(SHIM_OBJ)
	@rm -f $@
	ar rcs $@ $^

demo: all
	@./tests/ensure-deps.sh runsc python3
	@./tests/demo.sh

include tracer/tracer.mk
include tracer/dist.mk
include tests/tests.mk
include install.mk

clean:
	rm -rf $(BUILD)

.PHONY: bench
bench: all
	./bench/run.sh
