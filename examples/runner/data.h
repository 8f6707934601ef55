/* data.h - sample sets and labels for the runner: IDX of any rank and NumPy
 * .npy files, the formats PyTorch and NumPy users already have. Include
 * after runner.h. C99 and libc only (stat() where the system has it).
 *
 *   rn_data d;  rn_labels y;  char err[512];
 *   rn_data_load(&d, "x.npy", err, sizeof err)         samples: count x size values,
 *                                                      uint8 (d.u8) or float32 (d.f32)
 *   rn_data_layout(&d, H, W, C, RN_LAYOUT_AUTO, err, sizeof err)
 *                                                      fit the model's input, NCHW -> NHWC
 *   rn_labels_load(&y, "y.npy", err, sizeof err)       integer labels (y.y, int64)
 *   rn_data_set_input(&m, &d, first, n)                uint8 as value / 255, float32 as is
 *   rn_data_free(&d); rn_labels_free(&y);
 *
 * Formats (the first sample axis is the sample count; every byte hostile):
 *   IDX: magic 0 0 TYPE RANK, RANK (1..8) big-endian u32 dimensions, the
 *        values big-endian. TYPE 0x08 u8 (kept as u8), 0x09 i8, 0x0B i16,
 *        0x0C i32, 0x0D f32, 0x0E f64 (converted to float32; non-finite or
 *        out of float range refused).
 *   .npy v1.0 / v2.0 / v3.0: "\x93NUMPY", major, minor 0, a little-endian
 *        header length (u16 for v1, u32 after), the header: a Python dict
 *        literal with exactly 'descr', 'fortran_order' and 'shape'. descr
 *        '|u1' (kept), '<f4', '<f8', '|i1', '<i2', '<i4' (to float32),
 *        '<i8' (labels only); fortran_order False; shape a tuple of at most 8
 *        non-negative ints (at least one axis). The data after the header
 *        must be exactly the shape's bytes.
 *   labels: one axis of integers (IDX 0x08 / 0x09 / 0x0B / 0x0C, .npy
 *        u1 / i1 / i2 / i4 / i8); the caller checks them against its classes.
 * Sizes are overflow-checked against the bytes present, so a lying header
 * gets a message, never a huge allocation: a converted set takes at most 4
 * bytes per byte of the file. Errors: -1 and a message in err (the _load
 * functions name the file).
 */
#ifndef QUANT_RUNNER_DATA_H
#define QUANT_RUNNER_DATA_H

#include <float.h>
#if defined(__unix__) || defined(__APPLE__)
#include <sys/stat.h>
#define RN_DATA_HAVE_STAT 1
#endif

#define RN_DATA_MAX_RANK 8
enum { RN_DATA_U8 = 1, RN_DATA_F32 = 2 };
enum { RN_LAYOUT_AUTO = 0, RN_LAYOUT_NHWC = 1, RN_LAYOUT_NCHW = 2 };

typedef struct rn_data {
    size_t count, size;        /* samples; values per sample (the product of shape[1..rank)) */
    int type;                  /* RN_DATA_U8 or RN_DATA_F32 */
    const unsigned char *u8;   /* RN_DATA_U8: count x size bytes   */
    const float *f32;          /* RN_DATA_F32: count x size floats */
    int rank;                  /* the file's shape (shape[0] = count) */
    size_t shape[RN_DATA_MAX_RANK];
    int transposed;            /* set by rn_data_layout: NCHW samples were made NHWC */
    char kind[32];             /* "IDX u8", ".npy <f4", ... for messages */
    void *own[2];              /* freed by rn_data_free */
} rn_data;

typedef struct rn_labels { size_t count; int64_t *y; char kind[32]; } rn_labels;

RN_FN void rn_data_free(rn_data *d) { free(d->own[0]); free(d->own[1]); memset(d, 0, sizeof *d); }
RN_FN void rn_labels_free(rn_labels *l) { free(l->y); memset(l, 0, sizeof *l); }

