/* test_data.c — tests of the data module: IDX and CIFAR readers (good files
 * and every defect the readers report), data specs, the synthetic
 * generator, normalisation, stratified splits and batch assembly with
 * augmentation. Files are written into test_tmpdir() by the tests; the real
 * Fashion-MNIST is checked when Debian's package is installed.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "actlab/core.h"
#include "actlab/data.h"
#include "test.h"

/* ---- helpers ----------------------------------------------------------- */
/* A fresh directory test_tmpdir()/name; returns its path (static buffer per slot). */
static const char *tdir(const char *name)
{
	static char buf[8][512];
	static int slot;
	char *p = buf[slot++ % 8];
	snprintf(p, 512, "%s/%s", test_tmpdir(), name);
	if (mkdir(p, 0755) != 0 && errno != EEXIST)
		fprintf(stderr, "mkdir %s failed\n", p);
	return p;
}

static int write_bytes(const char *path, const void *data, size_t len, int gz)
{
	if (gz) {
		gzFile f = gzopen(path, "wb");
		if (!f)
			return -1;
		int ok = len == 0 || gzwrite(f, data, (unsigned)len) == (int)len;
		return gzclose(f) == Z_OK && ok ? 0 : -1;
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	int ok = fwrite(data, 1, len, f) == len;
	return fclose(f) == 0 && ok ? 0 : -1;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes an IDX file: magic, ndims big-endian dims, then `len` payload bytes
 * (len may differ from the dims' product to make defective files). */
static int write_idx(const char *path, int gz, uint32_t magic, int ndims, const uint32_t *dims,
		     const uint8_t *payload, size_t len)
{
	size_t hdr = 4 + 4 * (size_t)ndims;
	uint8_t *buf = malloc(hdr + len + 1);
	if (!buf)
		return -1;
	put_be32(buf, magic);
	for (int k = 0; k < ndims; k++)
		put_be32(buf + 4 + 4 * k, dims[k]);
	if (len)
		memcpy(buf + hdr, payload, len);
	int r = write_bytes(path, buf, hdr + len, gz);
	free(buf);
	return r;
}

static int write_images(const char *path, int gz, int n, int h, int w, const uint8_t *px)
{
	uint32_t dims[3] = {(uint32_t)n, (uint32_t)h, (uint32_t)w};
	return write_idx(path, gz, 0x00000803, 3, dims, px, (size_t)n * h * w);
}

static int write_labels(const char *path, int gz, int n, const uint8_t *lab)
{
	uint32_t dims[1] = {(uint32_t)n};
	return write_idx(path, gz, 0x00000801, 1, dims, lab, (size_t)n);
}

/* Writes the four IDX files of a small dataset into dir: ntr train and nte
 * test images of h x w, pixel = (sample * 7 + k) & 255, label = sample % 10.
 * gz_mask bit j gzips file j (train images, train labels, test images,
 * test labels); gzip'd files get a .gz suffix. */
static int write_idx_dir(const char *dir, int ntr, int nte, int h, int w, unsigned gz_mask)
{
	static const char *names[4] = {"train-images-idx3-ubyte", "train-labels-idx1-ubyte",
				       "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"};
	for (int j = 0; j < 4; j++) {
		int n = j < 2 ? ntr : nte, gz = (int)(gz_mask >> j & 1);
		char path[600];
		snprintf(path, sizeof path, "%s/%s%s", dir, names[j], gz ? ".gz" : "");
		uint8_t *buf = malloc((size_t)n * h * w + 1);
		if (!buf)
			return -1;
		int r;
		if (j % 2 == 0) {
			for (size_t k = 0; k < (size_t)n * h * w; k++)
				buf[k] = (uint8_t)((k / ((size_t)h * w)) * 7 + k % ((size_t)h * w));
			r = write_images(path, gz, n, h, w, buf);
		} else {
			for (int i = 0; i < n; i++)
				buf[i] = (uint8_t)(i % 10);
			r = write_labels(path, gz, n, buf);
		}
		free(buf);
		if (r)
			return r;
	}
	return 0;
}

/* Writes a CIFAR batch of n records: label bytes (coarse = fine / 5 for
 * CIFAR-100) then 3072 pixels, pixel k of record i = (i * 31 + k) & 255. */
static int write_cifar(const char *path, int label_bytes, int n, const int *fine, size_t extra)
{
	size_t rec = (size_t)label_bytes + 3072;
	uint8_t *buf = calloc((size_t)n * rec + extra + 1, 1);
	if (!buf)
		return -1;
	for (int i = 0; i < n; i++) {
		uint8_t *r = buf + (size_t)i * rec;
		if (label_bytes == 2)
			r[0] = (uint8_t)(fine[i] / 5);
		r[label_bytes - 1] = (uint8_t)fine[i];
		for (int k = 0; k < 3072; k++)
			r[label_bytes + k] = (uint8_t)(i * 31 + k);
	}
	int ret = write_bytes(path, buf, (size_t)n * rec + extra, 0);
	free(buf);
	return ret;
}

static int contains(const char *s, const char *sub) { return strstr(s, sub) != NULL; }

/* ---- IDX ---------------------------------------------------------------- */
TEST(data_idx_roundtrip)
{
	const char *dir = tdir("idx_roundtrip");
	enum { N = 5, H = 3, W = 4 };
	uint8_t px[N * H * W], lab[N];
	for (int k = 0; k < N * H * W; k++)
		px[k] = (uint8_t)(k * 13 + 1);
	for (int i = 0; i < N; i++)
		lab[i] = (uint8_t)(9 - i);
	for (int gz = 0; gz < 2; gz++) {
		char ip[600], lp[600];
		snprintf(ip, sizeof ip, "%s/img%s", dir, gz ? ".gz" : "");
		snprintf(lp, sizeof lp, "%s/lab%s", dir, gz ? ".gz" : "");
		REQUIRE(write_images(ip, gz, N, H, W, px) == 0, "cannot write %s", ip);
		REQUIRE(write_labels(lp, gz, N, lab) == 0, "cannot write %s", lp);
		al_dataset d;
		REQUIRE_OK(al_idx_read_images(ip, &d));
		CHECK(d.n == N && d.c == 1 && d.h == H && d.w == W, "shape %d %d %d %d", d.n, d.c,
		      d.h, d.w);
		CHECK(memcmp(d.images, px, sizeof px) == 0, "pixels differ (gz=%d)", gz);
		int32_t *l = NULL;
		int n = 0;
		al_status st = al_idx_read_labels(lp, &l, &n);
		CHECK(st == AL_OK, "labels: %s", al_errmsg());
		if (st == AL_OK) {
			CHECK(n == N, "n = %d", n);
			for (int i = 0; i < N && n == N; i++)
				CHECK(l[i] == 9 - i, "label %d = %d", i, l[i]);
		}
		al_free(l);
		al_dataset_free(&d);
		CHECK(d.images == NULL && d.n == 0, "al_dataset_free did not reset");
	}
	al_dataset_free(NULL);
}

TEST(data_idx_wrong_magic)
{
	const char *dir = tdir("idx_magic");
	uint8_t px[12] = {0};
	uint32_t dims[3] = {1, 3, 4};
	char p[600];
	al_dataset d;

	snprintf(p, sizeof p, "%s/magic", dir);
	REQUIRE(write_idx(p, 0, 0x12345678, 3, dims, px, 12) == 0, "write");
	al_status st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT, "status %d", st);
	CHECK(contains(al_errmsg(), p) && contains(al_errmsg(), "0x12345678") &&
		      contains(al_errmsg(), "offset 0"),
	      "message: %s", al_errmsg());
	CHECK(d.images == NULL && d.n == 0, "d not cleared on failure");

	/* dtype byte 0x0d (float) instead of 0x08 */
	snprintf(p, sizeof p, "%s/dtype", dir);
	REQUIRE(write_idx(p, 1, 0x00000D03, 3, dims, px, 12) == 0, "write");
	st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "data type byte 0x0d") &&
		      contains(al_errmsg(), "offset 2"),
	      "status %d, message: %s", st, al_errmsg());

	/* a labels file read as images, and images read as labels */
	snprintf(p, sizeof p, "%s/labels", dir);
	REQUIRE(write_labels(p, 0, 12, px) == 0, "write");
	st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "0x00000801") &&
		      contains(al_errmsg(), "dimensions"),
	      "status %d, message: %s", st, al_errmsg());
	snprintf(p, sizeof p, "%s/images", dir);
	REQUIRE(write_images(p, 0, 1, 3, 4, px) == 0, "write");
	int32_t *l = NULL;
	int n = -1;
	st = al_idx_read_labels(p, &l, &n);
	CHECK(st == AL_EFORMAT && l == NULL && n == 0 && contains(al_errmsg(), "0x00000803"),
	      "status %d, message: %s", st, al_errmsg());

	/* not a file at all */
	snprintf(p, sizeof p, "%s/does-not-exist", dir);
	st = al_idx_read_images(p, &d);
	CHECK(st == AL_EIO && contains(al_errmsg(), p), "status %d, message: %s", st, al_errmsg());
}

