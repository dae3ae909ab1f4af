/* dataset.c — al_data_load: parses a data spec ("fashion-mnist:train=1000",
 * "cifar10:DIR", "synthetic:n=256,classes=3", ...) and loads its train and
 * test parts; also the synthetic generator and al_dataset_free.
 *
 * Spec grammar: NAME[:[DIR,]key=value,...]. mnist, idx, cifar10 and
 * cifar100 take a directory as the first item (so DIR may not contain a
 * comma); fashion-mnist reads /usr/share/datasets/fashion-mnist or
 * $ACTLAB_FASHION_MNIST. Every kind accepts train=N and test=N (keep the
 * first N samples); synthetic also takes n, c, h, w, classes and seed.
 * Unknown names and keys are errors listing the valid ones.
 * Not for: decoding files (idx.c, cifar.c), normalisation and splits
 * (stats.c), batches (batch.c).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actlab/data.h"
#include "data/internal.h"

#define FASHION_DIR "/usr/share/datasets/fashion-mnist"
#define FASHION_ENV "ACTLAB_FASHION_MNIST"
#define DATA_MAX_BYTES ((uint64_t)1 << 34)
#define PATH_CAP 4096

/* Synthetic data: class k's mean image is uniform in [SYN_LO, SYN_HI] per
 * pixel, each sample adds N(0, SYN_NOISE^2) noise; pixels clamp to [0,255]. */
#define SYN_LO 48.0
#define SYN_HI 208.0
#define SYN_NOISE 48.0

void al_dataset_free(al_dataset *d)
{
	if (!d)
		return;
	al_free(d->images);
	al_free(d->features);
	al_free(d->labels);
	al_free(d->val_idx);
	al_free(d->crop_src);
	memset(d, 0, sizeof *d);
}

al_data_opts al_data_opts_default(void)
{
	al_data_opts o;
	memset(&o, 0, sizeof o);
	return o;
}

al_status al_dataset_subset(const al_dataset *d, const int32_t *idx, int n, const char *suffix,
			    al_dataset *out)
{
	/* idx: (n) sample indices into d */
	memset(out, 0, sizeof *out);
	size_t per = (size_t)d->c * d->h * d->w;
	size_t esz = d->features ? sizeof(float) : 1;
	for (int i = 0; i < n; i++)
		if (idx[i] < 0 || idx[i] >= d->n)
			return al_err(AL_ERANGE, "subset of '%s': index %d outside [0, %d)", d->name,
				      (int)idx[i], d->n);
	void *px = al_malloc((size_t)(n ? n : 1) * per * esz);
	int32_t *lab = al_malloc((size_t)(n ? n : 1) * sizeof *lab);
	if (!px || !lab) {
		al_free(px);
		al_free(lab);
		return al_err(AL_ENOMEM, "subset of '%s': cannot allocate %d samples", d->name, n);
	}
	const uint8_t *src = d->features ? (const uint8_t *)d->features : d->images;
	for (int i = 0; i < n; i++) {
		memcpy((uint8_t *)px + (size_t)i * per * esz, src + (size_t)idx[i] * per * esz,
		       per * esz);
		lab[i] = d->labels[idx[i]];
	}
	uint8_t *cs = NULL;
	const size_t csz = (size_t)d->c * d->crop_size * d->crop_size;
	if (d->crop_src) {
		cs = al_malloc((size_t)(n ? n : 1) * csz);
		if (!cs) {
			al_free(px);
			al_free(lab);
			return al_err(AL_ENOMEM, "subset of '%s': cannot allocate %d crop sources",
				      d->name, n);
		}
		for (int i = 0; i < n; i++)
			memcpy(cs + (size_t)i * csz, d->crop_src + (size_t)idx[i] * csz, csz);
	}
	*out = *d;
	out->crop_src = cs;
	out->images = d->features ? NULL : px;
	out->features = d->features ? px : NULL;
	out->labels = lab;
	out->n = n;
	out->val_idx = NULL;
	out->nval = 0;
	snprintf(out->name, sizeof out->name, "%s%s", d->name, suffix ? suffix : "");
	return AL_OK;
}

