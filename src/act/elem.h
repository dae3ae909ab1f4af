/* elem.h — stamping macros that turn an element-wise entry's scalar
 * functions into kernels.
 *
 * An entry NAME with NP parameters defines, in src/act/elem_defs.h (which
 * is included once with T=float and once with T=double):
 *   F(NAME)  { ... return y; }          y = f(x; p, h)
 *   DF(NAME) { ... dp[k] = ...; return dy/dx; }   given x, y = f(x)
 * AL_ELEM_KERNELS(NAME, NP) then stamps:
 *   NAME_fwd, NAME_bwd  float kernels (al_act_fwd_fn / al_act_bwd_fn) for
 *                       shared and per-element params (vectorised loops);
 *   NAME_ref            the double reference (al_act_ref_fn).
 * The float kernels and the double reference come from the same source.
 */
#ifndef ACTLAB_ACT_ELEM_H
#define ACTLAB_ACT_ELEM_H

#include <stddef.h>

#include "actlab/act.h"

#define AL_NP1(np) ((np) > 0 ? (np) : 1)
#define AL_PRAGMA_(x) _Pragma(#x)
#define AL_PRAGMA(x) AL_PRAGMA_(x)

/* Backward block: with shared parameters, the block's dy * df/dp_k go to a
 * stack buffer td[k][0..AL_ELEM_BLK) (zero-padded for a partial block; a
 * full block of up to 4 parameters adds into 16 float lanes per parameter
 * inside the kernel loop instead, in the same order: per core, arelu's
 * backward 0.20 -> 0.15 ns/element, asigmoid 0.49 -> 0.44, frelu per
 * channel 0.20 -> 0.17 with its hshift test as a factor),
 * which al_elem_lanes adds into AL_ELEM_LANES float lanes (one vector add
 * per 16 floats) and those into AL_ELEM_LANES double lanes per parameter
 * (a vector add); the double lanes are summed in lane order at the end of
 * the call. The summation order depends only on the element's position in
 * the call, not on the thread count. (In-loop float lanes for frelu were
 * 20% slower than the block buffer while its DF selected on h[0]; with the
 * hyper test as a factor they are not: keep hyper tests out of DF's
 * selects. A single double per block was a serial chain of 16 dependent
 * adds; an `omp simd reduction` over an array section with a local dp[]
 * array keeps GCC from vectorising the loop at all; GCC vector types for
 * the lanes with an `omp simd` 16-element inner loop were scalarised,
 * 20-30x slower.) */
#define AL_ELEM_BLK 128
#define AL_ELEM_LANES 16
#define AL_UNROLL _Pragma("GCC unroll 32")

/* acc[q] += sum over j = q (mod AL_ELEM_LANES) of row[j], j < AL_ELEM_BLK,
 * in a fixed order (float partial sums within the block, double across
 * blocks). */
static inline void al_elem_lanes(const float *restrict row, double *restrict acc)
{
	float l[AL_ELEM_LANES] = {0};
	for (size_t j = 0; j < AL_ELEM_BLK; j += AL_ELEM_LANES)
		for (int q = 0; q < AL_ELEM_LANES; q++)
			l[q] += row[j + (size_t)q];
	for (int q = 0; q < AL_ELEM_LANES; q++)
		acc[q] += (double)l[q];
}

/* Sum of row[0..m), m <= AL_ELEM_BLK, in a fixed order: row padded with
 * zeros to AL_ELEM_BLK, al_elem_lanes, then the lanes in order. */
static inline double al_elem_rowsum(float *row, size_t m)
{
	for (size_t j = m; j < AL_ELEM_BLK; j++)
		row[j] = 0;
	double l[AL_ELEM_LANES] = {0}, s = 0;
	al_elem_lanes(row, l);
	for (int q = 0; q < AL_ELEM_LANES; q++)
		s += l[q];
	return s;
}

