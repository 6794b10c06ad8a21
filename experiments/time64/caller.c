/* A program as Alpine 3.12 builds it on 32-bit x86: time_t is 32 bits (musl 1.1.24's headers).
 *
 * No system headers are used, so the compiler of any host produces the same code Alpine 3.12's did:
 * the declarations below are the ones musl 1.1.24 and OpenSSL 1.1's headers give on i386, with
 * time_t spelled out as int32_t. Built with `gcc -m32 -ffreestanding` and linked by `ld -m elf_i386`
 * against the real libc.musl-x86.so.1 and libcrypto.so.1.1 of the Alpine 3.12 x86 minirootfs.
 *
 * It asks two libraries the same question, "which year is t?":
 *   musl's gmtime_r (the libc: musl 1.2 keeps the 32-bit symbol beside __gmtime64_r), and
 *   OpenSSL's OPENSSL_gmtime (another library with time_t in its API: rebuilt with 64-bit time_t
 *   on 3.13, same soname libcrypto.so.1.1).
 * The time_t is followed in memory by another int, NEXT (as locals and struct members are); a library
 * that reads 8 bytes where the caller stored 4 reads NEXT as the high half. NEXT is the harness's choice
 * (`-DNEXT=...`, 1 by default): the year OpenSSL answers on 3.13 is set by it, not by Alpine.
 *
 * Not asked: a time_t passed by value (ASN1_TIME_set(s, t)). On i386 a callee built for 64-bit time_t
 * then reads the next stack slot as the high half, a slot the caller never writes, so the answer depends
 * on what the compiler left there: not a reproducible result (two builds of such a caller gave a NULL
 * and the year 4201 on 3.13, and 2023 on 3.12).
 */
#ifndef NEXT
#define NEXT 1
#endif
typedef int int32_t;
typedef int32_t time32_t; /* time_t on Alpine <= 3.12, i386 */

struct tm {
    int tm_sec, tm_min, tm_hour, tm_mday, tm_mon, tm_year, tm_wday, tm_yday, tm_isdst;
    long tm_gmtoff;
    const char *tm_zone;
};

struct tm *gmtime_r(const time32_t *, struct tm *);                /* musl */
struct tm *OPENSSL_gmtime(const time32_t *timer, struct tm *result); /* libcrypto.so.1.1 */
int printf(const char *, ...);

struct stamp {
    time32_t t;
    int32_t next; /* whatever follows the time_t in the caller's memory */
};

int main(void) {
    struct stamp s = {1700000000, NEXT}; /* 2023-11-14 22:13:20 UTC */
    struct tm a, b;
    struct tm *ra = gmtime_r(&s.t, &a);
    struct tm *rb = OPENSSL_gmtime(&s.t, &b);
    printf("musl gmtime_r: %d\n", ra ? ra->tm_year + 1900 : -1);
    printf("libcrypto OPENSSL_gmtime: %d\n", rb ? rb->tm_year + 1900 : -1);
    return 0;
}

/* The program entry, as musl's crt1.o has it for i386 (no crt files are needed from any root). */
extern int __libc_start_main(int (*)(void), int, char **, void *, void *, void *);
void _start_c(long *p) { __libc_start_main(main, (int)p[0], (char **)(p + 1), 0, 0, 0); }
__asm__(".text\n.global _start\n_start:\n xor %ebp,%ebp\n mov %esp,%eax\n and $-16,%esp\n"
        " push %eax\n push %eax\n push %eax\n push %eax\n call _start_c\n hlt\n");
