/* window_ref.c — a plain double-precision forward of the window-based
 * activations (SPEC.md 1.1-1.11) for `actlab gradcheck`: explicit tile
 * loops, edges=pad by literally zero-padding the tile, the formulas of each
 * entry written out per element. Slow and simple on purpose; the fused
 * float kernels are in window.c, the test suite has its own reference with
 * Jacobians (tests/test_window.c).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "act/window.h"

enum { R_NELU, R_PNELU, R_EXC, R_EXCREF, R_EXCV2, R_INHV2, R_SMAX, R_MAXR, R_MAX };

static int op_of(const al_act_spec *s)
{
	const char *nm = s->desc->name;
	const double *h = s->hyper;
	if (!strcmp(nm, "nelu") || !strcmp(nm, "inhibitor"))
		return R_NELU;
	if (!strcmp(nm, "pnelu"))
		return R_PNELU;
	if (!strcmp(nm, "excitator"))
		return h[AL_WIN_COMPAT] != 0 ? R_EXCREF : R_EXC;
	if (!strcmp(nm, "excitator_v2"))
		return R_EXCV2;
	if (!strcmp(nm, "inhibitor_v2"))
		return h[AL_WIN_COMPAT] != 0 ? R_NELU : R_INHV2;
	if (!strcmp(nm, "softmax_relu"))
		return R_SMAX;
	if (!strcmp(nm, "max_relu"))
		return R_MAXR;
	if (!strcmp(nm, "max"))
		return R_MAX;
	return -1;
}

static int imin(int a, int b) { return a < b ? a : b; }

/* One group of m values (padded zeros included) into y. */
static void group(int op, const double *h, int m, const double *x, const double *l, double *y)
{
	double Sm = 0, Sp = 0, M = -INFINITY;
	int n0 = 0, np = 0, am = 0;
	for (int i = 0; i < m; i++) {
		Sm += x[i] < 0 ? x[i] : 0;
		Sp += x[i] > 0 ? x[i] : 0;
		n0 += x[i] <= 0;
		np += x[i] >= 0;
		if (x[i] > M) {
			M = x[i];
			am = i;
		}
	}
	double s = 0;
	if (op == R_SMAX)
		for (int i = 0; i < m; i++)
			s += exp(x[i] - M);
	int first = (op == R_MAX || op == R_MAXR) && h[AL_WIN_TIES] != 0;
	for (int i = 0; i < m; i++) {
		double xi = x[i], li = l[i], p;
		switch (op) {
		case R_NELU: p = xi + li * Sm; y[i] = p > 0 ? p : 0; break;
		case R_PNELU: y[i] = xi > 0 ? xi + li * Sm : 0; break;
		case R_EXC:
		case R_EXCV2:
			p = xi + li * Sp / (op == R_EXCV2 && n0 > 1 ? n0 : 1);
			y[i] = xi > 0 ? (1 - li) * xi : (p > 0 ? p : 0);
			break;
		case R_EXCREF: p = xi - li * (xi > 0 ? xi : 0) + li * Sp; y[i] = p > 0 ? p : 0; break;
		case R_INHV2:
			p = xi + li * Sm / (np > 1 ? np : 1);
			y[i] = xi >= 0 && p > 0 ? p : 0;
			break;
		case R_SMAX: y[i] = exp(xi - M) / s >= h[AL_WIN_TAU] ? xi : 0; break;
		default: {
			int keep = first ? i == am : xi == M;
			y[i] = keep && (op == R_MAX || xi > 0) ? xi : 0;
		}
		}
	}
}

al_status al_win_ref_forward(const al_act_spec *s, int n, int c, int hh, int w, const double *x,
			     const double *lam, double *y)
{
	int op = op_of(s);
	if (op < 0 || s->desc->kind != AL_ACT_WINDOW)
		return al_err(AL_EINVAL, "window reference: '%s' is not a window entry",
			      s->desc->name);
	int H, W, C, kh, kw;
	al_win_geometry(s->hyper, c, hh, w, &H, &W, &C, &kh, &kw);
	const int pad = s->hyper[AL_WIN_EDGES] != 0;
	const int col = op == R_SMAX && s->hyper[AL_WIN_GROUP] != 0;
	const size_t hw = (size_t)H * (size_t)W;
	size_t cap = (size_t)kh * (size_t)kw;
	double *xv = malloc(cap * 3 * sizeof *xv);
	long *idx = malloc(cap * sizeof *idx);
	if (!xv || !idx) {
		free(xv);
		free(idx);
		return al_err(AL_ENOMEM, "window reference: %zu-element window", cap);
	}
	double *lv = xv + cap, *yv = lv + cap;
	for (size_t p = 0; p < (size_t)n * (size_t)C; p++)
		for (int r0 = 0; r0 < H; r0 += kh)
			for (int c0 = 0; c0 < W; c0 += kw) {
				int rows = pad ? kh : imin(kh, H - r0), cols = pad ? kw : imin(kw, W - c0);
				for (int g = 0; g < (col ? cols : 1); g++) {
					int m = 0;
					for (int r = 0; r < rows; r++)
						for (int j = 0; j < cols; j++) {
							if (col && j != g)
								continue;
							int real = r0 + r < H && c0 + j < W;
							size_t e = p * hw + (size_t)(r0 + r) * (size_t)W +
								   (size_t)(c0 + j);
							idx[m] = real ? (long)e : -1;
							xv[m] = real ? x[e] : 0;
							lv[m] = real && lam ? lam[e] : 0;
							m++;
						}
					group(op, s->hyper, m, xv, lv, yv);
					for (int i = 0; i < m; i++)
						if (idx[i] >= 0)
							y[idx[i]] = yv[i];
				}
			}
	free(xv);
	free(idx);
	return AL_OK;
}
