/* fuzz/fuzz_roundtrip.c - libFuzzer target: the model writer (tools/qt_write.h)
 * against the runner's loader. The input picks up to 12 tensors (names with
 * hostile bytes: '"', '\', control bytes, 0x7f, 0x80, 0xff, '/'; dtypes,
 * shapes, data) and the metadata strings. What the loader would refuse (an
 * empty, too long, reserved or repeated name, a bad dtype, more than 8
 * dimensions, a dimension over 1e12, an element count over RN_MAX_ELEMS, a
 * byte count that does not match, no data, a file over 1 GiB, no graph) must
 * be refused by the writer
 * with a message; everything else must load with rn_file_parse and give back
 * every tensor (same order, name, dtype, shape, bytes) and the metadata
 * strings unchanged. The file writer must give the same bytes as the memory
 * writer, fail cleanly on a missing folder, an empty path, a directory in
 * the way or a file size limit, and never leave a temporary file or touch the
 * old file on failure.
 *
 * Input: flags (bits 0-2: path kind % 6: none, a file, a missing folder, a
 * directory in the way, "", a file under a file size limit; bit 3: no graph,
 * bit 4: variant, bit 5: quant), tensor count, then the strings (a length byte and bytes; a
 * byte under 16 stands for a hostile byte), then per tensor: name selector,
 * name, dtype, ndim, per dimension a selector and value, tensor flags (bit 0:
 * one byte too many, bit 1: no data, bit 2: 1 GiB), data.
 * Past the end every read gives zeros. */
#define _POSIX_C_SOURCE 200809L
#ifndef QT_SEPARATE_IMPL /* the Makefile links one shared implementation object per build */
#define QUANT_IMPLEMENTATION
#endif
#include "quant_kernels.h"
#include "../examples/runner/runner.h"
#include "../tools/qt_write.h"
#include "fuzz_util.h"
#include <dirent.h>
#include <signal.h>
#include <sys/resource.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAXT 12
#define MAXDATA 4096
#define FSIZE 4600 /* path kind 5: a file past it fails in fwrite (past stdio's 4096-byte buffer) or in fclose */

static const unsigned char hostile[16] = { '"', '\\', '\n', '\t', '\r', '\b', '\f', 0x01, 0x1f, 0x7f, 0x80, 0xff, '/', 'u', '.', ' ' };

/* a string of len bytes, none of them NUL */
static char *fz_str(fz *f, size_t len) {
    char *s = (char *)malloc(len + 1);
    size_t k;
    FZ_CHECK(s);
    for (k = 0; k < len; k++) { uint8_t b = fz_u8(f); s[k] = (char)(b < 16 ? hostile[b] : b); }
    s[len] = 0;
    return s;
}

static unsigned char *read_all(const char *path, size_t *n) {
    FILE *fp = fopen(path, "rb");
    unsigned char *b = NULL;
    long L;
    if (!fp) return NULL;
    if (fseek(fp, 0, SEEK_END) == 0 && (L = ftell(fp)) >= 0 && fseek(fp, 0, SEEK_SET) == 0 && (b = (unsigned char *)malloc((size_t)L + 1)) != NULL) {
        *n = fread(b, 1, (size_t)L, fp);
        FZ_CHECK(*n == (size_t)L);
    }
    fclose(fp);
    return b;
}

/* the scratch folder: out.st (the file written), sub/ (a directory in the way) */
static char dir[64], out_path[96], sub_path[96];
static int entries(void) {
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    FZ_CHECK(d);
    while ((e = readdir(d)) != NULL) if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) n++;
    closedir(d);
    return n;
}

