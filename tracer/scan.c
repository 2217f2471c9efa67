/* Which process-API system calls an x86-64 ELF file can make, found by
 * disassembling its code with Capstone: inline `syscall` instructions with
 * the number loaded into eax before them, and calls of libc's syscall()
 * (through the PLT, the GOT, or its own definition in a static binary)
 * with the number loaded into edi. A number computed at run time, or a call
 * made through a function pointer, is not seen. */
#include <capstone/capstone.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tracer.h"

#define NR_CLONE 56
#define NR_WAITID 247
#define NR_PIDFD_SEND_SIGNAL 424
#define NR_PIDFD_OPEN 434
#define NR_CLONE3 435
#define NR_PIDFD_GETFD 438
#define NR_PROCESS_MADVISE 440
#define NR_PROCESS_MRELEASE 448
#define P_PIDFD_ID 3
#define CLONE_PIDFD_BIT 0x1000

const char *const scan_call_names[SC_COUNT] = {
	[SC_PIDFD_OPEN] = "pidfd_open",
	[SC_PIDFD_SEND_SIGNAL] = "pidfd_send_signal",
	[SC_PIDFD_GETFD] = "pidfd_getfd",
	[SC_CLONE3] = "clone3",
	[SC_WAITID_PIDFD] = "waitid(P_PIDFD)",
	[SC_CLONE_PIDFD] = "clone(CLONE_PIDFD)",
	[SC_PROCESS_MADVISE] = "process_madvise",
	[SC_PROCESS_MRELEASE] = "process_mrelease",
};

/* The call a (number, first argument) pair makes, or -1. ARG is the
 * idtype of waitid or the flags of clone; known says whether it is. */
static int classify(long nr, long arg, int known)
{
	switch (nr) {
	case NR_PIDFD_OPEN: return SC_PIDFD_OPEN;
	case NR_PIDFD_SEND_SIGNAL: return SC_PIDFD_SEND_SIGNAL;
	case NR_PIDFD_GETFD: return SC_PIDFD_GETFD;
	case NR_CLONE3: return SC_CLONE3;
	case NR_PROCESS_MADVISE: return SC_PROCESS_MADVISE;
	case NR_PROCESS_MRELEASE: return SC_PROCESS_MRELEASE;
	case NR_WAITID: return known && arg == P_PIDFD_ID ? SC_WAITID_PIDFD : -1;
	case NR_CLONE:
		return known && (arg & CLONE_PIDFD_BIT) ? SC_CLONE_PIDFD : -1;
	}
	return -1;
}

/* Registers whose last constant we follow: eax (number of an inline
 * syscall), edi (number passed to syscall(), first argument of an inline
 * one), esi (first argument after the number for syscall()). */
enum { R_AX, R_DI, R_SI, R_N };
struct regval {
	int known[R_N];
	long v[R_N];
};

static int reg_family(unsigned reg)
{
	switch (reg) {
	case X86_REG_RAX: case X86_REG_EAX: case X86_REG_AX: case X86_REG_AL:
	case X86_REG_AH: return R_AX;
	case X86_REG_RDI: case X86_REG_EDI: case X86_REG_DI: case X86_REG_DIL:
		return R_DI;
	case X86_REG_RSI: case X86_REG_ESI: case X86_REG_SI: case X86_REG_SIL:
		return R_SI;
	}
	return -1;
}

static int full_width(unsigned reg)
{
	return reg == X86_REG_RAX || reg == X86_REG_EAX || reg == X86_REG_RDI ||
	       reg == X86_REG_EDI || reg == X86_REG_RSI || reg == X86_REG_ESI;
}

/* Addresses at which libc's syscall() is entered: PLT stubs, its GOT
 * slots, its definition. */
#define MAX_TARGETS 16
enum { T_SYSCALL, T_WAITID, T_N };
static const char *const target_names[T_N] = {"syscall", "waitid"};
struct target {
	uint64_t got[MAX_TARGETS];
	int ngot;
	uint64_t fn[MAX_TARGETS];
	int nfn;
};
struct targets {
	struct target t[T_N];
};

