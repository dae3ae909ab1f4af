/* learned_driver.h — the whole-tensor forward/backward of a learned entry,
 * stamped once per entry (include after defining LN_NAME and LN_CFG, with
 * static functions LN_NAME##_cfg, LN_NAME##_fwd_blk and LN_NAME##_bwd_blk
 * in scope).
 *
 * The block kernels see at most AL_LN_NB elements and their parameters
 * through (p, ps, ls): parameter k of element i is p[k*ps + i*ls]. The
 * driver calls them with (ps, ls) = (1, 0) on runs that share one group
 * (per=layer: blocks of the flat tensor; per=channel: (sample, channel)
 * planes) and with (AL_LN_NB, 1) on blocks of AL_LN_NB units whose
 * parameters it has transposed to a stack array (per=neuron, and
 * per=channel on dense inputs, where a channel is a unit). Both are
 * literal constants at the call sites, so each block kernel is compiled
 * twice: with broadcast parameters and with unit-contiguous ones.
 *
 * The backward block kernel writes each element's parameter gradient
 * contributions to gp[k*AL_LN_NB + i]; the driver reduces them: per block
 * of the flat tensor into scratch (summed in block order afterwards), per
 * channel over the samples in order, per unit over the samples in order.
 * Results do not depend on the thread count.
 *
 * Runs that share one parameter group (per=layer blocks, per=channel
 * planes) go through LN_NAME##_fwd_run and LN_NAME##_bwd_run. An entry may
 * define its own (#define LN_RUN before the include): they see the whole
 * run with its parameters hoisted, and the backward adds its parameter
 * gradients to st->acc (double, or lane sums in st->ga flushed by
 * ln_flush, whose order must depend only on the run), and are defined
 * after the include. The driver stamps LN_NAME##_fwd_runb and _bwd_runb
 * from the block kernels: the run kernels without LN_RUN, the entry's
 * fallback with it.
 *
 * An entry may take a whole block of units across the samples itself
 * (#define LN_UNITS before the include): static functions
 * LN_NAME##_fwd_units(cf, pt, m, n, F, x, y) and LN_NAME##_bwd_units(cf,
 * pt, m, n, F, x, y, dy, dx, ga) see the block's m units (parameters
 * transposed as above) in each of the n samples (x + s*F) and return 0 to
 * leave the block to the block kernels; the backward adds the parameter
 * gradients to ga[k*AL_LN_NB + i] (zero on entry) in sample order, as the
 * driver does, so the results are the same. With #define LN_UNITS_RAW,
 * LN_NAME##_fwd_units_raw(cf, p, m, n, F, x, y) is offered the block's
 * forward first, with the parameters as stored (unit u's at p[u*P + k]),
 * before the driver transposes them: for entries with many parameters per
 * unit, whose transposition would cost as much as the block's samples.
 *
 * Not for: the math of an entry (learned*.c).
 */
#define LN_CAT_(a, b) a##b
#define LN_CAT(a, b) LN_CAT_(a, b)
#define LN_F(suffix) LN_CAT(LN_NAME, suffix)
#define LN_PUB(suffix) LN_CAT(LN_CAT(al_ln_, LN_NAME), suffix)

#ifndef LN_DRIVER_COMMON
#define LN_DRIVER_COMMON
#include <stdint.h>
#define LN_BLOCK 16384 /* elements per block of the flat tensor (per=layer) */
static size_t ln_nblocks(size_t total) { return (total + LN_BLOCK - 1) / LN_BLOCK; }
static size_t ln_min(size_t a, size_t b) { return a < b ? a : b; }
#define LN_FLUSH 4096 /* elements per lane-sum flush of the shared-parameter backward */
/* acc[k] += sum over the AL_LN_NB lanes of ga[k] (in lane order); zeroes ga */
static void ln_flush(float *ga, double *acc, size_t P)
{
	for (size_t k = 0; k < P; k++) {
		float *a = ga + k * AL_LN_NB;
		double s = 0;
		for (size_t i = 0; i < AL_LN_NB; i++) {
			s += (double)a[i];
			a[i] = 0;
		}
		acc[k] += s;
	}
}
/* backward state of one unit of work (a block of the flat tensor, or a
 * channel): lane sums ga[k * AL_LN_NB + lane], their double totals acc[k],
 * elements since the last flush */
typedef struct {
	float *ga;
	double *acc;
	size_t pending;
} ln_state;
/* per=channel: channel u's state in scratch (al_ln_scratch_p), 8-byte
 * aligned: P doubles acc, one double pending, P * AL_LN_NB floats ga */
static size_t ln_chan_floats(size_t P) { return 2 * P + 2 + P * AL_LN_NB; }
static float *ln_chan_base(float *scratch)
{
	return (float *)(((uintptr_t)scratch + 7) & ~(uintptr_t)7);
}
#endif

