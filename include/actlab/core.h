/* core.h — allocation hook, explicit seeded RNG, thread control, timing.
 *
 * No global RNG: every random draw takes an al_rng the caller owns, so the
 * same seed gives the same run whatever the thread count.
 */
#ifndef ACTLAB_CORE_H
#define ACTLAB_CORE_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_VERSION "0.1.0"

/* ---- allocation ------------------------------------------------------ */
/* All library allocations go through these. Memory is 64-byte aligned.
 * al_set_alloc_fail_after(n): the n-th next allocation fails (tests of
 * allocation-failure paths); -1 disables. */
void *al_malloc(size_t bytes);
void *al_calloc(size_t count, size_t size);
void al_free(void *p);
void al_set_alloc_fail_after(long n);
/* Bytes currently allocated through al_malloc and the peak since start. */
size_t al_alloc_current(void);
size_t al_alloc_peak(void);

/* ---- RNG: xoshiro256** seeded by splitmix64 -------------------------- */
typedef struct {
	uint64_t s[4];
} al_rng;

void al_rng_seed(al_rng *r, uint64_t seed);
/* Independent stream derived from r's seed material and a key (e.g. sample
 * index); r is not advanced. */
al_rng al_rng_derive(const al_rng *r, uint64_t key);
uint64_t al_rng_u64(al_rng *r);
/* Uniform in [0, n). */
uint32_t al_rng_below(al_rng *r, uint32_t n);
/* Uniform float in [0, 1). */
float al_rng_uniform(al_rng *r);
/* Standard normal (double, Box-Muller without caching). */
double al_rng_normal(al_rng *r);
/* Fisher-Yates shuffle of idx[0..n). */
void al_rng_shuffle(al_rng *r, int32_t *idx, size_t n);

/* ---- threads --------------------------------------------------------- */
/* Number of OpenMP threads used by kernels (1 when built with OMP=0).
 * Also pins OpenBLAS to one thread: actlab parallelises around BLAS calls,
 * never inside them (no nested oversubscription). */
void al_set_threads(int n);
int al_get_threads(void);

/* ---- timing and memory ----------------------------------------------- */
double al_now(void);          /* monotonic seconds */
double al_peak_rss_mb(void);  /* peak resident set size of the process */

/* ---- small helpers ---------------------------------------------------- */
/* CRC-32 (zlib's polynomial), chainable: start with crc = 0. */
uint32_t al_crc32(uint32_t crc, const void *buf, size_t len);

#ifdef __cplusplus
}
#endif
#endif
