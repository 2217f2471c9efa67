/* elf-needs FILE: what the dynamic loader needs to run FILE, read with
 * libelf. One line each:
 *   interp PATH          PT_INTERP
 *   needed LIB           DT_NEEDED
 *   version LIB VERSION  a version needed from LIB (.gnu.version_r)
 * Exits 0, or 1 with a message on stderr if FILE is not a readable ELF. */
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: elf-needs FILE\n");
		return 2;
	}
	if (elf_version(EV_CURRENT) == EV_NONE)
		return 1;
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(argv[1]);
		return 1;
	}
	Elf *e = elf_begin(fd, ELF_C_READ, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		fprintf(stderr, "%s: not an ELF file\n", argv[1]);
		return 1;
	}
	size_t n, rawlen;
	char *raw = elf_rawfile(e, &rawlen);
	if (elf_getphdrnum(e, &n) == 0) {
		for (size_t i = 0; i < n; i++) {
			GElf_Phdr ph;
			if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP &&
			    raw && ph.p_offset + ph.p_filesz <= rawlen)
				printf("interp %.*s\n", (int)strnlen(raw + ph.p_offset,
					ph.p_filesz), raw + ph.p_offset);
		}
	}
	for (Elf_Scn *s = NULL; (s = elf_nextscn(e, s));) {
		GElf_Shdr sh;
		if (!gelf_getshdr(s, &sh))
			continue;
		Elf_Data *d = elf_getdata(s, NULL);
		if (!d)
			continue;
		if (sh.sh_type == SHT_DYNAMIC) {
			GElf_Dyn dyn;
			for (int i = 0; gelf_getdyn(d, i, &dyn); i++)
				if (dyn.d_tag == DT_NEEDED)
					printf("needed %s\n", elf_strptr(e, sh.sh_link,
						dyn.d_un.d_val));
		} else if (sh.sh_type == SHT_GNU_verneed) {
			size_t off = 0;
			for (size_t i = 0; i < sh.sh_info; i++) {
				GElf_Verneed vn;
				if (!gelf_getverneed(d, (int)off, &vn))
					break;
				const char *lib = elf_strptr(e, sh.sh_link, vn.vn_file);
				size_t aoff = off + vn.vn_aux;
				for (unsigned j = 0; j < vn.vn_cnt; j++) {
					GElf_Vernaux va;
					if (!gelf_getvernaux(d, (int)aoff, &va))
						break;
					printf("version %s %s\n", lib ? lib : "?",
					       elf_strptr(e, sh.sh_link, va.vna_name));
					aoff += va.vna_next;
				}
				if (!vn.vn_next)
					break;
				off += vn.vn_next;
			}
		}
	}
	elf_end(e);
	close(fd);
	return 0;
}
