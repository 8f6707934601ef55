/* tests/test_observers.c - quant.h section 8 (observers) against plain,
 * double-precision reimplementations written here from the definitions in
 * the quant.h comments and from the published algorithms:
 *   - the histogram (2 x 2048 bins, float bin index, growth by doubling),
 *   - KL: ncnn's TensorRT-style entropy calibration,
 *   - percentile, MSE (brute force of the header's definition), ACIQ
 *     (Banner et al. 2019: table and analytic minimization),
 *   - MinMax / MovingAverage per tensor and per channel (float32, bit exact),
 *   - edge cases and argument validation.
 * Observations about ambiguous definitions are printed as "note:" lines. */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#include <unistd.h>
#include <sys/types.h>
#include <sys/wait.h>
#define QT_HAVE_FORK 1
#endif

#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant.h"
#include "harness.h"

/* 0.01f rounded to float (on x87 a float constant may carry excess precision) */
static float qt_f001(void) { volatile float v = 0.01f; return v; }
#include <float.h>
#include <stdint.h>

#define NB QUANT_HIST_BINS

/* ------------------------------------------------------------------------ */
/* notes (printed once each)                                                */
/* ------------------------------------------------------------------------ */
#include <stdarg.h>
static char qt_notes[64][160];
static int qt_nnotes;
static void note(const char *fmt, ...) {
    char buf[512];
    int i;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    for (i = 0; i < qt_nnotes; i++)
        if (strncmp(qt_notes[i], buf, sizeof qt_notes[i] - 1) == 0) return;
    if (qt_nnotes < 64) {
        size_t len = strlen(buf);
        if (len > sizeof qt_notes[0] - 1) len = sizeof qt_notes[0] - 1;
        memcpy(qt_notes[qt_nnotes], buf, len);
        qt_notes[qt_nnotes][len] = 0;
        qt_nnotes++;
    }
    fprintf(stderr, "  note [%s]: %s\n", qt_cur_name, buf);
}

static int bits_eq(float a, float b) { return memcmp(&a, &b, sizeof a) == 0; }
static int feq(float a, float b) { return a == b || (a != a && b != b); } /* +0 == -0 */
static unsigned fbits(float a) { uint32_t u; memcpy(&u, &a, sizeof u); return (unsigned)u; }
static int rel_close(double got, double exp, double tol) {
    if (got == exp) return 1;
    if (!isfinite(got) || !isfinite(exp)) return 0;
    return fabs(got - exp) <= tol * fabs(exp);
}

/* ------------------------------------------------------------------------ */
/* test data                                                                */
/* ------------------------------------------------------------------------ */
enum { D_NORMAL, D_LAPLACE, D_RELU, D_BIMODAL, D_HEAVY, D_COUNT };
static const char *dist_name[D_COUNT] = { "normal", "laplace", "relu-normal", "bimodal", "student-t2" };

static float gen_value(int d) {
    switch (d) {
    case D_NORMAL: return (float)qt_normal();
    case D_LAPLACE: {
        double u = qt_uniform() - 0.5, a = 1.0 - 2.0 * fabs(u);
        if (a < 1e-300) a = 1e-300;
        return (float)((u < 0 ? 0.7 : -0.7) * log(a));
    }
    case D_RELU: { double v = qt_normal() + 0.3; return v > 0 ? (float)v : 0.0f; }
    case D_BIMODAL:
        return qt_uniform() < 0.4 ? (float)(-2.0 + 0.4 * qt_normal()) : (float)(3.0 + 0.8 * qt_normal());
    default: {
        double z = qt_normal(), a = qt_normal(), b = qt_normal();
        double s = sqrt((a * a + b * b) / 2.0);
        if (s < 1e-3) s = 1e-3;
        return (float)(z / s);
    }
    }
}
static void gen_data(int d, float *x, size_t n, unsigned long long seed) {
    size_t i;
    qt_seed_ = seed;
    for (i = 0; i < n; i++) x[i] = gen_value(d);
}

/* ------------------------------------------------------------------------ */
/* reference histogram                                                      */
/* ------------------------------------------------------------------------ */
typedef struct { double bins[2 * NB]; double zeros; } rhist;

/* min((int)(|x| * (QUANT_HIST_BINS / range)), QUANT_HIST_BINS - 1), float.
 * The header's float formula breaks down for a subnormal range (2048 / range
 * overflows to +Inf and every value would land in the top bin); there the
 * reference computes the product in double, as the library does. */
static int ref_bin_index(float ax, float range) {
    volatile float s = (float)NB / range;
    volatile float p = ax * s;
    if (!isfinite(s)) {
        double pd = (double)ax * ((double)NB / (double)range);
        return pd < NB ? (int)pd : NB - 1;
    }
    if (!(p < (float)NB)) return NB - 1;
    return (int)p;
}
static void rhist_add(rhist *h, float range, const float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) continue;
        if (v == 0.0f) { h->zeros += 1; continue; }
        if (v > 0) h->bins[NB + ref_bin_index(v, range)] += 1;
        else h->bins[NB - 1 - ref_bin_index(-v, range)] += 1;
    }
}
/* Number of bins where the observer's histogram differs; prints a few. */
static int hist_diff(const quant_histogram *got, const rhist *exp, int verbose) {
    int k, bad = 0;
    for (k = 0; k < 2 * NB; k++) {
        if (got->bins[k] != exp->bins[k]) {
            if (verbose && bad < 6)
                fprintf(stderr, "    bin %d (%s side, |x| bin %d): expected %.0f, got %.0f\n", k,
                        k >= NB ? "+" : "-", k >= NB ? k - NB : NB - 1 - k, exp->bins[k], got->bins[k]);
            bad++;
        }
    }
    return bad;
}

typedef struct { double n, sum, sumsq; float mn, mx; double nonfinite; } moments;
static void moments_init(moments *m) {
    memset(m, 0, sizeof *m);
    m->mn = INFINITY; m->mx = -INFINITY;
}
static void moments_add(moments *m, const float *x, size_t n) {
    size_t i;
    for (i = 0; i < n; i++) {
        float v = x[i];
        if (!isfinite(v)) { m->nonfinite += 1; continue; }
        m->n += 1; m->sum += v; m->sumsq += (double)v * (double)v;
        if (v < m->mn) m->mn = v;
        if (v > m->mx) m->mx = v;
    }
}
static float absmax_of(const float *x, size_t n) {
    float a = 0; size_t i;
    for (i = 0; i < n; i++) if (isfinite(x[i]) && fabsf(x[i]) > a) a = fabsf(x[i]);
    return a;
}

/* ------------------------------------------------------------------------ */
/* reference KL (ncnn / TensorRT entropy calibration) in double              */
/* ------------------------------------------------------------------------ */
/* variant 2: variant 1 with the tail updated by subtraction (tail -= dist[i])
 *            instead of summed: diagnostics only.
 * variant 1 (the reference): Q and its non-zero tests use the raw
 *            distribution dist[0..i), as ncnn's ncnn2table.cpp and TensorRT's
 *            description do; only P gets the tail mass in bin i-1.
 * variant 0: Q built from P itself. Degenerate: at i == target every level
 *            is one bin, Q == P and KL == 0, so it always returns `target`.
 *            Kept only to document that. */
static double ref_kl_at(const double *dist, int nbins, int target, int i, int variant) {
    static double P[8192], Q[8192];
    const double *src;
    double tail = 0, npb, kl = 0;
    int k, lv;
    if (variant == 2) { /* the tail kept by subtraction, as ncnn's loop does */
        for (k = target; k < nbins; k++) tail += dist[k];
        for (k = target; k < i; k++) tail -= dist[k];
    } else {
        for (k = i; k < nbins; k++) tail += dist[k];
    }
    for (k = 0; k < i; k++) { P[k] = dist[k]; Q[k] = 0; }
    P[i - 1] += tail;
    src = variant ? dist : P;
    npb = (double)i / (double)target;
    for (lv = 0; lv < target; lv++) {
        double start = lv * npb, end = start + npb, qv = 0, cnt = 0, e;
        int lu = (int)ceil(start), rl = (int)floor(end), j;
        double lf = (double)lu - start, rf = end - (double)rl;
        if (lf > 0) { qv += lf * src[lu - 1]; if (src[lu - 1] != 0) cnt += lf; }
        if (rf > 0) { qv += rf * src[rl]; if (src[rl] != 0) cnt += rf; }
        for (j = lu; j < rl; j++) { qv += src[j]; if (src[j] != 0) cnt += 1; }
        if (cnt <= 0) continue;
        e = qv / cnt;
        if (lf > 0 && src[lu - 1] != 0) Q[lu - 1] += e * lf;
        if (rf > 0 && src[rl] != 0) Q[rl] += e * rf;
        for (j = lu; j < rl; j++) if (src[j] != 0) Q[j] += e;
    }
    for (k = 0; k < i; k++) {
        if (P[k] == 0) continue;
        kl += Q[k] == 0 ? 1.0 : P[k] * log(P[k] / Q[k]);
    }
    return kl;
}
#define KLV 1
static int ref_kl_best(const double *dist, int nbins, int target, int variant, double *best_kl) {
    static double c_dist[8192], c_kl;      /* one-entry cache: the same histogram is asked often */
    static int c_nb = -1, c_tg, c_var, c_best;
    int i, best = target;
    double bk = HUGE_VAL;
    if (nbins == c_nb && target == c_tg && variant == c_var && memcmp(dist, c_dist, (size_t)nbins * sizeof *dist) == 0) {
        if (best_kl) *best_kl = c_kl;
        return c_best;
    }
    for (i = target; i < nbins; i++) {
        double kl = ref_kl_at(dist, nbins, target, i, variant);
        if (kl < bk) { bk = kl; best = i; }
    }
    if (best_kl) *best_kl = bk;
    if (nbins <= 8192) {
        memcpy(c_dist, dist, (size_t)nbins * sizeof *dist);
        c_nb = nbins; c_tg = target; c_var = variant; c_best = best; c_kl = bk;
    }
    return best;
}
/* |x| histogram folded from the signed bins, normalised. Returns the total. */
static double fold_normalise(const double *bins, double *dist) {
    double tot = 0;
    int i;
    for (i = 0; i < NB; i++) { dist[i] = bins[NB + i] + bins[NB - 1 - i]; tot += dist[i]; }
    if (tot > 0) for (i = 0; i < NB; i++) dist[i] /= tot;
    return tot;
}
/* Compares an index from the library with the reference; on a different
 * index the two KL values must agree to 1e-9 relative (a near tie). */
