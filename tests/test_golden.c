/* tests/test_golden.c - quant.h against PyTorch, bit for bit.
 *
 * The golden files in tests/golden/ are written by tools/gen_golden.py with
 * Debian's torch 1.13 (their format is documented at the top of that
 * script). This test reads them from the repository root, or from the
 * directory named by $QT_GOLDEN_DIR, and checks:
 *
 *   observer.txt       MinMaxObserver / MovingAverageMinMaxObserver: the
 *                      running min / max and calculate_qparams (scale bits
 *                      and zero point) for every range and scheme;
 *   observer_pc.txt    the per-channel observers, the same way;
 *   quantize.txt       quantize_per_tensor(...).int_repr() (quint8, qint8,
 *                      qint32);
 *   quantize_pc.txt    quantize_per_channel(...).int_repr();
 *   fake_quant.txt     fake_quantize_per_tensor_affine: outputs (bits) and
 *                      the straight-through mask;
 *   fake_quant_pc.txt  fake_quantize_per_channel_affine, the same.
 *
 * Cases torch and quant.h are meant to disagree on are not generated (see
 * gen_golden.py): symmetric quint8 with reduce_range (torch: zero point 128,
 * outside [0, 127]; quant.h: 64) and symmetric custom ranges with qmin >= 0
 * or dtype quint8 (torch: floor((qmin + qmax) / 2) for quint8, 0 otherwise;
 * quant.h: (qmin + qmax + 1) / 2 when qmin >= 0, else 0). NaN / Inf are
 * never in the data.
 *
 * A missing or malformed golden file is a failure, never a skip.
 * QT_GOLDEN_VERBOSE=1 prints every mismatching value, not just the first
 * few of each test.
 */
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "harness.h"

#include <stdint.h>
#include <ctype.h>
#include <errno.h>

/* ------------------------------------------------------------------------ */
/* reading the golden files                                                  */
/* ------------------------------------------------------------------------ */

#define GTOK 8192

typedef struct golden {
    FILE *f;
    char path[1024];
    char tok[GTOK];
    int err;          /* first parse error seen (message already reported) */
    long ncases;
} golden;

static int g_verbose;
static long g_compared; /* values compared, over the whole run */

static const char *golden_dir(void) {
    const char *d = getenv("QT_GOLDEN_DIR");
    return (d && *d) ? d : "tests/golden";
}

/* Next whitespace-separated token, skipping '#' comments. NULL at EOF. */
static const char *g_next(golden *g) {
    int c;
    size_t n = 0;
    for (;;) {
        c = fgetc(g->f);
        if (c == EOF) return NULL;
        if (c == '#') {
            while (c != EOF && c != '\n') c = fgetc(g->f);
            continue;
        }
        if (!isspace(c)) break;
    }
    while (c != EOF && !isspace(c)) {
        if (n + 1 >= sizeof g->tok) {
            if (!g->err) CHECKF(0, "%.300s: token too long", g->path);
            g->err = 1;
            return NULL;
        }
        g->tok[n++] = (char)c;
        c = fgetc(g->f);
    }
    g->tok[n] = 0;
    return g->tok;
}

static void g_fail(golden *g, const char *what) {
    if (!g->err) CHECKF(0, "%.300s: malformed near token '%.40s' (%.60s expected)", g->path, g->tok, what);
    g->err = 1;
}

static const char *g_word(golden *g, const char *what) {
    const char *t = g->err ? NULL : g_next(g);
    if (!t) { if (!g->err) { g->tok[0] = 0; g_fail(g, what); } return NULL; }
    return t;
}

static void g_expect(golden *g, const char *word) {
    const char *t = g_word(g, word);
    if (t && strcmp(t, word) != 0) g_fail(g, word);
}

static long g_int(golden *g) {
    const char *t = g_word(g, "integer");
    char *end;
    long v;
    if (!t) return 0;
    errno = 0;
    v = strtol(t, &end, 10);
    if (*end || end == t || errno) { g_fail(g, "integer"); return 0; }
    return v;
}