TEST(data_idx_truncated)
{
	const char *dir = tdir("idx_trunc");
	uint8_t px[64];
	for (int k = 0; k < 64; k++)
		px[k] = (uint8_t)k;
	uint32_t dims[3] = {4, 3, 3}; /* 36 bytes declared */
	char p[600], want[64];
	al_dataset d;
	for (int gz = 0; gz < 2; gz++) {
		snprintf(p, sizeof p, "%s/short%d", dir, gz);
		REQUIRE(write_idx(p, gz, 0x00000803, 3, dims, px, 20) == 0, "write");
		al_status st = al_idx_read_images(p, &d);
		snprintf(want, sizeof want, "offset %d", 16 + 20);
		CHECK(st == AL_EFORMAT && contains(al_errmsg(), p) && contains(al_errmsg(), want),
		      "gz=%d: status %d, message: %s", gz, st, al_errmsg());
		CHECK(d.images == NULL, "d not cleared");
	}
	/* header cut inside dimension 1 */
	snprintf(p, sizeof p, "%s/header", dir);
	uint8_t hdr[10] = {0, 0, 8, 3, 0, 0, 0, 4, 0, 0};
	REQUIRE(write_bytes(p, hdr, sizeof hdr, 0) == 0, "write");
	al_status st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "offset 10") &&
		      contains(al_errmsg(), "dimension 1"),
	      "status %d, message: %s", st, al_errmsg());
	/* empty file */
	snprintf(p, sizeof p, "%s/empty", dir);
	REQUIRE(write_bytes(p, hdr, 0, 0) == 0, "write");
	st = al_idx_read_labels(p, &(int32_t *){NULL}, &(int){0});
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "offset 0"), "status %d, message: %s", st,
	      al_errmsg());
	/* labels: 10 declared, 7 present */
	snprintf(p, sizeof p, "%s/labels", dir);
	uint32_t ln[1] = {10};
	REQUIRE(write_idx(p, 0, 0x00000801, 1, ln, px, 7) == 0, "write");
	int32_t *l = NULL;
	int n = 0;
	st = al_idx_read_labels(p, &l, &n);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "offset 15") && l == NULL,
	      "status %d, message: %s", st, al_errmsg());
	/* trailing bytes after the declared data */
	snprintf(p, sizeof p, "%s/long", dir);
	REQUIRE(write_idx(p, 1, 0x00000803, 3, dims, px, 40) == 0, "write");
	st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "offset 52"), "status %d, message: %s", st,
	      al_errmsg());
	/* a gzip stream cut in the middle */
	snprintf(p, sizeof p, "%s/cut.gz", dir);
	uint8_t big[4096];
	for (int k = 0; k < 4096; k++)
		big[k] = (uint8_t)(k * 2654435761u >> 13);
	uint32_t bd[3] = {4, 32, 32};
	REQUIRE(write_idx(p, 1, 0x00000803, 3, bd, big, 4096) == 0, "write");
	struct stat sb;
	REQUIRE(stat(p, &sb) == 0, "stat");
	REQUIRE(truncate(p, sb.st_size / 2) == 0, "truncate");
	st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), p) && contains(al_errmsg(), "offset"),
	      "status %d, message: %s", st, al_errmsg());
	CHECK(d.images == NULL, "d not cleared");
}

TEST(data_idx_bad_dims)
{
	const char *dir = tdir("idx_dims");
	char p[600];
	al_dataset d;
	uint8_t px[8] = {0};
	/* a zero dimension */
	uint32_t zero[3] = {2, 0, 4};
	snprintf(p, sizeof p, "%s/zero", dir);
	REQUIRE(write_idx(p, 0, 0x00000803, 3, zero, px, 8) == 0, "write");
	al_status st = al_idx_read_images(p, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "offset 8") &&
		      contains(al_errmsg(), "dimension 1"),
	      "status %d, message: %s", st, al_errmsg());
	/* product overflows 64 bits / exceeds the 2^34-byte bound: must fail
	 * before allocating anything */
	uint32_t huge[2][3] = {{0xFFFFFFFFu, 0xFFFFFFFFu, 0xFFFFFFFFu}, {1u << 20, 1u << 10, 1u << 10}};
	for (int k = 0; k < 2; k++) {
		snprintf(p, sizeof p, "%s/huge%d", dir, k);
		REQUIRE(write_idx(p, 0, 0x00000803, 3, huge[k], px, 8) == 0, "write");
		size_t before = al_alloc_current();
		st = al_idx_read_images(p, &d);
		CHECK(st == AL_ERANGE && contains(al_errmsg(), p) && contains(al_errmsg(), "offset"),
		      "status %d, message: %s", st, al_errmsg());
		CHECK(al_alloc_current() == before, "leak");
	}
	/* labels: count 0 */
	uint32_t l0[1] = {0};
	snprintf(p, sizeof p, "%s/l0", dir);
	REQUIRE(write_idx(p, 0, 0x00000801, 1, l0, px, 0) == 0, "write");
	int32_t *l = NULL;
	int n = 0;
	st = al_idx_read_labels(p, &l, &n);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), "dimension 0"), "status %d, message: %s",
	      st, al_errmsg());
}

