#ifndef SYSFILL_ARCH_H
#define SYSFILL_ARCH_H
#if defined(__x86_64__)
#include "x86_64.h"
#else
#error "sysfill: unsupported architecture (x86_64 only for now)"
#endif
#endif
