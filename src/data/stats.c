/* stats.c — dataset statistics and splits: per-channel normalisation
 * (al_norm_compute, al_norm_none) and the stratified, seeded train /
 * validation split (al_data_split).
 *
 * Channel sums are accumulated exactly in 64-bit integers (pixels are
 * bytes), so the result is the same for any thread count; mean and std are
 * then formed in double. Not for: applying the normalisation (batch.c).
 */
#include <math.h>
#include <string.h>

#include "actlab/data.h"
#include "data/internal.h"

#define NORM_MAXC 4 /* al_norm holds up to 4 channels */

al_norm al_norm_none(int c)
{
	al_norm n;
	memset(&n, 0, sizeof n);
	n.c = c < 0 ? 0 : c > NORM_MAXC ? NORM_MAXC : c;
	for (int i = 0; i < NORM_MAXC; i++) {
		n.mean[i] = 0.0f;
		n.std[i] = 1.0f;
	}
	return n;
}

/* Population mean and std of each channel in [0,1] units. A constant
 * channel (std < 1e-6) gets std 1 so that normalising never divides by 0.
 * Channels beyond the 4 that al_norm holds are left at mean 0, std 1. */
void al_norm_compute(const al_dataset *d, al_norm *out)
{
	*out = al_norm_none(d->c);
	const int c = out->c;
	/* tabular features are standardised when loaded */
	if (d->n <= 0 || c <= 0 || !d->images)
		return;
	const size_t hw = (size_t)d->h * d->w, chw = (size_t)d->c * hw;
	const uint8_t *images = d->images;
	uint64_t s1[NORM_MAXC] = {0}, s2[NORM_MAXC] = {0};
#pragma omp parallel for schedule(static) reduction(+ : s1[:NORM_MAXC], s2[:NORM_MAXC])
	for (int i = 0; i < d->n; i++) {
		for (int ch = 0; ch < c; ch++) {
			const uint8_t *p = images + (size_t)i * chw + (size_t)ch * hw;
			uint64_t a = 0, b = 0;
			for (size_t k = 0; k < hw; k++) {
				a += p[k];
				b += (uint64_t)p[k] * p[k];
			}
			s1[ch] += a;
			s2[ch] += b;
		}
	}
	const double count = (double)d->n * (double)hw;
	for (int ch = 0; ch < c; ch++) {
		double mean = (double)s1[ch] / count;          /* pixel units */
		double var = (double)s2[ch] / count - mean * mean;
		double sd = var > 0.0 ? sqrt(var) / 255.0 : 0.0;
		out->mean[ch] = (float)(mean / 255.0);
		out->std[ch] = sd < 1e-6 ? 1.0f : (float)sd;
	}
}

