/* report_int.h — what the report tables (report.c) and plots (plot.c)
 * share: finished runs grouped into cells (one table row: every setting
 * equal except seed and fold). Not a public header. */
#ifndef ACTLAB_EXP_REPORT_INT_H
#define ACTLAB_EXP_REPORT_INT_H

#include "exp/store_int.h"

typedef struct {
	int64_t id;
	uint64_t seed;
	int fold, E;
	double *acc, *prec, *loss, *test_loss; /* E values, epochs 1..E */
	double *val;  /* E validation accuracies (NaN for runs without validation) */
	int sel;      /* index of the reported ("final") epoch: E-1, or the first
			 epoch of best validation accuracy with --select best-val */
	double params, ep_s;
} rep_run;

typedef struct {
	double mean, std;
} rep_stat;

typedef struct {
	char sweep[128], group[64], act[256], act_canon[768];
	char *cell;          /* cell text (malloc'd) */
	char *rest;          /* cell text without act and group (baseline matching) */
	char variant[512];   /* settings that differ between the sweep's cells */
	char label[800];     /* act, plus the variant when there is one */
	char tuned[400];     /* --tune: "ridge=0.1 x4, ridge=1 x6" ("" otherwise) */
	rep_run *runs;
	int n, cap;
	int E;               /* epochs common to every run */
	rep_stat final_acc, max_acc, prec, max_prec, aulc;
	int max_acc_ep, max_prec_ep;
	double sel_ep;       /* median reported epoch (1-based) over the runs */
	double params, ep_s;
	int base;            /* index of the baseline cell, -1 none */
	int is_base;
	int npairs;
	al_ttest tt;
	al_wilcoxon wx;
	int has_params, has_shapes;
} rep_cell;

typedef struct {
	rep_cell *c;
	int n, cap;
	char baseline[256];
	int best_val;        /* --select best-val: epochs picked by validation accuracy */
} rep_data;

/* Writes the sweep's plots as SVG. html != NULL: inline into html (figure
 * elements); else into dir as files, and lists them as markdown or LaTeX
 * references on f (fmt). Cells [from, to) belong to sweep. */
al_status rep_plots(al_store *s, rep_data *d, int from, int to, const char *dir, FILE *f,
		    al_report_format fmt);

#endif
