/* The in-process caller: memory of this process, read and written with a
 * fault check (a bad pointer gives -EFAULT, never SIGSEGV; self_write says
 * what a concurrent munmap can do). */
#include <string.h>
#include <sys/uio.h>
#include "sf.h"

int sf_getpid(void)
{
	return (int)sf_sys0(SF_NR_getpid);
}

/* Without a free fd for the pipe (EMFILE, ENFILE): each page of the
 * range is probed where it holds the range, with calls that read (a
 * FUTEX_WAIT with a zero timeout reads an aligned word and returns at
 * once) or write (getcpu's 4-byte stores, which the copy then overwrites)
 * user memory with the kernel's own fault check, then the range is
 * copied. Returns 0, -EFAULT, or ERR where no probe fits. */
static long probe_copy(int nr, void *local, uintptr_t remote, size_t n,
		       long err)
{
	const int rd = nr == SF_NR_process_vm_readv;
	const size_t w = 4;
	const struct { long s, ns; } zero = {0, 0};
	uintptr_t end = remote + n;
	if (end < remote)
		return -EFAULT;
	for (uintptr_t a = remote; a < end;) {
		uintptr_t pg = a & ~(uintptr_t)4095, pend = pg + 4096;
		uintptr_t hi = end < pend ? end : pend;
		/* the window touches this page; a read's stays inside it, a
		 * write's inside the range */
		uintptr_t q;
		if (rd)
			q = a & ~(uintptr_t)3; /* same page, aligned */
		else if (hi - a >= w)
			q = a;
		else if (hi - remote >= w)
			q = hi - w;
		else
			return err;
		long r = rd ? sf_sys4(SF_NR_futex, q, 128 /* FUTEX_WAIT_PRIVATE */,
				     0, &zero)
			    : sf_sys3(SF_NR_getcpu, q, 0, 0);
		if (r == -EFAULT)
			return -EFAULT;
		/* a read probe answers EAGAIN or ETIMEDOUT once it has read */
		if (r < 0 && !(rd && (r == -EAGAIN || r == -ETIMEDOUT || r == -EINTR)))
			return err;
		a = pend;
	}
	if (rd)
		memcpy(local, (const void *)remote, n);
	else
		memcpy((void *)remote, local, n);
	return 0;
}

static long self_rw(int nr, void *local, uintptr_t remote, size_t n)
{
	struct iovec l = {local, n}, r = {(void *)remote, n};
	if (!n)
		return 0;
	long ret = sf_syscall6(nr, sf_getpid(), (long)&l, 1, (long)&r, 1, 0);
	if (ret == (long)n)
		return 0;
	if (ret >= 0 || ret == -EFAULT)
		return -EFAULT;
	/* process_vm_* unavailable (ENOSYS, EPERM): probe with a pipe write,
	 * which faults cleanly, then copy. */
	int p[2];
	long e = sf_sys2(SF_NR_pipe2, p, O_CLOEXEC | O_NONBLOCK);
	if (e < 0)
		return probe_copy(nr, local, remote, n, e);
	size_t done = 0;
	long rc = 0;
	while (done < n && !rc) {
		size_t chunk = n - done > 4096 ? 4096 : n - done;
		const char *src = nr == SF_NR_process_vm_readv
					  ? (const char *)remote + done
					  : (const char *)local + done;
		char *dst = nr == SF_NR_process_vm_readv
				    ? (char *)local + done
				    : (char *)remote + done;
		long w = sf_sys3(SF_NR_write, p[1], src, chunk);
		if (w != (long)chunk) {
			rc = -EFAULT;
			break;
		}
		long r = sf_sys3(SF_NR_read, p[0], dst, chunk);
		if (r != (long)chunk)
			rc = -EFAULT;
		done += chunk;
	}
	sf_sys1(SF_NR_close, p[0]);
	sf_sys1(SF_NR_close, p[1]);
	return rc;
}