al_status al_data_split(const al_dataset *d, double val_frac, uint64_t seed, int32_t **train_idx,
			int *ntrain, int32_t **val_idx, int *nval)
{
	if (!d || !train_idx || !ntrain || !val_idx || !nval)
		return al_err(AL_EINVAL, "al_data_split: NULL argument");
	*train_idx = *val_idx = NULL;
	*ntrain = *nval = 0;
	if (!(val_frac >= 0.0 && val_frac < 1.0))
		return al_err(AL_EINVAL, "split of '%s': val_frac = %g, expected a value in [0, 1)",
			      d->name, val_frac);
	if (d->n <= 0 || d->classes <= 0 || !d->labels)
		return al_err(AL_EINVAL, "split of '%s': empty dataset (n = %d, classes = %d)",
			      d->name, d->n, d->classes);
	const int n = d->n, k = d->classes;
	for (int i = 0; i < n; i++)
		if (d->labels[i] < 0 || d->labels[i] >= k)
			return al_err(AL_ERANGE, "split of '%s': sample %d has label %d, outside [0, %d)",
				      d->name, i, (int)d->labels[i], k);

	/* Counting sort by class: members of class c are order[start[c]..start[c+1]). */
	int *start = al_calloc((size_t)k + 1, sizeof *start);
	int *fill = al_calloc((size_t)k, sizeof *fill);
	int32_t *order = al_malloc((size_t)n * sizeof *order);
	uint8_t *is_val = al_calloc((size_t)n, 1);
	al_status st = AL_OK;
	if (!start || !fill || !order || !is_val) {
		st = al_err(AL_ENOMEM, "split of '%s': out of memory", d->name);
		goto done;
	}
	for (int i = 0; i < n; i++)
		start[d->labels[i] + 1]++;
	for (int c = 0; c < k; c++)
		start[c + 1] += start[c];
	for (int i = 0; i < n; i++) {
		int c = d->labels[i];
		order[start[c] + fill[c]++] = i;
	}
	/* Each class: shuffle its members with its own stream, the first
	 * round(val_frac * count) go to validation. */
	al_rng base;
	al_rng_seed(&base, seed);
	int nv = 0;
	for (int c = 0; c < k; c++) {
		int cnt = start[c + 1] - start[c];
		int take = (int)floor(val_frac * cnt + 0.5);
		if (take == 0)
			continue;
		al_rng r = al_rng_derive(&base, (uint64_t)c);
		al_rng_shuffle(&r, order + start[c], (size_t)cnt);
		for (int j = 0; j < take; j++)
			is_val[order[start[c] + j]] = 1;
		nv += take;
	}
	if (nv == n) {
		st = al_err(AL_EINVAL, "split of '%s': val_frac = %g leaves no training samples (n = %d)",
			    d->name, val_frac, n);
		goto done;
	}
	int32_t *tr = al_malloc((size_t)(n - nv) * sizeof *tr);
	int32_t *va = nv ? al_malloc((size_t)nv * sizeof *va) : NULL;
	if (!tr || (nv && !va)) {
		al_free(tr);
		al_free(va);
		st = al_err(AL_ENOMEM, "split of '%s': out of memory", d->name);
		goto done;
	}
	/* Both lists in ascending sample order. */
	int a = 0, b = 0;
	for (int i = 0; i < n; i++) {
		if (is_val[i])
			va[b++] = i;
		else
			tr[a++] = i;
	}
	*train_idx = tr;
	*ntrain = a;
	*val_idx = va;
	*nval = b;
done:
	al_free(start);
	al_free(fill);
	al_free(order);
	al_free(is_val);
	return st;
}

al_status al_kfold_split(const int32_t *labels, int n, int classes, int k, int fold,
			 uint64_t seed, int32_t **train_idx, int *ntrain, int32_t **test_idx,
			 int *ntest)
{
	if (!labels || !train_idx || !ntrain || !test_idx || !ntest)
		return al_err(AL_EINVAL, "k-fold split: NULL argument");
	*train_idx = *test_idx = NULL;
	*ntrain = *ntest = 0;
	if (k < 2 || fold < 0 || fold >= k)
		return al_err(AL_EINVAL, "k-fold split: fold %d of k = %d; need k >= 2 and 0 <= fold < k",
			      fold, k);
	if (n < k || classes <= 0)
		return al_err(AL_EINVAL, "k-fold split: %d samples, %d classes cannot make %d folds", n,
			      classes, k);
	for (int i = 0; i < n; i++)
		if (labels[i] < 0 || labels[i] >= classes)
			return al_err(AL_ERANGE, "k-fold split: sample %d has label %d, outside [0, %d)", i,
				      (int)labels[i], classes);
	int *start = al_calloc((size_t)classes + 1, sizeof *start);
	int *fill = al_calloc((size_t)classes, sizeof *fill);
	int32_t *order = al_malloc((size_t)n * sizeof *order);
	uint8_t *in_test = al_calloc((size_t)n, 1);
	int32_t *tr = al_malloc((size_t)n * sizeof *tr);
	int32_t *te = al_malloc((size_t)n * sizeof *te);
	al_status st = AL_OK;
	if (!start || !fill || !order || !in_test || !tr || !te) {
		st = al_err(AL_ENOMEM, "k-fold split: out of memory");
		goto done;
	}
	for (int i = 0; i < n; i++)
		start[labels[i] + 1]++;
	for (int c = 0; c < classes; c++)
		start[c + 1] += start[c];
	for (int i = 0; i < n; i++)
		order[start[labels[i]] + fill[labels[i]]++] = i;
	al_rng base;
	al_rng_seed(&base, seed);
	long dealt = 0; /* round-robin position carried across classes */
	for (int c = 0; c < classes; c++) {
		int cnt = start[c + 1] - start[c];
		al_rng r = al_rng_derive(&base, (uint64_t)c);
		al_rng_shuffle(&r, order + start[c], (size_t)cnt);
		for (int j = 0; j < cnt; j++, dealt++)
			if (dealt % k == fold)
				in_test[order[start[c] + j]] = 1;
	}
	int a = 0, b = 0;
	for (int i = 0; i < n; i++) {
		if (in_test[i])
			te[b++] = i;
		else
			tr[a++] = i;
	}
	*train_idx = tr;
	*ntrain = a;
	*test_idx = te;
	*ntest = b;
	tr = te = NULL;
done:
	al_free(start);
	al_free(fill);
	al_free(order);
	al_free(in_test);
	al_free(tr);
	al_free(te);
	return st;
}

