/* internal.h — state shared by the AdAct trainer's files (adact.c: data,
 * network, OWO/MOLF/hinge steps; baselines.c: CG, LM, SGD/Adam; fit.c:
 * whole runs). Not a public interface. */
#ifndef ACTLAB_ADACT_INTERNAL_H
#define ACTLAB_ADACT_INTERNAL_H

#include <math.h>

#include "actlab/adact.h"
#include "actlab/core.h"

struct al_adact {
	al_adact_opts o;
	const al_adact_data *d;
	al_adact_net net;
	int nu; /* ni + nh */
	/* mixed precision: float copy of X, float scratch for B and X B^T */
	float *Xf, *Bf, *Cf;

	/* forward state of the current network on d (n x nh / n x no) */
	double *Net, *O, *Fp;
	double *XWoi, *Y, *E; /* X Wo_i^T, outputs, residual T - Y */
	double mse;
	/* trial state (same shapes), swapped in when a step is accepted */
	double *Nt, *Ot, *Fpt, *Yt, *Et, *XWoit;
	/* scratch */
	double *P, *D, *Q; /* n x nh */
	double *DY;        /* n x no */
	double *G;         /* nh x ni */
	double *H, *g, *z, *LH; /* nh x nh, nh, nh, nh x nh */
	unsigned char *keptH;
	double *Ga, *A_old; /* nh x ns */
	/* OWO: correlations (nu x nu), factor, cross-correlations (no x nu) */
	double *R, *L, *C, *Wo_old;
	unsigned char *kept;
	int inputs_correlated, inputs_factored;
	double ols_rel; /* OWO's OLS threshold (raised when OWO is numerically broken) */

	/* CG state */
	double *cg_g, *cg_gn, *cg_p; /* flattened [W | Wo] */
	double cg_gg;
	int cg_iter;
	/* LM state */
	double lm_mu;
	double *lm_JtJ, *lm_A, *lm_J, *lm_Jte, *lm_delta;
	int lm_chunk;
	/* SGD / Adam state: params [W | Wo | A] */
	double *bp_m, *bp_v, *bp_grad;
	double *bp_Xb, *bp_Tb, *bp_N, *bp_O, *bp_Fp, *bp_Y, *bp_dY, *bp_dO;
	int32_t *bp_idx;
	long long bp_step;
	al_rng rng;
};

/* Segment of the hinge grid holding net value n: index m in [0, ns-2] and
 * the position t = (n - hinge_m)/delta (outside [0,1] beyond the grid). */
static inline void al_pla_segment(double n, double lo, double inv_delta, int ns, int *m,
				  double *t)
{
	double u = (n - lo) * inv_delta;
	double fl = floor(u);
	int mm;
	if (!(fl > 0)) /* also NaN */
		mm = 0;
	else if (fl > ns - 2)
		mm = ns - 2;
	else
		mm = (int)fl;
	*m = mm;
	*t = u - mm;
}

/* Row-partitioned C (n x m) = A (n x k) B^T (B: m x k) + beta C, over the
 * OpenMP threads, each calling single-threaded BLAS on its rows. */
void al__gemm_rows(int n, int k, int m, const double *A, int lda, const double *B, int ldb,
		   double beta, double *C, int ldc);
/* C (a x b) = alpha A^T B, A: n x a, B: n x b, partitioned over the larger
 * of a and b. */
void al__gemm_tn(int n, int a, int b, double alpha, const double *A, int lda, const double *B,
		 int ldb, double *C, int ldc);
/* C (n x m) = A (n x k) B (k x m), row-partitioned. */
void al__gemm_nn(int n, int k, int m, const double *A, int lda, const double *B, int ldb,
		 double *C, int ldc);

/* Products with the training inputs: C = X B^T (n x m) and C = alpha A^T X
 * (a x ni), in double or mixed precision per the options. */
void al__xbt(struct al_adact *t, int m, const double *B, int ldb, double *C, int ldc);
void al__atx(struct al_adact *t, int a, double alpha, const double *A, int lda, double *C,
	     int ldc);

/* Activations O and slopes Fp (either may be NULL) of nets N (n x nh). */
void al__act_forward(const al_adact_net *net, int n, const double *N, double *O, double *Fp);
/* Outputs Y = XWoi + O Wo_h^T, residual E = T - Y; returns the MSE. */
double al__outputs(struct al_adact *t, const double *XWoi, const double *O, const double *Wo,
		   double *Y, double *E);
/* Full forward of the current network into the state; returns the MSE. */
double al__forward(struct al_adact *t);

/* Baselines (baselines.c). */
al_status al__cg_iterate(struct al_adact *t, al_adact_iter *info);
al_status al__lm_iterate(struct al_adact *t, al_adact_iter *info);
al_status al__bp_epoch(struct al_adact *t, al_adact_iter *info);
al_status al__baselines_alloc(struct al_adact *t);
void al__baselines_free(struct al_adact *t);

#endif
