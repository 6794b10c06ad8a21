/* Process entry for the freestanding i386 probe (the root has no crt1.o): hand argc/argv to musl. */
	.text
	.globl _start
_start:
	xor %ebp, %ebp
	mov %esp, %eax
	and $-16, %esp
	sub $12, %esp
	push %eax
	call probe_start_c
	hlt
