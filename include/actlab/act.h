/* act.h — the activation catalog: one table of descriptors keyed by a
 * stable name, the spec-string parser, and the element-wise kernel contract.
 *
 * A spec string is NAME[:key=value[,key=value...]], e.g. "leaky_relu:slope=0.2"
 * or "prelu:per=channel". Keys are the entry's hyper-parameters plus the
 * common ones: per=layer|channel|neuron, init=..., compat=... (when the entry
 * has them). Unknown names and keys are errors that list the valid ones.
 *
 * Parameters of one activation instance are stored as a [G, P] row-major
 * block: G groups (1 for per=layer, C for per=channel, C*H*W for per=neuron)
 * of P parameters each, in the order the descriptor lists them.
 */
#ifndef ACTLAB_ACT_H
#define ACTLAB_ACT_H

#include <stddef.h>
#include <stdio.h>

#include "actlab/core.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define AL_ACT_MAXP 16 /* parameters per group, element-wise entries */
#define AL_ACT_MAXH 8  /* hyper-parameters per entry */

typedef enum { AL_ACT_ELEMENT, AL_ACT_WINDOW, AL_ACT_LEARNED } al_act_kind;
typedef enum { AL_PER_LAYER, AL_PER_CHANNEL, AL_PER_NEURON } al_per;

typedef struct {
	const char *name;
	double def;          /* default value; for choice hypers the index */
	const char *choices; /* "none|tanh" for word-valued hypers, else NULL */
	const char *doc;
} al_hyper_desc;

typedef struct {
	const char *name; /* SPEC.md's symbol in ASCII: a b c d, alpha, ... */
	double init;
	double lo, hi;    /* projection bounds after each optimizer step;
			     lo == hi == 0 (the zero default of a table row)
			     means unbounded */
	const char *doc;
} al_param_desc;

static inline int al_param_bounded(const al_param_desc *p)
{
	return !(p->lo == 0 && p->hi == 0) && (p->lo > -1e300 || p->hi < 1e300);
}

/* Arguments of an element-wise kernel call on one contiguous run. */
typedef struct {
	const double *h;              /* hyper values, descriptor order */
	const float *p[AL_ACT_MAXP];  /* parameter k of the run's first element */
	size_t pstride;               /* 0: shared by the run; P: one group per element */
	al_rng *rng;                  /* for stochastic entries (rrelu) in training */
	int train;
} al_act_args;

/* y[i] = f(x[i]) */
typedef void (*al_act_fwd_fn)(const al_act_args *a, size_t n, const float *x, float *y);
/* dx[i] = dy[i] f'(x[i]) (written); parameter gradients accumulated into
 * dp[k][0] (pstride 0: summed over the run) or dp[k][i*pstride]. y is the
 * forward output for the same x (kernels may use either). */
typedef void (*al_act_bwd_fn)(const al_act_args *a, size_t n, const float *x, const float *y,
			      const float *dy, float *dx, float *const *dp);
/* Double-precision scalar reference: returns f(x), sets *dfdx and
 * dfdp[0..P). Used by gradient checks and kernel tests. */
typedef double (*al_act_ref_fn)(const double *h, const double *p, double x, double *dfdx,
				double *dfdp);

/* Input record of an activation layer (its running range of the finite
 * training inputs and a histogram of them over that range). */
typedef struct al_act_record {
	double lo, hi, count;
	const double *bins;
	int nbins;
} al_act_record;

typedef struct al_act_desc {
	const char *name;
	const char *aliases;   /* space-separated other names, or NULL */
	al_act_kind kind;
	const char *family;    /* "relu", "sigmoid", "adaptive", "window", ... */
	const char *formula;   /* plain-text formula for docs and `act list` */
	const char *citation;
	int nhyper;
	al_hyper_desc hyper[AL_ACT_MAXH];
	int nparams;
	al_param_desc params[AL_ACT_MAXP];
	al_per default_per;    /* the paper's granularity */
	double check_lo, check_hi; /* input range for gradient checks */
	/* Points where the derivative jumps, for the given hypers and params;
	 * returns how many were written to out (at most 8). NULL: none. */
	int (*kinks)(const double *h, const double *p, double *out);
	/* Hyper-dependent initial parameter values (e.g. compat inits); NULL:
	 * use params[k].init. */
	void (*init)(const double *h, double *p);
	/* Hyper-dependent projection after each optimizer step (params [G, P]);
	 * NULL: clamp to params[k].lo/hi. */
	void (*project)(const double *h, float *p, size_t groups, int P);
	/* Checks the parsed hypers and granularity (per_given: the spec said
	 * per=...); returns AL_OK or an error naming the key and value (the
	 * parser prefixes the spec). NULL: any value of the right type. */
	al_status (*check)(const double *h, al_per per, int per_given);
	/* element-wise kernels */
	al_act_fwd_fn fwd;
	al_act_bwd_fn bwd;
	al_act_ref_fn ref;
	int stochastic; /* output depends on rng in training (rrelu) */
	/* Window and learned-shape kinds work on whole tensors. Their parameter
	 * count may depend on hypers (t_nparams), their init may be random
	 * (t_init), and their names are generated (t_param_name). NULL for
	 * element-wise entries. */
	int (*t_nparams)(const double *h);
	void (*t_param_name)(const double *h, int k, char *buf, size_t cap);
	void (*t_init)(const double *h, float *p, size_t groups, al_rng *r);
	size_t (*t_scratch)(const double *h, al_per per, int n, int c, int hh, int w);
	void (*t_fwd)(const double *h, al_per per, const float *params, int n, int c, int hh, int w,
		      const float *x, float *y);
	void (*t_bwd)(const double *h, al_per per, const float *params, int n, int c, int hh, int w,
		      const float *x, const float *y, const float *dy, float *dx, float *dparams,
		      float *scratch);
	/* Entries whose shape depends on where the inputs fall (a B-spline's
	 * grid): the hypers training may rewrite (their current values live in
	 * the activation layer's state, so checkpoints keep them), and the
	 * rewrite, at the end of training epoch `epoch` (1-based), from the
	 * layer's input record: it may change h[state_hyper[..]] and the
	 * parameters [groups, P] (so the function is kept over the inputs) and
	 * sets *changed. NULL / 0: none. */
	int n_state_hyper;
	int state_hyper[2];
	al_status (*t_epoch_end)(double *h, int epoch, const al_act_record *rec,
				 float *params, size_t groups, int *changed);
} al_act_desc;


