/* learned.h — the learned-shape activations (SPEC.md 2.1, 2.2, 4.1, 4.2 and
 * the rational and B-spline families): hyper-parameter lists, hooks and
 * kernels that the catalog rows in catalog.c point at.
 *
 *   adact    linear interpolation between fixed, evenly spaced hinges
 *   apl      max(0, x) + sum_s a_s max(0, -x + b_s)
 *   pau      Pade rational P(x) / (1 + |sum_k b_k x^k|)
 *   vaf      sum_j beta_j g(alpha_j x + gamma_j) + delta
 *   bspline  wb silu(x) + ws sum_i c_i B_i(x) (KAN-style)
 *   meta     a small MLP per unit (meta-neuron)
 *   lut      a piecewise-constant lookup table (a distillation target)
 *
 * Every entry is a scalar function of x with a parameter vector of
 * t_nparams(h) values per group; the kernels (learned*.c) work on whole
 * tensors, with the work batched per run of elements sharing parameters
 * (per=layer|channel) or per block of units (per=neuron): no per-element
 * calls through function pointers. The double reference (`ref`) is the
 * oracle of the gradient checks.
 *
 * Not for: element-wise entries (elem_defs.h), window entries (window.h).
 */
#ifndef ACTLAB_ACT_LEARNED_H
#define ACTLAB_ACT_LEARNED_H

#include <stddef.h>

#include "actlab/act.h"

/* Parameters per group of a learned entry are capped so that the kernels'
 * per-thread stack blocks stay small ([AL_LN_MAXP][AL_LN_NB] floats). */
#define AL_LN_MAXP 128
#define AL_LN_NB 64

#define AL_LN_DECLARE(e)                                                                       \
	int al_ln_##e##_nparams(const double *h);                                              \
	void al_ln_##e##_name(const double *h, int k, char *buf, size_t cap);                  \
	void al_ln_##e##_init(const double *h, float *p, size_t groups, al_rng *r);            \
	al_status al_ln_##e##_check(const double *h, al_per per, int per_given);              \
	double al_ln_##e##_ref(const double *h, const double *p, double x, double *dfdx,       \
			       double *dfdp);                                                  \
	int al_ln_##e##_kinks(const double *h, const double *p, double *out, int cap);         \
	void al_ln_##e##_fwd(const double *h, al_per per, const float *params, int n, int c,   \
			     int hh, int w, const float *x, float *y);                         \
	void al_ln_##e##_bwd(const double *h, al_per per, const float *params, int n, int c,   \
			     int hh, int w, const float *x, const float *y, const float *dy,   \
			     float *dx, float *dparams, float *scratch);
AL_LN_DECLARE(adact)
AL_LN_DECLARE(apl)
AL_LN_DECLARE(pau)
AL_LN_DECLARE(vaf)
AL_LN_DECLARE(bspline)
AL_LN_DECLARE(meta)
AL_LN_DECLARE(lut)

/* Scratch of a learned entry with P parameters per group: per-block
 * parameter partials for per=layer. */
size_t al_ln_scratch_p(int P, al_per per, int n, int c, int hh, int w);

#define AL_LN_HOOKS(e)                                                                         \
	.kind = AL_ACT_LEARNED, .t_nparams = al_ln_##e##_nparams,                              \
	.t_param_name = al_ln_##e##_name, .t_init = al_ln_##e##_init,                          \
	.check = al_ln_##e##_check, .t_scratch = al_ln_##e##_scratch, .ref = al_ln_##e##_ref, \
	.t_fwd = al_ln_##e##_fwd, .t_bwd = al_ln_##e##_bwd

#define AL_LN_SCRATCH_DECLARE(e)                                                               \
	size_t al_ln_##e##_scratch(const double *h, al_per per, int n, int c, int hh, int w);
AL_LN_SCRATCH_DECLARE(adact)
AL_LN_SCRATCH_DECLARE(apl)
AL_LN_SCRATCH_DECLARE(pau)
AL_LN_SCRATCH_DECLARE(vaf)
AL_LN_SCRATCH_DECLARE(bspline)
AL_LN_SCRATCH_DECLARE(meta)
AL_LN_SCRATCH_DECLARE(lut)

/* Kinks of a learned entry for the gradient checks (up to cap points). */
int al_ln_kinks(const al_act_spec *s, const double *p, double *out, int cap);

/* The gradient check of a learned entry (al_act_gradcheck dispatches
 * here): finite differences of the double reference for x and every
 * parameter, skipping kinks (declared, or detected by disagreeing one-sided
 * differences), and the float whole-tensor kernels in every granularity
 * against the reference. */
al_status al_ln_gradcheck(const al_act_spec *s, int random_params, uint64_t seed, int points,
			  al_gradcheck_result *out);
/* Parameters for checks: the entry's (possibly random) init for one group,
 * perturbed when random != 0. p: al_act_nparams(s) values. */
void al_ln_check_params(const al_act_spec *s, int random, al_rng *r, double *p);

/* Least-squares fit of a rational P(x)/(1 + |sum_k b_k x^k|) of degrees
 * (m, n) to samples (xs[i], fs[i]), i < npts: a linearised solve, then
 * damped Gauss-Newton steps on the true residual. coef: a_0..a_m,
 * b_1..b_n. Returns the RMS error of the fit (negative on failure). */
double al_ln_rational_fit(const double *xs, const double *fs, int npts, int m, int n,
			  double *coef);

/* The B-spline basis in double: B[i], dB[i] (d/dx) for i < G + k at x, on
 * the grid of the hypers h (lo, hi, G, k). */
void al_ln_bspline_basis(const double *h, double x, double *B, double *dB);
/* The B-spline grid update (the catalog's t_epoch_end of bspline). */
al_status al_ln_bspline_epoch_end(double *h, int epoch, const al_act_record *rec, float *params,
				  size_t groups, int *changed);

/* Hyper positions of the entries that other code reads. */
enum { AL_PAU_M = 0, AL_PAU_N = 1 };
enum { AL_BS_G = 0, AL_BS_K = 1, AL_BS_LO = 2, AL_BS_HI = 3, AL_BS_UPDATE = 5, AL_BS_TRIM = 6 };

#endif
