/* Kernel UAPI definitions that old distribution headers lack. */
#ifndef SYSFILL_UAPI_H
#define SYSFILL_UAPI_H

#include <stdint.h>

#ifndef P_PIDFD
#define P_PIDFD 3
#endif
#ifndef PIDFD_NONBLOCK
#define PIDFD_NONBLOCK 04000 /* O_NONBLOCK */
#endif
#ifndef PIDFD_THREAD
#define PIDFD_THREAD 0200 /* O_EXCL, Linux 6.9 */
#endif
#ifndef PIDFD_SIGNAL_THREAD
#define PIDFD_SIGNAL_THREAD (1UL << 0)
#define PIDFD_SIGNAL_THREAD_GROUP (1UL << 1)
#define PIDFD_SIGNAL_PROCESS_GROUP (1UL << 2)
#endif
#ifndef CSIGNAL
#define CSIGNAL 0x000000ff /* exit signal bits of legacy clone flags */
#endif
#ifndef CLONE_DETACHED
#define CLONE_DETACHED 0x00400000
#endif
#ifndef CLONE_PIDFD
#define CLONE_PIDFD 0x00001000
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif
#ifndef CLONE_CLEAR_SIGHAND
#define CLONE_CLEAR_SIGHAND 0x100000000ULL
#endif
#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif

/* struct clone_args as of Linux 5.7 (CLONE_ARGS_SIZE_VER2). */
struct sysfill_clone_args {
	uint64_t flags;
	uint64_t pidfd;
	uint64_t child_tid;
	uint64_t parent_tid;
	uint64_t exit_signal;
	uint64_t stack;
	uint64_t stack_size;
	uint64_t tls;
	uint64_t set_tid;
	uint64_t set_tid_size;
	uint64_t cgroup;
};
#define SYSFILL_CLONE_ARGS_SIZE_VER0 64
#define SYSFILL_CLONE_ARGS_SIZE_VER1 80
#define SYSFILL_CLONE_ARGS_SIZE_VER2 88

#endif