TEST(data_idx_load_dir)
{
	const char *dir = tdir("idx_load");
	/* train images gz, train labels plain, test images plain, test labels gz */
	REQUIRE(write_idx_dir(dir, 30, 12, 5, 6, 0x9) == 0, "write");
	char spec[700];
	al_dataset tr, te;
	snprintf(spec, sizeof spec, "idx:%s", dir);
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n == 30 && tr.c == 1 && tr.h == 5 && tr.w == 6 && tr.classes == 10,
	      "train %d %d %d %d %d", tr.n, tr.c, tr.h, tr.w, tr.classes);
	CHECK(te.n == 12 && te.h == 5 && te.w == 6 && te.classes == 10, "test %d", te.n);
	CHECK(strcmp(tr.name, "idx/train") == 0 && strcmp(te.name, "idx/test") == 0, "names %s %s",
	      tr.name, te.name);
	CHECK(tr.labels[17] == 7 && te.labels[11] == 1, "labels");
	CHECK(tr.images[3 * 30 + 4] == (uint8_t)(3 * 7 + 4), "pixel");
	al_dataset_free(&tr);
	al_dataset_free(&te);

	/* mnist:DIR with limits */
	snprintf(spec, sizeof spec, "mnist:%s,train=7,test=3", dir);
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n == 7 && te.n == 3 && strcmp(tr.name, "mnist/train") == 0, "limits: %d %d %s",
	      tr.n, te.n, tr.name);
	CHECK(tr.images[6 * 30 + 29] == (uint8_t)(6 * 7 + 29) && tr.labels[6] == 6,
	      "kept samples differ");
	al_dataset_free(&tr);
	al_dataset_free(&te);

	/* limit larger than the part */
	snprintf(spec, sizeof spec, "mnist:%s,test=13", dir);
	al_status st = al_data_load(spec, &tr, &te);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), "test=13") && contains(al_errmsg(), "12"),
	      "status %d, message: %s", st, al_errmsg());
	CHECK(tr.images == NULL && te.images == NULL && tr.n == 0, "not cleared on failure");

	/* a file missing in an existing directory */
	const char *d2 = tdir("idx_load_missing");
	REQUIRE(write_idx_dir(d2, 3, 2, 2, 2, 0) == 0, "write");
	char rm[700];
	snprintf(rm, sizeof rm, "%s/t10k-labels-idx1-ubyte", d2);
	REQUIRE(remove(rm) == 0, "remove");
	snprintf(spec, sizeof spec, "idx:%s", d2);
	st = al_data_load(spec, &tr, &te);
	CHECK(st == AL_EIO && contains(al_errmsg(), "t10k-labels-idx1-ubyte"), "status %d, message: %s",
	      st, al_errmsg());
}

TEST(data_idx_label_mismatch)
{
	const char *dir = tdir("idx_mismatch");
	REQUIRE(write_idx_dir(dir, 6, 4, 2, 2, 0) == 0, "write");
	char p[600], spec[700];
	uint8_t lab[5] = {0, 1, 2, 3, 4};
	snprintf(p, sizeof p, "%s/train-labels-idx1-ubyte", dir);
	REQUIRE(write_labels(p, 0, 5, lab) == 0, "write");
	snprintf(spec, sizeof spec, "idx:%s", dir);
	al_dataset tr, te;
	size_t before = al_alloc_current();
	al_status st = al_data_load(spec, &tr, &te);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), p) && contains(al_errmsg(), "5 labels") &&
		      contains(al_errmsg(), "6 images"),
	      "status %d, message: %s", st, al_errmsg());
	CHECK(tr.images == NULL && tr.labels == NULL && te.images == NULL, "not cleared");
	CHECK(al_alloc_current() == before, "leak after failed load");
}

TEST(data_idx_label_range)
{
	const char *dir = tdir("idx_range");
	REQUIRE(write_idx_dir(dir, 6, 4, 2, 2, 0xF) == 0, "write");
	char p[600], spec[700];
	uint8_t lab[4] = {0, 1, 10, 3};
	snprintf(p, sizeof p, "%s/t10k-labels-idx1-ubyte.gz", dir);
	REQUIRE(write_labels(p, 1, 4, lab) == 0, "write");
	snprintf(spec, sizeof spec, "mnist:%s", dir);
	al_dataset tr, te;
	al_status st = al_data_load(spec, &tr, &te);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), p) && contains(al_errmsg(), "offset 10") &&
		      contains(al_errmsg(), "label 10") && contains(al_errmsg(), "[0, 10)"),
	      "status %d, message: %s", st, al_errmsg());
}

