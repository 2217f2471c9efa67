/* ELF inspection with libelf (gelf API): linkage, interpreter, imported
 * process-API symbols, raw system call instructions. Never trusts the file:
 * every table is checked against the file size before libelf reads it. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tracer.h"

#ifndef DF_1_PIE
#define DF_1_PIE 0x08000000
#endif

const char *const elf_api_symbols[ES_COUNT] = {
	[ES_PIDFD_OPEN] = "pidfd_open",
	[ES_PIDFD_SEND_SIGNAL] = "pidfd_send_signal",
	[ES_PIDFD_GETFD] = "pidfd_getfd",
	[ES_PIDFD_SPAWN] = "pidfd_spawn",
	[ES_PIDFD_SPAWNP] = "pidfd_spawnp",
	[ES_PIDFD_GETPID] = "pidfd_getpid",
	[ES_WAITID] = "waitid",
	[ES_CLONE3] = "clone3",
	[ES_SYSCALL] = "syscall",
	[ES_PTHREAD_CREATE] = "pthread_create",
	[ES_POSIX_SPAWN] = "posix_spawn",
	[ES_POSIX_SPAWNP] = "posix_spawnp",
	[ES_SYSTEM] = "system",
	[ES_POPEN] = "popen",
};

const char *elf_machine_name(int machine, char *buf, size_t len)
{
	switch (machine) {
	case EM_X86_64: return "x86-64";
	case EM_386: return "i386";
	case EM_AARCH64: return "AArch64";
	case EM_ARM: return "ARM";
	case EM_RISCV: return "RISC-V";
	case EM_PPC64: return "PowerPC64";
	case EM_PPC: return "PowerPC";
	case EM_S390: return "S/390";
	case EM_MIPS: return "MIPS";
	case EM_LOONGARCH: return "LoongArch";
	}
	snprintf(buf, len, "machine %d", machine);
	return buf;
}

int elf_native(const struct elfinfo *in)
{
#if defined(__x86_64__) && !defined(__ILP32__)
	return in->elfclass == ELFCLASS64 && in->machine == EM_X86_64;
#elif defined(__aarch64__)
	return in->elfclass == ELFCLASS64 && in->machine == EM_AARCH64;
#elif defined(__i386__)
	return in->elfclass == ELFCLASS32 && in->machine == EM_386;
#else
	(void)in;
	return 0;
#endif
}

static int symbol_index(const char *name)
{
	for (int i = 0; i < ES_COUNT; i++)
		if (!strcmp(name, elf_api_symbols[i]))
			return i;
	return -1;
}

/* Count system call instructions in one executable section. A byte
 * heuristic: the pattern may also occur inside longer instructions or in
 * data placed in code sections. */
static long count_raw(const struct elfinfo *in, const unsigned char *p,
		      size_t n, uint64_t addr)
{
	long c = 0;
	if (in->machine == EM_X86_64 || in->machine == EM_386) {
		unsigned char b1 = in->machine == EM_X86_64 ? 0x0f : 0xcd;
		unsigned char b2 = in->machine == EM_X86_64 ? 0x05 : 0x80;
		for (size_t i = 0; i + 1 < n; i++)
			if (p[i] == b1 && p[i + 1] == b2)
				c++;
	} else if (in->machine == EM_AARCH64) {
		/* svc #0 = 0xd4000001, little-endian, 4-byte aligned. */
		for (size_t i = (4 - (addr & 3)) & 3; i + 3 < n; i += 4)
			if (p[i] == 0x01 && p[i + 1] == 0x00 && p[i + 2] == 0x00 &&
			    p[i + 3] == 0xd4)
				c++;
	}
	return c;
}

static int fail(char *why, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int fail(char *why, size_t len, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, len, fmt, ap);
	va_end(ap);
	return -1;
}

/* Check that [off, off+size) lies in the file. */
static int in_file(uint64_t off, uint64_t size, uint64_t fsize)
{
	return off <= fsize && size <= fsize - off;
}

