/* Test-only struct sf_caller for this process's own memory. */
#ifndef SYSFILL_TEST_SELF_CALLER_H
#define SYSFILL_TEST_SELF_CALLER_H
#include "sf.h"
/* Reads and writes through process_vm_readv/writev on getpid(): a bad
 * pointer gives -EFAULT instead of SIGSEGV. */
extern const struct sf_caller test_self_caller;
#endif
