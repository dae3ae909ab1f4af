/* test_core.c — tests of src/core: the seeded RNG (determinism, derived
 * streams, unbiased bounded draws, normal moments, shuffles), .npy reading
 * and writing (round trips in every dtype, a header NumPy itself wrote, every
 * defect the reader reports, atomic writes), allocation-failure injection,
 * CRC-32 and the thread-local error messages.
 * Not for: tensor kernels or data loaders (test_data.c, test_layers.c).
 * Files are written under test_tmpdir(); nothing here needs Python.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actlab/core.h"
#include "actlab/status.h"
#include "actlab/tensor.h"
#include "test.h"

/* ---- helpers ----------------------------------------------------------- */
/* test_tmpdir()/core_<name>; rotating static buffers. */
static const char *cpath(const char *name)
{
	static char buf[8][512];
	static int slot;
	char *p = buf[slot++ % 8];
	snprintf(p, 512, "%s/core_%s", test_tmpdir(), name);
	return p;
}

static int write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = len == 0 || fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

/* Reads a whole file into a malloc'd buffer; returns its length or -1. */
static long read_file(const char *path, unsigned char **out)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return -1;
	unsigned char *b = malloc(1 << 20);
	long n = b ? (long)fread(b, 1, 1 << 20, f) : -1;
	fclose(f);
	*out = b;
	return n;
}

static int file_exists(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0;
}

/* Writes an .npy file by hand: v1.0 preamble, the given dict text padded
 * with spaces and a newline to a multiple of 64 bytes, then len data bytes. */
static int write_npy_raw(const char *path, const char *dict, const void *data, size_t len)
{
	size_t dl = strlen(dict);
	size_t total = 10 + dl + 1;
	size_t pad = (64 - total % 64) % 64;
	size_t hl = dl + pad + 1;
	unsigned char *b = malloc(10 + hl + len);
	if (!b)
		return -1;
	memcpy(b, "\x93NUMPY\x01\x00", 8);
	b[8] = (unsigned char)(hl & 0xff);
	b[9] = (unsigned char)(hl >> 8);
	memcpy(b + 10, dict, dl);
	memset(b + 10 + dl, ' ', pad);
	b[10 + dl + pad] = '\n';
	if (len)
		memcpy(b + 10 + hl, data, len);
	int r = write_file(path, b, 10 + hl + len);
	free(b);
	return r;
}

static int host_is_little_endian(void)
{
	uint16_t x = 1;
	unsigned char c;
	memcpy(&c, &x, 1);
	return c == 1;
}

/* ---- RNG ----------------------------------------------------------------- */
/* Reference splitmix64 and xoshiro256** (Vigna's published code), the
 * generator core.h documents. */
static uint64_t ref_splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint64_t ref_rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

static uint64_t ref_xoshiro(uint64_t s[4])
{
	uint64_t res = ref_rotl(s[1] * 5, 7) * 9, t = s[1] << 17;
	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = ref_rotl(s[3], 45);
	return res;
}

TEST(core_rng_known_answer)
{
	/* splitmix64 from 0: first output is 0xe220a8397b1dcdaf (Vigna's
	 * reference), so al_rng_seed(0) must start its state with it. */
	al_rng r;
	al_rng_seed(&r, 0);
	CHECK(r.s[0] == 0xe220a8397b1dcdafull, "seed 0: s[0] = %016llx",
	      (unsigned long long)r.s[0]);
	uint64_t x = 12345, s[4];
	for (int i = 0; i < 4; i++)
		s[i] = ref_splitmix64(&x);
	al_rng_seed(&r, 12345);
	int bad = 0;
	for (int i = 0; i < 1000; i++)
		bad += al_rng_u64(&r) != ref_xoshiro(s);
	CHECK(bad == 0, "%d of 1000 outputs differ from reference xoshiro256**", bad);
}

TEST(core_rng_same_seed_same_stream)
{
	al_rng a, b;
	al_rng_seed(&a, 42);
	al_rng_seed(&b, 42);
	int diff = 0;
	for (int i = 0; i < 10000; i++)
		diff += al_rng_u64(&a) != al_rng_u64(&b);
	CHECK(diff == 0, "%d draws differ for the same seed", diff);
	/* every draw kind stays in lockstep */
	for (int i = 0; i < 100; i++) {
		CHECK(al_rng_below(&a, 17) == al_rng_below(&b, 17), "below differs at %d", i);
		CHECK(al_rng_uniform(&a) == al_rng_uniform(&b), "uniform differs at %d", i);
		CHECK(al_rng_normal(&a) == al_rng_normal(&b), "normal differs at %d", i);
	}
}

TEST(core_rng_different_seeds_differ)
{
	uint64_t seeds[] = {0, 1, 2, 3, 0xffffffffffffffffull, 1ull << 32};
	int ns = (int)(sizeof seeds / sizeof *seeds);
	uint64_t first[6][64];
	for (int k = 0; k < ns; k++) {
		al_rng r;
		al_rng_seed(&r, seeds[k]);
		for (int i = 0; i < 64; i++)
			first[k][i] = al_rng_u64(&r);
	}
	for (int a = 0; a < ns; a++)
		for (int b = a + 1; b < ns; b++) {
			int same = 0;
			for (int i = 0; i < 64; i++)
				same += first[a][i] == first[b][i];
			CHECK(same == 0, "seeds %llu and %llu share %d of 64 draws",
			      (unsigned long long)seeds[a], (unsigned long long)seeds[b], same);
		}
}

