#ifndef SYSFILL_ARCH_H
#define SYSFILL_ARCH_H
#if defined(__x86_64__)
#include "x86_64.h"
#else
#error "sysfill: unsupported architecture (x86_64 only for now)"
#endif

/* SECCOMP_RET_DATA of libsysfill.so's traps (si_errno of their SIGSYS):
 * what marks a trap as ours, also in a filter inherited through execve. */
#define SF_TRAP_TAG 0x5f5fU
#endif
