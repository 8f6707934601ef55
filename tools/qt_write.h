/* tools/qt_write.h - writing a model file: safetensors (8-byte little-endian
 * header length, a JSON header, the raw tensors) with the "quant-model-1"
 * __metadata__ the runner reads. Include after runner.h (it uses the RT_*
 * dtypes and RN_MAX_ELEMS); needs POSIX (mkstemp, fchmod, rename).
 *
 *   qt_write_mem(t, nt, &meta, &image, &size, err, errn)  a malloc'd file image
 *   qt_write_file(path, t, nt, &meta, err, errn)          the same, as a file
 *
 * Every string (tensor names, graph, variant, quant) is JSON-escaped, so any
 * byte but NUL comes back unchanged. Whatever the runner's loader would refuse
 * is refused here with a message, not written: an empty name or one longer
 * than 200 bytes, "__metadata__" as a name, a name given twice, an unknown
 * dtype, more than 8 dimensions, a dimension over 1e12, an element count over
 * RN_MAX_ELEMS, a byte count that is not count x dtype size, no graph, a
 * header over 100 MiB or a file over 1 GiB. Both return 0, or -1 with a
 * message in err.
 *
 * qt_write_file never leaves a partial file: it writes a temporary file in
 * the directory of path (mkstemp), checks every write and fclose, then
 * rename()s it over path; on any failure it removes the temporary and path
 * stays as it was (or absent). The file gets the usual 0666 & ~umask mode.
 */
#ifndef QT_WRITE_H
#define QT_WRITE_H
#ifndef QUANT_RUNNER_H
#error "include runner.h before qt_write.h"
#endif
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#if defined(__GNUC__) || defined(__clang__)
#define QT_FN static __attribute__((unused))
#else
#define QT_FN static
#endif

#define QT_MAX_NAME 200                     /* the loader's longest tensor name */
#define QT_MAX_HEADER ((size_t)100 << 20)   /* the loader's largest header      */
#define QT_MAX_FILE ((size_t)1 << 30)       /* the loader's largest file        */
#define QT_MAX_DIM 1000000000000.0          /* the loader's largest dimension   */

typedef struct {
    const char *name;   /* 1 to 200 bytes, any but NUL                    */
    int dtype;          /* RN_DT_F32, RN_DT_I8, RN_DT_U8, RN_DT_I32, RN_DT_F16, RN_DT_U64   */
    int ndim;           /* 0 to 8                                         */
    size_t shape[8];
    const void *data;   /* bytes of raw little-endian data                */
    size_t bytes;       /* = product of shape x dtype size                */
} qt_tensor;

typedef struct {
    const char *graph;   /* required (the loader refuses a file without)  */
    const char *variant; /* optional: NULL writes none                    */
    const char *quant;   /* optional: NULL writes none                    */
} qt_meta;

/* ---- a growable byte buffer; oom sticks ---- */
typedef struct { char *p; size_t n, cap; int oom; } qt_buf;