TEST(core_rng_derive_independent_of_call_order)
{
	al_rng r;
	al_rng_seed(&r, 7);
	al_rng before = r;
	/* order 1: key 5 then key 9 */
	al_rng a5 = al_rng_derive(&r, 5), a9 = al_rng_derive(&r, 9);
	/* interleave draws from the parent: derive must not advance it, and the
	 * derived stream depends only on (parent state, key) */
	CHECK(memcmp(&r, &before, sizeof r) == 0, "al_rng_derive advanced the parent");
	/* order 2: key 9 then key 5, from an identical parent */
	al_rng r2;
	al_rng_seed(&r2, 7);
	al_rng b9 = al_rng_derive(&r2, 9), b5 = al_rng_derive(&r2, 5);
	int d5 = 0, d9 = 0, same59 = 0;
	for (int i = 0; i < 1000; i++) {
		uint64_t x5 = al_rng_u64(&a5), y5 = al_rng_u64(&b5);
		uint64_t x9 = al_rng_u64(&a9), y9 = al_rng_u64(&b9);
		d5 += x5 != y5;
		d9 += x9 != y9;
		same59 += x5 == x9;
	}
	CHECK(d5 == 0 && d9 == 0, "derived streams depend on call order (%d, %d diffs)", d5, d9);
	CHECK(same59 == 0, "keys 5 and 9 give overlapping streams (%d equal draws)", same59);

	/* the parent's own stream is unaffected by deriving */
	al_rng p1, p2;
	al_rng_seed(&p1, 99);
	al_rng_seed(&p2, 99);
	for (int i = 0; i < 50; i++)
		(void)al_rng_derive(&p1, (uint64_t)i);
	int dp = 0;
	for (int i = 0; i < 100; i++)
		dp += al_rng_u64(&p1) != al_rng_u64(&p2);
	CHECK(dp == 0, "deriving changed the parent stream (%d diffs)", dp);

	/* many consecutive keys: all first draws distinct, none equal to the
	 * parent's first draw, and bits balanced (no correlation by key) */
	al_rng q;
	al_rng_seed(&q, 3);
	enum { K = 4096 };
	static uint64_t firsts[K];
	long ones = 0;
	for (int k = 0; k < K; k++) {
		al_rng d = al_rng_derive(&q, (uint64_t)k);
		firsts[k] = al_rng_u64(&d);
		ones += __builtin_popcountll(firsts[k]);
	}
	int dup = 0;
	for (int i = 0; i < K; i++)
		for (int j = i + 1; j < K; j++)
			dup += firsts[i] == firsts[j];
	CHECK(dup == 0, "%d duplicate first draws among %d derived streams", dup, K);
	al_rng q2 = q;
	uint64_t parent_first = al_rng_u64(&q2);
	int eqp = 0;
	for (int k = 0; k < K; k++)
		eqp += firsts[k] == parent_first;
	CHECK(eqp == 0, "a derived stream equals the parent stream");
	/* 262144 bits: mean 131072, sd 256; allow 6 sd */
	CHECK(labs(ones - (long)K * 32) < 6 * 256, "bit balance of derived streams: %ld ones of %ld",
	      ones, (long)K * 64);
}

TEST(core_rng_below_unbiased_chi_square)
{
	al_rng r;
	al_rng_seed(&r, 2024);
	enum { N = 200000 };
	long cnt[10] = {0};
	for (int i = 0; i < N; i++) {
		uint32_t v = al_rng_below(&r, 10);
		REQUIRE(v < 10, "al_rng_below(10) returned %u", v);
		cnt[v]++;
	}
	double chi = 0, e = N / 10.0;
	for (int k = 0; k < 10; k++)
		chi += (cnt[k] - e) * (cnt[k] - e) / e;
	/* 9 degrees of freedom: P(chi2 > 27.88) = 0.001 */
	CHECK(chi < 27.88, "chi-square over 10 buckets = %.2f (bound 27.88)", chi);

	/* A range near 2^32 exposes modulo bias: with n = 3*2^30, a biased
	 * (u32 % n) would put half of all draws in the first third. */
	uint32_t n = 3u << 30;
	long third[3] = {0};
	for (int i = 0; i < 60000; i++) {
		uint32_t v = al_rng_below(&r, n);
		REQUIRE(v < n, "al_rng_below(%u) returned %u", n, v);
		third[v / (1u << 30)]++;
	}
	double chi3 = 0, e3 = 20000;
	for (int k = 0; k < 3; k++)
		chi3 += (third[k] - e3) * (third[k] - e3) / e3;
	/* 2 dof: P(chi2 > 13.82) = 0.001 */
	CHECK(chi3 < 13.82, "chi-square for n=3*2^30 in thirds = %.2f (counts %ld %ld %ld)", chi3,
	      third[0], third[1], third[2]);

	/* edge ranges */
	for (int i = 0; i < 1000; i++) {
		CHECK(al_rng_below(&r, 1) == 0, "below(1) != 0");
		CHECK(al_rng_below(&r, 0xffffffffu) < 0xffffffffu, "below(UINT32_MAX) out of range");
		CHECK(al_rng_below(&r, 2) < 2, "below(2) out of range");
	}
}

TEST(core_rng_uniform_range_and_mean)
{
	al_rng r;
	al_rng_seed(&r, 5);
	enum { N = 200000 };
	double s = 0;
	int out = 0;
	for (int i = 0; i < N; i++) {
		float u = al_rng_uniform(&r);
		out += !(u >= 0.0f && u < 1.0f);
		s += (double)u;
	}
	CHECK(out == 0, "%d uniforms outside [0, 1)", out);
	/* sd of the mean = sqrt(1/12/N) = 6.5e-4 */
	CHECK_NEAR(s / N, 0.5, 5 * 6.5e-4);
}

TEST(core_rng_normal_moments)
{
	al_rng r;
	al_rng_seed(&r, 11);
	enum { N = 200000 };
	double s = 0, s2 = 0, s4 = 0;
	long within1 = 0, bad = 0;
	for (int i = 0; i < N; i++) {
		double x = al_rng_normal(&r);
		if (!isfinite(x)) {
			bad++;
			continue;
		}
		s += x;
		s2 += x * x;
		s4 += x * x * x * x;
		within1 += fabs(x) < 1;
	}
	CHECK(bad == 0, "%ld non-finite normals", bad);
	double mean = s / N, var = s2 / N - mean * mean;
	/* 5 standard errors: mean 1/sqrt(N) = 2.2e-3, var sqrt(2/N) = 3.2e-3 */
	CHECK_NEAR(mean, 0.0, 5 * 2.24e-3);
	CHECK_NEAR(var, 1.0, 5 * 3.17e-3);
	/* fourth moment 3 (sd sqrt(96/N) = 0.022) */
	CHECK_NEAR(s4 / N, 3.0, 5 * 0.022);
	/* P(|x| < 1) = 0.682689, sd sqrt(p(1-p)/N) = 1.04e-3 */
	CHECK_NEAR((double)within1 / N, 0.682689, 5 * 1.04e-3);
}