/* "(a, b, c)" of shape[from..rank) into buf (at least 8 * 22 + 4 bytes) */
#define RN_SHAPE_CHARS (8 * 22 + 4)
RN_FN const char *rn_data_shape_str(const size_t *shape, int from, int rank, char *buf) {
    size_t n = 1;
    int d;
    buf[0] = '(';
    for (d = from; d < rank && d < RN_DATA_MAX_RANK; d++)
        n += (size_t)snprintf(buf + n, RN_SHAPE_CHARS - n, "%s%zu", d > from ? ", " : "", shape[d]);
    if (rank - from == 1) buf[n++] = ',';
    buf[n] = ')'; buf[n + 1] = 0;
    return buf;
}

/* the element count of a shape whose data must fit in `avail` bytes at
 * `esize` bytes each: 0 and *count set, or -1 (too large for the bytes) */
RN_FN int rn_data_count(const size_t *shape, int rank, size_t esize, size_t avail, size_t *count) {
    size_t c = 1, nz = 1;
    int i;
    for (i = 0; i < rank; i++) if (shape[i] == 0) c = 0;
    for (i = 0; i < rank; i++) { /* nonzero dims: bounded even when another is 0 */
        if (!shape[i]) continue;
        if (nz > RN_MAX_ELEMS / shape[i]) return -1;
        nz *= shape[i];
    }
    if (c) c = nz;
    if (c > avail / esize) return -1;
    *count = c;
    return 0;
}

/* element types: the file's code, bytes each, float or integer */
enum { RN_E_U8, RN_E_I8, RN_E_I16, RN_E_I32, RN_E_I64, RN_E_F32, RN_E_F64 };
static const size_t rn_e_size[] = { 1, 1, 2, 4, 8, 4, 8 };

/* value k of an array of element type e (big-endian if be) */
RN_FN uint64_t rn_data_raw(const unsigned char *p, size_t k, int e, int be) {
    size_t s = rn_e_size[e], i;
    uint64_t v = 0;
    p += k * s;
    for (i = 0; i < s; i++) v |= (uint64_t)p[be ? s - 1 - i : i] << (8 * i);
    return v;
}
RN_FN int64_t rn_data_int(const unsigned char *p, size_t k, int e, int be) {
    uint64_t v = rn_data_raw(p, k, e, be);
    switch (e) {
    case RN_E_U8: return (int64_t)v;
    case RN_E_I8: return (int64_t)(int8_t)(uint8_t)v;
    case RN_E_I16: return (int64_t)(int16_t)(uint16_t)v;
    case RN_E_I32: return (int64_t)(int32_t)(uint32_t)v;
    default: return (int64_t)v; /* two's complement on every target this builds on */
    }
}

/* the samples of a parsed array: u8 points into b, the other types become a
 * malloc'd float32 array (d->own[1]) */
RN_FN int rn_data_fill(rn_data *d, const unsigned char *p, size_t n, int e, int be, char *err, size_t errn) {
    size_t k;
    float *f;
    if (e == RN_E_I64) { snprintf(err, errn, "%s: 64-bit integers are read as labels only, not as samples", d->kind); return -1; }
    d->count = d->shape[0];
    if (rn_data_count(d->shape + 1, d->rank - 1, 1, (size_t)-1, &d->size)) { snprintf(err, errn, "%s: shape too large", d->kind); return -1; }
    if (e == RN_E_U8) { d->type = RN_DATA_U8; d->u8 = p; return 0; }
    f = (float *)malloc(n ? n * sizeof(float) : 1);
    if (!f) { snprintf(err, errn, "out of memory (%zu values)", n); return -1; }
    for (k = 0; k < n; k++) {
        float x;
        if (e == RN_E_F32) { uint32_t u = (uint32_t)rn_data_raw(p, k, e, be); memcpy(&x, &u, 4); }
        else if (e == RN_E_F64) {
            uint64_t u = rn_data_raw(p, k, e, be);
            double v;
            memcpy(&v, &u, 8);
            if (!(v >= -(double)FLT_MAX && v <= (double)FLT_MAX)) {
                free(f);
                snprintf(err, errn, "%s: value %zu (%g) is not a finite float32", d->kind, k, v);
                return -1;
            }
            x = (float)v;
        } else x = (float)rn_data_int(p, k, e, be);
        if (!isfinite(x)) { free(f); snprintf(err, errn, "%s: value %zu is not finite (NaN or infinite)", d->kind, k); return -1; }
        f[k] = x;
    }
    d->type = RN_DATA_F32; d->f32 = f; d->own[1] = f;
    return 0;
}

