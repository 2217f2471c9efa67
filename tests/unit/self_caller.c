/* Test-only struct sf_caller for this process's own memory:
 * process_vm_readv/writev on getpid() fail with EFAULT on a bad pointer where
 * memcpy would crash. Where they are missing (gVisor: ENOSYS) the copy goes
 * through a pipe, whose read and write fault just as cleanly. Independent of
 * shim/caller.c so that unit tests link only the module they test. */
#include <sys/uio.h>
#include <unistd.h>
#include "self_caller.h"

/* Copy N bytes from SRC to DST through a pipe. 0 or -EFAULT (or -errno of
 * pipe2). */
static long pipe_copy(void *dst, const void *src, size_t n)
{
	int p[2];
	long rc = sf_sys2(SF_NR_pipe2, p, O_CLOEXEC | O_NONBLOCK);
	if (rc < 0)
		return rc;
	for (size_t done = 0; done < n && !rc;) {
		size_t chunk = n - done > 4096 ? 4096 : n - done;
		if (sf_sys3(SF_NR_write, p[1], (const char *)src + done, chunk) !=
			    (long)chunk ||
		    sf_sys3(SF_NR_read, p[0], (char *)dst + done, chunk) !=
			    (long)chunk)
			rc = -EFAULT;
		done += chunk;
	}
	sf_sys1(SF_NR_close, p[0]);
	sf_sys1(SF_NR_close, p[1]);
	return rc;
}

static long self_rw(long nr, void *local, uintptr_t remote, size_t n)
{
	struct iovec l = {local, n}, r = {(void *)remote, n};
	if (!n)
		return 0;
	long ret = sf_syscall6(nr, sf_sys0(SF_NR_getpid), (long)&l, 1, (long)&r,
			       1, 0);
	if (ret == (long)n)
		return 0;
	if (ret >= 0 || ret == -EFAULT)
		return -EFAULT;
	if (nr == SF_NR_process_vm_readv)
		return pipe_copy(local, (const void *)remote, n);
	return pipe_copy((void *)remote, local, n);
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

const struct sf_caller test_self_caller = {self_read, self_write};