TEST(core_rng_shuffle_is_permutation)
{
	al_rng r;
	al_rng_seed(&r, 8);
	enum { N = 1000 };
	int32_t idx[N];
	for (int i = 0; i < N; i++)
		idx[i] = i;
	al_rng_shuffle(&r, idx, N);
	int seen[N] = {0}, fixed = 0, bad = 0;
	for (int i = 0; i < N; i++) {
		if (idx[i] < 0 || idx[i] >= N || seen[idx[i]]++)
			bad++;
		fixed += idx[i] == i;
	}
	CHECK(bad == 0, "shuffle is not a permutation (%d bad entries)", bad);
	/* expected number of fixed points is 1 */
	CHECK(fixed < 10, "%d fixed points: the shuffle barely moved anything", fixed);
	/* n = 0 and 1 are no-ops */
	int32_t one = 77;
	al_rng_shuffle(&r, &one, 1);
	CHECK(one == 77, "shuffle of one element changed it");
	al_rng_shuffle(&r, NULL, 0);

	/* all 6 orders of 3 elements equally likely (an off-by-one in
	 * Fisher-Yates makes some impossible or twice as likely) */
	long cnt[6] = {0};
	enum { T = 60000 };
	for (int t = 0; t < T; t++) {
		int32_t v[3] = {0, 1, 2};
		al_rng_shuffle(&r, v, 3);
		int code = v[0] * 2 + (v[1] > v[2]); /* 0..5, unique per permutation */
		cnt[code]++;
	}
	double chi = 0, e = T / 6.0;
	for (int k = 0; k < 6; k++)
		chi += (cnt[k] - e) * (cnt[k] - e) / e;
	/* 5 dof: P(chi2 > 20.52) = 0.001 */
	CHECK(chi < 20.52, "permutations of 3 not uniform: chi-square %.2f (%ld %ld %ld %ld %ld %ld)",
	      chi, cnt[0], cnt[1], cnt[2], cnt[3], cnt[4], cnt[5]);
}

/* ---- .npy: round trips --------------------------------------------------- */
static const struct {
	al_npy_dtype dt;
	size_t es;
	const char *name;
} npy_dts[] = {
	{AL_NPY_F32, 4, "f32"}, {AL_NPY_F64, 8, "f64"}, {AL_NPY_I64, 8, "i64"},
	{AL_NPY_I32, 4, "i32"}, {AL_NPY_U8, 1, "u8"},
};

TEST(core_npy_roundtrip_all_dtypes_and_ranks)
{
	static const struct {
		int nd;
		int64_t shape[4];
	} shapes[] = {
		{1, {7}},    {2, {3, 5}},    {3, {2, 3, 4}},    {4, {2, 1, 3, 5}}, /* 1-4 dims */
		{1, {0}},    {2, {4, 0}},    {3, {2, 0, 3}},    {4, {1, 2, 3, 0}}, /* a 0-length dim */
	};
	for (size_t d = 0; d < sizeof npy_dts / sizeof *npy_dts; d++) {
		for (size_t s = 0; s < sizeof shapes / sizeof *shapes; s++) {
			int nd = shapes[s].nd;
			const int64_t *shape = shapes[s].shape;
			size_t n = 1;
			for (int i = 0; i < nd; i++)
				n *= (size_t)shape[i];
			size_t bytes = n * npy_dts[d].es;
			unsigned char *src = malloc(bytes + 1);
			REQUIRE(src, "malloc");
			for (size_t i = 0; i < bytes; i++)
				src[i] = (unsigned char)(i * 131 + 7 + d * 17);
			char name[64];
			snprintf(name, sizeof name, "rt_%s_%zu.npy", npy_dts[d].name, s);
			const char *path = cpath(name);
			al_status st = al_npy_write(path, npy_dts[d].dt, nd, shape, src);
			CHECK(st == AL_OK, "write %s: %s", name, al_errmsg());
			al_npy a;
			st = al_npy_read(path, &a);
			CHECK(st == AL_OK, "read %s: %s", name, al_errmsg());
			if (st == AL_OK) {
				CHECK(a.dtype == npy_dts[d].dt, "%s: dtype %d", name, (int)a.dtype);
				CHECK(a.ndim == nd, "%s: ndim %d, expected %d", name, a.ndim, nd);
				for (int i = 0; i < nd && i < a.ndim; i++)
					CHECK(a.shape[i] == shape[i], "%s: shape[%d] = %lld, expected %lld",
					      name, i, (long long)a.shape[i], (long long)shape[i]);
				CHECK(bytes == 0 || memcmp(a.data, src, bytes) == 0, "%s: data differs",
				      name);
				al_npy_free(&a);
				CHECK(a.data == NULL, "al_npy_free did not clear data");
			}
			/* the header is padded to a multiple of 64 and ends with '\n';
			 * the file is exactly header + data */
			unsigned char *fb;
			long fl = read_file(path, &fb);
			if (fl >= 10) {
				long hl = fb[8] | fb[9] << 8;
				CHECK((10 + hl) % 64 == 0, "%s: header end %ld not 64-aligned", name,
				      10 + hl);
				CHECK(fb[10 + hl - 1] == '\n', "%s: header does not end with newline", name);
				CHECK(fl == 10 + hl + (long)bytes, "%s: file %ld bytes, expected %ld", name,
				      fl, 10 + hl + (long)bytes);
			} else {
				CHECK(0, "%s: file too short (%ld)", name, fl);
			}
			free(fb);
			free(src);
		}
	}
}

TEST(core_npy_tensor_f32_roundtrip)
{
	int64_t shape[3] = {2, 3, 4};
	al_tensor t;
	REQUIRE_OK(al_tensor_alloc(&t, 3, shape));
	CHECK(al_tensor_numel(&t) == 24, "numel %zu", al_tensor_numel(&t));
	for (int i = 0; i < 24; i++)
		CHECK(t.data[i] == 0.0f, "al_tensor_alloc did not zero element %d", i);
	for (int i = 0; i < 24; i++)
		t.data[i] = (float)i * 0.37f - 3.0f;
	const char *path = cpath("tensor.npy");
	REQUIRE_OK(al_npy_write_f32(path, &t));
	al_tensor u;
	REQUIRE_OK(al_npy_read_f32(path, &u));
	CHECK(u.ndim == 3 && u.shape[0] == 2 && u.shape[1] == 3 && u.shape[2] == 4, "shape");
	CHECK(memcmp(u.data, t.data, 24 * sizeof(float)) == 0, "data differs");
	CHECK(u.owned, "read tensor not owned");
	al_tensor_free(&u);
	al_tensor_free(&t);
	CHECK(t.data == NULL && t.ndim == 0, "al_tensor_free did not reset the struct");
	al_tensor_free(NULL);

	/* bad shapes */
	int64_t z[2] = {3, 0}, neg[1] = {-2};
	CHECK(al_tensor_alloc(&t, 2, z) == AL_EINVAL, "zero dim accepted");
	CHECK(al_tensor_alloc(&t, 1, neg) == AL_EINVAL, "negative dim accepted");
	CHECK(al_tensor_alloc(&t, 0, shape) == AL_EINVAL, "0 dims accepted");
	CHECK(al_tensor_alloc(&t, 5, shape) == AL_EINVAL, "5 dims accepted");
	CHECK(t.data == NULL, "failed alloc left data");
}