/* ---- IDX ---- */

/* shape, element type and data of an IDX image (any rank 1..8, the six types) */
RN_FN int rn_idx_any(const unsigned char *b, size_t n, int *rank, size_t *shape, int *e, const unsigned char **data, size_t *count,
        char *err, size_t errn) {
    size_t i, avail;
    char sh[RN_SHAPE_CHARS];
    if (!b || n < 4) { snprintf(err, errn, "IDX: %zu bytes is too short for the magic number", n); return -1; }
    if (b[0] || b[1]) { snprintf(err, errn, "not an IDX file (the magic number does not start with two zero bytes) nor a .npy file"); return -1; }
    switch (b[2]) {
    case 0x08: *e = RN_E_U8; break;
    case 0x09: *e = RN_E_I8; break;
    case 0x0B: *e = RN_E_I16; break;
    case 0x0C: *e = RN_E_I32; break;
    case 0x0D: *e = RN_E_F32; break;
    case 0x0E: *e = RN_E_F64; break;
    default: snprintf(err, errn, "IDX: unknown type 0x%02X (0x08 u8, 0x09 i8, 0x0B i16, 0x0C i32, 0x0D f32, 0x0E f64)", b[2]); return -1;
    }
    if (b[3] < 1 || b[3] > RN_DATA_MAX_RANK) { snprintf(err, errn, "IDX: %d dimensions (1 to %d supported)", b[3], RN_DATA_MAX_RANK); return -1; }
    *rank = b[3];
    if (n < 4 + 4 * (size_t)*rank) { snprintf(err, errn, "IDX: truncated: %zu bytes, the %d dimensions need %zu", n, *rank, 4 + 4 * (size_t)*rank); return -1; }
    for (i = 0; i < (size_t)*rank; i++)
        shape[i] = ((size_t)b[4 + 4 * i] << 24) | ((size_t)b[5 + 4 * i] << 16) | ((size_t)b[6 + 4 * i] << 8) | b[7 + 4 * i];
    avail = n - 4 - 4 * (size_t)*rank;
    if (rn_data_count(shape, *rank, rn_e_size[*e], avail, count) || *count * rn_e_size[*e] > avail) {
        snprintf(err, errn, "IDX: truncated: shape %s of %zu-byte values needs more than the %zu bytes of data present",
                 rn_data_shape_str(shape, 0, *rank, sh), rn_e_size[*e], avail);
        return -1;
    }
    if (*count * rn_e_size[*e] != avail) {
        snprintf(err, errn, "IDX: %zu bytes after the %zu of shape %s (a longer file than its header says)",
                 avail - *count * rn_e_size[*e], *count * rn_e_size[*e], rn_data_shape_str(shape, 0, *rank, sh));
        return -1;
    }
    *data = b + 4 + 4 * (size_t)*rank;
    return 0;
}

/* ---- .npy ---- */

typedef struct { const char *p, *end; } rn_npy_rd;

RN_FN void rn_npy_ws(rn_npy_rd *r) { while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++; }