/* ---- spec parsing ---------------------------------------------------- */
enum {
	KIND_FASHION, KIND_MNIST, KIND_IDX, KIND_CIFAR10, KIND_CIFAR100, KIND_FOLDER, KIND_CSV,
	KIND_SYNTH, NKINDS
};
enum {
	KEY_TRAIN, KEY_TEST, KEY_N, KEY_C, KEY_H, KEY_W, KEY_CLASSES, KEY_SEED, KEY_SIZE, KEY_CROP,
	KEY_HOLDOUT, KEY_LABEL, KEY_HEADER, KEY_CACHE, KEY_RCROP, NKEYS
};

#define KEYS_LIMITS (1u << KEY_TRAIN | 1u << KEY_TEST)
#define KEYS_SYNTH (KEYS_LIMITS | 1u << KEY_N | 1u << KEY_C | 1u << KEY_H | 1u << KEY_W | \
		    1u << KEY_CLASSES | 1u << KEY_SEED)
#define KEYS_FOLDER (KEYS_LIMITS | 1u << KEY_C | 1u << KEY_SIZE | 1u << KEY_CROP | \
		     1u << KEY_HOLDOUT | 1u << KEY_SEED | 1u << KEY_CACHE | 1u << KEY_RCROP)
#define KEYS_CSV (KEYS_LIMITS | 1u << KEY_HOLDOUT | 1u << KEY_SEED | 1u << KEY_LABEL | \
		  1u << KEY_HEADER)

static const struct {
	const char *name;
	int needs_dir; /* 1: a directory first, 2: a file first */
	unsigned keys; /* bit set over KEY_* */
	const char *usage;
} kinds[NKINDS] = {
	[KIND_FASHION] = {"fashion-mnist", 0, KEYS_LIMITS, "fashion-mnist[:train=N,test=N]"},
	[KIND_MNIST] = {"mnist", 1, KEYS_LIMITS, "mnist:DIR[,train=N,test=N]"},
	[KIND_IDX] = {"idx", 1, KEYS_LIMITS, "idx:DIR[,train=N,test=N]"},
	[KIND_CIFAR10] = {"cifar10", 1, KEYS_LIMITS, "cifar10:DIR[,train=N,test=N]"},
	[KIND_CIFAR100] = {"cifar100", 1, KEYS_LIMITS, "cifar100:DIR[,train=N,test=N]"},
	[KIND_FOLDER] = {"folder", 1, KEYS_FOLDER,
			 "folder:DIR[,size=S,rcrop=R,crop=C,c=1|3,holdout=F,seed=S,cache=0|1,"
			 "train=N,test=N]"},
	[KIND_CSV] = {"csv", 2, KEYS_CSV,
		      "csv:FILE[,label=NAME,header=0|1,holdout=F,seed=S,train=N,test=N]"},
	[KIND_SYNTH] = {"synthetic", 0, KEYS_SYNTH,
			"synthetic[:n=N,test=N,c=C,h=H,w=W,classes=K,seed=S,train=N]"},
};

enum { KT_INT, KT_U64, KT_FRAC, KT_STR };