static void check_kl_index(const double *dist, int nbins, int target, int got, const char *what) {
    double kl_exp, kl_got;
    int exp = ref_kl_best(dist, nbins, target, KLV, &kl_exp);
    if (got == exp) return;
    if (got < target || got >= nbins) {
        CHECKF(0, "%s: index %d outside [%d, %d), expected %d", what, got, target, nbins, exp);
        return;
    }
    kl_got = ref_kl_at(dist, nbins, target, got, KLV);
    if (!rel_close(kl_got, kl_exp, 1e-9)) {
        int k, last = 0, em = ref_kl_best(dist, nbins, target, 2, NULL);
        double tail = 0;
        for (k = 0; k < nbins; k++) if (dist[k] != 0) last = k;
        for (k = target; k < nbins; k++) tail += dist[k];
        for (k = target; k < exp; k++) tail -= dist[k];
        CHECKF(0, "%s: best bin expected %d (KL %.12g), got %d (KL %.12g by the reference); last non-empty "
               "bin %d; with the tail kept by subtraction the tail at %d is %.3g instead of 0 and the "
               "best bin becomes %d", what, exp, kl_exp, got, kl_got, last, exp, tail, em);
    }
    if (rel_close(kl_got, kl_exp, 1e-9))
        note("%s: KL index %d vs reference %d, KL equal to 1e-9 (near tie)", what, got, exp);
}

/* ------------------------------------------------------------------------ */
/* reference percentile                                                     */
/* ------------------------------------------------------------------------ */
static double hist_total(const quant_histogram *h) {
    double t = h->zeros; int k;
    for (k = 0; k < 2 * NB; k++) t += h->bins[k];
    return t;
}
static float ref_percentile_sym_t(const quant_histogram *h, double p) {
    double total = hist_total(h), target = p / 100.0 * total, cum = h->zeros, w = (double)h->range / NB;
    int i;
    for (i = 0; i < NB; i++) {
        cum += h->bins[NB + i] + h->bins[NB - 1 - i];
        if (cum >= target) return (float)((i + 1) * w);
    }
    return h->range;
}
/* Signed sequence: s = 0..NB-1 -> bins[s], s = NB -> zeros, s = NB+1..2NB -> bins[s-1]. */
static void seq_edges(int s, double w, double *lower, double *upper) {
    if (s < NB) { *lower = -(double)(NB - s) * w; *upper = -(double)(NB - 1 - s) * w; }
    else if (s == NB) { *lower = 0; *upper = 0; }
    else { int b = s - 1 - NB; *lower = b * w; *upper = (b + 1) * w; }
}
static double seq_count(const quant_histogram *h, int s) {
    return s < NB ? h->bins[s] : s == NB ? h->zeros : h->bins[s - 1];
}
static void ref_percentile_affine(const quant_histogram *h, double p, float mn, float mx,
                                  float *lo, float *hi) {
    double total = hist_total(h), thi = p / 100.0 * total, tlo = (1.0 - p / 100.0) * total;
    double w = (double)h->range / NB, cum = 0, l, u, vlo = 0, vhi = 0;
    int s, got_lo = 0, got_hi = 0;
    for (s = 0; s <= 2 * NB; s++) {
        cum += seq_count(h, s);
        seq_edges(s, w, &l, &u);
        if (!got_lo && cum >= tlo) { vlo = l; got_lo = 1; }
        if (!got_hi && cum >= thi) { vhi = u; got_hi = 1; }
    }
    if (!got_hi) vhi = h->range;
    if (vlo < mn) vlo = mn;
    if (vhi > mx) vhi = mx;
    *lo = (float)vlo; *hi = (float)vhi;
}

/* ------------------------------------------------------------------------ */
/* reference MSE                                                            */
/* ------------------------------------------------------------------------ */
typedef struct { double c, n; } cbin;
static cbin g_cb[2 * NB + 1];
static int mse_collect(const quant_histogram *h, cbin *out) {
    double w = (double)h->range / NB;
    int k, m = 0;
    for (k = 0; k < NB; k++)
        if (h->bins[k] != 0) { out[m].c = -((NB - 1 - k) + 0.5) * w; out[m].n = h->bins[k]; m++; }
    if (h->zeros != 0) { out[m].c = 0; out[m].n = h->zeros; m++; }
    for (k = NB; k < 2 * NB; k++)
        if (h->bins[k] != 0) { out[m].c = ((k - NB) + 0.5) * w; out[m].n = h->bins[k]; m++; }
    return m;
}
static double mse_err(const cbin *b, int m, float lo, float hi, int32_t qmin, int32_t qmax,
                      quant_scheme sc) {
    quant_params p;
    double s, inv, zp, e = 0;
    int k;
    if (quant_params_from_range(lo, hi, qmin, qmax, sc, &p) != QUANT_OK) return HUGE_VAL;
    s = p.scale; inv = 1.0 / s; zp = p.zero_point;
    for (k = 0; k < m; k++) {
        double q = nearbyint(b[k].c * inv) + zp, d;
        if (q < qmin) q = qmin;
        if (q > qmax) q = qmax;
        d = (q - zp) * s - b[k].c;
        e += b[k].n * d * d;
    }
    return e;
}
static float ref_mse_sym_t(const quant_histogram *h, int32_t qmin, int32_t qmax) {
    int m = mse_collect(h, g_cb), k, best = 1;
    double w = (double)h->range / NB, be = HUGE_VAL;
    for (k = 1; k <= NB; k++) {
        float t = (float)(k * w);
        double e = mse_err(g_cb, m, -t, t, qmin, qmax, QUANT_SYMMETRIC);
        if (e < be) { be = e; best = k; }
    }
    return (float)(best * w);
}
static void ref_mse_affine(const quant_histogram *h, int32_t qmin, int32_t qmax, float mn, float mx,
                           float *lo, float *hi, int *rounds_out) {
    int m = mse_collect(h, g_cb), k, i = 0, j = 0, round, rounds = 0;
    double w = (double)h->range / NB;
    for (k = 0; k < NB; k++) if (h->bins[k] != 0 && NB - k > i) i = NB - k;      /* (NB-1-k) + 1 */
    for (k = NB; k < 2 * NB; k++) if (h->bins[k] != 0 && k - NB + 1 > j) j = k - NB + 1;
    for (round = 0; round < 8; round++) {
        int nj = 0, ni = 0, c;
        double be = HUGE_VAL;
        float l = (float)(-(double)i * w);
        for (c = 0; c <= NB; c++) {
            double e = mse_err(g_cb, m, l, (float)(c * w), qmin, qmax, QUANT_AFFINE);
            if (e < be) { be = e; nj = c; }
        }
        be = HUGE_VAL;
        for (c = 0; c <= NB; c++) {
            double e = mse_err(g_cb, m, (float)(-(double)c * w), (float)(nj * w), qmin, qmax, QUANT_AFFINE);
            if (e < be) { be = e; ni = c; }
        }
        rounds++;
        if (ni == i && nj == j) break;
        i = ni; j = nj;
    }
    {
        double l = -(double)i * w, u = j * w;
        if (l < mn) l = mn;
        if (u > mx) u = mx;
        *lo = (float)l; *hi = (float)u;
    }
    if (rounds_out) *rounds_out = rounds;
}

/* ------------------------------------------------------------------------ */
/* reference ACIQ                                                           */
/* ------------------------------------------------------------------------ */
/* Minimizer of 2 b^2 e^{-a/b} + a^2 / (3 * 4^M) (b = 1): a e^a = 3 * 4^M. */
static double ref_aciq_laplace(int M) {
    double lo = 1e-9, hi = 200, K = log(3.0) + M * log(4.0);
    int it;
    for (it = 0; it < 200; it++) {
        double m = 0.5 * (lo + hi);
        if (m + log(m) < K) lo = m; else hi = m;
    }
    return 0.5 * (lo + hi);
}
/* Gaussian (sigma = 1): (a^2 + 1)(1 - erf(a / sqrt 2)) - sqrt(2/pi) a e^{-a^2/2}
 * + a^2 / (3 * 4^M); convex, root of the derivative by bisection. */
static double ref_aciq_gauss(int M) {
    double lo = 1e-9, hi = 200, q = 3.0 * pow(4.0, M);
    int it;
    for (it = 0; it < 200; it++) {
        double m = 0.5 * (lo + hi);
        double d = 2 * m * erfc(m / sqrt(2.0)) - 2 * sqrt(2.0 / 3.14159265358979323846) * exp(-m * m / 2)
                 + 2 * m / q;
        if (d < 0) lo = m; else hi = m;
    }
    return 0.5 * (lo + hi);
}
static double gauss_mse(double a, int M) {
    return (a * a + 1) * erfc(a / sqrt(2.0)) - sqrt(2.0 / 3.14159265358979323846) * a * exp(-a * a / 2)
         + a * a / (3.0 * pow(4.0, M));
}

/* ------------------------------------------------------------------------ */
/* per-kind reference ranges                                                */
/* ------------------------------------------------------------------------ */
/* Symmetric results: the header defines t; whether [-t, t] is then clipped
 * to [min, max] is stated for ACIQ only. Returns which form matched:
 * 0 [-t, t], 1 [max(-t, min), min(t, max)], 2 t capped at max(-min, max). */
static int sym_form(float lo, float hi, float t, float mn, float mx) {
    float a = mn < 0 ? -mn : mn, cap;
    if (mx > a) a = mx;
    if (lo == -t && hi == t) return 0;
    if (lo == (-t > mn ? -t : mn) && hi == (t < mx ? t : mx)) return 1;
    cap = t < a ? t : a;
    if (lo == -cap && hi == cap) return 2;
    return -1;
}
static const char *sym_form_name[3] = { "[-t, t] unclipped", "[-t, t] clipped to [min, max]",
                                        "t capped at max(|min|, |max|)" };

/* Checks quant_observer_range / quant_observer_params of `o` for one
 * (scheme, qmin, qmax) against the reference; `m` holds the moments of the
 * finite data the observer saw (for ACIQ and MinMax). */
