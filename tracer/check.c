/* `sysfill check [--json] [--kernel X.Y] FILE...`: which process-API calls
 * each program (and the shared libraries it loads) can make, found by
 * disassembly, whether this kernel (or kernel X.Y) lacks any of them, and
 * which sysfill front end reaches the program.
 * Exit 0: nothing checked needs sysfill; 1: something does; 2: usage error
 * or a file that could not be checked (each named on stderr). */
#include <gelf.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "tracer.h"

#define MAX_LIBS 128

static const char method[] =
	"found by disassembling x86-64 code (Capstone): constant syscall numbers "
	"before inline syscall instructions and calls of libc's syscall(), in the "
	"program and the libraries it names (searched in its RUNPATH and the "
	"standard directories, not ld.so.cache); numbers computed at run time, "
	"calls through function pointers and libraries loaded with dlopen are not "
	"seen";

/* Where each call was found, as printed: a bit per SC_* for each way. */
struct found {
	unsigned raw, via_syscall, wrapper, libc_clone3;
	const char *clone3_user; /* the import that reaches libc's clone3 */
};

struct lib {
	char name[128];
	char path[PATH_MAX];
	struct scaninfo si;
	unsigned imports;
	int is_libc, missing;
};

/* Kernel versions of the calls the feature table (kernels.c) lacks. */
static unsigned since_of(int sc)
{
	switch (sc) {
	case SC_PIDFD_OPEN: return kfeatures[KF_PIDFD_OPEN].since;
	case SC_PIDFD_SEND_SIGNAL: return kfeatures[KF_PIDFD_SEND_SIGNAL].since;
	case SC_PIDFD_GETFD: return kfeatures[KF_PIDFD_GETFD].since;
	case SC_CLONE3: return kfeatures[KF_CLONE3].since;
	case SC_WAITID_PIDFD: return kfeatures[KF_WAITID_PIDFD].since;
	case SC_CLONE_PIDFD: return kfeatures[KF_CLONE_PIDFD].since;
	case SC_PROCESS_MADVISE: return KV(5, 10);
	case SC_PROCESS_MRELEASE: return KV(5, 15);
	}
	return 0;
}

/* Which calls this kernel (or sandbox, or seccomp profile) lacks: each
 * probed once with arguments that fail harmlessly where it exists. */
static unsigned missing_here(void)
{
	unsigned m = 0;
	long big = INT_MAX; /* an fd number nobody has */
	struct {
		int sc;
		long nr, a, b, c, d;
	} probes[] = {
		{SC_PIDFD_OPEN, SYS_pidfd_open, -1, 0, 0, 0},
		{SC_PIDFD_SEND_SIGNAL, SYS_pidfd_send_signal, big, 0, 0, 0},
		{SC_PIDFD_GETFD, SYS_pidfd_getfd, big, 0, 0, 0},
		{SC_CLONE3, SYS_clone3, 0, 0, 0, 0},
		{SC_PROCESS_MADVISE, SYS_process_madvise, big, 0, 0, 0},
		{SC_PROCESS_MRELEASE, SYS_process_mrelease, big, 0, 0, 0},
	};
	for (size_t i = 0; i < sizeof probes / sizeof probes[0]; i++) {
		long r = syscall(probes[i].nr, probes[i].a, probes[i].b,
				 probes[i].c, probes[i].d, 0);
		if (r < 0 && (errno == ENOSYS || errno == EPERM))
			m |= 1u << probes[i].sc;
	}
	/* glibc's probe: EBADF where P_PIDFD exists, EINVAL before 5.4. */
	long r = syscall(SYS_waitid, 3 /* P_PIDFD */, big, 0, WEXITED, 0);
	if (r < 0 && errno != EBADF)
		m |= 1u << SC_WAITID_PIDFD;
	/* CLONE_PIDFD (5.2) came with pidfd_send_signal's family; a kernel
	 * or sandbox without pidfd_open ignores or lacks it. */
	if (m & (1u << SC_PIDFD_OPEN))
		m |= 1u << SC_CLONE_PIDFD;
	return m;
}

