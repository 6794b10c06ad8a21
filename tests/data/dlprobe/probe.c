/* The ground-truth probe of the real-load tests: loads each file the way a user's process would, in a
 * forked child, and says how that went. No libc headers, so the same source builds with musl-gcc
 * (x86_64) and freestanding for the roots of other arches, linked to the root's own libc.
 *
 * Arguments, one per file:  d:PATH  dlopen(PATH, RTLD_NOW) (constructors run)
 *                           p:STUB:PATH  dlopen STUB with RTLD_GLOBAL first (the Python C API names)
 *                           x:PATH  execute PATH with no arguments (what starting the program does)
 * Output, per file:  "@@probe@@ PATH" then one of "ok", "dlerror MESSAGE", "signal N", "exit N",
 *                    "timeout" (still running after 20 s: it started), "pyapi" (a stub was called).   */
typedef int pid_t;
extern void *dlopen(const char *, int);
extern char *dlerror(void);
extern pid_t fork(void);
extern pid_t waitpid(pid_t, int *, int);
extern int execv(const char *, char *const[]);
extern unsigned alarm(unsigned);
extern void _exit(int);
extern int dprintf(int, const char *, ...);
extern int open(const char *, int, ...);
extern int dup2(int, int);
extern char *strchr(const char *, int);

#define RTLD_NOW 2
#define RTLD_GLOBAL 256
#define MARK "@@probe@@"

static void child(char *arg) {
    char *path = arg + 2;
    alarm(20);
    int null = open("/dev/null", 0);
    if (null >= 0) dup2(null, 0);
    if (arg[0] == 'x') {
        char *argv[] = {path, 0};
        int devnull_w = open("/dev/null", 1);
        dup2(1, 2); /* the loader's complaints (stderr) come to us, the program's own output does not */
        if (devnull_w >= 0) dup2(devnull_w, 1);
        execv(path, argv);
        dprintf(2, "exec failed\n");
        _exit(126);
    }
    if (arg[0] == 'p') {
        char *colon = strchr(path, ':');
        if (!colon) _exit(125);
        *colon = 0;
        if (!dlopen(path, RTLD_NOW | RTLD_GLOBAL)) {
            dprintf(1, "dlerror stub: %s\n", dlerror());
            _exit(0);
        }
        path = colon + 1;
    }
    if (!dlopen(path, RTLD_NOW)) {
        dprintf(1, "dlerror %s\n", dlerror());
        _exit(0);
    }
    dprintf(1, "ok\n");
    _exit(0);
}

int main(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        char *arg = argv[i];
        char *shown = arg[0] == 'p' ? strchr(arg + 2, ':') + 1 : arg + 2;
        dprintf(1, MARK " %s\n", shown);
        pid_t pid = fork();
        if (pid == 0) child(arg);
        int st = 0;
        if (pid < 0 || waitpid(pid, &st, 0) < 0) {
            dprintf(1, "probe-error\n");
            continue;
        }
        int sig = st & 0x7f, code = (st >> 8) & 0xff;
        if (sig == 14) dprintf(1, "timeout\n");
        else if (sig) dprintf(1, "signal %d\n", sig);
        else if (arg[0] == 'x') dprintf(1, "exit %d\n", code);
        else if (code == 77) dprintf(1, "pyapi\n");
        else if (code) dprintf(1, "exit %d\n", code);
    }
    return 0;
}

#ifdef PROBE_OWN_START
extern int __libc_start_main(int (*)(int, char **, char **), int, char **, void (*)(void), void (*)(void),
                             void (*)(void));
void probe_start_c(long *sp) {
    __libc_start_main((int (*)(int, char **, char **))main, (int)sp[0], (char **)(sp + 1), 0, 0, 0);
}
#endif