/* Keys with their types and allowed ranges (integers and fractions). */
static const struct {
	const char *name;
	int type;
	long long lo, hi;
} keys[NKEYS] = {
	[KEY_TRAIN] = {"train", KT_INT, 1, INT_MAX},  [KEY_TEST] = {"test", KT_INT, 1, INT_MAX},
	[KEY_N] = {"n", KT_INT, 1, INT_MAX},          [KEY_C] = {"c", KT_INT, 1, 4},
	[KEY_H] = {"h", KT_INT, 1, 4096},             [KEY_W] = {"w", KT_INT, 1, 4096},
	[KEY_CLASSES] = {"classes", KT_INT, 1, 1000}, [KEY_SEED] = {"seed", KT_U64, 0, 0},
	[KEY_SIZE] = {"size", KT_INT, 1, 4096},       [KEY_CROP] = {"crop", KT_INT, 1, 65536},
	[KEY_HOLDOUT] = {"holdout", KT_FRAC, 0, 0},   [KEY_LABEL] = {"label", KT_STR, 0, 0},
	[KEY_HEADER] = {"header", KT_INT, 0, 1},      [KEY_CACHE] = {"cache", KT_INT, 0, 1},
	[KEY_RCROP] = {"rcrop", KT_INT, 1, 4096},
};

typedef struct {
	int kind;
	char dir[PATH_CAP];
	int has[NKEYS];
	long long val[NKEYS];
	uint64_t seed;
	double frac;
	char str[256];
} spec_opts;

static void list_kinds(char *buf, size_t cap)
{
	buf[0] = 0;
	for (int k = 0; k < NKINDS; k++) {
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%s%s", k ? ", " : "", kinds[k].name,
			 kinds[k].needs_dir == 1 ? ":DIR" : kinds[k].needs_dir == 2 ? ":FILE" : "");
	}
}

static void list_keys(unsigned set, char *buf, size_t cap)
{
	buf[0] = 0;
	for (int k = 0; k < NKEYS; k++) {
		if (!(set & 1u << k))
			continue;
		size_t len = strlen(buf);
		snprintf(buf + len, cap - len, "%s%s", len ? ", " : "", keys[k].name);
	}
}

static al_status parse_option(spec_opts *o, char *tok)
{
	const char *kname = kinds[o->kind].name;
	char valid[256];
	list_keys(kinds[o->kind].keys, valid, sizeof valid);
	char *eq = strchr(tok, '=');
	if (!eq)
		return al_err(AL_EINVAL, "%s: option '%s' is not key=value; valid keys: %s (usage: %s)",
			      kname, tok, valid, kinds[o->kind].usage);
	*eq = 0;
	const char *val = eq + 1;
	int k = 0;
	while (k < NKEYS && strcmp(tok, keys[k].name) != 0)
		k++;
	if (k == NKEYS || !(kinds[o->kind].keys & 1u << k))
		return al_err(AL_EINVAL, "%s: unknown option '%s'; valid keys: %s", kname, tok, valid);
	if (o->has[k])
		return al_err(AL_EINVAL, "%s: option '%s' given twice", kname, tok);
	o->has[k] = 1;
	char *end = NULL;
	errno = 0;
	switch (keys[k].type) {
	case KT_U64:
		if (*val == '-' || *val == 0)
			return al_err(AL_EINVAL, "%s: %s=%s is not a non-negative integer", kname, tok,
				      val);
		o->seed = strtoull(val, &end, 0);
		if (*end || errno)
			return al_err(AL_EINVAL, "%s: %s=%s is not a 64-bit unsigned integer", kname,
				      tok, val);
		return AL_OK;
	case KT_FRAC:
		o->frac = strtod(val, &end);
		if (*val == 0 || *end)
			return al_err(AL_EINVAL, "%s: %s=%s is not a number", kname, tok, val);
		if (!(o->frac >= 0.0 && o->frac < 1.0))
			return al_err(AL_ERANGE, "%s: %s=%s out of range [0, 1)", kname, tok, val);
		return AL_OK;
	case KT_STR:
		if (*val == 0 || strlen(val) >= sizeof o->str)
			return al_err(AL_EINVAL, "%s: %s= needs a value of 1 to %zu characters", kname,
				      tok, sizeof o->str - 1);
		memcpy(o->str, val, strlen(val) + 1);
		return AL_OK;
	default: break;
	}
	long long v = strtoll(val, &end, 10);
	if (*val == 0 || *end)
		return al_err(AL_EINVAL, "%s: %s=%s is not an integer", kname, tok, val);
	if (errno || v < keys[k].lo || v > keys[k].hi)
		return al_err(AL_ERANGE, "%s: %s=%s out of range [%lld, %lld]", kname, tok, val,
			      keys[k].lo, keys[k].hi);
	o->val[k] = v;
	return AL_OK;
}