/* The exact bytes numpy 1.24 writes for np.save(f, np.array(..., float32))
 * of shape (2, 3): a 10-byte v1.0 preamble (header length 118 = 0x76), the
 * dict literal, spaces to byte 127 and a newline. */
static const char numpy_f32_2x3_header[] =
	"\x93NUMPY\x01\x00\x76\x00"
	"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
	"                                                          \n";

TEST(core_npy_reads_numpy_written_header)
{
	REQUIRE(host_is_little_endian(), "test assumes a little-endian host");
	REQUIRE(sizeof numpy_f32_2x3_header - 1 == 128, "test setup: header is %zu bytes",
		sizeof numpy_f32_2x3_header - 1);
	const float vals[6] = {0.0f, 1.5f, -2.0f, 3.25f, 1e-3f, -7.0f};
	unsigned char file[128 + 24];
	memcpy(file, numpy_f32_2x3_header, 128);
	memcpy(file + 128, vals, 24);
	const char *path = cpath("numpy_2x3.npy");
	REQUIRE(write_file(path, file, sizeof file) == 0, "cannot write %s", path);

	al_npy a;
	REQUIRE_OK(al_npy_read(path, &a));
	CHECK(a.dtype == AL_NPY_F32, "dtype %d", (int)a.dtype);
	CHECK(a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 3, "shape %d-D (%lld, %lld)", a.ndim,
	      (long long)a.shape[0], (long long)a.shape[1]);
	CHECK(memcmp(a.data, vals, 24) == 0, "data differs");
	al_npy_free(&a);

	al_tensor t;
	REQUIRE_OK(al_npy_read_f32(path, &t));
	CHECK(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 3, "tensor shape");
	for (int i = 0; i < 6; i++)
		CHECK(t.data[i] == vals[i], "element %d = %g, expected %g", i, (double)t.data[i],
		      (double)vals[i]);
	al_tensor_free(&t);

	/* and al_npy_write produces the very same bytes numpy does */
	const char *mine = cpath("mine_2x3.npy");
	int64_t shape[2] = {2, 3};
	REQUIRE_OK(al_npy_write(mine, AL_NPY_F32, 2, shape, vals));
	unsigned char *fb;
	long fl = read_file(mine, &fb);
	CHECK(fl == (long)sizeof file, "al_npy_write wrote %ld bytes, numpy %zu", fl, sizeof file);
	CHECK(fl == (long)sizeof file && memcmp(fb, file, sizeof file) == 0,
	      "al_npy_write bytes differ from numpy's: header '%.*s'", fl > 10 ? (int)(fl - 10) : 0,
	      fl > 10 ? (const char *)fb + 10 : "");
	free(fb);

	/* numpy's 1-D uint8 header: "(5,)" and '|u1' */
	const char *u8 = cpath("mine_u8.npy");
	const uint8_t bytes[5] = {0, 1, 127, 128, 255};
	int64_t five = 5;
	REQUIRE_OK(al_npy_write(u8, AL_NPY_U8, 1, &five, bytes));
	fl = read_file(u8, &fb);
	const char *want = "{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }";
	CHECK(fl > 10 && memcmp(fb + 10, want, strlen(want)) == 0, "u8 header '%.60s'",
	      fl > 10 ? (const char *)fb + 10 : "");
	free(fb);
}

TEST(core_npy_reads_v2_header_and_other_key_order)
{
	REQUIRE(host_is_little_endian(), "test assumes a little-endian host");
	/* format 2.0: 4-byte header length */
	const char *dict = "{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }";
	size_t dl = strlen(dict), total = 12 + dl + 1, pad = (64 - total % 64) % 64;
	uint32_t hl = (uint32_t)(dl + pad + 1);
	unsigned char buf[256];
	memcpy(buf, "\x93NUMPY\x02\x00", 8);
	buf[8] = (unsigned char)hl;
	buf[9] = (unsigned char)(hl >> 8);
	buf[10] = buf[11] = 0;
	memcpy(buf + 12, dict, dl);
	memset(buf + 12 + dl, ' ', pad);
	buf[12 + dl + pad] = '\n';
	const double v[3] = {1.25, -2.5, 1e10};
	memcpy(buf + 12 + hl, v, sizeof v);
	const char *path = cpath("v2.npy");
	REQUIRE(write_file(path, buf, 12 + hl + sizeof v) == 0, "write");
	al_npy a;
	REQUIRE_OK(al_npy_read(path, &a));
	CHECK(a.dtype == AL_NPY_F64 && a.ndim == 1 && a.shape[0] == 3, "v2: dtype/shape");
	CHECK(memcmp(a.data, v, sizeof v) == 0, "v2: data");
	al_npy_free(&a);

	/* a dict literal with keys in another order and no trailing comma */
	const int32_t iv[4] = {1, -2, 3, 2147483647};
	path = cpath("order.npy");
	REQUIRE(write_npy_raw(path, "{'shape': (2, 2), 'fortran_order': False, 'descr': '<i4'}", iv,
			      sizeof iv) == 0,
		"write");
	REQUIRE_OK(al_npy_read(path, &a));
	CHECK(a.dtype == AL_NPY_I32 && a.ndim == 2 && a.shape[0] == 2 && a.shape[1] == 2,
	      "key order: dtype/shape");
	CHECK(memcmp(a.data, iv, sizeof iv) == 0, "key order: data");
	al_npy_free(&a);
}

/* ---- .npy: errors -------------------------------------------------------- */
/* Reads path expecting status want; the message must name the file and
 * contain each of the (NULL-terminated) fragments. */