static void check_range_vs_ref(const quant_observer *o, const moments *m, quant_scheme sc,
                               int32_t qmin, int32_t qmax, const char *what) {
    float lo = 12345.f, hi = 12345.f, elo = 0, ehi = 0, t = 0;
    int sym_t = 0;
    quant_status st = quant_observer_range(o, sc, qmin, qmax, &lo, &hi);
    const char *sn = sc == QUANT_SYMMETRIC ? "sym" : "affine";
    /* the header: affine ranges are clipped to the data extended to include 0 */
    const float mnz = o->min < 0 ? o->min : 0.0f, mxz = o->max > 0 ? o->max : 0.0f;
    CHECKF(st == QUANT_OK, "%s %s [%d,%d]: status %d", what, sn, (int)qmin, (int)qmax, (int)st);
    if (st != QUANT_OK) return;
    switch (o->kind) {
    case QUANT_OBS_MINMAX: case QUANT_OBS_MOVING_AVERAGE: case QUANT_OBS_HISTOGRAM:
        elo = o->min; ehi = o->max;
        break;
    case QUANT_OBS_KL: {
        static double dist[NB];
        int best;
        fold_normalise(o->hist.bins, dist);
        best = ref_kl_best(dist, NB, 128, KLV, NULL);
        t = (float)((best + 0.5) * ((double)o->hist.range / NB));
        if (sc == QUANT_SYMMETRIC) { elo = -t; ehi = t; }
        else { elo = -t > mnz ? -t : mnz; ehi = t < mxz ? t : mxz; }
        if (!(feq(lo, elo) && feq(hi, ehi))) {
            /* the library's own index: a near tie passes, anything else is reported there */
            int gb = quant_kl_threshold_bins(dist, NB, 128);
            float gt = (float)((gb + 0.5) * ((double)o->hist.range / NB));
            float glo = sc == QUANT_SYMMETRIC ? -gt : (-gt > mnz ? -gt : mnz);
            float ghi = sc == QUANT_SYMMETRIC ? gt : (gt < mxz ? gt : mxz);
            if (gb != best && feq(lo, glo) && feq(hi, ghi)) {
                char w2[128];
                snprintf(w2, sizeof w2, "%s (observer range, %s)", what, sc == QUANT_SYMMETRIC ? "sym" : "affine");
                check_kl_index(dist, NB, 128, gb, w2);
                goto params;
            }
        }
        break;
    }
    case QUANT_OBS_PERCENTILE:
        if (sc == QUANT_SYMMETRIC) { t = ref_percentile_sym_t(&o->hist, o->percentile); sym_t = 1; }
        else ref_percentile_affine(&o->hist, o->percentile, mnz, mxz, &elo, &ehi);
        break;
    case QUANT_OBS_MSE:
        if (sc == QUANT_SYMMETRIC) { t = ref_mse_sym_t(&o->hist, qmin, qmax); sym_t = 1; }
        else ref_mse_affine(&o->hist, qmin, qmax, mnz, mxz, &elo, &ehi, NULL);
        break;
    case QUANT_OBS_ACIQ: {
        double mu = m->sum / m->n, var = m->sumsq / m->n - mu * mu, b, alpha;
        if (var < 0) var = 0;
        b = o->aciq_laplace ? sqrt(var / 2) : sqrt(var);
        alpha = quant_aciq_alpha(o->aciq_bits, o->aciq_laplace) * b;
        if (sc == QUANT_SYMMETRIC) {
            double tt = fabs(mu) + alpha, cap = -(double)m->mn > m->mx ? -(double)m->mn : m->mx;
            if (tt > cap) tt = cap;
            elo = (float)-tt; ehi = (float)tt;
        } else {
            double l = mu - alpha, u = mu + alpha;
            if (l < mnz) l = mnz;
            if (u > mxz) u = mxz;
            elo = (float)l; ehi = (float)u;
        }
        CHECKF(rel_close(lo, elo, 2e-6) && rel_close(hi, ehi, 2e-6),
               "%s ACIQ %s bits %d %s: expected [%.9g, %.9g], got [%.9g, %.9g]", what, sn,
               o->aciq_bits, o->aciq_laplace ? "laplace" : "gauss", elo, ehi, lo, hi);
        goto params;
    }
    }
    if (sym_t) {
        int f = sym_form(lo, hi, t, o->min, o->max);
        /* the header: symmetric t is capped at max(-min, max) */
        {
            float a = o->min < 0 ? -o->min : o->min, cap;
            if (o->max > a) a = o->max;
            cap = t < a ? t : a;
            CHECKF(feq(lo, -cap) && feq(hi, cap), "%s %s [%d,%d]: expected +-%.9g (t %.9g capped), got [%.9g, %.9g]",
                   what, sn, (int)qmin, (int)qmax, cap, t, lo, hi);
        }
        CHECKF(f >= 0, "%s %s [%d,%d]: expected t = %.9g (data [%.9g, %.9g]), got [%.9g, %.9g]",
               what, sn, (int)qmin, (int)qmax, t, o->min, o->max, lo, hi);
        if (f >= 0) {
            /* which of the readings agree with the library, when they differ */
            int mask = 0, k;
            for (k = 0; k < 3; k++) {
                float a = o->min < 0 ? -o->min : o->min, cap, l2, h2;
                if (o->max > a) a = o->max;
                cap = t < a ? t : a;
                l2 = k == 0 ? -t : k == 1 ? (-t > o->min ? -t : o->min) : -cap;
                h2 = k == 0 ? t : k == 1 ? (t < o->max ? t : o->max) : cap;
                if (feq(lo, l2) && feq(hi, h2)) mask |= 1 << k;
            }
            if ((mask & 5) != 5)
                note("kind %d symmetric with t = %.6g > max(|min|, |max|) = %.6g: library follows only '%s'",
                     (int)o->kind, t, (double)(-o->min > o->max ? -o->min : o->max),
                     sym_form_name[mask & 1 ? 0 : mask & 4 ? 2 : 1]);
            if (!(mask & 2))
                note("kind %d symmetric: the library does not clip [-t, t] to [min, max]", (int)o->kind);
        }
    } else {
        CHECKF(elo <= ehi && lo <= hi, "%s kind %d %s: inverted range", what, (int)o->kind, sn);
        CHECKF(feq(lo, elo) && feq(hi, ehi),
               "%s kind %d %s [%d,%d]: expected [%.9g, %.9g], got [%.9g, %.9g]", what, (int)o->kind,
               sn, (int)qmin, (int)qmax, elo, ehi, lo, hi);
    }
params: {
        quant_params p, e;
        quant_status s1 = quant_observer_params(o, qmin, qmax, sc, &p);
        quant_status s2 = quant_params_from_range(lo, hi, qmin, qmax, sc, &e);
        CHECKF(s1 == s2 && (s1 != QUANT_OK || (bits_eq(p.scale, e.scale) && p.zero_point == e.zero_point
                                               && p.qmin == qmin && p.qmax == qmax)),
               "%s kind %d: observer_params (%d: %g, %d) != params_from_range(range) (%d: %g, %d)",
               what, (int)o->kind, (int)s1, p.scale, (int)p.zero_point, (int)s2, e.scale, (int)e.zero_point);
    }
}

/* ------------------------------------------------------------------------ */
/* tests: init, MinMax                                                      */
/* ------------------------------------------------------------------------ */
static void test_init_defaults(void) {
    int k;
    for (k = QUANT_OBS_MINMAX; k <= QUANT_OBS_ACIQ; k++) {
        static quant_observer o;
        int i, nz = 0;
        memset(&o, 0x5a, sizeof o);
        CHECK(quant_observer_init(&o, (quant_observer_kind)k) == QUANT_OK);
        CHECK(o.kind == (quant_observer_kind)k);
        CHECKF(o.min == INFINITY && o.max == -INFINITY, "kind %d: min %g max %g", k, o.min, o.max);
        { /* through float variables: with x87 (i686) a float constant may carry excess precision */
            volatile float c001 = 0.01f, c9999 = 99.99f;
            CHECK(o.averaging_constant == c001);
            CHECK(o.percentile == c9999);
        }
        CHECK(o.aciq_bits == 8 && o.aciq_laplace == 1);
        CHECK(o.n_seen == 0 && o.n_nonfinite == 0);
        CHECK(o.sum == 0 && o.sum_abs == 0 && o.sum_sq == 0);
        for (i = 0; i < 2 * NB; i++) nz += o.hist.bins[i] != 0;
        CHECK(nz == 0 && o.hist.zeros == 0 && o.hist.range == 0);
    }
    {
        static quant_histogram h;
        int i, nz = 0;
        memset(&h, 0x5a, sizeof h);
        quant_histogram_init(&h);
        for (i = 0; i < 2 * NB; i++) nz += h.bins[i] != 0;
        CHECK(nz == 0 && h.zeros == 0 && h.range == 0);
    }
}

static void test_minmax(void) {
    static float x[5000];
    static quant_observer o;
    moments m;
    int b;
    moments_init(&m);
    CHECK(quant_observer_init(&o, QUANT_OBS_MINMAX) == QUANT_OK);
    qt_seed_ = 11;
    for (b = 0; b < 12; b++) {
        size_t n = 1 + qt_rand32() % 5000, i;
        for (i = 0; i < n; i++) {
            unsigned r = qt_rand32() % 100;
            x[i] = (float)(qt_normal() * (1 + b));
            if (r == 0) x[i] = NAN;
            else if (r == 1) x[i] = INFINITY;
            else if (r == 2) x[i] = -INFINITY;
            else if (r == 3) x[i] = -0.0f;
        }
        CHECK(quant_observer_update(&o, x, n) == QUANT_OK);
        moments_add(&m, x, n);
        CHECKF(bits_eq(o.min, m.mn) && bits_eq(o.max, m.mx), "batch %d: [%g, %g] vs [%g, %g]", b,
               o.min, o.max, m.mn, m.mx);
        CHECK(o.n_seen == (uint64_t)m.n && o.n_nonfinite == (uint64_t)m.nonfinite);
    }
    check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, "minmax");
    check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, "minmax");
    check_range_vs_ref(&o, &m, QUANT_AFFINE, 0, 255, "minmax");
}


/* ------------------------------------------------------------------------ */
/* tests: histogram                                                         */
/* ------------------------------------------------------------------------ */
#define N_BIG 100003
static float g_x[N_BIG + 64];
static rhist g_rh;

