/* The program's fd space and the pidfd as an open file:
 * - a pidfd takes the lowest free number and costs no other visible
 *   number (later opens get the numbers they would get natively);
 * - a program that closes every fd above its own (close_range) and fills
 *   the numbers with its own file never has that file written or closed,
 *   and its pidfd still works;
 * - readiness follows the open file: a dup'd pidfd after the original was
 *   closed, a pidfd inherited through fork+execve, a pidfd received over
 *   SCM_RIGHTS from a process that has exited since (Rust's std);
 * - identity stays exact when the numbers and slots behind pidfds are
 *   reused;
 * - EMFILE in pidfd_open leaves nothing behind, and once a child is reaped
 *   and its pidfd closed no fd of the library is left. */
#include "common.h"
#include <dirent.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>

#define NR_close_range 436
/* Every number the library may use lies below this. close_range gets it
 * as its last fd: gVisor gives EINVAL for ~0U. */
#define FD_SCAN 8192

/* Open fd numbers below FD_SCAN (needs no fd itself). */
static int count_fds(void)
{
	int n = 0;
	for (int fd = 0; fd < FD_SCAN; fd++)
		n += fcntl(fd, F_GETFD) >= 0;
	return n;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* Long enough for the library's exit waiter and two rounds of its
 * garbage collection (every 100-250 ms). */
#define GC_MS 800

static void yesno(const char *step, const char *what, int ok)
{
	out("%s: %s: %s", step, what, ok ? "yes" : "no");
}

static void reap_pidfd(const char *step, long fd, pid_t pid)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (fd < 0) {
		out("%s: no pidfd", step);
		waitpid(pid, NULL, 0);
		return;
	}
	waitid_report(step, sys_waitid(P_PIDFD, fd, &si, WEXITED), &si, pid);
}

/* Once a child is reaped and its pidfd closed, no fd of the library is
 * left (run first, while the library holds nothing). */
static void release(void)
{
	int before = count_fds();
	pid_t k = spawn_pause();
	long p = sys_pidfd_open(k, 0);
	res("release-open", "pidfd_open", p, 1);
	kill(k, SIGKILL);
	poll_report("release-exit", p, POLLIN, 5000);
	reap_pidfd("release-reap", p, k);
	if (p >= 0)
		close(p);
	msleep(GC_MS);
	yesno("release", "fds after reap and close = before", count_fds() == before);
}

/* The numbers a program sees. */
static void numbering(void)
{
	int a = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int b = open("/dev/null", O_RDONLY | O_CLOEXEC);
	int c = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (a < 0 || b < 0 || c < 0)
		die("open /dev/null");
	close(b);
	pid_t k = spawn_pause();
	long p = sys_pidfd_open(k, 0);
	res("number-open", "pidfd_open", p, 1);
	yesno("number-open", "pidfd has the lowest free number", p == b);
	int n1 = open("/dev/null", O_RDONLY | O_CLOEXEC);
	yesno("number-next", "next open has the next number", n1 == c + 1);
	long p2 = sys_pidfd_open(k, 0);
	res("number-second", "pidfd_open", p2, 1);
	yesno("number-second", "second pidfd has the next number", p2 == n1 + 1);
	struct gc g = spawn_grandchild();
	long pg = sys_pidfd_open(g.pid, 0);
	res("number-nonchild", "pidfd_open", pg, 1);
	yesno("number-nonchild", "pidfd of a non-child has the next number",
	      pg == n1 + 2);
	int n2 = open("/dev/null", O_RDONLY | O_CLOEXEC);
	yesno("number-nonchild-next", "next open has the next number", n2 == n1 + 3);
	close(a);
	long p3 = sys_pidfd_open(k, PIDFD_NONBLOCK);
	yesno("number-hole", "pidfd fills the hole", p3 == a);
	stop_grandchild(&g);
	kill(k, SIGKILL);
	reap_pidfd("number-reap", p, k);
	long fds[] = { p, p2, pg, p3, n1, n2, c };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close((int)fds[i]);
}