/* PREP(pv, h) derives NX values pv[NP..NP+NX) from the parameters pv[0..NP)
 * once per run of shared parameters (e.g. softmax blend weights), instead of
 * once per element; F/DF read them as p[NP + r]. AL_ELEM_NOPREP: none. */
#define AL_ELEM_NOPREP(pv, h) ((void)(pv), (void)(h))
#define AL_ELEM_KERNELS(name, NP) AL_ELEM_KERNELS_X(name, NP, 0, AL_ELEM_NOPREP)
#define AL_ELEM_KERNELS_X(name, NP, NX, PREP) AL_ELEM_KERNELS_XS(name, NP, NX, PREP, 0)

/* Shared-parameter backward through NS < NP sums (AL_ELEM_SUMS): for an entry
 * whose NP parameter gradients are fixed combinations of fewer per-element
 * sums, e.g. method1: dp = X0 b_t sum(dy td x) for tanh_a and X0 sum(dy) for
 * tanh_d. DFS(name) returns df/dx like DF and writes the NS per-element
 * terms g[q] (already multiplied by dy); FIN(name) maps the NS sums (double)
 * to the NP gradients. The sums are taken exactly as the NP rows of the
 * default path (block rows, float lanes, double lanes in order), so the
 * result still depends only on the element's position in the call. Only
 * the shared path uses it: per-element parameters and the double reference
 * use DF. */
typedef void (*al_elem_sums_fn)(const al_act_args *a, size_t n, const float *restrict x,
				const float *restrict y, const float *restrict dy,
				float *restrict dx, float *const *dp, const double *h);
#define AL_ELEM_SUMS(name, NP, NX, PREP, NS)                                                   \
	static void name##_bwd_sums(const al_act_args *a, size_t n, const float *restrict x,   \
				    const float *restrict y, const float *restrict dy,         \
				    float *restrict dx, float *const *dp, const double *h)     \
	{                                                                                      \
		float pv[AL_NP1(NP + NX)] = {0}, td[NS][AL_ELEM_BLK];                          \
		double accl[NS][AL_ELEM_LANES] = {{0}};                                        \
		for (int k = 0; k < NP; k++)                                                   \
			pv[k] = a->p[k][0];                                                    \
		PREP(pv, h);                                                                   \
		for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {                               \
			const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;          \
			const float *restrict xb = x + i0, *restrict yb = y + i0,              \
					      *restrict gb = dy + i0;                          \
			float *restrict dxb = dx + i0;                                         \
			for (size_t j = 0; j < m; j++) {                                       \
				float g[NS];                                                   \
				dxb[j] = gb[j] * name##_dfs_s(xb[j], yb[j], gb[j], pv, h, g);  \
				AL_UNROLL for (int q = 0; q < NS; q++) td[q][j] = g[q];        \
			}                                                                      \
			if (m < AL_ELEM_BLK)                                                   \
				for (int q = 0; q < NS; q++)                                   \
					for (size_t j = m; j < AL_ELEM_BLK; j++)               \
						td[q][j] = 0;                                  \
			for (int q = 0; q < NS; q++)                                           \
				al_elem_lanes(td[q], accl[q]);                                 \
		}                                                                              \
		double S[NS], out[AL_NP1(NP)];                                                 \
		for (int q = 0; q < NS; q++) {                                                 \
			S[q] = 0;                                                              \
			for (int l = 0; l < AL_ELEM_LANES; l++)                                \
				S[q] += accl[q][l];                                            \
		}                                                                              \
		name##_fin_s(pv, h, S, out);                                                   \
		for (int k = 0; k < NP; k++)                                                   \
			dp[k][0] += (float)out[k];                                             \
	}