static void test_histogram_single_batch(void) {
    int d;
    for (d = 0; d < D_COUNT; d++) {
        static quant_observer o;
        static quant_histogram h;
        float a;
        int bad;
        gen_data(d, g_x, N_BIG, 1000 + d);
        a = absmax_of(g_x, N_BIG);
        CHECK(quant_observer_init(&o, QUANT_OBS_HISTOGRAM) == QUANT_OK);
        CHECK(quant_observer_update(&o, g_x, N_BIG) == QUANT_OK);
        CHECKF(o.hist.range == a, "%s: range after one batch %.9g, absmax %.9g", dist_name[d], o.hist.range, a);
        memset(&g_rh, 0, sizeof g_rh);
        rhist_add(&g_rh, o.hist.range, g_x, N_BIG);
        bad = hist_diff(&o.hist, &g_rh, 1);
        CHECKF(bad == 0, "%s: %d bins differ from the reference at range %.9g", dist_name[d], bad, o.hist.range);
        CHECKF(o.hist.zeros == g_rh.zeros, "%s: zeros %.0f vs %.0f", dist_name[d], o.hist.zeros, g_rh.zeros);
        CHECK(o.n_seen == N_BIG && o.n_nonfinite == 0);
        CHECK(hist_total(&o.hist) == (double)N_BIG);
        /* the primitive on its own gives the same histogram */
        quant_histogram_init(&h);
        quant_histogram_add(&h, g_x, N_BIG);
        CHECK(h.range == o.hist.range && h.zeros == o.hist.zeros);
        CHECK(memcmp(h.bins, o.hist.bins, sizeof h.bins) == 0);
        /* every histogram kind keeps the same histogram */
        {
            int k;
            for (k = QUANT_OBS_KL; k <= QUANT_OBS_ACIQ; k++) {
                static quant_observer o2;
                quant_observer_init(&o2, (quant_observer_kind)k);
                quant_observer_update(&o2, g_x, N_BIG);
                CHECKF(o2.hist.range == o.hist.range && memcmp(o2.hist.bins, o.hist.bins, sizeof h.bins) == 0,
                       "kind %d keeps a different histogram", k);
            }
        }
    }
}

/* Grow the histogram with batches of increasing magnitude; the grown
 * histogram must equal one built directly at the final range. */
static void growth_case(const char *name, const float *const *batches, const size_t *ns, int nb) {
    static quant_observer o;
    static float all[4 * 20000];
    size_t tot = 0;
    int b, bad;
    float r0 = 0, rexp, amax = 0;
    CHECK(quant_observer_init(&o, QUANT_OBS_HISTOGRAM) == QUANT_OK);
    for (b = 0; b < nb; b++) {
        float a = absmax_of(batches[b], ns[b]);
        CHECK(quant_observer_update(&o, batches[b], ns[b]) == QUANT_OK);
        memcpy(all + tot, batches[b], ns[b] * sizeof(float));
        tot += ns[b];
        if (r0 == 0) r0 = a;
        if (a > amax) amax = a;
    }
    rexp = r0;
    while (rexp < amax) rexp *= 2.0f;
    CHECKF(o.hist.range == rexp, "%s: final range %.9g, expected first absmax %.9g doubled to cover %.9g = %.9g",
           name, o.hist.range, r0, amax, rexp);
    memset(&g_rh, 0, sizeof g_rh);
    rhist_add(&g_rh, o.hist.range, all, tot);
    CHECK(o.hist.zeros == g_rh.zeros);
    CHECK(hist_total(&o.hist) == (double)tot);
    bad = hist_diff(&o.hist, &g_rh, 1);
    CHECKF(bad == 0, "%s: grown histogram differs from the direct one at range %.9g in %d bins "
           "(first batch absmax %.9g sits at |x| bin %d of the final range directly; its index at its own "
           "range %.9g was (float) %.9g -> clamped to %d)", name, o.hist.range, bad, r0,
           ref_bin_index(r0, o.hist.range), r0, (double)(r0 * ((float)NB / r0)), ref_bin_index(r0, r0));
}

static void test_histogram_growth(void) {
    static float b0[20000], b1[20000], b2[20000], b3[20000];
    const float *bs[4] = { b0, b1, b2, b3 };
    size_t ns[4] = { 20000, 20000, 20000, 20000 };
    size_t i;
    int s;
    for (s = 0; s < 3; s++) {
        char name[64];
        qt_seed_ = 77 + s;
        for (i = 0; i < 20000; i++) {
            b0[i] = (float)qt_normal();
            b1[i] = (float)(qt_normal() * 3.3);
            b2[i] = (float)(qt_normal() * 10.7 + 2);
            b3[i] = (float)(qt_normal() * 45.1);
        }
        snprintf(name, sizeof name, "growth normal seed %d", s);
        growth_case(name, bs, ns, 4);
    }
    /* a first batch whose absmax is NOT clamped into the last bin (a *
     * (2048 / a) < 2048 in float): isolates the merge from the clamp */
    {
        float a = 1.0f;
        int tries = 0;
        qt_seed_ = 4242;
        do { a = (float)(1.0 + qt_uniform()); tries++; } while (!(a * ((float)NB / a) < (float)NB) && tries < 100000);
        CHECK(tries < 100000);
        for (i = 0; i < 20000; i++) {
            b0[i] = (float)(qt_uniform() * 2 - 1) * a * 0.999f;
            b1[i] = (float)(qt_normal() * 2.5);
            b2[i] = (float)(qt_normal() * 9.0);
        }
        b0[7] = a; b0[8] = -a * 0.5f;
        growth_case("growth, unclamped first max", bs, ns, 3);
    }
    /* growth inside one batch: the maximum comes last, values rise */
    {
        static quant_observer o;
        float a;
        int bad;
        for (i = 0; i < 20000; i++) b0[i] = (float)((double)(i + 1) * 0.001 * (i % 2 ? -1 : 1));
        a = absmax_of(b0, 20000);
        quant_observer_init(&o, QUANT_OBS_HISTOGRAM);
        quant_observer_update(&o, b0, 20000);
        CHECKF(o.hist.range == a, "rising batch: range %.9g, absmax %.9g", o.hist.range, a);
        memset(&g_rh, 0, sizeof g_rh);
        rhist_add(&g_rh, o.hist.range, b0, 20000);
        bad = hist_diff(&o.hist, &g_rh, 1);
        CHECKF(bad == 0, "rising batch: %d bins differ", bad);
    }
}

static void test_histogram_nonfinite(void) {
    static quant_observer o, c;
    static float x[3000], clean[3000];
    size_t i, nc = 0, nnf = 0;
    int b;
    quant_observer_init(&o, QUANT_OBS_HISTOGRAM);
    quant_observer_init(&c, QUANT_OBS_HISTOGRAM);
    /* a first batch of only NaN / Inf sets nothing */
    x[0] = NAN; x[1] = INFINITY; x[2] = -INFINITY; x[3] = -NAN;
    CHECK(quant_observer_update(&o, x, 4) == QUANT_OK);
    nnf += 4;
    CHECK(o.n_seen == 0 && o.n_nonfinite == 4);
    CHECK(o.hist.range == 0 && o.min == INFINITY && o.max == -INFINITY && hist_total(&o.hist) == 0);
    qt_seed_ = 99;
    for (b = 0; b < 4; b++) {
        nc = 0;
        for (i = 0; i < 3000; i++) {
            unsigned r = qt_rand32() % 10;
            float v = (float)(qt_normal() * (1 + 3 * b));
            if (r == 0) { x[i] = NAN; nnf++; }
            else if (r == 1) { x[i] = (i & 1) ? INFINITY : -INFINITY; nnf++; }
            else if (r == 2) { x[i] = (i & 1) ? 0.0f : -0.0f; clean[nc++] = x[i]; }
            else { x[i] = v; clean[nc++] = v; }
        }
        CHECK(quant_observer_update(&o, x, 3000) == QUANT_OK);
        CHECK(quant_observer_update(&c, clean, nc) == QUANT_OK);
        CHECKF(o.n_seen == c.n_seen && o.n_nonfinite == nnf, "batch %d: n_seen %llu/%llu nonfinite %llu/%llu",
               b, (unsigned long long)o.n_seen, (unsigned long long)c.n_seen,
               (unsigned long long)o.n_nonfinite, (unsigned long long)nnf);
        CHECK(bits_eq(o.min, c.min) && bits_eq(o.max, c.max));
        CHECK(o.hist.range == c.hist.range && o.hist.zeros == c.hist.zeros);
        CHECK(memcmp(o.hist.bins, c.hist.bins, sizeof o.hist.bins) == 0);
    }
    /* a later all-non-finite batch changes only n_nonfinite */
    {
        static quant_observer before;
        before = o;
        for (i = 0; i < 100; i++) x[i] = i % 3 == 0 ? NAN : i % 3 == 1 ? INFINITY : -INFINITY;
        CHECK(quant_observer_update(&o, x, 100) == QUANT_OK);
        CHECK(o.n_nonfinite == before.n_nonfinite + 100);
        o.n_nonfinite = before.n_nonfinite;
        CHECK(memcmp(&o, &before, sizeof o) == 0);
    }
}