static al_status parse_spec(const char *spec, spec_opts *o)
{
	memset(o, 0, sizeof *o);
	char valid[256];
	list_kinds(valid, sizeof valid);
	if (!spec)
		return al_err(AL_EINVAL, "data spec is NULL; valid: %s", valid);
	const char *colon = strchr(spec, ':');
	size_t nlen = colon ? (size_t)(colon - spec) : strlen(spec);
	o->kind = -1;
	for (int k = 0; k < NKINDS; k++)
		if (strlen(kinds[k].name) == nlen && strncmp(spec, kinds[k].name, nlen) == 0)
			o->kind = k;
	if (o->kind < 0)
		return al_err(AL_EINVAL, "unknown data spec '%.*s'; valid: %s", (int)nlen, spec,
			      valid);
	const char *kname = kinds[o->kind].name;

	char rest[PATH_CAP + 256];
	if (snprintf(rest, sizeof rest, "%s", colon ? colon + 1 : "") >= (int)sizeof rest)
		return al_err(AL_EINVAL, "%s: data spec too long", kname);
	char *p = rest;
	if (kinds[o->kind].needs_dir) {
		/* The path ends at the first comma; "DIR:key=v,..." is accepted too
		 * (the options start at the last colon that is followed by a key=). */
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		char *opt = NULL, *c2 = strrchr(p, ':');
		if (c2 && strchr(c2, '=')) {
			*c2 = 0;
			opt = c2 + 1;
			if (comma)
				*comma = ',';
		}
		const char *what = kinds[o->kind].needs_dir == 2 ? "file" : "directory";
		if (*p == 0 || strchr(p, '='))
			return al_err(AL_EINVAL, "%s: missing %s; usage: %s", kname, what,
				      kinds[o->kind].usage);
		if (strlen(p) >= sizeof o->dir)
			return al_err(AL_EINVAL, "%s: %s name too long", kname, what);
		memcpy(o->dir, p, strlen(p) + 1);
		p = opt ? opt : comma ? comma + 1 : p + strlen(p);
	}
	while (*p) {
		char *comma = strchr(p, ',');
		if (comma)
			*comma = 0;
		if (*p)
			AL_TRY(parse_option(o, p));
		p = comma ? comma + 1 : p + strlen(p);
	}
	return AL_OK;
}

/* ---- helpers ---------------------------------------------------------- */
static int is_dir(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISDIR(sb.st_mode);
}

static int is_file(const char *path)
{
	struct stat sb;
	return stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
}

static al_status join(char *out, const char *dir, const char *name, const char *suffix)
{
	if (snprintf(out, PATH_CAP, "%s/%s%s", dir, name, suffix) >= PATH_CAP)
		return al_err(AL_EINVAL, "path too long: %s/%s%s", dir, name, suffix);
	return AL_OK;
}

/* Finds DIR/NAME or DIR/NAME.gz (plain first). */
static al_status find_idx(char *out, const char *kname, const char *dir, const char *name)
{
	AL_TRY(join(out, dir, name, ""));
	if (is_file(out))
		return AL_OK;
	AL_TRY(join(out, dir, name, ".gz"));
	if (is_file(out))
		return AL_OK;
	return al_err(AL_EIO, "%s: %s: neither %s nor %s.gz found", kname, dir, name, name);
}