static void expect_read_error(const char *path, al_status want, const char *what, ...)
{
	al_npy a;
	memset(&a, 0x5a, sizeof a);
	al_err_clear();
	al_status st = al_npy_read(path, &a);
	CHECK(st == want, "%s: status %d (%s), expected %d; message: %s", what, (int)st,
	      al_status_str(st), (int)want, al_errmsg());
	CHECK(a.data == NULL, "%s: data not NULL after a failed read", what);
	CHECK(strstr(al_errmsg(), path) != NULL, "%s: message does not name the file: %s", what,
	      al_errmsg());
	va_list ap;
	va_start(ap, what);
	for (const char *frag; (frag = va_arg(ap, const char *));)
		CHECK(strstr(al_errmsg(), frag) != NULL, "%s: message lacks '%s': %s", what, frag,
		      al_errmsg());
	va_end(ap);
	if (st == AL_OK)
		al_npy_free(&a);
}

TEST(core_npy_missing_file)
{
	const char *path = cpath("does_not_exist.npy");
	expect_read_error(path, AL_EIO, "missing file", NULL);
	al_tensor t;
	CHECK(al_npy_read_f32(path, &t) == AL_EIO, "read_f32 of a missing file");
	CHECK(t.data == NULL, "read_f32 left data");
}

TEST(core_npy_bad_magic)
{
	const char *path = cpath("badmagic.npy");
	static const char zip[] = "PK\x03\x04 this is a zip file, not an npy file";
	REQUIRE(write_file(path, zip, sizeof zip - 1) == 0, "write");
	expect_read_error(path, AL_EFORMAT, "bad magic", "magic", NULL);
	/* a file shorter than the magic */
	path = cpath("tiny.npy");
	REQUIRE(write_file(path, "\x93NUM", 4) == 0, "write");
	expect_read_error(path, AL_EFORMAT, "4-byte file", NULL);
	/* unknown format version */
	path = cpath("v9.npy");
	static const char v9[] = "\x93NUMPY\x09\x00\x10\x00{}              ";
	REQUIRE(write_file(path, v9, sizeof v9 - 1) == 0, "write");
	expect_read_error(path, AL_EFORMAT, "version 9", "version", NULL);
}

TEST(core_npy_truncated_header)
{
	/* preamble only, no header length */
	const char *path = cpath("trunc_hdr0.npy");
	REQUIRE(write_file(path, "\x93NUMPY\x01\x00", 8) == 0, "write");
	expect_read_error(path, AL_EFORMAT, "no header length", "offset", "truncated", NULL);
	/* header length 118 but only 40 bytes of header */
	path = cpath("trunc_hdr1.npy");
	REQUIRE(write_file(path, numpy_f32_2x3_header, 50) == 0, "write");
	expect_read_error(path, AL_EFORMAT, "short header", "offset", "truncated", NULL);
}

TEST(core_npy_truncated_data)
{
	REQUIRE(host_is_little_endian(), "test assumes a little-endian host");
	/* shape (2, 3) float32 needs 24 data bytes; give 20 (5 elements) */
	unsigned char file[128 + 20];
	memcpy(file, numpy_f32_2x3_header, 128);
	memset(file + 128, 0x3f, 20);
	const char *path = cpath("trunc_data.npy");
	REQUIRE(write_file(path, file, sizeof file) == 0, "write");
	/* the first missing byte is at 128 + 20 = 148 */
	expect_read_error(path, AL_EFORMAT, "truncated data", "offset", "148", NULL);
	al_tensor t;
	CHECK(al_npy_read_f32(path, &t) == AL_EFORMAT, "read_f32 of truncated data");
	/* no data at all */
	path = cpath("trunc_data0.npy");
	REQUIRE(write_file(path, file, 128) == 0, "write");
	expect_read_error(path, AL_EFORMAT, "no data", "offset", "128", NULL);
}

TEST(core_npy_huge_shape_is_a_format_error)
{
	/* A header whose shape claims far more data than the file holds (e.g.
	 * a corrupted length) is a truncated file, not an out-of-memory
	 * condition: the reader should compare against the file size before
	 * allocating. Runs in a child: a sanitizer build aborts on an 8 TiB
	 * allocation request. */
	const char *path = cpath("huge.npy");
	REQUIRE(write_npy_raw(path,
			      "{'descr': '<f8', 'fortran_order': False, 'shape': (1099511627776,), }",
			      "12345678", 8) == 0,
		"write");
	const char *res = cpath("huge.result");
	pid_t pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		al_npy a;
		al_status st = al_npy_read(path, &a);
		FILE *f = fopen(res, "w");
		if (f) {
			fprintf(f, "%d\n%s\n", (int)st, al_errmsg());
			fclose(f);
		}
		_exit(0);
	}
	int ws;
	REQUIRE(waitpid(pid, &ws, 0) == pid, "waitpid");
	REQUIRE(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		"al_npy_read of a header claiming 8 TiB crashed or aborted (status %d)", ws);
	char line[1200] = "";
	int st = -1;
	FILE *f = fopen(res, "r");
	REQUIRE(f, "no result from the child");
	if (fscanf(f, "%d\n", &st) != 1 || !fgets(line, sizeof line, f))
		line[0] = 0;
	fclose(f);
	CHECK(st == AL_EFORMAT, "status %d (%s), expected AL_EFORMAT; message: %s", st,
	      al_status_str((al_status)st), line);
	CHECK(strstr(line, path), "message does not name the file: %s", line);
	CHECK(strstr(line, "offset"), "message gives no offset: %s", line);
}

TEST(core_npy_fortran_order_rejected)
{
	const char *path = cpath("fortran.npy");
	float v[6] = {0};
	REQUIRE(write_npy_raw(path, "{'descr': '<f4', 'fortran_order': True, 'shape': (2, 3), }", v,
			      sizeof v) == 0,
		"write");
	expect_read_error(path, AL_EFORMAT, "fortran order", "Fortran", NULL);
}

TEST(core_npy_big_endian_rejected)
{
	const char *path = cpath("bigendian.npy");
	float v[6] = {0};
	REQUIRE(write_npy_raw(path, "{'descr': '>f4', 'fortran_order': False, 'shape': (2, 3), }", v,
			      sizeof v) == 0,
		"write");
	expect_read_error(path, AL_EFORMAT, "big-endian", ">f4", NULL);
	al_tensor t;
	CHECK(al_npy_read_f32(path, &t) == AL_EFORMAT, "read_f32 accepted big-endian");
}

