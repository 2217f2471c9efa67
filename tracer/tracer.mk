# The `sysfill` command (tracer/). Included from the top Makefile; also
# usable alone: make -f tracer/tracer.mk build/sysfill
BUILD ?= build
WERROR ?= $(if $(CI),-Werror,)

# Wherever this is included, it must not become make's default goal.
tracer_saved_goal := $(.DEFAULT_GOAL)

TRACER_SRC = $(wildcard tracer/*.c)
TRACER_HDRS = $(wildcard tracer/*.h include/*.h include/sysfill/*.h shim/arch/*.h)
TRACER_CFLAGS = -std=gnu11 -Wall -Wextra -O2 -g -D_GNU_SOURCE -Iinclude $(WERROR)
TRACER_LIBS = -lelf -lseccomp -lcapstone
TRACER_BIN += $(BUILD)/sysfill

# The engine (shim/) is compiled in: trace mode runs its rules.
TRACER_SHIM_SRC = $(wildcard shim/*.c)
TRACER_SHIM_HDRS = $(wildcard shim/*.h)
TRACER_SHIM_CFLAGS = -Wno-unused-parameter -fno-strict-aliasing

$(BUILD)/sysfill: $(TRACER_SRC) $(TRACER_SHIM_SRC) $(TRACER_HDRS) $(TRACER_SHIM_HDRS) tracer/tracer.mk
	@mkdir -p $(dir $@)
	$(CC) $(TRACER_CFLAGS) $(TRACER_SHIM_CFLAGS) -o $@ $(TRACER_SRC) $(TRACER_SHIM_SRC) $(TRACER_LIBS) -lpthread

.DEFAULT_GOAL := $(tracer_saved_goal)
