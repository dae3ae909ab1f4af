/* internal.h — loaders behind al_data_load that live in their own files
 * (csv.c, folder.c) and helpers they share. Not part of the public API. */
#ifndef ACTLAB_DATA_INTERNAL_H
#define ACTLAB_DATA_INTERNAL_H

#include "actlab/data.h"

typedef struct {
	const char *label; /* label column name (NULL: the last column) */
	int header;        /* 1 yes, 0 no, -1 detect */
	double holdout;    /* stratified test fraction in [0, 1) */
	uint64_t seed;     /* of the holdout split */
} data_csv_params;

al_status data_csv_load(const char *path, const data_csv_params *p, al_dataset *train,
			al_dataset *test);

typedef struct {
	int size;       /* output S x S (0: the images' own size, which must agree) */
	int crop;       /* centre crop C x C before resizing (0: none) */
	int c;          /* channels: 1 (grey) or 3 (RGB) */
	double holdout; /* test fraction for a single class tree (< 0: default) */
	uint64_t seed;  /* of the splits */
	int cache;      /* use the on-disk cache of decoded images */
	int rcrop;      /* R > size: train samples keep an R x R source for
			 * random crops (0: none) */
} data_folder_params;

al_status data_folder_load(const char *dir, const data_folder_params *p, const al_data_opts *o,
			   al_dataset *train, al_dataset *test);

/* Seeded stratified split into parts: each class is shuffled with its own
 * stream (al_rng_derive(seed, class)); its first round(ftest*count) samples
 * get part 2 (test), the next round(fval*count) part 1 (validation), the
 * rest part 0 (train). part: (n) out. */
al_status data_split_parts(const int32_t *labels, int n, int classes, double ftest, double fval,
			   uint64_t seed, uint8_t *part);

/* Builds train/test (and the train part's own validation indices when val
 * is non-zero) from one data set d and part codes; frees d. */
al_status data_apply_parts(al_dataset *d, const uint8_t *part, al_dataset *train,
			   al_dataset *test);

#endif
