/* trainer_int.h — sweep runs of seed 003's trainers (`trainer = adact |
 * molf | owo-bp | cg | lm | sgd | adam` in an experiment file): their
 * settings, their stored configuration text, and running one through
 * al_adact_run into the store. Not a public header. */
#ifndef ACTLAB_EXP_TRAINER_INT_H
#define ACTLAB_EXP_TRAINER_INT_H

#include "actlab/adact.h"
#include "actlab/exp.h"

/* Whether key is a setting of the trainer runs only (trainer, hidden,
 * hinges, range, init, iters, per_unit, safeguard, precision, lm_mu). */
int xt_is_key(const char *key);
/* Run settings that trainer runs do not use (model, act, epochs, ...). */
int xt_is_train_only_key(const char *key);
/* Comma-separated list of the trainer keys, for messages. */
const char *xt_keys(void);

/* Sets one trainer key: trainer ("train" = back-prop through al_train_run,
 * or an al_adact algorithm) or a network/algorithm setting of o. */
al_status xt_set(char *trainer, size_t cap, al_adact_opts *o, const char *key, const char *value);
/* Whether trainer names a seed-003 trainer (not "" or "train"). */
int xt_is_trainer(const char *trainer);

/* The configuration text of a trainer run ("trainer=...\n" first, key=value
 * lines); threads < 0 leaves the threads line out (the run's identity). */
void xt_to_text(const al_sweep_run *r, int threads, char *buf, size_t cap);
/* Model column of the store for a trainer run ("mlp-pla:h=100,ns=9"). */
void xt_model_name(const al_adact_opts *o, char *buf, size_t cap);

/* Runs the stored trainer run run_id (its config text) in this process. */
al_status xt_run_one(al_store *s, int64_t run_id, const char *config, const al_sweep_opts *o,
		     int *claimed);

#endif