TEST(core_npy_unsupported_dtype_rejected)
{
	const char *path = cpath("complex.npy");
	float v[12] = {0};
	REQUIRE(write_npy_raw(path, "{'descr': '<c8', 'fortran_order': False, 'shape': (2, 3), }", v,
			      sizeof v) == 0,
		"write");
	expect_read_error(path, AL_EFORMAT, "complex64", "<c8", NULL);
	/* a prefix of a supported name is not that name */
	path = cpath("f4x.npy");
	REQUIRE(write_npy_raw(path, "{'descr': '<f4x', 'fortran_order': False, 'shape': (2, 3), }", v,
			      24) == 0,
		"write");
	expect_read_error(path, AL_EFORMAT, "<f4x", "<f4x", NULL);
	path = cpath("object.npy");
	REQUIRE(write_npy_raw(path, "{'descr': '|O', 'fortran_order': False, 'shape': (2,), }", v,
			      16) == 0,
		"write");
	expect_read_error(path, AL_EFORMAT, "object", "|O", NULL);
}

TEST(core_npy_malformed_shape_rejected)
{
	float v[64] = {0};
	static const char *bad[] = {
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, x), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, -3), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3.5), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3, }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': [2, 3], }",
		"{'descr': '<f4', 'fortran_order': False, }",
		"{'descr': '<f4', 'shape': (2, 3), }",
		"{'fortran_order': False, 'shape': (2, 3), }",
		"{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 1, 1, 1, 1, 1, 1, 1), }",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		char name[32];
		snprintf(name, sizeof name, "badshape%zu.npy", i);
		const char *path = cpath(name);
		REQUIRE(write_npy_raw(path, bad[i], v, 24) == 0, "write");
		al_npy a;
		al_status st = al_npy_read(path, &a);
		CHECK(st == AL_EFORMAT, "header %s: status %d (%s)", bad[i], (int)st, al_errmsg());
		CHECK(st == AL_OK || strstr(al_errmsg(), path), "header %s: message lacks the file: %s",
		      bad[i], al_errmsg());
		if (st == AL_OK)
			al_npy_free(&a);
	}
}

TEST(core_npy_read_f32_converts)
{
	const double f64[4] = {0.5, -1e30, 3.141592653589793, 1e-40};
	const int64_t i64[4] = {0, -5, 1ll << 40, 16777217};
	const int32_t i32[4] = {-2147483647 - 1, 7, -1, 100000};
	const uint8_t u8[4] = {0, 1, 200, 255};
	const void *src[] = {f64, i64, i32, u8};
	al_npy_dtype dts[] = {AL_NPY_F64, AL_NPY_I64, AL_NPY_I32, AL_NPY_U8};
	float want[4][4];
	for (int i = 0; i < 4; i++) {
		want[0][i] = (float)f64[i];
		want[1][i] = (float)i64[i];
		want[2][i] = (float)i32[i];
		want[3][i] = (float)u8[i];
	}
	int64_t shape[2] = {2, 2};
	for (int d = 0; d < 4; d++) {
		char name[32];
		snprintf(name, sizeof name, "conv%d.npy", d);
		const char *path = cpath(name);
		REQUIRE_OK(al_npy_write(path, dts[d], 2, shape, src[d]));
		al_tensor t;
		REQUIRE_OK(al_npy_read_f32(path, &t));
		CHECK(t.ndim == 2 && t.shape[0] == 2 && t.shape[1] == 2, "dtype %d: shape", d);
		for (int i = 0; i < 4; i++)
			CHECK(t.data[i] == want[d][i], "dtype %d element %d: %.9g, expected %.9g", d, i,
			      (double)t.data[i], (double)want[d][i]);
		al_tensor_free(&t);
	}
	/* 0-D and 5-D arrays are not tensors */
	const char *path = cpath("scalar.npy");
	float one = 1;
	REQUIRE_OK(al_npy_write(path, AL_NPY_F32, 0, NULL, &one));
	al_tensor t;
	CHECK(al_npy_read_f32(path, &t) == AL_EINVAL, "0-D accepted as a tensor");
	int64_t s5[5] = {1, 1, 1, 1, 2};
	float two[2] = {1, 2};
	path = cpath("fivedim.npy");
	REQUIRE_OK(al_npy_write(path, AL_NPY_F32, 5, s5, two));
	al_status st = al_npy_read_f32(path, &t);
	CHECK(st == AL_EINVAL, "5-D accepted as a tensor");
	CHECK(strstr(al_errmsg(), path), "5-D message lacks the file: %s", al_errmsg());
}

/* ---- .npy: atomic writes ------------------------------------------------- */
static int count_tmp_files(const char *dir, const char *prefix)
{
	DIR *d = opendir(dir);
	if (!d)
		return -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0 && strstr(e->d_name, ".tmp"))
			n++;
	closedir(d);
	return n;
}

TEST(core_npy_write_failure_leaves_no_file)
{
	char path[600];
	snprintf(path, sizeof path, "%s/no_such_dir/out.npy", test_tmpdir());
	float v[3] = {1, 2, 3};
	int64_t three = 3;
	al_status st = al_npy_write(path, AL_NPY_F32, 1, &three, v);
	CHECK(st == AL_EIO, "write into a missing directory: status %d", (int)st);
	CHECK(strstr(al_errmsg(), path), "message does not name the file: %s", al_errmsg());
	CHECK(!file_exists(path), "a file was left at %s", path);

	/* rename over a directory fails: the temporary must be removed and the
	 * directory untouched */
	const char *dirpath = cpath("isdir.npy");
	REQUIRE(mkdir(dirpath, 0755) == 0 || errno == EEXIST, "mkdir");
	st = al_npy_write(dirpath, AL_NPY_F32, 1, &three, v);
	CHECK(st == AL_EIO, "write over a directory: status %d", (int)st);
	struct stat sb;
	CHECK(stat(dirpath, &sb) == 0 && S_ISDIR(sb.st_mode), "directory replaced");
	CHECK(count_tmp_files(test_tmpdir(), "core_isdir.npy") == 0, "temporary file left behind");
}