/* close_range(3, ~0U) and dup2 onto every number above the pidfd: the
 * program's file must never be written or closed by the library. */
static void close_everything(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	struct kid k = kid_start();
	long p = sys_pidfd_open(k.pid, 0);
	res("closeall-open", "pidfd_open", p, 1);
	int low = (int)p > k.rep ? (int)p : k.rep;
	low = (low > k.cmd ? low : k.cmd) + 1;
	syscall(NR_close_range, low, FD_SCAN - 1, 0);
	int m = memfd_create("program-file", MFD_CLOEXEC);
	if (m < 0)
		die("memfd_create");
	int filled = 0;
	for (int n = m + 1; n < (int)rl.rlim_cur && n < FD_SCAN; n++)
		filled += dup2(m, n) == n;
	kid_exit(&k, 0);
	msleep(GC_MS);
	struct stat st;
	if (fstat(m, &st) < 0)
		die("fstat memfd");
	out("closeall-exit: program file size = %ld", (long)st.st_size);
	int still = 0;
	for (int n = m + 1; n < (int)rl.rlim_cur && n < FD_SCAN; n++)
		still += fcntl(n, F_GETFD) >= 0;
	yesno("closeall-exit", "every number the program filled is still open",
	      still == filled && filled > 0);
	syscall(NR_close_range, m, FD_SCAN - 1, 0);
	res("closeall-sig0", "pidfd_send_signal",
	    p >= 0 ? sys_pidfd_send_signal(p, 0, NULL, 0) : -1, 0);
	poll_report("closeall-poll", p, POLLIN, 2000);
	reap_pidfd("closeall-reap", p, k.pid);
	if (p >= 0)
		close(p);
	close(k.cmd);
	close(k.rep);
}

/* A dup'd pidfd after the original number is closed and the library has
 * had time to collect. */
static void dup_after_close(void)
{
	struct kid k = kid_start();
	long p = sys_pidfd_open(k.pid, 0);
	res("dup-open", "pidfd_open", p, 1);
	long d = p >= 0 ? dup((int)p) : -1;
	if (p >= 0)
		close(p);
	kid_exit(&k, 0);
	msleep(GC_MS);
	poll_report("dup-exited", d, POLLIN, 0);
	reap_pidfd("dup-reap", d, k.pid);
	if (d >= 0)
		close(d);
	kid_close(&k);
}