/* ------------------------------------------------------------------------ */
/* tests: KL                                                                */
/* ------------------------------------------------------------------------ */
static void test_kl_threshold_bins(void) {
    static double dist[NB], d2[NB];
    int d;
    for (d = 0; d < D_COUNT; d++) {
        float a;
        int got, v1, v0;
        char what[96];
        gen_data(d, g_x, N_BIG, 2000 + d);
        a = absmax_of(g_x, N_BIG);
        /* ncnn: |x| histogram over [0, absmax], zeros skipped */
        memset(&g_rh, 0, sizeof g_rh);
        rhist_add(&g_rh, a, g_x, N_BIG);
        fold_normalise(g_rh.bins, dist);
        got = quant_kl_threshold_bins(dist, NB, 128);
        snprintf(what, sizeof what, "kl_threshold_bins %s", dist_name[d]);
        check_kl_index(dist, NB, 128, got, what);
        if (d == 0) { /* Q built from P instead: KL == 0 at i == target, always */
            double k0;
            v0 = ref_kl_best(dist, NB, 128, 0, &k0);
            v1 = ref_kl_best(dist, NB, 128, 1, NULL);
            CHECK(v0 == 128 && k0 == 0);
            note("Q-from-P reading is degenerate (bin %d, KL %g); ncnn/TensorRT (Q from the raw bins) gives %d, "
                 "library %d", v0, k0, v1, got);
        }
        /* smaller histograms and other targets */
        {
            int nb2, i;
            for (nb2 = 512; nb2 <= 1024; nb2 *= 2) {
                int tg = nb2 == 512 ? 64 : 128;
                for (i = 0; i < nb2; i++) d2[i] = 0;
                for (i = 0; i < NB; i++) d2[i * nb2 / NB] += dist[i];
                got = quant_kl_threshold_bins(d2, nb2, tg);
                snprintf(what, sizeof what, "kl_threshold_bins %s nbins %d target %d", dist_name[d], nb2, tg);
                check_kl_index(d2, nb2, tg, got, what);
            }
        }
    }
    /* sparse histograms: many empty bins (quantized-looking data), tail mass
     * landing on an empty bin i-1 */
    {
        int s, i;
        for (s = 0; s < 4; s++) {
            int got;
            char what[64];
            double tot = 0;
            qt_seed_ = 31 + s;
            for (i = 0; i < NB; i++) dist[i] = 0;
            for (i = 0; i < 3000; i++) {
                int k = (int)(fabs(qt_normal()) * (200 + 200 * s));
                k = (k / (3 + s)) * (3 + s);
                if (k >= NB) k = NB - 1;
                dist[k] += 1;
            }
            for (i = 0; i < NB; i++) tot += dist[i];
            for (i = 0; i < NB; i++) dist[i] /= tot;
            got = quant_kl_threshold_bins(dist, NB, 128);
            snprintf(what, sizeof what, "kl_threshold_bins sparse %d", s);
            check_kl_index(dist, NB, 128, got, what);
        }
    }
}

static void test_kl_observer(void) {
    int d;
    for (d = 0; d < D_COUNT; d++) {
        static quant_observer o;
        static double dist[NB];
        moments m;
        float a;
        char what[64];
        gen_data(d, g_x, N_BIG, 3000 + d);
        a = absmax_of(g_x, N_BIG);
        moments_init(&m);
        moments_add(&m, g_x, N_BIG);
        quant_observer_init(&o, QUANT_OBS_KL);
        quant_observer_update(&o, g_x, N_BIG);
        /* one batch: the observer's histogram is ncnn's */
        memset(&g_rh, 0, sizeof g_rh);
        rhist_add(&g_rh, a, g_x, N_BIG);
        CHECKF(o.hist.range == a && memcmp(o.hist.bins, g_rh.bins, sizeof g_rh.bins) == 0,
               "%s: KL histogram is not ncnn's (range %.9g vs absmax %.9g)", dist_name[d], o.hist.range, a);
        snprintf(what, sizeof what, "kl %s", dist_name[d]);
        check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, what);
        check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, what);
        check_range_vs_ref(&o, &m, QUANT_AFFINE, 0, 255, what);
        /* and the ncnn threshold itself, from the data directly */
        {
            float lo, hi, t;
            int best;
            fold_normalise(g_rh.bins, dist);
            best = ref_kl_best(dist, NB, 128, KLV, NULL);
            t = (float)((best + 0.5) * ((double)a / NB));
            quant_observer_range(&o, QUANT_SYMMETRIC, -128, 127, &lo, &hi);
            if (hi != t) {
                int gb = quant_kl_threshold_bins(dist, NB, 128);
                CHECKF(hi == (float)((gb + 0.5) * ((double)a / NB)) &&
                       rel_close(ref_kl_at(dist, NB, 128, gb, KLV), ref_kl_at(dist, NB, 128, best, KLV), 1e-9),
                       "%s: ncnn threshold %.9g (bin %d), observer %.9g", dist_name[d], t, best, hi);
            }
        }
        /* several growing batches: the reference works on the grown histogram */
        {
            size_t i;
            for (i = 0; i < 30000; i++) g_x[i] *= 0.25f;
            for (i = 60000; i < N_BIG; i++) g_x[i] *= 3.0f;
            quant_observer_init(&o, QUANT_OBS_KL);
            moments_init(&m);
            quant_observer_update(&o, g_x, 30000);
            quant_observer_update(&o, g_x + 30000, 30000);
            quant_observer_update(&o, g_x + 60000, N_BIG - 60000);
            moments_add(&m, g_x, N_BIG);
            snprintf(what, sizeof what, "kl grown %s", dist_name[d]);
            check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, what);
            check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, what);
        }
    }
}

/* ------------------------------------------------------------------------ */
/* tests: percentile, MSE, ACIQ                                             */
/* ------------------------------------------------------------------------ */
static void test_percentile(void) {
    static const float ps[4] = { 99.99f, 99.0f, 99.9f, 100.0f };
    int d, k;
    for (d = 0; d < D_COUNT; d++) {
        static quant_observer o;
        moments m;
        char what[64];
        gen_data(d, g_x, N_BIG, 4000 + d);
        moments_init(&m);
        moments_add(&m, g_x, N_BIG);
        quant_observer_init(&o, QUANT_OBS_PERCENTILE);
        quant_observer_update(&o, g_x, N_BIG);
        for (k = 0; k < 4; k++) {
            if (k > 0) o.percentile = ps[k];
            CHECK(o.percentile == ps[k]);
            snprintf(what, sizeof what, "percentile %s p=%g", dist_name[d], ps[k]);
            check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, what);
            check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, what);
            check_range_vs_ref(&o, &m, QUANT_AFFINE, 0, 255, what);
        }
        /* grown histogram */
        {
            size_t i;
            for (i = 50000; i < N_BIG; i++) g_x[i] *= 5.0f;
            quant_observer_init(&o, QUANT_OBS_PERCENTILE);
            quant_observer_update(&o, g_x, 50000);
            quant_observer_update(&o, g_x + 50000, N_BIG - 50000);
            moments_init(&m);
            moments_add(&m, g_x, N_BIG);
            for (k = 0; k < 4; k += 3) {
                o.percentile = ps[k];
                snprintf(what, sizeof what, "percentile grown %s p=%g", dist_name[d], ps[k]);
                check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, what);
                check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, what);
            }
        }
    }
}

/* The zero mass alone reaches p: the header's symmetric rule gives the first
 * |x| bin, t = w (cumulative count with the zeros first >= target at i = 0). */
static void test_percentile_zero_mass(void) {
    static quant_observer o;
    moments m;
    size_t i;
    for (i = 0; i < N_BIG; i++) g_x[i] = 0.0f;
    g_x[10] = 2.0f; g_x[20] = -1.5f; g_x[30] = 0.25f; g_x[40] = 1.0f; g_x[50] = -0.125f;
    moments_init(&m);
    moments_add(&m, g_x, N_BIG);
    quant_observer_init(&o, QUANT_OBS_PERCENTILE);
    quant_observer_update(&o, g_x, N_BIG);
    check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, "percentile 99.995% zeros");
    check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, "percentile 99.995% zeros");
    o.percentile = 99.0f;
    check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, "percentile p=99 99.995% zeros");
    check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, "percentile p=99 99.995% zeros");
}

#define N_MSE 30011
static void test_mse(void) {
    static const int32_t qr[3][2] = { { -128, 127 }, { 0, 255 }, { -8, 7 } };
    int d, q, s;
    for (d = 0; d < D_COUNT; d++) {
        static quant_observer o;
        moments m;
        char what[64];
        gen_data(d, g_x, N_MSE, 5000 + d);
        moments_init(&m);
        moments_add(&m, g_x, N_MSE);
        quant_observer_init(&o, QUANT_OBS_MSE);
        quant_observer_update(&o, g_x, N_MSE);
        for (q = 0; q < 3; q++) {
            for (s = 0; s < 2; s++) {
                quant_scheme sc = s ? QUANT_SYMMETRIC : QUANT_AFFINE;
                float lo, hi;
                if (q == 1 && sc == QUANT_SYMMETRIC && d != D_RELU) continue; /* time */
                snprintf(what, sizeof what, "mse %s", dist_name[d]);
                check_range_vs_ref(&o, &m, sc, qr[q][0], qr[q][1], what);
                if (quant_observer_range(&o, sc, qr[q][0], qr[q][1], &lo, &hi) == QUANT_OK) {
                    int nbk = mse_collect(&o.hist, g_cb);
                    double e = mse_err(g_cb, nbk, lo, hi, qr[q][0], qr[q][1], sc);
                    double emm = mse_err(g_cb, nbk, m.mn, m.mx, qr[q][0], qr[q][1], sc);
                    CHECKF(e <= emm * (1 + 1e-12), "%s %s [%d,%d]: error of chosen [%g, %g] = %.9g > MinMax error %.9g",
                           what, s ? "sym" : "affine", (int)qr[q][0], (int)qr[q][1], lo, hi, e, emm);
                }
            }
        }
    }
}

static void test_aciq_alpha(void) {
    static const double lap[7] = { 2.83, 3.89, 5.03, 6.20, 7.41, 8.64, 9.89 };
    static const double gau[7] = { 1.71, 2.15, 2.55, 2.94, 3.29, 3.61, 3.92 };
    int b;
    double maxd_l = 0, maxd_g = 0;
    for (b = 2; b <= 8; b++) {
        double l = quant_aciq_alpha(b, 1), g = quant_aciq_alpha(b, 0);
        CHECKF(fabs(l - lap[b - 2]) <= 0.015, "Laplace %d bits: %.6f vs paper %.2f", b, l, lap[b - 2]);
        CHECKF(fabs(g - gau[b - 2]) <= 0.015, "Gaussian %d bits: %.6f vs paper %.2f", b, g, gau[b - 2]);
    }
    for (b = 1; b <= 16; b++) {
        double l = quant_aciq_alpha(b, 1), g = quant_aciq_alpha(b, 0);
        double rl = ref_aciq_laplace(b), rg = ref_aciq_gauss(b);
        if (fabs(l - rl) > maxd_l) maxd_l = fabs(l - rl);
        if (fabs(g - rg) > maxd_g) maxd_g = fabs(g - rg);
        CHECKF(fabs(l - rl) <= 1e-6 * rl, "Laplace %d bits: %.12f vs minimizer %.12f", b, l, rl);
        CHECKF(fabs(g - rg) <= 1e-6 * rg, "Gaussian %d bits: %.12f vs minimizer %.12f", b, g, rg);
        /* the Gaussian value is a minimum of the analytic MSE */
        CHECK(gauss_mse(g, b) <= gauss_mse(rg, b) * (1 + 1e-9));
    }
    if (maxd_l > 1e-9 || maxd_g > 1e-9)
        note("aciq_alpha max |diff| vs exact minimizer: laplace %.3g, gauss %.3g", maxd_l, maxd_g);
}