/* a quoted string (' or ", no escapes, at most 31 bytes) into out */
RN_FN int rn_npy_str(rn_npy_rd *r, char *out, size_t outn) {
    char q;
    size_t k = 0;
    if (r->p >= r->end || (*r->p != '\'' && *r->p != '"')) return -1;
    q = *r->p++;
    while (r->p < r->end && *r->p != q) {
        if (*r->p == '\\' || (unsigned char)*r->p < 0x20 || (unsigned char)*r->p >= 0x7f || k + 1 >= outn) return -1;
        out[k++] = *r->p++;
    }
    if (r->p >= r->end) return -1;
    r->p++;
    out[k] = 0;
    return 0;
}

/* Parses the header dict; sets the element type, rank and shape. */
RN_FN int rn_npy_header(const char *h, size_t hn, int *e, int *rank, size_t *shape, char *err, size_t errn) {
    static const struct { const char *descr; int e; } types[] = {
        { "|u1", RN_E_U8 }, { "|i1", RN_E_I8 }, { "<i2", RN_E_I16 }, { "<i4", RN_E_I32 }, { "<i8", RN_E_I64 },
        { "<f4", RN_E_F32 }, { "<f8", RN_E_F64 } };
    rn_npy_rd r;
    int seen = 0, i;
    char key[32], val[32];
    r.p = h; r.end = h + hn;
    rn_npy_ws(&r);
    if (r.p >= r.end || *r.p != '{') { snprintf(err, errn, ".npy: the header is not a dict"); return -1; }
    r.p++;
    for (;;) {
        int k;
        rn_npy_ws(&r);
        if (r.p < r.end && *r.p == '}') break;
        if (rn_npy_str(&r, key, sizeof key)) { snprintf(err, errn, ".npy: the header dict's keys must be short quoted strings"); return -1; }
        k = !strcmp(key, "descr") ? 1 : !strcmp(key, "fortran_order") ? 2 : !strcmp(key, "shape") ? 4 : 0;
        if (!k) { snprintf(err, errn, ".npy: unknown header key '%s' (only 'descr', 'fortran_order', 'shape')", key); return -1; }
        if (seen & k) { snprintf(err, errn, ".npy: header key '%s' given twice", key); return -1; }
        seen |= k;
        rn_npy_ws(&r);
        if (r.p >= r.end || *r.p != ':') { snprintf(err, errn, ".npy: no ':' after '%s' in the header", key); return -1; }
        r.p++;
        rn_npy_ws(&r);
        if (k == 1) {
            if (rn_npy_str(&r, val, sizeof val)) { snprintf(err, errn, ".npy: 'descr' must be a short quoted string (structured dtypes are not supported)"); return -1; }
            for (i = 0; i < (int)(sizeof types / sizeof *types); i++) if (!strcmp(val, types[i].descr)) break;
            if (i == (int)(sizeof types / sizeof *types)) {
                snprintf(err, errn, ".npy: descr '%s' is not supported ('|u1', '<f4', '<f8', '|i1', '<i2', '<i4'; '<i8' for labels)", val);
                return -1;
            }
            *e = types[i].e;
        } else if (k == 2) {
            if ((size_t)(r.end - r.p) >= 5 && !memcmp(r.p, "False", 5)) r.p += 5;
            else if ((size_t)(r.end - r.p) >= 4 && !memcmp(r.p, "True", 4)) {
                snprintf(err, errn, ".npy: fortran_order is True (a column-major array): save np.ascontiguousarray(a) instead");
                return -1;
            } else { snprintf(err, errn, ".npy: fortran_order must be False"); return -1; }
        } else {
            int nd = 0, comma = 0;
            if (r.p >= r.end || *r.p != '(') { snprintf(err, errn, ".npy: 'shape' must be a tuple"); return -1; }
            r.p++;
            for (;;) {
                size_t v = 0;
                rn_npy_ws(&r);
                if (r.p < r.end && *r.p == ')') break;
                if (nd && !comma) { snprintf(err, errn, ".npy: 'shape': no ',' between numbers"); return -1; }
                if (r.p >= r.end || *r.p < '0' || *r.p > '9') { snprintf(err, errn, ".npy: 'shape' must hold non-negative integers"); return -1; }
                if (*r.p == '0' && r.p + 1 < r.end && r.p[1] >= '0' && r.p[1] <= '9') { snprintf(err, errn, ".npy: 'shape': a number with a leading zero"); return -1; }
                while (r.p < r.end && *r.p >= '0' && *r.p <= '9') {
                    if (v > (RN_MAX_ELEMS - (size_t)(*r.p - '0')) / 10) { snprintf(err, errn, ".npy: 'shape': a dimension above %zu", RN_MAX_ELEMS); return -1; }
                    v = v * 10 + (size_t)(*r.p++ - '0');
                }
                if (r.p < r.end && *r.p == 'L') r.p++; /* Python 2's long literal, as NumPy reads it */
                if (nd == RN_DATA_MAX_RANK) { snprintf(err, errn, ".npy: more than %d axes", RN_DATA_MAX_RANK); return -1; }
                shape[nd++] = v;
                rn_npy_ws(&r);
                comma = r.p < r.end && *r.p == ',';
                if (comma) r.p++;
            }
            r.p++;
            if (nd == 1 && !comma) { snprintf(err, errn, ".npy: 'shape' (n) is not a tuple: write (n,)"); return -1; }
            if (nd == 0) { snprintf(err, errn, ".npy: shape () is a single value: samples need a first axis"); return -1; }
            *rank = nd;
        }
        rn_npy_ws(&r);
        if (r.p < r.end && *r.p == ',') { r.p++; continue; }
        rn_npy_ws(&r);
        if (r.p < r.end && *r.p == '}') break;
        snprintf(err, errn, ".npy: the header dict is malformed after '%s'", key);
        return -1;
    }
    r.p++;
    rn_npy_ws(&r);
    if (r.p != r.end) { snprintf(err, errn, ".npy: bytes after the header dict"); return -1; }
    if (seen != 7) {
        snprintf(err, errn, ".npy: the header has no '%s'", !(seen & 1) ? "descr" : !(seen & 2) ? "fortran_order" : "shape");
        return -1;
    }
    return 0;
}