static unsigned missing_in(unsigned kv)
{
	unsigned m = 0;
	for (int i = 0; i < SC_COUNT; i++)
		if (since_of(i) > kv)
			m |= 1u << i;
	return m;
}

static const char *link_text(const struct elfinfo *in)
{
	switch (in->link) {
	case EL_DYNAMIC:
		return in->pie ? "dynamically linked PIE executable"
			       : "dynamically linked executable";
	case EL_STATIC: return "statically linked executable";
	case EL_STATIC_PIE: return "statically linked PIE executable";
	case EL_SHARED: return "shared object";
	case EL_RELOC: return "relocatable object file";
	default: return "ELF file of another type (e.g. core)";
	}
}

static const char *link_word(const struct elfinfo *in)
{
	switch (in->link) {
	case EL_DYNAMIC: return "dynamic";
	case EL_STATIC: case EL_STATIC_PIE: return "static";
	case EL_SHARED: return "shared";
	case EL_RELOC: return "relocatable";
	default: return "other";
	}
}

/* Find NAME as the dynamic loader would, without ld.so.cache: RUNPATH
 * ($ORIGIN = the directory of FROM), LD_LIBRARY_PATH, standard dirs. */
static int find_lib(const char *name, const char *from, const char *runpath,
		    char *out, size_t len)
{
	if (strchr(name, '/'))
		return snprintf(out, len, "%s", name) >= (int)len ? -1
								 : access(out, R_OK);
	char origin[PATH_MAX];
	if (snprintf(origin, sizeof origin, "%s", from) >= (int)sizeof origin)
		return -1;
	char *slash = strrchr(origin, '/');
	if (slash)
		*slash = 0;
	else
		snprintf(origin, sizeof origin, ".");
	char dirs[8192];
	const char *llp = getenv("LD_LIBRARY_PATH");
	if (snprintf(dirs, sizeof dirs, "%s:%s:/lib/x86_64-linux-gnu:"
		     "/usr/lib/x86_64-linux-gnu:/lib64:/usr/lib64:/lib:/usr/lib:"
		     "/usr/local/lib", runpath ? runpath : "", llp ? llp : "") >=
	    (int)sizeof dirs)
		return -1;
	for (char *save = NULL, *d = strtok_r(dirs, ":", &save); d;
	     d = strtok_r(NULL, ":", &save)) {
		int n;
		if (!strncmp(d, "$ORIGIN", 7))
			n = snprintf(out, len, "%s%s/%s", origin, d + 7, name);
		else if (!strncmp(d, "${ORIGIN}", 9))
			n = snprintf(out, len, "%s%s/%s", origin, d + 9, name);
		else
			n = snprintf(out, len, "%s/%s", d, name);
		if (n < (int)len && access(out, R_OK) == 0)
			return 0;
	}
	return -1;
}

/* The libraries FILE loads (breadth first, each once). Returns how many. */
static int load_libs(const char *file, struct lib *libs, int max)
{
	int n = 0;
	char names[64][128], soname[128], runpath[4096];
	const char *from = file;
	for (int next = -1; next < n; next++) {
		if (next >= 0)
			from = libs[next].path;
		int k = elf_needed(from, names, 64, soname, sizeof soname,
				   runpath, sizeof runpath);
		for (int i = 0; i < k && n < max; i++) {
			int seen = 0;
			for (int j = 0; j < n && !seen; j++)
				seen = !strcmp(libs[j].name, names[i]);
			if (seen)
				continue;
			struct lib *l = &libs[n++];
			memset(l, 0, sizeof *l);
			if (snprintf(l->name, sizeof l->name, "%s", names[i]) >=
			    (int)sizeof l->name)
				l->missing = 1;
			l->is_libc = !strcmp(names[i], "libc.so.6");
			if (find_lib(names[i], from, runpath, l->path, sizeof l->path) < 0) {
				l->missing = 1;
				continue;
			}
			char why[256];
			struct elfinfo ei;
			if (elf_inspect(l->path, &ei, why, sizeof why) == 0)
				l->imports = ei.imports;
			if (elf_scan(l->path, &l->si, why, sizeof why) < 0)
				l->missing = 1;
		}
	}
	return n;
}

