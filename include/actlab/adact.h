/* adact.h — the second-order trainer of seed 003 for a two-layer MLP in the
 * Manry convention, and the baselines it is compared with.
 *
 * Network (SPEC.md 4.3): inputs standardised and augmented with a constant
 * 1 (ni = N+1 columns), N_h hidden units with piecewise-linear activations
 * over fixed, equally spaced hinges (SPEC.md 4.2: A holds N_s hinge values
 * per unit, linear interpolation between hinges, linear extrapolation of
 * the end segments), M linear outputs with bypass weights from the inputs:
 *   net = X W^T,  O = f(net),  Y = X Wo_i^T + O Wo_h^T,  Wo = [Wo_i | Wo_h].
 * Error E = (1/N_v) sum_p sum_i (t_p(i) - y_p(i))^2 against one-hot targets.
 *
 * Algorithms (al_adact_algo): adact = MOLF step + hinge step + OWO per
 * iteration (SPEC.md 4.9); molf = MOLF + OWO; owo-bp = OWO + back-prop with
 * one optimal learning factor; cg = conjugate gradient over all weights
 * with a Gauss-Newton learning factor; lm = Levenberg-Marquardt (small
 * networks); sgd / adam = mini-batch back-prop of the same network (hidden
 * weights, output weights and hinge values).
 *
 * Everything is double precision except, by default, the products with the
 * input matrix (al_adact_precision). Correlations are BLAS GEMMs split over
 * the OpenMP threads by output blocks (no reductions across threads). Functions return al_status and set
 * the thread-local message on failure; nothing here prints.
 */
#ifndef ACTLAB_ADACT_H
#define ACTLAB_ADACT_H

#include <stddef.h>
#include <stdint.h>

#include "actlab/data.h"
#include "actlab/status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- OLS solver (SPEC.md 4.5) ------------------------------------------- */
/* Orthogonal least squares by Gram-Schmidt on a symmetric PSD correlation
 * matrix R (n x n, row-major): minimises w^T R w - 2 w^T c for each
 * right-hand side, processing basis functions in order and giving weight 0
 * to any whose energy not explained by the earlier kept ones is at most
 * rel * R(m,m) (or with R(m,m) <= abs). Computed as the row-by-row factor
 * L (lower triangular, L L^T = R on the kept rows; dropped rows are zero
 * with a unit diagonal), which is the inverse of Gram-Schmidt's A matrix.
 *
 * al_ols_factor factors rows [start, n) of R into L (ldl >= n), keeping
 * rows [0, start) from an earlier call (so a fixed leading block is
 * factored once); kept[m] is set to 1 or 0. Returns the number of kept
 * rows among [0, n). */
int al_ols_factor(int n, const double *R, int ldr, double *L, int ldl, unsigned char *kept,
		  int start, double rel, double abs);
/* W (m x n, ldw) = the OLS solution of W R = C (C: m x n, ldc) for the
 * factor L; dropped columns of W are exactly 0. W may alias C. */
void al_ols_apply(int n, const double *L, int ldl, const unsigned char *kept, int m,
		  const double *C, int ldc, double *W, int ldw);
/* Convenience: factor and apply; nkept (may be NULL) gets the rank. */
al_status al_ols_solve(int n, const double *R, int m, const double *C, double *W, double rel,
		       double abs, int *nkept);

/* ---- data ---------------------------------------------------------------- */
typedef struct {
	int n;           /* samples N_v */
	int ni;          /* inputs including the constant 1 (last column) */
	int no;          /* outputs M = classes */
	double *X;       /* (n, ni) */
	double *T;       /* (n, no) one-hot targets */
	int32_t *labels; /* (n) */
} al_adact_data;

/* Per-feature mean and std over the samples idx[0..n) of d (idx NULL: all):
 * of pixels/255 for image data, of the features for tabular data (csv).
 * Features with zero variance get std 1. mean, std: c*h*w values. */
al_status al_adact_input_stats(const al_dataset *d, const int32_t *idx, int n, double *mean,
			       double *std);
/* Builds standardised, augmented inputs and one-hot targets from samples
 * idx[0..n) of d (idx NULL: all) with the given statistics. */
al_status al_adact_data_make(const al_dataset *d, const int32_t *idx, int n, const double *mean,
			     const double *std, al_adact_data *out);
/* Allocates an uninitialised set (for callers that fill X, T, labels). */
al_status al_adact_data_alloc(int n, int ni, int no, al_adact_data *out);
void al_adact_data_free(al_adact_data *d);

/* ---- network ------------------------------------------------------------- */
typedef struct {
	int ni, nh, no, ns;
	double lo, delta; /* hinge j (0-based) sits at lo + j*delta */
	double *W;        /* (nh, ni) input weights, last column = bias */
	double *A;        /* (nh, ns) hinge values */
	double *Wo;       /* (no, ni + nh) output weights [Wo_i | Wo_h] */
} al_adact_net;

