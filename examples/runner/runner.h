/* runner.h - a small model runner for quant: safetensors files with the
 * graph in __metadata__, executed in fp32 or a quantized mode with
 * quant_kernels.h. Include after quant_kernels.h (with QUANT_IMPLEMENTATION
 * defined once in the program).
 *
 * File format (README "Model format"): safetensors (8-byte little-endian
 * header length, a JSON header, raw little-endian tensors). __metadata__
 * holds "format": "quant-model-1" and "graph": a JSON string
 *   {"inputs":[{"name":"x","shape":[H,W,C]}],
 *    "nodes":[{"op":"conv2d","in":["x"],"out":"c1","weight":"w","bias":"b",
 *              "kernel":[3,3],"stride":[1,1],"pad":[t,l,b,r],"dilation":[1,1]},
 *             {"op":"relu","in":["c1"],"out":"r1"}, ...],
 *    "output":"prob"}
 * ops: conv2d, dwconv2d, dense, relu, relu6, maxpool, avgpool, gap, add,
 * flatten, softmax, sign. Activations are NHWC; conv weights [out][kh][kw][in],
 * depthwise [kh][kw][c], dense [out][in]. A quantized file (written by
 * `quant-tool quantize`) adds "quant": a JSON string with the mode and the
 * activation params, and the quantized weight tensors "<weight>.q" (I8) with
 * "<weight>.scale" (F32 per output channel).
 *
 * Every byte of a file is treated as hostile: sizes, offsets, dtypes, shapes,
 * references and the graph order are checked, and a malformed file gets a
 * message, never a crash. All memory is allocated at load; running allocates
 * nothing.
 */
#ifndef QUANT_RUNNER_H
#define QUANT_RUNNER_H

/* The fp32 paths are defined as separate multiplies and adds (the same bits on
 * every ISA): no contraction into FMAs, whatever the compiler's default
 * (clang: on; gcc in GNU C modes: fast; gcc -std=c99 / c11: off). */
#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC push_options
#pragma GCC optimize("fp-contract=off")
#endif

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <math.h>
#include <float.h>
#include <errno.h>

/* the most elements a tensor or an IDX file may hold (2^40; 2^30 with a 32-bit size_t) */
#define RN_MAX_ELEMS ((size_t)(SIZE_MAX > 0xffffffffu ? 0x10000000000ull : 0x40000000ull))

#if defined(__GNUC__) || defined(__clang__)
#define RN_FN static __attribute__((unused))
#else
#define RN_FN static
#endif

/* ------------------------------------------------------------------ JSON */

enum { RN_JSON_NULL, RN_JSON_BOOL, RN_JSON_NUM, RN_JSON_STR, RN_JSON_ARR, RN_JSON_OBJ };
typedef struct rn_json {
    int type;
    double num;
    char *str;          /* RN_JSON_STR value, or the key of an object member */
    struct rn_json *kids;    /* RN_JSON_ARR / RN_JSON_OBJ: n children */
    int n;
    char *key;
} rn_json;

/* budget: the values the whole document may still hold (a header of a
 * million tiny numbers would otherwise cost 40+ bytes of memory per byte) */
#define RN_JSON_MAX_VALUES ((size_t)1 << 20)
typedef struct rn_json_parser { const char *p, *end; char *err; size_t errn; int depth; size_t budget; } rn_json_parser;

RN_FN void rn_json_free(rn_json *v) {
    int i;
    if (!v) return;
    for (i = 0; i < v->n; i++) rn_json_free(&v->kids[i]);
    free(v->kids); free(v->str); free(v->key);
    v->kids = NULL; v->str = NULL; v->key = NULL; v->n = 0;
}