static uint32_t g_bits(golden *g) {
    const char *t = g_word(g, "float bits");
    char *end;
    unsigned long v;
    if (!t) return 0;
    if (strlen(t) != 8) { g_fail(g, "8 hex digits"); return 0; }
    v = strtoul(t, &end, 16);
    if (*end) { g_fail(g, "8 hex digits"); return 0; }
    return (uint32_t)v;
}

static float bits_f(uint32_t u) { float f; memcpy(&f, &u, sizeof f); return f; }
static uint32_t f_bits(float f) { uint32_t u; memcpy(&u, &f, sizeof u); return u; }
static float g_float(golden *g) { return bits_f(g_bits(g)); }

static void g_name(golden *g, char *name, size_t size) {
    const char *t = g_word(g, "case name");
    if (!t) { name[0] = 0; return; }
    snprintf(name, size, "%s", t);
}

/* Opens <dir>/<file> and reads "quant-golden 1 <kind> <ncases>". */
static int g_open(golden *g, const char *file, const char *kind) {
    memset(g, 0, sizeof *g);
    snprintf(g->path, sizeof g->path, "%s/%s", golden_dir(), file);
    g->f = fopen(g->path, "r");
    if (!g->f) {
        CHECKF(0, "cannot open golden file %.300s (run from the repo root, or set QT_GOLDEN_DIR; "
               "regenerate with /usr/bin/python3 tools/gen_golden.py)", g->path);
        return 0;
    }
    g_expect(g, "quant-golden");
    if (g_int(g) != 1) g_fail(g, "format version 1");
    g_expect(g, kind);
    g->ncases = g_int(g);
    if (!g->err && g->ncases <= 0) g_fail(g, "a positive case count");
    return !g->err;
}

/* After the last case: the file must end there. */
static void g_close(golden *g, long cases_read) {
    if (!g->err) {
        CHECKF(cases_read == g->ncases, "%.300s: read %ld cases, header says %ld", g->path, cases_read, g->ncases);
        CHECKF(g_next(g) == NULL, "%.300s: trailing data after the last case ('%.40s')", g->path, g->tok);
    }
    if (g->f) fclose(g->f);
}

static void *xmalloc(size_t n) {
    void *p = malloc(n ? n : 1);
    if (!p) { fprintf(stderr, "out of memory\n"); exit(2); }
    return p;
}

static float *g_floats(golden *g, size_t n) {
    float *v = (float *)xmalloc(n * sizeof *v);
    size_t i;
    for (i = 0; i < n; i++) v[i] = g->err ? 0.0f : g_float(g);
    return v;
}

/* "ndim d0 d1 ..." -> shape, returns numel (0 on error). */
static size_t g_shape(golden *g, int *ndim, size_t shape[8]) {
    long nd = g_int(g), d;
    size_t numel = 1;
    int i;
    if (g->err || nd < 1 || nd > 8) { g_fail(g, "ndim 1..8"); return 0; }
    for (i = 0; i < nd; i++) {
        d = g_int(g);
        if (g->err || d < 0 || d > 1000000) { g_fail(g, "a dimension"); return 0; }
        shape[i] = (size_t)d;
        numel *= (size_t)d;
    }
    *ndim = (int)nd;
    return numel;
}

static int same_float(float a, float b) {
    /* bit-exact, but +0 and -0 are accepted as the same min / max: for
     * batches [-0, 0, -0], [0] torch's aminmax/min keep +0, quant.h's strict
     * comparisons keep the first -0. The params do not depend on it. */
    return f_bits(a) == f_bits(b) || (a == 0.0f && b == 0.0f);
}

static quant_dtype dt_of(long dt) { return dt == 1 ? QUANT_U8 : QUANT_I8; }
static const char *dt_name(long dt) { return dt == 0 ? "qint8" : dt == 1 ? "quint8" : "qint32"; }
static const char *scheme_name(long s) { return s ? "symmetric" : "affine"; }

/* ------------------------------------------------------------------------ */
/* observers                                                                 */
/* ------------------------------------------------------------------------ */

static quant_observer g_obs; /* large (histogram); one at a time */

