/* window.h — the window-based activations of seed 000 (SPEC.md section 1):
 * hyper-parameter lists, hooks and kernels that the catalog rows in
 * catalog.c point at. The kernels live in window.c.
 *
 * Every window entry has the hypers k, kh, kw, edges at positions 0..3 and
 * its own ones from position 4 (AL_WIN_X0): influence and learn for the
 * entries with an influence lambda (plus compat for excitator and
 * inhibitor_v2), tau and group for softmax_relu, ties for max_relu and max.
 *
 * Not for: element-wise entries (elem_defs.h) or the catalog table itself.
 */
#ifndef ACTLAB_ACT_WINDOW_H
#define ACTLAB_ACT_WINDOW_H

#include <stddef.h>

#include "actlab/act.h"

/* Positions of the hypers in s->hyper. */
enum {
	AL_WIN_K = 0,
	AL_WIN_KH = 1,
	AL_WIN_KW = 2,
	AL_WIN_EDGES = 3, /* 0 partial, 1 pad */
	AL_WIN_X0 = 4,
	AL_WIN_INFLUENCE = 4,
	AL_WIN_LEARN = 5,
	AL_WIN_COMPAT = 6, /* excitator, inhibitor_v2: 0 paper, 1 ref */
	AL_WIN_TAU = 4,
	AL_WIN_GROUP = 5, /* softmax_relu: 0 window, 1 column */
	AL_WIN_TIES = 4,  /* max_relu, max: 0 all, 1 first */
};

#define AL_WIN_HYPERS_COMMON                                                                   \
	{"k", 4, NULL, "square window side, a whole number >= 1; k_eff = min(k, H, W) "      \
		       "(dense inputs: min(k, F))"},                                           \
	{"kh", 0, NULL, "window height, a whole number (0: k); clamped to H"},                 \
	{"kw", 0, NULL, "window width, along the features for dense inputs, a whole number "  \
			"(0: k); clamped"},                                                    \
	{"edges", 0, "partial|pad",                                                            \
	 "partial: edge tiles hold only real elements; pad: zero-pad bottom/right to a "       \
	 "multiple of the window, compute, crop (the zeros enter the window statistics)"}

#define AL_WIN_HYPERS_LAMBDA                                                                   \
	{"influence", 0.1, NULL,                                                               \
	 "lambda in [0, 1]: used as given when learn=0, initial value when learn=1; "          \
	 "influence=learn is learn=1"},                                                         \
	{"learn", 0, "0|1",                                                                    \
	 "1: lambda is a trainable parameter 'lambda', one per group (per=layer|channel; "      \
	 "per=neuron and dense per=channel: one per element), kept in [0, 1]"}

/* Hyper checks (the rows' check hooks): window sizes whole numbers, k >= 1
 * (kh, kw: 0 = k, else >= 1), influence and tau in [0, 1], per=... only
 * with a trainable lambda. */
al_status al_win_check_lambda(const double *h, al_per per, int per_given);
al_status al_win_check_softmax(const double *h, al_per per, int per_given);
al_status al_win_check_max(const double *h, al_per per, int per_given);

/* Effective plane and window geometry for an input (n, c, hh, w): planes
 * of H x W (dense inputs: 1 x c), C planes per sample, window kh x kw after
 * the clamps of SPEC 1.1. */
void al_win_geometry(const double *h, int c, int hh, int w, int *H, int *W, int *C, int *kh,
		     int *kw);

/* Double-precision reference forward (window_ref.c) of a window entry on x
 * (n, c, hh, w) with per-element lambda lam (NULL: 0; entries without
 * lambda ignore it). For `actlab gradcheck`. */
al_status al_win_ref_forward(const al_act_spec *s, int n, int c, int hh, int w, const double *x,
			     const double *lam, double *y);

/* Hooks shared by the entries with an influence lambda. */
int al_win_lambda_nparams(const double *h);
void al_win_lambda_name(const double *h, int k, char *buf, size_t cap);
void al_win_lambda_init(const double *h, float *p, size_t groups, al_rng *r);
size_t al_win_lambda_scratch(const double *h, al_per per, int n, int c, int hh, int w);
void al_win_lambda_project(const double *h, float *p, size_t groups, int P);

#define AL_WIN_LAMBDA_HOOKS                                                                    \
	.t_nparams = al_win_lambda_nparams, .t_param_name = al_win_lambda_name,                \
	.t_init = al_win_lambda_init, .t_scratch = al_win_lambda_scratch,                      \
	.project = al_win_lambda_project, .check = al_win_check_lambda

#define AL_WIN_DECLARE(e)                                                                      \
	void al_win_##e##_fwd(const double *h, al_per per, const float *params, int n, int c,  \
			      int hh, int w, const float *x, float *y);                        \
	void al_win_##e##_bwd(const double *h, al_per per, const float *params, int n, int c,  \
			      int hh, int w, const float *x, const float *y, const float *dy,  \
			      float *dx, float *dparams, float *scratch);
AL_WIN_DECLARE(nelu)
AL_WIN_DECLARE(pnelu)
AL_WIN_DECLARE(excitator)
AL_WIN_DECLARE(excitator_v2)
AL_WIN_DECLARE(inhibitor)
AL_WIN_DECLARE(inhibitor_v2)
AL_WIN_DECLARE(softmax_relu)
AL_WIN_DECLARE(max_relu)
AL_WIN_DECLARE(max)

#define AL_WIN_KERNELS(e) .t_fwd = al_win_##e##_fwd, .t_bwd = al_win_##e##_bwd

#endif
