/* batch.c — batch assembly: gathers samples by index, converts bytes to
 * normalised floats, x = (pixel/255 - mean[c]) / std[c], and applies the
 * optional augmentation (random crop after zero padding, horizontal flip).
 *
 * Runs every training step, so the inner loops are a multiply-add per pixel
 * with scale = 1/(255*std) and bias = -mean/std precomputed per channel.
 * Augmentation for sample i draws from al_rng_derive(rng, key + i): crop
 * offsets first (dy, then dx, each uniform in [-pad, pad]), then the flip
 * bit; so results do not depend on the thread count or on the rest of the
 * batch. Not for: choosing indices (the trainer shuffles), statistics
 * (stats.c). Tabular data (d->features) is copied as it is. Data with
 * random-crop sources (d->crop_src) take, when augmenting, a random h x w
 * window of the larger source (offsets drawn before the flip bit).
 */
#include <string.h>

#include "actlab/data.h"

#define NORM_MAXC 4
/* Below this many output floats (a 64 x 28x28 batch is 50176, ~15 us on one
 * core) waking a thread team costs about as much as it saves, and far more
 * when the cores are oversubscribed; such batches run on the calling thread. */
#define BATCH_PAR_MIN 65536

/* One row of w output pixels from src row s (x_src = x + dx, or mirrored
 * when flip); source pixels outside [0, w) read as padding (0 in pixel
 * space, i.e. bias after normalisation). */
static void row_aug(float *restrict out, const uint8_t *restrict s, int w, int dx, int flip,
		    float scale, float bias)
{
	int x0, x1; /* output columns whose source is inside the image */
	if (!flip) {
		x0 = dx < 0 ? -dx : 0;
		x1 = dx > 0 ? w - dx : w;
	} else {
		x0 = dx > 0 ? dx : 0;
		x1 = dx < 0 ? w + dx : w;
	}
	if (x1 < x0)
		x1 = x0;
	for (int x = 0; x < x0; x++)
		out[x] = bias;
	if (!flip) {
#pragma omp simd
		for (int x = x0; x < x1; x++)
			out[x] = (float)s[x + dx] * scale + bias;
	} else {
		for (int x = x0; x < x1; x++)
			out[x] = (float)s[w - 1 - x + dx] * scale + bias;
	}
	for (int x = x1; x < w; x++)
		out[x] = bias;
}

void al_batch_assemble(const al_dataset *d, const int32_t *idx, int n, const al_norm *norm,
		       const al_augment *aug, const al_rng *rng, uint64_t key, float *x,
		       int32_t *y)
{
	/* idx: (n) sample indices into d; x: (n, c, h, w) out; y: (n) out or NULL */
	const int c = d->c, h = d->h, w = d->w;
	const size_t hw = (size_t)h * w, chw = (size_t)c * hw;
	float scale[NORM_MAXC], bias[NORM_MAXC];
	for (int ch = 0; ch < NORM_MAXC; ch++) {
		/* Channels the norm does not cover are only scaled to [0,1]. */
		double m = 0.0, s = 1.0;
		if (norm && ch < norm->c && norm->std[ch] > 0.0f) {
			m = (double)norm->mean[ch];
			s = (double)norm->std[ch];
		}
		scale[ch] = (float)(1.0 / (255.0 * s));
		bias[ch] = (float)(-m / s);
	}
	const int pad = aug && rng && aug->crop_pad > 0 ? aug->crop_pad : 0;
	const int flip_on = aug && rng && aug->hflip;
	const uint8_t *images = d->images;
	const int32_t *labels = d->labels;
	if (d->features) {
		/* tabular: features are already standardised; no augmentation */
		for (int i = 0; i < n; i++) {
			memcpy(x + (size_t)i * chw, d->features + (size_t)idx[i] * chw,
			       chw * sizeof *x);
			if (y)
				y[i] = labels[idx[i]];
		}
		return;
	}

	const int rcrop = aug && rng && d->crop_src;
	const int R = d->crop_size;
	const uint8_t *crop_src = d->crop_src;

#pragma omp parallel for schedule(static) if ((size_t)n * chw >= BATCH_PAR_MIN)
	for (int i = 0; i < n; i++) {
		const uint8_t *src = images + (size_t)idx[i] * chw;
		float *dst = x + (size_t)i * chw;
		if (y)
			y[i] = labels[idx[i]];
		if (rcrop) {
			/* a random h x w window of the R x R source, maybe mirrored */
			al_rng r = al_rng_derive(rng, key + (uint64_t)i);
			const int oy = (int)al_rng_below(&r, (uint32_t)(R - h + 1));
			const int ox = (int)al_rng_below(&r, (uint32_t)(R - w + 1));
			const int mirror = flip_on ? (int)(al_rng_u64(&r) >> 63) : 0;
			const uint8_t *cs = crop_src + (size_t)idx[i] * c * R * R;
			for (int ch = 0; ch < c; ch++) {
				const float sc = ch < NORM_MAXC ? scale[ch] : 1.0f / 255.0f;
				const float bi = ch < NORM_MAXC ? bias[ch] : 0.0f;
				for (int yy = 0; yy < h; yy++) {
					const uint8_t *row =
						cs + ((size_t)ch * R + (size_t)(oy + yy)) * R + ox;
					float *out = dst + ((size_t)ch * h + yy) * w;
					if (!mirror) {
#pragma omp simd
						for (int xx = 0; xx < w; xx++)
							out[xx] = (float)row[xx] * sc + bi;
					} else {
						for (int xx = 0; xx < w; xx++)
							out[xx] = (float)row[w - 1 - xx] * sc + bi;
					}
				}
			}
			continue;
		}
		int dy = 0, dx = 0, flip = 0;
		if (pad || flip_on) {
			al_rng r = al_rng_derive(rng, key + (uint64_t)i);
			if (pad) {
				dy = (int)al_rng_below(&r, (uint32_t)(2 * pad + 1)) - pad;
				dx = (int)al_rng_below(&r, (uint32_t)(2 * pad + 1)) - pad;
			}
			if (flip_on)
				flip = (int)(al_rng_u64(&r) >> 63);
		}
		for (int ch = 0; ch < c; ch++) {
			const float sc = ch < NORM_MAXC ? scale[ch] : 1.0f / 255.0f;
			const float bi = ch < NORM_MAXC ? bias[ch] : 0.0f;
			const uint8_t *sp = src + (size_t)ch * hw;
			float *dp = dst + (size_t)ch * hw;
			if (!dy && !dx && !flip) {
#pragma omp simd
				for (size_t k = 0; k < hw; k++)
					dp[k] = (float)sp[k] * sc + bi;
				continue;
			}
			for (int yy = 0; yy < h; yy++) {
				float *out = dp + (size_t)yy * w;
				int ys = yy + dy;
				if (ys < 0 || ys >= h) {
					for (int xx = 0; xx < w; xx++)
						out[xx] = bi;
					continue;
				}
				row_aug(out, sp + (size_t)ys * w, w, dx, flip, sc, bi);
			}
		}
	}
}
