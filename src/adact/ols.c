/* ols.c — orthogonal least squares (SPEC.md 4.5) for OWO and MOLF.
 *
 * Why OLS and not a LAPACK solver: the normal equations of OWO and MOLF are
 * routinely singular (constant pixels, hidden units that duplicate inputs or
 * each other, units whose learning factor has no effect). Gram-Schmidt in
 * the order of the basis functions gives such functions weight exactly 0
 * and keeps the earlier ones, which is what the Manry/Tyagi algorithms
 * specify; LAPACK's Cholesky fails on them and its pivoted variants reorder
 * the basis (changing which function is dropped), while SVD least squares
 * spreads weight over dependent functions.
 *
 * Gram-Schmidt on R computes, for basis m, the projections s_j of m on the
 * orthonormalised earlier functions and its unexplained energy g. Those s_j
 * are exactly row m of the Cholesky-like factor L (L L^T = R on kept rows),
 * and s solves L[0:m,0:m] s = R[0:m,m], so each row is one triangular solve
 * (BLAS dtrsv) instead of scalar loops. Dropped rows of L are zero with a
 * unit diagonal; their entries of s are zeroed, so they never influence
 * later rows. The solution W = C A^T A with A = L^-1 is two triangular
 * solves (dtrsm).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "actlab/adact.h"
#include "actlab/core.h"

int al_ols_factor(int n, const double *R, int ldr, double *L, int ldl, unsigned char *kept,
		  int start, double rel, double abs)
{
	for (int m = start; m < n; m++) {
		double *row = L + (size_t)m * ldl;
		for (int j = 0; j < m; j++)
			row[j] = R[(size_t)j * ldr + m];
		if (m > 0)
			cblas_dtrsv(CblasRowMajor, CblasLower, CblasNoTrans, CblasNonUnit, m, L, ldl,
				    row, 1);
		double e = 0;
		for (int j = 0; j < m; j++) {
			if (!kept[j])
				row[j] = 0;
			e += row[j] * row[j];
		}
		double rmm = R[(size_t)m * ldr + m];
		double g = rmm - e;
		/* negated comparisons so that NaN drops the row */
		if (!(rmm > abs) || !(g > rel * rmm)) {
			memset(row, 0, (size_t)m * sizeof *row);
			row[m] = 1;
			kept[m] = 0;
		} else {
			row[m] = sqrt(g);
			kept[m] = 1;
		}
		for (int j = m + 1; j < n; j++)
			row[j] = 0;
	}
	int nk = 0;
	for (int m = 0; m < n; m++)
		nk += kept[m] != 0;
	return nk;
}

void al_ols_apply(int n, const double *L, int ldl, const unsigned char *kept, int m,
		  const double *C, int ldc, double *W, int ldw)
{
	if (W != C)
		for (int i = 0; i < m; i++)
			memmove(W + (size_t)i * ldw, C + (size_t)i * ldc, (size_t)n * sizeof *W);
	/* W L^T = C, then zero the dropped columns, then W_new L = W */
	cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasTrans, CblasNonUnit, m, n, 1.0, L,
		    ldl, W, ldw);
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++)
			if (!kept[j])
				W[(size_t)i * ldw + j] = 0;
	cblas_dtrsm(CblasRowMajor, CblasRight, CblasLower, CblasNoTrans, CblasNonUnit, m, n, 1.0,
		    L, ldl, W, ldw);
	for (int i = 0; i < m; i++)
		for (int j = 0; j < n; j++)
			if (!kept[j])
				W[(size_t)i * ldw + j] = 0;
}

al_status al_ols_solve(int n, const double *R, int m, const double *C, double *W, double rel,
		       double abs, int *nkept)
{
	if (n < 1 || m < 1 || !R || !C || !W)
		return al_err(AL_EINVAL, "ols: bad arguments (n=%d, m=%d)", n, m);
	double *L = al_malloc((size_t)n * n * sizeof *L);
	unsigned char *kept = al_malloc((size_t)n);
	if (!L || !kept) {
		al_free(L);
		al_free(kept);
		return al_err(AL_ENOMEM, "ols: cannot allocate a %dx%d factor", n, n);
	}
	int nk = al_ols_factor(n, R, n, L, n, kept, 0, rel, abs);
	al_ols_apply(n, L, n, kept, m, C, n, W, n);
	if (nkept)
		*nkept = nk;
	al_free(L);
	al_free(kept);
	return AL_OK;
}