#define AL_ELEM_KERNELS_XS(name, NP, NX, PREP, SUMS)                                           \
	static void name##_fwd(const al_act_args *a, size_t n, const float *restrict x,        \
			       float *restrict y)                                              \
	{                                                                                      \
		double h[AL_ACT_MAXH]; /* local copy: lets GCC if-convert hyper loads */      \
		for (int k_ = 0; k_ < AL_ACT_MAXH; k_++)                                       \
			h[k_] = a->h[k_];                                                      \
		if (NP == 0 || a->pstride == 0) {                                              \
			float pv[AL_NP1(NP + NX)] = {0};                                       \
			for (int k = 0; k < NP; k++)                                           \
				pv[k] = a->p[k][0];                                            \
			PREP(pv, h);                                                           \
			_Pragma("omp simd") for (size_t i = 0; i < n; i++) y[i] =              \
				name##_f_s(x[i], pv, h);                                       \
		} else {                                                                       \
			const size_t s = a->pstride;                                           \
			for (size_t i = 0; i < n; i++) {                                       \
				float pv[AL_NP1(NP + NX)];                                     \
				AL_UNROLL for (int k = 0; k < NP; k++) pv[k] = a->p[k][i * s]; \
				PREP(pv, h);                                                   \
				y[i] = name##_f_s(x[i], pv, h);                                \
			}                                                                      \
		}                                                                              \
	}                                                                                      \
	static void name##_bwd(const al_act_args *a, size_t n, const float *restrict x,        \
			       const float *restrict y, const float *restrict dy,              \
			       float *restrict dx, float *const *dp)                           \
	{                                                                                      \
		double h[AL_ACT_MAXH]; /* local copy: lets GCC if-convert hyper loads */      \
		for (int k_ = 0; k_ < AL_ACT_MAXH; k_++)                                       \
			h[k_] = a->h[k_];                                                      \
		if (NP == 0) {                                                                 \
			float pv[1] = {0};                                                     \
			_Pragma("omp simd") for (size_t i = 0; i < n; i++)                     \
			{                                                                      \
				float d[1];                                                    \
				dx[i] = dy[i] * name##_df_s(x[i], y[i], pv, h, d);            \
			}                                                                      \
			return;                                                                \
		}                                                                              \
		const size_t s = a->pstride;                                                   \
		const al_elem_sums_fn sums_ = (SUMS);                                          \
		if (sums_ && s == 0) {                                                         \
			sums_(a, n, x, y, dy, dx, dp, h);                                      \
			return;                                                                \
		}                                                                              \
		float pv[AL_NP1(NP + NX)] = {0}, td[AL_NP1(NP)][AL_ELEM_BLK];                  \
		double accl[AL_NP1(NP)][AL_ELEM_LANES] = {{0}};                                \
		if (s == 0) {                                                                  \
			for (int k = 0; k < NP; k++)                                           \
				pv[k] = a->p[k][0];                                            \
			PREP(pv, h);                                                           \
		}                                                                              \
		for (size_t i0 = 0; i0 < n; i0 += AL_ELEM_BLK) {                               \
			const size_t m = n - i0 < AL_ELEM_BLK ? n - i0 : AL_ELEM_BLK;          \
			const float *restrict xb = x + i0, *restrict yb = y + i0,              \
					      *restrict gb = dy + i0;                          \
			float *restrict dxb = dx + i0;                                         \
			if (s == 0 && NP <= 4 && m == AL_ELEM_BLK) {                           \
				float ln[AL_NP1(NP)][AL_ELEM_LANES] = {{0}};                   \
				for (size_t j0 = 0; j0 < AL_ELEM_BLK; j0 += AL_ELEM_LANES)     \
					for (size_t q = 0; q < AL_ELEM_LANES; q++) {           \
						const size_t j = j0 + q;                       \
						float d[AL_NP1(NP)];                           \
						dxb[j] = gb[j] *                               \
							 name##_df_s(xb[j], yb[j], pv, h, d);  \
						AL_UNROLL for (int k = 0; k < NP; k++)         \
							ln[k][q] += gb[j] * d[k];              \
					}                                                      \
				for (int k = 0; k < NP; k++)                                   \
					for (int q = 0; q < AL_ELEM_LANES; q++)                \
						accl[k][q] += (double)ln[k][q];                \
			} else if (s == 0) {                                                   \
				for (size_t j = 0; j < m; j++) {                               \
					float d[AL_NP1(NP)];                                   \
					dxb[j] = gb[j] * name##_df_s(xb[j], yb[j], pv, h, d);  \
					AL_UNROLL for (int k = 0; k < NP; k++) td[k][j] =      \
						gb[j] * d[k];                                  \
				}                                                              \
				if (m < AL_ELEM_BLK)                                           \
					for (int k = 0; k < NP; k++)                           \
						for (size_t j = m; j < AL_ELEM_BLK; j++)       \
							td[k][j] = 0;                          \
				for (int k = 0; k < NP; k++)                                   \
					al_elem_lanes(td[k], accl[k]);                         \
			} else {                                                               \
				for (size_t j = 0; j < m; j++) {                               \
					float q[AL_NP1(NP + NX)], d[AL_NP1(NP)];               \
					AL_UNROLL for (int k = 0; k < NP; k++) q[k] =          \
						a->p[k][(i0 + j) * s];                         \
					PREP(q, h);                                            \
					dxb[j] = gb[j] * name##_df_s(xb[j], yb[j], q, h, d);   \
					AL_UNROLL for (int k = 0; k < NP; k++) td[k][j] =      \
						gb[j] * d[k];                                  \
				}                                                              \
				for (int k = 0; k < NP; k++)                                   \
					for (size_t j = 0; j < m; j++)                         \
						dp[k][(i0 + j) * s] += td[k][j];               \
			}                                                                      \
		}                                                                              \
		if (s == 0)                                                                    \
			for (int k = 0; k < NP; k++) {                                         \
				double acc = 0;                                                \
				for (int q = 0; q < AL_ELEM_LANES; q++)                        \
					acc += accl[k][q];                                     \
				dp[k][0] += (float)acc;                                        \
			}                                                                      \
	}                                                                                      \
	static double name##_ref(const double *h, const double *p, double x, double *dfdx,     \
				 double *dfdp)                                                 \
	{                                                                                      \
		double q[AL_NP1(NP + NX)] = {0}, d[AL_NP1(NP)] = {0};                          \
		for (int k = 0; k < NP; k++)                                                   \
			q[k] = p[k];                                                           \
		PREP(q, h);                                                                    \
		double y = name##_f_d(x, q, h);                                                \
		*dfdx = name##_df_d(x, y, q, h, d);                                           \
		for (int k = 0; k < NP; k++)                                                   \
			dfdp[k] = d[k];                                                        \
		return y;                                                                      \
	}