QT_FN void qt_put(qt_buf *b, const void *s, size_t n) {
    if (b->oom || !n) return;
    if (n > b->cap - b->n) {
        size_t cap = b->cap ? b->cap : 256;
        char *p;
        while (cap - b->n < n) {
            if (cap > ((size_t)1 << 40)) { b->oom = 1; return; }
            cap *= 2;
        }
        p = (char *)realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p; b->cap = cap;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
QT_FN void qt_puts(qt_buf *b, const char *s) { qt_put(b, s, strlen(s)); }
QT_FN void qt_putz(qt_buf *b, size_t v) { char t[32]; snprintf(t, sizeof t, "%zu", v); qt_puts(b, t); }
QT_FN void qt_buf_free(qt_buf *b) { free(b->p); memset(b, 0, sizeof *b); }

/* s as a JSON string, quotes included: '"' and '\' escaped, control bytes as
 * \b \f \n \r \t or \u00XX, every other byte (UTF-8 or not) as it is. */
QT_FN void qt_json_str(qt_buf *b, const char *s) {
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *run = p;
    qt_put(b, "\"", 1);
    for (; *p; p++) {
        char e[7];
        size_t en = 2;
        if (*p >= 0x20 && *p != '"' && *p != '\\') continue;
        qt_put(b, run, (size_t)(p - run));
        run = p + 1;
        e[0] = '\\';
        switch (*p) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        default: e[1] = 'u'; e[2] = '0'; e[3] = '0'; e[4] = hex[*p >> 4]; e[5] = hex[*p & 15]; en = 6; break;
        }
        qt_put(b, e, en);
    }
    qt_put(b, run, (size_t)(p - run));
    qt_put(b, "\"", 1);
}

/* a name for a message: at most 40 bytes, anything unprintable as '?' */
QT_FN const char *qt_shown(const char *s, char *buf, size_t n) {
    size_t i;
    for (i = 0; s[i] && i + 1 < n && i < 40; i++) buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
    buf[i] = 0;
    return buf;
}

QT_FN int qt_cmp_name(const void *a, const void *b) { return strcmp(*(const char *const *)a, *(const char *const *)b); }

/* Checks everything and builds the header (padded to a multiple of 8, so the
 * data starts 8-aligned); *data_bytes is the size of the data that follows
 * it. Zero-byte tensors get the offsets [end, end]. */
QT_FN int qt_header(const qt_tensor *t, int nt, const qt_meta *meta, qt_buf *hdr, size_t *data_bytes, char *err, size_t errn) {
    size_t total = 0, off = 0;
    const char **names = NULL;
    char sh[48];
    int i, d;
    memset(hdr, 0, sizeof *hdr);
    if (nt < 0 || (nt > 0 && !t)) { snprintf(err, errn, "bad tensor list"); return -1; }
    if (!meta || !meta->graph) { snprintf(err, errn, "no graph: the loader refuses a file without one"); return -1; }
    for (i = 0; i < nt; i++) {
        size_t count = 1, len;
        if (!t[i].name || !(len = strlen(t[i].name))) { snprintf(err, errn, "tensor %d: empty name", i); return -1; }
        if (len > QT_MAX_NAME) { snprintf(err, errn, "tensor %d ('%s...'): name longer than %d bytes", i, qt_shown(t[i].name, sh, sizeof sh), QT_MAX_NAME); return -1; }
        if (!strcmp(t[i].name, "__metadata__")) { snprintf(err, errn, "tensor %d: the name __metadata__ is reserved", i); return -1; }
        if (t[i].dtype < RN_DT_F32 || t[i].dtype > RN_DT_U64) { snprintf(err, errn, "tensor '%s': unknown dtype %d", qt_shown(t[i].name, sh, sizeof sh), t[i].dtype); return -1; }
        if (t[i].ndim < 0 || t[i].ndim > 8) { snprintf(err, errn, "tensor '%s': %d dimensions (0 to 8)", qt_shown(t[i].name, sh, sizeof sh), t[i].ndim); return -1; }
        for (d = 0; d < t[i].ndim; d++) {
            if ((double)t[i].shape[d] > QT_MAX_DIM) { snprintf(err, errn, "tensor '%s': dimension %zu over 1e12", qt_shown(t[i].name, sh, sizeof sh), t[i].shape[d]); return -1; }
            if (t[i].shape[d] && count > RN_MAX_ELEMS / t[i].shape[d]) { snprintf(err, errn, "tensor '%s': more than %zu elements", qt_shown(t[i].name, sh, sizeof sh), (size_t)RN_MAX_ELEMS); return -1; }
            count *= t[i].shape[d];
        }
        if (count > SIZE_MAX / rn_dtype_size(t[i].dtype) || count * rn_dtype_size(t[i].dtype) != t[i].bytes) {
            snprintf(err, errn, "tensor '%s': %zu bytes for %zu elements of dtype %d", qt_shown(t[i].name, sh, sizeof sh), t[i].bytes, count, t[i].dtype);
            return -1;
        }
        if (t[i].bytes && !t[i].data) { snprintf(err, errn, "tensor '%s': no data", qt_shown(t[i].name, sh, sizeof sh)); return -1; }
        if (t[i].bytes > QT_MAX_FILE - total) { snprintf(err, errn, "the tensors hold more than 1 GiB"); return -1; }
        total += t[i].bytes;
    }
    if (nt > 1) { /* a name given twice */
        names = (const char **)malloc(sizeof *names * (size_t)nt);
        if (!names) { snprintf(err, errn, "out of memory"); return -1; }
        for (i = 0; i < nt; i++) names[i] = t[i].name;
        qsort(names, (size_t)nt, sizeof *names, qt_cmp_name);
        for (i = 1; i < nt; i++)
            if (!strcmp(names[i - 1], names[i])) { snprintf(err, errn, "tensor '%s' given twice", qt_shown(names[i], sh, sizeof sh)); free(names); return -1; }
        free(names);
    }
    qt_put(hdr, "{", 1);
    for (i = 0; i < nt; i++) {
        size_t b0 = t[i].bytes ? off : total; /* zero-byte tensors: at the end */
        qt_json_str(hdr, t[i].name);
        qt_puts(hdr, ":{\"dtype\":\"");
        qt_puts(hdr, t[i].dtype == RN_DT_F32 ? "F32" : t[i].dtype == RN_DT_I8 ? "I8" : t[i].dtype == RN_DT_U8 ? "U8" :
                     t[i].dtype == RN_DT_I32 ? "I32" : t[i].dtype == RN_DT_F16 ? "F16" : "U64");
        qt_puts(hdr, "\",\"shape\":[");
        for (d = 0; d < t[i].ndim; d++) { if (d) qt_put(hdr, ",", 1); qt_putz(hdr, t[i].shape[d]); }
        qt_puts(hdr, "],\"data_offsets\":[");
        qt_putz(hdr, b0); qt_put(hdr, ",", 1); qt_putz(hdr, b0 + t[i].bytes);
        qt_puts(hdr, "]},");
        off += t[i].bytes;
    }
    qt_puts(hdr, "\"__metadata__\":{\"format\":\"quant-model-1\",\"graph\":");
    qt_json_str(hdr, meta->graph);
    if (meta->variant) { qt_puts(hdr, ",\"variant\":"); qt_json_str(hdr, meta->variant); }
    if (meta->quant) { qt_puts(hdr, ",\"quant\":"); qt_json_str(hdr, meta->quant); }
    qt_puts(hdr, "}}");
    while (!hdr->oom && hdr->n % 8) qt_put(hdr, " ", 1);
    if (hdr->oom) { qt_buf_free(hdr); snprintf(err, errn, "out of memory"); return -1; }
    if (hdr->n > QT_MAX_HEADER) { snprintf(err, errn, "header of %zu bytes: over the loader's 100 MiB", hdr->n); qt_buf_free(hdr); return -1; }
    if (total > QT_MAX_FILE - 8 - hdr->n) { snprintf(err, errn, "the file would be over 1 GiB"); qt_buf_free(hdr); return -1; }
    *data_bytes = total;
    return 0;
}

QT_FN void qt_le64(unsigned char *le, size_t v) { int d; for (d = 0; d < 8; d++) le[d] = (unsigned char)((uint64_t)v >> (8 * d)); }

/* The file image in memory: *out (malloc'd, the caller frees) of *size bytes. */
QT_FN int qt_write_mem(const qt_tensor *t, int nt, const qt_meta *meta, unsigned char **out, size_t *size, char *err, size_t errn) {
    qt_buf hdr;
    size_t data, pos;
    unsigned char *img;
    int i;
    *out = NULL; *size = 0;
    if (qt_header(t, nt, meta, &hdr, &data, err, errn)) return -1;
    img = (unsigned char *)malloc(8 + hdr.n + data);
    if (!img) { qt_buf_free(&hdr); snprintf(err, errn, "out of memory"); return -1; }
    qt_le64(img, hdr.n);
    memcpy(img + 8, hdr.p, hdr.n);
    pos = 8 + hdr.n;
    for (i = 0; i < nt; i++) if (t[i].bytes) { memcpy(img + pos, t[i].data, t[i].bytes); pos += t[i].bytes; }
    *out = img; *size = pos;
    qt_buf_free(&hdr);
    return 0;
}

/* The file at path, through a temporary file in its directory and rename(). */
QT_FN int qt_write_file(const char *path, const qt_tensor *t, int nt, const qt_meta *meta, char *err, size_t errn) {
    static const char tmpname[] = ".quant-tool-XXXXXX";
    qt_buf hdr;
    size_t data, dirlen;
    const char *slash;
    char *tmp;
    unsigned char le[8];
    FILE *f;
    int fd, i, ok;
    mode_t um;
    if (!path || !*path) { snprintf(err, errn, "no output path"); return -1; }
    if (qt_header(t, nt, meta, &hdr, &data, err, errn)) return -1;
    slash = strrchr(path, '/');
    dirlen = slash ? (size_t)(slash - path) + 1 : 0;
    tmp = (char *)malloc(dirlen + sizeof tmpname);
    if (!tmp) { qt_buf_free(&hdr); snprintf(err, errn, "out of memory"); return -1; }
    memcpy(tmp, path, dirlen);
    memcpy(tmp + dirlen, tmpname, sizeof tmpname);
    fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errn, "cannot create a temporary file next to %s: %s", path, strerror(errno));
        free(tmp); qt_buf_free(&hdr); return -1;
    }
    um = umask(0); umask(um);
    f = fchmod(fd, 0666 & ~um) == 0 ? fdopen(fd, "wb") : NULL;
    if (!f) {
        snprintf(err, errn, "cannot write %s: %s", tmp, strerror(errno));
        close(fd); unlink(tmp); free(tmp); qt_buf_free(&hdr); return -1;
    }
    qt_le64(le, hdr.n);
    errno = 0;
    ok = fwrite(le, 1, 8, f) == 8 && fwrite(hdr.p, 1, hdr.n, f) == hdr.n;
    for (i = 0; ok && i < nt; i++) if (t[i].bytes) ok = fwrite(t[i].data, 1, t[i].bytes, f) == t[i].bytes;
    qt_buf_free(&hdr);
    if (!ok) {
        int e = errno;
        fclose(f);
        snprintf(err, errn, "cannot write %s: %s", path, e ? strerror(e) : "write error");
        unlink(tmp); free(tmp); return -1;
    }
    errno = 0;
    if (fclose(f) != 0) {
        snprintf(err, errn, "cannot write %s: %s", path, errno ? strerror(errno) : "write error");
        unlink(tmp); free(tmp); return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, errn, "cannot write %s: %s", path, strerror(errno));
        unlink(tmp); free(tmp); return -1;
    }
    free(tmp);
    return 0;
}

#endif /* QT_WRITE_H */
