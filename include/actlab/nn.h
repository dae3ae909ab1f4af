/* nn.h — models: a sequence of layers built from an INI .cfg description
 * (darknet-like, one section per layer) or a zoo name, with forward,
 * backward, and flat parameter/gradient memory.
 *
 * Memory: one arena holds every parameter, one the gradients, in the same
 * order: network weights first, then activation parameters, so the two
 * optimizer groups are two contiguous ranges. Layer outputs live in one
 * activation arena sized for the batch given to al_model_reserve().
 * Parameter gradients accumulate (+=) until al_model_zero_grad(); input
 * gradients are written.
 */
#ifndef ACTLAB_NN_H
#define ACTLAB_NN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct al_model al_model;

typedef struct {
	const char *act;       /* spec for `act = $ACT` sites (default "relu") */
	const char *act_sites; /* "all" (default), "first", or "1,3,..." (1-based) */
	int in_c, in_h, in_w;  /* input shape per sample */
	int classes;           /* output classes (the cfg may use $CLASSES) */
	uint64_t seed;         /* parameter initialisation */
	int no_init;           /* leave parameters zero (counting parameters, listing
				* layers, or loading them afterwards): no random draws */
	/* extra `key=value` substitutions for $KEY in the cfg, e.g. "WIDTH=512" */
	const char *vars[8];
	/* width multiplier (0 or 1: as written): every literal `filters = N` and
	 * `out = N` of the cfg becomes max(1, round(N * width)) (`out =
	 * $CLASSES` and other variables stay); a depthwise conv's `groups = N`
	 * (groups equal to its filters) scales with it; with other grouped
	 * convolutions (groups = G > 1) every filter count is rounded to a
	 * multiple of G so the groups still divide the channels */
	double width;
} al_model_opts;

al_model_opts al_model_opts_default(void);

/* desc: a zoo name (see al_zoo_*), or a path to a .cfg file. */
al_status al_model_create(const char *desc, const al_model_opts *opts, al_model **out);
/* The model's default input shape and class count, from its first section
 * `[net]` (input = CxHxW or channels/height/width; classes = K), else
 * 1x28x28 and 10. For tools that build a model without data (`actlab
 * models --params`) and for loaders that fit data to the model. */
al_status al_model_defaults(const char *desc, int *c, int *h, int *w, int *classes);
/* Builds from cfg text held in memory; `where` names it in error messages. */
al_status al_model_create_text(const char *text, const char *where, const al_model_opts *opts,
			       al_model **out);
void al_model_free(al_model *m);

/* Sizes the activation arena for batches of up to n samples. */
al_status al_model_reserve(al_model *m, int n);

/* x: (n, in_c, in_h, in_w). Returns the logits (n, classes), owned by m
 * and valid until the next forward. train: 1 for training behaviour
 * (dropout, batch statistics, stochastic activations). */
al_status al_model_forward(al_model *m, const float *x, int n, int train, const float **logits);
/* dlogits: (n, classes), gradient of the loss w.r.t. the logits of the
 * last forward. Accumulates parameter gradients. */
al_status al_model_backward(al_model *m, const float *dlogits);
void al_model_zero_grad(al_model *m);
/* Input gradient of the last backward: (n, in_c, in_h, in_w). */
const float *al_model_input_grad(const al_model *m);
/* Whether backward computes the input gradient (off by default). */
void al_model_want_input_grad(al_model *m, int on);

/* Flat parameter and gradient memory. Weights are [0, nweights), activation
 * parameters [nweights, nparams). */
float *al_model_params(al_model *m);
float *al_model_grads(al_model *m);
size_t al_model_nparams(const al_model *m);
size_t al_model_nweights(const al_model *m);
/* Clamps activation parameters to their bounds (after each step). */
void al_model_project(al_model *m);
/* Resets the per-step RNG used by dropout and stochastic activations. */
void al_model_set_rng(al_model *m, const al_rng *r);
/* Synchronised batch norm across processes: with sum set, training-mode
 * batch-norm layers pass their per-channel sums (of x and of squared
 * deviations in forward, of dy and dy * xhat in backward, plus the sample
 * count) through sum(ctx, buf, n), which must replace buf by its total
 * over the processes; every process then normalises with the statistics
 * of the global batch. Weight gradients stay per process. NULL: off. */
void al_model_set_stat_sum(al_model *m, void (*sum)(void *ctx, double *buf, size_t n),
			   void *ctx);

/* Batch-norm running statistics and other non-trained state that a
 * checkpoint must carry. */
