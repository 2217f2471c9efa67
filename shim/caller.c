/* The in-process caller: memory of this process, read and written with a
 * fault check (a bad pointer gives -EFAULT, never SIGSEGV). */
#include <sys/uio.h>
#include "sf.h"

int sf_getpid(void)
{
	return (int)sf_sys0(SF_NR_getpid);
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
		return e;
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

static long self_write(const struct sf_caller *c, uintptr_t dst,
		       const void *src, size_t n)
{
	return self_rw(SF_NR_process_vm_writev, (void *)src, dst, n);
}

const struct sf_caller sf_self_caller = {self_read, self_write};
