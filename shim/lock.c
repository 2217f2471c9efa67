/* The table lock, and the process that owns the library's state.
 *
 * The lock is a futex (0 free, 1 held, 2 held and maybe waited for: the
 * second mutex of Drepper's "Futexes Are Tricky"). Every holder runs with
 * all signals blocked (the SIGSYS handler, the masked direct calls, the
 * helper threads), so no holder is interrupted by code that wants it, and
 * a waiter sleeps in the kernel: a SCHED_FIFO caller cannot livelock
 * against a helper thread that holds it.
 *
 * Ownership: the library's state (table, waiter pool, monitor, this lock)
 * belongs to one process. A child with its own copy of memory that no
 * pthread_atfork handler saw (raw fork or clone, glibc's _Fork, clone3)
 * is recognised at its first sf_lock by its pid, and resets that state
 * there (sf_atfork_child). A child that shares our memory (vfork, CLONE_VM
 * without CLONE_THREAD) is told apart by a MADV_DONTFORK page, which only
 * a child with its own memory lacks: it uses the state as it is, since
 * resetting it would reset its parent's. */
#include <linux/futex.h>
#include <sys/mman.h>
#include "sf.h"

static int lock_word;
static int owner_pid; /* 0 before the first use; -pid while pid resets */
static int holder_owns; /* the holder's process owns the state */
static void *fork_probe; /* MADV_DONTFORK page of owner_pid, 0 if none */
static int prev_owner; /* while a child resets the state: whose it was */

static long futex(int *addr, int op, int val, long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	return sf_sys4(SF_NR_futex, addr, op, val, ms >= 0 ? &ts : 0);
}

static void *probe_page(void)
{
	long p = sf_syscall6(SF_NR_mmap, 0, 4096, PROT_NONE,
			     MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p < 0 && p > -4096)
		return 0;
	if (sf_sys3(SF_NR_madvise, p, 4096, MADV_DONTFORK) < 0) {
		sf_sys2(SF_NR_munmap, p, 4096);
		return 0;
	}
	return (void *)p;
}

/* Has this process its own copy of the owner's memory? 1 yes, 0 it
 * shares it, -1 unknown (no probe page). Signal-safe. */
static int own_memory(void)
{
	unsigned char v;
	if (!fork_probe)
		return -1;
	return sf_sys3(SF_NR_mincore, fork_probe, 4096, &v) == -ENOMEM;
}

/* The loading process owns the state: a vfork child's first call must not
 * take it over before its parent made one. */
__attribute__((constructor)) static void lock_init(void)
{
	if (!owner_pid) {
		fork_probe = probe_page();
		owner_pid = sf_getpid();
	}
}

int sf_lock_prev_owner(void)
{
	int o = __atomic_load_n(&owner_pid, __ATOMIC_ACQUIRE);
	return prev_owner > 0 ? prev_owner : o > 0 ? o : 0;
}

void sf_lock_atfork_child(void)
{
	prev_owner = 0;
	__atomic_store_n(&lock_word, 0, __ATOMIC_RELEASE);
	fork_probe = probe_page();
	__atomic_store_n(&owner_pid, sf_getpid(), __ATOMIC_RELEASE);
}

/* The caller's pid ME is not the owner's. Make this process the owner if
 * it has its own memory. Returns when the state may be used. */
static void claim(int me)
{
	for (int n = 0;; n++) {
		int o = __atomic_load_n(&owner_pid, __ATOMIC_ACQUIRE);
		if (o == me)
			return;
		if (o == -me) { /* another thread of ours resets: wait */
			futex(&owner_pid, FUTEX_WAIT_PRIVATE, o, 10);
			continue;
		}
		if (o == 0) { /* first use */
			if (__atomic_compare_exchange_n(&owner_pid, &o, -me, 0,
							__ATOMIC_ACQ_REL,
							__ATOMIC_ACQUIRE)) {
				fork_probe = probe_page();
				__atomic_store_n(&owner_pid, me, __ATOMIC_RELEASE);
				futex(&owner_pid, FUTEX_WAKE_PRIVATE, 1 << 30, -1);
				return;
			}
			continue;
		}
		/* Shared memory, or no way to tell: the state is the owner's
		 * (pthread_atfork still resets it after a libc fork). */
		if (own_memory() != 1)
			return;
		if (!__atomic_compare_exchange_n(&owner_pid, &o, -me, 0,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		/* Only threads created since the fork exist, and each waits
		 * above: nothing holds the state while it is reset. */
		prev_owner = o;
		sf_atfork_child(); /* ends with sf_lock_atfork_child */
		sf_log(SF_LOG_DEBUG, "new process not seen by pthread_atfork: "
				     "state of %d reset", o);
		futex(&owner_pid, FUTEX_WAKE_PRIVATE, 1 << 30, -1);
		return;
	}
}

static void acquire(void);

void sf_lock(void)
{
	int me = sf_getpid();
	if (__builtin_expect(__atomic_load_n(&owner_pid, __ATOMIC_ACQUIRE) != me, 0))
		claim(me);
	acquire();
	holder_owns = __atomic_load_n(&owner_pid, __ATOMIC_RELAXED) == me;
}

int sf_lock_owner(void)
{
	return holder_owns;
}

static void acquire(void)
{
	int c = 0;
	if (__atomic_compare_exchange_n(&lock_word, &c, 1, 0, __ATOMIC_ACQUIRE,
					__ATOMIC_RELAXED))
		return;
	/* A holder on another CPU is usually out within a few hundred
	 * cycles: a short, bounded spin before sleeping. */
	for (int i = 0; i < 100; i++) {
		sf_arch_relax();
		c = 0;
		if (__atomic_load_n(&lock_word, __ATOMIC_RELAXED) == 0 &&
		    __atomic_compare_exchange_n(&lock_word, &c, 1, 0,
						__ATOMIC_ACQUIRE, __ATOMIC_RELAXED))
			return;
	}
	c = __atomic_exchange_n(&lock_word, 2, __ATOMIC_ACQUIRE);
	while (c != 0) {
		futex(&lock_word, FUTEX_WAIT_PRIVATE, 2, -1);
		c = __atomic_exchange_n(&lock_word, 2, __ATOMIC_ACQUIRE);
	}
}

void sf_unlock(void)
{
	if (__atomic_exchange_n(&lock_word, 0, __ATOMIC_RELEASE) == 2)
		futex(&lock_word, FUTEX_WAKE_PRIVATE, 1, -1);
}
