/* learned_grid.c — the B-spline grid update (KAN's update_grid, on actlab's
 * one uniform grid per layer).
 *
 * At the end of each of the first `update` training epochs, a bspline layer
 * moves its grid [lo, hi] to the range of the inputs it has recorded (less
 * a fraction `trim` of them at each end, read off the record's histogram)
 * and refits every unit's coefficients so that its spline keeps its shape
 * over the inputs: new c = argmin sum_s w_s (sum_i c_i B'_i(x_s) -
 * sum_j c_j B_j(x_s))^2 over samples x_s spread evenly over the new grid,
 * w_s the recorded input density there plus 1% of its mean (so the fit is
 * determined where no input fell). The old spline is a fixed combination of
 * old basis functions, so the fit is one linear map T (G+k square) from old
 * to new coefficients, solved once per layer by LAPACK's least squares
 * (dgels, QR) and applied to every unit; wb, ws and the SiLU base term are
 * unchanged. Where the new grid does not reach, the spline part is 0, as
 * outside any grid.
 *
 * Why one grid per layer (KAN keeps one per edge): the kernels then share
 * the knot arithmetic across all units of the layer, and the record the
 * update reads is per layer. Serial and deterministic: every process of a
 * data-parallel run computes the same update from the same (averaged)
 * record and parameters.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"

/* x below which a fraction q of the recorded inputs lie (linear inside a
 * histogram bin) */
static double record_quantile(const al_act_record *rec, double q)
{
	double want = q * rec->count, cum = 0, w = (rec->hi - rec->lo) / rec->nbins;
	for (int b = 0; b < rec->nbins; b++) {
		double c = rec->bins[b];
		if (c > 0 && cum + c >= want)
			return rec->lo + w * (b + (want - cum) / c);
		cum += c;
	}
	return rec->hi;
}

al_status al_ln_bspline_epoch_end(double *h, int epoch, const al_act_record *rec, float *params,
				  size_t groups, int *changed)
{
	*changed = 0;
	if (epoch > (int)h[AL_BS_UPDATE] || !rec || !(rec->count > 0) || rec->nbins < 1 ||
	    !(rec->hi > rec->lo))
		return AL_OK;
	double trim = h[AL_BS_TRIM];
	double nlo = trim > 0 ? record_quantile(rec, trim) : rec->lo;
	double nhi = trim > 0 ? record_quantile(rec, 1 - trim) : rec->hi;
	if (!(nhi - nlo > 1e-6 * (fabs(nlo) + fabs(nhi) + 1))) { /* all inputs in one bin */
		double c = (nlo + nhi) / 2, half = (rec->hi - rec->lo) / rec->nbins / 2;
		nlo = c - half;
		nhi = c + half;
	}
	/* the grid lives in float layer state: decide on the float values */
	nlo = (double)(float)nlo;
	nhi = (double)(float)nhi;
	if (nlo == h[AL_BS_LO] && nhi == h[AL_BS_HI])
		return AL_OK;

	const int G = (int)h[AL_BS_G], k = (int)h[AL_BS_K], nc = G + k, P = nc + 2;
	const int M = 16 * nc > 256 ? 16 * nc : 256;
	double hn[AL_ACT_MAXH];
	memcpy(hn, h, sizeof hn);
	hn[AL_BS_LO] = nlo;
	hn[AL_BS_HI] = nhi;
	double *A = malloc(sizeof(double) * (size_t)M * (size_t)nc * 2);
	double *Bo = malloc(sizeof(double) * (size_t)(nc + 2 * 5 + 2) * 2);
	if (!A || !Bo) {
		free(A);
		free(Bo);
		return al_err(AL_ENOMEM, "bspline grid update: out of memory");
	}
	double *X = A + (size_t)M * nc, *dB = Bo + nc + 12;
	/* rows: sqrt(w_s) B'(x_s) in A, sqrt(w_s) B(x_s) in X (the right-hand
	 * sides, one per old basis function) */
	const double bw = (rec->hi - rec->lo) / rec->nbins, mean = rec->count / rec->nbins;
	for (int s = 0; s < M; s++) {
		double x = nlo + (nhi - nlo) * (s + 0.5) / M;
		int b = (int)floor((x - rec->lo) / bw);
		double cnt = b >= 0 && b < rec->nbins ? rec->bins[b] : 0;
		double sw = sqrt(cnt / mean + 0.01);
		al_ln_bspline_basis(hn, x, A + (size_t)s * nc, dB);
		al_ln_bspline_basis(h, x, Bo, dB);
		for (int i = 0; i < nc; i++) {
			A[(size_t)s * nc + i] *= sw;
			X[(size_t)s * nc + i] = sw * Bo[i];
		}
	}
	lapack_int info = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', M, nc, nc, A, nc, X, nc);
	if (info != 0) {
		free(A);
		free(Bo);
		return al_err(AL_ERANGE,
			      "bspline grid update to [%g, %g]: least-squares refit failed "
			      "(LAPACK dgels info %d)",
			      nlo, nhi, (int)info);
	}
	/* X's first nc rows: T, new c_i = sum_j T[i][j] c_j */
	double cold[AL_LN_MAXP];
	for (size_t g = 0; g < groups; g++) {
		float *p = params + g * (size_t)P;
		for (int j = 0; j < nc; j++)
			cold[j] = p[j];
		for (int i = 0; i < nc; i++) {
			double v = 0;
			for (int j = 0; j < nc; j++)
				v += X[(size_t)i * nc + j] * cold[j];
			p[i] = (float)v;
		}
	}
	free(A);
	free(Bo);
	h[AL_BS_LO] = nlo;
	h[AL_BS_HI] = nhi;
	*changed = 1;
	return AL_OK;
}