static void test_golden_observer(void) {
    golden g;
    long c, cases = 0, b, i, nb, np, kind;
    char name[128];
    if (!g_open(&g, "observer.txt", "obs")) { if (g.f) fclose(g.f); return; }
    for (c = 0; c < g.ncases && !g.err; c++) {
        quant_status st;
        float avg, tmin, tmax, lo = 0, hi = 0;
        g_expect(&g, "OBS");
        g_name(&g, name, sizeof name);
        kind = g_int(&g);
        avg = g_float(&g);
        nb = g_int(&g);
        np = g_int(&g);
        if (g.err) break;
        if (kind != 0 && kind != 1) { g_fail(&g, "observer kind 0/1"); break; }
        st = quant_observer_init(&g_obs, kind ? QUANT_OBS_MOVING_AVERAGE : QUANT_OBS_MINMAX);
        CHECKF(st == QUANT_OK, "%s: quant_observer_init -> %d", name, (int)st);
        if (kind) g_obs.averaging_constant = avg;
        for (b = 0; b < nb && !g.err; b++) {
            long n;
            float *x;
            g_expect(&g, "B");
            n = g_int(&g);
            if (g.err || n < 0) { g_fail(&g, "batch size"); break; }
            x = g_floats(&g, (size_t)n);
            if (!g.err) {
                st = quant_observer_update(&g_obs, x, (size_t)n);
                CHECKF(st == QUANT_OK, "%s: quant_observer_update batch %ld -> %d", name, b, (int)st);
            }
            free(x);
        }
        g_expect(&g, "MM");
        tmin = g_float(&g);
        tmax = g_float(&g);
        if (g.err) break;
        st = quant_observer_range(&g_obs, QUANT_AFFINE, -128, 127, &lo, &hi);
        g_compared += 2;
        /* an observer that saw nothing: torch keeps (+Inf, -Inf); quant.h may say so with EEMPTY */
        if (tmin == INFINITY && tmax == -INFINITY && st == QUANT_EEMPTY) lo = tmin, hi = tmax, st = QUANT_OK;
        CHECKF(st == QUANT_OK && same_float(lo, tmin) && same_float(hi, tmax),
               "%s: running range: torch [%.9g (%08x), %.9g (%08x)], quant.h [%.9g (%08x), %.9g (%08x)] (status %d)",
               name, tmin, (unsigned)f_bits(tmin), tmax, (unsigned)f_bits(tmax),
               lo, (unsigned)f_bits(lo), hi, (unsigned)f_bits(hi), (int)st);
        for (i = 0; i < np && !g.err; i++) {
            long scheme, dt, red, custom, qmin, qmax, zp;
            float scale;
            quant_params p;
            g_expect(&g, "P");
            scheme = g_int(&g); dt = g_int(&g); red = g_int(&g); custom = g_int(&g);
            qmin = g_int(&g); qmax = g_int(&g);
            scale = g_float(&g); zp = g_int(&g);
            if (g.err) break;
            if (!custom) {
                int32_t lo32 = 0, hi32 = 0;
                st = quant_dtype_range(dt_of(dt), (int)red, &lo32, &hi32);
                CHECKF(st == QUANT_OK && lo32 == qmin && hi32 == qmax,
                       "quant_dtype_range(%s, reduce_range %ld) = [%ld, %ld], torch [%ld, %ld]",
                       dt_name(dt), red, (long)lo32, (long)hi32, qmin, qmax);
            }
            memset(&p, 0, sizeof p);
            st = quant_observer_params(&g_obs, (int32_t)qmin, (int32_t)qmax,
                                       scheme ? QUANT_SYMMETRIC : QUANT_AFFINE, &p);
            g_compared += 2;
            CHECKF(st == QUANT_OK && f_bits(p.scale) == f_bits(scale) && p.zero_point == zp &&
                   p.qmin == qmin && p.qmax == qmax,
                   "%s %s %s%s [%ld, %ld]: torch scale %.9g (%08x) zp %ld, quant.h scale %.9g (%08x) zp %ld [%ld, %ld] (status %d)",
                   name, scheme_name(scheme), dt_name(dt), red ? " reduce_range" : "", qmin, qmax,
                   scale, (unsigned)f_bits(scale), zp, p.scale, (unsigned)f_bits(p.scale),
                   (long)p.zero_point, (long)p.qmin, (long)p.qmax, (int)st);
        }
        if (!g.err) cases++;
    }
    g_close(&g, cases);
}

