/* `sysfill run`: start a program under a simulated kernel process API
 * and/or with the emulation.
 *
 * Everything happens in this process, which then execs the program: no
 * extra process, so the program's exit status (or death by signal) is
 * sysfill's. Exit statuses of sysfill itself follow env(1): 125 its own
 * failure, 126 program found but not executable, 127 program not found.
 *
 * Modes:
 *  --no-emulate    only the --kernel/--profile seccomp filter, then exec
 *  preload         LD_PRELOAD=libsysfill.so (+ SYSFILL_FORCE=1 when the
 *                  simulated kernel lacks a call the library emulates; the
 *                  filter then leaves those calls to the library's trap)
 *  trace           the ptrace supervisor (trace.c): emulates for the
 *                  program and all its descendants, static or not
 *  auto            preload for dynamically linked programs of our arch,
 *                  trace otherwise
 *
 * clone(CLONE_PIDFD) on a simulated kernel before 5.2: that kernel ignores
 * the flag, which a seccomp errno rule cannot express: with --no-emulate
 * the program runs under the supervisor (trace mode, emulating nothing),
 * which clears the bit; with the emulation the library (or trace mode)
 * handles it. A feature no filter can hide (pollable pidfds of 5.2's
 * CLONE_PIDFD) is named in one warning line (-q hides it); --strict
 * refuses instead (exit 125). */
#include <errno.h>
#include <elf.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tracer.h"
#include "env.h"

extern char **environ;

enum mode { M_AUTO, M_PRELOAD, M_TRACE, M_NONE };

struct runopt {
	unsigned kv;                 /* 0: no --kernel */
	const char *kv_arg;
	const struct kprofile *prof;
	int no_emulate, strict, quiet, verbose;
	const char *log_file;        /* -o FILE */
	enum mode mode;
	int mode_given;
	char **argv;                 /* program and its arguments */
};

int sysfill_lib_path(char *buf, size_t len)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
	if (n <= 0)
		return -ENOENT;
	self[n] = 0;
	char *slash = strrchr(self, '/');
	if (!slash)
		return -ENOENT;
	*slash = 0;
	snprintf(buf, len, "%s/libsysfill.so", self);
	if (access(buf, R_OK) == 0)
		return 0;
	/* installed: BINDIR/../LIBDIR, LIBDIR lib or multiarch */
	static const char *const rel[] = {
		"../lib/libsysfill.so", "../lib/x86_64-linux-gnu/libsysfill.so",
		"../lib64/libsysfill.so", "../lib/libsysfill.so.0",
		"../lib/x86_64-linux-gnu/libsysfill.so.0"};
	char alt[PATH_MAX + 64];
	for (size_t i = 0; i < sizeof rel / sizeof rel[0]; i++) {
		snprintf(alt, sizeof alt, "%s/%s", self, rel[i]);
		if (access(alt, R_OK) == 0 && realpath(alt, self)) {
			snprintf(buf, len, "%s", self);
			return 0;
		}
	}
	return -ENOENT;
}

