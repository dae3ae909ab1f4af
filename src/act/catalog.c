/* catalog.c — THE activation table. One row per entry: name, formula,
 * citation, hyper-parameters, trainable parameters (init, bounds) and
 * kernels. Everything else (spec parsing, `act list`, docs, gradient checks,
 * benchmarks, checkpoints) walks this table; adding an activation is one
 * row here plus its scalar functions in elem_defs.h.
 * Not for: whole-tensor logic (act.c) or window/learned kernels (own files).
 */
#include <math.h>
#include <string.h>

#include "act/elem.h"
#include "actlab/act.h"
#include "math/vmath.h"

/* ---- double versions of the helpers used by elem_defs.h ------------------ */
static inline double sigmoid_d(double x)
{
	double e = exp(-fabs(x));
	return x >= 0 ? 1.0 / (1.0 + e) : e / (1.0 + e);
}

/* ---- stamp the scalar functions: float ----------------------------------- */
#define T float
#define C(v) ((float)(v))
#define F(name) static inline float name##_f_s(float x, const float *restrict p, const double *restrict h)
#define DF(name)                                                                          \
	static inline float name##_df_s(float x, float y, const float *restrict p,        \
					const double *restrict h, float *restrict dp)
#define EXP(v) al_expf(v)
#define ABS(v) al_fabsf(v)
#define TANH(v) al_tanhf(v)
#define SIGMOID(v) al_sigmoidf(v)
#include "act/elem_defs.h"
#undef T
#undef C
#undef F
#undef DF
#undef EXP
#undef ABS
#undef TANH
#undef SIGMOID

/* ---- and double --------------------------------------------------------- */
#define T double
#define C(v) ((double)(v))
#define F(name) static inline double name##_f_d(double x, const double *restrict p, const double *restrict h)
#define DF(name)                                                                          \
	static inline double name##_df_d(double x, double y, const double *restrict p,    \
					 const double *restrict h, double *restrict dp)
#define EXP(v) exp(v)
#define ABS(v) fabs(v)
#define TANH(v) tanh(v)
#define SIGMOID(v) sigmoid_d(v)
#include "act/elem_defs.h"
#undef T
#undef C
#undef F
#undef DF
#undef EXP
#undef ABS
#undef TANH
#undef SIGMOID

AL_ELEM_KERNELS(identity, 0)
AL_ELEM_KERNELS(relu, 0)
AL_ELEM_KERNELS(leaky_relu, 0)
AL_ELEM_KERNELS(sigmoid, 0)
AL_ELEM_KERNELS(tanh, 0)
AL_ELEM_KERNELS(prelu, 1)

/* ---- kinks -------------------------------------------------------------- */
static int kink_zero(const double *h, const double *p, double *out)
{
	out[0] = 0;
	return 1;
}

/* ---- the table ---------------------------------------------------------- */
#define NOPARAMS .nparams = 0

static const al_act_desc catalog[] = {
	{.name = "identity", .aliases = "linear", .kind = AL_ACT_ELEMENT, .family = "linear",
	 .formula = "x", .citation = "-", NOPARAMS, .check_lo = -3, .check_hi = 3,
	 AL_ELEM(identity)},
	{.name = "relu", .kind = AL_ACT_ELEMENT, .family = "relu", .formula = "max(0, x)",
	 .citation = "Nair & Hinton 2010", NOPARAMS, .check_lo = -3, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(relu)},
	{.name = "leaky_relu", .aliases = "lrelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else slope*x", .citation = "Maas et al. 2013",
	 .nhyper = 1, .hyper = {{"slope", 0.01, NULL, "negative-side slope"}}, NOPARAMS,
	 .check_lo = -3, .check_hi = 3, .kinks = kink_zero, AL_ELEM(leaky_relu)},
	{.name = "sigmoid", .aliases = "logistic", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "1 / (1 + exp(-x))", .citation = "-", NOPARAMS, .check_lo = -8,
	 .check_hi = 8, AL_ELEM(sigmoid)},
	{.name = "tanh", .kind = AL_ACT_ELEMENT, .family = "sigmoid", .formula = "tanh(x)",
	 .citation = "-", NOPARAMS, .check_lo = -5, .check_hi = 5, AL_ELEM(tanh)},
	{.name = "prelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else alpha*x", .citation = "He et al. 2015 (PReLU)", .nparams = 1,
	 .params = {{"alpha", 0.25, 0, 0, "negative-side slope"}}, .default_per = AL_PER_CHANNEL,
	 .check_lo = -3, .check_hi = 3, .kinks = kink_zero, AL_ELEM(prelu)},
};

int al_act_count(void) { return (int)(sizeof catalog / sizeof *catalog); }

const al_act_desc *al_act_get(int i)
{
	return i >= 0 && i < al_act_count() ? &catalog[i] : NULL;
}

const al_act_desc *al_act_find(const char *name)
{
	size_t l = strlen(name);
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = &catalog[i];
		if (strcmp(d->name, name) == 0)
			return d;
		for (const char *a = d->aliases; a && *a;) {
			const char *e = strchr(a, ' ');
			size_t al = e ? (size_t)(e - a) : strlen(a);
			if (al == l && strncmp(a, name, l) == 0)
				return d;
			a = e ? e + 1 : NULL;
		}
	}
	return NULL;
}