/* A pidfd inherited through fork and execve, the parent's number closed. */
static void inherited(const char *self)
{
	struct kid k = kid_start();
	long p = sys_pidfd_open(k.pid, 0);
	res("exec-open", "pidfd_open", p, 1);
	if (p >= 0)
		fcntl(p, F_SETFD, 0);
	int go[2];
	if (pipe2(go, O_CLOEXEC))
		die("pipe2");
	fflush(stdout);
	pid_t f = track(fork());
	if (f < 0)
		die("fork");
	if (f == 0) {
		char a1[16], a2[16];
		fcntl(go[0], F_SETFD, 0);
		snprintf(a1, sizeof a1, "%ld", p);
		snprintf(a2, sizeof a2, "%d", go[0]);
		execl(self, self, "poll-inherited", a1, a2, (char *)NULL);
		_exit(127);
	}
	close(go[0]);
	if (p >= 0)
		close(p);
	kid_exit(&k, 0);
	msleep(GC_MS);
	if (write(go[1], "g", 1) != 1)
		die("write go");
	close(go[1]);
	int st;
	waitpid(f, &st, 0);
	out("exec-child: exit = %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	reap(k.pid);
	kid_close(&k);
}

static int poll_inherited(int fd, int go)
{
	char c;
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (read(go, &c, 1) != 1)
		return 2;
	poll_report("exec-child-poll", fd, POLLIN, 2000);
	return 0;
}

static long recv_fd(int s, int use_mmsg)
{
	char byte, ctl[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { &byte, 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1,
			     .msg_control = ctl, .msg_controllen = sizeof ctl };
	long r;
	if (use_mmsg) {
		struct mmsghdr mm = { .msg_hdr = mh };
		r = recvmmsg(s, &mm, 1, 0, NULL);
		mh = mm.msg_hdr;
	} else {
		r = recvmsg(s, &mh, MSG_CMSG_CLOEXEC);
	}
	if (r < 0)
		die("recvmsg");
	struct cmsghdr *c = CMSG_FIRSTHDR(&mh);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	int fd;
	memcpy(&fd, CMSG_DATA(c), sizeof fd);
	return fd;
}

/* The child opens its own pidfd and sends it to the parent (Rust's
 * Command::spawn with create_pidfd), then exits at once or on command. */
static void received(const char *step, int wait_for_command, int use_mmsg)
{
	int sv[2], cmd[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) ||
	    pipe2(cmd, O_CLOEXEC))
		die("socketpair");
	fflush(stdout);
	pid_t c = track(fork());
	if (c < 0)
		die("fork");
	if (c == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		long p = sys_pidfd_open(getpid(), 0);
		char byte = p >= 0 ? 'p' : 'n';
		char ctl[CMSG_SPACE(sizeof(int))];
		memset(ctl, 0, sizeof ctl);
		struct iovec iov = { &byte, 1 };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		if (p >= 0) {
			int fd = (int)p;
			mh.msg_control = ctl;
			mh.msg_controllen = sizeof ctl;
			struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
			cm->cmsg_level = SOL_SOCKET;
			cm->cmsg_type = SCM_RIGHTS;
			cm->cmsg_len = CMSG_LEN(sizeof(int));
			memcpy(CMSG_DATA(cm), &fd, sizeof fd);
		}
		if (sendmsg(sv[1], &mh, 0) != 1)
			_exit(3);
		if (wait_for_command && read(cmd[0], &byte, 1) != 1)
			_exit(4);
		_exit(0);
	}
	close(sv[1]);
	close(cmd[0]);
	char name[64];
	if (!wait_for_command)
		wait_zombie(c);
	long r = recv_fd(sv[0], use_mmsg);
	snprintf(name, sizeof name, "%s-recv", step);
	out("%s: pidfd received = %s", name, r >= 0 ? "yes" : "no");
	if (wait_for_command) {
		snprintf(name, sizeof name, "%s-live", step);
		poll_report(name, r, POLLIN, 0);
		if (write(cmd[1], "x", 1) != 1)
			die("write cmd");
	}
	snprintf(name, sizeof name, "%s-exited", step);
	poll_report(name, r, POLLIN, 3000);
	snprintf(name, sizeof name, "%s-reap", step);
	reap_pidfd(name, r, c);
	if (r >= 0)
		close(r);
	close(sv[0]);
	close(cmd[1]);
}

/* A grandchild sends its own pidfd, exits and is reaped by its parent
 * before we receive the pidfd: readable (POLLHUP too since Linux 6.9),
 * ESRCH, and no child of ours. */
static void received_reaped(void)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	fflush(stdout);
	pid_t h = track(fork());
	if (h < 0)
		die("fork");
	if (h == 0) {
		pid_t g = fork();
		if (g == 0) {
			long p = sys_pidfd_open(getpid(), 0);
			char byte = 'p', ctl[CMSG_SPACE(sizeof(int))];
			memset(ctl, 0, sizeof ctl);
			struct iovec iov = { &byte, 1 };
			struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
			if (p >= 0) {
				int fd = (int)p;
				mh.msg_control = ctl;
				mh.msg_controllen = sizeof ctl;
				struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
				cm->cmsg_level = SOL_SOCKET;
				cm->cmsg_type = SCM_RIGHTS;
				cm->cmsg_len = CMSG_LEN(sizeof(int));
				memcpy(CMSG_DATA(cm), &fd, sizeof fd);
			}
			_exit(sendmsg(sv[1], &mh, 0) == 1 ? 0 : 3);
		}
		int st;
		_exit(g > 0 && waitpid(g, &st, 0) == g ? 0 : 4);
	}
	close(sv[1]);
	int st;
	waitpid(h, &st, 0);
	out("scm-reaped: sender reaped by its parent: %s",
	    WIFEXITED(st) && WEXITSTATUS(st) == 0 ? "yes" : "no");
	long r = recv_fd(sv[0], 0);
	out("scm-reaped-recv: pidfd received = %s", r >= 0 ? "yes" : "no");
	struct pollfd pf = { .fd = (int)r, .events = POLLIN };
	if (r >= 0)
		out("scm-reaped-poll: readable = %s",
		    poll(&pf, 1, 3000) == 1 && (pf.revents & POLLIN) ? "yes" : "no");
	else
		out("scm-reaped-poll: no pidfd");
	res("scm-reaped-sig0", "pidfd_send_signal",
	    r >= 0 ? sys_pidfd_send_signal(r, 0, NULL, 0) : -1, 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("scm-reaped-waitid", r >= 0 ? sys_waitid(P_PIDFD, r, &si, WEXITED | WNOHANG) : -1, &si, 0);
	if (r >= 0)
		close(r);
	close(sv[0]);
}

/* A zombie's pidfd must keep naming the zombie while other pidfds are
 * made, closed and collected, and after the program closed the library's
 * fds and new pidfds were made at those numbers; no pidfd may lose its
 * file to another's collection. */
static void identity(void)
{
	struct kid a = kid_start();
	long pa = sys_pidfd_open(a.pid, 0);
	res("identity-open", "pidfd_open", pa, 1);
	kid_exit(&a, 0);
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("identity-zombie", pa >= 0 ? sys_waitid(P_PIDFD, pa, &si, WEXITED | WNOHANG | WNOWAIT) : -1, &si, a.pid);
	for (int i = 0; i < 6; i++) {
		pid_t x = spawn_exit(0);
		long px = sys_pidfd_open(x, 0);
		struct pollfd pf = { .fd = (int)px, .events = POLLIN };
		if (px >= 0) {
			poll(&pf, 1, 2000);
			memset(&si, 0, sizeof si);
			sys_waitid(P_PIDFD, px, &si, WEXITED);
			close(px);
		} else {
			waitpid(x, NULL, 0);
		}
	}
	msleep(GC_MS);
	int top = (int)pa > a.rep ? (int)pa : a.rep;
	syscall(NR_close_range, (top > a.cmd ? top : a.cmd) + 1, FD_SCAN - 1, 0);
	pid_t b = spawn_pause();
	long pb = sys_pidfd_open(b, 0);
	res("identity-live", "pidfd_open", pb, 1);
	memset(&si, 0, sizeof si);
	waitid_report("identity-zombie-again", pa >= 0 ? sys_waitid(P_PIDFD, pa, &si, WEXITED | WNOHANG | WNOWAIT) : -1, &si, a.pid);
	res("identity-zombie-sig0", "pidfd_send_signal", pa >= 0 ? sys_pidfd_send_signal(pa, 0, NULL, 0) : -1, 0);
	msleep(GC_MS);
	memset(&si, 0, sizeof si);
	waitid_report("identity-live-again", pb >= 0 ? sys_waitid(P_PIDFD, pb, &si, WEXITED | WNOHANG) : -1, &si, b);
	poll_report("identity-live-poll", pb, POLLIN, 0);
	pid_t c = spawn_pause();
	long pc = sys_pidfd_open(c, 0);
	res("identity-new", "pidfd_open", pc, 1);
	memset(&si, 0, sizeof si);
	waitid_report("identity-zombie-third", pa >= 0 ? sys_waitid(P_PIDFD, pa, &si, WEXITED | WNOHANG | WNOWAIT) : -1, &si, a.pid);
	poll_report("identity-zombie-poll", pa, POLLIN, 0);
	msleep(GC_MS);
	kill(b, SIGKILL);
	poll_report("identity-live-killed", pb, POLLIN, 3000);
	reap_pidfd("identity-live-reap", pb, b);
	reap_pidfd("identity-zombie-reap", pa, a.pid);
	kill(c, SIGKILL);
	poll_report("identity-new-killed", pc, POLLIN, 3000);
	reap_pidfd("identity-new-reap", pc, c);
	long fds[] = { pa, pb, pc };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close((int)fds[i]);
	kid_close(&a);
}

/* The program closes every fd it does not know and fills the numbers
 * with copies of a zombie's pidfd (as a shell arranging fds for a child
 * may): a new pidfd of a live child must not take on the zombie's
 * readiness, nor the old pidfds each other's identity. */
static void identity_numbers(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	struct kid a = kid_start();
	long pa = sys_pidfd_open(a.pid, 0);
	res("stolen-open-live", "pidfd_open", pa, 1);
	pid_t z = spawn_exit(0);
	wait_zombie(z);
	long pz = sys_pidfd_open(z, 0);
	res("stolen-open-zombie", "pidfd_open", pz, 1);
	int keep[] = { 0, 1, 2, a.cmd, a.rep, (int)pa, (int)pz };
	int lim = (int)rl.rlim_cur < FD_SCAN ? (int)rl.rlim_cur : FD_SCAN;
	for (int n = 3; n < FD_SCAN; n++) {
		int k = 0;
		for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
			k |= keep[i] == n;
		if (!k)
			close(n);
	}
	int filled = 0;
	if (pz >= 0)
		for (int n = 3; n < lim - 4; n++)
			if (fcntl(n, F_GETFD) < 0)
				filled += dup2((int)pz, n) == n;
	siginfo_t si;
	memset(&si, 0, sizeof si);
	waitid_report("stolen-zombie-waitid", pz >= 0 ? sys_waitid(P_PIDFD, pz, &si, WEXITED | WNOHANG | WNOWAIT) : -1, &si, z);
	poll_report("stolen-zombie-poll", pz, POLLIN, 0);
	long pa2 = sys_pidfd_open(a.pid, 0);
	res("stolen-open-live-again", "pidfd_open", pa2, 1);
	poll_report("stolen-live-again-poll", pa2, POLLIN, 0);
	memset(&si, 0, sizeof si);
	waitid_report("stolen-live-waitid", pa >= 0 ? sys_waitid(P_PIDFD, pa, &si, WEXITED | WNOHANG) : -1, &si, a.pid);
	poll_report("stolen-live-poll", pa, POLLIN, 0);
	for (int n = 3; n < lim - 4; n++)
		if (n != pa && n != pz && n != pa2 && n != a.cmd && n != a.rep)
			close(n);
	kid_exit(&a, 0);
	poll_report("stolen-live-exited", pa2, POLLIN, 3000);
	reap_pidfd("stolen-live-reap", pa2, a.pid);
	reap_pidfd("stolen-zombie-reap", pz, z);
	long fds[] = { pa, pz, pa2 };
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++)
		if (fds[i] >= 0)
			close((int)fds[i]);
	kid_close(&a);
}

