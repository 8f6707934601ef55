/* fuzz/fuzz_util.h - reading typed values off a libFuzzer input. Past the
 * end every read gives zeros, so any input length is valid. */
#ifndef FUZZ_UTIL_H
#define FUZZ_UTIL_H
#include <stdint.h>
#include <string.h>
#include <stdlib.h>

typedef struct { const uint8_t *p; size_t n; } fz;

static __attribute__((unused)) uint32_t fz_u32(fz *f) {
    uint32_t v = 0;
    size_t k = f->n < 4 ? f->n : 4;
    memcpy(&v, f->p, k);
    f->p += k; f->n -= k;
    return v;
}
static __attribute__((unused)) uint8_t fz_u8(fz *f) { uint8_t v = 0; if (f->n) { v = *f->p++; f->n--; } return v; }
static __attribute__((unused)) int32_t fz_i32(fz *f) { return (int32_t)fz_u32(f); }
static __attribute__((unused)) float fz_f32(fz *f) { uint32_t u = fz_u32(f); float x; memcpy(&x, &u, 4); return x; }
/* a float that is often ordinary: half the time a small decimal, else any bits */
static __attribute__((unused)) float fz_float(fz *f) {
    uint8_t sel = fz_u8(f);
    if (sel < 128) return (float)(int8_t)fz_u8(f) / (float)(1 + (sel & 15));
    return fz_f32(f);
}
/* an int32 that is often near the edges of a range */
static __attribute__((unused)) int32_t fz_int(fz *f) {
    uint8_t sel = fz_u8(f);
    switch (sel & 7) {
    case 0: return (int32_t)(int8_t)fz_u8(f);
    case 1: return (int32_t)fz_u8(f);
    case 2: return INT32_MIN + (int32_t)fz_u8(f);
    case 3: return INT32_MAX - (int32_t)fz_u8(f);
    default: return fz_i32(f);
    }
}
#include <stdio.h>
#define FZ_CHECK(c) do { if (!(c)) { fprintf(stderr, "FZ_CHECK failed at %s:%d: %s\n", __FILE__, __LINE__, #c); __builtin_trap(); } } while (0)
#endif