static void run_help(FILE *f)
{
	fprintf(f,
"usage: sysfill run [OPTIONS] [--] PROG [ARGS...]\n"
"\n"
"Run PROG (execs it: its exit status is sysfill's) with the Linux 5.x\n"
"process API emulated, and/or with an older kernel's API simulated. In\n"
"trace mode sysfill stays as PROG's parent and tracer, and exits with PROG's\n"
"status or dies of its signal.\n"
"\n"
"  --kernel VERSION   simulate VERSION's process API with a seccomp filter:\n"
"                     what VERSION lacks fails as it failed there (table below)\n"
"  --no-emulate       no emulation: PROG sees exactly the simulated kernel\n"
"  --profile=NAME     also simulate a container seccomp profile:\n");
	for (const struct kprofile *p = kprofiles; p->name; p++)
		fprintf(f, "                       %s: %s\n", p->name, p->what);
	fprintf(f,
"  --mode=MODE        auto (default): preload for dynamically linked\n"
"                     programs, trace for static ones; preload: LD_PRELOAD=\n"
"                     libsysfill.so (next to this sysfill); trace: a ptrace\n"
"                     supervisor emulates for PROG and its descendants\n"
"  --strict           refuse (exit 125) when VERSION has behaviour a filter\n"
"                     cannot simulate, instead of warning\n"
"  -q, --quiet        no warnings or notes on stderr\n"
"  -o, --output FILE  write the log lines of sysfill and of libsysfill.so in\n"
"                     PROG and its children to FILE (SYSFILL_LOG_FILE=FILE)\n"
"  -v, --verbose      log every emulated call (SYSFILL_LOG=debug)\n"
"\n"
"With --kernel and emulation (preload), SYSFILL_FORCE=1 is set when VERSION\n"
"lacks a call the library emulates; the filter then leaves those calls to\n"
"the library. The filter survives exec into every child of PROG. It is\n"
"loaded without no_new_privs when sysfill has CAP_SYS_ADMIN; otherwise\n"
"no_new_privs is set, so setuid programs PROG starts gain no privileges.\n"
"\n"
"Process API by kernel version:\n");
	kfeatures_print(f);
	fprintf(f,
"\n"
"Exit status: PROG's own; 125 sysfill failed (bad option, filter, trace mode),\n"
"126 PROG found but not executable, 127 PROG not found.\n");
}

/* Resolve prog as execvp(3) would. Returns 0 with the path in out, or
 * -ENOENT / -EACCES / other -errno. */
static int resolve(const char *prog, char *out, size_t len)
{
	struct stat st;
	if (!*prog)
		return -ENOENT;
	if (strchr(prog, '/')) {
		if (stat(prog, &st) < 0)
			return -errno;
		if (S_ISDIR(st.st_mode) || access(prog, X_OK) < 0)
			return -EACCES;
		snprintf(out, len, "%s", prog);
		return 0;
	}
	const char *path = getenv("PATH");
	if (!path)
		path = "/bin:/usr/bin";
	int seen_eacces = 0;
	for (const char *p = path;; p++) {
		const char *end = strchrnul(p, ':');
		int dl = (int)(end - p);
		snprintf(out, len, "%.*s%s%s", dl, p, dl ? "/" : "", prog);
		if (stat(out, &st) == 0) {
			if (!S_ISDIR(st.st_mode) && access(out, X_OK) == 0)
				return 0;
			seen_eacces = 1;
		}
		if (!*end)
			break;
		p = end;
	}
	return seen_eacces ? -EACCES : -ENOENT;
}

/* Follow #! lines (a few levels) to the ELF that will actually run and
 * inspect it. Returns 0 or -1 with why. shown gets the file inspected. */
static int inspect_target(const char *path, struct elfinfo *in, char *shown,
			  size_t shownlen, char *why, size_t wl)
{
	char cur[PATH_MAX];
	snprintf(cur, sizeof cur, "%s", path);
	for (int depth = 0; depth < 5; depth++) {
		snprintf(shown, shownlen, "%s", cur);
		FILE *f = fopen(cur, "re");
		if (!f) {
			snprintf(why, wl, "%s", strerror(errno));
			return -1;
		}
		char line[PATH_MAX + 8];
		int is_script = fgets(line, sizeof line, f) && line[0] == '#' &&
				line[1] == '!';
		fclose(f);
		if (!is_script)
			break;
		char *s = line + 2;
		s += strspn(s, " \t");
		size_t n = strcspn(s, " \t\r\n");
		if (!n) {
			snprintf(why, wl, "empty #! line");
			return -1;
		}
		s[n] = 0;
		snprintf(cur, sizeof cur, "%s", s);
	}
	if (elf_inspect(cur, in, why, wl) == 0)
		return 0;
	/* Not ELF, no #!: execvp runs it with /bin/sh. */
	if (!strncmp(why, "not an ELF file", 15)) {
		snprintf(shown, shownlen, "/bin/sh");
		return elf_inspect("/bin/sh", in, why, wl);
	}
	return -1;
}

static int run_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "sysfill run: ");
	fprintf(stderr, fmt, arg);
	fprintf(stderr, " (see sysfill run --help)\n");
	return EXIT_SF_FAIL;
}

