/* tests/harness.h - a tiny test harness. Each test is a function; a test
 * passes when none of its CHECKs fail. The program ends with the plain line
 * "N passed, N failed" and exits non-zero on any failure. */
#ifndef QT_HARNESS_H
#define QT_HARNESS_H
#if defined(__GNUC__) || defined(__clang__)
#define QT_MAYBE_UNUSED __attribute__((unused))
#else
#define QT_MAYBE_UNUSED
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <math.h>
#include <time.h>

/* kernel tests compiled once for every level (the Makefile): the name of
 * the ISA the level must select comes from a one-string object linked
 * beside the test and the level's implementation */
#ifdef QT_EXPECT_ISA_VAR
extern const char qt_expect_isa[];
#define QT_EXPECT_ISA qt_expect_isa
#endif

static int qt_passed, qt_failed, qt_cur_fail;
static const char *qt_cur_name = "";

static void qt__report(const char *file, int line, const char *expr, const char *msg) {
    if (qt_cur_fail < 8)
        fprintf(stderr, "  FAIL %s:%d [%s] %s%s%s\n", file, line, qt_cur_name, expr,
                msg ? " : " : "", msg ? msg : "");
    else if (qt_cur_fail == 8)
        fprintf(stderr, "  ... (further failures in %s not shown)\n", qt_cur_name);
    qt_cur_fail++;
}

/* CHECK(cond) and CHECKF(cond, fmt, ...) record a failure and go on. */
#define CHECK(c) do { if (!(c)) qt__report(__FILE__, __LINE__, #c, NULL); } while (0)
#define CHECKF(c, ...) do { if (!(c)) { char qt__m[512]; snprintf(qt__m, sizeof qt__m, __VA_ARGS__); \
    qt__report(__FILE__, __LINE__, #c, qt__m); } } while (0)
/* Fail counts for loops that want to stop early. */
#define QT_FAILS (qt_cur_fail)

/* QT_VERBOSE=1 names each test as it passes, with the processor time it took */
static void qt_run(const char *name, void (*fn)(void)) {
    clock_t t0 = clock();
    qt_cur_name = name; qt_cur_fail = 0;
    fn();
    if (qt_cur_fail) { qt_failed++; fprintf(stderr, "FAIL %s (%d checks)\n", name, qt_cur_fail); }
    else { qt_passed++; if (getenv("QT_VERBOSE")) fprintf(stderr, "ok   %-28s %.2f s CPU\n", name, (double)(clock() - t0) / CLOCKS_PER_SEC); }
}
#define RUN(fn) qt_run(#fn, fn)

static int qt_summary(void) {
    fflush(stderr);
    printf("%d passed, %d failed\n", qt_passed, qt_failed);
    return qt_failed ? 1 : 0;
}

/* Deterministic test data: splitmix64. */
static unsigned long long qt_seed_ = 0x9E3779B97F4A7C15ull;
QT_MAYBE_UNUSED static unsigned long long qt_rand64(void) {
    unsigned long long z = (qt_seed_ += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}
QT_MAYBE_UNUSED static unsigned qt_rand32(void) { return (unsigned)(qt_rand64() >> 32); }
QT_MAYBE_UNUSED static double qt_uniform(void) { return (double)(qt_rand64() >> 11) * (1.0 / 9007199254740992.0); }
QT_MAYBE_UNUSED static double qt_normal(void) { /* Box-Muller */
    double u = qt_uniform(), v = qt_uniform();
    if (u < 1e-300) u = 1e-300;
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}
#endif
