/* exp.h — the experiment harness: experiment files expanded into runs, the
 * SQLite results store, sweeps that run (and resume) them, statistics, and
 * reports (tables and plots) read from the store.
 *
 * An experiment file (docs/experiments.md) is an INI file whose [sweep]
 * section (and optional group sections) give run settings; values with
 * " | " are lists, "{a,b}" inside a value expands, "1..5" is a range. The
 * Cartesian product of all lists is the set of runs.
 *
 * The store (default results/actlab.db) keeps one row per run (resolved
 * configuration, status, parameter count, timings), per-epoch metrics,
 * learned activation parameters per layer and epoch (mean/std over the
 * layer's groups), and sampled learned activation shapes. Writes are
 * transactions with a busy timeout; user values are bound parameters.
 * Reports read only the store.
 */
#ifndef ACTLAB_EXP_H
#define ACTLAB_EXP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "actlab/adact.h"
#include "actlab/status.h"
#include "actlab/train.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- experiment files ------------------------------------------------------ */
typedef struct {
	char key[17];          /* 16 hex digits: hash of the run's identity */
	char group[64];        /* section name ("sweep" without groups) */
	char act[256];         /* activation spec as written (table label) */
	int kfold, fold;       /* kfold = 0: no cross-validation */
	al_train_config config; /* resolved; out and threads are set per run */
	/* trainer runs (`trainer = adact | molf | ...`): the seed-003 algorithm
	 * and network (al_adact_run); "" for back-prop runs (al_train_run).
	 * config then holds the shared settings (data, seed, kfold_seed,
	 * threads; epochs = iterations) and act the trainer's name. */
	char trainer[16];
	al_adact_opts adact;
	char *ident;           /* identity: config text without out/threads, plus
				  group; malloc'd */
	char *cell;            /* ident without seed and fold: the table cell */
} al_sweep_run;

typedef struct {
	char name[128];
	char description[512];
	char file[512];
	char baseline[256];    /* the report's default baseline row ("": relu) */
	int match_params;      /* widen/narrow $WIDTH models to the baseline's count */
	char match_baseline[256];
	int nruns;
	al_sweep_run *runs;
} al_sweep;

/* Parses and expands FILE. overrides: "key=value" strings applied to the
 * [sweep] section and every group (command-line overrides). Every key and
 * every expanded value is validated; errors name file, line and key. */
al_status al_sweep_load(const char *path, const char *const *overrides, int noverrides,
			al_sweep **out);
/* Same, from text held in memory (`where` names it in messages). */
al_status al_sweep_parse(const char *text, const char *where, const char *const *overrides,
			 int noverrides, al_sweep **out);
void al_sweep_free(al_sweep *s);

/* ---- the store ---------------------------------------------------------------- */
#define AL_STORE_SCHEMA 1
#define AL_STORE_DEFAULT "results/actlab.db"

typedef struct al_store al_store;

/* Opens (creating the file, its folder and the schema if needed). Refuses a
 * store written by a newer schema. */
al_status al_store_open(const char *path, al_store **out);
void al_store_close(al_store *s);
const char *al_store_path(const al_store *s);

/* Registers the sweep and inserts its runs that are not there yet. */
al_status al_store_add_sweep(al_store *s, const al_sweep *sw);

typedef struct {
	int total, done, running, pending, failed;
	long epochs_done, epochs_total; /* al_sweep_progress_of only */
} al_sweep_progress;
/* Progress of every run stored under the sweep's name, or (al_sweep_progress_of)
 * of the runs of one expansion of it. */
al_status al_store_progress(al_store *s, const char *sweep, al_sweep_progress *out);
al_status al_sweep_progress_of(al_store *s, const al_sweep *sw, al_sweep_progress *out);

/* Names of the sweeps in the store (malloc'd array of malloc'd strings). */
al_status al_store_sweeps(al_store *s, char ***names, int *n);
void al_store_free_names(char **names, int n);