static int target_of(const char *name)
{
	for (int i = 0; name && i < T_N; i++)
		if (!strcmp(name, target_names[i]))
			return i;
	return -1;
}

static int in_set(const uint64_t *s, int n, uint64_t a)
{
	for (int i = 0; i < n; i++)
		if (s[i] == a)
			return 1;
	return 0;
}

static void add(uint64_t *s, int *n, uint64_t a)
{
	if (*n < MAX_TARGETS && !in_set(s, *n, a))
		s[(*n)++] = a;
}

/* The absolute address a rip-relative memory operand refers to, or 0. */
static uint64_t rip_target(const cs_insn *in)
{
	const cs_x86 *x = &in->detail->x86;
	for (int i = 0; i < x->op_count; i++)
		if (x->operands[i].type == X86_OP_MEM &&
		    x->operands[i].mem.base == X86_REG_RIP &&
		    x->operands[i].mem.index == X86_REG_INVALID)
			return in->address + in->size + x->operands[i].mem.disp;
	return 0;
}

static void record(struct scaninfo *si, int how, long nr, long arg, int known)
{
	int c = classify(nr, arg, known);
	if (c < 0)
		return;
	if (how)
		si->via_syscall |= 1u << c;
	else
		si->raw |= 1u << c;
}

/* Disassemble one code section. PLT: only collect the stubs that jump
 * through a GOT slot of syscall(). */
static void sweep(csh h, cs_insn *in, const uint8_t *code, size_t size,
		  uint64_t addr, int plt, struct targets *t,
		  struct scaninfo *si)
{
	struct regval rv = {{0}, {0}};
	const uint8_t *p = code;
	uint64_t a = addr;
	uint64_t prev_addr = 0;
	int prev_endbr = 0;
	while (size > 0) {
		if (!cs_disasm_iter(h, &p, &size, &a, in)) {
			/* Not an instruction (data, padding): skip a byte. */
			p++, size--, a++;
			memset(&rv, 0, sizeof rv);
			prev_endbr = 0;
			continue;
		}
		if (plt) {
			uint64_t g = in->id == X86_INS_JMP ? rip_target(in) : 0;
			for (int k = 0; g && k < T_N; k++) {
				struct target *tk = &t->t[k];
				if (!in_set(tk->got, tk->ngot, g))
					continue;
				add(tk->fn, &tk->nfn, in->address);
				if (prev_endbr)
					add(tk->fn, &tk->nfn, prev_addr);
			}
			prev_endbr = in->id == X86_INS_ENDBR64;
			prev_addr = in->address;
			continue;
		}
		const cs_x86 *x = &in->detail->x86;
		if (in->id == X86_INS_SYSCALL) {
			si->syscall_insns++;
			if (!rv.known[R_AX])
				si->unknown_insns++;
			else
				record(si, 0, rv.v[R_AX], rv.v[R_DI], rv.known[R_DI]);
			rv.known[R_AX] = 0; /* the result */
			continue;
		}
		int call = cs_insn_group(h, in, CS_GRP_CALL);
		if (call || cs_insn_group(h, in, CS_GRP_JUMP) ||
		    cs_insn_group(h, in, CS_GRP_RET) ||
		    cs_insn_group(h, in, CS_GRP_INT)) {
			/* A call of syscall() or waitid(), or a tail call (a
			 * jump keeps the arguments). */
			uint64_t dest = 0, g = 0;
			if (call || in->id == X86_INS_JMP) {
				if (x->op_count == 1 && x->operands[0].type == X86_OP_IMM)
					dest = (uint64_t)x->operands[0].imm;
				g = rip_target(in);
			}
			int k = T_N;
			for (int j = 0; (dest || g) && j < T_N && k == T_N; j++)
				if ((dest && in_set(t->t[j].fn, t->t[j].nfn, dest)) ||
				    (g && in_set(t->t[j].got, t->t[j].ngot, g)))
					k = j;
			if (k == T_SYSCALL) {
				si->syscall_calls++;
				if (!rv.known[R_DI])
					si->unknown_calls++;
				else
					record(si, 1, rv.v[R_DI], rv.v[R_SI],
					       rv.known[R_SI]);
			} else if (k == T_WAITID && rv.known[R_DI] &&
				   rv.v[R_DI] == P_PIDFD_ID) {
				si->via_waitid |= 1u << SC_WAITID_PIDFD;
			}
			/* After a call: caller-saved registers; after a jump:
			 * another path may join at the target. */
			memset(&rv, 0, sizeof rv);
			continue;
		}
		/* Constants: mov reg, imm and xor reg, reg. */
		if (in->id == X86_INS_MOV && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_IMM) {
			int f = reg_family(x->operands[0].reg);
			if (f >= 0) {
				rv.known[f] = full_width(x->operands[0].reg);
				rv.v[f] = (long)x->operands[1].imm;
				continue;
			}
		}
		if (in->id == X86_INS_XOR && x->op_count == 2 &&
		    x->operands[0].type == X86_OP_REG &&
		    x->operands[1].type == X86_OP_REG &&
		    x->operands[0].reg == x->operands[1].reg) {
			int f = reg_family(x->operands[0].reg);
			if (f >= 0) {
				rv.known[f] = full_width(x->operands[0].reg);
				rv.v[f] = 0;
				continue;
			}
		}
		/* Anything else that writes a followed register forgets it:
		 * written operands and implicit writes (mul, cpuid, ...). */
		for (int i = 0; i < x->op_count; i++) {
			if (x->operands[i].type != X86_OP_REG ||
			    !(x->operands[i].access & CS_AC_WRITE))
				continue;
			int f = reg_family(x->operands[i].reg);
			if (f >= 0)
				rv.known[f] = 0;
		}
		for (int i = 0; i < in->detail->regs_write_count; i++) {
			int f = reg_family(in->detail->regs_write[i]);
			if (f >= 0)
				rv.known[f] = 0;
		}
	}
}