/* EMFILE: with no fd free the kernel's EMFILE and nothing left behind;
 * with one free (natively enough for the pidfd) nothing left either. */
static void emfile(void)
{
	struct rlimit old, low;
	getrlimit(RLIMIT_NOFILE, &old);
	pid_t k = spawn_pause();
	msleep(GC_MS); /* the library's collection of earlier pidfds is done */
	int threads = count_threads();
	low = old;
	low.rlim_cur = 64;
	if (setrlimit(RLIMIT_NOFILE, &low))
		die("setrlimit");
	int fill[64], n = 0;
	int before = count_fds();
	for (int f; n < 64 && (f = open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0;)
		fill[n++] = f;
	long r = sys_pidfd_open(k, 0);
	res("emfile-none-free", "pidfd_open", r, 1);
	if (r >= 0)
		close(r);
	yesno("emfile-none-free", "fds after = before plus the program's",
	      count_fds() == before + n);
	close(fill[--n]);
	r = sys_pidfd_open(k, 0);
	if (r >= 0)
		close(r);
	yesno("emfile-one-free", "fds after = before plus the program's",
	      count_fds() == before + n);
	while (n > 0)
		close(fill[--n]);
	setrlimit(RLIMIT_NOFILE, &old);
	yesno("emfile", "threads after = before", count_threads() == threads);
	long p = sys_pidfd_open(k, 0);
	res("emfile-after", "pidfd_open", p, 1);
	kill(k, SIGKILL);
	poll_report("emfile-after-exit", p, POLLIN, 3000);
	reap_pidfd("emfile-after-reap", p, k);
	if (p >= 0)
		close(p);
}

/* The same with a non-child's pidfd (the library may hold a netlink
 * socket for it) and the numbers filled with the program's socket that
 * has a message queued: the message stays the program's. */
static void close_everything_nonchild(void)
{
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	struct gc g = spawn_grandchild();
	long p = sys_pidfd_open(g.pid, 0);
	res("closeall-nonchild-open", "pidfd_open", p, 1);
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv))
		die("socketpair");
	int low = (int)p > sv[1] ? (int)p : sv[1];
	for (int n = 3; n <= low; n++)
		if (fcntl(n, F_GETFD) >= 0 && n != p && n != sv[0] && n != sv[1])
			close(n);
	syscall(NR_close_range, low + 1, FD_SCAN - 1, 0);
	for (int n = low + 1; n < (int)rl.rlim_cur - 4 && n < FD_SCAN; n++)
		dup2(sv[0], n);
	if (send(sv[1], "m", 1, 0) != 1)
		die("send");
	msleep(GC_MS);
	char c = 0;
	long r = recv(sv[0], &c, 1, MSG_DONTWAIT);
	out("closeall-nonchild: program message still queued: %s",
	    r == 1 && c == 'm' ? "yes" : "no");
	syscall(NR_close_range, low + 1, FD_SCAN - 1, 0);
	res("closeall-nonchild-sig0", "pidfd_send_signal",
	    p >= 0 ? sys_pidfd_send_signal(p, 0, NULL, 0) : -1, 0);
	kill(g.pid, SIGKILL);
	poll_report("closeall-nonchild-poll", p, POLLIN, 3000);
	stop_grandchild(&g);
	if (p >= 0)
		close(p);
	close(sv[0]);
	close(sv[1]);
}