RN_FN int rn_npy_any(const unsigned char *b, size_t n, int *rank, size_t *shape, int *e, const unsigned char **data, size_t *count,
        char *err, size_t errn) {
    size_t hl, h0, avail;
    char sh[RN_SHAPE_CHARS];
    if (n < 10) { snprintf(err, errn, ".npy: truncated: %zu bytes", n); return -1; }
    if (b[6] < 1 || b[6] > 3 || b[7] != 0) { snprintf(err, errn, ".npy: version %d.%d (1.0, 2.0 and 3.0 supported)", b[6], b[7]); return -1; }
    if (b[6] == 1) { hl = (size_t)b[8] | (size_t)b[9] << 8; h0 = 10; }
    else {
        if (n < 12) { snprintf(err, errn, ".npy: truncated: %zu bytes", n); return -1; }
        hl = (size_t)b[8] | (size_t)b[9] << 8 | (size_t)b[10] << 16 | (size_t)b[11] << 24; h0 = 12;
    }
    if (hl > n - h0) { snprintf(err, errn, ".npy: truncated: a header of %zu bytes, %zu present", hl, n - h0); return -1; }
    if (rn_npy_header((const char *)b + h0, hl, e, rank, shape, err, errn)) return -1;
    avail = n - h0 - hl;
    if (rn_data_count(shape, *rank, rn_e_size[*e], avail, count) || *count * rn_e_size[*e] > avail) {
        snprintf(err, errn, ".npy: truncated: shape %s of %zu-byte values needs more than the %zu bytes of data present",
                 rn_data_shape_str(shape, 0, *rank, sh), rn_e_size[*e], avail);
        return -1;
    }
    if (*count * rn_e_size[*e] != avail) {
        snprintf(err, errn, ".npy: %zu bytes after the %zu of shape %s (a longer file than its header says)",
                 avail - *count * rn_e_size[*e], *count * rn_e_size[*e], rn_data_shape_str(shape, 0, *rank, sh));
        return -1;
    }
    *data = b + h0 + hl;
    return 0;
}

