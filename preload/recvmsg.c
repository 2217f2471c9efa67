/* recvmsg() and recvmmsg(): emulated pidfds that arrive over SCM_RIGHTS are
 * watched by this process too, so that they become readable at the exit of
 * their process even after the sender has gone (Rust's std: the child of
 * Command::spawn calls pidfd_open(getpid()) and sends the fd to its parent).
 * A program that receives with a raw recvmsg/recvmmsg syscall (Go, io_uring)
 * bypasses this: such a pidfd is watched from its first pidfd_* call on. */
#include <dlfcn.h>
#include <string.h>
#include <sys/socket.h>
#include "preload.h"

static ssize_t (*real_recvmsg)(int, struct msghdr *, int);
static int (*real_recvmmsg)(int, struct mmsghdr *, unsigned int, int,
			    struct timespec *);

__attribute__((constructor)) static void recvmsg_init(void)
{
	real_recvmsg = (__typeof__(real_recvmsg))dlsym(RTLD_NEXT, "recvmsg");
	real_recvmmsg = (__typeof__(real_recvmmsg))dlsym(RTLD_NEXT, "recvmmsg");
}

static long ret_errno(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return r;
}

/* Adopt the emulated pidfds among the SCM_RIGHTS fds of M. */
static void adopt_rights(const struct msghdr *m)
{
	if (!(sf_emulated & SF_FEAT_PIDFD_OPEN) || !m->msg_control ||
	    m->msg_controllen < sizeof(struct cmsghdr))
		return;
	int saved = errno;
	for (struct cmsghdr *c = CMSG_FIRSTHDR((struct msghdr *)m); c;
	     c = CMSG_NXTHDR((struct msghdr *)m, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS ||
		    c->cmsg_len < CMSG_LEN(0))
			continue;
		size_t n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		const unsigned char *p = CMSG_DATA(c);
		while (n > 0) {
			int fds[64];
			size_t k = n < 64 ? n : 64;
			memcpy(fds, p, k * sizeof(int));
			sf_adopt_fds(fds, (int)k);
			p += k * sizeof(int);
			n -= k;
		}
	}
	errno = saved;
}

SF_EXPORT ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	ssize_t r = real_recvmsg ? real_recvmsg(fd, msg, flags)
				 : ret_errno(sf_syscall6(SF_NR_recvmsg, fd,
							 (long)msg, flags, 0, 0,
							 0));
	if (r >= 0 && msg)
		adopt_rights(msg);
	return r;
}

SF_EXPORT int recvmmsg(int fd, struct mmsghdr *vec, unsigned int vlen,
		       int flags, struct timespec *timeout)
{
	int r = real_recvmmsg ? real_recvmmsg(fd, vec, vlen, flags, timeout)
			      : (int)ret_errno(sf_syscall6(SF_NR_recvmmsg, fd,
							   (long)vec, vlen, flags,
							   (long)timeout, 0));
	for (int i = 0; i < r; i++)
		adopt_rights(&vec[i].msg_hdr);
	return r;
}