al_status data_split_parts(const int32_t *labels, int n, int classes, double ftest, double fval,
			   uint64_t seed, uint8_t *part)
{
	if (!(ftest >= 0.0 && fval >= 0.0 && ftest + fval < 1.0))
		return al_err(AL_EINVAL, "split: test %g + validation %g must be in [0, 1)", ftest,
			      fval);
	int *start = al_calloc((size_t)classes + 1, sizeof *start);
	int *fill = al_calloc((size_t)classes, sizeof *fill);
	int32_t *order = al_malloc((size_t)(n ? n : 1) * sizeof *order);
	if (!start || !fill || !order) {
		al_free(start);
		al_free(fill);
		al_free(order);
		return al_err(AL_ENOMEM, "split: out of memory");
	}
	for (int i = 0; i < n; i++)
		start[labels[i] + 1]++;
	for (int c = 0; c < classes; c++)
		start[c + 1] += start[c];
	for (int i = 0; i < n; i++)
		order[start[labels[i]] + fill[labels[i]]++] = i;
	al_rng base;
	al_rng_seed(&base, seed);
	memset(part, 0, (size_t)n);
	for (int c = 0; c < classes; c++) {
		int cnt = start[c + 1] - start[c];
		int nt = (int)floor(ftest * cnt + 0.5), nv = (int)floor(fval * cnt + 0.5);
		if (nt + nv > cnt)
			nv = cnt - nt;
		al_rng r = al_rng_derive(&base, (uint64_t)c);
		al_rng_shuffle(&r, order + start[c], (size_t)cnt);
		for (int j = 0; j < nt + nv; j++)
			part[order[start[c] + j]] = j < nt ? 2 : 1;
	}
	al_free(start);
	al_free(fill);
	al_free(order);
	return AL_OK;
}

al_status data_apply_parts(al_dataset *d, const uint8_t *part, al_dataset *train,
			   al_dataset *test)
{
	int32_t *tr = al_malloc((size_t)(d->n ? d->n : 1) * sizeof *tr);
	int32_t *te = al_malloc((size_t)(d->n ? d->n : 1) * sizeof *te);
	int32_t *va = al_malloc((size_t)(d->n ? d->n : 1) * sizeof *va);
	al_status st = AL_OK;
	if (!tr || !te || !va) {
		st = al_err(AL_ENOMEM, "%s: out of memory splitting %d samples", d->name, d->n);
		goto done;
	}
	int ntr = 0, nte = 0, nva = 0;
	for (int i = 0; i < d->n; i++) {
		if (part[i] == 2) {
			te[nte++] = i;
		} else {
			if (part[i] == 1)
				va[nva++] = ntr;
			tr[ntr++] = i;
		}
	}
	st = al_dataset_subset(d, tr, ntr, "", train);
	if (st == AL_OK)
		st = al_dataset_subset(d, te, nte, "", test);
	if (st == AL_OK && nva) {
		train->val_idx = va;
		train->nval = nva;
		va = NULL;
	}
done:
	al_free(tr);
	al_free(te);
	al_free(va);
	al_dataset_free(d);
	return st;
}