static void test_golden_observer_pc(void) {
    golden g;
    long c, cases = 0, b, i, nb, np, kind, axis, ch, k;
    char name[128];
    if (!g_open(&g, "observer_pc.txt", "obs_pc")) { if (g.f) fclose(g.f); return; }
    for (c = 0; c < g.ncases && !g.err; c++) {
        quant_status st;
        quant_observer_pc o;
        float avg, *mins, *maxs, *tmin, *tmax, *scales, *tscale;
        int32_t *zps;
        long *tzp;
        g_expect(&g, "OPC");
        g_name(&g, name, sizeof name);
        kind = g_int(&g);
        avg = g_float(&g);
        axis = g_int(&g);
        ch = g_int(&g);
        nb = g_int(&g);
        np = g_int(&g);
        if (g.err) break;
        if (ch < 1 || axis < 0 || axis > 7 || (kind != 0 && kind != 1)) { g_fail(&g, "a valid OPC header"); break; }
        mins = (float *)xmalloc((size_t)ch * sizeof *mins);
        maxs = (float *)xmalloc((size_t)ch * sizeof *maxs);
        scales = (float *)xmalloc((size_t)ch * sizeof *scales);
        tscale = (float *)xmalloc((size_t)ch * sizeof *tscale);
        zps = (int32_t *)xmalloc((size_t)ch * sizeof *zps);
        tzp = (long *)xmalloc((size_t)ch * sizeof *tzp);
        st = quant_observer_pc_init(&o, mins, maxs, (size_t)ch, (int)kind);
        CHECKF(st == QUANT_OK, "%s: quant_observer_pc_init -> %d", name, (int)st);
        if (kind) o.averaging_constant = avg;
        for (b = 0; b < nb && !g.err; b++) {
            size_t shape[8], numel;
            int ndim = 0;
            float *x;
            g_expect(&g, "B");
            numel = g_shape(&g, &ndim, shape);
            if (g.err) break;
            if (axis >= ndim || (long)shape[axis] != ch) { g_fail(&g, "a batch shape matching axis / channels"); break; }
            x = g_floats(&g, numel);
            if (!g.err) {
                st = quant_observer_pc_update(&o, x, shape, ndim, (int)axis);
                CHECKF(st == QUANT_OK, "%s: quant_observer_pc_update batch %ld -> %d", name, b, (int)st);
            }
            free(x);
        }
        g_expect(&g, "MM");
        tmin = g_floats(&g, (size_t)ch);
        tmax = g_floats(&g, (size_t)ch);
        if (!g.err) {
            for (k = 0; k < ch; k++) {
                g_compared += 2;
                CHECKF(same_float(mins[k], tmin[k]) && same_float(maxs[k], tmax[k]),
                       "%s channel %ld: running range: torch [%.9g (%08x), %.9g (%08x)], quant.h [%.9g (%08x), %.9g (%08x)]",
                       name, k, tmin[k], (unsigned)f_bits(tmin[k]), tmax[k], (unsigned)f_bits(tmax[k]),
                       mins[k], (unsigned)f_bits(mins[k]), maxs[k], (unsigned)f_bits(maxs[k]));
            }
        }
        for (i = 0; i < np && !g.err; i++) {
            long scheme, dt, red, custom, qmin, qmax;
            g_expect(&g, "P");
            scheme = g_int(&g); dt = g_int(&g); red = g_int(&g); custom = g_int(&g);
            qmin = g_int(&g); qmax = g_int(&g);
            for (k = 0; k < ch && !g.err; k++) tscale[k] = g_float(&g);
            for (k = 0; k < ch && !g.err; k++) tzp[k] = g_int(&g);
            if (g.err) break;
            if (!custom) {
                int32_t lo32 = 0, hi32 = 0;
                st = quant_dtype_range(dt_of(dt), (int)red, &lo32, &hi32);
                CHECKF(st == QUANT_OK && lo32 == qmin && hi32 == qmax,
                       "quant_dtype_range(%s, reduce_range %ld) = [%ld, %ld], torch [%ld, %ld]",
                       dt_name(dt), red, (long)lo32, (long)hi32, qmin, qmax);
            }
            for (k = 0; k < ch; k++) { scales[k] = -1.0f; zps[k] = INT32_MIN; }
            st = quant_observer_pc_params(&o, (int32_t)qmin, (int32_t)qmax,
                                          scheme ? QUANT_SYMMETRIC : QUANT_AFFINE, scales, zps);
            CHECKF(st == QUANT_OK, "%s %s %s [%ld, %ld]: quant_observer_pc_params -> %d",
                   name, scheme_name(scheme), dt_name(dt), qmin, qmax, (int)st);
            for (k = 0; k < ch; k++) {
                g_compared += 2;
                CHECKF(f_bits(scales[k]) == f_bits(tscale[k]) && zps[k] == tzp[k],
                       "%s %s %s%s [%ld, %ld] channel %ld (min %.9g max %.9g): torch scale %.9g (%08x) zp %ld, quant.h scale %.9g (%08x) zp %ld",
                       name, scheme_name(scheme), dt_name(dt), red ? " reduce_range" : "", qmin, qmax, k,
                       tmin[k], tmax[k], tscale[k], (unsigned)f_bits(tscale[k]), tzp[k],
                       scales[k], (unsigned)f_bits(scales[k]), (long)zps[k]);
            }
        }
        free(tmin); free(tmax);
        free(mins); free(maxs); free(scales); free(tscale); free(zps); free(tzp);
        if (!g.err) cases++;
    }
    g_close(&g, cases);
}