/* ---- running sweeps ---------------------------------------------------------- */
typedef struct {
	int jobs;             /* runs at once, each in its own process (1: in this one) */
	int threads;          /* threads per run (0: online cores / jobs, at least 1) */
	const char *runs_dir; /* run folders (NULL: <store folder>/runs) */
	const char *exe;      /* actlab binary that runs one run (jobs > 1) */
	int retry_failed;     /* also rerun runs that failed before */
	/* Progress lines ("[3/12] relu seed 2: done, test acc 0.8123", and one
	 * per epoch of runs in this process). */
	void (*on_line)(void *user, const char *line);
	void *user;
} al_sweep_opts;

al_sweep_opts al_sweep_opts_default(void);

typedef struct {
	int started, finished, failed, skipped; /* skipped: done before, or busy elsewhere */
} al_sweep_summary;

/* Runs every unfinished run of sw (sw must have been added to s). A run
 * interrupted before resumes from its last checkpoint. A failed run does
 * not stop the sweep; the status is AL_OK when every run is done. */
al_status al_sweep_execute(al_store *s, const al_sweep *sw, const al_sweep_opts *o,
			   al_sweep_summary *sum);

/* Runs one run of the store by id in this process (what each process does
 * with jobs > 1), with o's threads (0: the stored configuration's),
 * runs_dir, retry_failed and on_line (one line per epoch). *claimed = 0
 * when it was done already or another live process owns it. */
al_status al_sweep_run_one(al_store *s, int64_t run_id, const al_sweep_opts *o, int *claimed);

/* ---- statistics ----------------------------------------------------------------- */
double al_stats_mean(const double *x, int n);
double al_stats_std(const double *x, int n); /* sample std (ddof 1); 0 for n < 2 */
/* Student t distribution: CDF and quantile (df > 0). */
double al_stats_t_cdf(double t, double df);
double al_stats_t_quantile(double p, double df);
/* Area under the loss curve: trapezoid with unit spacing over E epochs. */
double al_stats_aulc(const double *loss, int e);

typedef struct {
	int n;
	double mean_diff, std_diff; /* of a - b */
	double t, df, p;            /* two-sided; NaN when undefined */
	double ci_lo, ci_hi;        /* 95% confidence interval of the mean difference */
} al_ttest;
/* Paired t-test of a against b (scipy.stats.ttest_rel). */
al_status al_stats_ttest_paired(const double *a, const double *b, int n, al_ttest *out);

typedef struct {
	int n;        /* pairs with a non-zero difference */
	double w;     /* min(W+, W-) (scipy's statistic) */
	double p;     /* two-sided; NaN when n == 0 */
	int exact;    /* exact null distribution (n <= 50, no ties) or normal approximation */
} al_wilcoxon;
/* Wilcoxon signed-rank test of a - b, zero differences dropped
 * (scipy.stats.wilcoxon with its defaults). */
al_status al_stats_wilcoxon(const double *a, const double *b, int n, al_wilcoxon *out);

/* ---- reports ------------------------------------------------------------------------ */
typedef enum { AL_REPORT_MD, AL_REPORT_CSV, AL_REPORT_TEX, AL_REPORT_HTML } al_report_format;

typedef struct {
	const char *sweep;     /* NULL: every sweep in the store */
	al_report_format format;
	const char *baseline;  /* activation to test against (NULL: "relu" when present) */
	const char *plots_dir; /* md/tex: write SVG plots here (NULL: none) */
	int plots;             /* html: inline plots (needs gnuplot) */
	/* which epoch of each run is its result ("final acc", macro precision,
	 * the paired tests): the last (default), or with best_val != 0 the
	 * first epoch of highest validation accuracy (early stopping; every run
	 * must have stored validation accuracies, i.e. ran with val > 0) */
	int best_val;
	/* with best_val: comma-separated settings (e.g. "ridge" or "ridge,wd")
	 * tuned on the validation set. Cells of a sweep that differ only in
	 * them become one row; for every seed and fold it takes the run whose
	 * best validation accuracy is highest (first in store order on ties),
	 * so the setting is chosen per fold without looking at test data, and
	 * the row says how often each value was chosen. NULL: none. */
	const char *tune;
} al_report_opts;

al_report_opts al_report_opts_default(void);
/* Writes the report of the store's finished runs to f. */
al_status al_report_write(al_store *s, const al_report_opts *o, FILE *f);

#ifdef __cplusplus
}
#endif
#endif