/* f_k(n), and its slope df/dn (right segment at a hinge), for unit k. */
double al_adact_pla(const al_adact_net *net, int k, double n, double *slope);
/* E (MSE as above) and accuracy (argmax y == label) of net on d. */
al_status al_adact_evaluate(const al_adact_net *net, const al_adact_data *d, double *mse,
			    double *acc);
/* The same plus macro precision (SPEC.md section 6: mean over classes of
 * TP/(TP+FP), 0/0 = 0); any output may be NULL. */
al_status al_adact_evaluate_prec(const al_adact_net *net, const al_adact_data *d, double *mse,
				 double *acc, double *macro_prec);

/* ---- trainer ------------------------------------------------------------- */
typedef enum {
	AL_ADACT_ADACT,
	AL_ADACT_MOLF,
	AL_ADACT_OWOBP,
	AL_ADACT_CG,
	AL_ADACT_LM,
	AL_ADACT_SGD,
	AL_ADACT_ADAM
} al_adact_algo;

al_status al_adact_parse_algo(const char *name, al_adact_algo *out);
const char *al_adact_algo_name(al_adact_algo a);

/* Precision of the products with the input matrix X (the bulk of the work):
 * double, or mixed = the nets X W^T, the MOLF gradient and net changes by
 * sgemm on a float copy of X, sums over samples accumulated in double per
 * chunk of 1024 samples. The OWO correlations are always double: OLS must
 * tell dependent basis functions apart at 1e-10 relative energy. */
typedef enum { AL_ADACT_DOUBLE, AL_ADACT_MIXED } al_adact_precision;

typedef struct {
	al_adact_algo algo;
	al_adact_precision precision; /* default mixed */
	int hidden;          /* N_h (default 100) */
	int hinges;          /* N_s (default 9) */
	double lo, hi;       /* hinge range (default -4, 4) */
	int init_leaky;      /* hinge values at init: 0 relu, 1 leaky_relu(0.01) */
	int iters;           /* iterations; epochs for sgd/adam (default 50) */
	int per_unit;        /* hinge step with one learning factor per unit */
	int safeguard;       /* halvings of a rejected learning factor (default 5; 0: off) */
	double ols_rel, ols_abs; /* OLS thresholds (1e-10, 1e-12) */
	double net_mean, net_std; /* net control targets (0, 1) */
	uint64_t seed;
	/* back-prop baselines */
	double lr;           /* 0: algorithm default (adam 1e-3, sgd 1e-4) */
	double momentum;     /* sgd (default 0.9) */
	double beta1, beta2, eps; /* adam (0.9, 0.999, 1e-8) */
	int batch;           /* default 64 */
	/* regularisation (not in seed 003; SPEC.md 4.4's optional ridge) */
	double ridge;        /* mu >= 0 (default 0): the objective is E + mu |Wo|^2 over
			      * the output weights except the constant input's column;
			      * OWO solves (R + mu I) Wo = C, sgd/adam add 2 mu Wo to the
			      * gradient; cg and lm refuse mu > 0 */
	double wd;           /* sgd/adam only (default 0): weight decay on W and Wo
			      * except the bias columns, gradient += wd w (PyTorch's
			      * weight_decay, i.e. the penalty wd/2 |w|^2) */
	/* lm */
	double lm_mu;        /* initial damping (default 0.01) */
	int lm_max_weights;  /* refuse larger networks (default 4000) */
} al_adact_opts;

al_adact_opts al_adact_opts_default(void);
/* Checks ranges; the message names the option and value. */
al_status al_adact_opts_check(const al_adact_opts *o);

typedef struct al_adact al_adact;

/* Initialises a trainer on train (borrowed; must outlive the trainer):
 * random W with net control, hinges at relu/leaky_relu, then OWO (for
 * sgd/adam the output weights start at the OWO solution as well, so every
 * algorithm starts from the same network). */
al_status al_adact_create(const al_adact_opts *o, const al_adact_data *train, al_adact **out);
void al_adact_free(al_adact *t);
/* The current network (owned by the trainer; may be modified between
 * calls, e.g. by tests). */
al_adact_net *al_adact_network(al_adact *t);

typedef struct {
	double mse;       /* E on the training set after the iteration */
	double z_mean;    /* mean MOLF / OWO-BP / CG learning factor applied */
	double z_hinge;   /* hinge-step learning factor (adact) */
	int halvings;     /* safeguard halvings in this iteration */
	int rejected;     /* steps the safeguard rejected (learning factor set to 0) */
	/* set by al_adact_fit before its callback (-1 without a test set) */
	double test_acc, test_prec;
} al_adact_iter;

/* One iteration (one epoch for sgd/adam). */
al_status al_adact_iterate(al_adact *t, al_adact_iter *info);

/* Building blocks (used by al_adact_iterate; public for tests). All use the
 * trainer's current network and training set. */