float *al_model_state(al_model *m);
size_t al_model_nstate(const al_model *m);

int al_model_classes(const al_model *m);
void al_model_input_shape(const al_model *m, int *c, int *h, int *w);
/* The input shape desc's [net] section declares (channels, height, width;
 * 0 for each one not declared, all 0 when desc has no [net] or is not
 * readable), read without building the model. */
al_status al_model_declared_input(const char *desc, const al_model_opts *opts, int *c, int *h,
				  int *w);
/* One line per layer: type, output shape, parameters. */
void al_model_summary(const al_model *m, FILE *f);
/* The canonical cfg text after substitution (recorded in checkpoints). */
const char *al_model_cfg_text(const al_model *m);

/* Number of `act = $ACT` sites (selected by --act-sites or not). */
int al_model_act_sites(const al_model *m);
/* Activation layers with trainable parameters, for logging learned values. */
int al_model_act_layers(const al_model *m);
/* i-th activation layer: its name, spec, parameters [G,P] and G. */
void al_model_act_layer(const al_model *m, int i, const char **name, const al_act_spec **spec,
			const float **params, size_t *groups);
/* Input of the i-th such layer in the last forward: x (n, c, h, w) with n
 * the batch of that forward; valid until the next forward. */
void al_model_act_layer_input(const al_model *m, int i, const float **x, int *c, int *h, int *w);
/* Its `act = $ACT` site number (1-based), or 0 for an explicit spec. */
int al_model_act_layer_site(const al_model *m, int i);

/* Input statistics that every activation layer with trainable parameters
 * records while training (model state, so checkpoints keep them): every
 * AL_ACT_HIST_EVERY-th training forward (the first included) it extends a
 * running [lo, hi] of the finite inputs and adds the batch's inputs to an
 * AL_ACT_HIST_BINS-bin histogram over that range (when the range grows,
 * earlier counts move to the new bin holding their old bin's centre).
 * Returns the number of values counted (0: nothing recorded yet, e.g. a
 * checkpoint of format version 1); lo, hi, bins[AL_ACT_HIST_BINS] may be
 * NULL. */
#define AL_ACT_HIST_BINS 60
#define AL_ACT_HIST_EVERY 8
double al_model_act_layer_hist(const al_model *m, int i, double *lo, double *hi, double *bins);
/* State values in the layout of checkpoint format `version` (1: without
 * those statistics; 2: without the hypers training may rewrite; 3: all,
 * = al_model_nstate), and loading such a state (what the format lacks is
 * left empty, rewritable hypers keep the spec's values). */
size_t al_model_nstate_format(const al_model *m, unsigned version);
void al_model_set_state_format(al_model *m, const float *state, unsigned version);
/* Call after writing al_model_state() directly: activation hypers kept in
 * the state (e.g. a B-spline's updated grid) take their stored values. */
void al_model_state_loaded(al_model *m);
/* Copies the state of src into dst, a model of the same layers whose
 * activations may differ (activation layers copy their input records). */
al_status al_model_copy_state(al_model *dst, const al_model *src);

/* End of training epoch `epoch` (1-based): activation layers whose entry
 * rewrites its shape from the input record (bspline's update=N grid
 * update) do so; report(user, layer, spec) is called for each layer that
 * changed (report may be NULL). al_model_epoch_end_due: whether a layer
 * of the model may update at that epoch (then every process of a
 * data-parallel run must hold the same record first). */
typedef void (*al_model_epoch_end_fn)(void *user, const char *layer, const al_act_spec *spec);
int al_model_epoch_end_due(const al_model *m, int epoch);
al_status al_model_epoch_end(al_model *m, int epoch, al_model_epoch_end_fn report, void *user);

/* ---- losses (mean over the batch) --------------------------------------- */
/* Softmax cross-entropy. logits (n, k); labels in [0, k). Writes dlogits
 * (n, k) when non-NULL. Returns the mean loss. */
double al_softmax_xent(const float *logits, const int32_t *labels, int n, int k, float *dlogits);
/* Mean squared error against one-hot targets, summed over classes and
 * averaged over the batch. */
double al_mse_onehot(const float *logits, const int32_t *labels, int n, int k, float *dlogits);

/* ---- zoo ---------------------------------------------------------------- */
int al_zoo_count(void);
const char *al_zoo_name(int i);
const char *al_zoo_doc(int i);
/* The cfg text of a zoo model, or NULL. */
const char *al_zoo_cfg(const char *name);

#ifdef __cplusplus
}
#endif
#endif