TEST(core_npy_write_never_partial_under_final_name)
{
	/* An existing good file; then a write that fails half-way (the file
	 * size limit makes write(2) fail with EFBIG). The old file must survive
	 * intact and no temporary may be left. */
	const char *path = cpath("atomic.npy");
	float old[4] = {9, 8, 7, 6};
	int64_t four = 4;
	REQUIRE_OK(al_npy_write(path, AL_NPY_F32, 1, &four, old));

	enum { BIG = 1 << 16 };
	float *big = calloc(BIG, sizeof(float));
	REQUIRE(big, "calloc");
	int64_t nbig = BIG;
	struct rlimit saved, lim;
	REQUIRE(getrlimit(RLIMIT_FSIZE, &saved) == 0, "getrlimit");
	void (*oldsig)(int) = signal(SIGXFSZ, SIG_IGN);
	lim = saved;
	lim.rlim_cur = 4096;
	int limited = setrlimit(RLIMIT_FSIZE, &lim) == 0;
	al_status st = limited ? al_npy_write(path, AL_NPY_F32, 1, &nbig, big) : AL_OK;
	setrlimit(RLIMIT_FSIZE, &saved);
	signal(SIGXFSZ, oldsig);
	free(big);
	REQUIRE(limited, "setrlimit failed; cannot provoke a partial write");
	CHECK(st == AL_EIO, "a write that fails half-way returned %d (%s)", (int)st, al_errmsg());
	al_npy a;
	REQUIRE_OK(al_npy_read(path, &a));
	CHECK(a.ndim == 1 && a.shape[0] == 4 && memcmp(a.data, old, sizeof old) == 0,
	      "the file under the final name was replaced by a partial write");
	al_npy_free(&a);
	CHECK(count_tmp_files(test_tmpdir(), "core_atomic.npy") == 0, "temporary file left behind");
}

TEST(core_npy_write_rejects_bad_shape)
{
	/* A negative dimension is a caller error (AL_EINVAL), never a huge
	 * write. Run in a child so a crash fails the test instead of the run. */
	const char *path = cpath("negdim.npy");
	pid_t pid = fork();
	REQUIRE(pid >= 0, "fork");
	if (pid == 0) {
		float v[4] = {1, 2, 3, 4};
		int64_t shape[2] = {-1, 4};
		al_status st = al_npy_write(path, AL_NPY_F32, 2, shape, v);
		_exit(st == AL_EINVAL ? 0 : 10 + (int)st);
	}
	int ws;
	REQUIRE(waitpid(pid, &ws, 0) == pid, "waitpid");
	if (WIFSIGNALED(ws))
		CHECK(0, "al_npy_write with shape (-1, 4) crashed (signal %d)", WTERMSIG(ws));
	else if (WIFEXITED(ws) && WEXITSTATUS(ws) >= 10)
		CHECK(0, "al_npy_write with shape (-1, 4) returned status %d, expected AL_EINVAL (%d)",
		      WEXITSTATUS(ws) - 10, (int)AL_EINVAL);
	else
		CHECK(WIFEXITED(ws) && WEXITSTATUS(ws) == 0,
		      "al_npy_write with shape (-1, 4) aborted (exit %d; a sanitizer build reports "
		      "reading past the caller's buffer)",
		      WIFEXITED(ws) ? WEXITSTATUS(ws) : -1);
	CHECK(!file_exists(path), "a file was written for shape (-1, 4)");
	/* too many dimensions */
	int64_t s9[9] = {1, 1, 1, 1, 1, 1, 1, 1, 1};
	float one = 1;
	CHECK(al_npy_write(cpath("ninedim.npy"), AL_NPY_F32, 9, s9, &one) == AL_EINVAL,
	      "9 dimensions accepted");
	CHECK(al_npy_write(cpath("baddtype.npy"), (al_npy_dtype)99, 1, s9, &one) == AL_EINVAL,
	      "dtype 99 accepted");
}

/* ---- allocation-failure injection ----------------------------------------- */
TEST(core_alloc_failure_injection)
{
	size_t base = al_alloc_current();
	int64_t shape[2] = {4, 5};
	al_tensor t;
	al_set_alloc_fail_after(0);
	al_status st = al_tensor_alloc(&t, 2, shape);
	al_set_alloc_fail_after(-1);
	CHECK(st == AL_ENOMEM, "al_tensor_alloc under injected failure: %d", (int)st);
	CHECK(t.data == NULL, "data set after a failed alloc");
	CHECK(al_errmsg()[0], "no message for AL_ENOMEM");

	/* a valid file; the read's allocation fails */
	const char *path = cpath("alloc.npy");
	double v[20];
	for (int i = 0; i < 20; i++)
		v[i] = i;
	REQUIRE_OK(al_npy_write(path, AL_NPY_F64, 2, shape, v));
	al_npy a;
	al_set_alloc_fail_after(0);
	st = al_npy_read(path, &a);
	al_set_alloc_fail_after(-1);
	CHECK(st == AL_ENOMEM, "al_npy_read under injected failure: %d (%s)", (int)st, al_errmsg());
	CHECK(a.data == NULL, "data set after a failed read");
	CHECK(strstr(al_errmsg(), path), "ENOMEM message does not name the file: %s", al_errmsg());

	/* read_f32 from f64: the first allocation (raw data) succeeds, the
	 * conversion buffer fails; nothing may leak */
	al_set_alloc_fail_after(1);
	st = al_npy_read_f32(path, &t);
	al_set_alloc_fail_after(-1);
	CHECK(st == AL_ENOMEM, "al_npy_read_f32 with the 2nd allocation failing: %d", (int)st);
	CHECK(t.data == NULL, "tensor data set after a failed read");
	CHECK(al_alloc_current() == base, "leak: %zu bytes still allocated (was %zu)",
	      al_alloc_current(), base);

	/* after reset, everything works again */
	REQUIRE_OK(al_tensor_alloc(&t, 2, shape));
	al_tensor_free(&t);
	REQUIRE_OK(al_npy_read_f32(path, &t));
	CHECK(t.data[19] == 19.0f, "read after reset");
	al_tensor_free(&t);
	CHECK(al_alloc_current() == base, "leak after reset: %zu vs %zu", al_alloc_current(), base);
}

