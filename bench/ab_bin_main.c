/* bench/ab_bin_main.c - the A/B driver of bench/ab_bin.c and bench/ab_pq.c:
 * the base side and the tree side of one benchmark in one process, each
 * case run in alternation (base, tree; the order swapped every run) until
 * each side has reps runs (at least 21, about 1 s a side); per case the
 * median time of each side, their ratio, and the median of the ratios of
 * the runs paired in time (tree / base; the VM's speed drifts): a markdown
 * table. */
#define _POSIX_C_SOURCE 199309L
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

void base_init(void); int base_ncases(void); const char *base_name(int i); void base_run(int i);
void tree_init(void); int tree_ncases(void); const char *tree_name(int i); void tree_run(int i);

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }
static int cmpd(const void *a, const void *b) { double x = *(const double *)a, y = *(const double *)b; return x < y ? -1 : x > y; }
static double time1(void (*run)(int), int i) { double t0 = now(); run(i); return now() - t0; }

int main(void) {
    static double ta[801], tb[801], q[801];
    int i, r, reps;
    base_init(); tree_init();
    printf("| case | base us | tree us | tree / base | paired ratio | runs |\n|---|---:|---:|---:|---:|---:|\n");
    for (i = 0; i < base_ncases(); i++) {
        double t = time1(base_run, i) + time1(tree_run, i); /* warm-up */
        reps = t > 0 ? (int)(2.0 / t) : 801;
        reps = reps < 21 ? 21 : reps > 801 ? 801 : reps | 1;
        for (r = 0; r < reps; r++) {
            if (r & 1) { tb[r] = time1(tree_run, i); ta[r] = time1(base_run, i); }
            else { ta[r] = time1(base_run, i); tb[r] = time1(tree_run, i); }
            q[r] = tb[r] / ta[r];
        }
        qsort(q, (size_t)reps, sizeof(double), cmpd);
        qsort(ta, (size_t)reps, sizeof(double), cmpd);
        qsort(tb, (size_t)reps, sizeof(double), cmpd);
        printf("| %s | %.1f | %.1f | %.3f | %.3f | %d |\n", base_name(i), ta[reps / 2] * 1e6, tb[reps / 2] * 1e6, tb[reps / 2] / ta[reps / 2],
               q[reps / 2], reps);
        fflush(stdout);
    }
    return 0;
}
