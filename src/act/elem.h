/* elem.h — stamping macros that turn an element-wise entry's scalar
 * functions into kernels.
 *
 * An entry NAME with NP parameters defines, in src/act/elem_defs.h (which
 * is included once with T=float and once with T=double):
 *   F(NAME)  { ... return y; }          y = f(x; p, h)
 *   DF(NAME) { ... dp[k] = ...; return dy/dx; }   given x, y = f(x)
 * AL_ELEM_KERNELS(NAME, NP) then stamps:
 *   NAME_fwd, NAME_bwd  float kernels (al_act_fwd_fn / al_act_bwd_fn) with
 *                       `omp simd` loops for shared and per-element params;
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

#define AL_ELEM_KERNELS(name, NP)                                                              \
	static void name##_fwd(const al_act_args *a, size_t n, const float *restrict x,        \
			       float *restrict y)                                              \
	{                                                                                      \
		double h[AL_ACT_MAXH]; /* local copy: lets GCC if-convert hyper loads */      \
		for (int k_ = 0; k_ < AL_ACT_MAXH; k_++)                                       \
			h[k_] = a->h[k_];                                                      \
		if (NP == 0 || a->pstride == 0) {                                              \
			float pv[AL_NP1(NP)] = {0};                                            \
			for (int k = 0; k < NP; k++)                                           \
				pv[k] = a->p[k][0];                                            \
			_Pragma("omp simd") for (size_t i = 0; i < n; i++) y[i] =              \
				name##_f_s(x[i], pv, h);                                       \
		} else {                                                                       \
			const size_t s = a->pstride;                                           \
			_Pragma("omp simd") for (size_t i = 0; i < n; i++)                     \
			{                                                                      \
				float pv[AL_NP1(NP)];                                          \
				for (int k = 0; k < NP; k++)                                   \
					pv[k] = a->p[k][i * s];                                \
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
		} else if (a->pstride == 0) {                                                  \
			float pv[AL_NP1(NP)], acc[AL_NP1(NP)];                                 \
			for (int k = 0; k < NP; k++) {                                         \
				pv[k] = a->p[k][0];                                            \
				acc[k] = 0;                                                    \
			}                                                                      \
			AL_PRAGMA(omp simd reduction(+ : acc[:AL_NP1(NP)])) for (size_t i = 0; \
										 i < n; i++) \
			{                                                                      \
				float d[AL_NP1(NP)];                                           \
				dx[i] = dy[i] * name##_df_s(x[i], y[i], pv, h, d);            \
				for (int k = 0; k < NP; k++)                                   \
					acc[k] += dy[i] * d[k];                                \
			}                                                                      \
			for (int k = 0; k < NP; k++)                                           \
				dp[k][0] += acc[k];                                            \
		} else {                                                                       \
			const size_t s = a->pstride;                                           \
			for (size_t i = 0; i < n; i++) {                                       \
				float pv[AL_NP1(NP)], d[AL_NP1(NP)];                           \
				for (int k = 0; k < NP; k++)                                   \
					pv[k] = a->p[k][i * s];                                \
				dx[i] = dy[i] * name##_df_s(x[i], y[i], pv, h, d);            \
				for (int k = 0; k < NP; k++)                                   \
					dp[k][i * s] += dy[i] * d[k];                          \
			}                                                                      \
		}                                                                              \
	}                                                                                      \
	static double name##_ref(const double *h, const double *p, double x, double *dfdx,     \
				 double *dfdp)                                                 \
	{                                                                                      \
		double d[AL_NP1(NP)] = {0};                                                    \
		double y = name##_f_d(x, p, h);                                                \
		*dfdx = name##_df_d(x, y, p, h, d);                                           \
		for (int k = 0; k < NP; k++)                                                   \
			dfdp[k] = d[k];                                                        \
		return y;                                                                      \
	}

#define AL_ELEM(name) .fwd = name##_fwd, .bwd = name##_bwd, .ref = name##_ref

#endif
