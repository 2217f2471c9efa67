/* An i386 program (no libc: it cannot load the x86_64 library): prints a
 * line, then exits with the result of pidfd_open(getpid(), 0) (an fd
 * number, or -errno & 255). Built with `as --32` and `ld -m elf_i386`. */
	.globl _start
	.text
_start:
	mov $4, %eax          # write
	mov $1, %ebx
	mov $msg, %ecx
	mov $len, %edx
	int $0x80
	mov $434, %eax        # pidfd_open(getpid(), 0)
	push %eax
	mov $20, %eax         # getpid
	int $0x80
	mov %eax, %ebx
	pop %eax
	xor %ecx, %ecx
	int $0x80
	mov %eax, %ebx        # exit status: the result (fd, or -errno & 255)
	mov $1, %eax
	int $0x80
	.data
msg:	.ascii "i386 program runs\n"
	len = . - msg