RN_FN int rn_json_fail(rn_json_parser *ps, const char *msg) {
    if (ps->err && ps->errn) snprintf(ps->err, ps->errn, "JSON: %s", msg);
    return -1;
}
RN_FN void rn_json_ws(rn_json_parser *ps) { while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r')) ps->p++; }

RN_FN int rn_json_string(rn_json_parser *ps, char **out) {
    size_t cap = 16, n = 0;
    char *s;
    if (ps->p >= ps->end || *ps->p != '"') return rn_json_fail(ps, "expected a string");
    ps->p++;
    s = (char *)malloc(cap);
    if (!s) return rn_json_fail(ps, "out of memory");
    for (;;) {
        unsigned c;
        if (ps->p >= ps->end) { free(s); return rn_json_fail(ps, "unterminated string"); }
        c = (unsigned char)*ps->p++;
        if (c == '"') break;
        if (c < 0x20) { free(s); return rn_json_fail(ps, "control character in string"); }
        if (c == '\\') {
            if (ps->p >= ps->end) { free(s); return rn_json_fail(ps, "bad escape"); }
            c = (unsigned char)*ps->p++;
            switch (c) {
            case '"': case '\\': case '/': break;
            case 'b': c = '\b'; break; case 'f': c = '\f'; break; case 'n': c = '\n'; break;
            case 'r': c = '\r'; break; case 't': c = '\t'; break;
            case 'u': { /* decoded to UTF-8 (surrogate pairs joined); U+0000 refused: names are C strings */
                unsigned long cp = 0;
                unsigned char u8[4];
                int k, nb, half;
                for (half = 0; half < 2; half++) {
                    unsigned v = 0;
                    if (half && (ps->end - ps->p < 6 || ps->p[0] != '\\' || ps->p[1] != 'u')) { free(s); return rn_json_fail(ps, "lone surrogate in \\u escape"); }
                    if (half) ps->p += 2;
                    if (ps->end - ps->p < 4) { free(s); return rn_json_fail(ps, "bad \\u escape"); }
                    for (k = 0; k < 4; k++) {
                        char h = *ps->p++;
                        int d = h >= '0' && h <= '9' ? h - '0' : h >= 'a' && h <= 'f' ? h - 'a' + 10 : h >= 'A' && h <= 'F' ? h - 'A' + 10 : -1;
                        if (d < 0) { free(s); return rn_json_fail(ps, "bad \\u escape"); }
                        v = v * 16 + (unsigned)d;
                    }
                    if (!half) {
                        cp = v;
                        if (v >= 0xDC00 && v <= 0xDFFF) { free(s); return rn_json_fail(ps, "lone surrogate in \\u escape"); }
                        if (v < 0xD800 || v > 0xDBFF) break;
                    } else {
                        if (v < 0xDC00 || v > 0xDFFF) { free(s); return rn_json_fail(ps, "lone surrogate in \\u escape"); }
                        cp = 0x10000 + ((cp - 0xD800) << 10) + (v - 0xDC00);
                    }
                }
                if (!cp) { free(s); return rn_json_fail(ps, "\\u0000 in a string"); }
                if (cp < 0x80) { u8[0] = (unsigned char)cp; nb = 1; }
                else if (cp < 0x800) { u8[0] = (unsigned char)(0xC0 | (cp >> 6)); u8[1] = (unsigned char)(0x80 | (cp & 63)); nb = 2; }
                else if (cp < 0x10000) { u8[0] = (unsigned char)(0xE0 | (cp >> 12)); u8[1] = (unsigned char)(0x80 | ((cp >> 6) & 63)); u8[2] = (unsigned char)(0x80 | (cp & 63)); nb = 3; }
                else { u8[0] = (unsigned char)(0xF0 | (cp >> 18)); u8[1] = (unsigned char)(0x80 | ((cp >> 12) & 63)); u8[2] = (unsigned char)(0x80 | ((cp >> 6) & 63)); u8[3] = (unsigned char)(0x80 | (cp & 63)); nb = 4; }
                for (k = 0; k < nb - 1; k++) { /* all but the last byte here; the last goes through the common append below */
                    if (n + 2 > cap) {
                        char *t;
                        if (cap > ((size_t)1 << 30)) { free(s); return rn_json_fail(ps, "string too long"); }
                        t = (char *)realloc(s, cap *= 2);
                        if (!t) { free(s); return rn_json_fail(ps, "out of memory"); }
                        s = t;
                    }
                    s[n++] = (char)u8[k];
                }
                c = u8[nb - 1];
            } break;
            default: free(s); return rn_json_fail(ps, "bad escape");
            }
        }
        if (n + 2 > cap) {
            char *t;
            if (cap > ((size_t)1 << 30)) { free(s); return rn_json_fail(ps, "string too long"); }
            t = (char *)realloc(s, cap *= 2);
            if (!t) { free(s); return rn_json_fail(ps, "out of memory"); }
            s = t;
        }
        s[n++] = (char)c;
    }
    s[n] = 0;
    *out = s;
    return 0;
}

RN_FN int rn_json_value(rn_json_parser *ps, rn_json *v);

RN_FN int rn_json_push(rn_json_parser *ps, rn_json *v, int *cap) {
    if (!ps->budget) return rn_json_fail(ps, "more than 2^20 values in one document");
    ps->budget--;
    if (v->n == *cap) {
        rn_json *t;
        if (*cap > (1 << 22)) return rn_json_fail(ps, "too many elements");
        t = (rn_json *)realloc(v->kids, sizeof(rn_json) * (size_t)(*cap = *cap ? *cap * 2 : 8));
        if (!t) return rn_json_fail(ps, "out of memory");
        v->kids = t;
    }
    memset(&v->kids[v->n], 0, sizeof(rn_json));
    return 0;
}

RN_FN int rn_json_value(rn_json_parser *ps, rn_json *v) {
    memset(v, 0, sizeof *v);
    rn_json_ws(ps);
    if (ps->p >= ps->end) return rn_json_fail(ps, "unexpected end");
    if (++ps->depth > 64) return rn_json_fail(ps, "nesting too deep");
    switch (*ps->p) {
    case '{': case '[': {
        int obj = *ps->p == '{', cap = 0;
        char close = obj ? '}' : ']';
        v->type = obj ? RN_JSON_OBJ : RN_JSON_ARR;
        ps->p++;
        rn_json_ws(ps);
        if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
        for (;;) {
            char *key = NULL;
            rn_json_ws(ps);
            if (obj) {
                if (rn_json_string(ps, &key)) return -1;
                rn_json_ws(ps);
                if (ps->p >= ps->end || *ps->p != ':') { free(key); return rn_json_fail(ps, "expected ':'"); }
                ps->p++;
            }
            if (rn_json_push(ps, v, &cap)) { free(key); return -1; }
            if (rn_json_value(ps, &v->kids[v->n])) { free(key); rn_json_free(&v->kids[v->n]); return -1; }
            v->kids[v->n].key = key;
            v->n++;
            rn_json_ws(ps);
            if (ps->p < ps->end && *ps->p == ',') { ps->p++; continue; }
            if (ps->p < ps->end && *ps->p == close) { ps->p++; break; }
            return rn_json_fail(ps, "expected ',' or a closing bracket");
        }
    } break;
    case '"': v->type = RN_JSON_STR; if (rn_json_string(ps, &v->str)) return -1; break;
    case 't': if (ps->end - ps->p >= 4 && !memcmp(ps->p, "true", 4)) { v->type = RN_JSON_BOOL; v->num = 1; ps->p += 4; break; } return rn_json_fail(ps, "bad literal");
    case 'f': if (ps->end - ps->p >= 5 && !memcmp(ps->p, "false", 5)) { v->type = RN_JSON_BOOL; ps->p += 5; break; } return rn_json_fail(ps, "bad literal");
    case 'n': if (ps->end - ps->p >= 4 && !memcmp(ps->p, "null", 4)) { v->type = RN_JSON_NULL; ps->p += 4; break; } return rn_json_fail(ps, "bad literal");
    default: { /* JSON's number grammar exactly: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
        char buf[64];
        const char *s = ps->p;
        size_t k;
        char *e;
#define RN_JSON_DIGIT(q) ((q) < ps->end && *(q) >= '0' && *(q) <= '9')
        if (s < ps->end && *s == '-') s++;
        if (!RN_JSON_DIGIT(s)) return rn_json_fail(ps, s == ps->p ? "unexpected character" : "bad number");
        if (*s == '0') { s++; if (RN_JSON_DIGIT(s)) return rn_json_fail(ps, "bad number (leading zero)"); }
        else while (RN_JSON_DIGIT(s)) s++;
        if (s < ps->end && *s == '.') { s++; if (!RN_JSON_DIGIT(s)) return rn_json_fail(ps, "bad number"); while (RN_JSON_DIGIT(s)) s++; }
        if (s < ps->end && (*s == 'e' || *s == 'E')) {
            s++;
            if (s < ps->end && (*s == '+' || *s == '-')) s++;
            if (!RN_JSON_DIGIT(s)) return rn_json_fail(ps, "bad number");
            while (RN_JSON_DIGIT(s)) s++;
        }
#undef RN_JSON_DIGIT
        k = (size_t)(s - ps->p);
        if (k >= sizeof buf) return rn_json_fail(ps, "number longer than 63 characters");
        memcpy(buf, ps->p, k);
        buf[k] = 0;
        ps->p = s;
        v->num = strtod(buf, &e);
        if (*e || v->num != v->num) return rn_json_fail(ps, "bad number");
        v->type = RN_JSON_NUM;
    }
    }
    ps->depth--;
    return 0;
}

RN_FN int rn_json_parse(const char *s, size_t n, rn_json *out, char *err, size_t errn) {
    rn_json_parser ps;
    ps.p = s; ps.end = s + n; ps.err = err; ps.errn = errn; ps.depth = 0; ps.budget = RN_JSON_MAX_VALUES;
    if (rn_json_value(&ps, out)) { rn_json_free(out); return -1; }
    rn_json_ws(&ps);
    if (ps.p != ps.end) { rn_json_free(out); return rn_json_fail(&ps, "trailing characters"); }
    return 0;
}

static const rn_json *rn_json_get(const rn_json *o, const char *key) {
    int i;
    if (!o || o->type != RN_JSON_OBJ) return NULL;
    for (i = 0; i < o->n; i++) if (o->kids[i].key && !strcmp(o->kids[i].key, key)) return &o->kids[i];
    return NULL;
}
static const char *rn_json_str(const rn_json *o, const char *key) { const rn_json *v = rn_json_get(o, key); return v && v->type == RN_JSON_STR ? v->str : NULL; }
/* integer array of exactly n elements, each in [lo, hi] */
RN_FN int rn_json_ints(const rn_json *o, const char *key, int n, long lo, long hi, long *out) {
    const rn_json *v = rn_json_get(o, key);
    int i;
    if (!v) return 0; /* absent: the caller keeps its default */
    if (v->type != RN_JSON_ARR || v->n != n) return -1;
    for (i = 0; i < n; i++) {
        double d = v->kids[i].num;
        if (v->kids[i].type != RN_JSON_NUM || d != floor(d) || d < lo || d > hi) return -1;
        out[i] = (long)d;
    }
    return 1;
}

/* one integer in [lo, hi]; absent keeps *out */
RN_FN int rn_json_int(const rn_json *o, const char *key, long lo, long hi, long *out) {
    const rn_json *v = rn_json_get(o, key);
    if (!v) return 0;
    if (v->type != RN_JSON_NUM || v->num != floor(v->num) || v->num < lo || v->num > hi) return -1;
    *out = (long)v->num;
    return 1;
}

/* ----------------------------------------------------------- safetensors */

enum { RN_DT_F32, RN_DT_I8, RN_DT_U8, RN_DT_I32, RN_DT_F16, RN_DT_U64 };
typedef struct rn_tensor {
    char *name;
    int dtype, ndim;
    size_t shape[8], count, bytes;
    const unsigned char *data;
} rn_tensor;

typedef struct rn_file {
    unsigned char *buf;
    size_t size;
    rn_tensor *t;
    int nt;
    rn_json header;        /* the parsed header (owns the strings)          */
    char *graph_json; /* metadata strings (owned by header)            */
    char *quant_json;
    char *variant;
} rn_file;

RN_FN size_t rn_dtype_size(int dt) { return dt == RN_DT_F32 || dt == RN_DT_I32 ? 4 : dt == RN_DT_F16 ? 2 : dt == RN_DT_U64 ? 8 : 1; }

RN_FN void rn_file_free(rn_file *f) {
    int i;
    for (i = 0; i < f->nt; i++) free(f->t[i].name);
    free(f->t); free(f->buf); rn_json_free(&f->header);
    memset(f, 0, sizeof *f);
}

RN_FN int rn_cmp_off(const void *a, const void *b) {
    const rn_tensor *x = *(const rn_tensor *const *)a, *y = *(const rn_tensor *const *)b;
    return x->data < y->data ? -1 : x->data > y->data;
}

RN_FN int rn_cmp_name(const void *a, const void *b) {
    return strcmp((*(const rn_tensor *const *)a)->name, (*(const rn_tensor *const *)b)->name);
}

/* Reads a whole regular file of at most `limit` bytes into a malloc'd
 * buffer (one spare byte). A directory, a device that reads nothing or an
 * over-long file is refused with a message naming it. */
RN_FN int rn_read_file(const char *path, size_t limit, unsigned char **out, size_t *size, char *err, size_t errn) {
    FILE *fp;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    *out = NULL; *size = 0;
    errno = 0;
    fp = fopen(path, "rb");
    if (!fp) { snprintf(err, errn, "cannot open %.150s: %s", path, errno ? strerror(errno) : "unknown error"); return -1; }
    for (;;) {
        size_t r;
        if (n == cap) {
            unsigned char *t;
            size_t nc = cap ? cap * 2 : (size_t)1 << 16;
            if (cap > limit) { fclose(fp); free(buf); snprintf(err, errn, "%.150s is larger than %zu bytes", path, limit); return -1; }
            t = (unsigned char *)realloc(buf, nc + 1);
            if (!t) { fclose(fp); free(buf); snprintf(err, errn, "out of memory reading %.150s", path); return -1; }
            buf = t; cap = nc;
        }
        errno = 0;
        r = fread(buf + n, 1, cap - n, fp);
        n += r;
        if (r == 0) break;
    }
    if (ferror(fp)) {
        int e = errno;
        fclose(fp); free(buf);
        snprintf(err, errn, "cannot read %.150s: %s", path, e ? strerror(e) : "read error");
        return -1;
    }
    fclose(fp);
    if (n > limit) { free(buf); snprintf(err, errn, "%.150s is larger than %zu bytes", path, limit); return -1; }
    *out = buf; *size = n;
    return 0;
}

/* Parses a safetensors image held in memory (takes ownership of buf). */
RN_FN int rn_file_parse(rn_file *f, unsigned char *buf, size_t size, char *err, size_t errn) {
    uint64_t hlen = 0;
    size_t i, data0;
    int k;
    memset(f, 0, sizeof *f);
    f->buf = buf; f->size = size;
    if (size < 8) { snprintf(err, errn, "file too short (%zu bytes) for a safetensors header", size); return -1; }
    for (i = 0; i < 8; i++) hlen |= (uint64_t)buf[i] << (8 * i);
    if (hlen < 2 || hlen > size - 8 || hlen > ((uint64_t)100 << 20)) {
        snprintf(err, errn, "header length %llu out of range (file has %zu bytes)", (unsigned long long)hlen, size);
        return -1;
    }
    if (rn_json_parse((const char *)buf + 8, (size_t)hlen, &f->header, err, errn)) return -1;
    if (f->header.type != RN_JSON_OBJ) { snprintf(err, errn, "header is not a JSON object"); return -1; }
    data0 = 8 + (size_t)hlen;
    f->t = (rn_tensor *)calloc((size_t)f->header.n + 1, sizeof(rn_tensor));
    if (!f->t) { snprintf(err, errn, "out of memory"); return -1; }
    for (k = 0; k < f->header.n; k++) {
        const rn_json *e = &f->header.kids[k], *sh, *off;
        const char *dt;
        rn_tensor *t;
        int d;
        if (!strcmp(e->key, "__metadata__")) {
            int m;
            if (e->type != RN_JSON_OBJ) { snprintf(err, errn, "__metadata__ is not an object"); return -1; }
            /* safetensors metadata is a map of strings; keys other than
             * format, graph, quant and variant are informational */
            for (m = 0; m < e->n; m++)
                if (e->kids[m].type != RN_JSON_STR) { snprintf(err, errn, "__metadata__ value '%.100s' is not a string", e->kids[m].key); return -1; }
            f->graph_json = (char *)rn_json_str(e, "graph");
            f->quant_json = (char *)rn_json_str(e, "quant");
            f->variant = (char *)rn_json_str(e, "variant");
            if (!rn_json_str(e, "format") || strcmp(rn_json_str(e, "format"), "quant-model-1")) {
                snprintf(err, errn, "__metadata__ format is not \"quant-model-1\""); return -1;
            }
            continue;
        }
        t = &f->t[f->nt];
        if (e->type != RN_JSON_OBJ) { snprintf(err, errn, "tensor '%s' is not an object", e->key); return -1; }
        if (strlen(e->key) == 0 || strlen(e->key) > 200) { snprintf(err, errn, "bad tensor name"); return -1; }
        dt = rn_json_str(e, "dtype"); sh = rn_json_get(e, "shape"); off = rn_json_get(e, "data_offsets");
        if (!dt || !sh || !off || sh->type != RN_JSON_ARR || off->type != RN_JSON_ARR || off->n != 2) {
            snprintf(err, errn, "tensor '%.200s': dtype, shape and data_offsets are required", e->key); return -1;
        }
        for (d = 0; d < e->n; d++)
            if (strcmp(e->kids[d].key, "dtype") && strcmp(e->kids[d].key, "shape") && strcmp(e->kids[d].key, "data_offsets")) {
                snprintf(err, errn, "tensor '%.100s': unknown key '%.60s' (dtype, shape, data_offsets)", e->key, e->kids[d].key); return -1;
            }
        if (!strcmp(dt, "F32")) t->dtype = RN_DT_F32; else if (!strcmp(dt, "I8")) t->dtype = RN_DT_I8;
        else if (!strcmp(dt, "U8")) t->dtype = RN_DT_U8; else if (!strcmp(dt, "I32")) t->dtype = RN_DT_I32;
        else if (!strcmp(dt, "F16")) t->dtype = RN_DT_F16; else if (!strcmp(dt, "U64")) t->dtype = RN_DT_U64;
        else { snprintf(err, errn, "tensor '%s': unsupported dtype '%s'", e->key, dt); return -1; }
        if (sh->n > 8) { snprintf(err, errn, "tensor '%s': more than 8 dimensions", e->key); return -1; }
        t->ndim = sh->n; t->count = 1;
        for (d = 0; d < sh->n; d++) {
            double v = sh->kids[d].num;
            if (sh->kids[d].type != RN_JSON_NUM || v != floor(v) || v < 0 || v > 1e12) { snprintf(err, errn, "tensor '%s': bad shape", e->key); return -1; }
            t->shape[d] = (size_t)v;
            if (t->shape[d] && t->count > RN_MAX_ELEMS / t->shape[d]) { snprintf(err, errn, "tensor '%s': shape overflows", e->key); return -1; }
            t->count *= t->shape[d];
        }
        if (t->count > SIZE_MAX / rn_dtype_size(t->dtype)) { snprintf(err, errn, "tensor '%.200s': byte count overflows", e->key); return -1; }
        t->bytes = t->count * rn_dtype_size(t->dtype);
        {
            double b0 = off->kids[0].num, b1 = off->kids[1].num;
            if (off->kids[0].type != RN_JSON_NUM || off->kids[1].type != RN_JSON_NUM || b0 != floor(b0) || b1 != floor(b1) ||
                b0 < 0 || b1 < b0 || b1 > (double)(size - data0)) {
                snprintf(err, errn, "tensor '%s': data_offsets out of range", e->key); return -1;
            }
            if ((size_t)(b1 - b0) != t->bytes) {
                snprintf(err, errn, "tensor '%s': %zu bytes of data for %zu elements of %s", e->key, (size_t)(b1 - b0), t->count, dt);
                return -1;
            }
            t->data = buf + data0 + (size_t)b0;
        }
        t->name = (char *)malloc(strlen(e->key) + 1);
        if (!t->name) { snprintf(err, errn, "out of memory"); return -1; }
        strcpy(t->name, e->key);
        f->nt++; /* owned from here: freed with the file */
    }
    { /* names unique: sorted, then neighbours compared (n log n: a header may list 10^5 tensors) */
        rn_tensor **s = (rn_tensor **)malloc(sizeof(rn_tensor *) * (size_t)(f->nt + 1));
        if (!s) { snprintf(err, errn, "out of memory"); return -1; }
        for (k = 0; k < f->nt; k++) s[k] = &f->t[k];
        qsort(s, (size_t)f->nt, sizeof *s, rn_cmp_name);
        for (k = 1; k < f->nt; k++)
            if (!strcmp(s[k - 1]->name, s[k]->name)) { snprintf(err, errn, "tensor '%.200s' appears twice", s[k]->name); free(s); return -1; }
        free(s);
    }
    { /* tensors must not overlap */
        rn_tensor **s = (rn_tensor **)malloc(sizeof(rn_tensor *) * (size_t)(f->nt + 1));
        if (!s) { snprintf(err, errn, "out of memory"); return -1; }
        for (k = 0; k < f->nt; k++) s[k] = &f->t[k];
        qsort(s, (size_t)f->nt, sizeof *s, rn_cmp_off);
        /* in offset order, each non-empty tensor starts at or after the end of
         * every earlier one (an empty tensor occupies no bytes, wherever it sits) */
        {
            const rn_tensor *last = NULL;
            for (k = 0; k < f->nt; k++) {
                if (!s[k]->bytes) continue;
                if (last && s[k]->data < last->data + last->bytes) {
                    snprintf(err, errn, "tensors '%.100s' and '%.100s' overlap", last->name, s[k]->name);
                    free(s); return -1;
                }
                if (!last || s[k]->data + s[k]->bytes > last->data + last->bytes) last = s[k];
            }
        }
        free(s);
    }
    if (!f->graph_json) { snprintf(err, errn, "no graph in __metadata__"); return -1; }
    { /* the file gives no alignment: copy every tensor to a 64-byte aligned block */
        size_t total = 64, off;
        unsigned char *al, *base;
        for (k = 0; k < f->nt; k++) total += (f->t[k].bytes + 63) / 64 * 64;
        al = (unsigned char *)malloc(total);
        if (!al) { snprintf(err, errn, "out of memory"); return -1; }
        base = al + ((64 - ((uintptr_t)al & 63)) & 63);
        for (k = 0, off = 0; k < f->nt; k++) {
            memcpy(base + off, f->t[k].data, f->t[k].bytes);
            f->t[k].data = base + off;
            off += (f->t[k].bytes + 63) / 64 * 64;
        }
        free(f->buf); /* the header strings live in the parsed JSON */
        f->buf = al;
    }
    return 0;
}

RN_FN int rn_file_load(rn_file *f, const char *path, char *err, size_t errn) {
    unsigned char *buf;
    size_t n;
    memset(f, 0, sizeof *f);
    if (rn_read_file(path, (size_t)1 << 30, &buf, &n, err, errn)) return -1;
    if (rn_file_parse(f, buf, n, err, errn)) { rn_file_free(f); return -1; }
    return 0;
}

/* every value of an F32 tensor finite (weights, biases, scales) */
RN_FN int rn_finite(const rn_tensor *t) {
    size_t i;
    const float *v = (const float *)t->data;
    if (t->dtype != RN_DT_F32) return 1;
    for (i = 0; i < t->count; i++) if (!(v[i] - v[i] == 0.0f)) return 0;
    return 1;
}

static const rn_tensor *rn_find(const rn_file *f, const char *name) {
    int i;
    if (!name) return NULL;
    for (i = 0; i < f->nt; i++) if (!strcmp(f->t[i].name, name)) return &f->t[i];
    return NULL;
}


/* ----------------------------------------------------------------- graph */

enum { RN_OP_CONV, RN_OP_DWCONV, RN_OP_DENSE, RN_OP_RELU, RN_OP_RELU6, RN_OP_MAXPOOL, RN_OP_AVGPOOL, RN_OP_GAP, RN_OP_ADD, RN_OP_FLATTEN,
       RN_OP_SOFTMAX, RN_OP_SIGN, RN_OP_LEAKY, RN_OP_SIGMOID, RN_OP_TANH, RN_OP_HSWISH, RN_OP_HSIGMOID, RN_OP_SILU, RN_OP_GELU,
       RN_OP_MUL, RN_OP_CONCAT, RN_OP_PAD, RN_OP_BATCHNORM, RN_OP_NORMALIZE, RN_OP_RELU_CLIP, RN_OP_COUNT };
static const char *const rn_op_names[RN_OP_COUNT] = { "conv2d", "dwconv2d", "dense", "relu", "relu6", "maxpool",
    "avgpool", "gap", "add", "flatten", "softmax", "sign", "leaky_relu", "sigmoid", "tanh", "hardswish", "hardsigmoid",
    "silu", "gelu", "mul", "concat", "pad", "batchnorm", "normalize", "relu_clip" };
/* the attributes each op accepts besides "op", "in" and "out" (anything else is refused) */
static const char *const rn_op_attrs[RN_OP_COUNT] = {
    "weight bias scale kernel stride pad dilation groups weights padding_value out_stats", /* conv2d */
    "weight bias scale kernel stride pad dilation weights out_stats",     /* dwconv2d */
    "weight bias scale weights out_stats",                                /* dense    */
    "", "",                                                               /* relu, relu6 */
    "kernel stride pad ceil_mode",                                        /* maxpool  */
    "kernel stride pad ceil_mode count_include_pad",                      /* avgpool  */
    "", "", "", "",                                                       /* gap, add, flatten, softmax */
    "threshold",                                                          /* sign     */
    "alpha", "", "", "", "", "",                                          /* leaky_relu, sigmoid, tanh, hardswish, hardsigmoid, silu */
    "approximate",                                                        /* gelu     */
    "", "",                                                               /* mul, concat */
    "pad value",                                                          /* pad      */
    "scale bias",                                                         /* batchnorm */
    "mean std",                                                           /* normalize */
    "max" };                                                              /* relu_clip */
#define RN_MAX_IN 16 /* concat's inputs, at most */

/* elementwise functions of one value (float), the float path and the 256-entry tables of the uint8 one */
RN_FN int rn_is_unary_fn(int op) { return op >= RN_OP_LEAKY && op <= RN_OP_GELU; }

/* run modes: each a row of the demo table */
enum { RN_FP32, RN_INT8, RN_DYN, RN_INT4, RN_TERNARY, RN_BINARY, RN_MIXED, RN_CODEBOOK, RN_MODE_COUNT };
/* the kind of a value in a mode's plan: float, uint8 with affine params, or
 * packed sign bits (binary mode) */
enum { RN_KIND_F32, RN_KIND_U8, RN_KIND_BITS };

#define RN_MAX_VALUES 256
#ifndef RN_MAX_ARENA
#define RN_MAX_ARENA ((size_t)1 << 30) /* every buffer of a loaded model, at most */
#endif
#define RN_MAX_NODES 256

typedef struct rn_value {
    char name[64];
    size_t h, w, c, size;   /* per sample; size = h * w * c                  */
    float *f;               /* fp32 buffer [batch][size]                      */
    uint8_t *q;             /* uint8 buffer (int8 modes)                      */
    uint64_t *bits;         /* packed bits, words(c) per pixel (binary mode) */
    float scale;            /* RN_KIND_U8: affine params                      */
    int32_t zp;
    int kind;               /* RN_KIND_*, fixed by the plan for the mode      */
    int is_bits;            /* kind == RN_KIND_BITS                           */
    int has_params;         /* RN_KIND_U8: scale and zp set (calibrated / stored) */
} rn_value;

struct rn_model;
struct rn_node;
typedef int (*rn_exec_fn)(struct rn_model *m, struct rn_node *n, int batch);

typedef struct rn_node {
    int op, in[RN_MAX_IN], nin, out;
    const rn_tensor *w, *b, *bn_s, *bn_b, *thr;
    const rn_tensor *clip;  /* relu_clip: its "max" tensor                   */
    const rn_tensor *stats; /* conv / dense "out_stats": F32 [2][N], the mean and deviation of each output
                             * channel before its activation, as the batch norm folded into it says
                             * (beta, |gamma|): analytic bias correction of the layers it feeds */
    long k[2], st[2], pad[4], dil[2];
    int ceil_mode, count_include_pad; /* pooling, with PyTorch's meaning  */
    long groups;            /* conv2d: the weights are expanded block-diagonally into fold */
    float alpha;            /* leaky_relu's slope; pad's value             */
    int approximate;        /* gelu: 0 erf, 1 tanh                          */
    float *chan_a, *chan_b; /* batchnorm / normalize: per-channel y = x a + b (malloc'd at load);
                             * relu_clip: chan_a the upper bound of each channel */
    uint8_t *chan_hi;       /* relu_clip in uint8: each channel's upper bound as a code (set with the params) */
    uint8_t lut[256];       /* uint8 path of a unary function (set with the params) */
    quant_add_params addp;  /* add / mul in uint8 (set with the params)     */
    quant_mul_params mulp;
    int wtype;              /* 0 float, 1 ternary-trained, 2 binary-trained   */
    /* the plan (fixed at load) */
    int y;                  /* the value this node writes: out, or the output of the relu fused into it */
    int fused_relu;         /* conv/dense: the relu consuming its output runs in its epilogue */
    int skip;               /* a relu fused into its producer, or a pool run inside its conv: not run on its own */
    int pool_next;          /* fp32 conv: the node index of a pool run image by image right after it, or -1 */
    rn_exec_fn exec;        /* what running this node calls               */
    int bits;               /* mixed precision: 8 or 4                        */
    int q4;                 /* int4 blocks of 32 (quant_gemm_q4): 4-bit layers */
    float *fold;            /* weights with the "scale" tensor folded in (malloc'd at load), or NULL */
    /* prepared at load */
    quant_conv_shape cs;
    size_t K, N;
    void *packed, *ws;      /* packed weights, conv workspace                 */
    size_t ws_bytes;
    float *wt;              /* fp32: weights transposed to [K][N]             */
    float *bias;            /* fp32 bias [N] (0 if none)                      */
    float *wscale;          /* per output channel weight scale                */
    int32_t *bias_q;        /* int8 static: bias in accumulator units         */
    quant_requant *rq;      /* int8 static: per channel                       */
    float *ascale;          /* dynamic / last layer: per-row activation scale */
    float *bscale, *bbias;  /* binary: folded scale and bias; int8 to float: s_x * s_w */
    quant_epilogue ep;      /* int8 static: the epilogue, set with the activation params */
    quant_q4_epilogue ep4;  /* int4 blocks: likewise                          */
    double sqnr;            /* weight SQNR (dB) of the quantized weights      */
} rn_node;

#ifdef RN_GUARD
#define RN_GUARD_BYTES 64   /* test builds: checked after every node        */
#define RN_GUARD_BYTE 0xA5
#endif

typedef struct rn_model {
    rn_file file;
    int mode, nv, nn, input, output, batch;
    int stored_mode;        /* a quantized file's mode, or -1              */
    int params_ready;       /* static modes: every uint8 value has params  */
    rn_value v[RN_MAX_VALUES];
    rn_node n[RN_MAX_NODES];
    unsigned char *arena;   /* every buffer, allocated once at load */
    size_t arena_size, arena_used;
    size_t weight_bytes;    /* bytes of the weights as this mode stores them */
    int per_tensor;         /* int8 weights quantized here: one scale a tensor (rn_set_per_tensor) */
    int reduce_range;       /* uint8 activations in [0, 127], not [0, 255] (rn_set_reduce_range)    */
#ifdef RN_GUARD
    unsigned char *guard[3 * RN_MAX_VALUES]; /* from the end of each value buffer */
    size_t guard_len[3 * RN_MAX_VALUES];
    int nguard;
#endif
    char err[256];
} rn_model;

static void *rn_alloc(rn_model *m, size_t bytes) {
    void *p;
    bytes = (bytes + 63) / 64 * 64;
    if (bytes > m->arena_size - m->arena_used) return NULL;
    p = m->arena + m->arena_used;
    m->arena_used += bytes;
    return p;
}

RN_FN int rn_value_id(rn_model *m, const char *name, int create) {
    int i;
    for (i = 0; i < m->nv; i++) if (!strcmp(m->v[i].name, name)) return create ? -2 : i;
    if (!create) return -1;
    if (m->nv == RN_MAX_VALUES || strlen(name) >= sizeof m->v[0].name || !name[0]) return -3;
    memset(&m->v[m->nv], 0, sizeof m->v[0]);
    strcpy(m->v[m->nv].name, name);
    return m->nv++;
}

/* the float weights as the layer computes with them: the "scale" tensor
 * (a folded batch norm's per-channel factor) multiplied in */
RN_FN const float *rn_wf(const rn_node *n) { return n->fold ? n->fold : (const float *)n->w->data; }

/* a boolean attribute: JSON true / false, or 0 / 1; absent keeps *out */
RN_FN int rn_json_flag(const rn_json *o, const char *key, int *out) {
    const rn_json *v = rn_json_get(o, key);
    if (!v) return 0;
    if (v->type == RN_JSON_BOOL || (v->type == RN_JSON_NUM && (v->num == 0 || v->num == 1))) { *out = v->num != 0; return 1; }
    return -1;
}

/* a pooling window's output size along one axis, as PyTorch computes it:
 * floor or ceil of (in + pads - k) / s, plus one, and with ceil_mode the last
 * window must start inside the input or its leading padding */
RN_FN size_t rn_pool_out(size_t in, long k, long s, long p0, long p1, int ceil_mode) {
    long span = (long)in + p0 + p1 - k, o;
    if (span < 0) return 0;
    o = (ceil_mode ? (span + s - 1) / s : span / s) + 1;
    if (ceil_mode && (o - 1) * s >= (long)in + p0) o--;
    return o > 0 ? (size_t)o : 0;
}

#define RN_FAIL(...) do { snprintf(m->err, sizeof m->err, __VA_ARGS__); goto fail; } while (0)

/* Parses and checks the graph: known ops with only their own attributes,
 * inputs defined before use (so no cycles), every referenced tensor present
 * with the right shape and finite, shapes inferred node by node; then folds
 * each layer's "scale" into a copy of its weights and marks the relus that
 * can run in their producer's epilogue. */
RN_FN int rn_graph(rn_model *m) {
    rn_json g;
    const rn_json *nodes, *inputs, *in0;
    const char *outname;
    int i;
    memset(&g, 0, sizeof g);
    if (rn_json_parse(m->file.graph_json, strlen(m->file.graph_json), &g, m->err, sizeof m->err)) return -1;
    if (g.type != RN_JSON_OBJ) RN_FAIL("graph: not a JSON object");
    for (i = 0; i < g.n; i++)
        if (strcmp(g.kids[i].key, "inputs") && strcmp(g.kids[i].key, "nodes") && strcmp(g.kids[i].key, "output"))
            RN_FAIL("graph: unknown key '%.60s' (inputs, nodes, output)", g.kids[i].key);
    inputs = rn_json_get(&g, "inputs"); nodes = rn_json_get(&g, "nodes"); outname = rn_json_str(&g, "output");
    if (!inputs || inputs->type != RN_JSON_ARR || inputs->n != 1) RN_FAIL("graph: exactly one input is supported");
    if (!nodes || nodes->type != RN_JSON_ARR || nodes->n < 1 || nodes->n > RN_MAX_NODES) RN_FAIL("graph: 1 to %d nodes needed", RN_MAX_NODES);
    if (!outname) RN_FAIL("graph: no output");
    in0 = &inputs->kids[0];
    {
        long sh[3];
        const char *nm = in0->type == RN_JSON_OBJ ? rn_json_str(in0, "name") : NULL;
        if (!nm || rn_json_ints(in0, "shape", 3, 1, 4096, sh) != 1) RN_FAIL("graph: the input needs a name and a shape [H, W, C] (each 1 to 4096)");
        for (i = 0; i < in0->n; i++)
            if (strcmp(in0->kids[i].key, "name") && strcmp(in0->kids[i].key, "shape")) RN_FAIL("graph: the input has an unknown key '%.60s'", in0->kids[i].key);
        if ((m->input = rn_value_id(m, nm, 1)) < 0) RN_FAIL("graph: bad input name (1 to 63 bytes)");
        m->v[m->input].h = (size_t)sh[0]; m->v[m->input].w = (size_t)sh[1]; m->v[m->input].c = (size_t)sh[2];
        if ((double)sh[0] * sh[1] * sh[2] > (double)((size_t)1 << 26)) RN_FAIL("graph: the input has more than 2^26 values");
        m->v[m->input].size = (size_t)sh[0] * (size_t)sh[1] * (size_t)sh[2];
    }
    for (i = 0; i < nodes->n; i++) {
        const rn_json *nd = &nodes->kids[i], *ins;
        const char *op, *out, *wt;
        rn_node *n = &m->n[m->nn];
        rn_value *x, *y;
        int o, j;
        memset(n, 0, sizeof *n);
        n->pool_next = -1;
        if (nd->type != RN_JSON_OBJ) RN_FAIL("node %d: not a JSON object", i);
        ins = rn_json_get(nd, "in"); op = rn_json_str(nd, "op"); out = rn_json_str(nd, "out");
        if (!op) RN_FAIL("node %d: no op", i);
        for (o = 0; o < RN_OP_COUNT; o++) if (!strcmp(op, rn_op_names[o])) break;
        if (o == RN_OP_COUNT) RN_FAIL("node %d: unknown op '%.60s'", i, op);
        n->op = o;
        for (j = 0; j < nd->n; j++) { /* every key is one this op knows */
            const char *key = nd->kids[j].key, *a = rn_op_attrs[o];
            size_t kl = strlen(key);
            int known = !strcmp(key, "op") || !strcmp(key, "in") || !strcmp(key, "out");
            while (!known && *a) {
                size_t al = strcspn(a, " ");
                if (al == kl && !strncmp(a, key, kl)) known = 1;
                a += al + (a[al] == ' ');
            }
            if (!known) RN_FAIL("node %d (%s): unknown attribute '%.60s' (%s takes: %s)", i, op, key, op, rn_op_attrs[o][0] ? rn_op_attrs[o] : "none");
        }
        {
            int lo = o == RN_OP_ADD || o == RN_OP_MUL || o == RN_OP_CONCAT ? 2 : 1, hi = o == RN_OP_CONCAT ? RN_MAX_IN : lo;
            if (!ins || ins->type != RN_JSON_ARR || ins->n < lo || ins->n > hi)
                RN_FAIL("node %d (%s): wrong inputs (%s takes %s)", i, op, op, o == RN_OP_CONCAT ? "2 to 16" : lo == 2 ? "two" : "one");
        }
        for (j = 0; j < ins->n; j++) {
            if (ins->kids[j].type != RN_JSON_STR) RN_FAIL("node %d: input is not a name", i);
            if ((n->in[j] = rn_value_id(m, ins->kids[j].str, 0)) < 0)
                RN_FAIL("node %d (%s): input '%.60s' is not defined before it (missing tensor or a cycle)", i, op, ins->kids[j].str);
        }
        n->nin = ins->n;
        if (!out) RN_FAIL("node %d (%s): no output name", i, op);
        if ((n->out = rn_value_id(m, out, 1)) < 0)
            RN_FAIL("node %d (%s): output '%.60s' %s", i, op, out, n->out == -2 ? "is defined twice" : n->out == -3 && m->nv == RN_MAX_VALUES ? "is one value too many" : "is not a name of 1 to 63 bytes");
        n->y = n->out;
        x = &m->v[n->in[0]]; y = &m->v[n->out];
        n->k[0] = n->k[1] = 1; n->st[0] = n->st[1] = 1; n->dil[0] = n->dil[1] = 1;
        if (rn_json_ints(nd, "kernel", 2, 1, 64, n->k) < 0) RN_FAIL("node %d (%s): kernel must be [kh, kw], each 1 to 64", i, op);
        if (o == RN_OP_MAXPOOL || o == RN_OP_AVGPOOL) { n->st[0] = n->k[0]; n->st[1] = n->k[1]; } /* PyTorch's default stride */
        if (rn_json_ints(nd, "stride", 2, 1, 64, n->st) < 0 || rn_json_ints(nd, "pad", 4, 0, 64, n->pad) < 0 || rn_json_ints(nd, "dilation", 2, 1, 64, n->dil) < 0)
            RN_FAIL("node %d (%s): bad stride / pad / dilation (stride [sh, sw] 1 to 64, pad [top, left, bottom, right] 0 to 64, dilation [dh, dw] 1 to 64)", i, op);
        n->count_include_pad = 1;
        if (rn_json_flag(nd, "ceil_mode", &n->ceil_mode) < 0 || rn_json_flag(nd, "count_include_pad", &n->count_include_pad) < 0)
            RN_FAIL("node %d (%s): ceil_mode / count_include_pad must be true or false", i, op);
        wt = rn_json_get(nd, "weights") ? rn_json_str(nd, "weights") : NULL;
        if (rn_json_get(nd, "weights") && !wt) RN_FAIL("node %d: \"weights\" must be \"ternary\" or \"binary\"", i);
        n->wtype = !wt ? 0 : !strcmp(wt, "ternary") ? 1 : !strcmp(wt, "binary") ? 2 : -1;
        if (n->wtype < 0) RN_FAIL("node %d: unknown weights kind '%.40s' (ternary or binary)", i, wt);
        if (rn_json_get(nd, "padding_value")) {
            const rn_json *pv = rn_json_get(nd, "padding_value");
            if (n->wtype != 2 || pv->type != RN_JSON_NUM || pv->num != 0)
                RN_FAIL("node %d (%s): padding_value is for binary convolutions and must be 0 (padded inputs contribute 0)", i, op);
        }
        n->bits = 8;
        n->groups = 1;
        if (rn_json_int(nd, "groups", 1, 4096, &n->groups) < 0) RN_FAIL("node %d (%s): groups must be an integer 1 to 4096", i, op);
        {
            const rn_json *al = rn_json_get(nd, o == RN_OP_PAD ? "value" : "alpha");
            n->alpha = o == RN_OP_LEAKY ? 0.01f : 0.0f;
            if (al) {
                if (al->type != RN_JSON_NUM || !(fabs(al->num) < 1e30)) RN_FAIL("node %d (%s): %s must be a finite number", i, op, o == RN_OP_PAD ? "value" : "alpha");
                n->alpha = (float)al->num;
            }
        }
        if (rn_json_get(nd, "approximate")) {
            const char *ap = rn_json_str(nd, "approximate");
            if (!ap || (strcmp(ap, "none") && strcmp(ap, "tanh"))) RN_FAIL("node %d (gelu): approximate must be \"none\" or \"tanh\"", i);
            n->approximate = !strcmp(ap, "tanh");
        }
        if ((o == RN_OP_MAXPOOL || o == RN_OP_AVGPOOL || o == RN_OP_CONV || o == RN_OP_DWCONV) && !rn_json_get(nd, "kernel"))
            RN_FAIL("node %d (%s): kernel required", i, op);
        switch (o) {
        case RN_OP_CONV: case RN_OP_DWCONV: {
            size_t oh, ow;
            n->w = rn_find(&m->file, rn_json_str(nd, "weight"));
            n->b = rn_find(&m->file, rn_json_str(nd, "bias"));
            if (!n->w || n->w->dtype != RN_DT_F32) RN_FAIL("node %d (%s): weight tensor missing or not F32", i, op);
            memset(&n->cs, 0, sizeof n->cs);
            n->cs.batch = 1; n->cs.in_h = x->h; n->cs.in_w = x->w; n->cs.in_c = x->c;
            n->cs.k_h = (size_t)n->k[0]; n->cs.k_w = (size_t)n->k[1]; n->cs.stride_h = (size_t)n->st[0]; n->cs.stride_w = (size_t)n->st[1];
            n->cs.dil_h = (size_t)n->dil[0]; n->cs.dil_w = (size_t)n->dil[1];
            n->cs.pad_top = (size_t)n->pad[0]; n->cs.pad_left = (size_t)n->pad[1]; n->cs.pad_bottom = (size_t)n->pad[2]; n->cs.pad_right = (size_t)n->pad[3];
            if (o == RN_OP_CONV) {
                size_t G = (size_t)n->groups;
                if (x->c % G) RN_FAIL("node %d (conv2d): %zu input channels do not split into %zu groups", i, x->c, G);
                if (n->w->ndim != 4 || n->w->shape[1] != n->cs.k_h || n->w->shape[2] != n->cs.k_w || n->w->shape[3] != x->c / G)
                    RN_FAIL("node %d (conv2d): weight shape must be [out][%zu][%zu][%zu]", i, n->cs.k_h, n->cs.k_w, x->c / G);
                if (n->w->shape[0] % G) RN_FAIL("node %d (conv2d): %zu output channels do not split into %zu groups", i, n->w->shape[0], G);
                if (G > 1 && n->wtype == 2) RN_FAIL("node %d (conv2d): binary weights with groups are not supported", i);
                n->cs.out_c = n->w->shape[0];
            } else {
                if (n->w->ndim != 3 || n->w->shape[0] != n->cs.k_h || n->w->shape[1] != n->cs.k_w || n->w->shape[2] != x->c)
                    RN_FAIL("node %d (dwconv2d): weight shape must be [%zu][%zu][%zu]", i, n->cs.k_h, n->cs.k_w, x->c);
                n->cs.out_c = x->c;
            }
            if (!n->cs.out_c) RN_FAIL("node %d: no output channels", i);
            if (quant_conv_out_size(&n->cs, &oh, &ow) != QUANT_OK) RN_FAIL("node %d (%s): the kernel does not fit the input", i, op);
            y->h = oh; y->w = ow; y->c = n->cs.out_c;
            n->K = n->cs.k_h * n->cs.k_w * (o == RN_OP_CONV ? x->c : 1); n->N = n->cs.out_c;
        } break;
        case RN_OP_DENSE:
            n->w = rn_find(&m->file, rn_json_str(nd, "weight"));
            n->b = rn_find(&m->file, rn_json_str(nd, "bias"));
            if (!n->w || n->w->dtype != RN_DT_F32 || n->w->ndim != 2 || n->w->shape[1] != x->size || !n->w->shape[0])
                RN_FAIL("node %d (dense): weight must be F32 [out][%zu]", i, x->size);
            y->h = 1; y->w = 1; y->c = n->w->shape[0];
            n->K = x->size; n->N = y->c;
            break;
        case RN_OP_MAXPOOL: case RN_OP_AVGPOOL:
            if (2 * n->pad[0] > n->k[0] || 2 * n->pad[2] > n->k[0] || 2 * n->pad[1] > n->k[1] || 2 * n->pad[3] > n->k[1])
                RN_FAIL("node %d (%s): pad must be at most half the kernel (as in PyTorch)", i, op);
            if (x->c > 4096) RN_FAIL("node %d (%s): more than 4096 channels", i, op);
            y->h = rn_pool_out(x->h, n->k[0], n->st[0], n->pad[0], n->pad[2], n->ceil_mode);
            y->w = rn_pool_out(x->w, n->k[1], n->st[1], n->pad[1], n->pad[3], n->ceil_mode);
            if (!y->h || !y->w) RN_FAIL("node %d (%s): the window does not fit the input", i, op);
            y->c = x->c;
            break;
        case RN_OP_GAP: y->h = 1; y->w = 1; y->c = x->c; break;
        case RN_OP_FLATTEN: y->h = 1; y->w = 1; y->c = x->size; break;
        case RN_OP_ADD: case RN_OP_MUL: {
            const rn_value *x2 = &m->v[n->in[1]];
            if (!(x2->h == x->h && x2->w == x->w && x2->c == x->c) && !(x2->h == 1 && x2->w == 1 && x2->c == x->c))
                RN_FAIL("node %d (%s): the second input [%zu, %zu, %zu] is neither the first's shape [%zu, %zu, %zu] nor [1, 1, %zu] (per channel)",
                        i, op, x2->h, x2->w, x2->c, x->h, x->w, x->c, x->c);
            y->h = x->h; y->w = x->w; y->c = x->c;
        } break;
        case RN_OP_CONCAT:
            y->h = x->h; y->w = x->w; y->c = 0;
            for (j = 0; j < n->nin; j++) {
                const rn_value *xj = &m->v[n->in[j]];
                if (xj->h != x->h || xj->w != x->w) RN_FAIL("node %d (concat): input %d is %zux%zu, the first %zux%zu", i, j, xj->h, xj->w, x->h, x->w);
                y->c += xj->c;
            }
            break;
        case RN_OP_PAD:
            if (!rn_json_get(nd, "pad")) RN_FAIL("node %d (pad): pad [top, left, bottom, right] required", i);
            y->h = x->h + (size_t)(n->pad[0] + n->pad[2]); y->w = x->w + (size_t)(n->pad[1] + n->pad[3]); y->c = x->c;
            break;
        default: y->h = x->h; y->w = x->w; y->c = x->c; break;
        }
        if (o == RN_OP_CONV || o == RN_OP_DWCONV || o == RN_OP_DENSE) {
            const char *bn = rn_json_get(nd, "bias") ? rn_json_str(nd, "bias") : NULL, *sn = rn_json_get(nd, "scale") ? rn_json_str(nd, "scale") : NULL;
            if (rn_json_get(nd, "bias") && !n->b) RN_FAIL("node %d (%s): bias tensor '%.60s' not in the file", i, op, bn ? bn : "(not a name)");
            if (n->b && (n->b->dtype != RN_DT_F32 || n->b->count != n->N)) RN_FAIL("node %d: bias must be F32 [%zu]", i, n->N);
            n->bn_s = rn_find(&m->file, sn);
            if (rn_json_get(nd, "scale") && !n->bn_s) RN_FAIL("node %d (%s): scale tensor '%.60s' not in the file", i, op, sn ? sn : "(not a name)");
            if (n->bn_s && (n->bn_s->dtype != RN_DT_F32 || n->bn_s->count != n->N)) RN_FAIL("node %d: scale must be F32 [%zu]", i, n->N);
            if (n->wtype == 2 && (o == RN_OP_DWCONV)) RN_FAIL("node %d: binary depthwise is not supported", i);
            if (rn_json_get(nd, "out_stats")) {
                const char *tn = rn_json_str(nd, "out_stats");
                size_t c;
                n->stats = rn_find(&m->file, tn);
                if (!n->stats || n->stats->dtype != RN_DT_F32 || n->stats->ndim != 2 || n->stats->shape[0] != 2 || n->stats->shape[1] != n->N)
                    RN_FAIL("node %d (%s): out_stats must name an F32 [2][%zu] tensor (mean, deviation per output channel)", i, op, n->N);
                if (!rn_finite(n->stats)) RN_FAIL("node %d (%s): out_stats '%.100s' holds NaN or Inf", i, op, n->stats->name);
                for (c = 0; c < n->N; c++)
                    if (((const float *)n->stats->data)[n->N + c] < 0) RN_FAIL("node %d (%s): out_stats '%.100s': a negative deviation", i, op, n->stats->name);
            }
        }
        if (o == RN_OP_SIGN && rn_json_get(nd, "threshold")) {
            n->thr = rn_find(&m->file, rn_json_str(nd, "threshold"));
            if (!n->thr || n->thr->dtype != RN_DT_F32 || n->thr->count != 1) RN_FAIL("node %d (sign): threshold must be an F32 [1] tensor", i);
        }
        {
            const rn_tensor *ts[5];
            int t;
            ts[0] = n->w; ts[1] = n->b; ts[2] = n->bn_s; ts[3] = n->bn_b; ts[4] = n->thr;
            for (t = 0; t < 5; t++) if (ts[t] && !rn_finite(ts[t])) RN_FAIL("node %d (%s): tensor '%.100s' holds NaN or Inf", i, op, ts[t]->name);
        }
        if (!y->h || !y->w || !y->c || (double)y->h * y->w * y->c > (double)((size_t)1 << 26)) RN_FAIL("node %d: output size out of range", i);
        y->size = y->h * y->w * y->c;
        m->nn++;
        if (o == RN_OP_BATCHNORM || o == RN_OP_NORMALIZE) { /* per channel y = x a + b (normalize: (x - mean) / std, kept as such) */
            size_t c;
            n->chan_a = (float *)malloc(sizeof(float) * x->c);
            n->chan_b = (float *)malloc(sizeof(float) * x->c);
            if (!n->chan_a || !n->chan_b) RN_FAIL("out of memory");
            if (o == RN_OP_BATCHNORM) {
                const rn_tensor *ta = rn_find(&m->file, rn_json_str(nd, "scale")), *tb = rn_find(&m->file, rn_json_str(nd, "bias"));
                if (!ta || !tb || ta->dtype != RN_DT_F32 || tb->dtype != RN_DT_F32 || ta->count != x->c || tb->count != x->c)
                    RN_FAIL("node %d (batchnorm): scale and bias must be F32 [%zu] tensors", i, x->c);
                if (!rn_finite(ta) || !rn_finite(tb)) RN_FAIL("node %d (batchnorm): scale or bias holds NaN or Inf", i);
                memcpy(n->chan_a, ta->data, sizeof(float) * x->c); memcpy(n->chan_b, tb->data, sizeof(float) * x->c);
            } else {
                const rn_json *mn = rn_json_get(nd, "mean"), *sd = rn_json_get(nd, "std");
                if (!mn || !sd || mn->type != RN_JSON_ARR || sd->type != RN_JSON_ARR || (size_t)mn->n != x->c || (size_t)sd->n != x->c)
                    RN_FAIL("node %d (normalize): mean and std must be lists of %zu numbers", i, x->c);
                for (c = 0; c < x->c; c++) {
                    if (mn->kids[c].type != RN_JSON_NUM || sd->kids[c].type != RN_JSON_NUM || !(fabs(mn->kids[c].num) < 1e30) ||
                        !(sd->kids[c].num > 1e-30 && sd->kids[c].num < 1e30)) RN_FAIL("node %d (normalize): mean must be finite and std > 0", i);
                    n->chan_a[c] = (float)sd->kids[c].num; n->chan_b[c] = (float)mn->kids[c].num; /* std, mean */
                }
            }
        }
        if (o == RN_OP_RELU_CLIP) { /* y = min(max(x, 0), max[c]) */
            const rn_tensor *tm = rn_json_get(nd, "max") ? rn_find(&m->file, rn_json_str(nd, "max")) : NULL;
            size_t c;
            if (!tm || tm->dtype != RN_DT_F32 || tm->count != x->c) RN_FAIL("node %d (relu_clip): max must name an F32 [%zu] tensor (the bound of each channel)", i, x->c);
            if (!(n->chan_a = (float *)malloc(sizeof(float) * x->c)) || !(n->chan_hi = (uint8_t *)malloc(x->c))) RN_FAIL("out of memory");
            memcpy(n->chan_a, tm->data, sizeof(float) * x->c);
            n->clip = tm;
            for (c = 0; c < x->c; c++)
                if (!(n->chan_a[c] >= 0 && n->chan_a[c] < 1e30f)) RN_FAIL("node %d (relu_clip): max '%.100s' must be finite and >= 0 (channel %zu)", i, tm->name, c);
        }
        if (n->bn_s || n->groups > 1) {
            /* y = s * (x . w) + b: s folded into a copy of the weights, per output
             * channel; grouped weights placed block-diagonally in [out][kh][kw][in]
             * (zeros outside the group: the same sums as the grouped conv) */
            const float *w = (const float *)n->w->data, *s = n->bn_s ? (const float *)n->bn_s->data : NULL;
            size_t o2, k, G = (size_t)n->groups, Cg = x->c / G, Og = n->N / G, T = n->cs.k_h * n->cs.k_w;
            n->fold = (float *)calloc(n->K * n->N + 1, sizeof(float));
            if (!n->fold) RN_FAIL("out of memory");
            for (o2 = 0; o2 < n->N; o2++)
                for (k = 0; k < n->K; k++) {
                    size_t idx = o == RN_OP_DWCONV ? k * n->N + o2 : o2 * n->K + k;
                    if (G > 1) { /* k = tap * C + c: inside o2's group only */
                        size_t t = k / x->c, c = k % x->c, g = o2 / Og;
                        if (c / Cg != g) continue;
                        n->fold[idx] = w[(o2 * T + t) * Cg + (c - g * Cg)] * (s ? s[o2] : 1.0f);
                    } else n->fold[idx] = w[idx] * s[o2];
                }
            for (k = 0; k < n->K * n->N; k++) if (!(n->fold[k] - n->fold[k] == 0.0f)) RN_FAIL("node %d (%s): weight x scale overflows float", i, op);
        }
    }
    if ((m->output = rn_value_id(m, outname, 0)) < 0) RN_FAIL("graph: output '%.60s' is not produced", outname);
    if (m->output == m->input) RN_FAIL("graph: the output is the input");
    /* fused relu: a conv / dense whose output is read by exactly one node, a
     * relu, and is not the graph's output writes the relu's output (wherever
     * the relu sits in the list: no node between them can read that value,
     * which the relu defines) */
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        int j, uses = 0, r = -1;
        if (n->op != RN_OP_CONV && n->op != RN_OP_DWCONV && n->op != RN_OP_DENSE) continue;
        for (j = 0; j < m->nn; j++) {
            int k;
            for (k = 0; k < m->n[j].nin; k++) if (m->n[j].in[k] == n->out) { uses++; r = j; }
        }
        if (n->out == m->output || uses != 1 || m->n[r].op != RN_OP_RELU) continue;
        n->fused_relu = 1; n->y = m->n[r].out; m->n[r].skip = 1;
    }
    rn_json_free(&g);
    return 0;
fail:
    rn_json_free(&g);
    return -1;
}
#undef RN_FAIL

/* the largest uint8 activation code: 255, or 127 with reduce_range */
#define RN_QMAX(m) ((m)->reduce_range ? 127 : 255)

/* --------------------------------------------------------------- planning */

static const char *const rn_mode_names[RN_MODE_COUNT] = { "fp32", "int8", "int8-dynamic", "int4", "ternary", "binary", "mixed", "codebook" };

/* quant_quantize1(x, inv, 0, lo, hi) inline, for the clipping searches
 * below, which call it for every weight and candidate scale (71 and 51 of
 * them): out of line that was half of a model's preparation. The same
 * arithmetic: x * inv rounded to float, then to the nearest integer with
 * ties to even (nearbyintf, default rounding mode), clamped; NaN gives 0
 * clamped. test_runner compares the two on special and random values. */
RN_FN int32_t rn_q1(float x, float inv, int32_t lo, int32_t hi) {
#if FLT_EVAL_METHOD == 0
    const float r = nearbyintf(x * inv);
#else
    volatile float p = x * inv; /* excess precision: rounded to float first, as quant_quantize1 does */
    const float r = nearbyintf(p);
#endif
    if (r != r) return lo > 0 ? lo : hi < 0 ? hi : 0;
    return r <= (float)lo ? lo : r >= (float)hi ? hi : (int32_t)r;
}

/* weight quantization of one node for its mode: int8 values + per-channel
 * scale (symmetric per channel, [-q, q] with q = 127, 7 or 1 for ternary);
 * per_tensor (not ternary): one scale for the whole tensor (its largest |w|
 * / q; below 8 bits the clipping with the least squared error), written to
 * every channel's scale */
/* below 8 bits: the scale s0 * f / 100 (f = 100 down to 30) with the least
 * squared error over the cnt weights w[0], w[stride], ... (the first on ties) */
RN_FN float rn_clip_scale(const float *w, size_t cnt, size_t stride, float s0, int qmax) {
    double best = -1;
    float s = s0;
    size_t k;
    int f;
    for (f = 100; f >= 30; f -= 1) {
        float sc = s0 * (float)f / 100.0f, inv = 1.0f / sc;
        double e = 0;
        /* (a partial sum of squares never decreases: once it reaches the
         * best, this candidate cannot win, and the rest is skipped) */
        for (k = 0; k < cnt && (best < 0 || e < best); k++) {
            float v = w[k * stride];
            double d = (double)v - (double)rn_q1(v, inv, -qmax, qmax) * sc;
            e += d * d;
        }
        if (best < 0 || e < best) { best = e; s = sc; }
    }
    return s;
}
RN_FN void rn_quant_weights_g(const rn_node *n, int qmax, int ternary, int per_tensor, int8_t *wq, float *scale, double *sqnr) {
    size_t o, k, per = n->op == RN_OP_DWCONV ? 1 : n->K, N = n->N;
    const float *w = rn_wf(n);
    double sig = 0, noise = 0;
    float tam = 0.0f, ts = 1.0f;
    if (per_tensor && !ternary) {
        for (k = 0; k < n->K * N; k++) if (fabsf(w[k]) > tam) tam = fabsf(w[k]);
        ts = tam > 0 ? tam / (float)qmax : 1.0f;
        if (!(ts > 0)) ts = 1.0f;
        if (qmax < 127 && tam > 0) ts = rn_clip_scale(w, n->K * N, 1, ts, qmax);
    }
    for (o = 0; o < N; o++) {
        float am = 0.0f, s;
        /* depthwise weights are [kh][kw][c]: channel o is strided */
        const float *wo = n->op == RN_OP_DWCONV ? w + o : w + o * per;
        const size_t st = n->op == RN_OP_DWCONV ? N : 1;
        for (k = 0; k < n->K; k++)
            if (fabsf(wo[k * st]) > am) am = fabsf(wo[k * st]);
        s = ternary ? am : (am > 0 ? am / (float)qmax : 1.0f);
        if (!(s > 0)) s = 1.0f;
        /* low bit widths: the clipping scale with the least squared error
         * (per channel; per tensor it was chosen above) */
        if (!ternary && !per_tensor && qmax < 127 && am > 0) s = rn_clip_scale(wo, n->K, st, s, qmax);
        if (per_tensor && !ternary) s = ts;
        scale[o] = s;
        for (k = 0; k < n->K; k++) {
            size_t idx = n->op == RN_OP_DWCONV ? k * N + o : o * per + k;
            float v = w[idx];
            int32_t q = quant_quantize1(v, 1.0f / s, 0, -qmax, qmax);
            double d = (double)v - (double)q * s;
            wq[idx] = (int8_t)q;
            sig += (double)v * v; noise += d * d;
        }
    }
    *sqnr = noise > 0 ? 10 * log10(sig / noise) : INFINITY;
}
RN_FN void rn_quant_weights(const rn_node *n, int qmax, int ternary, int8_t *wq, float *scale, double *sqnr) {
    rn_quant_weights_g(n, qmax, ternary, 0, wq, scale, sqnr);
}

/* int4 blocks of 32 along K, one fp16-rounded scale each, chosen per block
 * for the least squared error (clipping factors 1.00 .. 0.50 of absmax / 7,
 * values in [-8, 7]): wq[N][K], sc[N][nb], the weight SQNR in dB. */
RN_FN void rn_q4_quantize(const rn_node *n, int8_t *wq, float *sc, double *sqnr) {
    const size_t N = n->N, K = n->K, nb = (K + 31) / 32;
    const float *w = rn_wf(n);
    double sig = 0, noise = 0;
    size_t o, b, k;
    for (o = 0; o < N; o++)
        for (b = 0; b < nb; b++) {
            const float *v = w + o * K + b * 32;
            const size_t len = K - b * 32 < 32 ? K - b * 32 : 32;
            float am = 0.0f, best_s = 0.0f;
            double best = -1;
            int f;
            for (k = 0; k < len; k++) if (fabsf(v[k]) > am) am = fabsf(v[k]);
            if (am > 0 && am < 1e30f)
                for (f = 100; f >= 50; f--) {
                    float s = quant_fp16_to_fp32(quant_fp32_to_fp16(am / 7.0f * (float)f / 100.0f)), inv;
                    double e = 0;
                    if (!(s > 0) || s > 65504.0f) continue;
                    inv = 1.0f / s;
                    for (k = 0; k < len && (best < 0 || e < best); k++) { /* (as in rn_clip_scale) */
                        double d = (double)v[k] - (double)rn_q1(v[k], inv, -8, 7) * s;
                        e += d * d;
                    }
                    if (best < 0 || e < best) { best = e; best_s = s; }
                }
            sc[o * nb + b] = best_s;
            for (k = 0; k < len; k++) {
                int32_t q = best_s > 0 ? quant_quantize1(v[k], 1.0f / best_s, 0, -8, 7) : 0;
                double d = (double)v[k] - (double)q * best_s;
                wq[o * K + b * 32 + k] = (int8_t)q;
                sig += (double)v[k] * v[k]; noise += d * d;
            }
        }
    *sqnr = noise > 0 ? 10 * log10(sig / noise) : INFINITY;
}

/* The int4 layer's weights into n->packed: from a quantized file's
 * NAME.q4 (U8 [N][ceil(K / 2)], int4 two's complement, low nibble first,
 * each row from a byte boundary) and NAME.q4scale (F16 [N][nb]) if present,
 * or else from a per-channel NAME.q / NAME.scale (every block with its
 * channel's scale), or else quantized here (rn_q4_quantize). */
RN_FN int rn_q4_weights(rn_model *m, rn_node *n) {
    const size_t N = n->N, K = n->K, nb = (K + 31) / 32, rb = (K + 1) / 2;
    int8_t *wq = (int8_t *)malloc(K * N + 1);
    float *sc = (float *)malloc(sizeof(float) * N * nb + 4);
    size_t o, b;
    char nm[256];
    const rn_tensor *tq, *ts, *t4, *t4s;
    quant_status st;
    if (!wq || !sc) { free(wq); free(sc); snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
    snprintf(nm, sizeof nm, "%s.q", n->w->name); tq = rn_find(&m->file, nm);
    snprintf(nm, sizeof nm, "%s.scale", n->w->name); ts = rn_find(&m->file, nm);
    snprintf(nm, sizeof nm, "%s.q4", n->w->name); t4 = rn_find(&m->file, nm);
    snprintf(nm, sizeof nm, "%s.q4scale", n->w->name); t4s = rn_find(&m->file, nm);
    n->sqnr = NAN;
    if (t4 || t4s) {
        if (!t4 || !t4s || t4->dtype != RN_DT_U8 || t4->count != N * rb || t4s->dtype != RN_DT_F16 || t4s->count != N * nb) {
            free(wq); free(sc); snprintf(m->err, sizeof m->err, "%.200s: int4 block tensors malformed", n->w->name); return -1;
        }
        for (o = 0; o < N; o++) quant_unpack((const uint8_t *)t4->data + o * rb, K, QUANT_I4, wq + o * K);
        for (b = 0; b < N * nb; b++) {
            uint16_t h;
            memcpy(&h, (const unsigned char *)t4s->data + 2 * b, 2);
            sc[b] = quant_fp16_to_fp32(h);
        }
    } else if (tq || ts) {
        const float *fs = (const float *)(ts ? ts->data : NULL);
        if (!tq || !ts || tq->dtype != RN_DT_I8 || tq->count != K * N || ts->dtype != RN_DT_F32 || ts->count != N) {
            free(wq); free(sc); snprintf(m->err, sizeof m->err, "%.100s.q / .scale malformed (want I8 with %zu values and F32 [%zu])", n->w->name, K * N, N); return -1;
        }
        memcpy(wq, tq->data, K * N);
        for (o = 0; o < N; o++) {
            if (!(fs[o] > 0) || fs[o] > 1e30f) { free(wq); free(sc); snprintf(m->err, sizeof m->err, "%.200s: bad scale", nm); return -1; }
            for (b = 0; b < nb; b++) sc[o * nb + b] = fs[o];
        }
    } else rn_q4_quantize(n, wq, sc, &n->sqnr);
    st = quant_gemm_q4_pack(wq, sc, K, N, n->packed, quant_gemm_q4_pack_size(K, N));
    free(wq); free(sc);
    if (st != QUANT_OK) { snprintf(m->err, sizeof m->err, "%.160s: int4 weights refused (%.40s)", n->w->name, quant_status_str(st)); return -1; }
    m->weight_bytes += rb * N + 2 * N * nb + 4 * N; /* nibbles, fp16 scales, bias */
    return 0;
}

/* fp32 conv workspace (floats): the im2col of 32 pixels; for the direct
 * conv2d (rn_f32_conv), T tap offsets and the input with its zero border,
 * if that is larger; a depthwise conv's C zeros */
RN_FN double rn_f32_conv_ws(const rn_node *n) {
    const quant_conv_shape *cs = &n->cs;
    double col = n->op == RN_OP_DWCONV ? (double)cs->in_c : 32.0 * (double)n->K;
    double direct = (double)((cs->k_h * cs->k_w * sizeof(size_t) + 63) / 64 * 16)
                  + (double)(cs->in_h + cs->pad_top + cs->pad_bottom) * (double)(cs->in_w + cs->pad_left + cs->pad_right) * (double)cs->in_c;
    return n->op == RN_OP_CONV && direct > col ? direct : col;
}

/* Allocates every buffer for `batch` samples and prepares the weights. */
RN_FN int rn_prepare(rn_model *m, int batch) {
    size_t need = 0;
    int i, pass;
    m->batch = batch;
#ifdef RN_GUARD
    m->nguard = 0;
#endif
    for (pass = 0; pass < 2; pass++) { /* pass 0 sizes the arena, pass 1 carves it */
        size_t total = 0;
#define RN_ALLOC(ptr, type, count) do { double d_ = (double)(count) * (double)sizeof(type); size_t b_; \
        if (d_ > (double)RN_MAX_ARENA || (double)total + d_ > (double)RN_MAX_ARENA) { \
            snprintf(m->err, sizeof m->err, "the model needs more than %lu MiB of buffers at batch %d", (unsigned long)(RN_MAX_ARENA >> 20), batch); return -1; } \
        b_ = ((size_t)d_ + 63) / 64 * 64; total += b_; \
        if (pass) { (ptr) = (type *)rn_alloc(m, b_); if (!(ptr)) { snprintf(m->err, sizeof m->err, "arena"); return -1; } } } while (0)
#ifdef RN_GUARD /* the guard block right after a value buffer */
/* the guard covers the block's rounding slack from the buffer's last byte on, then a block of its own */
#define RN_GUARD_AFTER(ptr, used) do { unsigned char *g_; size_t u_ = (size_t)(used); RN_ALLOC(g_, unsigned char, RN_GUARD_BYTES); \
        if (pass) { unsigned char *s_ = (unsigned char *)(ptr) + u_; memset(s_, RN_GUARD_BYTE, (size_t)(g_ + RN_GUARD_BYTES - s_)); \
                    m->guard[m->nguard] = s_; m->guard_len[m->nguard++] = (size_t)(g_ + RN_GUARD_BYTES - s_); } } while (0)
#else
#define RN_GUARD_AFTER(ptr, used) do { (void)(ptr); } while (0)
#endif
        for (i = 0; i < m->nv; i++) {
            rn_value *v = &m->v[i];
            RN_ALLOC(v->f, float, (double)v->size * batch);
            RN_GUARD_AFTER(v->f, v->size * (size_t)batch * sizeof(float));
            RN_ALLOC(v->q, uint8_t, (double)v->size * batch);
            RN_GUARD_AFTER(v->q, v->size * (size_t)batch);
            RN_ALLOC(v->bits, uint64_t, (double)v->h * v->w * quant_bits_words(v->c) * batch + 1);
            RN_GUARD_AFTER(v->bits, (v->h * v->w * quant_bits_words(v->c) * (size_t)batch + 1) * 8);
        }
        for (i = 0; i < m->nn; i++) {
            rn_node *n = &m->n[i];
            size_t N = n->N, K = n->K, rows;
            if (n->op == RN_OP_BATCHNORM || n->op == RN_OP_NORMALIZE) { /* the uint8 path's factors */
                RN_ALLOC(n->bscale, float, m->v[n->in[0]].c);
                RN_ALLOC(n->bbias, float, m->v[n->in[0]].c);
            }
            if (n->op != RN_OP_CONV && n->op != RN_OP_DWCONV && n->op != RN_OP_DENSE) continue;
            rows = n->op == RN_OP_DENSE ? (size_t)batch : m->v[n->out].h * m->v[n->out].w;
            n->q4 = 0;
            RN_ALLOC(n->bias, float, N);
            RN_ALLOC(n->wscale, float, N);
            RN_ALLOC(n->bias_q, int32_t, N);
            RN_ALLOC(n->rq, quant_requant, N);
            RN_ALLOC(n->ascale, float, rows > (size_t)batch ? rows : (size_t)batch);
            RN_ALLOC(n->bscale, float, N);
            RN_ALLOC(n->bbias, float, N);
            if (m->mode == RN_FP32 || (m->mode == RN_CODEBOOK && n->op != RN_OP_DENSE)) {
                RN_ALLOC(n->wt, float, (double)K * N);
                if (n->op != RN_OP_DENSE) RN_ALLOC(n->ws, float, rn_f32_conv_ws(n));
                else if (m->mode == RN_FP32) RN_ALLOC(n->ws, size_t, K); /* the nonzero inputs of a row */
            }
            if (m->mode == RN_CODEBOOK && n->op == RN_OP_DENSE) RN_ALLOC(n->packed, unsigned char, quant_codebook_pack_size(4, N, K));
            if (m->mode == RN_BINARY && n->wtype == 2) {
                if (n->op == RN_OP_CONV) { RN_ALLOC(n->packed, unsigned char, quant_bconv2d_pack_size(&n->cs)); n->ws_bytes = quant_bconv2d_workspace_size(&n->cs); }
                else RN_ALLOC(n->packed, unsigned char, quant_bgemm_pack_size(K, N, 0));
                RN_ALLOC(n->ws, unsigned char, (double)n->ws_bytes + 64);
            } else if (m->mode != RN_FP32 && m->mode != RN_CODEBOOK) {
                n->q4 = n->op != RN_OP_DWCONV && (m->mode == RN_INT4 || (m->mode == RN_MIXED && n->bits == 4));
                if (n->q4) {
                    RN_ALLOC(n->packed, unsigned char, quant_gemm_q4_pack_size(K, N));
                    n->ws_bytes = n->op == RN_OP_CONV ? quant_conv2d_workspace_size(&n->cs) : 0;
                } else if (n->op == RN_OP_CONV) { RN_ALLOC(n->packed, unsigned char, quant_conv2d_pack_size(&n->cs)); n->ws_bytes = quant_conv2d_workspace_size(&n->cs); }
                else if (n->op == RN_OP_DWCONV) { RN_ALLOC(n->packed, unsigned char, quant_dwconv2d_pack_size(&n->cs)); n->ws_bytes = 0; }
                else RN_ALLOC(n->packed, unsigned char, quant_gemm_pack_size(K, N));
                RN_ALLOC(n->ws, unsigned char, (double)n->ws_bytes + 64);
            }
        }
#undef RN_ALLOC
#undef RN_GUARD_AFTER
        if (!pass) {
            need = total + 64 * 8;
            free(m->arena);
            m->arena = (unsigned char *)calloc(need + 64, 1); /* zeroed: values a run never writes read as 0 */
            if (!m->arena) { snprintf(m->err, sizeof m->err, "out of memory (%zu bytes)", need); return -1; }
            m->arena_size = need; m->arena_used = (size_t)(((uintptr_t)64 - ((uintptr_t)m->arena & 63)) & 63);
        }
    }
    /* the weights, in the layout of the mode */
    m->weight_bytes = 0;
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        size_t N = n->N, K = n->K, o, k;
        const float *w;
        if (n->op != RN_OP_CONV && n->op != RN_OP_DWCONV && n->op != RN_OP_DENSE) continue;
        w = rn_wf(n);
        for (o = 0; o < N; o++) n->bias[o] = n->b ? ((const float *)n->b->data)[o] : 0.0f;
        if (m->mode != RN_FP32) { /* a quantized file's bias-corrected bias (quant-tool --bias-correct) */
            char nm[256];
            const rn_tensor *qb;
            snprintf(nm, sizeof nm, "%s.qbias", n->w->name);
            if ((qb = rn_find(&m->file, nm)) != NULL) {
                if (qb->dtype != RN_DT_F32 || qb->count != N || !rn_finite(qb)) {
                    snprintf(m->err, sizeof m->err, "%.200s: must be finite F32 [%zu]", nm, N); return -1;
                }
                memcpy(n->bias, qb->data, N * sizeof(float));
            }
        }
        if (m->mode == RN_CODEBOOK && n->op == RN_OP_DENSE) {
            /* weight sharing: one 16-entry codebook per layer (1-D k-means), 4-bit indices */
            float cb[16];
            quant_kmeans_opts ko;
            size_t rb = quant_codebook_row_bytes(4, K);
            uint8_t *idx = (uint8_t *)malloc(rb * N + 1); /* load-time scratch */
            double sig = 0, noise = 0;
            char nm[256];
            const rn_tensor *tc, *ti;
            if (!idx) { snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
            snprintf(nm, sizeof nm, "%.200s.codebook", n->w->name); tc = rn_find(&m->file, nm);
            snprintf(nm, sizeof nm, "%.200s.idx", n->w->name); ti = rn_find(&m->file, nm);
            if ((tc || ti) && !(tc && ti && tc->dtype == RN_DT_F32 && tc->count == 16 && ti->dtype == RN_DT_U8 && ti->count == rb * N)) {
                free(idx); snprintf(m->err, sizeof m->err, "%.100s.codebook / .idx malformed (want F32 [16] and U8 [%zu][%zu])", n->w->name, N, rb); return -1;
            }
            if (tc && ti) {
                /* a codebook file: its codebook and indices as stored (checked by the packer) */
                memcpy(cb, tc->data, sizeof cb);
                memcpy(idx, ti->data, rb * N);
            } else {
                quant_kmeans_opts_default(&ko);
                if (quant_codebook_train(w, K * N, 16, &ko, cb, NULL) != QUANT_OK) { free(idx); snprintf(m->err, sizeof m->err, "codebook training failed"); return -1; }
                for (o = 0; o < N; o++) quant_codebook_encode(w + o * K, K, cb, 16, 4, idx + o * rb);
            }
            for (o = 0; o < N; o++) for (k = 0; k < K; k++) {
                float v = w[o * K + k], q = cb[(idx[o * rb + k / 2] >> (4 * (k & 1))) & 15];
                sig += (double)v * v; noise += ((double)v - q) * ((double)v - q);
            }
            n->sqnr = noise > 0 ? 10 * log10(sig / noise) : INFINITY;
            if (quant_codebook_pack(idx, 4, N, K, cb, 16, n->packed, quant_codebook_pack_size(4, N, K)) != QUANT_OK) {
                free(idx); snprintf(m->err, sizeof m->err, "codebook packing failed"); return -1;
            }
            free(idx);
            m->weight_bytes += (K * N + 1) / 2 + 16 * 4 + 4 * N;
            continue;
        }
        if (m->mode == RN_FP32 || (m->mode == RN_CODEBOOK && n->op != RN_OP_DENSE)) {
            size_t per = n->op == RN_OP_DWCONV ? 1 : K;
            /* w: the weights with the scale folded in (rn_wf) */
            for (o = 0; o < N; o++) for (k = 0; k < K; k++) n->wt[k * N + o] = n->op == RN_OP_DWCONV ? w[k * N + o] : w[o * per + k];
            m->weight_bytes += 4 * K * N + 4 * N;
            n->sqnr = INFINITY;
            continue;
        }
        if (m->mode == RN_BINARY && n->wtype == 2) {
            /* signs of the stored weights, alpha = mean |w| times the scale */
            size_t wk = quant_bits_words(n->op == RN_OP_CONV ? n->cs.in_c : K), taps = n->op == RN_OP_CONV ? n->cs.k_h * n->cs.k_w : 1;
            size_t inc = n->op == RN_OP_CONV ? n->cs.in_c : K;
            uint64_t *bits = (uint64_t *)calloc(N * taps * wk + 1, 8); /* load-time scratch */
            float *alpha = (float *)malloc(sizeof(float) * N + 4);
            if (!bits || !alpha) { free(bits); free(alpha); snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
            w = (const float *)n->w->data;
            for (o = 0; o < N; o++) {
                double s = 0;
                for (k = 0; k < K; k++) s += fabs(w[o * K + k]);
                alpha[o] = (float)(s / (double)K);
                for (k = 0; k < K; k++) { size_t t = k / inc, c = k % inc; if (w[o * K + k] < 0) bits[(o * taps + t) * wk + c / 64] |= (uint64_t)1 << (c % 64); }
                n->bscale[o] = alpha[o] * (n->bn_s ? ((const float *)n->bn_s->data)[o] : 1.0f);
                n->bbias[o] = n->bias[o];
            }
            if (n->op == RN_OP_CONV) quant_bconv2d_pack(bits, &n->cs, n->packed, quant_bconv2d_pack_size(&n->cs));
            else quant_bgemm_pack(bits, NULL, N, K, n->packed, quant_bgemm_pack_size(K, N, 0));
            free(bits); free(alpha);
            m->weight_bytes += (K * N + 7) / 8 + 8 * N;
            n->sqnr = NAN;
            continue;
        }
        if (n->q4) {
            if (rn_q4_weights(m, n) != 0) return -1;
            continue;
        }
        {
            int8_t *wq = (int8_t *)malloc(K * N + 1);
            int qmax = 127, tern = 0;
            if (!wq) { snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
            if (m->mode == RN_INT4 || (m->mode == RN_MIXED && n->bits == 4)) qmax = 7;
            if (m->mode == RN_TERNARY && n->wtype == 1) { qmax = 1; tern = 1; }
            {
                char nm[256];
                const rn_tensor *tq, *ts;
                snprintf(nm, sizeof nm, "%s.q", n->w->name); tq = rn_find(&m->file, nm);
                snprintf(nm, sizeof nm, "%s.scale", n->w->name); ts = rn_find(&m->file, nm);
                if ((tq || ts) && !(tq && ts && tq->dtype == RN_DT_I8 && tq->count == K * N && ts->dtype == RN_DT_F32 && ts->count == N)) {
                    free(wq); snprintf(m->err, sizeof m->err, "%.100s.q / .scale malformed (want I8 with %zu values and F32 [%zu])", n->w->name, K * N, N); return -1;
                }
                if (tq && ts) {
                    /* a quantized file: its weights and scales as stored */
                    memcpy(wq, tq->data, K * N);
                    memcpy(n->wscale, ts->data, 4 * N);
                    for (o = 0; o < N; o++) if (!(n->wscale[o] > 0) || n->wscale[o] > 1e30f) { free(wq); snprintf(m->err, sizeof m->err, "%.200s: bad scale", nm); return -1; }
                    n->sqnr = NAN;
                } else rn_quant_weights_g(n, qmax, tern, m->per_tensor, wq, n->wscale, &n->sqnr);
            }
            if (n->op == RN_OP_CONV) quant_conv2d_pack(wq, &n->cs, 0, n->packed, quant_conv2d_pack_size(&n->cs));
            else if (n->op == RN_OP_DWCONV) quant_dwconv2d_pack(wq, &n->cs, 0, n->packed, quant_dwconv2d_pack_size(&n->cs));
            else quant_gemm_pack(wq, QUANT_LAYOUT_NK, K, N, 0, n->packed, quant_gemm_pack_size(K, N));
            free(wq);
            m->weight_bytes += (K * N * (size_t)(qmax == 127 ? 8 : qmax == 7 ? 4 : 2) + 7) / 8 + 4 * N + 4 * N;
        }
    }
    return 0;
}

/* -------------------------------------------------------------- execution */


/* fp32: out[r][N] = in[r][K] x wt[K][N] + bias, and a convolution as the same
 * product over an implicit im2col (k = (kh * k_w + kw) * in_c + c). Every
 * output is bias + the sum over k, in increasing k, of x[k] * w[k] (one
 * multiply and one add each, never reassociated): the vector kernels, the
 * plain loops and the im2col fallback give the same bits. */
#if defined(__GNUC__) && !defined(RN_NO_VECTOR_EXT)
typedef float rn_v16f __attribute__((vector_size(64)));
typedef int32_t rn_v16i __attribute__((vector_size(64)));
#define RN_RB 8 /* rows of a register block (x 32 columns: 16 accumulators) */
/* The target's vector bytes: without 512-bit registers the 8 x 32 block
 * goes as 4-row x 2-vector sub-blocks (8 accumulators), and GCC splitting
 * 16 64-byte accumulators over 16 ymm spilled nearly every one (the AVX2
 * demo's fp32 ran at 4 ms an image). Every output keeps its order of
 * operations, so the bits do not depend on the width. */
#if defined(__AVX512F__)
#  define RN_VB 64
#elif defined(__AVX__)
#  define RN_VB 32
#else
#  define RN_VB 16
#endif
#define RN_VN (RN_VB / 4) /* floats a vector */
/* the column multiple the register blocks take: one 512-bit vector (16
 * columns: 8 x 32 blocks, and an 8 x 16 block for a last 16), else one
 * 4-row sub-block's two vectors (16 or 8 columns) */
#if RN_VB < 64
#  define RN_FCOLS (2 * RN_VN)
#else
#  define RN_FCOLS 16
#endif
typedef float rn_vf __attribute__((vector_size(RN_VB)));
typedef int32_t rn_vi __attribute__((vector_size(RN_VB)));
#if RN_VB < 64
/* rows p[0..3] (rows_valid of them stored) x columns o0 .. o0 + 2 RN_VN - 1 */
RN_FN void rn_f32_block4(size_t T, size_t C, size_t N, const float *const *p, const size_t *off, const float *wt,
                         const float *bias, float *out, size_t ldo, size_t o0, int rows_valid, int relu) {
    rn_vf a0, a1, a2, a3, b0, b1, b2, b3, w0, w1;
    size_t t, k;
    memcpy(&w0, bias + o0, RN_VB); memcpy(&w1, bias + o0 + RN_VN, RN_VB);
    a0 = a1 = a2 = a3 = w0;
    b0 = b1 = b2 = b3 = w1;
    for (t = 0; t < T; t++) {
        const size_t d = off[t];
        const float *x0 = p[0] + d, *x1 = p[1] + d, *x2 = p[2] + d, *x3 = p[3] + d;
        const float *wr = wt + t * C * N + o0;
        for (k = 0; k < C; k++, wr += N) {
            float s;
            memcpy(&w0, wr, RN_VB); memcpy(&w1, wr + RN_VN, RN_VB);
            s = x0[k]; a0 += s * w0; b0 += s * w1;
            s = x1[k]; a1 += s * w0; b1 += s * w1;
            s = x2[k]; a2 += s * w0; b2 += s * w1;
            s = x3[k]; a3 += s * w0; b3 += s * w1;
        }
    }
    {
        rn_vf acc[8], z;
        int r;
        acc[0] = a0; acc[1] = b0; acc[2] = a1; acc[3] = b1; acc[4] = a2; acc[5] = b2; acc[6] = a3; acc[7] = b3;
        if (relu) {
            memset(&z, 0, sizeof z);
            for (r = 0; r < 8; r++) {
                rn_vi neg = acc[r] < z;
                acc[r] = (rn_vf)((rn_vi)acc[r] & ~neg);
            }
        }
        for (r = 0; r < rows_valid; r++) memcpy(out + (size_t)r * ldo + o0, &acc[2 * r], 2 * RN_VB);
    }
}
#endif
/* rows_valid (<= RN_RB) rows x columns o0..o0+ncols-1 in 16 16-lane registers
 * (ncols: a multiple of RN_FCOLS up to 32; 16 with 512-bit registers: 8).
 * Row r's k-th input is p[r][off[t] + c] for k = t * C + c (t < T, c < C):
 * a convolution's pixels with an offset per kernel tap, or a dense layer's
 * rows (T = 1, off[0] = 0). Rows from rows_valid on repeat a valid row and
 * are not stored. relu: a negative sum is stored as +0, as the scalar relu
 * stores it (-0 and NaN pass). */
#if RN_VB >= 64
/* the 8 x 32 and 8 x 16 blocks' end: relu (a negative sum to +0, -0 and NaN
 * pass) over the RN_RB x nv accumulators, then rows_valid rows of nv vectors */
RN_FN void rn_f32_block_store(rn_v16f *acc, int nv, int rows_valid, int relu, float *out, size_t ldo, size_t o0) {
    int r;
    if (relu) {
        rn_v16f z;
        memset(&z, 0, sizeof z);
        for (r = 0; r < RN_RB * nv; r++) {
            rn_v16i neg = acc[r] < z;
            acc[r] = (rn_v16f)((rn_v16i)acc[r] & ~neg);
        }
    }
    for (r = 0; r < rows_valid; r++) memcpy(out + (size_t)r * ldo + o0, &acc[nv * r], (size_t)nv * 64);
}
#endif
RN_FN void rn_f32_block8x32(size_t T, size_t C, size_t N, const float *const *p, const size_t *off, const float *wt,
                            const float *bias, float *out, size_t ldo, size_t o0, size_t ncols, int rows_valid, int relu) {
#if RN_VB < 64
    int h;
    size_t c;
    for (h = 0; h < 2 && rows_valid > 4 * h; h++)
        for (c = 0; c < ncols; c += 2 * RN_VN)
            rn_f32_block4(T, C, N, p + 4 * h, off, wt, bias, out + (size_t)(4 * h) * ldo, ldo, o0 + c,
                          rows_valid - 4 * h < 4 ? rows_valid - 4 * h : 4, relu);
#else
    rn_v16f a0, a1, a2, a3, a4, a5, a6, a7, b0, b1, b2, b3, b4, b5, b6, b7, w0, w1;
    size_t t, k;
    if (ncols == 16) { /* one vector a row: the same sums, in the same order */
        rn_v16f acc[RN_RB];
        memcpy(&w0, bias + o0, 64);
        a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = w0;
        for (t = 0; t < T; t++) {
            const size_t d = off[t];
            const float *x0 = p[0] + d, *x1 = p[1] + d, *x2 = p[2] + d, *x3 = p[3] + d;
            const float *x4 = p[4] + d, *x5 = p[5] + d, *x6 = p[6] + d, *x7 = p[7] + d;
            const float *wr = wt + t * C * N + o0;
            for (k = 0; k < C; k++, wr += N) {
                memcpy(&w0, wr, 64);
                a0 += x0[k] * w0; a1 += x1[k] * w0; a2 += x2[k] * w0; a3 += x3[k] * w0;
                a4 += x4[k] * w0; a5 += x5[k] * w0; a6 += x6[k] * w0; a7 += x7[k] * w0;
            }
        }
        acc[0] = a0; acc[1] = a1; acc[2] = a2; acc[3] = a3; acc[4] = a4; acc[5] = a5; acc[6] = a6; acc[7] = a7;
        rn_f32_block_store(acc, 1, rows_valid, relu, out, ldo, o0);
        return;
    }
    memcpy(&w0, bias + o0, 64); memcpy(&w1, bias + o0 + 16, 64);
    a0 = a1 = a2 = a3 = a4 = a5 = a6 = a7 = w0;
    b0 = b1 = b2 = b3 = b4 = b5 = b6 = b7 = w1;
    for (t = 0; t < T; t++) {
        const size_t d = off[t];
        const float *x0 = p[0] + d, *x1 = p[1] + d, *x2 = p[2] + d, *x3 = p[3] + d;
        const float *x4 = p[4] + d, *x5 = p[5] + d, *x6 = p[6] + d, *x7 = p[7] + d;
        const float *wr = wt + t * C * N + o0;
        for (k = 0; k < C; k++, wr += N) {
            float s;
            memcpy(&w0, wr, 64); memcpy(&w1, wr + 16, 64);
            s = x0[k]; a0 += s * w0; b0 += s * w1;
            s = x1[k]; a1 += s * w0; b1 += s * w1;
            s = x2[k]; a2 += s * w0; b2 += s * w1;
            s = x3[k]; a3 += s * w0; b3 += s * w1;
            s = x4[k]; a4 += s * w0; b4 += s * w1;
            s = x5[k]; a5 += s * w0; b5 += s * w1;
            s = x6[k]; a6 += s * w0; b6 += s * w1;
            s = x7[k]; a7 += s * w0; b7 += s * w1;
        }
    }
    {
        rn_v16f acc[2 * RN_RB];
        acc[0] = a0; acc[1] = b0; acc[2] = a1; acc[3] = b1; acc[4] = a2; acc[5] = b2; acc[6] = a3; acc[7] = b3;
        acc[8] = a4; acc[9] = b4; acc[10] = a5; acc[11] = b5; acc[12] = a6; acc[13] = b6; acc[14] = a7; acc[15] = b7;
        rn_f32_block_store(acc, 2, rows_valid, relu, out, ldo, o0);
    }
#endif
}

/* one row, its zero inputs skipped (post-ReLU zeros are common): the nonzero
 * k listed first (nz: K entries), then columns o0.. in blocks of 8 vectors
 * and of RN_FCOLS over that list, in increasing k as the plain row loop */
RN_FN void rn_f32_row(size_t K, size_t N, const float *x, const float *wt, const float *bias, float *y, size_t *nz) {
    size_t k, m = 0, o = 0, i;
    for (k = 0; k < K; k++) { nz[m] = k; m += x[k] != 0.0f; }
    for (; o + 8 * RN_VN <= N; o += 8 * RN_VN) { /* 8 accumulators */
        rn_vf a[8], w;
        int j;
        memcpy(a, bias + o, sizeof a);
        for (i = 0; i < m; i++) {
            const float s = x[nz[i]], *wr = wt + nz[i] * N + o;
            for (j = 0; j < 8; j++) { memcpy(&w, wr + RN_VN * j, RN_VB); a[j] += s * w; }
        }
        memcpy(y + o, a, sizeof a);
    }
    for (; o < N; o += RN_FCOLS) { /* (N is a multiple of RN_FCOLS) */
        rn_vf a[RN_FCOLS / RN_VN], w;
        int j;
        memcpy(a, bias + o, sizeof a);
        for (i = 0; i < m; i++) {
            const float s = x[nz[i]], *wr = wt + nz[i] * N + o;
            for (j = 0; j < RN_FCOLS / RN_VN; j++) { memcpy(&w, wr + RN_VN * j, RN_VB); a[j] += s * w; }
        }
        memcpy(y + o, a, sizeof a);
    }
}
#endif

RN_FN void rn_relu_f32(float *y, size_t n) {
    size_t j;
    /* a select, not a conditional store, so it vectorizes; -0 and NaN pass */
    for (j = 0; j < n; j++) y[j] = y[j] < 0 ? 0.0f : y[j];
}

/* nz: K entries of workspace for single rows, or NULL */
RN_FN void rn_f32_matmul(size_t R, size_t K, size_t N, const float *in, size_t ldi, const float *wt, const float *bias, float *out,
                         int relu, size_t *nz) {
    size_t r = 0, k, o, r0;
    (void)nz;
#if defined(__GNUC__) && !defined(RN_NO_VECTOR_EXT)
    if (N % RN_FCOLS == 0) { /* register-blocked: the layers of the demo's CNN (32, 64, 128 columns) */
        const float *p[RN_RB];
        const size_t off0 = 0;
        /* 32 columns at a time over every row block: those K x 32 weights stay in cache (4 to 7 rows left: one block with
         * repeated rows) */
        size_t rend = R / RN_RB * RN_RB + (R % RN_RB >= 4 ? RN_RB : 0);
        for (o = 0; o < N; o += 32)
            for (r = 0; r < rend; r += RN_RB) {
                int i, rv = R - r < RN_RB ? (int)(R - r) : RN_RB;
                for (i = 0; i < RN_RB; i++) p[i] = in + (r + (size_t)(i < rv ? i : rv - 1)) * ldi;
                rn_f32_block8x32(1, K, N, p, &off0, wt, bias, out + r * N, N, o, N - o < 32 ? N - o : 32, rv, relu);
            }
        r = rend > R ? R : rend;
        if (nz) {
            for (r0 = r; r < R; r++) rn_f32_row(K, N, in + r * ldi, wt, bias, out + r * N, nz);
            if (relu) rn_relu_f32(out + r0 * N, (R - r0) * N);
            return;
        }
    }
#endif
    r0 = r;
    for (; r + 4 <= R; r += 4) {
        float *y0 = out + r * N, *y1 = y0 + N, *y2 = y1 + N, *y3 = y2 + N;
        const float *x0 = in + r * ldi, *x1 = x0 + ldi, *x2 = x1 + ldi, *x3 = x2 + ldi;
        for (o = 0; o < N; o++) y0[o] = y1[o] = y2[o] = y3[o] = bias[o];
        for (k = 0; k < K; k++) {
            const float a0 = x0[k], a1 = x1[k], a2 = x2[k], a3 = x3[k], *wr = wt + k * N;
            for (o = 0; o < N; o++) {
                const float w = wr[o];
                y0[o] += a0 * w; y1[o] += a1 * w; y2[o] += a2 * w; y3[o] += a3 * w;
            }
        }
    }
    for (; r < R; r++) {
        float *y = out + r * N;
        const float *x = in + r * ldi;
        for (o = 0; o < N; o++) y[o] = bias[o];
        for (k = 0; k < K; k++) {
            const float xv = x[k], *wr = wt + k * N;
            if (xv == 0.0f) continue; /* post-ReLU zeros are common */
            for (o = 0; o < N; o++) y[o] += xv * wr[o];
        }
    }
    if (relu) rn_relu_f32(out + r0 * N, (R - r0) * N);
}

/* One image of an fp32 conv2d or depthwise conv, relu fused (ws: the node's
 * workspace, rn_f32_conv_ws floats). */
RN_FN void rn_f32_conv(const rn_node *n, const rn_value *x, const rn_value *y, const float *xf, float *yf, int relu) {
    const quant_conv_shape *cs = &n->cs;
    size_t P = y->h * y->w, K = n->K, N = n->N, C = x->c, p0;
    float *col = (float *)n->ws;
#if defined(__GNUC__) && !defined(RN_NO_VECTOR_EXT)
    if (n->op == RN_OP_CONV && N % RN_FCOLS == 0) {
        /* blocks of RN_RB output pixels read straight from the input (copied
         * into a zero-bordered image when the conv pads), a pointer per pixel
         * and an offset per tap: no im2col. Workspace: the T offsets, then
         * the padded image (rn_f32_conv_ws). */
        size_t T = cs->k_h * cs->k_w, o, kh, kw, Hp = x->h + cs->pad_top + cs->pad_bottom, Wp = x->w + cs->pad_left + cs->pad_right;
        size_t *off = (size_t *)n->ws, yy = 0, xx = 0;
        const float *src = xf, *p[RN_RB];
        for (kh = 0; kh < cs->k_h; kh++)
            for (kw = 0; kw < cs->k_w; kw++) off[kh * cs->k_w + kw] = (kh * cs->dil_h * Wp + kw * cs->dil_w) * C;
        if (Hp != x->h || Wp != x->w) {
            float *pad = (float *)n->ws + (T * sizeof(size_t) + 63) / 64 * 16;
            size_t rowf = Wp * C, iy;
            memset(pad, 0, cs->pad_top * rowf * sizeof(float));
            for (iy = 0; iy < x->h; iy++) {
                float *d = pad + (cs->pad_top + iy) * rowf;
                memset(d, 0, cs->pad_left * C * sizeof(float));
                memcpy(d + cs->pad_left * C, xf + iy * x->w * C, x->w * C * sizeof(float));
                memset(d + (cs->pad_left + x->w) * C, 0, cs->pad_right * C * sizeof(float));
            }
            memset(pad + (cs->pad_top + x->h) * rowf, 0, cs->pad_bottom * rowf * sizeof(float));
            src = pad;
        }
        for (p0 = 0; p0 < P; p0 += RN_RB) {
            int r, rv = P - p0 < RN_RB ? (int)(P - p0) : RN_RB;
            for (r = 0; r < rv; r++) {
                p[r] = src + (yy * cs->stride_h * Wp + xx * cs->stride_w) * C;
                if (++xx == y->w) { xx = 0; yy++; }
            }
            for (r = 1; r < RN_RB; r++) if (r >= rv) p[r] = p[r - 1];
            for (o = 0; o < N; o += 32) rn_f32_block8x32(T, C, N, p, off, n->wt, n->bias, yf + p0 * N, N, o, N - o < 32 ? N - o : 32, rv, relu);
        }
        return;
    }
#endif
    if (n->op == RN_OP_DWCONV) {
        /* depthwise: pixel by pixel, the channels side by side (a loop the
         * compiler vectorizes), each output bias + its taps' products in
         * increasing tap order, a tap outside the input contributing 0 * w
         * as the im2col below did (ws: C zeros) */
        const float *zero = col;
        memset(col, 0, C * sizeof(float));
        for (p0 = 0; p0 < P; p0++) {
            size_t yy = p0 / y->w, xx = p0 % y->w, kh, kw, c;
            float *yo = yf + p0 * N;
            memcpy(yo, n->bias, N * sizeof(float));
            for (kh = 0; kh < cs->k_h; kh++)
                for (kw = 0; kw < cs->k_w; kw++) {
                    long ih = (long)(yy * cs->stride_h + kh * cs->dil_h) - (long)cs->pad_top;
                    long iw = (long)(xx * cs->stride_w + kw * cs->dil_w) - (long)cs->pad_left;
                    const float *src = ih >= 0 && iw >= 0 && ih < (long)x->h && iw < (long)x->w ? xf + ((size_t)ih * x->w + (size_t)iw) * C : zero;
                    const float *wr = n->wt + (kh * cs->k_w + kw) * N;
                    for (c = 0; c < C; c++) yo[c] += src[c] * wr[c];
                }
        }
        if (relu) rn_relu_f32(yf, P * N);
        return;
    }
    for (p0 = 0; p0 < P; p0 += 32) {
        size_t pc = P - p0 < 32 ? P - p0 : 32, t;
        for (t = 0; t < pc; t++) {
            size_t p = p0 + t, yy = p / y->w, xx = p % y->w, kh, kw;
            for (kh = 0; kh < cs->k_h; kh++)
                for (kw = 0; kw < cs->k_w; kw++) {
                    long ih = (long)(yy * cs->stride_h + kh * cs->dil_h) - (long)cs->pad_top;
                    long iw = (long)(xx * cs->stride_w + kw * cs->dil_w) - (long)cs->pad_left;
                    int inb = ih >= 0 && iw >= 0 && ih < (long)x->h && iw < (long)x->w;
                    const float *src = xf + ((size_t)(inb ? ih : 0) * x->w + (size_t)(inb ? iw : 0)) * C;
                    float *d = col + t * K + (kh * cs->k_w + kw) * C;
                    if (inb) memcpy(d, src, C * sizeof(float)); else memset(d, 0, C * sizeof(float));
                }
        }
        rn_f32_matmul(pc, K, N, col, K, n->wt, n->bias, yf + p0 * N, 0, NULL);
    }
    if (relu) rn_relu_f32(yf, P * N);
}

/* Whether every window of a pooling node lies inside its input (no padding
 * and no partial window from ceil_mode): the fast paths' case. */
RN_FN int rn_pool_full(const rn_node *n, const rn_value *x, const rn_value *y) {
    return !n->pad[0] && !n->pad[1] && !n->pad[2] && !n->pad[3] &&
           (y->h - 1) * (size_t)n->st[0] + (size_t)n->k[0] <= x->h && (y->w - 1) * (size_t)n->st[1] + (size_t)n->k[1] <= x->w;
}

/* The window of output (oy, ox) as PyTorch defines it: rows [*h0, *h1) and
 * columns [*w0, *w1) of the input; *psize the avg-pool divisor counting
 * padding (the window clipped to the padded input). */
RN_FN void rn_pool_window(const rn_node *n, const rn_value *x, size_t oy, size_t ox, size_t *h0, size_t *h1, size_t *w0, size_t *w1, long *psize) {
    long hs = (long)oy * n->st[0] - n->pad[0], ws = (long)ox * n->st[1] - n->pad[1];
    long he = hs + n->k[0], we = ws + n->k[1];
    long hp = he < (long)x->h + n->pad[2] ? he : (long)x->h + n->pad[2], wp = we < (long)x->w + n->pad[3] ? we : (long)x->w + n->pad[3];
    *psize = (hp - hs) * (wp - ws);
    *h0 = (size_t)(hs < 0 ? 0 : hs); *h1 = (size_t)(he > (long)x->h ? (long)x->h : he);
    *w0 = (size_t)(ws < 0 ? 0 : ws); *w1 = (size_t)(we > (long)x->w ? (long)x->w : we);
}

/* pooling with padding or partial windows: every window clipped to the
 * input; max ignores padding, avg divides by the padded window's size
 * (count_include_pad) or by the inputs it covers */
RN_FN void rn_pool_f32_general(const rn_node *n, const rn_value *x, const rn_value *y, const float *in, float *out) {
    size_t oy, ox, c, a, b, h0, h1, w0, w1, C = x->c;
    long psize;
    for (oy = 0; oy < y->h; oy++)
        for (ox = 0; ox < y->w; ox++) {
            float *o = out + (oy * y->w + ox) * C;
            size_t cnt;
            rn_pool_window(n, x, oy, ox, &h0, &h1, &w0, &w1, &psize);
            cnt = (h1 > h0 && w1 > w0) ? (h1 - h0) * (w1 - w0) : 0;
            for (c = 0; c < C; c++) o[c] = n->op == RN_OP_MAXPOOL && cnt ? -INFINITY : 0.0f;
            for (a = h0; a < h1; a++)
                for (b = w0; b < w1; b++) {
                    const float *s = in + (a * x->w + b) * C;
                    if (n->op == RN_OP_MAXPOOL) { for (c = 0; c < C; c++) o[c] = s[c] > o[c] ? s[c] : o[c]; }
                    else for (c = 0; c < C; c++) o[c] += s[c];
                }
            if (n->op == RN_OP_AVGPOOL) {
                long div = n->count_include_pad ? psize : (long)cnt;
                if (div > 0) for (c = 0; c < C; c++) o[c] /= (float)div;
            }
        }
}

RN_FN void rn_pool_u8_general(const rn_node *n, const rn_value *x, const rn_value *y, const uint8_t *in, uint8_t *out) {
    size_t oy, ox, c, a, b, h0, h1, w0, w1, C = x->c;
    long psize;
    uint32_t acc[4096];
    for (oy = 0; oy < y->h; oy++)
        for (ox = 0; ox < y->w; ox++) {
            uint8_t *o = out + (oy * y->w + ox) * C;
            size_t cnt;
            rn_pool_window(n, x, oy, ox, &h0, &h1, &w0, &w1, &psize);
            cnt = (h1 > h0 && w1 > w0) ? (h1 - h0) * (w1 - w0) : 0;
            for (c = 0; c < C && c < 4096; c++) acc[c] = 0;
            for (a = h0; a < h1; a++)
                for (b = w0; b < w1; b++) {
                    const uint8_t *s = in + (a * x->w + b) * C;
                    if (n->op == RN_OP_MAXPOOL) { for (c = 0; c < C && c < 4096; c++) acc[c] = s[c] > acc[c] ? s[c] : acc[c]; }
                    else for (c = 0; c < C && c < 4096; c++) acc[c] += s[c];
                }
            if (n->op == RN_OP_MAXPOOL) { for (c = 0; c < C && c < 4096; c++) o[c] = (uint8_t)acc[c]; }
            else {
                /* padded positions hold real 0, the code zp */
                uint32_t div = (uint32_t)(n->count_include_pad ? psize : (long)cnt), extra = n->count_include_pad ? (uint32_t)(psize - (long)cnt) * (uint32_t)x->zp : 0;
                for (c = 0; c < C && c < 4096; c++) o[c] = (uint8_t)(div ? (acc[c] + extra + div / 2) / div : (uint32_t)x->zp);
            }
        }
}

/* pooling with the channels as the inner, contiguous loop */
RN_FN void rn_pool_f32(const rn_node *n, const rn_value *x, const rn_value *y, const float *in, float *out) {
    size_t oy, ox, c, a, b, C = x->c;
    const float inv = 1.0f / (float)(n->k[0] * n->k[1]);
    if (!rn_pool_full(n, x, y)) { rn_pool_f32_general(n, x, y, in, out); return; }
#if defined(__GNUC__) && !defined(RN_NO_VECTOR_EXT)
    if (n->op == RN_OP_MAXPOOL && C % RN_VN == 0) { /* RN_VN channels in a register across the window, the same compares */
        for (oy = 0; oy < y->h; oy++)
            for (ox = 0; ox < y->w; ox++) {
                float *o = out + (oy * y->w + ox) * C;
                const float *s0 = in + (oy * (size_t)n->st[0] * x->w + ox * (size_t)n->st[1]) * C;
                for (c = 0; c < C; c += RN_VN) {
                    rn_vf v, s;
                    memcpy(&v, s0 + c, RN_VB);
                    for (a = 0; a < (size_t)n->k[0]; a++)
                        for (b = 0; b < (size_t)n->k[1]; b++) {
                            rn_vi gt;
                            if (!a && !b) continue;
                            memcpy(&s, s0 + (a * x->w + b) * C + c, RN_VB);
                            gt = s > v;
                            v = (rn_vf)(((rn_vi)s & gt) | ((rn_vi)v & ~gt));
                        }
                    memcpy(o + c, &v, RN_VB);
                }
            }
        return;
    }
#endif
    for (oy = 0; oy < y->h; oy++)
        for (ox = 0; ox < y->w; ox++) {
            float *o = out + (oy * y->w + ox) * C;
            for (a = 0; a < (size_t)n->k[0]; a++)
                for (b = 0; b < (size_t)n->k[1]; b++) {
                    const float *s = in + ((oy * (size_t)n->st[0] + a) * x->w + ox * (size_t)n->st[1] + b) * C;
                    if (!a && !b) { memcpy(o, s, C * sizeof(float)); continue; }
                    if (n->op == RN_OP_MAXPOOL) { for (c = 0; c < C; c++) o[c] = s[c] > o[c] ? s[c] : o[c]; }
                    else for (c = 0; c < C; c++) o[c] += s[c];
                }
            if (n->op == RN_OP_AVGPOOL) for (c = 0; c < C; c++) o[c] *= inv;
        }
}

RN_FN void rn_pool_u8(const rn_node *n, const rn_value *x, const rn_value *y, const uint8_t *in, uint8_t *out) {
    size_t oy, ox, c, a, b, C = x->c;
    unsigned cnt = (unsigned)(n->k[0] * n->k[1]);
    uint32_t acc[4096];
    if (!rn_pool_full(n, x, y)) { rn_pool_u8_general(n, x, y, in, out); return; }
    if (n->op == RN_OP_MAXPOOL && n->k[0] == 2 && n->k[1] == 2 && n->st[0] == 2 && n->st[1] == 2
        && 2 * y->h <= x->h && 2 * y->w <= x->w) { /* 2x2 stride 2: four rows of C bytes */
        for (oy = 0; oy < y->h; oy++)
            for (ox = 0; ox < y->w; ox++) {
                uint8_t *o = out + (oy * y->w + ox) * C;
                const uint8_t *s0 = in + (2 * oy * x->w + 2 * ox) * C, *s1 = s0 + C, *s2 = s0 + x->w * C, *s3 = s2 + C;
                /* 16-byte blocks through local copies: a fixed-length loop over
                 * arrays that cannot alias, which the compiler vectorizes (the
                 * plain loop over the pointers it kept a byte at a time) */
                for (c = 0; c + 16 <= C; c += 16) {
                    uint8_t p0[16], p1[16], p2[16], p3[16], v[16];
                    size_t t;
                    memcpy(p0, s0 + c, 16); memcpy(p1, s1 + c, 16); memcpy(p2, s2 + c, 16); memcpy(p3, s3 + c, 16);
                    for (t = 0; t < 16; t++) {
                        uint8_t u = p0[t] > p1[t] ? p0[t] : p1[t], w = p2[t] > p3[t] ? p2[t] : p3[t];
                        v[t] = u > w ? u : w;
                    }
                    memcpy(o + c, v, 16);
                }
                for (; c < C; c++) {
                    uint8_t u = s0[c] > s1[c] ? s0[c] : s1[c], v = s2[c] > s3[c] ? s2[c] : s3[c];
                    o[c] = u > v ? u : v;
                }
            }
        return;
    }
    if (n->op == RN_OP_MAXPOOL) { /* channels in 32-byte blocks held in a register across the window */
        for (oy = 0; oy < y->h; oy++)
            for (ox = 0; ox < y->w; ox++) {
                uint8_t *o = out + (oy * y->w + ox) * C;
                const uint8_t *s0 = in + (oy * (size_t)n->st[0] * x->w + ox * (size_t)n->st[1]) * C;
                for (c = 0; c + 32 <= C; c += 32) {
                    uint8_t v[32];
                    size_t t;
                    memcpy(v, s0 + c, 32);
                    for (a = 0; a < (size_t)n->k[0]; a++)
                        for (b = 0; b < (size_t)n->k[1]; b++) {
                            const uint8_t *s = s0 + (a * x->w + b) * C + c;
                            for (t = 0; t < 32; t++) v[t] = s[t] > v[t] ? s[t] : v[t];
                        }
                    memcpy(o + c, v, 32);
                }
                for (; c < C; c++) {
                    uint8_t v = s0[c];
                    for (a = 0; a < (size_t)n->k[0]; a++)
                        for (b = 0; b < (size_t)n->k[1]; b++) { uint8_t s = s0[(a * x->w + b) * C + c]; v = s > v ? s : v; }
                    o[c] = v;
                }
            }
        return;
    }
    for (oy = 0; oy < y->h; oy++)
        for (ox = 0; ox < y->w; ox++) {
            uint8_t *o = out + (oy * y->w + ox) * C;
            for (a = 0; a < (size_t)n->k[0]; a++)
                for (b = 0; b < (size_t)n->k[1]; b++) {
                    const uint8_t *s = in + ((oy * (size_t)n->st[0] + a) * x->w + ox * (size_t)n->st[1] + b) * C;
                    for (c = 0; c < C && c < 4096; c++) acc[c] = (!a && !b ? 0u : acc[c]) + s[c];
                }
            for (c = 0; c < C && c < 4096; c++) o[c] = (uint8_t)((acc[c] + cnt / 2) / cnt);
        }
}

RN_FN void rn_softmax(const float *x, size_t n, float *y) {
    size_t i;
    float mx = x[0], s = 0;
    for (i = 1; i < n; i++) if (x[i] > mx) mx = x[i];
    for (i = 0; i < n; i++) { y[i] = expf(x[i] - mx); s += y[i]; }
    for (i = 0; i < n; i++) y[i] /= s;
}

/* ------------------------------------------------------------- the plan */

/* The value kinds of the mode and the function each node runs, fixed once
 * at load (after rn_graph and rn_prepare): running is then a flat loop.
 *   fp32, int8-dynamic, codebook: every value float.
 *   int8, int4, ternary, mixed, binary: the input is uint8; a conv / dense
 *     writes uint8 unless its output is the graph's output or feeds a
 *     softmax (dequantized in its epilogue) or, in binary mode, a sign (the
 *     thresholds see the exact values); relu, pooling, gap and flatten keep
 *     their input's kind; add is uint8 when both inputs are; softmax is
 *     float; a layer whose input is float (after a softmax or a sign outside
 *     binary mode) quantizes it per sample, as int8-dynamic does.
 *   binary: a sign writes packed bits, which only a binary-weight conv or
 *     dense (or a flatten on the way to one) may read, and a binary-weight
 *     layer must read them.
 * Whatever the plan cannot run exactly is refused here, with the node. */
static int rn_x_linear_bits(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_linear_u8(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_linear_q4(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_linear_f32(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_linear_dyn(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_relu(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_pool(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_gap(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_add(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_flatten(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_softmax(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_sign(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_concat(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_pad(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_affine(struct rn_model *m, struct rn_node *n, int batch);
static int rn_x_unary(struct rn_model *m, struct rn_node *n, int batch);

RN_FN int rn_is_linear(int op) { return op == RN_OP_CONV || op == RN_OP_DWCONV || op == RN_OP_DENSE; }
RN_FN int rn_static_mode(int mode) { return mode == RN_INT8 || mode == RN_INT4 || mode == RN_TERNARY || mode == RN_MIXED || mode == RN_BINARY; }

#define RN_FAIL(...) do { snprintf(m->err, sizeof m->err, __VA_ARGS__); return -1; } while (0)
RN_FN int rn_plan(rn_model *m) {
    int i, j, stat = rn_static_mode(m->mode), any_t = 0, any_b = 0;
    for (i = 0; i < m->nn; i++) { any_t |= m->n[i].wtype == 1; any_b |= m->n[i].wtype == 2; }
    if (m->mode == RN_TERNARY && !any_t) RN_FAIL("mode ternary needs layers trained for it (\"weights\": \"ternary\"); this model has none: use int8 or int4");
    if (m->mode == RN_BINARY && !any_b) RN_FAIL("mode binary needs layers trained for it (\"weights\": \"binary\"); this model has none: use int8 or int4");
    for (i = 0; i < m->nv; i++) { m->v[i].kind = RN_KIND_F32; m->v[i].has_params = 0; }
    m->v[m->input].kind = stat ? RN_KIND_U8 : RN_KIND_F32;
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        int xk = m->v[n->in[0]].kind, yk = xk, final = 0;
        const char *op = rn_op_names[n->op];
        if (n->skip) continue;
        for (j = 0; j < n->nin; j++)
            if (m->v[n->in[j]].kind == RN_KIND_BITS && !(rn_is_linear(n->op) && n->wtype == 2) && n->op != RN_OP_FLATTEN)
                RN_FAIL("node %d (%s): reads the packed signs '%.60s'; in binary mode only a binary-weight conv2d or dense (or a flatten before one) may", i, op, m->v[n->in[j]].name);
        if (rn_is_linear(n->op)) {
            if (m->mode == RN_BINARY && n->wtype == 2 && xk != RN_KIND_BITS)
                RN_FAIL("node %d (%s): a binary-weight layer needs a sign's output as its input in binary mode ('%.60s' is not one)", i, op, m->v[n->in[0]].name);
            for (j = 0; j < m->nn; j++) if (m->n[j].op == RN_OP_SOFTMAX && m->n[j].in[0] == n->y) final = 1;
            if (n->y == m->output) final = 1;
            /* binary models: the 8-bit layers feed sign thresholds, which see the exact (dequantized) values */
            yk = xk == RN_KIND_U8 && !final && m->mode != RN_BINARY ? RN_KIND_U8 : RN_KIND_F32;
        } else if (n->op == RN_OP_SIGN) yk = m->mode == RN_BINARY ? RN_KIND_BITS : RN_KIND_F32;
        else if (n->op == RN_OP_SOFTMAX) yk = RN_KIND_F32;
        else if (n->op == RN_OP_ADD || n->op == RN_OP_MUL || n->op == RN_OP_CONCAT)
            for (j = 0; j < n->nin; j++) if (m->v[n->in[j]].kind != RN_KIND_U8) yk = RN_KIND_F32;
        m->v[n->y].kind = yk;
        if (n->fused_relu) m->v[n->out].kind = yk; /* never written; observed under the relu's name */
    }
    if (m->v[m->output].kind == RN_KIND_BITS) RN_FAIL("graph: the output '%.60s' is a sign's packed bits in binary mode", m->v[m->output].name);
    for (i = 0; i < m->nv; i++) m->v[i].is_bits = m->v[i].kind == RN_KIND_BITS;
    /* the functions, and fp32 pools that run image by image inside their conv (while its output is in cache) */
    for (i = 0; i < m->nn; i++) m->n[i].exec = NULL;
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        int xk = m->v[n->in[0]].kind;
        n->pool_next = -1;
        if (n->skip) continue;
        switch (n->op) {
        case RN_OP_CONV: case RN_OP_DWCONV: case RN_OP_DENSE:
            if (xk == RN_KIND_BITS) n->exec = rn_x_linear_bits;
            else if (xk == RN_KIND_U8) n->exec = n->q4 ? rn_x_linear_q4 : rn_x_linear_u8;
            else if (m->mode == RN_FP32 || m->mode == RN_CODEBOOK) n->exec = rn_x_linear_f32;
            else n->exec = rn_x_linear_dyn;
            break;
        case RN_OP_RELU: case RN_OP_RELU6: case RN_OP_RELU_CLIP: n->exec = rn_x_relu; break;
        case RN_OP_MAXPOOL: case RN_OP_AVGPOOL: n->exec = rn_x_pool; break;
        case RN_OP_GAP: n->exec = rn_x_gap; break;
        case RN_OP_ADD: case RN_OP_MUL: n->exec = rn_x_add; break;
        case RN_OP_CONCAT: n->exec = rn_x_concat; break;
        case RN_OP_PAD: n->exec = rn_x_pad; break;
        case RN_OP_BATCHNORM: case RN_OP_NORMALIZE: n->exec = rn_x_affine; break;
        case RN_OP_LEAKY: case RN_OP_SIGMOID: case RN_OP_TANH: case RN_OP_HSWISH: case RN_OP_HSIGMOID: case RN_OP_SILU: case RN_OP_GELU:
            n->exec = rn_x_unary; break;
        case RN_OP_FLATTEN: n->exec = rn_x_flatten; break;
        case RN_OP_SOFTMAX: n->exec = rn_x_softmax; break;
        case RN_OP_SIGN: n->exec = rn_x_sign; break;
        }
    }
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        int j2 = i + 1;
        if (n->exec != rn_x_linear_f32 || n->op == RN_OP_DENSE) continue;
        while (j2 < m->nn && m->n[j2].skip) j2++;
        if (j2 < m->nn && (m->n[j2].op == RN_OP_MAXPOOL || m->n[j2].op == RN_OP_AVGPOOL) && m->n[j2].in[0] == n->y && m->v[m->n[j2].y].kind == RN_KIND_F32) {
            n->pool_next = j2; m->n[j2].exec = NULL; /* runs inside this conv */
        }
    }
    m->params_ready = 0;
    return 0;
}
#undef RN_FAIL

RN_FN int rn_dom(const rn_value *v) { return v->kind; }

/* -------------------------------------------------------- node functions */

/* float view of sample b of a value (dequantized from uint8 into its float buffer) */
RN_FN const float *rn_as_float(rn_model *m, int vid, int b) {
    rn_value *v = &m->v[vid];
    float *f = v->f + (size_t)b * v->size;
    if (v->kind == RN_KIND_U8)
        quant_rows_dequantize(v->q + (size_t)b * v->size, QUANT_U8, 1, v->size, v->size, QUANT_PER_TENSOR, &v->scale, &v->zp, f, v->size);
    return f;
}

/* a float row -> packed sign bits (x - t < 0 -> 1), words(c) per pixel */
RN_FN void rn_sign_bits(const float *xf, size_t pixels, size_t c, float t, uint64_t *o) {
    size_t p, k, wc = quant_bits_words(c);
    for (p = 0; p < pixels; p++) {
        for (k = 0; k < wc; k++) o[p * wc + k] = 0;
        for (k = 0; k < c; k++) if (xf[p * c + k] - t < 0) o[p * wc + k / 64] |= (uint64_t)1 << (k % 64);
    }
}

#define RN_KFAIL(st) do { snprintf(m->err, sizeof m->err, "node %d (%s): the kernel refused the call (%s)", (int)(n - m->n), rn_op_names[n->op], quant_status_str(st)); return -1; } while (0)

/* XNOR layers: packed bits in, float out (batch norm folded) */
static int rn_x_linear_bits(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    quant_bepilogue ep;
    quant_status st = QUANT_OK;
    int b;
    memset(&ep, 0, sizeof ep);
    ep.out = QUANT_BOUT_F32; ep.scale = n->bscale; ep.bias = n->bbias;
    if (n->op == RN_OP_CONV) {
        for (b = 0; b < batch && st == QUANT_OK; b++)
            st = quant_bconv2d(&n->cs, x->bits + (size_t)b * x->h * x->w * quant_bits_words(x->c), QUANT_PAD_ZERO,
                               n->packed, &ep, y->f + (size_t)b * y->size, n->ws, n->ws_bytes);
    } else st = quant_bgemm((size_t)batch, x->bits, NULL, quant_bits_words(n->K), n->packed, &ep, y->f, n->N);
    if (st != QUANT_OK) RN_KFAIL(st);
    if (n->fused_relu) rn_relu_f32(y->f, (size_t)batch * y->size);
    return 0;
}

/* int4 blocks x uint8 activations */
static int rn_x_linear_q4(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    void *yo = y->kind == RN_KIND_U8 ? (void *)y->q : (void *)y->f;
    quant_status st;
    if (n->op == RN_OP_DENSE) st = quant_gemm_q4((size_t)batch, x->q, 0, x->size, x->zp, n->packed, &n->ep4, yo, n->N);
    else {
        quant_conv_shape cs = n->cs;
        cs.batch = (size_t)batch;
        st = quant_conv2d_q4_tile(&cs, x->q, 0, x->zp, n->packed, &n->ep4, yo, n->ws, n->ws_bytes, 0, (size_t)batch * y->h * y->w);
    }
    if (st != QUANT_OK) RN_KFAIL(st);
    if (y->kind == RN_KIND_F32 && n->fused_relu) rn_relu_f32(y->f, (size_t)batch * y->size);
    return 0;
}

/* int8 static: uint8 in, uint8 (requantized) or float (dequantized) out */
static int rn_x_linear_u8(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    quant_status st = QUANT_OK;
    int b;
    if (n->op == RN_OP_DENSE)
        st = quant_gemm((size_t)batch, x->q, 0, x->size, x->zp, n->packed, &n->ep, y->kind == RN_KIND_U8 ? (void *)y->q : (void *)y->f, n->N);
    else if (y->kind == RN_KIND_U8) { /* the whole batch in one call: the images are rows of one NHWC tensor */
        quant_conv_shape cs = n->cs;
        cs.batch = (size_t)batch;
        st = n->op == RN_OP_CONV ? quant_conv2d(&cs, x->q, 0, x->zp, n->packed, &n->ep, y->q, n->ws, n->ws_bytes)
                              : quant_dwconv2d(&cs, x->q, 0, x->zp, n->packed, &n->ep, y->q);
    } else
        for (b = 0; b < batch && st == QUANT_OK; b++) {
            float *yo = y->f + (size_t)b * y->size;
            st = n->op == RN_OP_CONV ? quant_conv2d(&n->cs, x->q + (size_t)b * x->size, 0, x->zp, n->packed, &n->ep, yo, n->ws, n->ws_bytes)
                                  : quant_dwconv2d(&n->cs, x->q + (size_t)b * x->size, 0, x->zp, n->packed, &n->ep, yo);
        }
    if (st != QUANT_OK) RN_KFAIL(st);
    if (y->kind == RN_KIND_F32 && n->fused_relu) rn_relu_f32(y->f, (size_t)batch * y->size);
    return 0;
}

/* fp32 and codebook: float in, float out */
static int rn_x_linear_f32(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    const rn_node *pn = n->pool_next >= 0 ? &m->n[n->pool_next] : NULL;
    size_t j;
    int b;
    if (n->op == RN_OP_DENSE && m->mode == RN_FP32) { /* the whole batch at once: each weight read serves 8 rows */
        rn_f32_matmul((size_t)batch, n->K, n->N, x->f, n->K, n->wt, n->bias, y->f, n->fused_relu, (size_t *)n->ws);
        return 0;
    }
    for (b = 0; b < batch; b++) {
        const float *xf = x->f + (size_t)b * x->size;
        float *yf = y->f + (size_t)b * y->size;
        if (n->op == RN_OP_DENSE) { /* codebook */
            quant_status st = quant_codebook_gemv(n->packed, xf, yf);
            if (st != QUANT_OK) RN_KFAIL(st);
            for (j = 0; j < n->N; j++) yf[j] += n->bias[j];
            if (n->fused_relu) rn_relu_f32(yf, y->size);
        } else {
            rn_f32_conv(n, x, y, xf, yf, n->fused_relu);
            if (pn) {
                const rn_value *py = &m->v[pn->y];
                rn_pool_f32(pn, y, py, yf, py->f + (size_t)b * py->size);
            }
        }
    }
    return 0;
}

/* float in, each sample quantized with its own range (int8-dynamic, and
 * layers after a softmax or a float sign in the static modes) */
static int rn_x_linear_dyn(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    int b;
    for (b = 0; b < batch; b++) {
        const float *xf = x->f + (size_t)b * x->size;
        float *yf = y->f + (size_t)b * y->size, as = 1.0f;
        int32_t az = 0;
        size_t r, rows = n->op == RN_OP_DENSE ? 1 : y->h * y->w;
        quant_epilogue ep;
        quant_status st;
        memset(&ep, 0, sizeof ep);
        st = quant_rows_quantize_dynamic(xf, 1, x->size, x->size, QUANT_AFFINE, 0, RN_QMAX(m), QUANT_U8, x->q + (size_t)b * x->size, x->size, &as, &az);
        if (st != QUANT_OK) RN_KFAIL(st);
        for (r = 0; r < rows; r++) n->ascale[r] = as;
        ep.out = QUANT_OUT_F32; ep.a_scale = n->ascale; ep.w_scale = n->wscale; ep.bias_f32 = n->bias;
        if (n->q4) { /* int4 blocks: the same per-sample scale */
            quant_q4_epilogue e4;
            memset(&e4, 0, sizeof e4);
            e4.out = QUANT_OUT_F32; e4.a_scale = &as; e4.bias = n->bias;
            st = n->op == RN_OP_CONV ? quant_conv2d_q4_tile(&n->cs, x->q + (size_t)b * x->size, 0, az, n->packed, &e4, yf, n->ws, n->ws_bytes, 0, rows)
                                  : quant_gemm_q4(1, x->q + (size_t)b * x->size, 0, x->size, az, n->packed, &e4, yf, n->N);
        } else if (n->op == RN_OP_CONV) st = quant_conv2d(&n->cs, x->q + (size_t)b * x->size, 0, az, n->packed, &ep, yf, n->ws, n->ws_bytes);
        else if (n->op == RN_OP_DWCONV) st = quant_dwconv2d(&n->cs, x->q + (size_t)b * x->size, 0, az, n->packed, &ep, yf);
        else st = quant_gemm(1, x->q + (size_t)b * x->size, 0, x->size, az, n->packed, &ep, yf, n->N);
        if (st != QUANT_OK) RN_KFAIL(st);
        if (n->fused_relu) rn_relu_f32(yf, y->size);
    }
    return 0;
}

static int rn_x_relu(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    size_t j, cnt = (size_t)batch * y->size;
    if (n->op == RN_OP_RELU_CLIP) { /* per channel: uint8 clamped at the code of 0 and of max[c] (chan_hi) */
        size_t p, c, C = x->c, P = cnt / C;
        /* (the pointers in locals: a byte store may alias the structs, and
         * the loops would reload them every element) */
        if (x->kind == RN_KIND_U8) {
            const uint8_t lo = (uint8_t)x->zp, *xq = x->q, *ch = n->chan_hi;
            uint8_t *yq = y->q;
            for (p = 0; p < P; p++)
                for (c = 0; c < C; c++) { uint8_t v = xq[p * C + c]; yq[p * C + c] = v < lo ? lo : v > ch[c] ? ch[c] : v; }
        } else
            for (p = 0; p < P; p++)
                for (c = 0; c < C; c++) { float v = x->f[p * C + c]; y->f[p * C + c] = v < 0 ? 0 : v > n->chan_a[c] ? n->chan_a[c] : v; }
        return 0;
    }
    if (x->kind == RN_KIND_U8) { /* the clamp at the code of 0 (and of 6): the output keeps the input's params */
        int32_t hi = RN_QMAX(m);
        const int32_t lo = x->zp;
        const uint8_t *xq = x->q;
        uint8_t *yq = y->q;
        if (n->op == RN_OP_RELU6) { double h6 = x->zp + floor(6.0 / x->scale + 0.5); hi = h6 > hi ? hi : (int32_t)h6; }
        for (j = 0; j < cnt; j++) { int32_t v = xq[j]; yq[j] = (uint8_t)(v < lo ? lo : v > hi ? hi : v); }
    } else if (n->op == RN_OP_RELU) {
        for (j = 0; j < cnt; j++) y->f[j] = x->f[j] < 0 ? 0.0f : x->f[j]; /* a select: -0 and NaN pass */
    } else
        for (j = 0; j < cnt; j++) { float v = x->f[j]; y->f[j] = v < 0 ? 0 : v > 6 ? 6 : v; }
    return 0;
}

static int rn_x_pool(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    int b;
    for (b = 0; b < batch; b++) {
        if (x->kind == RN_KIND_U8) rn_pool_u8(n, x, y, x->q + (size_t)b * x->size, y->q + (size_t)b * y->size);
        else rn_pool_f32(n, x, y, x->f + (size_t)b * x->size, y->f + (size_t)b * y->size);
    }
    return 0;
}

static int rn_x_gap(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    int b;
    const size_t P = x->h * x->w, C = x->c;
    for (b = 0; b < batch; b++) {
        size_t c, p;
        /* (pointers and sizes in locals: a byte store may alias the structs) */
        const uint8_t *xq = x->kind == RN_KIND_U8 ? x->q + (size_t)b * x->size : NULL;
        const float *xf = x->kind == RN_KIND_U8 ? NULL : x->f + (size_t)b * x->size;
        uint8_t *yq = x->kind == RN_KIND_U8 ? y->q + (size_t)b * y->size : NULL;
        float *yf = x->kind == RN_KIND_U8 ? NULL : y->f + (size_t)b * y->size;
        for (c = 0; c < C; c++) {
            double s = 0;
            if (xq) {
                for (p = 0; p < P; p++) s += xq[p * C + c];
                yq[c] = (uint8_t)floor(s / (double)P + 0.5);
            } else {
                for (p = 0; p < P; p++) s += xf[p * C + c];
                yf[c] = (float)(s / (double)P);
            }
        }
    }
    return 0;
}

/* add and mul: the second input of the same shape, or [1, 1, C] for every pixel */
static int rn_x_add(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *x2 = &m->v[n->in[1]], *y = &m->v[n->y];
    const int mul = n->op == RN_OP_MUL, bc = x2->size != x->size;
    size_t j, p, P = y->h * y->w, C = y->c;
    int b;
    if (y->kind == RN_KIND_U8) {
        for (b = 0; b < batch; b++) {
            const uint8_t *a1 = x->q + (size_t)b * x->size, *a2 = x2->q + (size_t)b * x2->size;
            uint8_t *o = y->q + (size_t)b * y->size;
            quant_status st;
            /* the vector kernels of quant_kernels.h: the bytes of quant_add / quant_mul */
            if (!bc) st = mul ? quant_mul_k(a1, a2, y->size, QUANT_U8, &n->mulp, o) : quant_add_k(a1, a2, y->size, QUANT_U8, &n->addp, o);
            else st = mul ? quant_mul_bc_k(a1, a2, y->size, C, QUANT_U8, &n->mulp, o) : quant_add_bc_k(a1, a2, y->size, C, QUANT_U8, &n->addp, o);
            if (st != QUANT_OK) RN_KFAIL(st);
        }
        (void)p; (void)P;
    } else
        for (b = 0; b < batch; b++) {
            const float *a1 = rn_as_float(m, n->in[0], b), *a2 = rn_as_float(m, n->in[1], b);
            float *o = y->f + (size_t)b * y->size;
            if (!bc) { if (mul) for (j = 0; j < y->size; j++) o[j] = a1[j] * a2[j]; else for (j = 0; j < y->size; j++) o[j] = a1[j] + a2[j]; }
            else for (p = 0; p < P; p++) {
                if (mul) for (j = 0; j < C; j++) o[p * C + j] = a1[p * C + j] * a2[j];
                else for (j = 0; j < C; j++) o[p * C + j] = a1[p * C + j] + a2[j];
            }
        }
    return 0;
}

/* channels of every input, in order, pixel by pixel (uint8: each input
 * requantized to the output's params unless they are the same) */
static int rn_x_concat(rn_model *m, rn_node *n, int batch) {
    rn_value *y = &m->v[n->y];
    size_t p, P = y->h * y->w, c0;
    int b, j;
    for (b = 0; b < batch; b++)
        for (j = 0, c0 = 0; j < n->nin; c0 += m->v[n->in[j]].c, j++) {
            rn_value *x = &m->v[n->in[j]];
            if (y->kind == RN_KIND_U8) {
                quant_params pi, po;
                int same = x->scale == y->scale && x->zp == y->zp;
                pi.scale = x->scale; pi.zero_point = x->zp; pi.qmin = 0; pi.qmax = RN_QMAX(m);
                po.scale = y->scale; po.zero_point = y->zp; po.qmin = 0; po.qmax = RN_QMAX(m);
                if (same)
                    for (p = 0; p < P; p++) memcpy(y->q + (size_t)b * y->size + p * y->c + c0, x->q + (size_t)b * x->size + p * x->c, x->c);
                else if (quant_requantize_params_rows_k(x->q + (size_t)b * x->size, QUANT_U8, &pi, P, x->c, x->c, &po, QUANT_U8,
                                                        y->q + (size_t)b * y->size + c0, y->c) != QUANT_OK) {
                    snprintf(m->err, sizeof m->err, "node %d (concat): input '%.60s' cannot be requantized to the output's params", (int)(n - m->n), x->name);
                    return -1;
                }
            } else {
                const float *s = rn_as_float(m, n->in[j], b);
                for (p = 0; p < P; p++) memcpy(y->f + (size_t)b * y->size + p * y->c + c0, s + p * x->c, x->c * sizeof(float));
            }
        }
    return 0;
}

/* constant padding of H and W (uint8: the value's code in the input's params) */
static int rn_x_pad(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    size_t r, j, C = x->c, t = (size_t)n->pad[0], l = (size_t)n->pad[1];
    int b;
    for (b = 0; b < batch; b++) {
        if (x->kind == RN_KIND_U8) {
            uint8_t *o = y->q + (size_t)b * y->size, v = (uint8_t)quant_quantize1(n->alpha, 1.0f / x->scale, x->zp, 0, RN_QMAX(m));
            memset(o, v, y->size);
            for (r = 0; r < x->h; r++) memcpy(o + ((r + t) * y->w + l) * C, x->q + (size_t)b * x->size + r * x->w * C, x->w * C);
        } else {
            float *o = y->f + (size_t)b * y->size;
            for (j = 0; j < y->size; j++) o[j] = n->alpha;
            for (r = 0; r < x->h; r++) memcpy(o + ((r + t) * y->w + l) * C, x->f + (size_t)b * x->size + r * x->w * C, x->w * C * sizeof(float));
        }
    }
    return 0;
}

/* batchnorm (x a + b) and normalize ((x - mean) / std) per channel; uint8:
 * q_y = zp_y + round((q_x - zp_x) m_c + o_c), m_c and o_c from the params */
static int rn_x_affine(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    size_t p, c, P = x->h * x->w, C = x->c;
    int b;
    for (b = 0; b < batch; b++) {
        if (x->kind == RN_KIND_U8) {
            const uint8_t *s = x->q + (size_t)b * x->size;
            uint8_t *o = y->q + (size_t)b * y->size;
            const float hi = (float)RN_QMAX(m);
            for (p = 0; p < P; p++)
                for (c = 0; c < C; c++) {
                    float v = nearbyintf((float)((int32_t)s[p * C + c] - x->zp) * n->bscale[c] + n->bbias[c]) + (float)y->zp;
                    o[p * C + c] = (uint8_t)(v > 0 ? (v > hi ? hi : v) : 0); /* NaN cannot reach here; 0 if it did */
                }
        } else {
            const float *s = x->f + (size_t)b * x->size;
            float *o = y->f + (size_t)b * y->size;
            if (n->op == RN_OP_NORMALIZE) { for (p = 0; p < P; p++) for (c = 0; c < C; c++) o[p * C + c] = (s[p * C + c] - n->chan_b[c]) / n->chan_a[c]; }
            else for (p = 0; p < P; p++) for (c = 0; c < C; c++) o[p * C + c] = s[p * C + c] * n->chan_a[c] + n->chan_b[c];
        }
    }
    return 0;
}

/* the elementwise functions (float; the uint8 path through the node's table) */
static float rn_fn_leaky(float x, const void *ctx) { return x < 0 ? x * *(const float *)ctx : x; }
static float rn_fn_hsigmoid(float x, const void *ctx) { float t = x + 3.0f; (void)ctx; return (t < 0 ? 0 : t > 6 ? 6 : t) / 6.0f; }
static float rn_fn_hswish(float x, const void *ctx) { float t = x + 3.0f; (void)ctx; return x * (t < 0 ? 0 : t > 6 ? 6 : t) / 6.0f; }
static float rn_fn_silu(float x, const void *ctx) { (void)ctx; return x / (1.0f + expf(-x)); }
static float rn_fn_gelu_tanh(float x, const void *ctx) { (void)ctx; return 0.5f * x * (1.0f + tanhf(0.7978845608f * (x + 0.044715f * x * x * x))); }
RN_FN quant_unary_fn rn_unary_fn(const rn_node *n) {
    switch (n->op) {
    case RN_OP_LEAKY: return rn_fn_leaky;
    case RN_OP_SIGMOID: return quant_fn_sigmoid;
    case RN_OP_TANH: return quant_fn_tanh;
    case RN_OP_HSWISH: return rn_fn_hswish;
    case RN_OP_HSIGMOID: return rn_fn_hsigmoid;
    case RN_OP_SILU: return rn_fn_silu;
    default: return n->approximate ? rn_fn_gelu_tanh : quant_fn_gelu;
    }
}

static int rn_x_unary(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    size_t j, cnt = (size_t)batch * y->size;
    if (x->kind == RN_KIND_U8) quant_lut_apply(n->lut, x->q, cnt, y->q);
    else if (n->op == RN_OP_HSWISH) /* the piecewise ones inline (they vectorize), as rn_fn_* computes them */
        for (j = 0; j < cnt; j++) y->f[j] = rn_fn_hswish(x->f[j], NULL);
    else if (n->op == RN_OP_HSIGMOID)
        for (j = 0; j < cnt; j++) y->f[j] = rn_fn_hsigmoid(x->f[j], NULL);
    else if (n->op == RN_OP_LEAKY)
        for (j = 0; j < cnt; j++) y->f[j] = rn_fn_leaky(x->f[j], &n->alpha);
    else {
        const quant_unary_fn f = rn_unary_fn(n);
        for (j = 0; j < cnt; j++) y->f[j] = f(x->f[j], &n->alpha);
    }
    return 0;
}

static int rn_x_flatten(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    int b;
    if (x->kind == RN_KIND_U8) memcpy(y->q, x->q, (size_t)batch * y->size);
    else if (x->kind == RN_KIND_F32) memcpy(y->f, x->f, (size_t)batch * y->size * sizeof(float));
    else { /* NHWC bits per pixel -> one row of bits */
        size_t wc = quant_bits_words(x->c), p, c, wy = quant_bits_words(y->size);
        for (b = 0; b < batch; b++) {
            uint64_t *o = y->bits + (size_t)b * wy;
            const uint64_t *sb = x->bits + (size_t)b * x->h * x->w * wc;
            memset(o, 0, 8 * wy);
            for (p = 0; p < x->h * x->w; p++)
                for (c = 0; c < x->c; c++)
                    if ((sb[p * wc + c / 64] >> (c % 64)) & 1) o[(p * x->c + c) / 64] |= (uint64_t)1 << ((p * x->c + c) % 64);
        }
    }
    return 0;
}

/* softmax over the channels of each pixel (PyTorch's dim=1 on NCHW) */
static int rn_x_softmax(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    size_t p;
    int b;
    for (b = 0; b < batch; b++) {
        const float *xf = rn_as_float(m, n->in[0], b);
        for (p = 0; p < x->h * x->w; p++) rn_softmax(xf + p * x->c, x->c, y->f + (size_t)b * y->size + p * x->c);
    }
    return 0;
}

static int rn_x_sign(rn_model *m, rn_node *n, int batch) {
    rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
    float t = n->thr ? *(const float *)n->thr->data : 0.0f;
    size_t j;
    int b;
    for (b = 0; b < batch; b++) {
        const float *xf = rn_as_float(m, n->in[0], b);
        if (y->kind == RN_KIND_BITS) rn_sign_bits(xf, x->h * x->w, x->c, t, y->bits + (size_t)b * x->h * x->w * quant_bits_words(x->c));
        else for (j = 0; j < x->size; j++) y->f[(size_t)b * y->size + j] = xf[j] - t < 0 ? -1.0f : 1.0f;
    }
    return 0;
}
#undef RN_KFAIL

#ifdef RN_GUARD
/* test builds: the guard bytes after every value buffer still hold their pattern */
RN_FN int rn_guards_ok(const rn_model *m) {
    int g;
    size_t k;
    for (g = 0; g < m->nguard; g++)
        for (k = 0; k < m->guard_len[g]; k++) if (m->guard[g][k] != RN_GUARD_BYTE) return 0;
    return 1;
}
#endif

/* Runs `batch` samples (<= the prepared batch) placed in the input's float
 * buffer. Allocates nothing; returns 0, or -1 with m->err set. */
RN_FN int rn_run(rn_model *m, int batch) {
    rn_value *in = &m->v[m->input];
    int i;
    if (batch < 1 || batch > m->batch) { snprintf(m->err, sizeof m->err, "batch %d outside 1..%d (the batch the model was loaded for)", batch, m->batch); return -1; }
    if (rn_static_mode(m->mode) && !m->params_ready) {
        snprintf(m->err, sizeof m->err, "mode %s needs activation params: calibrate (rn_calibrate) or load a file quantized for it", rn_mode_names[m->mode]);
        return -1;
    }
    if (in->kind == RN_KIND_U8)
        quant_rows_quantize(in->f, (size_t)batch, in->size, in->size, QUANT_PER_TENSOR, &in->scale, &in->zp, 0, RN_QMAX(m), QUANT_U8, in->q, in->size);
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        if (!n->exec) continue;
        if (n->exec(m, n, batch)) return -1;
#ifdef RN_GUARD
        if (!rn_guards_ok(m)) { snprintf(m->err, sizeof m->err, "node %d (%s) wrote past the end of a buffer", i, rn_op_names[n->op]); return -1; }
#endif
    }
    { /* the output is read as float: a uint8 output (a pool, an add, a table function last) is dequantized */
        rn_value *o = &m->v[m->output];
        if (o->kind == RN_KIND_U8)
            quant_rows_dequantize(o->q, QUANT_U8, (size_t)batch, o->size, o->size, QUANT_PER_TENSOR, &o->scale, &o->zp, o->f, o->size);
    }
    return 0;
}


/* ------------------------------------------------------------ IDX files */

/* Checks an uncompressed IDX image of unsigned bytes (magic 0x0000 08 nd)
 * held in memory, every size included: dims[0..nd) out, *data points into b. */
RN_FN int rn_idx_parse(const unsigned char *b, size_t n, int want_nd, size_t *dims, const unsigned char **data,
        char *err, size_t errn) {
    size_t i, count = 1;
    if (want_nd < 1 || want_nd > 4) { snprintf(err, errn, "IDX: %d dimensions asked (1 to 4 supported)", want_nd); return -1; }
    if (!b || n < 4 + 4 * (size_t)want_nd) { snprintf(err, errn, "IDX: %zu bytes is too short", n); return -1; }
    if (b[0] || b[1] || b[2] != 0x08 || b[3] != want_nd) {
        if (n >= 4 && !b[0] && !b[1] && b[2] == 0x08 && b[3] >= 1 && b[3] <= 4)
            snprintf(err, errn, "IDX of %d dimensions where %d are needed (%s)", b[3], want_nd, want_nd == 1 ? "labels" : "images");
        else snprintf(err, errn, "not an IDX file of %d-d unsigned bytes", want_nd);
        return -1;
    }
    for (i = 0; i < (size_t)want_nd; i++) {
        size_t d = ((size_t)b[4 + 4 * i] << 24) | ((size_t)b[5 + 4 * i] << 16) | ((size_t)b[6 + 4 * i] << 8) | b[7 + 4 * i];
        if (!d || count > RN_MAX_ELEMS / d) { snprintf(err, errn, "IDX: bad dimensions"); return -1; }
        count *= d;
    }
    if (n - 4 - 4 * (size_t)want_nd != count) {
        snprintf(err, errn, "IDX: %zu bytes of data for %zu values", n - 4 - 4 * (size_t)want_nd, count); return -1;
    }
    for (i = 0; i < (size_t)want_nd; i++)
        dims[i] = ((size_t)b[4 + 4 * i] << 24) | ((size_t)b[5 + 4 * i] << 16) | ((size_t)b[6 + 4 * i] << 8) | b[7 + 4 * i];
    *data = b + 4 + 4 * (size_t)want_nd;
    return 0;
}

/* Reads an IDX file (rn_idx_parse); *buf is owned by the caller. */
RN_FN int rn_idx_load(const char *path, int want_nd, size_t *dims, unsigned char **buf, const unsigned char **data,
        char *err, size_t errn) {
    unsigned char *b;
    size_t n;
    *buf = NULL;
    if (rn_read_file(path, (size_t)1 << 30, &b, &n, err, errn)) return -1;
    if (rn_idx_parse(b, n, want_nd, dims, data, err, errn)) {
        char e[200];
        snprintf(e, sizeof e, "%s", err);
        snprintf(err, errn, "%.120s: %.120s", path, e);
        free(b); return -1;
    }
    *buf = b;
    return 0;
}

/* ---------------------------------------------------------- calibration */

/* After the activation params are set: relu, pooling, gap and flatten pass
 * uint8 through unchanged, so their outputs keep their input's params; then
 * every layer's epilogue follows from the params (requantization of uint8
 * outputs, or the dequantizing scales s_x * s_w of float ones). Returns -1
 * with m->err naming a uint8 value that has no params. */
RN_FN int rn_finish_params(rn_model *m) {
    int i;
    size_t o;
    if (!rn_static_mode(m->mode)) { m->params_ready = 1; return 0; }
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        if (n->skip || m->v[n->y].kind != RN_KIND_U8) continue;
        if (n->op == RN_OP_RELU || n->op == RN_OP_RELU6 || n->op == RN_OP_RELU_CLIP || n->op == RN_OP_MAXPOOL || n->op == RN_OP_AVGPOOL ||
            n->op == RN_OP_FLATTEN || n->op == RN_OP_GAP || n->op == RN_OP_PAD) {
            m->v[n->y].scale = m->v[n->in[0]].scale; m->v[n->y].zp = m->v[n->in[0]].zp;
            m->v[n->y].has_params = m->v[n->in[0]].has_params;
        }
        if (n->op == RN_OP_RELU_CLIP && m->v[n->y].has_params && m->v[n->y].scale > 0) { /* the code of each bound, as relu6's of 6 */
            const rn_value *x = &m->v[n->in[0]];
            size_t c;
            for (c = 0; c < x->c; c++) {
                double h = x->zp + floor((double)n->chan_a[c] / x->scale + 0.5);
                n->chan_hi[c] = (uint8_t)(h > RN_QMAX(m) ? RN_QMAX(m) : h);
            }
        }
    }
    for (i = 0; i < m->nv; i++) {
        rn_value *v = &m->v[i];
        int written = 1, j;
        for (j = 0; j < m->nn; j++) if (m->n[j].fused_relu && m->n[j].out == i) written = 0;
        if (v->kind != RN_KIND_U8 || !written) continue;
        if (!v->has_params || !(v->scale > 0) || !(v->scale < 1e30f) || v->zp < 0 || v->zp > RN_QMAX(m)) {
            snprintf(m->err, sizeof m->err, "value '%.60s' (uint8 in mode %s) has no valid activation params", v->name, rn_mode_names[m->mode]);
            m->params_ready = 0;
            return -1;
        }
    }
    for (i = 0; i < m->nn; i++) { /* tables, add / mul multipliers and affine factors of the uint8 elementwise ops */
        rn_node *n = &m->n[i];
        const rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
        quant_params pi, po, p2;
        quant_status st = QUANT_OK;
        if (n->skip || y->kind != RN_KIND_U8) continue;
        pi.scale = x->scale; pi.zero_point = x->zp; pi.qmin = 0; pi.qmax = RN_QMAX(m);
        po.scale = y->scale; po.zero_point = y->zp; po.qmin = 0; po.qmax = RN_QMAX(m);
        if (rn_is_unary_fn(n->op)) st = quant_lut_build(&pi, &po, QUANT_U8, rn_unary_fn(n), &n->alpha, n->lut);
        else if (n->op == RN_OP_ADD || n->op == RN_OP_MUL) {
            const rn_value *x2 = &m->v[n->in[1]];
            p2.scale = x2->scale; p2.zero_point = x2->zp; p2.qmin = 0; p2.qmax = RN_QMAX(m);
            st = n->op == RN_OP_ADD ? quant_add_prepare(&pi, &p2, &po, QUANT_ACT_NONE, &n->addp) : quant_mul_prepare(&pi, &p2, &po, QUANT_ACT_NONE, &n->mulp);
        } else if (n->op == RN_OP_BATCHNORM || n->op == RN_OP_NORMALIZE)
            for (o = 0; o < x->c; o++) { /* y = x a + b in real terms; normalize: a = 1 / std, b = -mean / std */
                double a = n->op == RN_OP_NORMALIZE ? 1.0 / n->chan_a[o] : n->chan_a[o], b = n->op == RN_OP_NORMALIZE ? -(double)n->chan_b[o] / n->chan_a[o] : n->chan_b[o];
                double fs = a * x->scale / y->scale, fb = b / y->scale;
                /* bounded so that (q - zp) m + o stays finite for every code: an overflow would give NaN or Inf */
                if (!(fabs(fs) < 1e30 && fabs(fb) < 1e30)) {
                    snprintf(m->err, sizeof m->err, "node %d (%s): channel %zu's factor or offset in uint8 terms is out of range (%g, %g)", i, rn_op_names[n->op], o, fs, fb);
                    m->params_ready = 0;
                    return -1;
                }
                n->bscale[o] = (float)fs; n->bbias[o] = (float)fb;
            }
        if (st != QUANT_OK) {
            snprintf(m->err, sizeof m->err, "node %d (%s): its uint8 params cannot be combined (%s)", i, rn_op_names[n->op], quant_status_str(st));
            m->params_ready = 0;
            return -1;
        }
    }
    for (i = 0; i < m->nn; i++) {
        rn_node *n = &m->n[i];
        const rn_value *x = &m->v[n->in[0]], *y = &m->v[n->y];
        if (!rn_is_linear(n->op) || x->kind != RN_KIND_U8) continue;
        memset(&n->ep, 0, sizeof n->ep);
        memset(&n->ep4, 0, sizeof n->ep4);
        if (n->q4) {
            n->ep4.a_scale = &m->v[n->in[0]].scale; n->ep4.bias = n->bias;
            if (y->kind == RN_KIND_U8) {
                n->ep4.out = QUANT_OUT_U8; n->ep4.out_inv = 1.0f / y->scale; n->ep4.out_zp = y->zp;
                n->ep4.out_min = n->fused_relu ? y->zp : 0; n->ep4.out_max = RN_QMAX(m);
            } else n->ep4.out = QUANT_OUT_F32;
            continue;
        }
        if (y->kind == RN_KIND_U8) {
            for (o = 0; o < n->N; o++) {
                double s = (double)x->scale * n->wscale[o];
                double b = s > 0 ? n->bias[o] / s : 0.0;
                n->bias_q[o] = (int32_t)(b > 2e9 ? 2e9 : b < -2e9 ? -2e9 : (b >= 0 ? floor(b + 0.5) : ceil(b - 0.5)));
                quant_requant_from_scale(s / y->scale, &n->rq[o]);
            }
            n->ep.out = QUANT_OUT_U8; n->ep.mode = QUANT_RQ_FP32; n->ep.rq = n->rq; n->ep.per_channel = 1; n->ep.bias_i32 = n->bias_q;
            n->ep.out_zp = y->zp; n->ep.out_min = n->fused_relu ? y->zp : 0; n->ep.out_max = RN_QMAX(m);
        } else { /* dequantized in the epilogue: acc * (s_x * s_w) + bias */
            for (o = 0; o < n->N; o++) n->bscale[o] = x->scale * n->wscale[o];
            n->ep.out = QUANT_OUT_F32; n->ep.w_scale = n->bscale; n->ep.bias_f32 = n->bias;
        }
    }
    m->params_ready = 1;
    return 0;
}

/* whether a run writes value v (a conv / dense with a fused relu writes the
 * relu's output, never its own) */
RN_FN int rn_written(const rn_model *m, int v) {
    int i;
    for (i = 0; i < m->nn; i++) if (m->n[i].fused_relu && m->n[i].out == v) return 0;
    return 1;
}

/* Calibration in chunks (so a tool can report progress on real work):
 * rn_calib_begin, rn_calib_add for each chunk of uint8 images (each
 * image_size bytes, divided by 255 as the model's input), rn_calib_end to
 * set q's activation params. fp is the model loaded in fp32; q the same
 * file in a static mode. Errors go to q->err. */
typedef struct rn_calib { rn_model *fp, *q; quant_observer *obs; size_t seen; } rn_calib;

RN_FN void rn_calib_abort(rn_calib *c) { free(c->obs); c->obs = NULL; }

RN_FN int rn_calib_begin(rn_calib *c, rn_model *fp, rn_model *q, quant_observer_kind kind) {
    int v;
    memset(c, 0, sizeof *c);
    c->fp = fp; c->q = q;
    if (fp->mode != RN_FP32) { snprintf(q->err, sizeof q->err, "calibration runs the model loaded in fp32"); return -1; }
    if (!rn_static_mode(q->mode)) { snprintf(q->err, sizeof q->err, "mode %s takes no calibration", rn_mode_names[q->mode]); return -1; }
    if (fp->v[fp->input].size != q->v[q->input].size || fp->nv != q->nv) { snprintf(q->err, sizeof q->err, "calibration: the fp32 and quantized models differ"); return -1; }
    if ((unsigned)kind > (unsigned)QUANT_OBS_MSE) { snprintf(q->err, sizeof q->err, "calibration: unknown observer %d", (int)kind); return -1; }
    c->obs = (quant_observer *)malloc(sizeof(quant_observer) * (size_t)fp->nv);
    if (!c->obs) { snprintf(q->err, sizeof q->err, "out of memory"); return -1; }
    for (v = 0; v < fp->nv; v++) quant_observer_init(&c->obs[v], kind);
    return 0;
}

RN_FN int rn_calib_add_any(rn_calib *c, const unsigned char *images, const float *fimages, size_t count, size_t image_size) {
    rn_model *fp = c->fp, *q = c->q;
    size_t i0, j;
    int v;
    if (image_size != fp->v[fp->input].size) {
        snprintf(q->err, sizeof q->err, "calibration images have %zu values each; the model's input [%zu, %zu, %zu] has %zu",
                 image_size, fp->v[fp->input].h, fp->v[fp->input].w, fp->v[fp->input].c, fp->v[fp->input].size);
        return -1;
    }
    for (i0 = 0; i0 < count; i0 += (size_t)fp->batch) {
        size_t bn = count - i0 < (size_t)fp->batch ? count - i0 : (size_t)fp->batch;
        float *x = fp->v[fp->input].f;
        if (fimages) memcpy(x, fimages + i0 * image_size, bn * image_size * sizeof(float));
        else for (j = 0; j < bn * image_size; j++) x[j] = (float)images[i0 * image_size + j] / 255.0f;
        if (rn_run(fp, (int)bn)) { snprintf(q->err, sizeof q->err, "calibration: the fp32 run failed: %.200s", fp->err); return -1; }
        for (v = 0; v < fp->nv; v++) {
            if (fp->v[v].is_bits || q->v[v].kind != RN_KIND_U8 || !rn_written(fp, v)) continue; /* observe what will be uint8 */
            quant_observer_update(&c->obs[v], fp->v[v].f, bn * fp->v[v].size);
        }
    }
    c->seen += count;
    return 0;
}

/* a chunk of uint8 samples (value / 255), or of float samples taken as they are */
RN_FN int rn_calib_add(rn_calib *c, const unsigned char *images, size_t count, size_t image_size) {
    return rn_calib_add_any(c, images, NULL, count, image_size);
}
RN_FN int rn_calib_add_f32(rn_calib *c, const float *x, size_t count, size_t image_size) {
    return rn_calib_add_any(c, NULL, x, count, image_size);
}

RN_FN int rn_calib_end(rn_calib *c) {
    rn_model *q = c->q;
    int v;
    if (!c->seen) { snprintf(q->err, sizeof q->err, "calibration: no images"); rn_calib_abort(c); return -1; }
    for (v = 0; v < q->nv; v++) {
        quant_params p;
        quant_status st;
        if (q->v[v].kind != RN_KIND_U8 || !rn_written(c->fp, v)) continue;
        if ((st = quant_observer_params(&c->obs[v], 0, RN_QMAX(q), QUANT_AFFINE, &p)) != QUANT_OK) {
            snprintf(q->err, sizeof q->err, "calibration: no params for value '%.60s' (%s: its activations were all NaN or infinite?)", q->v[v].name, quant_status_str(st));
            rn_calib_abort(c); return -1;
        }
        q->v[v].scale = p.scale; q->v[v].zp = p.zero_point; q->v[v].has_params = 1;
    }
    rn_calib_abort(c);
    return rn_finish_params(q);
}

/* Runs the fp32 model over `count` images (pixels / 255) with one observer
 * per value; then gives the uint8 activation params of the quantized model
 * `q` (the same file; pass-through ops keep their input's params). */
RN_FN int rn_calibrate(rn_model *fp, rn_model *q, const unsigned char *images, size_t count, size_t image_size,
        quant_observer_kind kind) {
    rn_calib c;
    if (rn_calib_begin(&c, fp, q, kind) || rn_calib_add(&c, images, count, image_size)) { rn_calib_abort(&c); return -1; }
    return rn_calib_end(&c);
}

/* Puts `count` uint8 samples (image_size bytes each, divided by 255) into
 * the model's input; refuses a size that is not the input's or a count
 * above the loaded batch. */
RN_FN int rn_set_input_u8(rn_model *m, const unsigned char *x, size_t count, size_t image_size) {
    size_t j;
    rn_value *in = &m->v[m->input];
    if (image_size != in->size) {
        snprintf(m->err, sizeof m->err, "inputs have %zu values each; the model's input [%zu, %zu, %zu] has %zu", image_size, in->h, in->w, in->c, in->size);
        return -1;
    }
    if (count > (size_t)m->batch) { snprintf(m->err, sizeof m->err, "%zu inputs for a model loaded for batch %d", count, m->batch); return -1; }
    for (j = 0; j < count * image_size; j++) in->f[j] = (float)x[j] / 255.0f;
    return 0;
}

/* ------------------------------------------------------------------ SVG */
/* Minimal SVG figures (no dependency): a histogram with vertical markers,
 * and a scatter of labelled points. */
typedef struct { const char *label; double x, y; } rn_point;

RN_FN int rn_svg_histogram(const char *path, const char *title, const double *counts, int nb, double lo, double hi,
        const char *const *mark_names, const double *mark_lo, const double *mark_hi, int nm) {
    static const char *const colors[] = { "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf" };
    FILE *f = fopen(path, "w");
    double mx = 0, W = 640, H = 320, L = 50, R = 20, T = 30, B = 40;
    int i;
    if (!f) return -1;
    for (i = 0; i < nb; i++) if (counts[i] > 0 && log10(counts[i] + 1) > mx) mx = log10(counts[i] + 1);
    if (mx <= 0) mx = 1;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"18\" font-size=\"13\">%s</text>\n", L, title);
    for (i = 0; i < nb; i++) {
        double h = (H - T - B) * log10(counts[i] + 1) / mx, x = L + (W - L - R) * i / nb;
        if (counts[i] > 0) fprintf(f, "<rect x=\"%.2f\" y=\"%.2f\" width=\"%.2f\" height=\"%.2f\" fill=\"#1f77b4\"/>\n", x, H - B - h, (W - L - R) / nb + 0.2, h);
    }
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n", L, H - B, W - R, H - B);
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\">%.3g</text><text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.3g</text>\n", L, H - B + 14, lo, W - R, H - B + 14, hi);
    fprintf(f, "<text x=\"12\" y=\"%.0f\" transform=\"rotate(-90 12 %.0f)\">log10(count + 1)</text>\n", H / 2, H / 2);
    for (i = 0; i < nm; i++) {
        double x1 = L + (W - L - R) * (mark_lo[i] - lo) / (hi - lo), x2 = L + (W - L - R) * (mark_hi[i] - lo) / (hi - lo);
        const char *c = colors[i % 6];
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"%s\" stroke-dasharray=\"4,3\"/>\n", x1, T, x1, H - B, c);
        fprintf(f, "<line x1=\"%.2f\" y1=\"%.0f\" x2=\"%.2f\" y2=\"%.0f\" stroke=\"%s\" stroke-dasharray=\"4,3\"/>\n", x2, T, x2, H - B, c);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" fill=\"%s\" text-anchor=\"end\">%s [%.3g, %.3g]</text>\n", W - R - 4, T + 14 + 13.0 * i, c, mark_names[i], mark_lo[i], mark_hi[i]);
    }
    fprintf(f, "</svg>\n");
    return fclose(f);
}

RN_FN int rn_svg_scatter(const char *path, const char *title, const char *xlabel, const char *ylabel,
        const rn_point *p, int n, int logx) {
    FILE *f = fopen(path, "w");
    double W = 720, H = 420, L = 60, R = 30, T = 30, B = 50, x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
    int i;
    if (!f || n < 1) { if (f) fclose(f); return -1; }
    for (i = 0; i < n; i++) {
        double x = logx ? log10(p[i].x) : p[i].x;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (p[i].y < y0) y0 = p[i].y;
        if (p[i].y > y1) y1 = p[i].y;
    }
    if (x1 - x0 < 1e-9) { x0 -= 1; x1 += 1; }
    if (y1 - y0 < 1e-9) { y0 -= 1; y1 += 1; }
    { double dx = (x1 - x0) * 0.08, dy = (y1 - y0) * 0.12; x0 -= dx; x1 += dx; y0 -= dy; y1 += dy; }
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" font-family=\"sans-serif\" font-size=\"11\">\n", W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n<text x=\"%.0f\" y=\"18\" font-size=\"13\">%s</text>\n", L, title);
    fprintf(f, "<line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/><line x1=\"%.0f\" y1=\"%.0f\" x2=\"%.0f\" y2=\"%.0f\" stroke=\"black\"/>\n",
            L, H - B, W - R, H - B, L, T, L, H - B);
    for (i = 0; i <= 4; i++) {
        double yv = y0 + (y1 - y0) * i / 4, xv = x0 + (x1 - x0) * i / 4;
        double yy = H - B - (H - T - B) * i / 4, xx = L + (W - L - R) * i / 4;
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"end\">%.2f</text>\n", L - 4, yy + 4, yv);
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%.3g</text>\n", xx, H - B + 14, logx ? pow(10, xv) : xv);
    }
    fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" text-anchor=\"middle\">%s</text>\n", (L + W - R) / 2, H - 12, xlabel);
    fprintf(f, "<text x=\"14\" y=\"%.0f\" transform=\"rotate(-90 14 %.0f)\" text-anchor=\"middle\">%s</text>\n", H / 2, H / 2, ylabel);
    for (i = 0; i < n; i++) {
        double x = L + (W - L - R) * ((logx ? log10(p[i].x) : p[i].x) - x0) / (x1 - x0), y = H - B - (H - T - B) * (p[i].y - y0) / (y1 - y0);
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"#1f77b4\"/><text x=\"%.1f\" y=\"%.1f\">%s</text>\n", x, y, x + 6, y - 6 + 11.0 * (i % 3 - 1), p[i].label);
    }
    fprintf(f, "</svg>\n");
    return fclose(f);
}

/* the float output of sample b (the graph's output is always float) */
RN_FN const float *rn_output(const rn_model *m, int b) { return m->v[m->output].f + (size_t)b * m->v[m->output].size; }

RN_FN void rn_model_free(rn_model *m) {
    int i;
    for (i = 0; i < m->nn; i++) { free(m->n[i].fold); free(m->n[i].chan_a); free(m->n[i].chan_b); free(m->n[i].chan_hi); }
    free(m->arena); rn_file_free(&m->file); memset(m, 0, sizeof *m);
}

RN_FN int rn_mode_from_name(const char *s) {
    int i;
    for (i = 0; s && i < RN_MODE_COUNT; i++) if (!strcmp(s, rn_mode_names[i])) return i;
    return -1;
}

/* A quantized file's "quant" metadata: {"mode": "...", "observer": "...",
 * "acts": {"value": [scale, zero_point], ...}} and optionally
 * "reduce_range": true (7-bit activations: every zero point then <= 127).
 * Sets m->stored_mode; with apply, gives the stored params to the uint8
 * values of m's plan and sets m->reduce_range. */
RN_FN int rn_stored_params(rn_model *m, int apply) {
    rn_json q;
    const rn_json *acts;
    int i, rrange = 0;
    m->stored_mode = -1;
    if (!m->file.quant_json) return 0;
    memset(&q, 0, sizeof q);
    if (rn_json_parse(m->file.quant_json, strlen(m->file.quant_json), &q, m->err, sizeof m->err)) return -1;
#define RN_QFAIL(...) do { snprintf(m->err, sizeof m->err, __VA_ARGS__); rn_json_free(&q); return -1; } while (0)
    if (q.type != RN_JSON_OBJ) RN_QFAIL("quant metadata: not a JSON object");
    for (i = 0; i < q.n; i++)
        if (strcmp(q.kids[i].key, "mode") && strcmp(q.kids[i].key, "observer") && strcmp(q.kids[i].key, "acts") && strcmp(q.kids[i].key, "reduce_range"))
            RN_QFAIL("quant metadata: unknown key '%.60s' (mode, observer, acts, reduce_range)", q.kids[i].key);
    if (rn_json_get(&q, "reduce_range")) {
        const rn_json *rr = rn_json_get(&q, "reduce_range");
        if (rr->type != RN_JSON_BOOL) RN_QFAIL("quant metadata: reduce_range must be true or false");
        rrange = rr->num != 0;
    }
    if ((m->stored_mode = rn_mode_from_name(rn_json_str(&q, "mode"))) < 0 || m->stored_mode == RN_FP32 || m->stored_mode == RN_DYN)
        RN_QFAIL("quant metadata: no quantized mode (\"mode\": int8, int4, ternary, binary, mixed or codebook)");
    if (rn_json_get(&q, "observer") && !rn_json_str(&q, "observer")) RN_QFAIL("quant metadata: observer is not a string");
    acts = rn_json_get(&q, "acts");
    if (!acts || acts->type != RN_JSON_OBJ) RN_QFAIL("quant metadata: no acts object");
    for (i = 0; i < acts->n; i++) {
        const rn_json *a = &acts->kids[i];
        int v = rn_value_id(m, a->key, 0);
        if (v < 0) RN_QFAIL("quant metadata: params for '%.60s', which the graph does not have", a->key);
        if (a->type != RN_JSON_ARR || a->n != 2 || a->kids[0].type != RN_JSON_NUM || a->kids[1].type != RN_JSON_NUM ||
            !(a->kids[0].num > 1e-30 && a->kids[0].num < 1e30) || a->kids[1].num != floor(a->kids[1].num) ||
            a->kids[1].num < 0 || a->kids[1].num > (rrange ? 127 : 255))
            RN_QFAIL("quant metadata: bad params for '%.60s' (want [scale > 0, zero point 0..%d])", a->key, rrange ? 127 : 255);
        if (apply && m->v[v].kind == RN_KIND_U8) { m->v[v].scale = (float)a->kids[0].num; m->v[v].zp = (int32_t)a->kids[1].num; m->v[v].has_params = 1; }
    }
#undef RN_QFAIL
    rn_json_free(&q);
    if (apply) m->reduce_range = rrange;
    return apply ? rn_finish_params(m) : 0;
}

/* Prepares the buffers and weights for the current per-layer bits and
 * builds the plan (after a change of bits: mixed precision). Params must be
 * set again (calibration) afterwards. */
RN_FN int rn_replan(rn_model *m) {
    if (rn_prepare(m, m->batch) || rn_plan(m)) return -1;
    return 0;
}

/* mixed precision: bits[i] (8 or 4) for each conv / dense node i */
RN_FN int rn_set_bits(rn_model *m, const int *bits) {
    int i;
    if (m->mode != RN_MIXED) { snprintf(m->err, sizeof m->err, "per-layer bits are for mode mixed"); return -1; }
    for (i = 0; i < m->nn; i++) {
        if (!rn_is_linear(m->n[i].op)) continue;
        if (bits[i] != 8 && bits[i] != 4) { snprintf(m->err, sizeof m->err, "node %d: %d bits (8 or 4)", i, bits[i]); return -1; }
        m->n[i].bits = bits[i];
    }
    return rn_replan(m);
}

/* ------------------------------------------- mixed precision by a budget */
/* Weight bytes of a conv / dense node as the runner stores it (and counts it
 * in weight_bytes) at 8 bits (int8 codes, fp32 scale and bias per output
 * channel) or 4 (int4 blocks of 32: nibbles, an fp16 scale a block, fp32
 * bias; a depthwise layer has no int4 blocks and stays at 8). */
RN_FN size_t rn_layer_bytes(const rn_node *n, int bits) {
    if (bits == 4 && n->op != RN_OP_DWCONV) return (n->K + 1) / 2 * n->N + 2 * n->N * ((n->K + 31) / 32) + 4 * n->N;
    return n->K * n->N + 8 * n->N;
}

typedef struct { int node, bits; size_t bytes; double noise; } rn_mixed_step;
typedef struct {
    int bits[RN_MAX_NODES];     /* the choice: 8 or 4 for each conv / dense node */
    double alone[RN_MAX_NODES]; /* output noise with that layer alone at 4 bits (-1: not a candidate) */
    double signal, noise8;      /* sum of the fp32 outputs squared; the noise with every layer at 8 */
    size_t bytes8, bytes_min, bytes; /* weight bytes: all at 8, the smallest possible, the choice's */
    int nsteps;
    rn_mixed_step step[2 * RN_MAX_NODES]; /* each switch (to 4, or back to 8) with what it gave */
} rn_mixed_plan;

/* The sum over count samples of the squared difference of q's outputs from
 * ref's (ref NULL: the sum of q's outputs squared; out non-NULL: q's outputs
 * stored there). Samples: uint8 (value / 255) or float (as they are). */
RN_FN int rn_output_noise(rn_model *q, const unsigned char *u8, const float *f32, size_t count, size_t size,
                          const float *ref, float *out, double *noise) {
    size_t i0, j, os = q->v[q->output].size;
    double e = 0;
    if (size != q->v[q->input].size) { snprintf(q->err, sizeof q->err, "samples of %zu values for an input of %zu", size, q->v[q->input].size); return -1; }
    for (i0 = 0; i0 < count; i0 += (size_t)q->batch) {
        size_t bn = count - i0 < (size_t)q->batch ? count - i0 : (size_t)q->batch;
        float *x = q->v[q->input].f;
        const float *y;
        if (f32) memcpy(x, f32 + i0 * size, bn * size * sizeof(float));
        else for (j = 0; j < bn * size; j++) x[j] = (float)u8[i0 * size + j] / 255.0f;
        if (rn_run(q, (int)bn)) return -1;
        y = rn_output(q, 0);
        if (out) memcpy(out + i0 * os, y, bn * os * sizeof(float));
        for (j = 0; j < bn * os; j++) { double d = (double)y[j] - (ref ? (double)ref[i0 * os + j] : 0.0); e += d * d; }
    }
    *noise = e;
    return 0;
}

/* q (mode mixed) at the given bits, its activation params kept (they do not
 * depend on the weights' bits) */
RN_FN int rn_mixed_apply(rn_model *q, const int *bits) {
    float s2[RN_MAX_VALUES];
    int32_t z2[RN_MAX_VALUES];
    int h2[RN_MAX_VALUES], v;
    for (v = 0; v < q->nv; v++) { s2[v] = q->v[v].scale; z2[v] = q->v[v].zp; h2[v] = q->v[v].has_params; }
    if (rn_set_bits(q, bits)) return -1;
    for (v = 0; v < q->nv; v++) if (q->v[v].kind == RN_KIND_U8) { q->v[v].scale = s2[v]; q->v[v].zp = z2[v]; q->v[v].has_params = h2[v]; }
    return rn_finish_params(q);
}

/* Mixed precision under a budget of weight bytes, by measured sensitivity:
 * q is loaded in mode mixed with its activation params set (calibrated) and
 * fp is the same file in fp32. Each conv / dense layer (not depthwise) is
 * put alone at 4 bits and the output noise it adds over the samples is
 * measured (the sum of squared differences from fp32's outputs); then,
 * from every layer at 8, layers go to 4 bits in order of the least noise a
 * byte saved until the weights fit the budget, and layers switched earlier
 * that fit back at 8 within the budget return to 8, most noisy first. Every
 * step is measured. q is left at the chosen bits with its params; the plan
 * says what each step did. A budget below the smallest size (every candidate
 * at 4) is refused, naming that size. */
RN_FN int rn_mixed_search(rn_model *fp, rn_model *q, const unsigned char *u8, const float *f32, size_t count, size_t size,
                          size_t budget, rn_mixed_plan *p) {
    int i, k, order[RN_MAX_NODES], nc = 0, rc = -1;
    float *ref = NULL;
    size_t os = q->v[q->output].size;
    memset(p, 0, sizeof *p);
    if (q->mode != RN_MIXED || fp->mode != RN_FP32) { snprintf(q->err, sizeof q->err, "mixed search: q must be mode mixed and fp fp32"); return -1; }
    if (!count) { snprintf(q->err, sizeof q->err, "mixed search: no samples"); return -1; }
    for (i = 0; i < q->nn; i++) {
        rn_node *n = &q->n[i];
        p->bits[i] = 8; p->alone[i] = -1;
        if (!rn_is_linear(n->op)) continue;
        p->bytes8 += rn_layer_bytes(n, 8);
        p->bytes_min += rn_layer_bytes(n, 4);
        if (rn_layer_bytes(n, 4) < rn_layer_bytes(n, 8)) order[nc++] = i;
    }
    if (budget < p->bytes_min) {
        snprintf(q->err, sizeof q->err, "a budget of %zu bytes cannot be met: the smallest mixed size is %zu bytes (every conv / dense at 4 bits, depthwise at 8)",
                 budget, p->bytes_min);
        return -1;
    }
    if (count > (size_t)1 << 24 || (double)count * (double)os > 1e9 || !(ref = (float *)malloc(count * os * sizeof(float) + 4))) {
        snprintf(q->err, sizeof q->err, "mixed search: out of memory for the fp32 outputs"); return -1;
    }
    if (rn_output_noise(fp, u8, f32, count, size, NULL, ref, &p->signal)) { snprintf(q->err, sizeof q->err, "mixed search: fp32: %.200s", fp->err); goto done; }
    if (rn_mixed_apply(q, p->bits) || rn_output_noise(q, u8, f32, count, size, ref, NULL, &p->noise8)) goto done;
    p->bytes = p->bytes8;
    if (budget >= p->bytes8) { rc = 0; goto done; } /* every layer at 8 fits */
    for (k = 0; k < nc; k++) {
        i = order[k];
        p->bits[i] = 4;
        if (rn_mixed_apply(q, p->bits) || rn_output_noise(q, u8, f32, count, size, ref, NULL, &p->alone[i])) goto done;
        p->bits[i] = 8;
    }
    /* by added noise a byte saved (ties: the earlier layer first) */
    for (k = 1; k < nc; k++) {
        int v = order[k], j = k;
        double cv = (p->alone[v] - p->noise8) / (double)(rn_layer_bytes(&q->n[v], 8) - rn_layer_bytes(&q->n[v], 4));
        while (j > 0) {
            int u = order[j - 1];
            double cu = (p->alone[u] - p->noise8) / (double)(rn_layer_bytes(&q->n[u], 8) - rn_layer_bytes(&q->n[u], 4));
            if (cu <= cv) break;
            order[j] = u; j--;
        }
        order[j] = v;
    }
    for (k = 0; k < nc && p->bytes > budget; k++) {
        rn_mixed_step *s = &p->step[p->nsteps++];
        i = order[k];
        p->bits[i] = 4;
        p->bytes -= rn_layer_bytes(&q->n[i], 8) - rn_layer_bytes(&q->n[i], 4);
        s->node = i; s->bits = 4; s->bytes = p->bytes;
        if (rn_mixed_apply(q, p->bits) || rn_output_noise(q, u8, f32, count, size, ref, NULL, &s->noise)) goto done;
    }
    for (k = k - 2; k >= 0; k--) { /* back to 8 where the budget allows, the noisiest a byte first */
        size_t back = rn_layer_bytes(&q->n[order[k]], 8) - rn_layer_bytes(&q->n[order[k]], 4);
        rn_mixed_step *s;
        i = order[k];
        if (p->bytes + back > budget) continue;
        s = &p->step[p->nsteps++];
        p->bits[i] = 8;
        p->bytes += back;
        s->node = i; s->bits = 8; s->bytes = p->bytes;
        if (rn_mixed_apply(q, p->bits) || rn_output_noise(q, u8, f32, count, size, ref, NULL, &s->noise)) goto done;
    }
    rc = 0;
done:
    free(ref);
    return rc;
}

/* Weights quantized at load with one scale per tensor (on) or per output
 * channel (off, the default) in the int8 layers of the static and dynamic
 * modes (not int4 blocks, ternary or binary layers, nor weights a quantized
 * file stores); prepares again: params must be set afterwards. */
RN_FN int rn_set_per_tensor(rn_model *m, int on) {
    m->per_tensor = on != 0;
    return rn_replan(m);
}

/* 7-bit activations (on), PyTorch's reduce_range: every uint8 value's
 * params and codes in [0, 127] (calibration, the input, every epilogue,
 * table and requantization), so that each conv / dense reads bytes <= 127
 * and the kernels' u7s8 path (pmaddubsw on the bytes as they are) serves
 * it where its packing allows (quant_kernels.h, SSE4.1 / AVX2 / AVX-512
 * without VNNI: K >= 64 and no weight of -128); half the resolution of
 * [0, 255]. The static and dynamic modes; params must be set afterwards
 * (calibration; a file quantized so says "reduce_range": true and sets it). */
RN_FN int rn_set_reduce_range(rn_model *m, int on) {
    m->reduce_range = on != 0;
    m->params_ready = 0;
    return 0;
}

/* ------------------------------------------------ post-training steps */
/* quant.h section 12 applied to a loaded model, shared by quant-tool
 * quantize (--equalize, --round gptq, --bias-correct) and make demo.
 *
 * rn_equalize: cross-layer equalization (quant_cle_*) of every pair of
 * layers A -> B joined by ops that commute with a positive per-channel
 * scale (relu, leaky relu, max / avg pooling, global average pooling,
 * flatten), each value on the way read by that path only: DFQ's pairs,
 * through depthwise convs (a depthwise layer is the B of one pair and the A
 * of the next). Ten sweeps over the pairs, in place in the model's float
 * tensors (m->file), then the model is prepared again (params must be set
 * afterwards, as after rn_set_bits). Layers with folded scales, grouped
 * convs and trained ternary / binary weights are left alone.
 * ReLU6 on a pair's path: clip(x, 0, 6) / s = clip(x / s, 0, 6 / s), so the
 * relu6 node becomes a relu_clip whose bound for channel c is 6 / S_c (S_c
 * the product of the sweeps' scales; an existing relu_clip's bounds are
 * divided likewise, in the file's tensor too): rn_eq_report's clip lists
 * those nodes (a writer of the model gives each a "max" tensor, chan_a).
 * A's out_stats (mean, deviation) are divided by S_c in the file. The report
 * gives each pair's channel-range spread (largest / smallest per-channel
 * max |w|) before and after. */
typedef struct { int a, b; double spread_a[2], spread_b[2]; } rn_eq_pair; /* nodes; spreads before, after */
typedef struct { int np, nclip; rn_eq_pair pair[RN_MAX_NODES]; int clip[RN_MAX_NODES]; /* relu6 nodes made relu_clip */ } rn_eq_report;

RN_FN double rn_eq_spread(const float *w, const size_t *shape, int nd, int axis) {
    float r[4096];
    size_t c, C = shape[axis];
    double lo = 0, hi = 0;
    if (C > 4096 || quant_absmax_axis(w, shape, nd, axis, r) != QUANT_OK) return NAN;
    for (c = 0; c < C; c++) if (r[c] > 0) { if (lo == 0 || r[c] < lo) lo = r[c]; if (r[c] > hi) hi = r[c]; }
    return lo > 0 ? hi / lo : 1.0;
}

RN_FN int rn_equalize(rn_model *m, rn_eq_report *rep) {
    typedef struct { float *wa, *ba, *wb; size_t sa[4], sb[4]; int na, aa, nb, ab, clip[4], nclip; double *S; } pr_t;
    pr_t *pr;
    int cons[RN_MAX_VALUES], who[RN_MAX_VALUES], i, j, np = 0, sweep, rc = -1;
    rep->np = 0; rep->nclip = 0;
    for (i = 0; i < m->nv; i++) cons[i] = 0;
    for (i = 0; i < m->nn; i++) for (j = 0; j < m->n[i].nin; j++) { cons[m->n[i].in[j]]++; who[m->n[i].in[j]] = i; }
    if (!(pr = (pr_t *)calloc((size_t)m->nn + 1, sizeof *pr))) { snprintf(m->err, sizeof m->err, "equalize: out of memory"); return -1; }
    for (i = 0; i < m->nn; i++) {
        const rn_node *a = &m->n[i], *b = NULL;
        int v = a->out, flat = 0;
        size_t C = a->N;
        pr_t *p = &pr[np];
        if (!rn_is_linear(a->op) || a->fold || a->wtype || a->w->dtype != RN_DT_F32) continue;
        p->nclip = 0;
        for (;;) {
            const rn_node *c;
            if (v == m->output || cons[v] != 1) break;
            c = &m->n[who[v]];
            if (c->nin != 1) break;
            if (rn_is_linear(c->op)) { b = c; break; }
            if (c->op != RN_OP_RELU && c->op != RN_OP_LEAKY && c->op != RN_OP_MAXPOOL && c->op != RN_OP_AVGPOOL &&
                c->op != RN_OP_GAP && c->op != RN_OP_FLATTEN && c->op != RN_OP_RELU6 && c->op != RN_OP_RELU_CLIP) break;
            if ((c->op == RN_OP_RELU6 || c->op == RN_OP_RELU_CLIP) && (flat || p->nclip == 4)) break; /* per channel before a flatten only */
            if (c->op == RN_OP_RELU6 || c->op == RN_OP_RELU_CLIP) p->clip[p->nclip++] = who[v];
            if (c->op == RN_OP_FLATTEN) flat = 1;
            v = c->out;
        }
        if (!b || b->fold || b->wtype || b->w->dtype != RN_DT_F32) continue;
        /* the model's own aligned copies of the tensors (rn_file_parse), written in place */
        p->wa = (float *)(void *)(uintptr_t)a->w->data; p->wb = (float *)(void *)(uintptr_t)b->w->data;
        p->ba = a->b ? (float *)(void *)(uintptr_t)a->b->data : NULL;
        if (a->op == RN_OP_DWCONV) { p->na = 3; p->aa = 2; memcpy(p->sa, a->w->shape, 3 * sizeof(size_t)); }
        else if (a->op == RN_OP_CONV) { p->na = 4; p->aa = 0; memcpy(p->sa, a->w->shape, 4 * sizeof(size_t)); }
        else { p->na = 2; p->aa = 0; p->sa[0] = a->N; p->sa[1] = a->K; }
        if (b->op == RN_OP_DWCONV) { p->nb = 3; p->ab = 2; memcpy(p->sb, b->w->shape, 3 * sizeof(size_t)); }
        else if (b->op == RN_OP_CONV) { p->nb = 4; p->ab = 3; memcpy(p->sb, b->w->shape, 4 * sizeof(size_t)); }
        else if (flat) { if (b->K % C) continue; p->nb = 3; p->ab = 2; p->sb[0] = b->N; p->sb[1] = b->K / C; p->sb[2] = C; }
        else { p->nb = 2; p->ab = 1; p->sb[0] = b->N; p->sb[1] = b->K; }
        if (p->sb[p->ab] != C || (a->b && a->b->count != C) || C > 4096) continue;
        if (!(p->S = (double *)malloc(C * sizeof(double)))) { snprintf(m->err, sizeof m->err, "equalize: out of memory"); goto done; }
        for (j = 0; j < (int)C; j++) p->S[j] = 1.0;
        rep->pair[np].a = i; rep->pair[np].b = (int)(b - m->n);
        rep->pair[np].spread_a[0] = rn_eq_spread(p->wa, p->sa, p->na, p->aa);
        rep->pair[np].spread_b[0] = rn_eq_spread(p->wb, p->sb, p->nb, p->ab);
        np++;
    }
    rep->np = np;
    for (sweep = 0; sweep < 10; sweep++)
        for (i = 0; i < np; i++) {
            float s[4096];
            quant_status st;
            if (pr[i].sb[pr[i].ab] > 4096) continue;
            st = quant_cle_scales(pr[i].wa, pr[i].sa, pr[i].na, pr[i].aa, pr[i].wb, pr[i].sb, pr[i].nb, pr[i].ab, s);
            if (st == QUANT_OK) st = quant_cle_apply(pr[i].wa, pr[i].sa, pr[i].na, pr[i].aa, pr[i].ba, pr[i].wb, pr[i].sb, pr[i].nb, pr[i].ab, s);
            if (st != QUANT_OK) {
                snprintf(m->err, sizeof m->err, "equalize %.80s -> %.80s: %s", m->n[rep->pair[i].a].w->name, m->n[rep->pair[i].b].w->name, quant_status_str(st));
                goto done;
            }
            for (j = 0; j < (int)pr[i].sb[pr[i].ab]; j++) pr[i].S[j] *= s[j];
        }
    for (i = 0; i < np; i++) {
        rn_node *a = &m->n[rep->pair[i].a];
        size_t c, C = a->N;
        int k;
        rep->pair[i].spread_a[1] = rn_eq_spread(pr[i].wa, pr[i].sa, pr[i].na, pr[i].aa);
        rep->pair[i].spread_b[1] = rn_eq_spread(pr[i].wb, pr[i].sb, pr[i].nb, pr[i].ab);
        /* A's outputs are now y / S: so are their statistics and every clip bound on the path */
        if (a->stats) {
            float *st = (float *)(void *)(uintptr_t)a->stats->data;
            for (c = 0; c < C; c++) { st[c] = (float)(st[c] / pr[i].S[c]); st[C + c] = (float)(st[C + c] / pr[i].S[c]); }
        }
        for (k = 0; k < pr[i].nclip; k++) {
            rn_node *cn = &m->n[pr[i].clip[k]];
            if (cn->op == RN_OP_RELU6) {
                if (!(cn->chan_a = (float *)malloc(C * sizeof(float))) || !(cn->chan_hi = (uint8_t *)malloc(C))) {
                    snprintf(m->err, sizeof m->err, "equalize: out of memory"); goto done;
                }
                for (c = 0; c < C; c++) cn->chan_a[c] = 6.0f;
                cn->op = RN_OP_RELU_CLIP;
                rep->clip[rep->nclip++] = pr[i].clip[k];
            }
            for (c = 0; c < C; c++) cn->chan_a[c] = (float)(cn->chan_a[c] / pr[i].S[c]);
            if (cn->clip) memcpy((void *)(uintptr_t)cn->clip->data, cn->chan_a, C * sizeof(float));
        }
    }
    rc = np ? rn_replan(m) : 0;
done:
    for (i = 0; i < np; i++) free(pr[i].S);
    free(pr);
    return rc;
}

/* GPTQ rounding and bias correction of conv / dense layers:
 * rn_ptq_collect runs fp over calibration samples and gathers each layer's
 * H = 2 X^T X (X: its float inputs, im2col rows for a conv; not depthwise,
 * nor K > RN_PTQ_MAX_K, whose H would take > 512 MB: those keep round to
 * nearest) and its mean input per channel (per input for dense);
 * rn_ptq_codes gives a layer's codes in q's mode, round to nearest's scales
 * kept (int4: the fp16 block scales of rn_q4_quantize, int8: per channel or
 * per tensor), GPTQ's codes where H was gathered, and the bias minus
 * (Wq - W) E[x] where the means were; rn_ptq_install puts them into a
 * loaded model (quant-tool writes them to the file instead). */
typedef struct {
    double *H;            /* K x K, or NULL                                  */
    double *ex;           /* mean input per channel (conv) / input (dense)   */
    double sig, en, eg;   /* w^T H w, and the error of nearest / GPTQ codes  */
    double db;            /* largest |bias change|                           */
    int gptq;
} rn_ptq_layer;
#define RN_PTQ_MAX_K 8192

RN_FN void rn_ptq_free(rn_ptq_layer *pl, int n) {
    int i;
    if (!pl) return;
    for (i = 0; i < n; i++) { free(pl[i].H); free(pl[i].ex); }
    free(pl);
}

/* im2col of one image: rows[oh * ow][K], K = kh * kw * in_c, zeros where a
 * tap reads padding */
RN_FN void rn_ptq_im2col(const quant_conv_shape *cs, const float *x, size_t oh, size_t ow, float *rows) {
    size_t oy, ox, u, v, K = cs->k_h * cs->k_w * cs->in_c;
    for (oy = 0; oy < oh; oy++)
        for (ox = 0; ox < ow; ox++) {
            float *r = rows + (oy * ow + ox) * K;
            for (u = 0; u < cs->k_h; u++)
                for (v = 0; v < cs->k_w; v++) {
                    long iy = (long)(oy * cs->stride_h + u * cs->dil_h) - (long)cs->pad_top;
                    long ix = (long)(ox * cs->stride_w + v * cs->dil_w) - (long)cs->pad_left;
                    float *d = r + (u * cs->k_w + v) * cs->in_c;
                    if (iy < 0 || ix < 0 || iy >= (long)cs->in_h || ix >= (long)cs->in_w) memset(d, 0, cs->in_c * sizeof(float));
                    else memcpy(d, x + ((size_t)iy * cs->in_w + (size_t)ix) * cs->in_c, cs->in_c * sizeof(float));
                }
        }
}

/* progress: called after each batch with the samples run so far (may be NULL) */
typedef void (*rn_progress_fn)(size_t done, size_t total, void *ctx);

/* Samples: uint8 (value / 255) or float (as they are), count x size. NULL
 * with fp->err set on failure. */
RN_FN rn_ptq_layer *rn_ptq_collect(rn_model *fp, const unsigned char *u8, const float *f32, size_t count, size_t size,
                                   int want_h, int want_ex, rn_progress_fn progress, void *ctx) {
    rn_ptq_layer *pl = (rn_ptq_layer *)calloc((size_t)fp->nn + 1, sizeof *pl);
    size_t i0, maxrows = 0, j, b;
    float *rows = NULL;
    int i;
#define RN_PFAIL(...) do { snprintf(fp->err, sizeof fp->err, __VA_ARGS__); goto fail; } while (0)
    if (!pl) { snprintf(fp->err, sizeof fp->err, "out of memory"); return NULL; }
    if (fp->mode != RN_FP32) RN_PFAIL("layer inputs: the model must be loaded in fp32");
    if (size != fp->v[fp->input].size) RN_PFAIL("samples of %zu values for an input of %zu", size, fp->v[fp->input].size);
    for (i = 0; i < fp->nn; i++) {
        rn_node *nd = &fp->n[i];
        const rn_value *xv = &fp->v[nd->in[0]];
        if (!rn_is_linear(nd->op)) continue;
        if (!rn_written(fp, nd->in[0])) RN_PFAIL("node %d: its input is not kept in fp32", i);
        if (want_h && nd->op != RN_OP_DWCONV && nd->K <= RN_PTQ_MAX_K) {
            size_t oh = 1, ow = 1;
            if (nd->op == RN_OP_CONV) {
                if (quant_conv_out_size(&nd->cs, &oh, &ow) != QUANT_OK) RN_PFAIL("node %d: bad conv shape", i);
                if (oh * ow * nd->K > maxrows) maxrows = oh * ow * nd->K;
            } else if (nd->K != xv->size) RN_PFAIL("node %d: dense input size %zu != K %zu", i, xv->size, nd->K);
            if (!(pl[i].H = (double *)calloc(nd->K * nd->K, sizeof(double)))) RN_PFAIL("out of memory");
            pl[i].gptq = 1;
        }
        if (want_ex && !(pl[i].ex = (double *)calloc(nd->op == RN_OP_DENSE ? xv->size : xv->c, sizeof(double)))) RN_PFAIL("out of memory");
    }
    if (maxrows && !(rows = (float *)malloc(maxrows * sizeof(float)))) RN_PFAIL("out of memory");
    for (i0 = 0; i0 < count; i0 += (size_t)fp->batch) {
        size_t bn = count - i0 < (size_t)fp->batch ? count - i0 : (size_t)fp->batch;
        float *in = fp->v[fp->input].f;
        if (u8) for (j = 0; j < bn * size; j++) in[j] = (float)u8[i0 * size + j] / 255.0f;
        else memcpy(in, f32 + i0 * size, bn * size * sizeof(float));
        if (rn_run(fp, (int)bn)) { char e[200]; snprintf(e, sizeof e, "%.150s", fp->err); RN_PFAIL("the fp32 run failed: %s", e); }
        for (i = 0; i < fp->nn; i++) {
            rn_node *nd = &fp->n[i];
            const rn_value *xv = &fp->v[nd->in[0]];
            if (pl[i].ex) {
                size_t c, p, C = nd->op == RN_OP_DENSE ? xv->size : xv->c, P = xv->size / C;
                for (b = 0; b < bn; b++)
                    for (p = 0; p < P; p++)
                        for (c = 0; c < C; c++) pl[i].ex[c] += (double)xv->f[b * xv->size + p * C + c];
            }
            if (pl[i].H) {
                quant_status st;
                if (nd->op == RN_OP_DENSE) st = quant_gptq_hessian_add(pl[i].H, nd->K, xv->f, bn, xv->size);
                else {
                    size_t oh = 0, ow = 0;
                    quant_conv_out_size(&nd->cs, &oh, &ow);
                    for (b = 0, st = QUANT_OK; b < bn && st == QUANT_OK; b++) {
                        rn_ptq_im2col(&nd->cs, xv->f + b * xv->size, oh, ow, rows);
                        st = quant_gptq_hessian_add(pl[i].H, nd->K, rows, oh * ow, nd->K);
                    }
                }
                if (st != QUANT_OK) RN_PFAIL("node %d: Hessian: %s", i, quant_status_str(st));
            }
        }
        if (progress) progress(i0 + bn, count, ctx);
    }
    for (i = 0; i < fp->nn; i++)
        if (pl[i].ex) {
            const rn_value *xv = &fp->v[fp->n[i].in[0]];
            size_t c, C = fp->n[i].op == RN_OP_DENSE ? xv->size : xv->c;
            for (c = 0; c < C; c++) pl[i].ex[c] /= (double)count * (double)(xv->size / C);
        }
    free(rows);
    return pl;
fail:
    free(rows); rn_ptq_free(pl, fp->nn);
    return NULL;
#undef RN_PFAIL
}

/* Data-free E[x] (DFQ's analytic bias correction) into pl[i].ex for each
 * conv / dense node i whose input is, walking back from it, any avgpool /
 * gap / flatten (they keep a channel's mean; E[x] of a padded window is
 * that of its interior, as for the empirical means), then at most one relu,
 * relu6 or relu_clip, then a conv / dense layer A with out_stats: A's
 * channel c is taken as normal with out_stats' mean and deviation, and E[x]
 * is E[clamp(y, 0, hi)] (quant_expected_clipped_normal; hi = +inf, 6 or
 * max[c]; no clamp without the relu). Other layers (the first, those behind
 * a max pool, an add, or a layer without statistics) get no ex. pl has
 * fp->nn entries (calloc'd, or rn_ptq_collect's without means). Returns the
 * number of layers given an ex, or -1 (fp->err) if out of memory. */
RN_FN int rn_ptq_analytic(rn_model *fp, rn_ptq_layer *pl) {
    int i, j, got = 0;
    for (i = 0; i < fp->nn; i++) {
        const rn_node *b = &fp->n[i], *clip = NULL, *a = NULL;
        int v = b->in[0];
        size_t c, C, K;
        if (!rn_is_linear(b->op) || pl[i].ex) continue;
        for (;;) {
            const rn_node *p = NULL;
            for (j = 0; j < fp->nn; j++) if (fp->n[j].out == v) p = &fp->n[j];
            if (!p) break;
            if (rn_is_linear(p->op)) { a = p; break; }
            if (p->op == RN_OP_RELU || p->op == RN_OP_RELU6 || p->op == RN_OP_RELU_CLIP) {
                if (clip) break;
                clip = p;
            } else if ((p->op != RN_OP_AVGPOOL && p->op != RN_OP_GAP && p->op != RN_OP_FLATTEN) || clip) break;
            v = p->in[0];
        }
        if (!a || !a->stats) continue;
        C = a->N;
        K = b->op == RN_OP_DENSE ? b->K : C;
        if (K % C) continue;
        if (!(pl[i].ex = (double *)malloc(K * sizeof(double)))) { snprintf(fp->err, sizeof fp->err, "out of memory"); return -1; }
        for (c = 0; c < C; c++) {
            const float *mu = (const float *)a->stats->data + c, *sd = mu + C;
            float hi = !clip || clip->op == RN_OP_RELU ? INFINITY : clip->op == RN_OP_RELU6 ? 6.0f : clip->chan_a[c], e;
            quant_status st = QUANT_OK;
            if (clip && !(hi > 0)) e = 0.0f; /* a channel clipped to [0, 0] */
            else st = quant_expected_clipped_normal(mu, sd, 1, clip ? 0.0f : -INFINITY, hi, &e);
            if (st != QUANT_OK) { snprintf(fp->err, sizeof fp->err, "%.100s: out_stats: %s", a->w->name, quant_status_str(st)); return -1; }
            for (j = 0; (size_t)j < K / C; j++) pl[i].ex[(size_t)j * C + c] = e; /* dense after a flatten: input k is channel k % C */
        }
        got++;
    }
    return got;
}

/* w H w^T summed over the rows: quant_hessian_error with every code 0
 * (its error rows are then w itself); NaN if out of memory */
RN_FN double rn_ptq_quad(const float *w, size_t N, size_t K, const double *H) {
    int8_t *zero = (int8_t *)calloc(N * K + 1, 1);
    float *ones = (float *)malloc(N * sizeof(float) + 4);
    double s = NAN;
    size_t o;
    if (zero && ones) {
        for (o = 0; o < N; o++) ones[o] = 1.0f;
        if (quant_hessian_error(w, zero, ones, N, K, K, H, &s) != QUANT_OK) s = NAN;
    }
    free(zero); free(ones);
    return s;
}

/* GPTQ codes for a conv / dense layer with the given scales [N][K / group]
 * (codes in: round to nearest's; out: GPTQ's); the errors into L */
RN_FN int rn_ptq_gptq(rn_model *m, const rn_node *n, rn_ptq_layer *L, int8_t *codes, float *sc, size_t group, int32_t qmin, int32_t qmax) {
    const float *w = rn_wf(n);
    quant_gptq_opts o;
    size_t bytes = quant_gptq_workspace_size(n->K);
    void *ws = bytes ? malloc(bytes) : NULL;
    quant_status st;
    if (!ws) { snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
    quant_gptq_opts_default(&o, 8);
    o.qmin = qmin; o.qmax = qmax; o.group = group; o.scales_given = 1;
    L->sig = rn_ptq_quad(w, n->N, n->K, L->H);
    st = quant_hessian_error(w, codes, sc, n->N, n->K, group, L->H, &L->en);
    if (st == QUANT_OK) st = quant_gptq(w, n->N, n->K, L->H, &o, codes, sc, ws, bytes);
    if (st == QUANT_OK) st = quant_hessian_error(w, codes, sc, n->N, n->K, group, L->H, &L->eg);
    free(ws);
    if (st != QUANT_OK) { snprintf(m->err, sizeof m->err, "%.160s: GPTQ: %s", n->w->name, quant_status_str(st)); return -1; }
    return 0;
}

/* codes * scales in the layout of the weights (depthwise [kh][kw][c] with a
 * scale per channel; else [N][K] with scales [N][K / group]) */
RN_FN void rn_ptq_dequant(const rn_node *n, const int8_t *codes, const float *sc, size_t group, float *wq) {
    size_t o, k, nb = (n->K + group - 1) / group;
    for (o = 0; o < n->N; o++)
        for (k = 0; k < n->K; k++) {
            if (n->op == RN_OP_DWCONV) wq[k * n->N + o] = (float)codes[k * n->N + o] * sc[o];
            else wq[o * n->K + k] = (float)codes[o * n->K + k] * sc[o * nb + k / group];
        }
}
/* weight SQNR (dB) of dequantized weights */
RN_FN double rn_ptq_sqnr(const rn_node *n, const int8_t *codes, const float *sc, size_t group) {
    const float *w = rn_wf(n);
    float *wq = (float *)malloc(n->N * n->K * sizeof(float) + 4);
    size_t i;
    double sig = 0, noise = 0;
    if (!wq) return NAN;
    rn_ptq_dequant(n, codes, sc, group, wq);
    for (i = 0; i < n->N * n->K; i++) { double d = (double)w[i] - wq[i]; sig += (double)w[i] * w[i]; noise += d * d; }
    free(wq);
    return noise > 0 ? 10 * log10(sig / noise) : INFINITY;
}

/* the corrected bias [N] of a layer with codes * scales, into qb */
RN_FN int rn_ptq_bias(rn_model *m, const rn_node *n, rn_ptq_layer *L, const int8_t *codes, const float *sc, size_t group, float *qb) {
    const float *w = rn_wf(n);
    float *wq = (float *)malloc(n->N * n->K * sizeof(float) + 4), *ex;
    const rn_tensor *bt = n->b;
    size_t shape[4], o, C;
    int nd, oa, ia;
    quant_status st;
    if (!wq) { snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
    rn_ptq_dequant(n, codes, sc, group, wq);
    if (n->op == RN_OP_DENSE) { shape[0] = n->N; shape[1] = n->K; nd = 2; oa = 0; ia = 1; C = n->K; }
    else if (n->op == RN_OP_CONV) { shape[0] = n->N; shape[1] = n->cs.k_h; shape[2] = n->cs.k_w; shape[3] = n->cs.in_c; nd = 4; oa = 0; ia = 3; C = n->cs.in_c; }
    else { shape[0] = n->cs.k_h; shape[1] = n->cs.k_w; shape[2] = n->N; nd = 3; oa = 2; ia = 2; C = n->N; }
    ex = (float *)malloc(C * sizeof(float) + 4);
    if (!ex) { free(wq); snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
    for (o = 0; o < C; o++) ex[o] = (float)L->ex[o];
    for (o = 0; o < n->N; o++) qb[o] = bt ? ((const float *)bt->data)[o] : 0.0f;
    st = quant_bias_correct(w, wq, shape, nd, oa, ia, ex, qb);
    free(wq); free(ex);
    if (st != QUANT_OK) { snprintf(m->err, sizeof m->err, "%.160s: bias correction: %s", n->w->name, quant_status_str(st)); return -1; }
    L->db = 0;
    for (o = 0; o < n->N; o++) {
        double d = fabs((double)qb[o] - (bt ? ((const float *)bt->data)[o] : 0.0));
        if (d > L->db) L->db = d;
    }
    return 0;
}

/* The codes of conv / dense node i of q (loaded in int8, int4, mixed or
 * ternary) as its mode stores them: int4 blocks of 32 (n->q4): wq [N][K]
 * in [-8, 7] and sc [N][ceil(K / 32)] fp16-exact scales; else wq in the
 * layout of the weights in [-qmax, qmax] (qmax 127, 7 or ternary 1) and sc
 * [N] (per_tensor: one scale in every channel's slot). Round to nearest,
 * then GPTQ where L->gptq, then the corrected bias into qb where L->ex (qb
 * must then hold N floats). L may be NULL (nearest alone). *sqnr: the
 * weight SQNR (dB). */
RN_FN int rn_ptq_codes(rn_model *q, int i, rn_ptq_layer *L, int per_tensor, int8_t *wq, float *sc, float *qb, double *sqnr) {
    rn_node *n = &q->n[i];
    if (!rn_is_linear(n->op)) { snprintf(q->err, sizeof q->err, "node %d is not conv2d, dwconv2d or dense", i); return -1; }
    if (n->q4) {
        rn_q4_quantize(n, wq, sc, sqnr);
        if (L && L->gptq) {
            if (rn_ptq_gptq(q, n, L, wq, sc, 32, -8, 7)) return -1;
            *sqnr = rn_ptq_sqnr(n, wq, sc, 32);
        }
        if (L && L->ex && rn_ptq_bias(q, n, L, wq, sc, 32, qb)) return -1;
    } else {
        int qmax = q->mode == RN_INT4 || (q->mode == RN_MIXED && n->bits == 4) ? 7 : (q->mode == RN_TERNARY && n->wtype == 1) ? 1 : 127;
        rn_quant_weights_g(n, qmax, qmax == 1, per_tensor, wq, sc, sqnr);
        if (L && L->gptq) {
            if (rn_ptq_gptq(q, n, L, wq, sc, n->K, -qmax, qmax)) return -1;
            *sqnr = rn_ptq_sqnr(n, wq, sc, n->K);
        }
        if (L && L->ex && rn_ptq_bias(q, n, L, wq, sc, n->K, qb)) return -1;
    }
    return 0;
}

/* Puts rn_ptq_codes' codes, scales and (qb non-NULL) corrected bias into
 * node i of m, loaded in the same mode and with the same bits as the q
 * they came from (what loading the file quant-tool writes from them does).
 * Set the activation params (calibrate) afterwards: the int8 epilogue's
 * bias is computed with them. */
RN_FN int rn_ptq_install(rn_model *m, int i, const int8_t *wq, const float *sc, const float *qb) {
    rn_node *n = &m->n[i];
    quant_status st;
    if (!rn_is_linear(n->op) || !n->packed || !rn_static_mode(m->mode) || m->mode == RN_BINARY) {
        snprintf(m->err, sizeof m->err, "node %d: no quantized weights to replace", i); return -1;
    }
    if (n->q4) st = quant_gemm_q4_pack(wq, sc, n->K, n->N, n->packed, quant_gemm_q4_pack_size(n->K, n->N));
    else {
        memcpy(n->wscale, sc, n->N * sizeof(float));
        if (n->op == RN_OP_CONV) st = quant_conv2d_pack(wq, &n->cs, 0, n->packed, quant_conv2d_pack_size(&n->cs));
        else if (n->op == RN_OP_DWCONV) st = quant_dwconv2d_pack(wq, &n->cs, 0, n->packed, quant_dwconv2d_pack_size(&n->cs));
        else st = quant_gemm_pack(wq, QUANT_LAYOUT_NK, n->K, n->N, 0, n->packed, quant_gemm_pack_size(n->K, n->N));
    }
    if (st != QUANT_OK) { snprintf(m->err, sizeof m->err, "%.160s: the codes were refused (%s)", n->w->name, quant_status_str(st)); return -1; }
    if (qb) memcpy(n->bias, qb, n->N * sizeof(float));
    m->params_ready = 0;
    return 0;
}

/* The part of loading after the file is parsed (m->file set). */
RN_FN int rn_model_finish_load(rn_model *m, int batch) {
    int ok = rn_graph(m) == 0 && rn_stored_params(m, 0) == 0;
    if (ok && m->stored_mode >= 0 && m->mode != RN_FP32 && m->mode != m->stored_mode) {
        snprintf(m->err, sizeof m->err, "the file is quantized for mode %s: load it as %s (or fp32, from its float tensors), not %s",
                 rn_mode_names[m->stored_mode], rn_mode_names[m->stored_mode], rn_mode_names[m->mode]);
        ok = 0;
    }
    if (ok && m->stored_mode == RN_MIXED && m->mode == RN_MIXED) { /* its bits per layer: W.q4 (int4 blocks) or W.q (int8) */
        int i;
        for (i = 0; ok && i < m->nn; i++) {
            rn_node *n = &m->n[i];
            char nm[256];
            const rn_tensor *t4, *t8;
            if (!rn_is_linear(n->op)) continue;
            snprintf(nm, sizeof nm, "%s.q4", n->w->name); t4 = rn_find(&m->file, nm);
            snprintf(nm, sizeof nm, "%s.q", n->w->name); t8 = rn_find(&m->file, nm);
            if (t4 && t8) { snprintf(m->err, sizeof m->err, "a mixed file: %.100s has both .q and .q4 (one bit width a layer)", n->w->name); ok = 0; }
            else if (t4 && n->op == RN_OP_DWCONV) { snprintf(m->err, sizeof m->err, "a mixed file: %.100s.q4 on a depthwise layer (int4 blocks are for conv2d and dense)", n->w->name); ok = 0; }
            else if (!t4 && !t8) { snprintf(m->err, sizeof m->err, "a mixed file: %.100s has neither .q nor .q4 (its bit width)", n->w->name); ok = 0; }
            else n->bits = t4 ? 4 : 8;
        }
    }
    m->batch = batch;
    ok = ok && rn_prepare(m, batch) == 0 && rn_plan(m) == 0;
    if (ok && !rn_static_mode(m->mode)) m->params_ready = 1;
    if (ok && m->stored_mode >= 0 && m->mode != RN_FP32 && rn_stored_params(m, 1) != 0) ok = 0;
    if (!ok) { char e[256]; memcpy(e, m->err, sizeof e); rn_model_free(m); memcpy(m->err, e, sizeof e); return -1; }
    return 0;
}

RN_FN int rn_check_mode_batch(rn_model *m, int mode, int batch) {
    if (mode < 0 || mode >= RN_MODE_COUNT) { snprintf(m->err, sizeof m->err, "unknown mode %d", mode); return -1; }
    if (batch < 1 || batch > 1 << 16) { snprintf(m->err, sizeof m->err, "batch %d out of range (1 to 65536)", batch); return -1; }
    return 0;
}

RN_FN int rn_model_load(rn_model *m, const char *path, int mode, int batch) {
    memset(m, 0, sizeof *m);
    m->mode = mode; m->stored_mode = -1;
    if (rn_check_mode_batch(m, mode, batch)) return -1;
    if (rn_file_load(&m->file, path, m->err, sizeof m->err)) return -1;
    return rn_model_finish_load(m, batch);
}

/* The same from a file image in memory (copied; bytes stays the caller's). */
RN_FN int rn_model_load_mem(rn_model *m, const void *bytes, size_t size, int mode, int batch) {
    unsigned char *buf;
    memset(m, 0, sizeof *m);
    m->mode = mode; m->stored_mode = -1;
    if (rn_check_mode_batch(m, mode, batch)) return -1;
    if (!bytes && size) { snprintf(m->err, sizeof m->err, "NULL file image"); return -1; }
    if (size > ((size_t)1 << 30)) { snprintf(m->err, sizeof m->err, "file image larger than 1 GiB"); return -1; }
    buf = (unsigned char *)malloc(size + 1);
    if (!buf) { snprintf(m->err, sizeof m->err, "out of memory"); return -1; }
    if (size) memcpy(buf, bytes, size);
    if (rn_file_parse(&m->file, buf, size, m->err, sizeof m->err)) { rn_file_free(&m->file); return -1; }
    return rn_model_finish_load(m, batch);
}

#if defined(__clang__)
#pragma STDC FP_CONTRACT DEFAULT
#elif defined(__GNUC__)
#pragma GCC pop_options
#endif
#endif /* QUANT_RUNNER_H */
