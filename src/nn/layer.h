/* layer.h — internal contract between the model builder and layer kinds.
 *
 * A layer kind is one al_layer_ops row (src/nn/layers.c lists them). The
 * model owns all memory: it points each layer at its input(s), output,
 * gradient buffers, weights, weight gradients and scratch. Layers never
 * allocate during forward/backward.
 *
 * Shapes are per sample (c, h, w); a dense output is (f, 1, 1).
 * forward: reads x[k] (n, in_c[k], in_h[k], in_w[k]), writes y.
 * backward: reads dy (the gradient w.r.t. y), writes dx[k] for every input
 * whose dx[k] is non-NULL, accumulates (+=) weight gradients into dw and
 * activation-parameter gradients into dap.
 * Results must not depend on the thread count: split work into fixed
 * partitions and reduce partial sums in a fixed order.
 */
#ifndef ACTLAB_NN_LAYER_H
#define ACTLAB_NN_LAYER_H

#include <stddef.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/nn.h"

#define AL_MAX_INPUTS 8

typedef struct al_layer al_layer;

/* Key lookup in the layer's cfg section (keys are consumed as read; any
 * key left unread after setup is reported as unknown). */
typedef struct al_cfg_section al_cfg_section;
const char *al_cfg_str(al_cfg_section *s, const char *key, const char *def);
al_status al_cfg_int(al_cfg_section *s, const char *key, int def, int lo, int hi, int *out);
al_status al_cfg_float(al_cfg_section *s, const char *key, double def, double *out);
/* Parses "a,b,c" into up to max ints. */
al_status al_cfg_ints(al_cfg_section *s, const char *key, int *out, int max, int *count);
int al_cfg_has(al_cfg_section *s, const char *key);

typedef struct {
	const char *type; /* cfg section name: "conv", "dense", ... */
	const char *doc;
	/* Parse keys, check input shapes, set out_*, nw (weights), nap (act
	 * params), nstate. May allocate l->priv (freed by free). */
	al_status (*setup)(al_layer *l, al_cfg_section *s);
	/* Scratch floats needed for a batch of n (may be 0); kept from forward
	 * to backward. */
	size_t (*scratch)(const al_layer *l, int n);
	/* Workspace floats needed for a batch of n (may be 0): valid only
	 * during one forward or backward call, shared by all layers. */
	size_t (*work)(const al_layer *l, int n);
	/* Initialise weights/state (params arena is zeroed beforehand). */
	void (*init)(al_layer *l, al_rng *r);
	void (*forward)(al_layer *l, int n, int train);
	void (*backward)(al_layer *l, int n);
	void (*free)(al_layer *l);
	int always_dx; /* backward needs a dx buffer even when no one wants it */
} al_layer_ops;

struct al_layer {
	const al_layer_ops *ops;
	char name[48];
	int index;
	/* inputs */
	int nin;
	int src[AL_MAX_INPUTS]; /* producing layer index, -1 = model input */
	int in_c[AL_MAX_INPUTS], in_h[AL_MAX_INPUTS], in_w[AL_MAX_INPUTS];
	/* output */
	int out_c, out_h, out_w;
	/* buffers, set by the model */
	const float *x[AL_MAX_INPUTS];
	float *dx[AL_MAX_INPUTS];
	float *y, *dy;
	float *w, *dw;
	size_t nw;
	float *ap, *dap; /* activation parameters */
	size_t nap;
	float *state;    /* non-trained state (bn running stats) */
	size_t nstate;
	float *scratch;
	float *work; /* shared workspace (see al_layer_ops.work) */
	/* activation layers */
	al_act_spec act;
	int act_site; /* 1-based $ACT site number, 0 if concrete */
	al_rng rng;   /* per-step stream, set by the model */
	int init_kind; /* al_init_kind for weights: [net] init or the section's init */
	int train;     /* mode of the last forward, set by the model */
	/* statistics summed over processes (al_model_set_stat_sum), or NULL */
	void (*stat_sum)(void *ctx, double *buf, size_t n);
	void *stat_ctx;
	void *priv;
};

/* State floats of a trainable activation layer's input statistics:
 * lo, hi, values counted, training forwards seen, AL_ACT_HIST_BINS bins;
 * then the current values of the hypers training may rewrite (the
 * entry's state_hyper, e.g. a B-spline's grid). */
#define AL_ACT_HIST_STATE (4 + AL_ACT_HIST_BINS)
static inline int al_layer_has_hist(const al_layer *l)
{
	return l->act.desc != NULL && l->nap > 0 && l->nstate >= AL_ACT_HIST_STATE;
}

/* All layer kinds; NULL-terminated. */
extern const al_layer_ops *const al_layer_kinds[];

/* Number of per-sample elements of the layer's output / k-th input. */
static inline size_t al_out_size(const al_layer *l)
{
	return (size_t)l->out_c * (size_t)l->out_h * (size_t)l->out_w;
}
static inline size_t al_in_size(const al_layer *l, int k)
{
	return (size_t)l->in_c[k] * (size_t)l->in_h[k] * (size_t)l->in_w[k];
}

/* Fixed partition count for batch reductions: results are identical for
 * any thread count because partial sums are formed per partition and added
 * in partition order. */
#define AL_NPART 8

/* Weight initialisers (fan_in/fan_out as for PyTorch/Keras). */
typedef enum { AL_INIT_HE_NORMAL, AL_INIT_HE_UNIFORM, AL_INIT_GLOROT_NORMAL,
	       AL_INIT_GLOROT_UNIFORM, AL_INIT_TORCH } al_init_kind;
al_status al_init_parse(const char *name, al_init_kind *out);
const char *al_init_names(void);
/* Fills w[0..n) for the given fan-in/fan-out. AL_INIT_TORCH is PyTorch's
 * default (kaiming_uniform with a=sqrt(5), i.e. U(+-1/sqrt(fan_in))). */
void al_init_fill(al_init_kind k, float *w, size_t n, int fan_in, int fan_out, al_rng *r);

#endif