/* E of the current network. */
double al_adact_mse(al_adact *t);
/* OWO: output weights by the OLS solution of the normal equations. */
al_status al_adact_owo(al_adact *t);
/* MOLF system (SPEC.md 4.7): G (nh x ni) negative gradient of E w.r.t. W;
 * H (nh x nh) Gauss-Newton Hessian and g (nh) negative gradient of E(z)
 * for W(z) = W + diag(z) G. Any output may be NULL. */
al_status al_adact_molf_system(al_adact *t, double *G, double *H, double *g);
/* E of the network with W + diag(z) G (the network is not changed). */
double al_adact_molf_error(al_adact *t, const double *G, const double *z);
/* Hinge step (SPEC.md 4.8): Ga (nh x ns) negative gradient of E w.r.t. A;
 * *z = the exact minimiser of E(A + z Ga). */
al_status al_adact_hinge_step_factor(al_adact *t, double *Ga, double *z);
/* E of the network with A + z Ga (the network is not changed). */
double al_adact_hinge_error(al_adact *t, const double *Ga, double z);

/* Gradient of E w.r.t. theta = [W | Wo | A] (row-major blocks, nh*ni +
 * no*(ni+nh) + nh*ns values) at the current network, by back-prop. */
al_status al_adact_gradient(al_adact *t, double *grad);

/* ---- whole runs ---------------------------------------------------------- */
typedef struct {
	int iters;
	double train_mse, train_acc;
	double val_acc;           /* best validation accuracy, -1 without a validation set */
	int best_iter;            /* iteration of the tested network (iters without validation) */
	double test_acc, test_mse; /* -1 without a test set */
	double seconds_init;      /* initialisation including the first OWO */
	double seconds_per_iter;  /* mean wall time of one iteration */
	double cpu_seconds_per_iter; /* mean CPU time (all threads) of one iteration */
	double *mse;              /* (iters + 1): E at init and after each iteration */
	double *val;              /* (iters + 1) validation accuracy, or NULL */
	double *test;             /* (iters + 1) test accuracy, or NULL (not timed) */
	double *test_prec;        /* (iters + 1) test macro precision, or NULL */
	/* the tested network's hinge values (nh x ns; hinge j at lo + j*delta) */
	int nh, ns;
	double lo, delta;
	double *hinges;
	size_t nparams;           /* trained parameters: W and Wo, plus A when the
				     algorithm trains it (adact, sgd, adam) */
} al_adact_fit_result;

typedef void (*al_adact_progress)(void *ctx, int iter, const al_adact_iter *info,
				  double val_acc, double seconds);

/* Trains on train for o->iters iterations, evaluating val (optional) after
 * every iteration and test (optional) at the end. With val, the network of
 * the iteration with the best validation accuracy among iterations
 * 1..iters (the earliest on ties; the initial OWO solution, iteration 0,
 * only when iters = 0) is the one evaluated on train and test (early
 * stopping); without, the last one. r->val[0] and r->test[0] are still the
 * initial network's accuracies. */
al_status al_adact_fit(const al_adact_opts *o, const al_adact_data *train,
		       const al_adact_data *val, const al_adact_data *test,
		       al_adact_progress cb, void *ctx, al_adact_fit_result *r);
void al_adact_fit_result_free(al_adact_fit_result *r);

/* Whole experiment from a data spec (al_data_load): inputs standardised
 * with statistics of the training part only. kfold = 0: train on the
 * training part (minus a stratified validation fraction val), test on the
 * test part. kfold = K >= 2: seeded stratified K-fold cross-validation over
 * the training part (al_kfold_split); each fold trains on K-1 folds and is
 * tested on the held-out fold; fold >= 0 runs only that fold. val > 0
 * takes a stratified, seeded validation fraction from each run's training
 * samples for early stopping (al_adact_fit). */
typedef struct {
	const char *data;
	int kfold;
	int fold;            /* -1: all folds */
	double val;          /* validation fraction of the training samples (0: none) */
	uint64_t split_seed; /* fold / validation assignment */
} al_adact_run_opts;

al_adact_run_opts al_adact_run_opts_default(void);

typedef struct {
	int nruns;                 /* 1, or the folds run */
	int *fold;                 /* (nruns) fold index, -1 for a plain run */
	al_adact_fit_result *runs; /* (nruns) */
	int n_train, n_val, n_test; /* sizes of the first run */
	double test_acc_mean, test_acc_std; /* over runs; std with ddof 1 (0 for one run) */
	double train_mse_mean, seconds_per_iter_mean;
} al_adact_report;

typedef void (*al_adact_run_progress)(void *ctx, int fold, int iter, const al_adact_iter *info,
				      double val_acc, double seconds);

al_status al_adact_run(const al_adact_opts *o, const al_adact_run_opts *r,
		       al_adact_run_progress cb, void *ctx, al_adact_report *out);
void al_adact_report_free(al_adact_report *r);

#ifdef __cplusplus
}
#endif
#endif
