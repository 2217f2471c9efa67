# The `sysfill` command (tracer/). Included from the top Makefile; also
# usable alone: make -f tracer/tracer.mk build/sysfill
BUILD ?= build
WERROR ?= $(if $(CI),-Werror,)

# Wherever this is included, it must not become make's default goal.
tracer_saved_goal := $(.DEFAULT_GOAL)

# shim/clone_args.c: the one clone3 validation, shared with the library
TRACER_SRC = $(wildcard tracer/*.c) shim/clone_args.c
TRACER_HDRS = $(wildcard tracer/*.h include/*.h include/sysfill/*.h shim/arch/*.h) \
	shim/clone_args.h shim/sf.h
TRACER_CFLAGS = -std=gnu11 -Wall -Wextra -O2 -g -D_GNU_SOURCE -Iinclude $(WERROR)
TRACER_LIBS = -lelf -lseccomp -lcapstone
TRACER_BIN += $(BUILD)/sysfill

$(BUILD)/sysfill: $(TRACER_SRC) $(TRACER_HDRS) tracer/tracer.mk
	@mkdir -p $(dir $@)
	$(CC) $(TRACER_CFLAGS) -o $@ $(TRACER_SRC) $(TRACER_LIBS)

.DEFAULT_GOAL := $(tracer_saved_goal)
