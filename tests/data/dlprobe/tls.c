/* Initial-exec TLS of its own (-ftls-model=initial-exec: DF_STATIC_TLS), used by its constructor. */
__thread int tls_counter = 5;
__thread int tls_big[16] = {1};
__attribute__((constructor)) static void check(void) {
    tls_counter += 1;
    if (tls_counter != 6 || tls_big[0] != 1) __builtin_trap();
}

#ifdef AS_EXTENSION
/* exported as an extension module's init, so the check treats the object as one (loaded by dlopen) */
void *PyInit_tlsmod(void) { return 0; }
#endif