/* Keeps the first lim samples of d (lim < 0: keep all). */
static al_status keep_first(al_dataset *d, long long lim, const char *kname, const char *part)
{
	if (lim < 0 || lim == d->n)
		return AL_OK;
	if (lim > d->n)
		return al_err(AL_ERANGE, "%s: %s=%lld but the %s part has only %d samples", kname,
			      part, lim, part, d->n);
	int32_t *idx = al_malloc((size_t)lim * sizeof *idx);
	if (!idx)
		return al_err(AL_ENOMEM, "%s: cannot allocate %lld %s samples", kname, lim, part);
	for (long long i = 0; i < lim; i++)
		idx[i] = (int32_t)i;
	al_dataset sub;
	al_status st = al_dataset_subset(d, idx, (int)lim, "", &sub);
	al_free(idx);
	if (st != AL_OK)
		return st;
	/* a data set's own validation split keeps the indices below lim */
	int nv = 0;
	for (int i = 0; i < d->nval; i++)
		if (d->val_idx[i] < lim)
			d->val_idx[nv++] = d->val_idx[i];
	sub.val_idx = d->val_idx;
	sub.nval = nv;
	d->val_idx = NULL;
	al_dataset_free(d);
	*d = sub;
	return AL_OK;
}

/* ---- IDX (fashion-mnist, mnist, idx) ----------------------------------- */
static al_status load_idx_part(const char *kname, const char *dir, const char *imgname,
			       const char *labname, int classes, al_dataset *d)
{
	char ipath[PATH_CAP], lpath[PATH_CAP];
	AL_TRY(find_idx(ipath, kname, dir, imgname));
	AL_TRY(find_idx(lpath, kname, dir, labname));
	AL_TRY(al_idx_read_images(ipath, d));
	d->classes = classes;
	int n = 0;
	al_status st = al_idx_read_labels(lpath, &d->labels, &n);
	if (st != AL_OK)
		return st;
	if (n != d->n)
		return al_err(AL_EFORMAT, "%s: offset 4: %d labels, but %s has %d images", lpath, n,
			      ipath, d->n);
	for (int i = 0; i < n; i++)
		if (d->labels[i] >= classes)
			return al_err(AL_ERANGE, "%s: offset %d: label %d of sample %d out of range [0, %d)",
				      lpath, 8 + i, d->labels[i], i, classes);
	return AL_OK;
}

static al_status load_idx(const spec_opts *o, al_dataset *train, al_dataset *test)
{
	const char *kname = kinds[o->kind].name;
	const char *dir = o->dir;
	if (o->kind == KIND_FASHION) {
		const char *env = getenv(FASHION_ENV);
		dir = env && *env ? env : FASHION_DIR;
		if (!is_dir(dir))
			return al_err(AL_EIO,
				      "fashion-mnist: directory %s%s not found; install Debian's "
				      "dataset-fashion-mnist package (scripts/install-deps.sh does it: "
				      "sudo apt-get install dataset-fashion-mnist) or set %s to a "
				      "directory with the four IDX files",
				      dir, env && *env ? " (from $" FASHION_ENV ")" : "", FASHION_ENV);
	} else if (!is_dir(dir)) {
		return al_err(AL_EIO,
			      "%s: directory %s not found (expected train-images-idx3-ubyte[.gz], "
			      "train-labels-idx1-ubyte[.gz], t10k-images-idx3-ubyte[.gz], "
			      "t10k-labels-idx1-ubyte[.gz])",
			      kname, dir);
	}
	AL_TRY(load_idx_part(kname, dir, "train-images-idx3-ubyte", "train-labels-idx1-ubyte", 10,
			     train));
	AL_TRY(load_idx_part(kname, dir, "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", 10,
			     test));
	if (test->h != train->h || test->w != train->w)
		return al_err(AL_EFORMAT, "%s: %s: test images are %dx%d but train images are %dx%d",
			      kname, dir, test->h, test->w, train->h, train->w);
	return AL_OK;
}