/* ---- CIFAR ---------------------------------------------------------------- */
TEST(data_cifar10_load)
{
	const char *dir = tdir("cifar10");
	char p[600], spec[700];
	for (int b = 1; b <= 5; b++) {
		int lab[3] = {b, (b + 3) % 10, 9};
		snprintf(p, sizeof p, "%s/data_batch_%d.bin", dir, b);
		REQUIRE(write_cifar(p, 1, 3, lab, 0) == 0, "write");
	}
	int tl[2] = {4, 0};
	snprintf(p, sizeof p, "%s/test_batch.bin", dir);
	REQUIRE(write_cifar(p, 1, 2, tl, 0) == 0, "write");
	snprintf(spec, sizeof spec, "cifar10:%s", dir);
	al_dataset tr, te;
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n == 15 && tr.c == 3 && tr.h == 32 && tr.w == 32 && tr.classes == 10,
	      "train %d %d %d %d %d", tr.n, tr.c, tr.h, tr.w, tr.classes);
	CHECK(te.n == 2 && te.labels[0] == 4 && te.labels[1] == 0, "test");
	CHECK(strcmp(tr.name, "cifar10/train") == 0, "name %s", tr.name);
	/* sample 3*b + i comes from batch b+1, record i */
	for (int b = 0; b < 5; b++)
		for (int i = 0; i < 3; i++) {
			int s = 3 * b + i;
			int want = i == 0 ? b + 1 : i == 1 ? (b + 4) % 10 : 9;
			CHECK(tr.labels[s] == want, "label %d = %d, want %d", s, tr.labels[s], want);
			/* green plane, pixel (2, 5) */
			size_t k = 1024 + 2 * 32 + 5;
			CHECK(tr.images[(size_t)s * 3072 + k] == (uint8_t)(i * 31 + (int)k),
			      "pixel of sample %d", s);
		}
	al_dataset_free(&tr);
	al_dataset_free(&te);

	snprintf(spec, sizeof spec, "cifar10:%s,train=4", dir);
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n == 4 && tr.labels[3] == 2 && te.n == 2, "limit: n = %d", tr.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(data_cifar100_load)
{
	const char *dir = tdir("cifar100");
	char p[600], spec[700];
	int fl[4] = {57, 99, 0, 13};
	snprintf(p, sizeof p, "%s/train.bin", dir);
	REQUIRE(write_cifar(p, 2, 4, fl, 0) == 0, "write");
	snprintf(p, sizeof p, "%s/test.bin", dir);
	REQUIRE(write_cifar(p, 2, 2, fl + 2, 0) == 0, "write");
	snprintf(spec, sizeof spec, "cifar100:%s", dir);
	al_dataset tr, te;
	REQUIRE_OK(al_data_load(spec, &tr, &te));
	CHECK(tr.n == 4 && te.n == 2 && tr.classes == 100 && te.classes == 100, "n %d %d", tr.n,
	      te.n);
	for (int i = 0; i < 4; i++)
		CHECK(tr.labels[i] == fl[i], "fine label %d = %d", i, tr.labels[i]);
	CHECK(te.labels[0] == 0 && te.labels[1] == 13, "test labels");
	CHECK(tr.images[3 * 3072 + 3071] == (uint8_t)(3 * 31 + 3071), "last pixel");
	CHECK(strcmp(te.name, "cifar100/test") == 0, "name %s", te.name);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(data_cifar_errors)
{
	const char *dir = tdir("cifar_err");
	char p[600], want[96];
	int lab[3] = {1, 2, 3};
	al_dataset d;
	memset(&d, 0, sizeof d);

	/* partial record: 2 full records + 100 bytes */
	snprintf(p, sizeof p, "%s/partial.bin", dir);
	REQUIRE(write_cifar(p, 1, 2, lab, 100) == 0, "write");
	al_status st = al_cifar_read(p, 1, 10, &d);
	snprintf(want, sizeof want, "offset %d", 2 * 3073);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), p) && contains(al_errmsg(), want),
	      "status %d, message: %s", st, al_errmsg());
	CHECK(d.n == 0 && d.images == NULL, "d changed");

	/* out-of-range label in record 1 (CIFAR-10 and CIFAR-100) */
	int bad[3] = {1, 10, 3};
	snprintf(p, sizeof p, "%s/label.bin", dir);
	REQUIRE(write_cifar(p, 1, 3, bad, 0) == 0, "write");
	st = al_cifar_read(p, 1, 10, &d);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), p) && contains(al_errmsg(), "record 1") &&
		      contains(al_errmsg(), "offset 3073") && contains(al_errmsg(), "label 10"),
	      "status %d, message: %s", st, al_errmsg());
	int bad100[2] = {5, 100};
	snprintf(p, sizeof p, "%s/label100.bin", dir);
	REQUIRE(write_cifar(p, 2, 2, bad100, 0) == 0, "write");
	st = al_cifar_read(p, 2, 100, &d);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), "record 1") &&
		      contains(al_errmsg(), "offset 3075"),
	      "status %d, message: %s", st, al_errmsg());

	/* a failing append leaves the dataset as it was */
	snprintf(p, sizeof p, "%s/good.bin", dir);
	REQUIRE(write_cifar(p, 1, 3, lab, 0) == 0, "write");
	REQUIRE_OK(al_cifar_read(p, 1, 10, &d));
	snprintf(p, sizeof p, "%s/label.bin", dir);
	st = al_cifar_read(p, 1, 10, &d);
	CHECK(st == AL_ERANGE && d.n == 3 && d.labels[2] == 3, "append not atomic: n = %d", d.n);
	st = al_cifar_read(p, 1, 100, &d);
	CHECK(st == AL_EINVAL, "appending with another class count: status %d", st);
	al_dataset_free(&d);

	/* empty file, missing file, missing batch in a directory */
	snprintf(p, sizeof p, "%s/empty.bin", dir);
	REQUIRE(write_bytes(p, lab, 0, 0) == 0, "write");
	st = al_cifar_read(p, 1, 10, &d);
	CHECK(st == AL_EFORMAT && contains(al_errmsg(), p), "status %d, message: %s", st,
	      al_errmsg());
	const char *d10 = tdir("cifar_err10");
	for (int b = 1; b <= 5; b++) {
		if (b == 4)
			continue;
		snprintf(p, sizeof p, "%s/data_batch_%d.bin", d10, b);
		REQUIRE(write_cifar(p, 1, 3, lab, 0) == 0, "write");
	}
	char spec[700];
	snprintf(spec, sizeof spec, "cifar10:%s", d10);
	al_dataset tr, te;
	st = al_data_load(spec, &tr, &te);
	CHECK(st == AL_EIO && contains(al_errmsg(), "data_batch_4.bin"), "status %d, message: %s",
	      st, al_errmsg());
	CHECK(tr.images == NULL && tr.n == 0, "not cleared");
}

/* ---- specs ------------------------------------------------------------------ */
TEST(data_missing_dir)
{
	al_dataset tr, te;
	const char *specs[] = {"mnist:/nonexistent/actlab-data", "idx:/nonexistent/actlab-data",
			       "cifar10:/nonexistent/actlab-data", "cifar100:/nonexistent/actlab-data"};
	for (size_t k = 0; k < sizeof specs / sizeof *specs; k++) {
		al_status st = al_data_load(specs[k], &tr, &te);
		CHECK(st == AL_EIO && contains(al_errmsg(), "/nonexistent/actlab-data") &&
			      contains(al_errmsg(), "not found"),
		      "%s: status %d, message: %s", specs[k], st, al_errmsg());
	}
	/* fashion-mnist pointed elsewhere by the environment */
	const char *old = getenv("ACTLAB_FASHION_MNIST");
	char saved[4096] = "";
	if (old)
		snprintf(saved, sizeof saved, "%s", old);
	setenv("ACTLAB_FASHION_MNIST", "/nonexistent/fmnist", 1);
	al_status st = al_data_load("fashion-mnist", &tr, &te);
	CHECK(st == AL_EIO && contains(al_errmsg(), "/nonexistent/fmnist") &&
		      contains(al_errmsg(), "dataset-fashion-mnist") &&
		      contains(al_errmsg(), "install-deps.sh"),
	      "status %d, message: %s", st, al_errmsg());
	if (old)
		setenv("ACTLAB_FASHION_MNIST", saved, 1);
	else
		unsetenv("ACTLAB_FASHION_MNIST");
}