/* Many pidfds of one process: each can still go into the program's own
 * epoll (Linux limits the epoll paths from one file, fs/eventpoll.c). */
static void many(void)
{
	enum { N = 600 };
	static long p[N];
	pid_t k = spawn_pause();
	int opened = 0;
	for (int i = 0; i < N; i++) {
		p[i] = sys_pidfd_open(k, 0);
		opened += p[i] >= 0;
	}
	yesno("many-open", "600 pidfds of one child opened", opened == N);
	int e = epoll_create1(EPOLL_CLOEXEC);
	struct epoll_event ev = { .events = EPOLLIN };
	int added = 0;
	for (int i = N - 10; i < N; i++)
		added += p[i] >= 0 && epoll_ctl(e, EPOLL_CTL_ADD, (int)p[i], &ev) == 0;
	yesno("many-epoll", "the last 10 go into an epoll of the program", added == 10);
	kill(k, SIGKILL);
	struct epoll_event got;
	out("many-exit: epoll_wait = %d", epoll_wait(e, &got, 1, 3000));
	reap_pidfd("many-reap", p[0], k);
	for (int i = 0; i < N; i++)
		if (p[i] >= 0)
			close((int)p[i]);
	close(e);
}

int main(int argc, char **argv)
{
	if (argc == 4 && !strcmp(argv[1], "poll-inherited"))
		return poll_inherited(atoi(argv[2]), atoi(argv[3]));
	scenario_init();
	struct rlimit rl;
	getrlimit(RLIMIT_NOFILE, &rl);
	if (rl.rlim_cur > 1024) {
		rl.rlim_cur = 1024;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	char self[4096];
	ssize_t sl = readlink("/proc/self/exe", self, sizeof self - 1);
	if (sl < 0)
		die("readlink /proc/self/exe");
	self[sl] = 0;
	release();
	numbering();
	dup_after_close();
	inherited(self);
	received("scm-exited", 0, 0);
	received("scm-live", 1, 1);
	received_reaped();
	identity();
	identity_numbers();
	emfile();
	many();
	close_everything();
	close_everything_nonchild();
	return 0;
}
