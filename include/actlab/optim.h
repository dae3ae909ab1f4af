/* optim.h — optimizers over flat parameter memory with two parameter
 * groups: network weights [0, nweights) and activation parameters
 * [nweights, nparams), each with its own learning rate and weight decay
 * (seed 004's "high-low" learning rates: --act-lr 1e-5 beside --lr 1e-3).
 * Update rules follow PyTorch 1.13 exactly (SGD with dampening 0, Adam and
 * AdamW with bias correction in PyTorch's operation order).
 *
 * Learning-rate schedules give a multiplier per epoch.
 */
#ifndef ACTLAB_OPTIM_H
#define ACTLAB_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { AL_OPT_SGD, AL_OPT_ADAM, AL_OPT_ADAMW } al_opt_kind;

typedef struct {
	al_opt_kind kind;
	double lr, momentum, wd;   /* weights group */
	int nesterov;
	double beta1, beta2, eps;  /* Adam/AdamW */
	double act_lr;             /* activation group; < 0: same as lr */
	double act_wd;             /* activation group weight decay (default 0) */
} al_optim_opts;

al_optim_opts al_optim_opts_default(void);
al_status al_optim_parse_kind(const char *name, al_opt_kind *out);
const char *al_optim_kind_name(al_opt_kind k);

typedef struct al_optim al_optim;

al_status al_optim_create(const al_optim_opts *o, size_t nparams, size_t nweights,
			  al_optim **out);
void al_optim_free(al_optim *o);
/* One update of params from grads with learning rates scaled by lr_scale
 * (the schedule's multiplier). */
void al_optim_step(al_optim *o, float *params, const float *grads, double lr_scale);
/* State for checkpoints: floats (momentum / moments) and the step count. */
float *al_optim_state(al_optim *o, size_t *n);
int64_t al_optim_steps(const al_optim *o);
void al_optim_set_steps(al_optim *o, int64_t t);

/* ---- schedules ------------------------------------------------------------ */
typedef enum { AL_SCHED_CONSTANT, AL_SCHED_STEP, AL_SCHED_MULTISTEP, AL_SCHED_COSINE } al_sched_kind;

typedef struct {
	al_sched_kind kind;
	double gamma;        /* step / multistep factor (default 0.1) */
	int step_size;       /* step: every step_size epochs */
	int milestones[16];  /* multistep: epochs (0-based epoch index at which lr drops) */
	int nmilestones;
	int epochs;          /* cosine: period (total epochs) */
	double min_factor;   /* cosine: floor as a fraction of lr (default 0) */
	double warmup;       /* linear warm-up over this many epochs (0: off) */
} al_sched;

al_sched al_sched_default(void);
/* Parses "constant", "step:10[,gamma=0.5]", "multistep:70,100[,gamma=0.1]",
 * "cosine[:min=0.01]"; warm-up is set separately. */
al_status al_sched_parse(const char *text, al_sched *out);
/* Multiplier at fractional epoch position e (epoch index + fraction done):
 * step/multistep/cosine use the integer epoch (as PyTorch's per-epoch
 * schedulers do); warm-up ramps linearly per step. */
double al_sched_factor(const al_sched *s, double e);

#ifdef __cplusplus
}
#endif
#endif