TEST(core_alloc_alignment_and_accounting)
{
	size_t base = al_alloc_current();
	void *p[5];
	size_t sizes[5] = {1, 63, 64, 1000, 1 << 20};
	for (int i = 0; i < 5; i++) {
		p[i] = al_malloc(sizes[i]);
		REQUIRE(p[i], "al_malloc(%zu)", sizes[i]);
		CHECK(((uintptr_t)p[i] & 63) == 0, "al_malloc(%zu) not 64-byte aligned", sizes[i]);
		memset(p[i], 0xab, sizes[i]);
	}
	CHECK(al_alloc_current() == base + 1 + 63 + 64 + 1000 + (1 << 20), "current %zu",
	      al_alloc_current());
	CHECK(al_alloc_peak() >= al_alloc_current(), "peak below current");
	for (int i = 0; i < 5; i++)
		al_free(p[i]);
	CHECK(al_alloc_current() == base, "current after free %zu, expected %zu", al_alloc_current(),
	      base);
	al_free(NULL);
	unsigned char *z = al_calloc(100, 3);
	REQUIRE(z, "al_calloc");
	int nz = 0;
	for (int i = 0; i < 300; i++)
		nz += z[i] != 0;
	CHECK(nz == 0, "al_calloc memory not zeroed");
	al_free(z);
	CHECK(al_calloc(SIZE_MAX / 2, 4) == NULL, "al_calloc overflow not detected");
	CHECK(al_malloc(SIZE_MAX - 10) == NULL, "al_malloc(SIZE_MAX - 10) succeeded");
}

/* ---- CRC-32 ---------------------------------------------------------------- */
TEST(core_crc32_known_values)
{
	CHECK(al_crc32(0, "123456789", 9) == 0xCBF43926u, "crc32('123456789') = %08x",
	      al_crc32(0, "123456789", 9));
	const char *fox = "The quick brown fox jumps over the lazy dog";
	CHECK(al_crc32(0, fox, strlen(fox)) == 0x414FA339u, "crc32(fox) = %08x",
	      al_crc32(0, fox, strlen(fox)));
	CHECK(al_crc32(0, "", 0) == 0, "crc32('') = %08x", al_crc32(0, "", 0));
	CHECK(al_crc32(0, "a", 1) == 0xE8B7BE43u, "crc32('a') = %08x", al_crc32(0, "a", 1));
	/* chaining: pieces give the same value as the whole */
	uint32_t c = al_crc32(0, "1234", 4);
	c = al_crc32(c, "", 0);
	c = al_crc32(c, "56789", 5);
	CHECK(c == 0xCBF43926u, "chained crc32 = %08x", c);
	/* 1 MiB of zeros, in one call and in odd pieces */
	size_t n = 1 << 20;
	unsigned char *z = calloc(n, 1);
	REQUIRE(z, "calloc");
	uint32_t whole = al_crc32(0, z, n), parts = 0;
	for (size_t off = 0; off < n;) {
		size_t k = off + 12345 < n ? 12345 : n - off;
		parts = al_crc32(parts, z + off, k);
		off += k;
	}
	CHECK(whole == parts, "chained %08x != whole %08x", parts, whole);
	CHECK(whole != 0, "crc of 1 MiB zeros is 0");
	free(z);
}

/* ---- error messages ---------------------------------------------------------- */
static void *err_thread(void *arg)
{
	int *res = arg;
	res[0] = al_errmsg()[0] == 0; /* fresh thread: empty */
	al_err(AL_EIO, "thread message");
	res[1] = strcmp(al_errmsg(), "thread message") == 0;
	return NULL;
}

TEST(core_errmsg_formatting)
{
	al_err_clear();
	CHECK(al_errmsg()[0] == 0, "message not empty after clear: %s", al_errmsg());
	al_status st = al_err(AL_EFORMAT, "%s: offset %d: bad %s", "f.bin", 12, "magic");
	CHECK(st == AL_EFORMAT, "al_err returned %d", (int)st);
	CHECK(strcmp(al_errmsg(), "f.bin: offset 12: bad magic") == 0, "message '%s'", al_errmsg());
	st = al_err_ctx(AL_EIO, "loading '%s'", "model.cfg");
	CHECK(st == AL_EIO, "al_err_ctx returned %d", (int)st);
	CHECK(strcmp(al_errmsg(), "loading 'model.cfg': f.bin: offset 12: bad magic") == 0,
	      "context message '%s'", al_errmsg());
	st = al_err_ctx(AL_EINVAL, "layer %d", 3);
	CHECK(strcmp(al_errmsg(), "layer 3: loading 'model.cfg': f.bin: offset 12: bad magic") == 0,
	      "nested context '%s'", al_errmsg());
	/* the context may quote the current message itself */
	al_err(AL_EIO, "inner");
	al_err_ctx(AL_EIO, "[%s]", al_errmsg());
	CHECK(strcmp(al_errmsg(), "[inner]: inner") == 0, "self-referential context '%s'",
	      al_errmsg());

	/* a very long message is truncated, not overflowed */
	char longs[3000];
	memset(longs, 'x', sizeof longs - 1);
	longs[sizeof longs - 1] = 0;
	al_err(AL_EINVAL, "%s", longs);
	size_t l = strlen(al_errmsg());
	CHECK(l > 500 && l < sizeof longs - 1, "long message length %zu", l);
	al_err_ctx(AL_EINVAL, "%s", longs);
	CHECK(strlen(al_errmsg()) <= l, "long context grew the buffer to %zu", strlen(al_errmsg()));

	/* every status has a distinct, non-empty name */
	const al_status all[] = {AL_OK,    AL_EINVAL, AL_ENOMEM,       AL_EIO,     AL_EFORMAT,
				 AL_ERANGE, AL_ESTATE, AL_EUNSUPPORTED, AL_ENUMERIC};
	int n = (int)(sizeof all / sizeof *all);
	for (int i = 0; i < n; i++) {
		const char *si = al_status_str(all[i]);
		CHECK(si && si[0], "status %d has no name", (int)all[i]);
		for (int j = 0; j < i; j++)
			CHECK(strcmp(si, al_status_str(all[j])) != 0, "statuses %d and %d share '%s'",
			      (int)all[i], (int)all[j], si);
	}
	CHECK(strcmp(al_status_str(AL_OK), "ok") == 0, "AL_OK is '%s'", al_status_str(AL_OK));

	/* thread-local: another thread starts empty and does not disturb ours */
	al_err(AL_EINVAL, "main message");
	int res[2] = {0, 0};
	pthread_t th;
	REQUIRE(pthread_create(&th, NULL, err_thread, res) == 0, "pthread_create");
	pthread_join(th, NULL);
	CHECK(res[0], "a new thread sees another thread's message");
	CHECK(res[1], "message in the second thread wrong");
	CHECK(strcmp(al_errmsg(), "main message") == 0, "main thread message changed to '%s'",
	      al_errmsg());
	al_err_clear();
}