/* y = f(x) on len elements sharing the parameters p[k] */
__attribute__((unused)) static void LN_F(_fwd_runb)(const LN_CFG *cf, const float *p, size_t len, const float *x, float *y)
{
	for (size_t i0 = 0; i0 < len; i0 += AL_LN_NB)
		LN_F(_fwd_blk)(cf, p, 1, 0, ln_min(AL_LN_NB, len - i0), x + i0, y + i0);
}

/* dx of len elements sharing the parameters p[k]; their gradients into st */
__attribute__((unused)) static void LN_F(_bwd_runb)(const LN_CFG *cf, const float *p, size_t len, const float *x,
			    const float *y, const float *dy, float *dx, ln_state *st)
{
	const size_t P = (size_t)cf->P;
	float gp[AL_LN_MAXP * AL_LN_NB];
	for (size_t i0 = 0; i0 < len; i0 += AL_LN_NB) {
		size_t m = ln_min(AL_LN_NB, len - i0);
		LN_F(_bwd_blk)(cf, p, 1, 0, m, x + i0, y + i0, dy + i0, dx + i0, gp);
		/* lane-wise (vertical) sums; reduced to double every LN_FLUSH
		 * elements: a fixed order for a shape */
		for (size_t k = 0; k < P; k++) {
			float *a = st->ga + k * AL_LN_NB;
			const float *g = gp + k * AL_LN_NB;
#pragma omp simd
			for (size_t i = 0; i < m; i++)
				a[i] += g[i];
		}
		st->pending += m;
		if (st->pending >= LN_FLUSH) {
			ln_flush(st->ga, st->acc, P);
			st->pending = 0;
		}
	}
}
#ifdef LN_RUN
static void LN_F(_fwd_run)(const LN_CFG *cf, const float *p, size_t len, const float *x, float *y);
static void LN_F(_bwd_run)(const LN_CFG *cf, const float *p, size_t len, const float *x,
			   const float *y, const float *dy, float *dx, ln_state *st);
#define LN_FWD_RUN LN_F(_fwd_run)
#define LN_BWD_RUN LN_F(_bwd_run)
#else
#define LN_FWD_RUN LN_F(_fwd_runb)
#define LN_BWD_RUN LN_F(_bwd_runb)
#endif

size_t LN_PUB(_scratch)(const double *h, al_per per, int n, int c, int hh, int w)
{
	LN_CFG cf;
	LN_F(_cfg)(h, &cf);
	return al_ln_scratch_p(cf.P, per, n, c, hh, w);
}

void LN_PUB(_fwd)(const double *h, al_per per, const float *params, int n, int c, int hh, int w,
		  const float *x, float *y)
{
	LN_CFG cf;
	LN_F(_cfg)(h, &cf);
	const size_t P = (size_t)cf.P;
	const size_t hw = (size_t)hh * (size_t)w, F = (size_t)c * hw, total = (size_t)n * F;
	if (per == AL_PER_CHANNEL && hw == 1)
		per = AL_PER_NEURON;
	if (per == AL_PER_LAYER) {
		size_t nb = ln_nblocks(total);
#pragma omp parallel for schedule(static)
		for (size_t b = 0; b < nb; b++) {
			size_t s0 = b * LN_BLOCK;
			LN_FWD_RUN(&cf, params, ln_min(total, s0 + LN_BLOCK) - s0, x + s0, y + s0);
		}
	} else if (per == AL_PER_CHANNEL) {
		size_t ns = (size_t)n * (size_t)c;
#pragma omp parallel for schedule(static)
		for (size_t sl = 0; sl < ns; sl++) {
			LN_FWD_RUN(&cf, params + (sl % (size_t)c) * P, hw, x + sl * hw,
				       y + sl * hw);
		}
	} else {
		size_t nfb = (F + AL_LN_NB - 1) / AL_LN_NB;
#pragma omp parallel for schedule(static)
		for (size_t fb = 0; fb < nfb; fb++) {
			float pt[AL_LN_MAXP * AL_LN_NB];
			size_t f0 = fb * AL_LN_NB, m = ln_min(AL_LN_NB, F - f0);
#ifdef LN_UNITS_RAW
			if (LN_F(_fwd_units_raw)(&cf, params + f0 * P, m, n, F, x + f0, y + f0))
				continue;
#endif
			for (size_t i = 0; i < AL_LN_NB; i++)
				for (size_t k = 0; k < P; k++)
					pt[k * AL_LN_NB + i] = params[(f0 + (i < m ? i : 0)) * P + k];
#ifdef LN_UNITS
			if (LN_F(_fwd_units)(&cf, pt, m, n, F, x + f0, y + f0))
				continue;
#endif
			for (int s = 0; s < n; s++)
				LN_F(_fwd_blk)(&cf, pt, AL_LN_NB, 1, m, x + (size_t)s * F + f0,
					       y + (size_t)s * F + f0);
		}
	}
}

