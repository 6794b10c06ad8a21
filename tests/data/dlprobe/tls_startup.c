/* Initial-exec TLS that names another object's variable. Built three ways (tests/parts_dlprobe.py):
 * -DDEFINE: libtlsdef.so, which defines it;
 * -DUSE: a module (PyInit_tlsuse, so the check treats it as loaded by dlopen) that needs libtlsdef.so and
 *        reads the variable through the initial-exec model in its constructor;
 * -DHOST: a program started with libtlsdef.so (so its TLS is in the static block) that dlopens each
 *         argument and prints "ok" or the loader's error. */
#ifdef DEFINE
__thread int startup_tls = 41;
#endif

#ifdef USE
extern __thread int startup_tls __attribute__((tls_model("initial-exec")));
__attribute__((constructor)) static void use(void) {
    startup_tls += 1;
    if (startup_tls != 42) __builtin_trap();
}
void *PyInit_tlsuse(void) { return 0; }
#endif

#ifdef HOST
#include <dlfcn.h>
#include <stdio.h>
extern __thread int startup_tls;
int main(int argc, char **argv) {
    if (startup_tls != 41) return 3;
    for (int i = 1; i < argc; i++) {
        void *h = dlopen(argv[i], RTLD_NOW);
        printf("%s %s\n", argv[i], h ? "ok" : dlerror());
        fflush(stdout);
    }
    return 0;
}
#endif