/* ---- CIFAR ------------------------------------------------------------ */
static al_status load_cifar(const spec_opts *o, al_dataset *train, al_dataset *test)
{
	const int c100 = o->kind == KIND_CIFAR100;
	const char *kname = kinds[o->kind].name;
	const int lb = c100 ? 2 : 1, classes = c100 ? 100 : 10;
	char path[PATH_CAP];
	if (!is_dir(o->dir))
		return al_err(AL_EIO, "%s: directory %s not found (expected %s)", kname, o->dir,
			      c100 ? "train.bin and test.bin from cifar-100-binary.tar.gz"
				   : "data_batch_1.bin..data_batch_5.bin and test_batch.bin from "
				     "cifar-10-binary.tar.gz");
	if (c100) {
		AL_TRY(join(path, o->dir, "train.bin", ""));
		AL_TRY(al_cifar_read(path, lb, classes, train));
	} else {
		for (int b = 1; b <= 5; b++) {
			char name[32];
			snprintf(name, sizeof name, "data_batch_%d.bin", b);
			AL_TRY(join(path, o->dir, name, ""));
			AL_TRY(al_cifar_read(path, lb, classes, train));
		}
	}
	AL_TRY(join(path, o->dir, c100 ? "test.bin" : "test_batch.bin", ""));
	return al_cifar_read(path, lb, classes, test);
}

/* ---- synthetic -------------------------------------------------------- */
/* Sample i of a part draws from al_rng_derive(stream, i): its label, then its
 * pixels; so n=N gives a prefix of any larger n, whatever the threads. */
static al_status synth_part(al_dataset *d, const float *means, int n, int c, int h, int w,
			    int classes, const al_rng *stream)
{
	size_t chw = (size_t)c * h * w;
	d->images = al_malloc((size_t)n * chw);
	d->labels = al_malloc((size_t)n * sizeof *d->labels);
	if (!d->images || !d->labels)
		return al_err(AL_ENOMEM, "synthetic: cannot allocate %d samples of %dx%dx%d", n, c,
			      h, w);
	d->n = n;
	d->c = c;
	d->h = h;
	d->w = w;
	d->classes = classes;
	uint8_t *images = d->images;
	int32_t *labels = d->labels;
#pragma omp parallel for schedule(static)
	for (int i = 0; i < n; i++) {
		al_rng r = al_rng_derive(stream, (uint64_t)i);
		int k = (int)al_rng_below(&r, (uint32_t)classes);
		const float *m = means + (size_t)k * chw;
		uint8_t *px = images + (size_t)i * chw;
		labels[i] = k;
		for (size_t p = 0; p < chw; p++) {
			double v = (double)m[p] + SYN_NOISE * al_rng_normal(&r);
			v = v < 0.0 ? 0.0 : v > 255.0 ? 255.0 : v;
			px[p] = (uint8_t)(v + 0.5);
		}
	}
	return AL_OK;
}

static al_status load_synth(const spec_opts *o, al_dataset *train, al_dataset *test)
{
	int c = o->has[KEY_C] ? (int)o->val[KEY_C] : 1;
	int h = o->has[KEY_H] ? (int)o->val[KEY_H] : 8;
	int w = o->has[KEY_W] ? (int)o->val[KEY_W] : 8;
	int classes = o->has[KEY_CLASSES] ? (int)o->val[KEY_CLASSES] : 4;
	/* n is the train size; train=N alone sets it too (the first N of n). */
	int n = o->has[KEY_N] ? (int)o->val[KEY_N] : o->has[KEY_TRAIN] ? (int)o->val[KEY_TRAIN] : 512;
	int ntest = o->has[KEY_TEST] ? (int)o->val[KEY_TEST] : 128;
	uint64_t seed = o->has[KEY_SEED] ? o->seed : 1;
	size_t chw = (size_t)c * h * w;
	if ((uint64_t)n * chw > DATA_MAX_BYTES || (uint64_t)ntest * chw > DATA_MAX_BYTES)
		return al_err(AL_ERANGE, "synthetic: %d+%d samples of %dx%dx%d exceed 2^34 bytes", n,
			      ntest, c, h, w);

	al_rng base;
	al_rng_seed(&base, seed);
	float *means = al_malloc((size_t)classes * chw * sizeof *means);
	if (!means)
		return al_err(AL_ENOMEM, "synthetic: cannot allocate %d class means", classes);
	al_rng mr = al_rng_derive(&base, 0);
	for (size_t p = 0; p < (size_t)classes * chw; p++)
		means[p] = (float)(SYN_LO + (SYN_HI - SYN_LO) * (double)al_rng_uniform(&mr));
	al_rng s_train = al_rng_derive(&base, 1), s_test = al_rng_derive(&base, 2);
	al_status st = synth_part(train, means, n, c, h, w, classes, &s_train);
	if (st == AL_OK)
		st = synth_part(test, means, ntest, c, h, w, classes, &s_test);
	al_free(means);
	return st;
}