static int is_plt(const char *name)
{
	return name && (!strcmp(name, ".plt") || !strcmp(name, ".plt.sec") ||
			!strcmp(name, ".plt.got"));
}

/* Collect the GOT slots of syscall() and waitid() (dynamic relocations
 * naming them) and their definitions (static binaries, libc itself). */
static void find_targets(Elf *e, size_t shstrndx, struct targets *t)
{
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM) {
			Elf_Data *d = elf_getdata(scn, NULL);
			size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
			for (size_t i = 0; i < n; i++) {
				GElf_Sym s;
				if (!gelf_getsym(d, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
				    GELF_ST_TYPE(s.st_info) != STT_FUNC)
					continue;
				int k = target_of(elf_strptr(e, sh.sh_link, s.st_name));
				if (k >= 0)
					add(t->t[k].fn, &t->t[k].nfn, s.st_value);
			}
		} else if (sh.sh_type == SHT_RELA) {
			Elf_Data *d = elf_getdata(scn, NULL);
			Elf_Scn *symscn = elf_getscn(e, sh.sh_link);
			GElf_Shdr ssh;
			if (!d || !symscn || !gelf_getshdr(symscn, &ssh) ||
			    ssh.sh_type != SHT_DYNSYM)
				continue;
			Elf_Data *sd = elf_getdata(symscn, NULL);
			size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
			for (size_t i = 0; i < n; i++) {
				GElf_Rela r;
				GElf_Sym s;
				if (!gelf_getrela(d, (int)i, &r) || !sd ||
				    !gelf_getsym(sd, (int)GELF_R_SYM(r.r_info), &s))
					continue;
				int k = target_of(elf_strptr(e, ssh.sh_link, s.st_name));
				unsigned type = GELF_R_TYPE(r.r_info);
				if (k >= 0 && (type == R_X86_64_JUMP_SLOT ||
					       type == R_X86_64_GLOB_DAT))
					add(t->t[k].got, &t->t[k].ngot, r.r_offset);
			}
		}
	}
	(void)shstrndx;
}