/* What a program reaches: its own code, its libraries' own code, and the
 * libc functions it or they import. */
static void collect(const struct elfinfo *in, const struct scaninfo *si,
		    const struct lib *libs, int nlibs, struct found *f)
{
	memset(f, 0, sizeof *f);
	f->raw = si->raw;
	f->via_syscall = si->via_syscall;
	f->wrapper = si->via_waitid;
	unsigned imports = in->imports;
	int libc_clone3 = 0;
	for (int i = 0; i < nlibs; i++) {
		if (libs[i].is_libc) {
			libc_clone3 = !!(libs[i].si.raw & (1u << SC_CLONE3));
			continue;
		}
		imports |= libs[i].imports;
	}
	if (imports & (1u << ES_PIDFD_OPEN))
		f->wrapper |= 1u << SC_PIDFD_OPEN;
	if (imports & (1u << ES_PIDFD_SEND_SIGNAL))
		f->wrapper |= 1u << SC_PIDFD_SEND_SIGNAL;
	if (imports & (1u << ES_PIDFD_GETFD))
		f->wrapper |= 1u << SC_PIDFD_GETFD;
	if (imports & (1u << ES_CLONE3))
		f->wrapper |= 1u << SC_CLONE3;
	static const int users[] = {ES_PIDFD_SPAWN, ES_PIDFD_SPAWNP,
				    ES_PTHREAD_CREATE, ES_POSIX_SPAWN,
				    ES_POSIX_SPAWNP, ES_SYSTEM, ES_POPEN};
	for (size_t i = 0; libc_clone3 && i < sizeof users / sizeof users[0]; i++)
		if (imports & (1u << users[i])) {
			f->libc_clone3 |= 1u << SC_CLONE3;
			f->clone3_user = elf_api_symbols[users[i]];
			break;
		}
}

static unsigned all_calls(const struct found *f, const struct lib *libs,
			  int nlibs)
{
	unsigned c = f->raw | f->via_syscall | f->wrapper | f->libc_clone3;
	for (int i = 0; i < nlibs; i++)
		if (!libs[i].is_libc)
			c |= libs[i].si.raw | libs[i].si.via_syscall |
			     libs[i].si.via_waitid;
	return c;
}

static void print_ways(FILE *o, int sc, const struct found *f,
		       const struct lib *libs, int nlibs, int json)
{
	const char *sep = "";
	fprintf(o, json ? "[" : " [");
#define WAY(...)                                                      \
	do {                                                          \
		fprintf(o, "%s%s", sep, json ? "\"" : "");            \
		fprintf(o, __VA_ARGS__);                              \
		fprintf(o, "%s", json ? "\"" : "");                   \
		sep = json ? ", " : "; ";                             \
	} while (0)
	if (f->raw & (1u << sc))
		WAY("syscall instruction");
	if (f->via_syscall & (1u << sc))
		WAY("syscall()");
	if (f->wrapper & (1u << sc))
		WAY("libc %s()", sc == SC_WAITID_PIDFD ? "waitid" : scan_call_names[sc]);
	if (f->libc_clone3 & (1u << sc))
		WAY("libc.so.6 via %s", f->clone3_user);
	for (int i = 0; i < nlibs; i++)
		if (!libs[i].is_libc &&
		    ((libs[i].si.raw | libs[i].si.via_syscall |
		      libs[i].si.via_waitid) & (1u << sc)))
			WAY("%s", libs[i].name);
#undef WAY
	fprintf(o, "]");
}

static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", *s);
		else
			putchar(*s);
	}
	putchar('"');
}

/* The mode that reaches the program, or NULL. */
static const char *mode_of(const struct elfinfo *in)
{
	if (in->link == EL_RELOC || in->link == EL_OTHER)
		return NULL;
	if (!elf_native(in))
		return NULL;
	if (in->link == EL_DYNAMIC || in->link == EL_SHARED)
		return "preload";
	return "trace";
}