static const char *const rn_e_idx_name[] = { "u8", "i8", "i16", "i32", "i64", "f32", "f64" };
static const char *const rn_e_npy_name[] = { "|u1", "|i1", "<i2", "<i4", "<i8", "<f4", "<f8" };

/* either format: 1 .npy, 0 IDX, -1 error */
RN_FN int rn_data_any(const unsigned char *b, size_t n, int *rank, size_t *shape, int *e, const unsigned char **data, size_t *count,
        char *kind, char *err, size_t errn) {
    if (b && n >= 6 && !memcmp(b, "\x93NUMPY", 6)) {
        if (rn_npy_any(b, n, rank, shape, e, data, count, err, errn)) return -1;
        snprintf(kind, 32, ".npy %s", rn_e_npy_name[*e]);
        return 1;
    }
    if (rn_idx_any(b, n, rank, shape, e, data, count, err, errn)) return -1;
    snprintf(kind, 32, "IDX %s", rn_e_idx_name[*e]);
    return 0;
}

/* Samples from an IDX or .npy image in memory (b must outlive d when the
 * samples are uint8: d->u8 points into it). */
RN_FN int rn_data_parse(rn_data *d, const unsigned char *b, size_t n, char *err, size_t errn) {
    const unsigned char *p;
    size_t count;
    int e;
    memset(d, 0, sizeof *d);
    if (rn_data_any(b, n, &d->rank, d->shape, &e, &p, &count, d->kind, err, errn) < 0 ||
        rn_data_fill(d, p, count, e, d->kind[0] == 'I', err, errn)) { rn_data_free(d); return -1; }
    return 0;
}

/* Labels (one axis of integers) from an IDX or .npy image in memory. */
RN_FN int rn_labels_parse(rn_labels *l, const unsigned char *b, size_t n, char *err, size_t errn) {
    const unsigned char *p;
    size_t count, shape[RN_DATA_MAX_RANK], k;
    int e, rank, npy;
    char sh[RN_SHAPE_CHARS];
    memset(l, 0, sizeof *l);
    if ((npy = rn_data_any(b, n, &rank, shape, &e, &p, &count, l->kind, err, errn)) < 0) return -1;
    if (e == RN_E_F32 || e == RN_E_F64) { snprintf(err, errn, "%s: labels must be integers, not floats", l->kind); return -1; }
    if (rank != 1) { snprintf(err, errn, "%s: labels must be one axis, not shape %s", l->kind, rn_data_shape_str(shape, 0, rank, sh)); return -1; }
    l->y = (int64_t *)malloc(count ? count * sizeof(int64_t) : 1);
    if (!l->y) { snprintf(err, errn, "out of memory (%zu labels)", count); return -1; }
    for (k = 0; k < count; k++) l->y[k] = rn_data_int(p, k, e, !npy);
    l->count = count;
    return 0;
}

/* a whole regular file (a directory or a device refused by name) */
RN_FN int rn_data_read(const char *path, unsigned char **b, size_t *n, char *err, size_t errn) {
#ifdef RN_DATA_HAVE_STAT
    struct stat st;
    if (stat(path, &st) != 0) { snprintf(err, errn, "cannot open %.300s: %s", path, strerror(errno)); return -1; }
    if (S_ISDIR(st.st_mode)) { snprintf(err, errn, "%.300s is a directory", path); return -1; }
    if (!S_ISREG(st.st_mode)) { snprintf(err, errn, "%.300s is not a regular file", path); return -1; }
#endif
    return rn_read_file(path, (size_t)1 << 30, b, n, err, errn);
}

