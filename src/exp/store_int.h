/* store_int.h — internals of the results store shared by the exp/ module
 * (sweep runner, report). Not a public header. */
#ifndef ACTLAB_EXP_STORE_INT_H
#define ACTLAB_EXP_STORE_INT_H

#include <sqlite3.h>

#include "actlab/exp.h"

struct al_store {
	sqlite3 *db;
	char path[1024];
};

/* Prepares sql; on failure sets the error message naming the store. */
al_status st_prepare(al_store *s, const char *sql, sqlite3_stmt **out);
/* Runs a statement without results. */
al_status st_exec(al_store *s, const char *sql);
al_status st_fail(al_store *s, const char *what);

/* Transactions: BEGIN IMMEDIATE (waits for the busy timeout), COMMIT,
 * ROLLBACK (never fails visibly). */
al_status st_begin(al_store *s);
al_status st_commit(al_store *s);
void st_rollback(al_store *s);

/* "host:pid" of this process. */
void st_owner(char *buf, size_t cap);
/* Whether the owner string names a live process (on this host) or one
 * whose heartbeat is recent (another host). */
int st_owner_alive(const char *owner, double heartbeat);

/* Claims a run for this process: 1 claimed, 0 not (done, or owned by a
 * live process). Records a start or resume event. */
al_status st_claim(al_store *s, int64_t run, int retry_failed, int resuming, int *claimed);
/* Per-epoch row and heartbeat while running. */
al_status st_epoch(al_store *s, int64_t run, const al_epoch_stats *e);
/* Ingests the run folder (log.csv, act_params.csv, ckpt.bin) and marks the
 * run done, in one transaction, if this process still owns it. */
al_status st_finish(al_store *s, int64_t run, const char *dir, size_t params);
/* Trainer runs (no run folder): st_clear_run deletes the run's epoch,
 * parameter and shape rows (a restarted run starts over); st_finish_rows
 * checks that the epoch rows written by st_epoch are 1..epochs, stores the
 * learned hinge values (epoch 0 = init0, epoch `epochs` = A; mean/std/min/
 * max over the nh units per hinge; A NULL: none) and the mean learned shape
 * (SHAPE points over the hinge range widened by one step), and marks the
 * run done, in one transaction, if this process still owns it. */
al_status st_clear_run(al_store *s, int64_t run);
al_status st_finish_rows(al_store *s, int64_t run, int epochs, size_t params, const char *act,
			 int nh, int ns, double lo, double delta, const double *init0,
			 const double *A);
/* Marks the run failed with a message. */
al_status st_failed(al_store *s, int64_t run, const char *msg);

/* Reads a run's stored configuration text and folder key. */
al_status st_run_info(al_store *s, int64_t run, char **config, char *sweep, size_t scap,
		      char *key, size_t kcap, char *status, size_t stcap);

/* ---- pieces of the sweep runner (sweep.c), shared with src/dist/ ---- */
/* Progress line through o->on_line. */
void sw_emit(const al_sweep_opts *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The runs folder: runs_dir, or <store folder>/runs. */
void sw_runs_dir(const al_store *s, const char *runs_dir, char *buf, size_t cap);
/* A run's folder: <runs_dir>/<sweep, made file-name safe>/<key>. */
void sw_run_dir(const char *runs_dir, const char *sweep, const char *key, char *buf, size_t cap);
/* Epochs completed by the checkpoint in dir (0: none; an unreadable one is
 * removed, so the run starts over). */
int sw_resume_epoch(const char *dir);
/* Trains the run whose stored configuration text is config into dir,
 * resuming from dir's checkpoint (logs cut back to its epoch); threads > 0
 * overrides the stored count. cb is called after every epoch; when it
 * stops the run, *stopped = 1 and the status is AL_ESTATE. *cfg (may be
 * NULL) receives the configuration before training starts; *params the
 * parameter count. */
al_status sw_train_dir(const char *config, const char *dir, int threads, al_epoch_cb cb,
		       void *user, int *stopped, al_train_config *cfg, size_t *params);
/* Store ids of the runs of sw (ids[i] for sw->runs[i]); all registered. */
al_status sw_run_ids(al_store *s, const al_sweep *sw, int64_t *ids);
/* Status, last test accuracy and error of a run, for progress lines. */
void sw_run_state(al_store *s, int64_t id, char *status, size_t cap, double *acc, char *err,
		  size_t ecap);
/* "group: act seed S [fold F/K]" */
void sw_describe(const al_sweep_run *r, char *buf, size_t cap);
/* Counts the end of run i (done / failed / elsewhere) in sum, with a line. */
void sw_report_end(al_store *s, const al_sweep *sw, const al_sweep_opts *o, int i, int64_t id,
		   int n, al_sweep_summary *sum, double secs);

#endif
