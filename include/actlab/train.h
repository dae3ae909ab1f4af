/* train.h — the training loop: epochs of shuffled mini-batches, evaluation
 * after every epoch (loss, accuracy, macro precision), per-epoch CSV log,
 * learned activation parameters per layer and epoch, checkpoints at epoch
 * ends, and bit-identical resume.
 *
 * Everything random is derived from the seed and the epoch/step number, so
 * the same seed gives the same run for any thread count, and a resumed run
 * continues exactly as the uninterrupted one would have.
 */
#ifndef ACTLAB_TRAIN_H
#define ACTLAB_TRAIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actlab/data.h"
#include "actlab/nn.h"
#include "actlab/optim.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum { AL_LOSS_XENT, AL_LOSS_MSE } al_loss_kind;

/* The resolved configuration of a run: every field has a value (defaults
 * applied), and it round-trips through text (checkpoints, logs, store). */
typedef struct {
	char model[256];
	char act[256];
	char act_sites[64];
	char data[512];
	char sched[128];
	char norm[16];      /* standard | none */
	char out[512];      /* run folder ("" = none) */
	int epochs, batch, threads;
	uint64_t seed;
	double val;         /* validation fraction of the training set */
	int augment_crop;   /* pad for random crop (0 off) */
	int augment_flip;
	al_loss_kind loss;
	al_optim_opts opt;
	double warmup;
	int eval_batch;
	/* k-fold cross-validation of the training part: kfold = K >= 2 makes
	 * fold (0-based, < K) of al_kfold_split the test set and the other
	 * folds the training set (0: off; the data's test part is unused) */
	int kfold, fold;
	uint64_t kfold_seed; /* fold assignment, independent of seed */
	int skip_bad;        /* skip unreadable images with a warning */
	double width;        /* model width multiplier (al_model_opts.width; 1: as
				written; in the text only when it is not 1) */
} al_train_config;

al_train_config al_train_config_default(void);
/* key=value lines; al_train_config_from_text accepts what _to_text wrote. */
void al_train_config_to_text(const al_train_config *c, char *buf, size_t cap);
al_status al_train_config_set(al_train_config *c, const char *key, const char *value);
al_status al_train_config_from_text(const char *text, al_train_config *c);

typedef struct {
	int epoch;          /* 1-based */
	double train_loss, train_acc;
	double test_loss, test_acc, macro_precision;
	double val_loss, val_acc;
	double seconds, img_per_s, lr;
} al_epoch_stats;

typedef struct {
	al_epoch_stats last;
	al_epoch_stats *epochs; /* epochs_done entries, al_malloc'd */
	int epochs_done;
	double img_per_s;   /* training loop only, over the whole run */
	double seconds;     /* wall time of the run */
	double peak_rss_mb;
	size_t params;
} al_train_result;

void al_train_result_free(al_train_result *r);

/* Per-epoch callback (may be NULL); return non-zero to stop early. */
typedef int (*al_epoch_cb)(void *user, const al_epoch_stats *s);

/* Collective operations among the ranks of a data-parallel run (src/dist/
 * supplies them over MPI; the training loop knows nothing of MPI). Every
 * call is collective: all ranks make it, in the same order. */
typedef struct {
	int rank, size;
	void *ctx;
	/* in-place sums over ranks of n values */
	void (*sum_f)(void *ctx, float *buf, size_t n);
	void (*sum_d)(void *ctx, double *buf, size_t n);
	/* AL_OK on every rank when st is AL_OK on every rank; otherwise the
	 * status and message of the lowest failing rank, "rank R: message",
	 * on every rank */
	al_status (*agree)(void *ctx, al_status st);
	/* 1 on every rank when buf holds the same bytes on every rank */
	int (*same)(void *ctx, const void *buf, size_t nbytes);
	int sync_bn;    /* batch-norm statistics over the global batch */
	int check_sync; /* same() over the parameters after every step */
} al_train_comm;

typedef struct {
	int progress;        /* progress bar on stderr (1 when stderr is a tty) */
	int verbose;         /* print one line per epoch to stderr */
	const char *resume;  /* checkpoint to continue from */
	al_epoch_cb on_epoch;
	void *user;
	/* data-parallel run (NULL: this process alone). Rank r trains on
	 * shard [floor(n r / p), floor(n (r + 1) / p)) of every batch of n,
	 * gradients are summed over ranks and scaled so the update equals the
	 * one-process update on the whole batch; dropout and stochastic
	 * activations draw from a per-rank stream. Rank 0 alone evaluates,
	 * logs, writes c->out and calls the hooks; the others hold the same
	 * parameters. Without sync_bn each rank normalises with its shard's
	 * batch statistics, and the running statistics are averaged over the
	 * ranks at the end of every epoch. */
	const al_train_comm *comm;
} al_train_hooks;

/* The data a run of c trains and tests on: c->data loaded (skip_bad
 * warnings on stderr), images adapted to the input c->model's [net]
 * declares (a note on stderr says what was done), and with c->kfold the
 * training part split into fold c->fold (test) and the rest (train). */
al_status al_train_load_data(const al_train_config *c, al_dataset *train, al_dataset *test);

/* Runs the whole training described by c. */
al_status al_train_run(const al_train_config *c, const al_train_hooks *hooks,
		       al_train_result *out);

/* Evaluates model on samples idx[0..n) of d (all when idx == NULL). */
typedef struct {
	double loss, acc, macro_precision, weighted_precision, macro_recall, macro_f1;
} al_eval_stats;
al_status al_evaluate(al_model *m, const al_dataset *d, const int32_t *idx, int n,
		      const al_norm *norm, int batch, al_loss_kind loss, al_eval_stats *out);

/* ---- checkpoints ------------------------------------------------------------ */
/* Magic "ACTLABCK", format version, resolved config text, model cfg text,
 * normalisation, parameters, model state, optimizer state and step, epoch,
 * CRC-32 of everything before it. Written to PATH.tmp and renamed. */
typedef struct {
	al_train_config config;
	char *cfg_text;      /* the model description, malloc'd */
	al_norm norm;
	int in_c, in_h, in_w, classes;
	int epoch;           /* epochs completed */
	int64_t opt_steps;
	float *params;       /* al_malloc'd */
	size_t nparams;
	float *state;
	size_t nstate;
	float *opt_state;
	size_t nopt;
	unsigned version; /* format version read (1 to 3); save writes 3 */
} al_checkpoint;

al_status al_checkpoint_save(const char *path, const al_checkpoint *ck);
al_status al_checkpoint_load(const char *path, al_checkpoint *ck);
void al_checkpoint_free(al_checkpoint *ck);
/* Builds the model stored in a checkpoint, with its parameters and state. */
al_status al_checkpoint_model(const al_checkpoint *ck, al_model **out);

#ifdef __cplusplus
}
#endif
#endif