/* prefixes err with the path */
RN_FN void rn_data_name(const char *path, char *err, size_t errn) {
    size_t pl = strlen(path), el = strlen(err);
    if (pl > 300) pl = 300;
    if (errn < pl + 3) return;
    if (el > errn - pl - 3) el = errn - pl - 3;
    memmove(err + pl + 2, err, el);
    err[pl + 2 + el] = 0;
    memcpy(err, path, pl); err[pl] = ':'; err[pl + 1] = ' ';
}

RN_FN int rn_data_load(rn_data *d, const char *path, char *err, size_t errn) {
    unsigned char *b;
    size_t n;
    memset(d, 0, sizeof *d);
    if (rn_data_read(path, &b, &n, err, errn)) return -1;
    if (rn_data_parse(d, b, n, err, errn)) { free(b); rn_data_name(path, err, errn); return -1; }
    if (d->type == RN_DATA_U8) d->own[0] = b; else free(b);
    return 0;
}

RN_FN int rn_labels_load(rn_labels *l, const char *path, char *err, size_t errn) {
    unsigned char *b;
    size_t n;
    int r;
    memset(l, 0, sizeof *l);
    if (rn_data_read(path, &b, &n, err, errn)) return -1;
    r = rn_labels_parse(l, b, n, err, errn);
    free(b);
    if (r) rn_data_name(path, err, errn);
    return r;
}

/* ---- layout ---- */

/* 1 if t[0..r) is (a, b, c) with neighbours multiplied together: (a, b, c),
 * (a*b, c), (a, b*c) or (a*b*c) */
RN_FN int rn_data_merge(const size_t *t, int r, size_t a, size_t b, size_t c) {
    if (r == 3) return t[0] == a && t[1] == b && t[2] == c;
    if (r == 2) return (t[0] == a * b && t[1] == c) || (t[0] == a && t[1] == b * c);
    if (r == 1) return t[0] == a * b * c;
    return r == 0 && a * b * c == 1;
}

/* src: n samples of (c, h, w) values of esize bytes; dst: (h, w, c) */
RN_FN void rn_data_nchw_to_nhwc(const void *src, void *dst, size_t n, size_t h, size_t w, size_t c, size_t esize) {
    const unsigned char *s = (const unsigned char *)src;
    unsigned char *o = (unsigned char *)dst;
    size_t i, y, x, k, sz = h * w * c;
    for (i = 0; i < n; i++)
        for (k = 0; k < c; k++)
            for (y = 0; y < h; y++)
                for (x = 0; x < w; x++)
                    memcpy(o + (i * sz + (y * w + x) * c + k) * esize, s + (i * sz + (k * h + y) * w + x) * esize, esize);
}

/* Fits the samples to a model input of (h, w, c) values, NHWC:
 *   RN_LAYOUT_NHWC: any sample shape of h*w*c values, taken as it is;
 *   RN_LAYOUT_NCHW: a sample shape (c, h, w) (or neighbours merged: (c*h, w),
 *                   (c, h*w), flat), transposed to (h, w, c);
 *   RN_LAYOUT_AUTO: (h, w, c) as is, (c, h, w) transposed, a flat one as is,
 *                   two axes (IDX images) as is unless they are only a
 *                   merged (c, h, w); a shape that fits both differently, or
 *                   neither of three or more axes, is refused naming --layout. */