/* ------------------------------------------------------------------------ */
/* quantize                                                                  */
/* ------------------------------------------------------------------------ */

static int32_t load_q(const void *q, quant_dtype dt, size_t i) {
    if (dt == QUANT_I32) return ((const int32_t *)q)[i];
    return dt == QUANT_U8 ? (int32_t)((const uint8_t *)q)[i] : (int32_t)((const int8_t *)q)[i];
}

/* Compares n quantized values; reports the first mismatch (every one with
 * QT_GOLDEN_VERBOSE) and the count. */
static void cmp_q(const char *what, const float *x, const long *want, const void *got,
                  quant_dtype dt, size_t n) {
    size_t i, bad = 0, first = 0;
    for (i = 0; i < n; i++) {
        int32_t v = load_q(got, dt, i);
        g_compared++;
        if (v != want[i]) {
            if (!bad) first = i;
            bad++;
            if (g_verbose)
                fprintf(stderr, "    mismatch %s [%lu] x=%.9g (%08x): torch %ld, quant.h %ld\n", what,
                        (unsigned long)i, x[i], (unsigned)f_bits(x[i]), want[i], (long)v);
        }
    }
    CHECKF(bad == 0, "%s: %lu of %lu differ; first [%lu] x=%.9g (%08x): torch %ld, quant.h %ld", what,
           (unsigned long)bad, (unsigned long)n, (unsigned long)first, x[first],
           (unsigned)f_bits(x[first]), want[first], (long)load_q(got, dt, first));
}