static void test_aciq_observer(void) {
    static const int bits[3] = { 8, 4, 2 };
    int d, b, l;
    for (d = 0; d < D_COUNT; d++) {
        static quant_observer o;
        moments m;
        char what[64];
        gen_data(d, g_x, N_BIG, 6000 + d);
        moments_init(&m);
        quant_observer_init(&o, QUANT_OBS_ACIQ);
        quant_observer_update(&o, g_x, 40000);
        quant_observer_update(&o, g_x + 40000, N_BIG - 40000);
        moments_add(&m, g_x, N_BIG);
        CHECKF(rel_close(o.sum, m.sum, 1e-12) && rel_close(o.sum_sq, m.sumsq, 1e-12),
               "%s: moments %.17g %.17g vs %.17g %.17g", dist_name[d], o.sum, o.sum_sq, m.sum, m.sumsq);
        for (b = 0; b < 3; b++) {
            for (l = 1; l >= 0; l--) {
                o.aciq_bits = bits[b];
                o.aciq_laplace = l;
                snprintf(what, sizeof what, "aciq %s", dist_name[d]);
                check_range_vs_ref(&o, &m, QUANT_SYMMETRIC, -128, 127, what);
                check_range_vs_ref(&o, &m, QUANT_AFFINE, -128, 127, what);
            }
        }
    }
}

/* ------------------------------------------------------------------------ */
/* tests: moving average and per channel                                    */
/* ------------------------------------------------------------------------ */
/* PyTorch MovingAverageMinMaxObserver in float32, each operation rounded. */
static void ref_ma_step(float *v, float b, float c) {
    volatile float d = b - *v;
    volatile float m = c * d;
    volatile float r = *v + m;
    *v = r;
}
static void ref_ma_update(float *mn, float *mx, int *init, float c, const float *x, size_t n) {
    float bmn = INFINITY, bmx = -INFINITY;
    size_t i;
    int any = 0;
    for (i = 0; i < n; i++) {
        if (!isfinite(x[i])) continue;
        any = 1;
        if (x[i] < bmn) bmn = x[i];
        if (x[i] > bmx) bmx = x[i];
    }
    if (!any) return;
    if (!*init) { *mn = bmn; *mx = bmx; *init = 1; return; }
    ref_ma_step(mn, bmn, c);
    ref_ma_step(mx, bmx, c);
}

static void test_moving_average(void) {
    static float x[4000];
    int run;
    for (run = 0; run < 3; run++) {
        static quant_observer o;
        float c = run == 0 ? 0.01f : run == 1 ? 0.3f : 0.77f;
        float mn = INFINITY, mx = -INFINITY;
        int init = 0, b, fails = 0;
        moments m;
        quant_observer_init(&o, QUANT_OBS_MOVING_AVERAGE);
        if (run) o.averaging_constant = c;
        moments_init(&m);
        qt_seed_ = 500 + run;
        for (b = 0; b < 40; b++) {
            size_t n = 1 + qt_rand32() % 4000, i;
            double sc = 0.1 + 10 * qt_uniform(), off = 4 * qt_normal();
            for (i = 0; i < n; i++) {
                x[i] = (float)(off + sc * qt_normal());
                if (qt_rand32() % 50 == 0) x[i] = (i & 1) ? NAN : -INFINITY;
            }
            if (b == 7) for (i = 0; i < n; i++) x[i] = NAN;  /* all-NaN batch: skipped */
            CHECK(quant_observer_update(&o, x, n) == QUANT_OK);
            ref_ma_update(&mn, &mx, &init, c, x, n);
            moments_add(&m, x, n);
            if (!(bits_eq(o.min, mn) && bits_eq(o.max, mx))) {
                if (fails++ < 3)
                    CHECKF(0, "c=%g batch %d: expected [%.9g, %.9g] (%08x %08x), got [%.9g, %.9g]", c, b, mn, mx,
                           fbits(mn), fbits(mx), o.min, o.max);
                mn = o.min; mx = o.max; /* resync to keep checking the step */
            }
        }
        CHECK(o.n_seen == (uint64_t)m.n && o.n_nonfinite == (uint64_t)m.nonfinite);
        {
            float lo, hi;
            CHECK(quant_observer_range(&o, QUANT_AFFINE, -128, 127, &lo, &hi) == QUANT_OK);
            CHECK(bits_eq(lo, o.min) && bits_eq(hi, o.max));
        }
    }
}

static size_t shape_total(const size_t *shape, int ndim) {
    size_t t = 1; int i;
    for (i = 0; i < ndim; i++) t *= shape[i];
    return t;
}
static void ref_pc_batch(const float *x, const size_t *shape, int ndim, int axis, float *bmn, float *bmx) {
    size_t inner = 1, total = shape_total(shape, ndim), i, C = shape[axis];
    int k;
    for (k = axis + 1; k < ndim; k++) inner *= shape[k];
    for (i = 0; i < C; i++) { bmn[i] = INFINITY; bmx[i] = -INFINITY; }
    for (i = 0; i < total; i++) {
        size_t c = (i / inner) % C;
        if (!isfinite(x[i])) continue;
        if (x[i] < bmn[c]) bmn[c] = x[i];
        if (x[i] > bmx[c]) bmx[c] = x[i];
    }
}

static void test_per_channel(void) {
    static const size_t shapes[3][4] = { { 7, 5, 0, 0 }, { 4, 3, 6, 0 }, { 2, 3, 4, 5 } };
    static const int ndims[3] = { 2, 3, 4 };
    static float x[4000], mins[16], maxs[16], rmn[16], rmx[16], bmn[16], bmx[16];
    int si, ai, mv;
    for (si = 0; si < 3; si++) {
        int nd = ndims[si];
        int axes[3];
        axes[0] = 0; axes[1] = 1; axes[2] = nd - 1;
        for (ai = 0; ai < 3; ai++) {
            int axis = axes[ai];
            if (ai == 2 && axis == 1) continue;
            for (mv = 0; mv < 2; mv++) {
                quant_observer_pc o;
                size_t C = shapes[si][axis], shape[4], c;
                int b, init = 0;
                uint64_t nnf = 0;
                float cst = 0.1f;
                CHECK(quant_observer_pc_init(&o, mins, maxs, C, mv) == QUANT_OK);
                CHECK(o.channels == C && o.moving == mv && o.initialised == 0);
                CHECKF(o.averaging_constant == qt_f001(), "pc default averaging constant %g", o.averaging_constant);
                if (mv) o.averaging_constant = cst;
                for (c = 0; c < C; c++) { rmn[c] = INFINITY; rmx[c] = -INFINITY; }
                qt_seed_ = 900 + si * 10 + ai * 2 + mv;
                for (b = 0; b < 8; b++) {
                    size_t i, total;
                    int k;
                    for (k = 0; k < nd; k++) shape[k] = shapes[si][k];
                    /* vary the extent of a non-channel axis */
                    shape[axis == 0 ? nd - 1 : 0] += (size_t)(b % 3);
                    total = shape_total(shape, nd);
                    for (i = 0; i < total; i++) {
                        x[i] = (float)(qt_normal() * (1 + b) + 0.5 * (double)(i % 7));
                        if (qt_rand32() % 40 == 0) { x[i] = (i & 1) ? NAN : INFINITY; nnf++; }
                    }
                    CHECK(quant_observer_pc_update(&o, x, shape, nd, axis) == QUANT_OK);
                    ref_pc_batch(x, shape, nd, axis, bmn, bmx);
                    for (c = 0; c < C; c++) {
                        if (!mv) {
                            if (bmn[c] < rmn[c]) rmn[c] = bmn[c];
                            if (bmx[c] > rmx[c]) rmx[c] = bmx[c];
                        } else if (!init) {
                            rmn[c] = bmn[c]; rmx[c] = bmx[c];
                        } else {
                            ref_ma_step(&rmn[c], bmn[c], cst);
                            ref_ma_step(&rmx[c], bmx[c], cst);
                        }
                    }
                    init = 1;
                    for (c = 0; c < C; c++)
                        CHECKF(bits_eq(mins[c], rmn[c]) && bits_eq(maxs[c], rmx[c]),
                               "ndim %d axis %d %s batch %d ch %u: expected [%.9g, %.9g], got [%.9g, %.9g]",
                               nd, axis, mv ? "moving" : "minmax", b, (unsigned)c, rmn[c], rmx[c], mins[c], maxs[c]);
                }
                CHECKF(o.n_nonfinite == nnf, "pc n_nonfinite %llu vs %llu",
                       (unsigned long long)o.n_nonfinite, (unsigned long long)nnf);
                {
                    float sc[16], esc[16];
                    int32_t zp[16], ezp[16];
                    int s;
                    for (s = 0; s < 2; s++) {
                        quant_scheme sch = s ? QUANT_SYMMETRIC : QUANT_AFFINE;
                        CHECK(quant_observer_pc_params(&o, -128, 127, sch, sc, zp) == QUANT_OK);
                        CHECK(quant_params_per_channel(rmn, rmx, C, -128, 127, sch, esc, ezp) == QUANT_OK);
                        CHECK(memcmp(sc, esc, C * sizeof(float)) == 0 && memcmp(zp, ezp, C * sizeof(int32_t)) == 0);
                    }
                }
            }
        }
    }
}

/* A channel with no finite value in the first batch is set by its first
 * finite batch (not averaged from +-Inf). */