static long self_read(const struct sf_caller *c, void *dst, uintptr_t src,
		      size_t n)
{
	return self_rw(SF_NR_process_vm_readv, dst, src, n);
}

/* Small writes (the siginfo and rusage of waitid) are copied directly
 * after a probe: getcpu() stores 4 bytes at the first and at the last 4
 * bytes of DST, with the kernel's own fault check, so every page of a range
 * of at most one page is known to be mapped writable (0.15 us, against
 * 0.75 us for getpid + process_vm_writev). The probe's bytes are
 * overwritten by the copy at once. A probe that fails for any reason falls
 * back to process_vm_writev, which also writes the part before a fault as
 * the kernel would. (A thread that unmaps DST between the probe and the
 * copy makes the copy fault, as it makes the kernel's copy give EFAULT:
 * that race is the program's own.) */
static long self_write(const struct sf_caller *c, uintptr_t dst,
		       const void *src, size_t n)
{
	if (n >= 4 && n <= 4096 &&
	    sf_sys3(SF_NR_getcpu, dst, dst + n - 4, 0) == 0) {
		memcpy((void *)dst, src, n);
		return 0;
	}
	return self_rw(SF_NR_process_vm_writev, (void *)src, dst, n);
}

/* The pieces with one probe when they lie within one page-sized span and
 * the probe's two 4-byte stores fall inside pieces (the bytes between the
 * pieces are left alone); else piece by piece. */
static long self_write_pieces(const struct sf_caller *c,
			      const struct sf_piece *p, int n)
{
	uintptr_t lo = UINTPTR_MAX, hi = 0;
	int small = 0;
	for (int i = 0; i < n; i++) {
		if (p[i].n < 4 || p[i].dst + p[i].n < p[i].dst)
			small = 1;
		if (p[i].dst < lo)
			lo = p[i].dst;
		if (p[i].dst + p[i].n > hi)
			hi = p[i].dst + p[i].n;
	}
	if (n > 0 && !small && hi - lo <= 4096 &&
	    sf_sys3(SF_NR_getcpu, lo, hi - 4, 0) == 0) {
		for (int i = 0; i < n; i++)
			memcpy((void *)p[i].dst, p[i].src, p[i].n);
		return 0;
	}
	for (int i = 0; i < n; i++) {
		long r = self_write(c, p[i].dst, p[i].src, p[i].n);
		if (r < 0)
			return r;
	}
	return 0;
}

long sf_write_pieces(const struct sf_caller *c, const struct sf_piece *p,
		     int n)
{
	if (c->write_pieces)
		return c->write_pieces(c, p, n);
	for (int i = 0; i < n; i++) {
		long r = c->write(c, p[i].dst, p[i].src, p[i].n);
		if (r < 0)
			return r;
	}
	return 0;
}

const struct sf_caller sf_self_caller = {.read = self_read,
					 .write = self_write,
					 .write_pieces = self_write_pieces,
					 .thread_pidfds = 1};

long sf_caller_sys(const struct sf_caller *c, long nr, const long a[6],
		   const struct sf_buf *b, int nb)
{
	if (c->sys)
		return c->sys(c, nr, a, b, nb);
	long x[6];
	for (int i = 0; i < 6; i++)
		x[i] = a[i];
	for (int i = 0; i < nb; i++)
		x[b[i].arg] = (long)b[i].p;
	return sf_syscall6(nr, x[0], x[1], x[2], x[3], x[4], x[5]);
}

long sf_caller_last(const struct sf_caller *c, long nr, const long a[6],
		    const struct sf_buf *b, int nb)
{
	if (c->last && c->last(c, nr, a, b, nb) == 0)
		return SF_TAIL;
	return sf_caller_sys(c, nr, a, b, nb);
}

const char *sf_caller_proc(const struct sf_caller *c)
{
	return c->proc ? c->proc : "/proc";
}

const char *sf_caller_self(const struct sf_caller *c)
{
	return c->self ? c->self : "/proc/self";
}