/* Value of --name=VALUE or --name VALUE at argv[*i]. NULL if absent. */
static const char *optval(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);
	if (strncmp(argv[*i], name, n))
		return NULL;
	if (argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (argv[*i][n] == 0 && *i + 1 < argc)
		return argv[++*i];
	return NULL;
}

static int parse(int argc, char **argv, struct runopt *o, int *help)
{
	int i;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v;
		if (!strcmp(a, "--")) {
			i++;
			break;
		}
		if (a[0] != '-' || !a[1])
			break;
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			*help = 1;
			return 0;
		} else if (!strcmp(a, "--no-emulate")) {
			o->no_emulate = 1;
		} else if (!strcmp(a, "--strict")) {
			o->strict = 1;
		} else if (!strcmp(a, "-q") || !strcmp(a, "--quiet")) {
			o->quiet = 1;
		} else if (!strcmp(a, "-v") || !strcmp(a, "--verbose")) {
			o->verbose = 1;
		} else if ((v = optval(argc, argv, &i, "--output")) ||
			   (!strcmp(a, "-o") && i + 1 < argc && (v = argv[++i]))) {
			o->log_file = v;
		} else if ((v = optval(argc, argv, &i, "--kernel"))) {
			if (kversion_parse(v, &o->kv) < 0)
				return run_usage("bad kernel version '%s' "
						 "(expected e.g. 4.19 or 5.10)", v);
			o->kv_arg = v;
		} else if ((v = optval(argc, argv, &i, "--profile"))) {
			o->prof = kprofile_find(v);
			if (!o->prof)
				return run_usage("unknown profile '%s'", v);
		} else if ((v = optval(argc, argv, &i, "--mode"))) {
			o->mode_given = 1;
			if (!strcmp(v, "auto"))
				o->mode = M_AUTO;
			else if (!strcmp(v, "preload"))
				o->mode = M_PRELOAD;
			else if (!strcmp(v, "trace"))
				o->mode = M_TRACE;
			else
				return run_usage("unknown mode '%s' (auto, preload "
						 "or trace)", v);
		} else if (!strcmp(a, "--kernel") || !strcmp(a, "--profile") ||
			   !strcmp(a, "--mode") || !strcmp(a, "--output") ||
			   !strcmp(a, "-o")) {
			return run_usage("option '%s' needs a value", a);
		} else {
			return run_usage("unknown option '%s'", a);
		}
	}
	if (i >= argc)
		return run_usage("%s", "no program given");
	o->argv = argv + i;
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct runopt o = {0};
	int help = 0;
	int r = parse(argc, argv, &o, &help);
	if (r)
		return r;
	if (help) {
		run_help(stdout);
		return 0;
	}
	if (o.verbose && setenv("SYSFILL_LOG", "debug", 1) < 0)
		return run_usage("setenv: %s", strerror(errno));
	if (o.log_file) {
		/* Absolute: PROG may change directory before it logs. */
		char abs[PATH_MAX];
		int fd = open(o.log_file, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
			      0644);
		if (fd < 0) {
			fprintf(stderr, "sysfill run: -o %s: %s\n", o.log_file,
				strerror(errno));
			return EXIT_SF_FAIL;
		}
		close(fd);
		if (o.log_file[0] != '/' && getcwd(abs, sizeof abs - 1) &&
		    strlen(abs) + strlen(o.log_file) + 2 < sizeof abs) {
			strcat(abs, "/");
			strcat(abs, o.log_file);
			o.log_file = abs;
		}
		if (setenv("SYSFILL_LOG_FILE", o.log_file, 1) < 0)
			return run_usage("setenv: %s", strerror(errno));
	}
	const char *prog = o.argv[0];
	char path[PATH_MAX];
	r = resolve(prog, path, sizeof path);
	if (r < 0) {
		fprintf(stderr, "sysfill: %s: %s\n", prog, strerror(-r));
		return r == -ENOENT || r == -ENOTDIR ? EXIT_SF_NOTFOUND
						     : EXIT_SF_NOEXEC;
	}

	/* Which front end. */
	char v[16], lib[PATH_MAX];
	if (o.no_emulate) {
		if (o.mode_given && o.mode != M_AUTO) {
			fprintf(stderr, "sysfill run: --no-emulate runs %s without "
				"a front end; --mode=%s contradicts it\n", prog,
				o.mode == M_PRELOAD ? "preload" : "trace");
			return EXIT_SF_FAIL;
		}
		o.mode = M_NONE;
	} else if (o.mode != M_TRACE) {
		struct elfinfo in;
		char shown[PATH_MAX], why[256];
		int ok = inspect_target(path, &in, shown, sizeof shown, why,
					sizeof why) == 0;
		const char *reason = NULL;
		char mach[32], rbuf[PATH_MAX + 128];
		if (ok && (in.link == EL_STATIC || in.link == EL_STATIC_PIE)) {
			snprintf(rbuf, sizeof rbuf, "%s is statically linked", shown);
			reason = rbuf;
		} else if (ok && !elf_native(&in)) {
			snprintf(rbuf, sizeof rbuf, "%s is a %d-bit %s program; "
				 "libsysfill.so cannot load into it", shown,
				 in.elfclass == ELFCLASS64 ? 64 : 32,
				 elf_machine_name(in.machine, mach, sizeof mach));
			reason = rbuf;
		}
		if (o.mode == M_AUTO) {
			if (!ok) {
				fprintf(stderr, "sysfill run: cannot tell how %s is "
					"linked (%s: %s); use --mode=preload or "
					"--mode=trace\n", prog, shown, why);
				return EXIT_SF_FAIL;
			}
			o.mode = reason ? M_TRACE : M_PRELOAD;
		} else if (reason && o.kv && kversion_triggers_emulation(o.kv)) {
			/* The filter would leave the calls VERSION lacks to a
			 * library that cannot load: the program would get this
			 * kernel's calls while told it runs on VERSION. */
			fprintf(stderr, "sysfill run: --mode=preload --kernel %s: %s, "
				"so the calls %s lacks would reach this kernel; use "
				"--mode=trace (or --no-emulate)\n", o.kv_arg, reason,
				o.kv_arg);
			return EXIT_SF_FAIL;
		} else if (reason && !o.quiet) {
			fprintf(stderr, "sysfill: warning: %s: LD_PRELOAD has no "
				"effect there\n", reason);
		}
		if (o.mode == M_TRACE || sysfill_lib_path(lib, sizeof lib) == 0)
			env_log(2, "%s mode for %s%s%s",
				o.mode == M_TRACE ? "trace" : "preload", prog,
				reason ? ": " : " (dynamically linked)",
				reason ? reason : "");
	}
	if (o.mode == M_PRELOAD && sysfill_lib_path(lib, sizeof lib) < 0) {
		if (o.mode_given) {
			fprintf(stderr, "sysfill run: --mode=preload: no "
				"libsysfill.so next to this sysfill or in ../lib "
				"(looked for %s); use --mode=trace\n", lib);
			return EXIT_SF_FAIL;
		}
		/* A release binary copied alone: trace mode needs no library. */
		env_log(2, "no libsysfill.so next to this sysfill or in ../lib: "
			"trace mode for %s", prog);
		o.mode = M_TRACE;
	}
	/* The library emulates only if the simulated kernel lacks a call its
	 * probe looks for; otherwise it would pass through there too. */
	int lib_emulates = o.mode == M_PRELOAD && o.kv &&
			   kversion_triggers_emulation(o.kv);
	int emulates = o.mode == M_TRACE ? trace_emulates(o.kv) : lib_emulates;

	void *ctx = NULL;
	struct kplan plan = {0};
	if (o.kv || o.prof) {
		r = kfilter_build(o.kv, o.prof, emulates, &ctx, &plan);
		if (r < 0) {
			fprintf(stderr, "sysfill run: cannot build the seccomp "
				"filter: %s\n", strerror(-r));
			return EXIT_SF_FAIL;
		}
	}
	if (o.mode == M_TRACE) {
		int eperm_clone3 = 0;
		for (const struct kprofile_rule *pr = o.prof ? o.prof->rules : NULL;
		     pr && pr->syscall; pr++)
			if (!strcmp(pr->syscall, "clone3") && pr->err == EPERM)
				eperm_clone3 = 1;
		/* clone3 is emulated, except on a simulated kernel
		 * without it (and over a profile's EPERM): ENOSYS */
		return trace_run(path, o.argv, ctx, o.quiet, emulates,
				 eperm_clone3 || (o.kv && o.kv < KV(5, 3)), 0,
				 o.kv && o.kv < KV(5, 2));
	}
	if (plan.gaps & (1u << KF_CLONE_PIDFD)) {
		/* Before 5.2 clone ignores CLONE_PIDFD: only the
		 * supervisor can clear the flag (trace mode, emulating
		 * nothing). No pidfd then exists: none to poll either. */
		env_log(2, "--kernel %s: under the supervisor, so that clone "
			"ignores CLONE_PIDFD", kversion_str(o.kv, v, sizeof v));
		return trace_run(path, o.argv, ctx, o.quiet, 0, 0, 1, 1);
	}
	if (plan.gaps) {
		char list[256] = "";
		for (int i = 0; i < KF_COUNT; i++)
			if (plan.gaps & (1u << i))
				snprintf(list + strlen(list),
					 sizeof list - strlen(list), "%s%s",
					 list[0] ? ", " : "", kfeatures[i].name);
		if (o.strict) {
			fprintf(stderr, "sysfill run: --kernel %s: cannot "
				"simulate %s; refusing (--strict)\n",
				kversion_str(o.kv, v, sizeof v), list);
			kfilter_release(ctx);
			return EXIT_SF_FAIL;
		}
		if (!o.quiet)
			fprintf(stderr, "sysfill: warning: --kernel %s: %s "
				"not simulated: works as on this kernel\n",
				kversion_str(o.kv, v, sizeof v), list);
	}

	if (o.mode == M_PRELOAD) {
		const char *old = getenv("LD_PRELOAD");
		if (strpbrk(lib, ": ")) {
			fprintf(stderr, "sysfill run: %s: LD_PRELOAD cannot hold "
				"a path with ':' or ' '\n", lib);
			kfilter_release(ctx);
			return EXIT_SF_FAIL;
		}
		size_t n = strlen(lib) + (old ? strlen(old) : 0) + 2;
		char *pre = malloc(n);
		if (!pre) {
			fprintf(stderr, "sysfill run: out of memory\n");
			return EXIT_SF_FAIL;
		}
		snprintf(pre, n, "%s%s%s", lib, old && *old ? ":" : "",
			 old ? old : "");
		if (setenv("LD_PRELOAD", pre, 1) < 0 ||
		    (lib_emulates && setenv("SYSFILL_FORCE", "1", 1) < 0)) {
			fprintf(stderr, "sysfill run: setenv: %s\n", strerror(errno));
			return EXIT_SF_FAIL;
		}
		free(pre);
	}

	if (ctx) {
		int nnp;
		r = kfilter_load(ctx, &nnp);
		if (r < 0) {
			fprintf(stderr, "sysfill run: cannot load the seccomp "
				"filter: %s\n", strerror(-r));
			return EXIT_SF_FAIL;
		}
		if (nnp && !o.quiet)
			fprintf(stderr, "sysfill: note: no_new_privs is set (an "
				"unprivileged filter needs it): setuid programs "
				"started by %s gain no privileges\n", prog);
	}

	execve(path, o.argv, environ);
	int e = errno;
	if (e == ENOEXEC) {
		/* As execvp: a file without #! and not ELF is a sh script. */
		int n = 0;
		while (o.argv[n])
			n++;
		char **sh = calloc((size_t)n + 2, sizeof *sh);
		if (sh) {
			sh[0] = "/bin/sh";
			sh[1] = path;
			for (int i = 1; i <= n; i++)
				sh[i + 1] = o.argv[i];
			execve("/bin/sh", sh, environ);
			e = errno;
			free(sh);
		}
	}
	fprintf(stderr, "sysfill: %s: %s\n", prog, strerror(e));
	return e == ENOENT ? EXIT_SF_NOTFOUND : EXIT_SF_NOEXEC;
}