static int inspect(int fd, Elf *e, uint64_t fsize, struct elfinfo *in,
		   char *why, size_t wl)
{
	GElf_Ehdr eh;
	if (!gelf_getehdr(e, &eh))
		return fail(why, wl, "truncated or corrupt ELF header (%s)",
			    elf_errmsg(-1));
	in->elfclass = gelf_getclass(e);
	in->machine = eh.e_machine;
	in->etype = eh.e_type;
	uint64_t ehsize = in->elfclass == ELFCLASS64 ? sizeof(Elf64_Ehdr)
						     : sizeof(Elf32_Ehdr);
	if (fsize < ehsize)
		return fail(why, wl, "truncated: %llu bytes, shorter than an ELF header",
			    (unsigned long long)fsize);

	size_t phnum = 0, shnum = 0;
	/* The header's own count first: libelf reports tables cut off by the
	 * end of the file as a count of 0 or as invalid data. */
	if (eh.e_phnum != PN_XNUM &&
	    !in_file(eh.e_phoff, (uint64_t)eh.e_phnum * eh.e_phentsize, fsize))
		return fail(why, wl, "truncated: program headers end at byte %llu, "
			    "file has %llu bytes",
			    (unsigned long long)(eh.e_phoff + (uint64_t)eh.e_phnum * eh.e_phentsize),
			    (unsigned long long)fsize);
	if (elf_getphdrnum(e, &phnum) < 0)
		return fail(why, wl, "corrupt program header count (%s)",
			    elf_errmsg(-1));
	if (phnum && !in_file(eh.e_phoff, (uint64_t)phnum * eh.e_phentsize, fsize))
		return fail(why, wl, "truncated: program headers end at byte %llu, "
			    "file has %llu bytes",
			    (unsigned long long)(eh.e_phoff + (uint64_t)phnum * eh.e_phentsize),
			    (unsigned long long)fsize);
	if (eh.e_shoff && !in_file(eh.e_shoff, eh.e_shentsize, fsize))
		return fail(why, wl, "truncated: section headers start at byte %llu, "
			    "file has %llu bytes",
			    (unsigned long long)eh.e_shoff, (unsigned long long)fsize);
	if (elf_getshdrnum(e, &shnum) < 0)
		return fail(why, wl, "corrupt section header count (%s)",
			    elf_errmsg(-1));
	if (shnum && !in_file(eh.e_shoff, (uint64_t)shnum * eh.e_shentsize, fsize))
		return fail(why, wl, "truncated: section headers end at byte %llu, "
			    "file has %llu bytes",
			    (unsigned long long)(eh.e_shoff + (uint64_t)shnum * eh.e_shentsize),
			    (unsigned long long)fsize);

	int has_interp = 0, has_dynamic = 0;
	for (size_t i = 0; i < phnum; i++) {
		GElf_Phdr ph;
		if (!gelf_getphdr(e, (int)i, &ph))
			return fail(why, wl, "corrupt program header %zu (%s)", i,
				    elf_errmsg(-1));
		if ((ph.p_type == PT_LOAD || ph.p_type == PT_INTERP ||
		     ph.p_type == PT_DYNAMIC) &&
		    !in_file(ph.p_offset, ph.p_filesz, fsize))
			return fail(why, wl, "truncated: segment %zu ends at byte %llu, "
				    "file has %llu bytes", i,
				    (unsigned long long)(ph.p_offset + ph.p_filesz),
				    (unsigned long long)fsize);
		if (ph.p_type == PT_DYNAMIC)
			has_dynamic = 1;
		if (ph.p_type == PT_INTERP) {
			has_interp = 1;
			size_t n = ph.p_filesz < sizeof in->interp - 1
					   ? ph.p_filesz : sizeof in->interp - 1;
			ssize_t got = pread(fd, in->interp, n, (off_t)ph.p_offset);
			if (got < 0 || (size_t)got != n)
				return fail(why, wl, "cannot read PT_INTERP: %s",
					    got < 0 ? strerror(errno) : "short read");
			in->interp[n] = 0;
		}
	}

	int pie_flag = 0;
	Elf_Scn *scn = NULL;
	while ((scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		if (!gelf_getshdr(scn, &sh))
			return fail(why, wl, "corrupt section header (%s)",
				    elf_errmsg(-1));
		if (sh.sh_type != SHT_NOBITS && !in_file(sh.sh_offset, sh.sh_size, fsize))
			return fail(why, wl, "truncated: section %zu ends at byte %llu, "
				    "file has %llu bytes", elf_ndxscn(scn),
				    (unsigned long long)(sh.sh_offset + sh.sh_size),
				    (unsigned long long)fsize);
		if (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB) {
			Elf_Data *d = elf_getdata(scn, NULL);
			if (!d)
				return fail(why, wl, "corrupt symbol table (%s)",
					    elf_errmsg(-1));
			int dyn = sh.sh_type == SHT_DYNSYM;
			if (!dyn)
				in->has_symtab = 1;
			size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
			for (size_t i = 0; i < n; i++) {
				GElf_Sym s;
				if (!gelf_getsym(d, (int)i, &s))
					break;
				const char *nm = elf_strptr(e, sh.sh_link, s.st_name);
				if (!nm || !*nm)
					continue;
				int k = symbol_index(nm);
				if (k < 0)
					continue;
				if (dyn && s.st_shndx == SHN_UNDEF)
					in->imports |= 1u << k;
				else if (!dyn && s.st_shndx != SHN_UNDEF &&
					 GELF_ST_TYPE(s.st_info) == STT_FUNC)
					in->defines |= 1u << k;
			}
		} else if (sh.sh_type == SHT_DYNAMIC) {
			Elf_Data *d = elf_getdata(scn, NULL);
			size_t n = d && sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
			for (size_t i = 0; i < n; i++) {
				GElf_Dyn dy;
				if (!gelf_getdyn(d, (int)i, &dy))
					break;
				if (dy.d_tag == DT_FLAGS_1 && (dy.d_un.d_val & DF_1_PIE))
					pie_flag = 1;
			}
		} else if (sh.sh_type == SHT_PROGBITS &&
			   (sh.sh_flags & SHF_EXECINSTR) && in->raw_checked) {
			Elf_Data *d = elf_rawdata(scn, NULL);
			if (d && d->d_buf)
				in->raw_syscalls += count_raw(in, d->d_buf,
							      d->d_size, sh.sh_addr);
		}
	}

	if (eh.e_type == ET_REL)
		in->link = EL_RELOC;
	else if (has_interp)
		in->link = EL_DYNAMIC;
	else if (eh.e_type == ET_EXEC)
		in->link = EL_STATIC;
	else if (eh.e_type == ET_DYN)
		in->link = pie_flag || !has_dynamic ? EL_STATIC_PIE : EL_SHARED;
	else
		in->link = EL_OTHER;
	in->pie = eh.e_type == ET_DYN && (has_interp || pie_flag);
	return 0;
}

int elf_inspect(const char *path, struct elfinfo *in, char *why, size_t wl)
{
	memset(in, 0, sizeof *in);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return fail(why, wl, "%s", strerror(errno));
	struct stat st;
	if (fstat(fd, &st) < 0) {
		int e = errno;
		close(fd);
		return fail(why, wl, "%s", strerror(e));
	}
	if (S_ISDIR(st.st_mode)) {
		close(fd);
		return fail(why, wl, "%s", strerror(EISDIR));
	}
	if (!S_ISREG(st.st_mode)) {
		close(fd);
		return fail(why, wl, "not a regular file");
	}
	unsigned char magic[SELFMAG + 1] = {0};
	ssize_t got = pread(fd, magic, SELFMAG, 0);
	if (got < 0) {
		int e = errno;
		close(fd);
		return fail(why, wl, "%s", strerror(e));
	}
	if (got < SELFMAG || memcmp(magic, ELFMAG, SELFMAG)) {
		close(fd);
		if (got >= 2 && magic[0] == '#' && magic[1] == '!')
			return fail(why, wl, "not an ELF file (a #! script)");
		return fail(why, wl, got == 0 ? "not an ELF file (empty)"
					      : "not an ELF file");
	}
	uint64_t need = sizeof(Elf32_Ehdr);
	unsigned char cls = 0;
	if (pread(fd, &cls, 1, EI_CLASS) == 1 && cls == ELFCLASS64)
		need = sizeof(Elf64_Ehdr);
	if ((uint64_t)st.st_size < need) {
		close(fd);
		return fail(why, wl, "truncated: %lld bytes, shorter than an "
			    "ELF header (%llu)", (long long)st.st_size,
			    (unsigned long long)need);
	}
	if (elf_version(EV_CURRENT) == EV_NONE) {
		close(fd);
		return fail(why, wl, "libelf: %s", elf_errmsg(-1));
	}
	/* ELF_C_READ, not _MMAP: a truncated file must give errors, not
	 * SIGBUS. */
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e) {
		close(fd);
		return fail(why, wl, "corrupt ELF file (%s)", elf_errmsg(-1));
	}
	int r;
	if (elf_kind(e) != ELF_K_ELF) {
		r = fail(why, wl, "not an ELF file");
	} else {
		/* Raw counting is defined for the arches count_raw knows. */
		GElf_Ehdr eh;
		if (gelf_getehdr(e, &eh))
			in->raw_checked = eh.e_machine == EM_X86_64 ||
					  eh.e_machine == EM_386 ||
					  eh.e_machine == EM_AARCH64;
		in->raw_pattern = !in->raw_checked ? NULL
				  : eh.e_machine == EM_X86_64 ? "0f 05 (syscall)"
				  : eh.e_machine == EM_386 ? "cd 80 (int $0x80)"
							   : "d4000001 (svc #0)";
		r = inspect(fd, e, (uint64_t)st.st_size, in, why, wl);
	}
	elf_end(e);
	close(fd);
	return r;
}
