/* A library with relative relocations and a constructor that follows them: built with
 * -z pack-relative-relocs it needs the loader to apply DT_RELR, or the constructor dies (SIGSEGV). */
static int values[8] = {1, 2, 3, 4, 5, 6, 7, 42};
int *table[8] = {&values[0], &values[1], &values[2], &values[3], &values[4], &values[5], &values[6], &values[7]};
int probe_feature_value;
__attribute__((constructor)) static void check(void) {
    int sum = 0;
    for (int i = 0; i < 8; i++) sum += *table[i];
    if (sum != 70) __builtin_trap();
    probe_feature_value = sum;
}
