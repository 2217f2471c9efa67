/* `sysfill check FILE...`: how each program is linked, which process-API
 * functions it imports, and which sysfill front end can reach it. Exit 0 if
 * every file was checked, 1 if any could not be (each named on stderr), 2
 * on a usage error. */
#include <gelf.h>
#include <string.h>
#include "tracer.h"

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

static void list_syms(const char *label, unsigned bits)
{
	printf("  %s:", label);
	if (!bits)
		printf(" none");
	for (int i = 0; i < ES_COUNT; i++)
		if (bits & (1u << i))
			printf(" %s", elf_api_symbols[i]);
	printf("\n");
}

static void report(const char *file, const struct elfinfo *in)
{
	char m[32];
	printf("%s: ELF%d %s, %s", file, in->elfclass == ELFCLASS64 ? 64 : 32,
	       elf_machine_name(in->machine, m, sizeof m), link_text(in));
	if (in->interp[0])
		printf(", interpreter %s", in->interp);
	printf("\n");
	int is_static = in->link == EL_STATIC || in->link == EL_STATIC_PIE;
	if (in->link == EL_RELOC || in->link == EL_OTHER)
		;
	else if (!is_static)
		list_syms("imports", in->imports);
	else if (in->has_symtab)
		list_syms("contains (symbol table)", in->defines);
	else
		printf("  contains: unknown (no symbol table: stripped)\n");
	if ((is_static || (in->imports & (1u << ES_SYSCALL)) ||
	     in->link == EL_DYNAMIC) && in->link != EL_RELOC) {
		if (in->raw_checked)
			printf("  raw system call instructions: %ld (heuristic: "
			       "counts the bytes %s in executable sections; some "
			       "may be parts of other instructions)\n",
			       in->raw_syscalls, in->raw_pattern);
		else
			printf("  raw system call instructions: not checked for "
			       "this machine\n");
	}
	const char *rec;
	if (in->link == EL_RELOC || in->link == EL_OTHER)
		rec = "not a program: nothing to run";
	else if (!elf_native(in))
		rec = "not this machine's architecture: libsysfill.so cannot "
		      "load into it; needs trace mode (not implemented yet)";
	else if (in->link == EL_DYNAMIC)
		rec = "dynamically linked: preload mode works "
		      "(sysfill run, or LD_PRELOAD=libsysfill.so)";
	else if (in->link == EL_SHARED)
		rec = "shared object: covered by preload mode in the dynamically "
		      "linked programs that load it";
	else
		rec = "statically linked: LD_PRELOAD cannot reach it; needs trace "
		      "mode (sysfill run, which picks it, or sysfill run "
		      "--mode=trace)";
	printf("  => %s\n", rec);
}

int cmd_check(int argc, char **argv)
{
	int i = 1;
	if (i < argc && (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))) {
		printf("usage: sysfill check FILE...\n"
		       "For each ELF file: class and machine, static or dynamic, "
		       "interpreter,\nimported process-API functions, a count of "
		       "raw system call instructions,\nand which sysfill mode "
		       "can run it.\n");
		return 0;
	}
	if (i < argc && !strcmp(argv[i], "--"))
		i++;
	else if (i < argc && argv[i][0] == '-' && argv[i][1]) {
		fprintf(stderr, "sysfill check: unknown option '%s'\n"
			"usage: sysfill check FILE...\n", argv[i]);
		return EXIT_SF_USAGE;
	}
	if (i >= argc) {
		fprintf(stderr, "usage: sysfill check FILE...\n");
		return EXIT_SF_USAGE;
	}
	int rc = 0;
	for (; i < argc; i++) {
		struct elfinfo in;
		char why[256];
		fflush(stdout); /* keep stdout and stderr lines in order */
		if (elf_inspect(argv[i], &in, why, sizeof why) < 0) {
			fprintf(stderr, "sysfill check: %s: %s\n", argv[i], why);
			rc = 1;
			continue;
		}
		report(argv[i], &in);
	}
	return rc;
}