TEST(data_spec_errors)
{
	al_dataset tr, te;
	al_status st = al_data_load("imagenet", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "'imagenet'") &&
		      contains(al_errmsg(), "fashion-mnist") && contains(al_errmsg(), "mnist:DIR") &&
		      contains(al_errmsg(), "cifar100:DIR") && contains(al_errmsg(), "synthetic"),
	      "status %d, message: %s", st, al_errmsg());
	st = al_data_load("synthetic:bogus=1", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "'bogus'") && contains(al_errmsg(), "classes") &&
		      contains(al_errmsg(), "seed") && contains(al_errmsg(), "train"),
	      "status %d, message: %s", st, al_errmsg());
	st = al_data_load("fashion-mnist:n=5", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "'n'") && contains(al_errmsg(), "train, test"),
	      "status %d, message: %s", st, al_errmsg());
	st = al_data_load("mnist", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "missing directory"), "status %d, message: %s",
	      st, al_errmsg());
	st = al_data_load("cifar10:train=5", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "missing directory"), "status %d, message: %s",
	      st, al_errmsg());
	st = al_data_load("synthetic:c=9", &tr, &te);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), "c=9"), "status %d, message: %s", st,
	      al_errmsg());
	st = al_data_load("synthetic:n=abc", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "n=abc"), "status %d, message: %s", st,
	      al_errmsg());
	st = al_data_load("synthetic:n=5,n=6", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "twice"), "status %d, message: %s", st,
	      al_errmsg());
	st = al_data_load("synthetic:train=0", &tr, &te);
	CHECK(st == AL_ERANGE, "train=0: status %d, message: %s", st, al_errmsg());
	st = al_data_load("synthetic:seed=-1", &tr, &te);
	CHECK(st == AL_EINVAL, "seed=-1: status %d", st);
	st = al_data_load("synthetic:n", &tr, &te);
	CHECK(st == AL_EINVAL && contains(al_errmsg(), "key=value"), "status %d, message: %s", st,
	      al_errmsg());
	st = al_data_load(NULL, &tr, &te);
	CHECK(st == AL_EINVAL, "NULL spec: status %d", st);
	CHECK(tr.images == NULL && te.images == NULL, "not cleared");
}

TEST(data_synthetic_determinism)
{
	al_dataset a, at, b, bt;
	REQUIRE_OK(al_data_load("synthetic", &a, &at));
	CHECK(a.n == 512 && at.n == 128 && a.c == 1 && a.h == 8 && a.w == 8 && a.classes == 4,
	      "defaults %d %d %d %d %d %d", a.n, at.n, a.c, a.h, a.w, a.classes);
	CHECK(strcmp(a.name, "synthetic/train") == 0 && strcmp(at.name, "synthetic/test") == 0,
	      "names %s %s", a.name, at.name);
	al_dataset_free(&a);
	al_dataset_free(&at);

	const char *spec = "synthetic:n=100,test=20,c=3,h=5,w=7,classes=6,seed=42";
	REQUIRE_OK(al_data_load(spec, &a, &at));
	al_set_threads(1);
	al_status st = al_data_load(spec, &b, &bt);
	al_set_threads(2);
	REQUIRE(st == AL_OK, "%s", al_errmsg());
	CHECK(a.n == 100 && at.n == 20 && a.c == 3 && a.h == 5 && a.w == 7 && a.classes == 6,
	      "shape");
	CHECK(memcmp(a.images, b.images, 100 * 105) == 0 && memcmp(a.labels, b.labels, 400) == 0 &&
		      memcmp(at.images, bt.images, 20 * 105) == 0,
	      "same seed, different data (threads 2 vs 1)");
	int hist[6] = {0};
	for (int i = 0; i < a.n; i++)
		if (a.labels[i] >= 0 && a.labels[i] < 6)
			hist[a.labels[i]]++;
	for (int k = 0; k < 6; k++)
		CHECK(hist[k] > 0, "class %d never drawn", k);
	al_dataset_free(&b);
	al_dataset_free(&bt);

	/* another seed differs; a smaller n is a prefix; train= keeps a prefix */
	REQUIRE_OK(al_data_load("synthetic:n=100,test=20,c=3,h=5,w=7,classes=6,seed=43", &b, &bt));
	CHECK(memcmp(a.images, b.images, 100 * 105) != 0, "seed has no effect");
	al_dataset_free(&b);
	al_dataset_free(&bt);
	REQUIRE_OK(al_data_load("synthetic:n=30,test=20,c=3,h=5,w=7,classes=6,seed=42", &b, &bt));
	CHECK(b.n == 30 && memcmp(a.images, b.images, 30 * 105) == 0 &&
		      memcmp(a.labels, b.labels, 30 * 4) == 0,
	      "n=30 is not a prefix of n=100");
	al_dataset_free(&b);
	al_dataset_free(&bt);
	REQUIRE_OK(al_data_load("synthetic:n=100,train=10,test=5,c=3,h=5,w=7,classes=6,seed=42", &b,
				&bt));
	CHECK(b.n == 10 && bt.n == 5 && memcmp(a.images, b.images, 10 * 105) == 0 &&
		      memcmp(at.images, bt.images, 5 * 105) == 0,
	      "train=/test= limits");
	al_dataset_free(&b);
	al_dataset_free(&bt);
	st = al_data_load("synthetic:n=10,train=11", &b, &bt);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), "train=11"), "status %d, message: %s", st,
	      al_errmsg());
	al_dataset_free(&a);
	al_dataset_free(&at);
}