/* A parsed, fully resolved spec. */
typedef struct {
	const al_act_desc *desc;
	double hyper[AL_ACT_MAXH];
	al_per per;
	double init[AL_ACT_MAXP]; /* initial parameter values */
	char text[768];           /* canonical spec with every default spelled out */
} al_act_spec;

/* The catalog. */
int al_act_count(void);
const al_act_desc *al_act_get(int i);
/* Finds by name or alias; NULL if unknown. */
const al_act_desc *al_act_find(const char *name);

/* Parses a spec string. Unknown names/keys and bad values are AL_EINVAL
 * with a message listing what is valid. */
al_status al_act_parse(const char *text, al_act_spec *out);
/* Number of parameters per group, and the name of parameter k. */
int al_act_nparams(const al_act_spec *s);
void al_act_param_name(const al_act_spec *s, int k, char *buf, size_t cap);
/* Groups for an input of per-sample shape (c, h, w). */
size_t al_act_groups(const al_act_spec *s, int c, int h, int w);
/* Writes initial values into params[G*P]. */
void al_act_init_params(const al_act_spec *s, float *params, size_t groups, al_rng *r);
/* Clamps params[G*P] to the descriptor's bounds (after an optimizer step). */
void al_act_project(const al_act_spec *s, float *params, size_t groups);

/* Whole-tensor forward/backward for x of shape (n, c, h, w) (dense: h=w=1),
 * honouring the spec's granularity; threaded over fixed partitions so that
 * results do not depend on the thread count. params: [G, P]. dparams is
 * accumulated (+=), dx written. scratch: al_act_scratch_floats() floats.
 * train and rng must be those of the matching forward (stochastic entries
 * redraw the same numbers). */
size_t al_act_scratch_floats(const al_act_spec *s, int n, int c, int h, int w);
void al_act_forward(const al_act_spec *s, const float *params, int n, int c, int h, int w,
		    const float *x, float *y, int train, al_rng *rng);
void al_act_backward(const al_act_spec *s, const float *params, int n, int c, int h, int w,
		     const float *x, const float *y, const float *dy, float *dx, float *dparams,
		     float *scratch, int train, al_rng *rng);

/* ---- gradient check --------------------------------------------------------- */
typedef struct {
	int points;          /* sample points checked (kinks skipped) */
	double worst;        /* worst relative error, analytic vs finite differences (double) */
	char worst_at[256];  /* where: spec, x and which derivative */
	double kernel_err;   /* worst relative error of the float kernels vs the reference */
	char kernel_at[256];
} al_gradcheck_result;

/* Checks an entry's derivatives w.r.t. the input and every parameter:
 * 4-point central differences of the double reference at `points` inputs
 * drawn over the entry's check range, skipping points near declared kinks,
 * at the initial parameters (random_params = 0) or at random ones near
 * them; and the float kernels (forward, backward, parameter gradients)
 * against the reference. Relative errors use |a - b| / (1e-3 + |a| + |b|).
 * Window entries: the float kernels' dx and dlambda against 4-point central
 * differences of a double reference forward, and their forward against it,
 * on conv and dense shapes that do and do not divide by the window, with
 * inputs placed away from decision boundaries (|x| >= 0.05, and every
 * coordinate inside a linear piece of width 0.04: no ties, no element near
 * a window maximum, a sign change or a mask threshold); `points` / 100
 * rounds of the three shapes; differences within float rounding count 0. */
al_status al_act_gradcheck(const al_act_spec *s, int random_params, uint64_t seed, int points,
			   al_gradcheck_result *out);

/* Random parameter values near the initial ones, inside the bounds
 * (p[0..nparams)); for checks at points other than the initial ones. */
void al_act_random_params(const al_act_spec *s, al_rng *r, double *p);

/* Writes the catalog: JSON array, markdown document, or a plain table. */
void al_act_list_json(FILE *f);
void al_act_list_markdown(FILE *f);
void al_act_list_text(FILE *f);

#ifdef __cplusplus
}
#endif
#endif