static void test_per_channel_late_channel(void) {
    quant_observer_pc o;
    float mins[3], maxs[3], x[6];
    size_t shape[2] = { 2, 3 };
    x[0] = 1; x[1] = NAN; x[2] = -1;
    x[3] = 2; x[4] = INFINITY; x[5] = -2;
    CHECK(quant_observer_pc_init(&o, mins, maxs, 3, 1) == QUANT_OK);
    CHECK(quant_observer_pc_update(&o, x, shape, 2, 1) == QUANT_OK);
    CHECK(mins[0] == 1 && maxs[0] == 2 && mins[2] == -2 && maxs[2] == -1);
    CHECKF(mins[1] == INFINITY && maxs[1] == -INFINITY, "empty channel: [%g, %g]", mins[1], maxs[1]);
    x[0] = 0; x[1] = 5; x[2] = 0; x[3] = 0; x[4] = 7; x[5] = 0;
    CHECK(quant_observer_pc_update(&o, x, shape, 2, 1) == QUANT_OK);
    CHECKF(mins[1] == 5 && maxs[1] == 7, "late channel: [%g, %g], expected [5, 7]", mins[1], maxs[1]);
    {
        float m0 = 1, M0 = 2;
        ref_ma_step(&m0, 0, 0.01f);
        ref_ma_step(&M0, 0, 0.01f);
        CHECK(bits_eq(mins[0], m0) && bits_eq(maxs[0], M0));
    }
    CHECK(o.n_nonfinite == 2);
}

/* ------------------------------------------------------------------------ */
/* tests: edge cases                                                        */
/* ------------------------------------------------------------------------ */
static void test_empty_observer(void) {
    int k;
    for (k = QUANT_OBS_MINMAX; k <= QUANT_OBS_ACIQ; k++) {
        static quant_observer o;
        int s, q;
        quant_observer_init(&o, (quant_observer_kind)k);
        for (s = 0; s < 2; s++) {
            quant_scheme sc = s ? QUANT_SYMMETRIC : QUANT_AFFINE;
            float lo = 777.f, hi = 888.f;
            quant_status st = quant_observer_range(&o, sc, -128, 127, &lo, &hi);
            CHECKF(st == QUANT_EEMPTY || st == QUANT_OK, "kind %d: range of an empty observer: status %d", k, (int)st);
            if (st == QUANT_EEMPTY) CHECKF(lo == 777.f && hi == 888.f, "kind %d: EEMPTY but outputs written", k);
            else note("kind %d: range of an empty observer returns OK with [%g, %g]", k, lo, hi);
            for (q = 0; q < 2; q++) {
                quant_params p;
                int32_t qmin = q ? 0 : -128, qmax = q ? 255 : 127;
                memset(&p, 0x7b, sizeof p);
                st = quant_observer_params(&o, qmin, qmax, sc, &p);
                if (st == QUANT_EEMPTY) {
                    quant_params u;
                    memset(&u, 0x7b, sizeof u);
                    CHECKF(memcmp(&p, &u, sizeof p) == 0, "kind %d: params EEMPTY but outputs written", k);
                    note("empty observer: params -> QUANT_EEMPTY (outputs untouched)");
                } else {
                    CHECKF(st == QUANT_OK && p.scale == 1.0f && p.zero_point == 0,
                           "kind %d %s [%d,%d]: params of an empty observer: status %d scale %g zp %d", k,
                           s ? "sym" : "affine", (int)qmin, (int)qmax, (int)st, p.scale, (int)p.zero_point);
                    note("empty observer: params -> OK, scale %g zp %d ([%d,%d])", p.scale, (int)p.zero_point,
                         (int)qmin, (int)qmax);
                }
            }
        }
    }
}

static void test_n0_and_all_nan(void) {
    int k;
    static float x[64];
    size_t i;
    for (i = 0; i < 64; i++) x[i] = (float)i - 20.5f;
    for (k = QUANT_OBS_MINMAX; k <= QUANT_OBS_ACIQ; k++) {
        static quant_observer o, before;
        quant_status st;
        quant_observer_init(&o, (quant_observer_kind)k);
        before = o;
        CHECK(quant_observer_update(&o, x, 0) == QUANT_OK);
        CHECK(memcmp(&o, &before, sizeof o) == 0);
        st = quant_observer_update(&o, NULL, 0);
        CHECKF(st == QUANT_OK || st == QUANT_EINVAL, "update(NULL, 0): %d", (int)st);
        if (st == QUANT_EINVAL) note("update(o, NULL, 0) returns EINVAL");
        CHECK(memcmp(&o, &before, sizeof o) == 0);
        /* all-NaN on an empty observer */
        {
            static float nan8[8];
            for (i = 0; i < 8; i++) nan8[i] = NAN;
            CHECK(quant_observer_update(&o, nan8, 8) == QUANT_OK);
            CHECK(o.n_nonfinite == 8 && o.n_seen == 0);
            o.n_nonfinite = 0;
            CHECKF(memcmp(&o, &before, sizeof o) == 0, "kind %d: all-NaN batch changed the state", k);
            /* on a non-empty one */
            quant_observer_update(&o, x, 64);
            CHECKF(o.min == -20.5f && o.max == 42.5f && o.n_seen == 64, "kind %d after NaN then data: [%g, %g]",
                   k, o.min, o.max);
            before = o;
            CHECK(quant_observer_update(&o, nan8, 8) == QUANT_OK);
            CHECK(o.n_nonfinite == before.n_nonfinite + 8);
            o.n_nonfinite = before.n_nonfinite;
            CHECKF(memcmp(&o, &before, sizeof o) == 0, "kind %d: all-NaN batch changed the state", k);
            CHECK(quant_observer_update(&o, x, 0) == QUANT_OK);
            CHECK(memcmp(&o, &before, sizeof o) == 0);
        }
    }
}

/* Every kind on a small special data set: the reference ranges, finite
 * lo <= hi, finite params. */
static void special_data(const char *name, const float *x, size_t n) {
    int k, s;
    moments m;
    moments_init(&m);
    moments_add(&m, x, n);
    for (k = QUANT_OBS_MINMAX; k <= QUANT_OBS_ACIQ; k++) {
        static quant_observer o;
        char what[80];
        snprintf(what, sizeof what, "%s", name);
        quant_observer_init(&o, (quant_observer_kind)k);
        CHECK(quant_observer_update(&o, x, n) == QUANT_OK);
        CHECK(feq(o.min, m.mn) && feq(o.max, m.mx));
        for (s = 0; s < 2; s++) {
            quant_scheme sc = s ? QUANT_SYMMETRIC : QUANT_AFFINE;
            float lo = NAN, hi = NAN;
            quant_params p;
            quant_status st = quant_observer_range(&o, sc, -128, 127, &lo, &hi);
            CHECKF(st == QUANT_OK && isfinite(lo) && isfinite(hi) && lo <= hi,
                   "%s kind %d %s: status %d range [%.9g, %.9g]", what, k, s ? "sym" : "affine", (int)st, lo, hi);
            st = quant_observer_params(&o, -128, 127, sc, &p);
            CHECKF(st == QUANT_OK && isfinite(p.scale) && p.scale > 0, "%s kind %d %s: params status %d scale %g",
                   what, k, s ? "sym" : "affine", (int)st, p.scale);
            if (k != QUANT_OBS_MINMAX && k != QUANT_OBS_MOVING_AVERAGE && k != QUANT_OBS_HISTOGRAM)
                check_range_vs_ref(&o, &m, sc, -128, 127, what);
            else
                CHECK(lo == m.mn && hi == m.mx);
        }
    }
}

static void test_special_data(void) {
    static float x[5000];
    size_t i;
    for (i = 0; i < 1000; i++) x[i] = 0.75f;
    special_data("constant 0.75", x, 1000);
    for (i = 0; i < 1000; i++) x[i] = 0.1f;
    special_data("constant 0.1", x, 1000);
    for (i = 0; i < 1000; i++) x[i] = -2.5f;
    special_data("constant -2.5", x, 1000);
    x[0] = 3.0f;
    special_data("single 3", x, 1);
    x[0] = -3.0f;
    special_data("single -3", x, 1);
    qt_seed_ = 321;
    for (i = 0; i < 5000; i++) x[i] = (float)(5.0 + qt_uniform());
    special_data("one-sided uniform [5, 6)", x, 5000);
    for (i = 0; i < 5000; i++) x[i] = (float)(5.0 + 0.05 * qt_uniform());
    special_data("narrow uniform [5, 5.05)", x, 5000);
    for (i = 0; i < 1000; i++) x[i] = (i & 1) ? 0.0f : -0.0f;
    special_data("all zeros", x, 1000);
    qt_seed_ = 123;
    for (i = 0; i < 5000; i++) x[i] = (float)(qt_normal() * 1e30);
    special_data("huge 1e30", x, 5000);
    for (i = 0; i < 5000; i++) x[i] = (float)(qt_normal() * 1e-30);
    special_data("tiny 1e-30", x, 5000);
    for (i = 0; i < 5000; i++) x[i] = (float)(qt_normal() * 1e-30);
    for (i = 0; i < 5000; i += 3) x[i] = 0;
    special_data("tiny 1e-30 with zeros", x, 5000);
}

/* Values the range doubling may not survive: near FLT_MAX (2^128 overflows)
 * and subnormals (QUANT_HIST_BINS / range overflows). Run in a child process
 * where fork exists so that a crash is reported, not fatal. */