static void cleanup(void) { unlink(out_path); rmdir(sub_path); rmdir(dir); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    fz f;
    qt_tensor t[MAXT];
    char *names[MAXT], *graph = NULL, *variant = NULL, *quant = NULL, err[256];
    unsigned char *bufs[MAXT], *img = NULL;
    size_t imgn = 0;
    qt_meta meta;
    uint8_t flags;
    int nt, i, j, d, valid = 1, pathkind;
    if (!dir[0]) { /* once per process */
        char tmpl[] = "/tmp/fuzz_roundtrip_XXXXXX";
        FZ_CHECK(mkdtemp(tmpl));
        snprintf(dir, sizeof dir, "%s", tmpl);
        snprintf(out_path, sizeof out_path, "%s/out.st", dir);
        snprintf(sub_path, sizeof sub_path, "%s/sub", dir);
        FZ_CHECK(mkdir(sub_path, 0700) == 0);
        signal(SIGXFSZ, SIG_IGN); /* past the file size limit (path kind 5): a write error */
        atexit(cleanup);
    }
    f.p = data; f.n = size;
    flags = fz_u8(&f);
    pathkind = (flags & 7) % 6;
    nt = fz_u8(&f) % (MAXT + 1);
    if (!(flags & 8)) graph = fz_str(&f, fz_u8(&f));
    if (flags & 16) variant = fz_str(&f, fz_u8(&f));
    if (flags & 32) quant = fz_str(&f, fz_u8(&f));
    if (!graph) valid = 0;
    memset(t, 0, sizeof t); memset(names, 0, sizeof names); memset(bufs, 0, sizeof bufs);
    for (i = 0; i < nt; i++) {
        uint8_t sel = fz_u8(&f), tf;
        size_t count = 1, len, want;
        int overflow = 0;
        switch (sel % 16) {
        case 0: names[i] = i ? strdup(names[i - 1]) : fz_str(&f, 1); FZ_CHECK(names[i]); break; /* a name given twice */
        case 1: names[i] = strdup("__metadata__"); FZ_CHECK(names[i]); break;
        case 2: names[i] = fz_str(&f, 201 + fz_u8(&f) % 55); break;
        default: names[i] = fz_str(&f, fz_u8(&f) % 201); break;
        }
        len = strlen(names[i]); /* a hostile byte never maps to NUL, so len is as asked */
        t[i].name = names[i];
        t[i].dtype = fz_u8(&f) % 7;
        t[i].ndim = fz_u8(&f) % 10;
        for (d = 0; d < t[i].ndim && d < 8; d++) {
            static const size_t big[6] = { 1000000000000u, 1000000000001u, (size_t)1 << 40, ((size_t)1 << 40) + 1, 4294967295u, SIZE_MAX };
            uint8_t ds = fz_u8(&f);
            switch (ds % 8) {
            case 5: t[i].shape[d] = fz_u8(&f); break;
            case 6: t[i].shape[d] = fz_u32(&f); break;
            case 7: t[i].shape[d] = big[fz_u8(&f) % 6]; break;
            default: t[i].shape[d] = ds % 5; break;
            }
        }
        /* the loader's rules, written out again */
        if (!len || len > 200 || !strcmp(names[i], "__metadata__") || t[i].dtype > 5 || t[i].ndim > 8) valid = 0;
        for (j = 0; j < i; j++) if (!strcmp(names[j], names[i])) valid = 0;
        for (d = 0; d < t[i].ndim && d < 8; d++) {
            if ((double)t[i].shape[d] > 1e12) overflow = 1;
            else if (t[i].shape[d] && count > RN_MAX_ELEMS / t[i].shape[d]) overflow = 1;
            if (overflow) break;
            count *= t[i].shape[d];
        }
        if (overflow || t[i].dtype > 5) { valid = 0; count = 0; }
        want = count * rn_dtype_size(t[i].dtype);
        if (want > MAXDATA) { /* too big to fill: no elements, the same big dimensions */
            t[i].shape[(t[i].ndim > 8 ? 8 : t[i].ndim) - 1] = 0;
            want = 0;
        }
        tf = fz_u8(&f);
        t[i].bytes = want;
        if (tf & 1) { t[i].bytes++; valid = 0; } /* a byte count that does not match */
        bufs[i] = (unsigned char *)malloc(t[i].bytes + 1);
        FZ_CHECK(bufs[i]);
        for (j = 0; j < (int)t[i].bytes; j++) bufs[i][j] = fz_u8(&f);
        t[i].data = bufs[i];
        if ((tf & 2) && t[i].bytes) { t[i].data = NULL; valid = 0; }
        if (tf & 4) { /* 1 GiB of F32: the file would be over the loader's limit (the data is never read) */
            static const unsigned char dummy[1];
            t[i].dtype = RN_DT_F32; t[i].ndim = 1; t[i].shape[0] = (size_t)1 << 28; t[i].bytes = (size_t)1 << 30; t[i].data = dummy;
            valid = 0;
        }
    }
    meta.graph = graph; meta.variant = variant; meta.quant = quant;

    err[0] = 0;
    if (qt_write_mem(t, nt, &meta, &img, &imgn, err, sizeof err) != 0) {
        FZ_CHECK(!valid && err[0] && !img); /* refused: only what the loader refuses, with a message */
    } else {
        FZ_CHECK(valid && img);
    }

    if (pathkind) { /* the file writer: the same bytes, or a clean failure */
        const char *path = pathkind == 1 || pathkind == 5 ? out_path : pathkind == 2 ? "/nonexistent-fuzz-dir/out.st" : pathkind == 3 ? sub_path : "";
        size_t n0 = 0, n1 = 0;
        unsigned char *before = path == out_path ? read_all(out_path, &n0) : NULL, *after;
        struct rlimit rl, rl0;
        int r;
        if (pathkind == 5) { /* a file size limit of FSIZE bytes */
            FZ_CHECK(getrlimit(RLIMIT_FSIZE, &rl0) == 0);
            rl = rl0; rl.rlim_cur = FSIZE;
            FZ_CHECK(setrlimit(RLIMIT_FSIZE, &rl) == 0);
        }
        r = qt_write_file(path, t, nt, &meta, err, sizeof err);
        if (pathkind == 5) FZ_CHECK(setrlimit(RLIMIT_FSIZE, &rl0) == 0);
        if (path == out_path && valid && (pathkind == 1 || imgn <= FSIZE)) {
            FZ_CHECK(r == 0);
            after = read_all(out_path, &n1);
            FZ_CHECK(after && n1 == imgn && memcmp(after, img, imgn) == 0);
            free(after);
        } else {
            FZ_CHECK(r != 0 && err[0]);
            if (path == out_path) { /* the old file as it was (or still absent) */
                after = read_all(out_path, &n1);
                FZ_CHECK((before == NULL) == (after == NULL) && n0 == n1 && (!before || memcmp(before, after, n0) == 0));
                free(after);
            }
        }
        free(before);
        FZ_CHECK(entries() == 1 + (access(out_path, F_OK) == 0)); /* sub/ and maybe out.st: no temporary left */
    }

    if (img) { /* the loader gives back every tensor and string */
        rn_file rf;
        char lerr[512];
        if (rn_file_parse(&rf, img, imgn, lerr, sizeof lerr) != 0) { fprintf(stderr, "loader refused the writer's file: %s\n", lerr); __builtin_trap(); }
        FZ_CHECK(rf.nt == nt);
        for (i = 0; i < nt; i++) {
            FZ_CHECK(!strcmp(rf.t[i].name, t[i].name));
            FZ_CHECK(rf.t[i].dtype == t[i].dtype && rf.t[i].ndim == t[i].ndim && rf.t[i].bytes == t[i].bytes);
            for (d = 0; d < t[i].ndim; d++) FZ_CHECK(rf.t[i].shape[d] == t[i].shape[d]);
            FZ_CHECK(!t[i].bytes || memcmp(rf.t[i].data, t[i].data, t[i].bytes) == 0);
        }
        FZ_CHECK(rf.graph_json && !strcmp(rf.graph_json, graph));
        FZ_CHECK(variant ? rf.variant && !strcmp(rf.variant, variant) : !rf.variant);
        FZ_CHECK(quant ? rf.quant_json && !strcmp(rf.quant_json, quant) : !rf.quant_json);
        rn_file_free(&rf); /* frees img */
    }
    for (i = 0; i < nt; i++) { free(names[i]); free(bufs[i]); }
    free(graph); free(variant); free(quant);
    return 0;
}