int elf_scan(const char *path, struct scaninfo *si, char *why, size_t wl)
{
	memset(si, 0, sizeof *si);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(why, wl, "%s", strerror(errno));
		return -1;
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		snprintf(why, wl, "libelf: %s", elf_errmsg(-1));
		return -1;
	}
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	GElf_Ehdr eh;
	size_t shstrndx = 0;
	if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh) ||
	    elf_getshdrstrndx(e, &shstrndx) < 0) {
		snprintf(why, wl, "not an ELF file libelf can read");
		if (e)
			elf_end(e);
		close(fd);
		return -1;
	}
	if (gelf_getclass(e) != ELFCLASS64 || eh.e_machine != EM_X86_64) {
		elf_end(e);
		close(fd);
		return 0; /* si->scanned stays 0: not an arch we disassemble */
	}
	csh h;
	if (cs_open(CS_ARCH_X86, CS_MODE_64, &h) != CS_ERR_OK) {
		snprintf(why, wl, "capstone: cannot open an x86-64 disassembler");
		elf_end(e);
		close(fd);
		return -1;
	}
	cs_option(h, CS_OPT_DETAIL, CS_OPT_ON);
	cs_insn *in = cs_malloc(h);
	struct targets t;
	memset(&t, 0, sizeof t);
	find_targets(e, shstrndx, &t);
	/* PLT sections first (they give syscall()'s stubs), then the code. */
	for (int pass = 0; pass < 2; pass++) {
		Elf_Scn *scn = NULL;
		while ((scn = elf_nextscn(e, scn))) {
			GElf_Shdr sh;
			if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_PROGBITS ||
			    !(sh.sh_flags & SHF_EXECINSTR))
				continue;
			const char *nm = elf_strptr(e, shstrndx, sh.sh_name);
			if (is_plt(nm) != (pass == 0))
				continue;
			Elf_Data *d = elf_rawdata(scn, NULL);
			if (!d || !d->d_buf)
				continue;
			sweep(h, in, d->d_buf, d->d_size, sh.sh_addr, pass == 0, &t, si);
		}
	}
	si->scanned = 1;
	cs_free(in, 1);
	cs_close(&h);
	elf_end(e);
	close(fd);
	return 0;
}

/* DT_NEEDED names, DT_SONAME and DT_RUNPATH/DT_RPATH of PATH. Returns the
 * number of needed names (at most max) or -1. */
int elf_needed(const char *path, char names[][128], int max, char *soname,
	       size_t sonlen, char *runpath, size_t rplen)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		return -1;
	}
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	int n = 0;
	if (soname)
		soname[0] = 0;
	if (runpath)
		runpath[0] = 0;
	Elf_Scn *scn = NULL;
	while (e && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t cnt = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < cnt; i++) {
			GElf_Dyn dy;
			if (!gelf_getdyn(d, (int)i, &dy))
				break;
			const char *s = dy.d_tag == DT_NEEDED || dy.d_tag == DT_SONAME ||
					dy.d_tag == DT_RUNPATH || dy.d_tag == DT_RPATH
				? elf_strptr(e, sh.sh_link, dy.d_un.d_val) : NULL;
			if (!s)
				continue;
			if (dy.d_tag == DT_NEEDED && n < max)
				snprintf(names[n++], 128, "%s", s);
			else if (dy.d_tag == DT_SONAME && soname)
				snprintf(soname, sonlen, "%s", s);
			else if (runpath && (dy.d_tag == DT_RUNPATH || !runpath[0]))
				snprintf(runpath, rplen, "%s", s);
		}
	}
	if (e)
		elf_end(e);
	close(fd);
	return e ? n : -1;
}