static void extreme_body(void) {
    static const float big1[2] = { 1.0f, -0.5f }, big2[2] = { 3.0e38f, -1.0f };
    static const float sub1[3] = { 1e-40f, -3e-41f, 1.4e-45f }, sub2[1] = { 1.0f };
    int k, s;
    for (k = QUANT_OBS_HISTOGRAM; k <= QUANT_OBS_ACIQ; k++) {
        for (s = 0; s < 3; s++) {
            static quant_observer o;
            float lo = NAN, hi = NAN;
            quant_status st;
            const char *nm = s == 0 ? "1 then 3e38" : s == 1 ? "subnormals" : "subnormals then 1";
            quant_observer_init(&o, (quant_observer_kind)k);
            if (s == 0) { quant_observer_update(&o, big1, 2); quant_observer_update(&o, big2, 2); }
            else { quant_observer_update(&o, sub1, 3); if (s == 2) quant_observer_update(&o, sub2, 1); }
            CHECKF(hist_total(&o.hist) == (double)o.n_seen, "kind %d %s: histogram holds %.0f of %llu values"
                   " (range %g)", k, nm, hist_total(&o.hist), (unsigned long long)o.n_seen, o.hist.range);
            CHECKF(isfinite(o.hist.range), "kind %d %s: histogram range %g", k, nm, o.hist.range);
            if (k == QUANT_OBS_HISTOGRAM) {
                int bad;
                memset(&g_rh, 0, sizeof g_rh);
                if (s == 0) { rhist_add(&g_rh, o.hist.range, big1, 2); rhist_add(&g_rh, o.hist.range, big2, 2); }
                else { rhist_add(&g_rh, o.hist.range, sub1, 3); if (s == 2) rhist_add(&g_rh, o.hist.range, sub2, 1); }
                bad = hist_diff(&o.hist, &g_rh, 1);
                CHECKF(bad == 0, "%s: %d bins differ from the direct histogram at range %g", nm, bad, o.hist.range);
                if (s == 0 && o.hist.range < 3.0e38f)
                    note("1 then 3e38: histogram range stays %g < max %g (doubling stops below FLT_MAX; "
                         "3e38 is clamped into the top bin)", o.hist.range, 3.0e38);
            }
            st = quant_observer_range(&o, QUANT_AFFINE, -128, 127, &lo, &hi);
            CHECKF(st == QUANT_OK && isfinite(lo) && isfinite(hi) && lo <= hi,
                   "kind %d %s: status %d range [%g, %g]", k, nm, (int)st, lo, hi);
            st = quant_observer_range(&o, QUANT_SYMMETRIC, -128, 127, &lo, &hi);
            CHECKF(st == QUANT_OK && isfinite(lo) && isfinite(hi) && lo <= hi,
                   "kind %d %s sym: status %d range [%g, %g]", k, nm, (int)st, lo, hi);
        }
    }
}
static void test_extreme_values(void) {
#ifdef QT_HAVE_FORK
    pid_t pid;
    int status = 0;
    fflush(stdout); fflush(stderr);
    pid = fork();
    if (pid == 0) {
        extreme_body();
        fflush(stderr);
        _exit(qt_cur_fail ? 1 : 0);
    }
    CHECK(pid > 0);
    if (pid > 0) {
        waitpid(pid, &status, 0);
        CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "extreme values: child %s %d",
               WIFSIGNALED(status) ? "killed by signal" : "exit", WIFSIGNALED(status) ? WTERMSIG(status)
                                                                                       : WEXITSTATUS(status));
    }
#else
    extreme_body();
#endif
}

static void test_invalid_args(void) {
    static quant_observer o, copy, o2, u2;
    static float x[16], mins[4], maxs[4], cm[4], cM[4];
    quant_observer_pc pc, pcc;
    size_t shape[2] = { 4, 4 }, bad_shape[2] = { 4, 5 };
    float lo = 5.f, hi = 6.f;
    quant_params p, pu;
    int i, k;
    for (i = 0; i < 16; i++) x[i] = (float)i - 3;
    CHECK(quant_observer_init(NULL, QUANT_OBS_MINMAX) == QUANT_EINVAL);
    memset(&o2, 0x33, sizeof o2); u2 = o2;
    CHECK(quant_observer_init(&o2, (quant_observer_kind)99) == QUANT_EINVAL);
    CHECK(quant_observer_init(&o2, (quant_observer_kind)-1) == QUANT_EINVAL);
    CHECK(memcmp(&o2, &u2, sizeof o2) == 0);
    for (k = QUANT_OBS_MINMAX; k <= QUANT_OBS_ACIQ; k++) {
        quant_status st;
        quant_observer_init(&o, (quant_observer_kind)k);
        quant_observer_update(&o, x, 16);
        copy = o;
        CHECK(quant_observer_update(NULL, x, 3) == QUANT_EINVAL);
        CHECK(quant_observer_update(&o, NULL, 3) == QUANT_EINVAL);
        CHECK(memcmp(&o, &copy, sizeof o) == 0);
        CHECK(quant_observer_range(NULL, QUANT_AFFINE, -128, 127, &lo, &hi) == QUANT_EINVAL);
        CHECK(quant_observer_range(&o, QUANT_AFFINE, -128, 127, NULL, &hi) == QUANT_EINVAL);
        CHECK(quant_observer_range(&o, QUANT_AFFINE, -128, 127, &lo, NULL) == QUANT_EINVAL);
        CHECK(quant_observer_range(&o, (quant_scheme)7, -128, 127, &lo, &hi) == QUANT_EINVAL);
        CHECKF(lo == 5.f && hi == 6.f, "kind %d: outputs written on error", k);
        st = quant_observer_range(&o, QUANT_AFFINE, 127, -128, &lo, &hi);
        if (k == QUANT_OBS_MSE) CHECKF(st == QUANT_EINVAL, "MSE range with qmin > qmax: %d", (int)st);
        else if (st != QUANT_EINVAL) note("kind %d: observer_range ignores qmin >= qmax (status %d)", k, (int)st);
        if (st != QUANT_OK) CHECK(lo == 5.f && hi == 6.f);
        lo = 5.f; hi = 6.f;
        memset(&p, 0x44, sizeof p); pu = p;
        CHECK(quant_observer_params(NULL, -128, 127, QUANT_AFFINE, &p) == QUANT_EINVAL);
        CHECK(quant_observer_params(&o, -128, 127, QUANT_AFFINE, NULL) == QUANT_EINVAL);
        CHECK(quant_observer_params(&o, 5, 5, QUANT_AFFINE, &p) == QUANT_EINVAL);
        CHECK(quant_observer_params(&o, 127, -128, QUANT_SYMMETRIC, &p) == QUANT_EINVAL);
        CHECK(quant_observer_params(&o, -128, 127, (quant_scheme)9, &p) == QUANT_EINVAL);
        CHECK(memcmp(&p, &pu, sizeof p) == 0);
        /* a corrupted kind */
        copy = o;
        o.kind = (quant_observer_kind)42;
        CHECK(quant_observer_update(&o, x, 3) == QUANT_EINVAL);
        CHECK(quant_observer_range(&o, QUANT_AFFINE, -128, 127, &lo, &hi) == QUANT_EINVAL);
        CHECK(lo == 5.f && hi == 6.f);
    }
    /* per channel */
    CHECK(quant_observer_pc_init(NULL, mins, maxs, 4, 0) == QUANT_EINVAL);
    CHECK(quant_observer_pc_init(&pc, NULL, maxs, 4, 0) == QUANT_EINVAL);
    CHECK(quant_observer_pc_init(&pc, mins, NULL, 4, 0) == QUANT_EINVAL);
    {
        quant_status st = quant_observer_pc_init(&pc, mins, maxs, 0, 0);
        if (st != QUANT_EINVAL) note("pc_init with 0 channels returns %d (not EINVAL)", (int)st);
    }
    CHECK(quant_observer_pc_init(&pc, mins, maxs, 4, 0) == QUANT_OK);
    CHECK(quant_observer_pc_update(&pc, x, shape, 2, 1) == QUANT_OK);
    pcc = pc;
    memcpy(cm, mins, sizeof cm); memcpy(cM, maxs, sizeof cM);
    CHECK(quant_observer_pc_update(NULL, x, shape, 2, 1) == QUANT_EINVAL);
    CHECK(quant_observer_pc_update(&pc, NULL, shape, 2, 1) == QUANT_EINVAL);
    CHECK(quant_observer_pc_update(&pc, x, NULL, 2, 1) == QUANT_EINVAL);
    CHECK(quant_observer_pc_update(&pc, x, shape, 0, 0) == QUANT_EINVAL);
    CHECK(quant_observer_pc_update(&pc, x, shape, 2, 2) == QUANT_EINVAL);
    CHECK(quant_observer_pc_update(&pc, x, bad_shape, 2, 1) == QUANT_EINVAL);
    {
        quant_status st = quant_observer_pc_update(&pc, x, shape, 2, -1);
        if (st == QUANT_OK) note("pc_update accepts axis -1");
        else CHECK(st == QUANT_EINVAL);
        if (st != QUANT_OK) CHECK(memcmp(&pc, &pcc, sizeof pc) == 0);
    }
    CHECK(memcmp(cm, mins, sizeof cm) == 0 && memcmp(cM, maxs, sizeof cM) == 0);
    {
        float sc[4] = { 9, 9, 9, 9 };
        int32_t zp[4] = { 9, 9, 9, 9 };
        CHECK(quant_observer_pc_params(NULL, -128, 127, QUANT_AFFINE, sc, zp) == QUANT_EINVAL);
        CHECK(quant_observer_pc_params(&pc, -128, 127, QUANT_AFFINE, NULL, zp) == QUANT_EINVAL);
        CHECK(quant_observer_pc_params(&pc, -128, 127, QUANT_AFFINE, sc, NULL) == QUANT_EINVAL);
        CHECK(quant_observer_pc_params(&pc, 127, -128, QUANT_AFFINE, sc, zp) == QUANT_EINVAL);
        CHECK(sc[0] == 9 && zp[0] == 9 && sc[3] == 9 && zp[3] == 9);
    }
    /* out-of-range arguments of the primitives: report what they do */
    {
        double a0 = quant_aciq_alpha(0, 1), a17 = quant_aciq_alpha(17, 0);
        static double dist[256];
        int r;
        for (i = 0; i < 256; i++) dist[i] = 1.0 / 256;
        r = quant_kl_threshold_bins(dist, 100, 128);
        note("aciq_alpha(0, laplace) = %g, aciq_alpha(17, gauss) = %g; kl_threshold_bins(nbins 100 < target 128) = %d",
             a0, a17, r);
    }
}

int main(void) {
    RUN(test_init_defaults);
    RUN(test_minmax);
    RUN(test_histogram_single_batch);
    RUN(test_histogram_growth);
    RUN(test_histogram_nonfinite);
    RUN(test_kl_threshold_bins);
    RUN(test_kl_observer);
    RUN(test_percentile);
    RUN(test_percentile_zero_mass);
    RUN(test_mse);
    RUN(test_aciq_alpha);
    RUN(test_aciq_observer);
    RUN(test_moving_average);
    RUN(test_per_channel);
    RUN(test_per_channel_late_channel);
    RUN(test_empty_observer);
    RUN(test_n0_and_all_nan);
    RUN(test_special_data);
    RUN(test_extreme_values);
    RUN(test_invalid_args);
    return qt_summary();
}