static void test_golden_quantize(void) {
    golden g;
    long c, cases = 0, i, n, np;
    char name[128], what[256];
    if (!g_open(&g, "quantize.txt", "quantize")) { if (g.f) fclose(g.f); return; }
    for (c = 0; c < g.ncases && !g.err; c++) {
        float *x;
        long *want;
        unsigned char *out;
        g_expect(&g, "QT");
        g_name(&g, name, sizeof name);
        n = g_int(&g);
        np = g_int(&g);
        if (g.err || n < 1) { g_fail(&g, "a valid QT header"); break; }
        g_expect(&g, "X");
        x = g_floats(&g, (size_t)n);
        want = (long *)xmalloc((size_t)n * sizeof *want);
        out = (unsigned char *)xmalloc((size_t)n * sizeof(int32_t));
        for (i = 0; i < np && !g.err; i++) {
            long dt, zp, k;
            quant_dtype qdt;
            float scale;
            quant_params p;
            quant_status st;
            int32_t qmin, qmax;
            g_expect(&g, "Q");
            dt = g_int(&g);
            scale = g_float(&g);
            zp = g_int(&g);
            for (k = 0; k < n && !g.err; k++) want[k] = g_int(&g);
            if (g.err) break;
            if (dt < 0 || dt > 2) { g_fail(&g, "dtype 0/1/2"); break; }
            /* torch clamps to the dtype's full range */
            qdt = dt == 2 ? QUANT_I32 : dt_of(dt);
            qmin = dt == 2 ? INT32_MIN : dt ? 0 : -128;
            qmax = dt == 2 ? INT32_MAX : dt ? 255 : 127;
            p.scale = scale; p.zero_point = (int32_t)zp; p.qmin = qmin; p.qmax = qmax;
            snprintf(what, sizeof what, "%s %s scale %.9g (%08x) zp %ld", name, dt_name(dt),
                     scale, (unsigned)f_bits(scale), zp);
            memset(out, 0xA5, (size_t)n * sizeof(int32_t));
            st = quant_quantize(x, (size_t)n, &p, qdt, out);
            CHECKF(st == QUANT_OK, "%s: quant_quantize -> %d", what, (int)st);
            if (st == QUANT_OK) cmp_q(what, x, want, out, qdt, (size_t)n);
        }
        free(x); free(want); free(out);
        if (!g.err) cases++;
    }
    g_close(&g, cases);
}

static void test_golden_quantize_pc(void) {
    golden g;
    long c, cases = 0, i, np;
    char name[128], what[256];
    if (!g_open(&g, "quantize_pc.txt", "quantize_pc")) { if (g.f) fclose(g.f); return; }
    for (c = 0; c < g.ncases && !g.err; c++) {
        size_t shape[8], numel;
        int ndim = 0;
        float *x, *scales = NULL;
        int32_t *zps = NULL;
        long *want;
        unsigned char *out;
        g_expect(&g, "QC");
        g_name(&g, name, sizeof name);
        numel = g_shape(&g, &ndim, shape);
        np = g_int(&g);
        if (g.err) break;
        g_expect(&g, "X");
        x = g_floats(&g, numel);
        want = (long *)xmalloc(numel * sizeof *want);
        out = (unsigned char *)xmalloc(numel);
        for (i = 0; i < np && !g.err; i++) {
            long axis, dt, k;
            size_t ch, j;
            quant_status st;
            int32_t qmin, qmax;
            g_expect(&g, "C");
            axis = g_int(&g);
            dt = g_int(&g);
            if (g.err || axis < 0 || axis >= ndim || (dt != 0 && dt != 1)) { g_fail(&g, "axis / dtype"); break; }
            ch = shape[axis];
            free(scales); free(zps);
            scales = (float *)xmalloc(ch * sizeof *scales);
            zps = (int32_t *)xmalloc(ch * sizeof *zps);
            for (j = 0; j < ch && !g.err; j++) scales[j] = g_float(&g);
            for (j = 0; j < ch && !g.err; j++) zps[j] = (int32_t)g_int(&g);
            for (k = 0; k < (long)numel && !g.err; k++) want[k] = g_int(&g);
            if (g.err) break;
            qmin = dt ? 0 : -128;
            qmax = dt ? 255 : 127;
            snprintf(what, sizeof what, "%s axis %ld %s (scale[0] %.9g zp[0] %ld)", name, axis,
                     dt_name(dt), scales[0], (long)zps[0]);
            memset(out, 0xA5, numel);
            st = quant_quantize_per_channel(x, shape, ndim, (int)axis, scales, zps, qmin, qmax,
                                            dt_of(dt), out);
            CHECKF(st == QUANT_OK, "%s: quant_quantize_per_channel -> %d", what, (int)st);
            if (st == QUANT_OK) cmp_q(what, x, want, out, dt_of(dt), numel);
        }
        free(scales); free(zps);
        free(x); free(want); free(out);
        if (!g.err) cases++;
    }
    g_close(&g, cases);
}