static const char *advice(const struct elfinfo *in)
{
	if (in->link == EL_RELOC || in->link == EL_OTHER)
		return "not a program: nothing to run";
	if (!elf_native(in))
		return "not this machine's architecture: libsysfill.so cannot "
		       "load into it and trace mode serves x86-64 only";
	if (in->link == EL_DYNAMIC)
		return "dynamically linked: preload mode works "
		       "(sysfill run, or LD_PRELOAD=libsysfill.so)";
	if (in->link == EL_SHARED)
		return "shared object: covered by preload mode in the dynamically "
		       "linked programs that load it";
	return "statically linked: LD_PRELOAD cannot reach it; trace mode "
	       "does (sysfill run picks it)";
}

/* Report one file. Returns 1 if it needs sysfill where it is checked. */
static int report(const char *file, const struct elfinfo *in,
		  const struct scaninfo *si, unsigned missing, const char *where,
		  int json, int first)
{
	static struct lib libs[MAX_LIBS];
	int nlibs = in->link == EL_DYNAMIC || in->link == EL_SHARED
			    ? load_libs(file, libs, MAX_LIBS) : 0;
	struct found f;
	collect(in, si, libs, nlibs, &f);
	unsigned calls = all_calls(&f, libs, nlibs);
	unsigned lacks = calls & missing;
	int needs = lacks && mode_of(in);
	char m[32];
	if (json) {
		printf("%s\n    {\"file\": ", first ? "" : ",");
		json_str(file);
		printf(", \"class\": %d, \"machine\": \"%s\", \"link\": \"%s\", "
		       "\"scanned\": %s,\n     \"calls\": {",
		       in->elfclass == ELFCLASS64 ? 64 : 32,
		       elf_machine_name(in->machine, m, sizeof m), link_word(in),
		       si->scanned ? "true" : "false");
		const char *sep = "";
		for (int i = 0; i < SC_COUNT; i++)
			if (calls & (1u << i)) {
				printf("%s\"%s\": ", sep, scan_call_names[i]);
				print_ways(stdout, i, &f, libs, nlibs, 1);
				sep = ", ";
			}
		printf("},\n     \"libraries\": [");
		for (int i = 0; i < nlibs; i++) {
			printf("%s", i ? ", " : "");
			json_str(libs[i].name);
		}
		printf("], \"libraries_not_found\": [");
		sep = "";
		for (int i = 0; i < nlibs; i++)
			if (libs[i].missing) {
				printf("%s", sep);
				json_str(libs[i].name);
				sep = ", ";
			}
		printf("],\n     \"missing\": [");
		sep = "";
		for (int i = 0; i < SC_COUNT; i++)
			if (lacks & (1u << i)) {
				printf("%s\"%s\"", sep, scan_call_names[i]);
				sep = ", ";
			}
		printf("], \"needs_sysfill\": %s, \"mode\": ",
		       needs ? "true" : "false");
		if (mode_of(in))
			printf("\"%s\"}", mode_of(in));
		else
			printf("null}");
		return needs;
	}
	printf("%s: ELF%d %s, %s", file, in->elfclass == ELFCLASS64 ? 64 : 32,
	       elf_machine_name(in->machine, m, sizeof m), link_text(in));
	if (in->interp[0])
		printf(", interpreter %s", in->interp);
	printf("\n");
	if (in->link == EL_RELOC || in->link == EL_OTHER) {
		printf("  => %s\n", advice(in));
		return 0;
	}
	printf("  imports:");
	if (!in->imports)
		printf(" none");
	for (int i = 0; i < ES_COUNT; i++)
		if (in->imports & (1u << i))
			printf(" %s", elf_api_symbols[i]);
	printf("\n");
	if (!si->scanned) {
		printf("  calls: not checked (only x86-64 code is disassembled)\n");
	} else {
		printf("  calls:");
		if (!calls)
			printf(" none of the process API");
		const char *sep = "";
		for (int i = 0; i < SC_COUNT; i++)
			if (calls & (1u << i)) {
				printf("%s %s", sep, scan_call_names[i]);
				print_ways(stdout, i, &f, libs, nlibs, 0);
				sep = ",";
			}
		printf("\n  syscall sites: %ld syscall instructions (%ld with a "
		       "number not constant), %ld calls of syscall() (%ld)\n",
		       si->syscall_insns, si->unknown_insns, si->syscall_calls,
		       si->unknown_calls);
	}
	if (nlibs) {
		int nf = 0;
		for (int i = 0; i < nlibs; i++)
			nf += libs[i].missing;
		printf("  libraries: %d scanned", nlibs - nf);
		if (nf) {
			printf(", not found:");
			for (int i = 0; i < nlibs; i++)
				if (libs[i].missing)
					printf(" %s", libs[i].name);
		}
		printf("\n");
	}
	printf("  %s: ", where);
	if (!calls)
		printf("needs nothing\n");
	else if (!lacks)
		printf("has every call it makes: needs nothing\n");
	else {
		printf("lacks");
		for (int i = 0; i < SC_COUNT; i++)
			if (lacks & (1u << i))
				printf(" %s", scan_call_names[i]);
		printf(": %s\n", needs ? "needs sysfill" : "no sysfill mode reaches it");
	}
	printf("  => %s\n", advice(in));
	return needs;
}