/* ---- entry point ------------------------------------------------------- */
al_status al_data_load(const char *spec, al_dataset *train, al_dataset *test)
{
	return al_data_load_with(spec, NULL, train, test);
}

al_status al_data_load_with(const char *spec, const al_data_opts *opts, al_dataset *train,
			    al_dataset *test)
{
	al_data_opts dopts = opts ? *opts : al_data_opts_default();
	if (!train || !test)
		return al_err(AL_EINVAL, "al_data_load: NULL dataset");
	memset(train, 0, sizeof *train);
	memset(test, 0, sizeof *test);
	spec_opts *o = al_malloc(sizeof *o);
	if (!o)
		return al_err(AL_ENOMEM, "al_data_load: out of memory");
	al_status st = parse_spec(spec, o);
	if (st == AL_OK) {
		switch (o->kind) {
		case KIND_CIFAR10:
		case KIND_CIFAR100: st = load_cifar(o, train, test); break;
		case KIND_SYNTH: st = load_synth(o, train, test); break;
		case KIND_CSV: {
			data_csv_params cp = {o->has[KEY_LABEL] ? o->str : NULL,
					      o->has[KEY_HEADER] ? (int)o->val[KEY_HEADER] : -1,
					      o->has[KEY_HOLDOUT] ? o->frac : 0.2,
					      o->has[KEY_SEED] ? o->seed : 1};
			st = data_csv_load(o->dir, &cp, train, test);
			break;
		}
		case KIND_FOLDER: {
			data_folder_params fp = {o->has[KEY_SIZE] ? (int)o->val[KEY_SIZE] : 0,
						 o->has[KEY_CROP] ? (int)o->val[KEY_CROP] : 0,
						 o->has[KEY_C] ? (int)o->val[KEY_C] : 3,
						 o->has[KEY_HOLDOUT] ? o->frac : -1.0,
						 o->has[KEY_SEED] ? o->seed : 1,
						 o->has[KEY_CACHE] ? (int)o->val[KEY_CACHE] : 1,
						 o->has[KEY_RCROP] ? (int)o->val[KEY_RCROP] : 0};
			st = data_folder_load(o->dir, &fp, &dopts, train, test);
			break;
		}
		default: st = load_idx(o, train, test); break;
		}
	}
	const char *kname = st == AL_OK ? kinds[o->kind].name : "";
	if (st == AL_OK)
		st = keep_first(train, o->has[KEY_TRAIN] ? o->val[KEY_TRAIN] : -1, kname, "train");
	if (st == AL_OK)
		st = keep_first(test, o->has[KEY_TEST] ? o->val[KEY_TEST] : -1, kname, "test");
	if (st == AL_OK) {
		snprintf(train->name, sizeof train->name, "%s/train", kname);
		snprintf(test->name, sizeof test->name, "%s/test", kname);
	}
	al_free(o);
	if (st != AL_OK) {
		al_dataset_free(train);
		al_dataset_free(test);
	}
	return st;
}