/* ------------------------------------------------------------------------ */
/* fake quant                                                                */
/* ------------------------------------------------------------------------ */

/* Reads the mask token (n digits 0/1). */
static void g_mask(golden *g, uint8_t *m, size_t n) {
    const char *t = g_word(g, "mask digits");
    size_t i;
    if (!t) return;
    if (strlen(t) != n) { g_fail(g, "a mask of one digit per value"); return; }
    for (i = 0; i < n; i++) {
        if (t[i] != '0' && t[i] != '1') { g_fail(g, "mask digits 0/1"); return; }
        m[i] = (uint8_t)(t[i] - '0');
    }
}

static void cmp_fq(const char *what, const float *x, const float *wy, const uint8_t *wm,
                   const float *y, const uint8_t *m, size_t n) {
    size_t i, bady = 0, badm = 0, fy = 0, fm = 0;
    for (i = 0; i < n; i++) {
        g_compared += 2;
        if (f_bits(y[i]) != f_bits(wy[i])) {
            if (!bady) fy = i;
            bady++;
            if (g_verbose)
                fprintf(stderr, "    mismatch %s [%lu] x=%.9g (%08x): torch y %.9g (%08x), quant.h %.9g (%08x)\n",
                        what, (unsigned long)i, x[i], (unsigned)f_bits(x[i]), wy[i],
                        (unsigned)f_bits(wy[i]), y[i], (unsigned)f_bits(y[i]));
        }
        if (m[i] != wm[i]) {
            if (!badm) fm = i;
            badm++;
            if (g_verbose)
                fprintf(stderr, "    mismatch %s [%lu] x=%.9g (%08x): torch mask %d, quant.h %d\n",
                        what, (unsigned long)i, x[i], (unsigned)f_bits(x[i]), wm[i], m[i]);
        }
    }
    CHECKF(bady == 0, "%s: %lu of %lu outputs differ; first [%lu] x=%.9g (%08x): torch %.9g (%08x), quant.h %.9g (%08x)",
           what, (unsigned long)bady, (unsigned long)n, (unsigned long)fy, x[fy], (unsigned)f_bits(x[fy]),
           wy[fy], (unsigned)f_bits(wy[fy]), y[fy], (unsigned)f_bits(y[fy]));
    CHECKF(badm == 0, "%s: %lu of %lu mask values differ; first [%lu] x=%.9g (%08x): torch %d, quant.h %d",
           what, (unsigned long)badm, (unsigned long)n, (unsigned long)fm, x[fm], (unsigned)f_bits(x[fm]),
           wm[fm], m[fm]);
}

static void test_golden_fake_quant(void) {
    golden g;
    long c, cases = 0, i, n, np;
    char name[128], what[256];
    if (!g_open(&g, "fake_quant.txt", "fake_quant")) { if (g.f) fclose(g.f); return; }
    for (c = 0; c < g.ncases && !g.err; c++) {
        float *x, *wy, *y;
        uint8_t *wm, *m;
        g_expect(&g, "FQ");
        g_name(&g, name, sizeof name);
        n = g_int(&g);
        np = g_int(&g);
        if (g.err || n < 1) { g_fail(&g, "a valid FQ header"); break; }
        g_expect(&g, "X");
        x = g_floats(&g, (size_t)n);
        y = (float *)xmalloc((size_t)n * sizeof *y);
        wm = (uint8_t *)xmalloc((size_t)n);
        m = (uint8_t *)xmalloc((size_t)n);
        for (i = 0; i < np && !g.err; i++) {
            long zp, qmin, qmax;
            float scale;
            quant_params p;
            quant_status st;
            g_expect(&g, "F");
            scale = g_float(&g);
            zp = g_int(&g); qmin = g_int(&g); qmax = g_int(&g);
            wy = g_floats(&g, (size_t)n);
            g_mask(&g, wm, (size_t)n);
            if (g.err) { free(wy); break; }
            p.scale = scale; p.zero_point = (int32_t)zp; p.qmin = (int32_t)qmin; p.qmax = (int32_t)qmax;
            snprintf(what, sizeof what, "%s fake_quant scale %.9g (%08x) zp %ld [%ld, %ld]", name,
                     scale, (unsigned)f_bits(scale), zp, qmin, qmax);
            memset(y, 0xA5, (size_t)n * sizeof *y);
            memset(m, 0xA5, (size_t)n);
            st = quant_fake_quant(x, (size_t)n, &p, y, m);
            CHECKF(st == QUANT_OK, "%s: quant_fake_quant -> %d", what, (int)st);
            if (st == QUANT_OK) cmp_fq(what, x, wy, wm, y, m, (size_t)n);
            free(wy);
        }
        free(x); free(y); free(wm); free(m);
        if (!g.err) cases++;
    }
    g_close(&g, cases);
}