static int usage(FILE *f)
{
	fprintf(f, "usage: sysfill check [--json] [--kernel X.Y] FILE...\n");
	return EXIT_SF_USAGE;
}

int cmd_check(int argc, char **argv)
{
	int i = 1, json = 0;
	unsigned kv = 0;
	for (; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout);
			printf("For each ELF file: class and machine, linkage, the "
			       "process-API calls it and\nthe libraries it names "
			       "can make, whether this kernel (or kernel X.Y) lacks\n"
			       "any of them, and which sysfill mode reaches it.\n"
			       "Exit status: 0 nothing needs sysfill, 1 a file needs "
			       "it, 2 usage error or a\nfile that could not be "
			       "checked.\n");
			return 0;
		} else if (!strcmp(a, "--json")) {
			json = 1;
		} else if (!strcmp(a, "--kernel") || !strncmp(a, "--kernel=", 9)) {
			const char *v = a[8] == '=' ? a + 9 : i + 1 < argc ? argv[++i] : NULL;
			if (!v || kversion_parse(v, &kv) < 0 || !kv) {
				fprintf(stderr, "sysfill check: --kernel needs a "
					"version such as 4.19, not '%s'\n", v ? v : "");
				return usage(stderr);
			}
		} else if (!strcmp(a, "--")) {
			i++;
			break;
		} else if (a[0] == '-' && a[1]) {
			fprintf(stderr, "sysfill check: unknown option '%s'\n", a);
			return usage(stderr);
		} else {
			break;
		}
	}
	if (i >= argc)
		return usage(stderr);
	char where[96];
	unsigned missing;
	if (kv) {
		char b[32];
		missing = missing_in(kv);
		snprintf(where, sizeof where, "on kernel %s",
			 kversion_str(kv, b, sizeof b));
	} else {
		struct utsname u;
		missing = missing_here();
		snprintf(where, sizeof where, "here (kernel %s)",
			 uname(&u) == 0 ? u.release : "?");
	}
	int errors = 0, needs = 0, first = 1;
	if (json)
		printf("{\"where\": \"%s\", \"method\": \"%s\", \"files\": [",
		       where, method);
	for (; i < argc; i++) {
		struct elfinfo in;
		struct scaninfo si;
		char why[256];
		fflush(stdout); /* keep stdout and stderr lines in order */
		if (elf_inspect(argv[i], &in, why, sizeof why) < 0 ||
		    elf_scan(argv[i], &si, why, sizeof why) < 0) {
			fprintf(stderr, "sysfill check: %s: %s\n", argv[i], why);
			errors = 1;
			continue;
		}
		needs |= report(argv[i], &in, &si, missing, where, json, first);
		first = 0;
	}
	if (json)
		printf("\n]}\n");
	else
		printf("(%s.)\n", method);
	return errors ? EXIT_SF_USAGE : needs ? 1 : 0;
}