RN_FN int rn_data_layout(rn_data *d, size_t h, size_t w, size_t c, int layout, char *err, size_t errn) {
    const size_t *t = d->shape + 1;
    const int r = d->rank - 1;
    char sh[RN_SHAPE_CHARS];
    int hwc, chw, tr;
    const int same = c <= 1 || h * w <= 1; /* the transpose changes nothing */
    void *o;
    if (d->size != h * w * c) {
        snprintf(err, errn, "samples of shape %s hold %zu values each; the model's input (H, W, C) = (%zu, %zu, %zu) has %zu",
                 rn_data_shape_str(d->shape, 1, d->rank, sh), d->size, h, w, c, h * w * c);
        return -1;
    }
    hwc = rn_data_merge(t, r, h, w, c);
    chw = rn_data_merge(t, r, c, h, w);
    if (layout == RN_LAYOUT_NHWC) tr = 0;
    else if (layout == RN_LAYOUT_NCHW) {
        if (!chw) {
            snprintf(err, errn, "--layout nchw: samples of shape %s are not (C, H, W) = (%zu, %zu, %zu)",
                     rn_data_shape_str(d->shape, 1, d->rank, sh), c, h, w);
            return -1;
        }
        tr = !same;
    } else if (r <= 1) tr = 0;                 /* flat */
    else if (r == 2) tr = !hwc && chw && !same; /* IDX images (N, H, W): as they are */
    else if (hwc && chw && !same) {
        snprintf(err, errn, "samples of shape %s fit both (H, W, C) and (C, H, W): choose with --layout nhwc or --layout nchw",
                 rn_data_shape_str(d->shape, 1, d->rank, sh));
        return -1;
    } else if (hwc || chw) tr = !hwc && !same;
    else {
        snprintf(err, errn, "samples of shape %s are neither (H, W, C) = (%zu, %zu, %zu) nor (C, H, W) = (%zu, %zu, %zu): "
                 "--layout nhwc takes their values as they are", rn_data_shape_str(d->shape, 1, d->rank, sh), h, w, c, c, h, w);
        return -1;
    }
    if (!tr || !d->count) return 0;
    o = malloc(d->count * d->size * (d->type == RN_DATA_U8 ? 1 : sizeof(float)));
    if (!o) { snprintf(err, errn, "out of memory (transposing %zu samples)", d->count); return -1; }
    if (d->type == RN_DATA_U8) { rn_data_nchw_to_nhwc(d->u8, o, d->count, h, w, c, 1); d->u8 = (const unsigned char *)o; }
    else { rn_data_nchw_to_nhwc(d->f32, o, d->count, h, w, c, sizeof(float)); d->f32 = (const float *)o; }
    free(d->own[1]); d->own[1] = o; /* the float copy, if any, is replaced; a u8 file buffer stays in own[0] */
    d->transposed = 1;
    return 0;
}

/* the first n samples of d as a view (owning nothing; d must outlive it) */
RN_FN rn_data rn_data_head(const rn_data *d, size_t n) {
    rn_data v = *d;
    v.own[0] = v.own[1] = NULL;
    if (n < v.count) v.count = v.shape[0] = n;
    return v;
}

/* Samples first .. first+count of d into the model's input: uint8 as
 * value / 255 (rn_set_input_u8), float32 as they are. */
RN_FN int rn_data_set_input(rn_model *m, const rn_data *d, size_t first, size_t count) {
    rn_value *in = &m->v[m->input];
    if (first > d->count || count > d->count - first) { snprintf(m->err, sizeof m->err, "samples %zu..%zu of %zu asked", first, first + count, d->count); return -1; }
    if (d->type == RN_DATA_U8) return rn_set_input_u8(m, d->u8 + first * d->size, count, d->size);
    if (d->size != in->size) {
        snprintf(m->err, sizeof m->err, "inputs have %zu values each; the model's input [%zu, %zu, %zu] has %zu", d->size, in->h, in->w, in->c, in->size);
        return -1;
    }
    if (count > (size_t)m->batch) { snprintf(m->err, sizeof m->err, "%zu inputs for a model loaded for batch %d", count, m->batch); return -1; }
    memcpy(in->f, d->f32 + first * d->size, count * d->size * sizeof(float));
    return 0;
}

#endif