static void test_golden_fake_quant_pc(void) {
    golden g;
    long c, cases = 0, i, np;
    char name[128], what[256];
    if (!g_open(&g, "fake_quant_pc.txt", "fake_quant_pc")) { if (g.f) fclose(g.f); return; }
    for (c = 0; c < g.ncases && !g.err; c++) {
        size_t shape[8], numel;
        int ndim = 0;
        float *x, *wy, *y, *scales = NULL;
        int32_t *zps = NULL;
        uint8_t *wm, *m;
        g_expect(&g, "FC");
        g_name(&g, name, sizeof name);
        numel = g_shape(&g, &ndim, shape);
        np = g_int(&g);
        if (g.err) break;
        g_expect(&g, "X");
        x = g_floats(&g, numel);
        y = (float *)xmalloc(numel * sizeof *y);
        wm = (uint8_t *)xmalloc(numel);
        m = (uint8_t *)xmalloc(numel);
        for (i = 0; i < np && !g.err; i++) {
            long axis, qmin, qmax;
            size_t ch, j;
            quant_status st;
            g_expect(&g, "G");
            axis = g_int(&g); qmin = g_int(&g); qmax = g_int(&g);
            if (g.err || axis < 0 || axis >= ndim) { g_fail(&g, "axis"); break; }
            ch = shape[axis];
            free(scales); free(zps);
            scales = (float *)xmalloc(ch * sizeof *scales);
            zps = (int32_t *)xmalloc(ch * sizeof *zps);
            for (j = 0; j < ch && !g.err; j++) scales[j] = g_float(&g);
            for (j = 0; j < ch && !g.err; j++) zps[j] = (int32_t)g_int(&g);
            wy = g_floats(&g, numel);
            g_mask(&g, wm, numel);
            if (g.err) { free(wy); break; }
            snprintf(what, sizeof what, "%s fake_quant_per_channel axis %ld [%ld, %ld] (scale[0] %.9g zp[0] %ld)",
                     name, axis, qmin, qmax, scales[0], (long)zps[0]);
            memset(y, 0xA5, numel * sizeof *y);
            memset(m, 0xA5, numel);
            st = quant_fake_quant_per_channel(x, shape, ndim, (int)axis, scales, zps,
                                              (int32_t)qmin, (int32_t)qmax, y, m);
            CHECKF(st == QUANT_OK, "%s: quant_fake_quant_per_channel -> %d", what, (int)st);
            if (st == QUANT_OK) cmp_fq(what, x, wy, wm, y, m, numel);
            free(wy);
        }
        free(scales); free(zps);
        free(x); free(y); free(wm); free(m);
        if (!g.err) cases++;
    }
    g_close(&g, cases);
}

int main(void) {
    const char *v = getenv("QT_GOLDEN_VERBOSE");
    g_verbose = v && *v && strcmp(v, "0") != 0;

    RUN(test_golden_observer);
    RUN(test_golden_observer_pc);
    RUN(test_golden_quantize);
    RUN(test_golden_quantize_pc);
    RUN(test_golden_fake_quant);
    RUN(test_golden_fake_quant_pc);
    if (getenv("QT_VERBOSE")) fprintf(stderr, "golden: %ld values compared\n", g_compared);
    return qt_summary();
}