/* Nearest-class-mean classifier: the synthetic data must be learnable. */
TEST(data_synthetic_learnable)
{
	al_dataset tr, te;
	REQUIRE_OK(al_data_load("synthetic:seed=7", &tr, &te));
	const int chw = tr.c * tr.h * tr.w, k = tr.classes;
	double *mean = calloc((size_t)k * chw, sizeof *mean);
	int *cnt = calloc((size_t)k, sizeof *cnt);
	REQUIRE(mean && cnt, "calloc");
	for (int i = 0; i < tr.n; i++) {
		cnt[tr.labels[i]]++;
		for (int p = 0; p < chw; p++)
			mean[tr.labels[i] * chw + p] += tr.images[(size_t)i * chw + p];
	}
	for (int c = 0; c < k; c++)
		for (int p = 0; p < chw; p++)
			mean[c * chw + p] /= cnt[c] ? cnt[c] : 1;
	int correct = 0;
	for (int i = 0; i < te.n; i++) {
		int best = 0;
		double bd = 1e300;
		for (int c = 0; c < k; c++) {
			double dist = 0;
			for (int p = 0; p < chw; p++) {
				double e = te.images[(size_t)i * chw + p] - mean[c * chw + p];
				dist += e * e;
			}
			if (dist < bd) {
				bd = dist;
				best = c;
			}
		}
		correct += best == te.labels[i];
	}
	CHECK(correct >= te.n * 9 / 10, "nearest-mean accuracy %d / %d", correct, te.n);
	free(mean);
	free(cnt);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

/* ---- normalisation and splits ---------------------------------------------- */
TEST(data_norm_known)
{
	/* 2 samples, 2 channels, 1x2: channel 0 = {0, 255 | 0, 255},
	 * channel 1 = {51, 51 | 51, 51} (constant), so mean 0.5 / std 0.5 and
	 * mean 0.2 / std 1 (constant channels get std 1). */
	uint8_t img[8] = {0, 255, 51, 51, 0, 255, 51, 51};
	int32_t lab[2] = {0, 1};
	al_dataset d = {.n = 2, .c = 2, .h = 1, .w = 2, .classes = 2, .images = img, .labels = lab};
	al_norm nm;
	al_norm_compute(&d, &nm);
	CHECK(nm.c == 2, "c = %d", nm.c);
	CHECK_NEAR(nm.mean[0], 0.5, 1e-7);
	CHECK_NEAR(nm.std[0], 0.5, 1e-7);
	CHECK_NEAR(nm.mean[1], 0.2, 1e-7);
	CHECK_NEAR(nm.std[1], 1.0, 0);
	/* 1 channel {0, 51, 102, 255}: mean 0.4, std sqrt(mean of squares - 0.16) */
	uint8_t img2[4] = {0, 51, 102, 255};
	al_dataset d2 = {.n = 4, .c = 1, .h = 1, .w = 1, .classes = 2, .images = img2, .labels = lab};
	al_norm_compute(&d2, &nm);
	double ms = (0.0 + 0.04 + 0.16 + 1.0) / 4.0;
	CHECK_NEAR(nm.mean[0], 0.4, 1e-7);
	CHECK_NEAR(nm.std[0], sqrt(ms - 0.16), 1e-7);
	al_norm id = al_norm_none(3);
	CHECK(id.c == 3 && id.mean[2] == 0.0f && id.std[2] == 1.0f, "al_norm_none");
}

TEST(data_split_stratified)
{
	/* class sizes 10, 7, 3, 0 (class 3 empty), interleaved */
	enum { N = 20 };
	int32_t lab[N];
	int sizes[4] = {10, 7, 3, 0}, left[4] = {10, 7, 3, 0}, k = 0;
	for (int i = 0; k < N; i++)
		if (left[i % 4] > 0) {
			left[i % 4]--;
			lab[k++] = i % 4;
		}
	uint8_t img[N] = {0};
	al_dataset d = {.n = N, .c = 1, .h = 1, .w = 1, .classes = 4, .images = img, .labels = lab};
	int32_t *tr = NULL, *va = NULL, *tr2 = NULL, *va2 = NULL;
	int ntr = 0, nva = 0, ntr2 = 0, nva2 = 0;
	REQUIRE_OK(al_data_split(&d, 0.3, 11, &tr, &ntr, &va, &nva));
	/* round(0.3 * {10, 7, 3}) = {3, 2, 1} */
	CHECK(nva == 6 && ntr == 14, "ntr %d nva %d", ntr, nva);
	int seen[N] = {0}, vcount[4] = {0};
	for (int i = 0; i < ntr; i++) {
		CHECK(tr[i] >= 0 && tr[i] < N, "index %d", tr[i]);
		if (tr[i] >= 0 && tr[i] < N)
			seen[tr[i]]++;
		CHECK(i == 0 || tr[i] > tr[i - 1], "train indices not ascending");
	}
	for (int i = 0; i < nva; i++) {
		CHECK(va[i] >= 0 && va[i] < N, "index %d", va[i]);
		if (va[i] >= 0 && va[i] < N) {
			seen[va[i]]++;
			vcount[lab[va[i]]]++;
		}
	}
	for (int i = 0; i < N; i++)
		CHECK(seen[i] == 1, "sample %d appears %d times", i, seen[i]);
	CHECK(vcount[0] == 3 && vcount[1] == 2 && vcount[2] == 1 && vcount[3] == 0,
	      "per-class validation %d %d %d %d (sizes %d %d %d %d)", vcount[0], vcount[1],
	      vcount[2], vcount[3], sizes[0], sizes[1], sizes[2], sizes[3]);
	/* same seed: same split; other seeds: some differ */
	REQUIRE_OK(al_data_split(&d, 0.3, 11, &tr2, &ntr2, &va2, &nva2));
	CHECK(nva2 == nva && memcmp(va, va2, (size_t)nva * sizeof *va) == 0, "not deterministic");
	al_free(tr2);
	al_free(va2);
	int differs = 0;
	for (uint64_t s = 12; s < 20 && !differs; s++) {
		REQUIRE_OK(al_data_split(&d, 0.3, s, &tr2, &ntr2, &va2, &nva2));
		differs = memcmp(va, va2, (size_t)nva * sizeof *va) != 0;
		al_free(tr2);
		al_free(va2);
	}
	CHECK(differs, "the seed has no effect");
	al_free(tr);
	al_free(va);

	/* val_frac = 0: everything in train, no validation */
	REQUIRE_OK(al_data_split(&d, 0.0, 1, &tr, &ntr, &va, &nva));
	CHECK(ntr == N && nva == 0 && va == NULL, "val_frac 0: %d %d", ntr, nva);
	for (int i = 0; i < ntr; i++)
		CHECK(tr[i] == i, "order");
	al_free(tr);
	/* invalid fractions and labels */
	double bad[3] = {1.0, -0.1, NAN};
	for (int j = 0; j < 3; j++) {
		al_status st = al_data_split(&d, bad[j], 1, &tr, &ntr, &va, &nva);
		CHECK(st == AL_EINVAL && tr == NULL && va == NULL, "val_frac %g: status %d", bad[j],
		      st);
	}
	lab[5] = 4;
	al_status st = al_data_split(&d, 0.2, 1, &tr, &ntr, &va, &nva);
	CHECK(st == AL_ERANGE && contains(al_errmsg(), "sample 5"), "status %d, message: %s", st,
	      al_errmsg());
}

/* ---- batches ------------------------------------------------------------- */
TEST(data_batch_normalise)
{
	/* 3 samples, 2 channels, 2x2 */
	uint8_t img[3 * 8];
	for (int k = 0; k < 24; k++)
		img[k] = (uint8_t)(k * 11);
	int32_t lab[3] = {2, 0, 1};
	al_dataset d = {.n = 3, .c = 2, .h = 2, .w = 2, .classes = 3, .images = img, .labels = lab};
	al_norm nm = al_norm_none(2);
	nm.mean[0] = 0.25f;
	nm.std[0] = 0.5f;
	nm.mean[1] = 0.1f;
	nm.std[1] = 2.0f;
	int32_t idx[4] = {2, 0, 2, 1};
	float x[4 * 8];
	int32_t y[4];
	al_batch_assemble(&d, idx, 4, &nm, NULL, NULL, 0, x, y);
	for (int i = 0; i < 4; i++) {
		CHECK(y[i] == lab[idx[i]], "y[%d] = %d", i, y[i]);
		for (int c = 0; c < 2; c++)
			for (int p = 0; p < 4; p++) {
				double px = img[idx[i] * 8 + c * 4 + p];
				double want = (px / 255.0 - (double)nm.mean[c]) / (double)nm.std[c];
				CHECK_NEAR(x[i * 8 + c * 4 + p], want, 1e-6);
			}
	}
	/* NULL norm = x/255; NULL y allowed */
	al_batch_assemble(&d, idx, 4, NULL, NULL, NULL, 0, x, NULL);
	for (int k = 0; k < 8; k++)
		CHECK_NEAR(x[8 + k], img[k] / 255.0, 1e-7);
}

/* Reference augmentation of one channel: out(y,x) = P(y+dy, (flip ? w-1-x : x) + dx),
 * P = image with zero padding; values in pixel units. */
static void ref_aug(const uint8_t *img, int h, int w, int dy, int dx, int flip, float *out)
{
	for (int y = 0; y < h; y++)
		for (int x = 0; x < w; x++) {
			int ys = y + dy, xs = (flip ? w - 1 - x : x) + dx;
			out[y * w + x] = ys >= 0 && ys < h && xs >= 0 && xs < w ? img[ys * w + xs] : 0.0f;
		}
}

/* Whether normalised x (norm none: x = pixel/255) matches ref (pixel units). */
static int same_px(const float *ref, const float *x, int n)
{
	for (int k = 0; k < n; k++)
		if (fabs((double)x[k] * 255.0 - (double)ref[k]) > 1e-3)
			return 0;
	return 1;
}

TEST(data_batch_flip_crop)
{
	enum { H = 4, W = 5, B = 64 };
	uint8_t img[H * W];
	for (int k = 0; k < H * W; k++)
		img[k] = (uint8_t)(10 + 7 * k); /* distinct, non-zero */
	int32_t lab[1] = {0};
	al_dataset d = {.n = 1, .c = 1, .h = H, .w = W, .classes = 1, .images = img, .labels = lab};
	al_norm nm = al_norm_none(1);
	int32_t idx[B] = {0};
	float x[B * H * W], ref[H * W];
	al_rng rng;
	al_rng_seed(&rng, 5);

	/* flip only: each sample is the image or its mirror; both occur */
	al_augment fl = {.crop_pad = 0, .hflip = 1};
	al_batch_assemble(&d, idx, B, &nm, &fl, &rng, 100, x, NULL);
	int nflip = 0, nsame = 0;
	for (int i = 0; i < B; i++) {
		ref_aug(img, H, W, 0, 0, 0, ref);
		int same = same_px(ref, x + i * H * W, H * W);
		ref_aug(img, H, W, 0, 0, 1, ref);
		int mirrored = same_px(ref, x + i * H * W, H * W);
		CHECK(same || mirrored, "sample %d is neither the image nor its mirror", i);
		nsame += same;
		nflip += mirrored;
	}
	CHECK(nflip >= 16 && nsame >= 16, "flip count %d of %d", nflip, B);

	/* crop only (pad 1): each sample is one of the 9 shifts; all occur */
	al_augment cr = {.crop_pad = 1, .hflip = 0};
	int shifts[9] = {0};
	for (int rep = 0; rep < 4; rep++) {
		al_batch_assemble(&d, idx, B, &nm, &cr, &rng, 1000 + (uint64_t)rep * B, x, NULL);
		for (int i = 0; i < B; i++) {
			int found = 0;
			for (int s = 0; s < 9 && !found; s++) {
				ref_aug(img, H, W, s / 3 - 1, s % 3 - 1, 0, ref);
				if (same_px(ref, x + i * H * W, H * W)) {
					shifts[s]++;
					found = 1;
				}
			}
			CHECK(found, "sample %d is not a 1-pixel shift", i);
		}
	}
	for (int s = 0; s < 9; s++)
		CHECK(shifts[s] > 0, "shift (%d,%d) never drawn", s / 3 - 1, s % 3 - 1);
	/* the padding is 0 in pixel space: the (-1,-1) shift starts with a zero row */
	ref_aug(img, H, W, -1, -1, 0, ref);
	CHECK(ref[0] == 0.0f && ref[W + 1] == img[0], "reference");

	/* crop (pad 2) and flip together, normalised with a real mean/std */
	al_norm nm2 = al_norm_none(1);
	nm2.mean[0] = 0.3f;
	nm2.std[0] = 0.2f;
	al_augment both = {.crop_pad = 2, .hflip = 1};
	al_batch_assemble(&d, idx, B, &nm2, &both, &rng, 7, x, NULL);
	int any_changed = 0;
	for (int i = 0; i < B; i++) {
		int found = 0;
		for (int s = 0; s < 50 && !found; s++) {
			ref_aug(img, H, W, s % 5 - 2, s / 5 % 5 - 2, s / 25, ref);
			int ok = 1;
			for (int k = 0; k < H * W && ok; k++) {
				double want = ((double)ref[k] / 255.0 - 0.3) / 0.2;
				ok = fabs((double)x[i * H * W + k] - want) <= 1e-5;
			}
			found = ok;
			any_changed |= ok && s != 12;
		}
		CHECK(found, "sample %d matches no crop/flip", i);
	}
	CHECK(any_changed, "augmentation never changed the image");

	/* an augment struct with everything off is the identity */
	al_augment off = {0, 0};
	al_batch_assemble(&d, idx, 1, &nm, &off, &rng, 7, x, NULL);
	ref_aug(img, H, W, 0, 0, 0, ref);
	CHECK(same_px(ref, x, H * W), "aug off changed pixels");
}

TEST(data_batch_aug_threads)
{
	al_dataset tr, te;
	/* 64 x 3x32x32 is large enough for the parallel path */
	REQUIRE_OK(al_data_load("synthetic:n=200,test=8,c=3,h=32,w=32,classes=5,seed=3", &tr, &te));
	enum { B = 64, CHW = 3 * 32 * 32 };
	int32_t idx[B];
	for (int i = 0; i < B; i++)
		idx[i] = (i * 37) % tr.n;
	float *x1 = malloc(sizeof(float) * B * CHW), *x2 = malloc(sizeof(float) * B * CHW);
	int32_t y1[B], y2[B];
	REQUIRE(x1 && x2, "malloc");
	al_norm nm;
	al_norm_compute(&tr, &nm);
	al_augment aug = {.crop_pad = 2, .hflip = 1};
	al_rng rng;
	al_rng_seed(&rng, 99);
	al_set_threads(1);
	al_batch_assemble(&tr, idx, B, &nm, &aug, &rng, 5000, x1, y1);
	al_norm nm1;
	al_norm_compute(&tr, &nm1);
	al_set_threads(2);
	al_batch_assemble(&tr, idx, B, &nm, &aug, &rng, 5000, x2, y2);
	CHECK(memcmp(x1, x2, sizeof(float) * B * CHW) == 0 && memcmp(y1, y2, sizeof y1) == 0,
	      "1 and 2 threads differ");
	CHECK(memcmp(&nm, &nm1, sizeof nm) == 0, "al_norm_compute differs between thread counts");
	/* sample i of a batch with key K equals a one-sample batch with key K + i */
	al_batch_assemble(&tr, idx + 17, 1, &nm, &aug, &rng, 5000 + 17, x2, y2);
	CHECK(memcmp(x1 + 17 * CHW, x2, sizeof(float) * CHW) == 0 && y2[0] == y1[17],
	      "augmentation depends on batch composition");
	/* another key gives other crops */
	al_batch_assemble(&tr, idx, B, &nm, &aug, &rng, 6000, x2, y2);
	CHECK(memcmp(x1, x2, sizeof(float) * B * CHW) != 0, "key has no effect");
	free(x1);
	free(x2);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

/* ---- allocation failures ------------------------------------------------- */
TEST(data_alloc_failure)
{
	const char *dir = tdir("alloc_fail");
	REQUIRE(write_idx_dir(dir, 10, 4, 3, 3, 0x5) == 0, "write");
	char specs[3][700];
	snprintf(specs[0], sizeof specs[0], "synthetic:n=20,test=5");
	snprintf(specs[1], sizeof specs[1], "idx:%s,train=5", dir);
	const char *cdir = tdir("alloc_fail_c");
	char p[700];
	int lab[2] = {1, 2};
	snprintf(p, sizeof p, "%s/train.bin", cdir);
	REQUIRE(write_cifar(p, 2, 2, lab, 0) == 0, "write");
	snprintf(p, sizeof p, "%s/test.bin", cdir);
	REQUIRE(write_cifar(p, 2, 2, lab, 0) == 0, "write");
	snprintf(specs[2], sizeof specs[2], "cifar100:%s,test=1", cdir);
	for (int s = 0; s < 3; s++) {
		size_t before = al_alloc_current();
		int ok = 0;
		for (long k = 0; k < 40 && !ok; k++) {
			al_dataset tr, te;
			al_set_alloc_fail_after(k);
			al_status st = al_data_load(specs[s], &tr, &te);
			al_set_alloc_fail_after(-1);
			CHECK(st == AL_OK || st == AL_ENOMEM, "%s, fail after %ld: status %d (%s)",
			      specs[s], k, st, al_errmsg());
			if (st != AL_OK)
				CHECK(tr.images == NULL && te.images == NULL, "not cleared");
			ok = st == AL_OK;
			al_dataset_free(&tr);
			al_dataset_free(&te);
			CHECK(al_alloc_current() == before, "%s: leak after fail at %ld", specs[s], k);
		}
		CHECK(ok, "%s never succeeded", specs[s]);
	}
	/* split under allocation failure */
	al_dataset tr, te;
	REQUIRE_OK(al_data_load("synthetic:n=50,test=5", &tr, &te));
	size_t before = al_alloc_current();
	for (long k = 0; k < 8; k++) {
		int32_t *a, *b;
		int na, nb;
		al_set_alloc_fail_after(k);
		al_status st = al_data_split(&tr, 0.2, 1, &a, &na, &b, &nb);
		al_set_alloc_fail_after(-1);
		CHECK(st == AL_OK || st == AL_ENOMEM, "split status %d", st);
		if (st == AL_OK) {
			al_free(a);
			al_free(b);
		}
		CHECK(al_alloc_current() == before, "split leak at %ld", k);
	}
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

/* ---- the real Fashion-MNIST (Debian's dataset-fashion-mnist) -------------- */
TEST(data_fashion_mnist_real)
{
	const char *env = getenv("ACTLAB_FASHION_MNIST");
	const char *dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
	struct stat sb;
	if (stat(dir, &sb) != 0) {
		printf("  (skipped: %s not installed)\n", dir);
		return;
	}
	al_dataset tr, te;
	REQUIRE_OK(al_data_load("fashion-mnist", &tr, &te));
	CHECK(tr.n == 60000 && te.n == 10000, "n %d %d", tr.n, te.n);
	CHECK(tr.c == 1 && tr.h == 28 && tr.w == 28 && tr.classes == 10 && te.h == 28,
	      "shape %d %d %d %d", tr.c, tr.h, tr.w, tr.classes);
	CHECK(strcmp(tr.name, "fashion-mnist/train") == 0, "name %s", tr.name);
	int hist[10] = {0}, thist[10] = {0};
	for (int i = 0; i < tr.n; i++)
		hist[tr.labels[i]]++;
	for (int i = 0; i < te.n; i++)
		thist[te.labels[i]]++;
	for (int k = 0; k < 10; k++)
		CHECK(hist[k] == 6000 && thist[k] == 1000, "class %d: %d train, %d test", k, hist[k],
		      thist[k]);
	CHECK(tr.labels[0] == 9 && te.labels[0] == 9, "first labels %d %d (ankle boots)",
	      tr.labels[0], te.labels[0]);
	al_norm nm;
	al_norm_compute(&tr, &nm);
	CHECK_NEAR(nm.mean[0], 0.2860, 5e-4);
	CHECK_NEAR(nm.std[0], 0.3530, 5e-4);
	al_dataset_free(&tr);
	al_dataset_free(&te);

	REQUIRE_OK(al_data_load("fashion-mnist:train=1000,test=500", &tr, &te));
	CHECK(tr.n == 1000 && te.n == 500 && tr.labels[0] == 9, "limits %d %d", tr.n, te.n);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(data_kfold_stratified_disjoint_covering)
{
	/* 3 classes of sizes 23, 11, 6; k = 5 */
	enum { N = 40, K = 5 };
	int32_t lab[N];
	for (int i = 0; i < N; i++)
		lab[i] = i < 23 ? 0 : i < 34 ? 1 : 2;
	int test_of[N];
	for (int i = 0; i < N; i++)
		test_of[i] = -1;
	int sizes[K];
	for (int f = 0; f < K; f++) {
		int32_t *tr = NULL, *te = NULL;
		int ntr = 0, nte = 0;
		REQUIRE_OK(al_kfold_split(lab, N, 3, K, f, 9, &tr, &ntr, &te, &nte));
		CHECK(ntr + nte == N, "fold %d: %d + %d", f, ntr, nte);
		sizes[f] = nte;
		int cls[3] = {0};
		uint8_t in_tr[N] = {0};
		for (int i = 0; i < ntr; i++)
			in_tr[tr[i]] = 1;
		for (int i = 0; i < nte; i++) {
			CHECK(i == 0 || te[i] > te[i - 1], "test not ascending");
			CHECK(!in_tr[te[i]], "sample %d in train and test", te[i]);
			CHECK(test_of[te[i]] == -1, "sample %d in two test folds", te[i]);
			test_of[te[i]] = f;
			cls[lab[te[i]]]++;
		}
		/* stratified: each class contributes floor or ceil of size/K */
		CHECK(cls[0] >= 4 && cls[0] <= 5 && cls[1] >= 2 && cls[1] <= 3 && cls[2] >= 1 &&
			      cls[2] <= 2,
		      "fold %d class counts %d %d %d", f, cls[0], cls[1], cls[2]);
		al_free(tr);
		al_free(te);
	}
	for (int i = 0; i < N; i++)
		CHECK(test_of[i] >= 0, "sample %d in no test fold", i);
	for (int f = 0; f < K; f++)
		CHECK(sizes[f] == 8, "fold %d has %d test samples", f, sizes[f]);
	int32_t *tr = NULL, *te = NULL;
	int ntr, nte;
	CHECK(al_kfold_split(lab, N, 3, 1, 0, 1, &tr, &ntr, &te, &nte) == AL_EINVAL, "k = 1");
	CHECK(al_kfold_split(lab, N, 3, 5, 5, 1, &tr, &ntr, &te, &nte) == AL_EINVAL, "fold = k");
	lab[3] = 7;
	CHECK(al_kfold_split(lab, N, 3, 5, 0, 1, &tr, &ntr, &te, &nte) == AL_ERANGE, "bad label");
	CHECK(tr == NULL && te == NULL, "outputs set on error");
}
