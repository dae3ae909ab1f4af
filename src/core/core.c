/* core.c — allocation hook, RNG, threads, timing. Not for tensor logic. */
#define _GNU_SOURCE
#include "actlab/core.h"

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* ---- allocation ------------------------------------------------------ */
/* A 64-byte header before each block records its size for accounting. */
#define AL_HDR 64
#define AL_HUGE ((size_t)2 << 20)
#define AL_HUGE_MIN ((size_t)8 << 20)
static atomic_long fail_after = -1;
static atomic_size_t cur_bytes, peak_bytes;

void al_set_alloc_fail_after(long n) { atomic_store(&fail_after, n); }
size_t al_alloc_current(void) { return atomic_load(&cur_bytes); }
size_t al_alloc_peak(void) { return atomic_load(&peak_bytes); }

void *al_malloc(size_t bytes)
{
	long f = atomic_load(&fail_after);
	if (f >= 0) {
		if (f == 0)
			return NULL;
		atomic_fetch_sub(&fail_after, 1);
	}
	if (bytes > SIZE_MAX - 2 * AL_HDR)
		return NULL;
	size_t total = (bytes + AL_HDR + 63) & ~(size_t)63;
	unsigned char *p = aligned_alloc(64, total);
	if (!p)
		return NULL;
	*(size_t *)p = bytes;
	if (total >= AL_HUGE_MIN) {
		/* Large blocks (a VGG-11's 530 MB of parameters, activation arenas)
		 * ask for transparent huge pages: one fault per 2 MB instead of per
		 * 4 KB; first-touching 1 GB took ~10 s of page faults on a loaded VM.
		 * Advice only: ignored where THP is off. */
		uintptr_t a = ((uintptr_t)p + AL_HUGE - 1) & ~(uintptr_t)(AL_HUGE - 1);
		uintptr_t e = ((uintptr_t)p + total) & ~(uintptr_t)(AL_HUGE - 1);
		if (e > a)
			madvise((void *)a, e - a, MADV_HUGEPAGE);
	}
	size_t now = atomic_fetch_add(&cur_bytes, bytes) + bytes;
	size_t pk = atomic_load(&peak_bytes);
	while (now > pk && !atomic_compare_exchange_weak(&peak_bytes, &pk, now))
		;
	return p + AL_HDR;
}

void *al_calloc(size_t count, size_t size)
{
	if (size && count > SIZE_MAX / size)
		return NULL;
	void *p = al_malloc(count * size);
	if (p)
		memset(p, 0, count * size);
	return p;
}

void al_free(void *p)
{
	if (!p)
		return;
	unsigned char *b = (unsigned char *)p - AL_HDR;
	atomic_fetch_sub(&cur_bytes, *(size_t *)b);
	free(b);
}

/* ---- RNG ------------------------------------------------------------- */
static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void al_rng_seed(al_rng *r, uint64_t seed)
{
	uint64_t x = seed;
	for (int i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

al_rng al_rng_derive(const al_rng *r, uint64_t key)
{
	al_rng o;
	uint64_t x = r->s[0] ^ (r->s[1] << 1) ^ (r->s[2] * 3) ^ r->s[3];
	x ^= key * 0xd1b54a32d192ed03ull;
	for (int i = 0; i < 4; i++)
		o.s[i] = splitmix64(&x);
	return o;
}

static inline uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

uint64_t al_rng_u64(al_rng *r)
{
	uint64_t *s = r->s;
	uint64_t res = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return res;
}

uint32_t al_rng_below(al_rng *r, uint32_t n)
{
	/* Lemire's multiply-shift with rejection: unbiased. */
	uint64_t m = (uint64_t)(uint32_t)(al_rng_u64(r) >> 32) * n;
	uint32_t lo = (uint32_t)m;
	if (lo < n) {
		uint32_t t = (uint32_t)(-n) % n;
		while (lo < t) {
			m = (uint64_t)(uint32_t)(al_rng_u64(r) >> 32) * n;
			lo = (uint32_t)m;
		}
	}
	return (uint32_t)(m >> 32);
}

float al_rng_uniform(al_rng *r) { return (float)(al_rng_u64(r) >> 40) * (1.0f / 16777216.0f); }

double al_rng_normal(al_rng *r)
{
	double u1 = ((double)(al_rng_u64(r) >> 11) + 1.0) * (1.0 / 9007199254740993.0);
	double u2 = (double)(al_rng_u64(r) >> 11) * (1.0 / 9007199254740992.0);
	return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}

void al_rng_shuffle(al_rng *r, int32_t *idx, size_t n)
{
	for (size_t i = n; i > 1; i--) {
		size_t j = al_rng_below(r, (uint32_t)i);
		int32_t t = idx[i - 1];
		idx[i - 1] = idx[j];
		idx[j] = t;
	}
}

/* ---- threads --------------------------------------------------------- */
extern void openblas_set_num_threads(int);
static int nthreads = 1;

void al_set_threads(int n)
{
	if (n < 1)
		n = 1;
#ifdef _OPENMP
	omp_set_num_threads(n);
	nthreads = n;
#else
	nthreads = 1;
#endif
	openblas_set_num_threads(1);
}

int al_get_threads(void) { return nthreads; }

/* ---- timing ---------------------------------------------------------- */
double al_now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

double al_peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

uint32_t al_crc32(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	while (len > 0) {
		uInt chunk = len > (1u << 30) ? (1u << 30) : (uInt)len;
		crc = (uint32_t)crc32(crc, p, chunk);
		p += chunk;
		len -= chunk;
	}
	return crc;
}
