/* data.h — datasets held in memory: images as uint8 (converted to float per
 * batch; normalisation and augmentation happen during batch assembly) or
 * tabular features as standardised floats.
 *
 * Data specs: "fashion-mnist" (Debian's dataset-fashion-mnist package),
 * "mnist:DIR" / "idx:DIR" (IDX files, gzip'd or not), "cifar10:DIR",
 * "cifar100:DIR" (binary batches), "folder:DIR" (class-per-subfolder
 * JPEG/PNG images; Tiny ImageNet and Caltech-101 layouts recognised),
 * "csv:FILE" (tabular), "synthetic[:n=..,c=..,h=..,w=..,classes=..]"
 * (seeded random images, for tests). Options after the first item, comma
 * separated, e.g. "fashion-mnist:train=10000,test=2000" keep the first N
 * samples. Every defect in a file is an error naming the file and offset
 * (or line). docs/formats.md lists every kind and key.
 */
#ifndef ACTLAB_DATA_H
#define ACTLAB_DATA_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/core.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Exactly one of images and features is non-NULL (both NULL when n == 0). */
typedef struct {
	int n, c, h, w;   /* samples and per-sample shape (NCHW) */
	int classes;
	uint8_t *images;  /* n*c*h*w, NCHW, al_malloc'd (image data) */
	float *features;  /* n*c*h*w, al_malloc'd (tabular data: c = h = 1,
			   * w = features, standardised when loaded) */
	int32_t *labels;  /* n, in [0, classes) */
	char name[64];    /* e.g. "fashion-mnist/train" */
	/* A validation split the data set itself defines (Caltech-101's 15%):
	 * indices into this part, ascending; used when a run asks for none. */
	int32_t *val_idx;
	int nval;
	int skipped;      /* bad inputs skipped (al_data_opts.skip_bad) */
	/* Random-crop sources (folder rcrop=R): every sample also at R x R
	 * (n*c*R*R, al_malloc'd), of which images holds the centre h x w crop;
	 * augmented batches crop h x w at a random place of these instead. */
	uint8_t *crop_src;
	int crop_size;    /* R */
} al_dataset;

void al_dataset_free(al_dataset *d);

typedef struct {
	/* Skip images that cannot be read or decoded (with a warning) instead
	 * of failing; empty class folders and bad CSV rows remain errors. */
	int skip_bad;
	/* Receives each warning (one line, no newline); NULL drops them. */
	void (*warn)(void *user, const char *msg);
	void *user;
} al_data_opts;

al_data_opts al_data_opts_default(void);

/* Loads the train and test parts named by spec. */
al_status al_data_load(const char *spec, al_dataset *train, al_dataset *test);
/* The same with options (opts NULL: defaults). */
al_status al_data_load_with(const char *spec, const al_data_opts *opts, al_dataset *train,
			    al_dataset *test);

/* out = the samples idx[0..n) of d, in that order (deep copy; out->name
 * is d's name with suffix appended). */
al_status al_dataset_subset(const al_dataset *d, const int32_t *idx, int n, const char *suffix,
			    al_dataset *out);

/* Converts image data in place to c x h x w samples for a model that
 * needs that input: channels 1 -> c are replicated, 3 -> 1 become luma
 * (ITU-R BT.601), 4 -> 3 drop alpha; when the target is larger on both
 * sides by at most a quarter of the source the image is zero-padded,
 * centred (28 -> 32), otherwise resampled bilinearly (stb_image_resize).
 * what (cap bytes) receives a one-line description of what was done
 * ("" when nothing). Tabular data and other channel counts are errors. */
al_status al_dataset_adapt(al_dataset *d, int c, int h, int w, char *what, size_t cap);

/* Readers for single files (used by al_data_load and tests). */
al_status al_idx_read_images(const char *path, al_dataset *d);   /* sets n,c=1,h,w,images */
al_status al_idx_read_labels(const char *path, int32_t **labels, int *n);
/* CIFAR binary batches: label bytes per record: 1 (cifar10) or 2 (cifar100,
 * fine label second). Appends to d (d zeroed for the first file). */
al_status al_cifar_read(const char *path, int label_bytes, int classes, al_dataset *d);

/* Per-channel mean and std over a dataset (in [0,1] units). */
typedef struct {
	int c;
	float mean[4], std[4];
} al_norm;
void al_norm_compute(const al_dataset *d, al_norm *out);
/* Identity normalisation (x/255). */
al_norm al_norm_none(int c);

/* Stratified, seeded split of [0, d->n) into train and validation index
 * lists (val_frac in [0,1)). Arrays are al_malloc'd. */
al_status al_data_split(const al_dataset *d, double val_frac, uint64_t seed, int32_t **train_idx,
			int *ntrain, int32_t **val_idx, int *nval);

/* Seeded stratified k-fold split of n labelled samples: every class is
 * shuffled with its own stream and dealt round-robin over the k folds
 * (continuing where the previous class stopped, so fold sizes differ by at
 * most one). fold in [0, k) is the test part; the rest is train. Both lists
 * ascend; they are disjoint and together cover [0, n). al_malloc'd. */
al_status al_kfold_split(const int32_t *labels, int n, int classes, int k, int fold,
			 uint64_t seed, int32_t **train_idx, int *ntrain, int32_t **test_idx,
			 int *ntest);

typedef struct {
	int crop_pad; /* random crop after zero padding by this many pixels (0: off) */
	int hflip;    /* random horizontal flip with probability 1/2 */
} al_augment;

/* Assembles a batch: for i in [0,n) sample idx[i] is normalised into
 * x[i] (c*h*w floats) and its label into y[i]. Augmentation (when aug is
 * non-NULL) draws from al_rng_derive(rng, key + i), so the result does not
 * depend on threads or batch composition. Threaded over samples. With
 * augmentation and d->crop_src, sample i is a random h x w crop of its
 * crop_size square (offsets y then x, uniform; crop_pad is then ignored),
 * flipped when hflip draws so. */
void al_batch_assemble(const al_dataset *d, const int32_t *idx, int n, const al_norm *norm,
		       const al_augment *aug, const al_rng *rng, uint64_t key, float *x,
		       int32_t *y);

#ifdef __cplusplus
}
#endif
#endif
