/* data.h — datasets held as uint8 images in memory, converted to float per
 * batch (normalisation and augmentation happen during batch assembly).
 *
 * Data specs: "fashion-mnist" (Debian's dataset-fashion-mnist package),
 * "mnist:DIR" / "idx:DIR" (IDX files, gzip'd or not), "cifar10:DIR",
 * "cifar100:DIR" (binary batches), "synthetic[:n=..,c=..,h=..,w=..,classes=..]"
 * (seeded random images, for tests). Options after the colon, comma
 * separated, e.g. "fashion-mnist:train=10000,test=2000" keep the first N
 * samples. Every defect in a file is an error naming the file and offset.
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

typedef struct {
	int n, c, h, w;   /* samples and per-sample shape (NCHW) */
	int classes;
	uint8_t *images;  /* n*c*h*w, NCHW, al_malloc'd */
	int32_t *labels;  /* n, in [0, classes) */
	char name[64];    /* e.g. "fashion-mnist/train" */
} al_dataset;

void al_dataset_free(al_dataset *d);

/* Loads the train and test parts named by spec. */
al_status al_data_load(const char *spec, al_dataset *train, al_dataset *test);

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
 * depend on threads or batch composition. Threaded over samples. */
void al_batch_assemble(const al_dataset *d, const int32_t *idx, int n, const al_norm *norm,
		       const al_augment *aug, const al_rng *rng, uint64_t key, float *x,
		       int32_t *y);

#ifdef __cplusplus
}
#endif
#endif