void LN_PUB(_bwd)(const double *h, al_per per, const float *params, int n, int c, int hh, int w,
		  const float *x, const float *y, const float *dy, float *dx, float *dparams,
		  float *scratch)
{
	LN_CFG cf;
	LN_F(_cfg)(h, &cf);
	const size_t P = (size_t)cf.P;
	const size_t hw = (size_t)hh * (size_t)w, F = (size_t)c * hw, total = (size_t)n * F;
	if (per == AL_PER_CHANNEL && hw == 1)
		per = AL_PER_NEURON;
	if (per == AL_PER_LAYER) {
		/* units of work: blocks of the flat tensor */
		size_t nu = ln_nblocks(total);
#pragma omp parallel for schedule(static)
		for (size_t u = 0; u < nu; u++) {
			float ga[AL_LN_MAXP * AL_LN_NB];
			double acc[AL_LN_MAXP];
			ln_state st = {ga, acc, 0};
			for (size_t k = 0; k < P; k++)
				acc[k] = 0;
			memset(ga, 0, P * AL_LN_NB * sizeof *ga);
			size_t s0 = u * LN_BLOCK, e = ln_min(total, s0 + LN_BLOCK);
			LN_BWD_RUN(&cf, params, e - s0, x + s0, y + s0, dy + s0, dx + s0, &st);
			ln_flush(ga, acc, P);
			for (size_t k = 0; k < P; k++)
				scratch[u * P + k] = (float)acc[k];
		}
		for (size_t k = 0; k < P; k++) {
			double sum = 0;
			for (size_t b = 0; b < nu; b++)
				sum += (double)scratch[b * P + k];
			dparams[k] += (float)sum;
		}
	} else if (per == AL_PER_CHANNEL) {
		/* Groups of adjacent channels walked sample by sample (memory
		 * order: contiguous stretches of about LN_BLOCK elements), one
		 * state per channel in scratch. Each channel's planes are summed
		 * in sample order whatever the grouping, so the results do not
		 * depend on the thread count. */
		const size_t sw = ln_chan_floats(P);
		float *base = ln_chan_base(scratch);
		size_t gs = ln_min(LN_BLOCK / hw > 0 ? LN_BLOCK / hw : 1, ((size_t)c + 1) / 2);
		gs = gs > 0 ? gs : 1;
		size_t ng = ((size_t)c + gs - 1) / gs;
#pragma omp parallel for schedule(static)
		for (size_t gi = 0; gi < ng; gi++) {
			size_t u0 = gi * gs, u1 = ln_min((size_t)c, u0 + gs);
			for (size_t u = u0; u < u1; u++) {
				float *b = base + u * sw;
				memset(b, 0, sw * sizeof *b);
			}
			for (size_t r = 0; r < (size_t)n; r++)
				for (size_t u = u0; u < u1; u++) {
					float *b = base + u * sw;
					double *pend = (double *)b + P;
					ln_state st = {b + 2 * P + 2, (double *)b, (size_t)*pend};
					size_t s0 = (r * (size_t)c + u) * hw;
					LN_BWD_RUN(&cf, params + u * P, hw, x + s0, y + s0, dy + s0,
						   dx + s0, &st);
					*pend = (double)st.pending;
				}
			for (size_t u = u0; u < u1; u++) {
				float *b = base + u * sw;
				double *acc = (double *)b;
				ln_flush(b + 2 * P + 2, acc, P);
				for (size_t k = 0; k < P; k++)
					dparams[u * P + k] += (float)acc[k];
			}
		}
	} else {
		size_t nfb = (F + AL_LN_NB - 1) / AL_LN_NB;
#pragma omp parallel for schedule(static)
		for (size_t fb = 0; fb < nfb; fb++) {
			float pt[AL_LN_MAXP * AL_LN_NB], gp[AL_LN_MAXP * AL_LN_NB],
				ga[AL_LN_MAXP * AL_LN_NB];
			size_t f0 = fb * AL_LN_NB, m = ln_min(AL_LN_NB, F - f0);
			for (size_t i = 0; i < AL_LN_NB; i++)
				for (size_t k = 0; k < P; k++) {
					pt[k * AL_LN_NB + i] = params[(f0 + (i < m ? i : 0)) * P + k];
					ga[k * AL_LN_NB + i] = 0;
				}
#ifdef LN_UNITS
			if (!LN_F(_bwd_units)(&cf, pt, m, n, F, x + f0, y + f0, dy + f0, dx + f0, ga))
#endif
			for (int s = 0; s < n; s++) {
				size_t o = (size_t)s * F + f0;
				LN_F(_bwd_blk)(&cf, pt, AL_LN_NB, 1, m, x + o, y + o, dy + o, dx + o,
					       gp);
				for (size_t k = 0; k < P; k++) {
					float *a = ga + k * AL_LN_NB;
					const float *g = gp + k * AL_LN_NB;
#pragma omp simd
					for (size_t i = 0; i < m; i++)
						a[i] += g[i];
				}
			}
			for (size_t i = 0; i < m; i++)
				for (size_t k = 0; k < P; k++)
					dparams[(f0 + i) * P + k] += ga[k * AL_LN_NB + i];
		}
	}
}

#undef LN_NAME
#undef LN_CFG
#undef LN_RUN
#undef LN_FWD_RUN
#undef LN_BWD_RUN
#undef LN_UNITS
#undef LN_UNITS_RAW