/* f(x) and f'(x) of a parameter-free entry in one loop (the forward and
 * the backward with dy = 1 share their exponentials there): for wrappers
 * such as adaptive:base=NAME, whose backward needs both. Same values as
 * NAME_fwd then NAME_bwd with dy = 1, up to FMA contraction across F and DF. */
typedef void (*al_elem_fb_fn)(const al_act_args *a, size_t n, const float *restrict x,
			      float *restrict f, float *restrict fp);
#define AL_ELEM_FB(name)                                                                       \
	static void name##_fb(const al_act_args *a, size_t n, const float *restrict x,         \
			      float *restrict f, float *restrict fp)                           \
	{                                                                                      \
		double h[AL_ACT_MAXH];                                                         \
		for (int k_ = 0; k_ < AL_ACT_MAXH; k_++)                                       \
			h[k_] = a->h[k_];                                                      \
		float pv[1] = {0};                                                             \
		_Pragma("omp simd") for (size_t i = 0; i < n; i++)                             \
		{                                                                              \
			float d[1], y_ = name##_f_s(x[i], pv, h);                              \
			f[i] = y_;                                                             \
			fp[i] = name##_df_s(x[i], y_, pv, h, d);                               \
		}                                                                              \
	}

#define AL_ELEM(name) .fwd = name##_fwd, .bwd = name##_bwd, .ref = name##_ref

#endif
