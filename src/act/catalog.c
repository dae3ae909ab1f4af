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

static inline double softplus_d(double x) { return (x > 0 ? x : 0) + log1p(exp(-fabs(x))); }

/* ---- stamp the scalar functions: float ----------------------------------- */
#define T float
#define C(v) ((float)(v))
#define F(name) static inline float name##_f_s(float x, const float *restrict p, const double *restrict h)
#define DF(name)                                                                          \
	static inline float name##_df_s(float x, float y, const float *restrict p,        \
					const double *restrict h, float *restrict dp)
#define EXP(v) al_expf(v)
#define EXPM1(v) al_expm1f(v)
#define ERF(v) al_erff(v)
#define SOFTPLUS(v) al_softplusf(v)
#define COPYSIGN(a, b) al__copysign(a, b)
#define SQRT(v) al_sqrtf(v)
#define ABS(v) al_fabsf(v)
#define TANH(v) al_tanhf(v)
#define SIGMOID(v) al_sigmoidf(v)
#include "act/elem_defs.h"
#undef T
#undef C
#undef F
#undef DF
#undef EXP
#undef EXPM1
#undef ERF
#undef SOFTPLUS
#undef COPYSIGN
#undef SQRT
#undef SELU_L
#undef SELU_A
#undef SQRT1_2
#undef INV_SQRT_2PI
#undef SQRT_2_PI
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
#define EXPM1(v) expm1(v)
#define ERF(v) erf(v)
#define SOFTPLUS(v) softplus_d(v)
#define COPYSIGN(a, b) copysign(a, b)
#define SQRT(v) sqrt(v)
#define ABS(v) fabs(v)
#define TANH(v) tanh(v)
#define SIGMOID(v) sigmoid_d(v)
#include "act/elem_defs.h"
#undef T
#undef C
#undef F
#undef DF
#undef EXP
#undef EXPM1
#undef ERF
#undef SOFTPLUS
#undef COPYSIGN
#undef SQRT
#undef SELU_L
#undef SELU_A
#undef SQRT1_2
#undef INV_SQRT_2PI
#undef SQRT_2_PI
#undef ABS
#undef TANH
#undef SIGMOID

AL_ELEM_KERNELS(identity, 0)
AL_ELEM_KERNELS(relu, 0)
AL_ELEM_KERNELS(leaky_relu, 0)
AL_ELEM_KERNELS(sigmoid, 0)
AL_ELEM_KERNELS(tanh, 0)
AL_ELEM_KERNELS(prelu, 1)
AL_ELEM_KERNELS(relu6, 0)
AL_ELEM_KERNELS(hardtanh, 0)
AL_ELEM_KERNELS(elu, 0)
AL_ELEM_KERNELS(celu, 0)
AL_ELEM_KERNELS(selu, 0)
AL_ELEM_KERNELS(gelu_none, 0)
AL_ELEM_KERNELS(gelu_tanh, 0)
AL_ELEM_KERNELS(silu, 0)
AL_ELEM_KERNELS(mish, 0)
AL_ELEM_KERNELS(hardswish, 0)
AL_ELEM_KERNELS(hardsigmoid, 0)
AL_ELEM_KERNELS(softplus, 0)
AL_ELEM_KERNELS(softsign, 0)
AL_ELEM_KERNELS(logsigmoid, 0)
AL_ELEM_KERNELS(tanhshrink, 0)
AL_ELEM_KERNELS(softshrink, 0)
AL_ELEM_KERNELS(hardshrink, 0)
AL_ELEM_KERNELS(sqrt, 0)
AL_ELEM_KERNELS(tanhexp, 0)

/* gelu: the approximate= hyper picks a stamped kernel once per call */
static void gelu_fwd(const al_act_args *a, size_t n, const float *x, float *y)
{
	(a->h[0] != 0 ? gelu_tanh_fwd : gelu_none_fwd)(a, n, x, y);
}
static void gelu_bwd(const al_act_args *a, size_t n, const float *x, const float *y,
		     const float *dy, float *dx, float *const *dp)
{
	(a->h[0] != 0 ? gelu_tanh_bwd : gelu_none_bwd)(a, n, x, y, dy, dx, dp);
}
static double gelu_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	return (h[0] != 0 ? gelu_tanh_ref : gelu_none_ref)(h, p, x, dfdx, dfdp);
}

/* ---- rrelu: random negative slope in training, the mean in evaluation ---- */
/* Hand-written: the slope of every non-positive element is drawn from the
 * block's RNG stream, and the backward redraws the same slopes in the same
 * order (same stream, same x), so no mask has to be stored. */
static void rrelu_fwd(const al_act_args *a, size_t n, const float *x, float *y)
{
	const float lo = (float)a->h[0], hi = (float)a->h[1];
	if (!a->train || !a->rng) {
		const float s = (float)(0.5 * (a->h[0] + a->h[1]));
#pragma omp simd
		for (size_t i = 0; i < n; i++)
			y[i] = x[i] > 0 ? x[i] : s * x[i];
		return;
	}
	al_rng r = *a->rng;
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] > 0 ? x[i] : (lo + (hi - lo) * al_rng_uniform(&r)) * x[i];
}

static void rrelu_bwd(const al_act_args *a, size_t n, const float *x, const float *y,
		      const float *dy, float *dx, float *const *dp)
{
	const float lo = (float)a->h[0], hi = (float)a->h[1];
	if (!a->train || !a->rng) {
		const float s = (float)(0.5 * (a->h[0] + a->h[1]));
#pragma omp simd
		for (size_t i = 0; i < n; i++)
			dx[i] = x[i] > 0 ? dy[i] : s * dy[i];
		return;
	}
	al_rng r = *a->rng;
	for (size_t i = 0; i < n; i++)
		dx[i] = x[i] > 0 ? dy[i] : (lo + (hi - lo) * al_rng_uniform(&r)) * dy[i];
}

static double rrelu_ref(const double *h, const double *p, double x, double *dfdx, double *dfdp)
{
	double s = 0.5 * (h[0] + h[1]);
	*dfdx = x > 0 ? 1 : s;
	return x > 0 ? x : s * x;
}

/* ---- kinks -------------------------------------------------------------- */
static int kink_zero(const double *h, const double *p, double *out)
{
	out[0] = 0;
	return 1;
}
static int kink_relu6(const double *h, const double *p, double *out)
{
	out[0] = 0;
	out[1] = 6;
	return 2;
}
static int kink_h01(const double *h, const double *p, double *out)
{
	out[0] = h[0];
	out[1] = h[1];
	return 2;
}
static int kink_pm3(const double *h, const double *p, double *out)
{
	out[0] = -3;
	out[1] = 3;
	return 2;
}
static int kink_pm_h0(const double *h, const double *p, double *out)
{
	out[0] = -h[0];
	out[1] = h[0];
	return 2;
}
static int kink_softplus(const double *h, const double *p, double *out)
{
	out[0] = h[1] / h[0];
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
	{.name = "relu6", .kind = AL_ACT_ELEMENT, .family = "relu", .formula = "min(max(0, x), 6)",
	 .citation = "Krizhevsky 2010", NOPARAMS, .check_lo = -3, .check_hi = 9,
	 .kinks = kink_relu6, AL_ELEM(relu6)},
	{.name = "rrelu", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "x if x > 0 else r*x; r ~ U(lower, upper) in training, (lower+upper)/2 in evaluation",
	 .citation = "Xu et al. 2015", .nhyper = 2,
	 .hyper = {{"lower", 0.125, NULL, "lower bound of the random slope"},
		   {"upper", 1.0 / 3.0, NULL, "upper bound of the random slope"}},
	 NOPARAMS, .check_lo = -3, .check_hi = 3, .kinks = kink_zero, .stochastic = 1,
	 AL_ELEM(rrelu)},
	{.name = "elu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "x if x > 0 else alpha*(exp(x) - 1)", .citation = "Clevert et al. 2016",
	 .nhyper = 1, .hyper = {{"alpha", 1.0, NULL, "negative saturation"}}, NOPARAMS,
	 .check_lo = -5, .check_hi = 3, .kinks = kink_zero, AL_ELEM(elu)},
	{.name = "celu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "max(0, x) + min(0, alpha*(exp(x/alpha) - 1))", .citation = "Barron 2017",
	 .nhyper = 1, .hyper = {{"alpha", 1.0, NULL, "negative saturation and scale"}}, NOPARAMS,
	 .check_lo = -5, .check_hi = 3, .kinks = kink_zero, AL_ELEM(celu)},
	{.name = "selu", .kind = AL_ACT_ELEMENT, .family = "exponential",
	 .formula = "lambda*(x if x > 0 else alpha*(exp(x) - 1)), lambda = 1.0507, alpha = 1.6733",
	 .citation = "Klambauer et al. 2017", NOPARAMS, .check_lo = -5, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(selu)},
	{.name = "gelu", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*Phi(x) = 0.5*x*(1 + erf(x/sqrt(2))); tanh: 0.5*x*(1 + tanh(sqrt(2/pi)*(x + 0.044715*x^3)))",
	 .citation = "Hendrycks & Gimpel 2016", .nhyper = 1,
	 .hyper = {{"approximate", 0, "none|tanh", "exact erf form or the tanh approximation"}},
	 NOPARAMS, .check_lo = -5, .check_hi = 5, AL_ELEM(gelu)},
	{.name = "silu", .aliases = "swish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*sigmoid(x)", .citation = "Elfwing et al. 2018; Ramachandran et al. 2017",
	 NOPARAMS, .check_lo = -8, .check_hi = 8, AL_ELEM(silu)},
	{.name = "mish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*tanh(softplus(x))", .citation = "Misra 2019", NOPARAMS, .check_lo = -8,
	 .check_hi = 8, AL_ELEM(mish)},
	{.name = "hardswish", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*relu6(x + 3)/6", .citation = "Howard et al. 2019", NOPARAMS,
	 .check_lo = -5, .check_hi = 5, .kinks = kink_pm3, AL_ELEM(hardswish)},
	{.name = "hardsigmoid", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "relu6(x + 3)/6", .citation = "Howard et al. 2019", NOPARAMS, .check_lo = -5,
	 .check_hi = 5, .kinks = kink_pm3, AL_ELEM(hardsigmoid)},
	{.name = "hardtanh", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "clamp(x, min_val, max_val)", .citation = "Collobert 2004", .nhyper = 2,
	 .hyper = {{"min_val", -1.0, NULL, "lower clamp"}, {"max_val", 1.0, NULL, "upper clamp"}},
	 NOPARAMS, .check_lo = -3, .check_hi = 3, .kinks = kink_h01, AL_ELEM(hardtanh)},
	{.name = "softplus", .kind = AL_ACT_ELEMENT, .family = "relu",
	 .formula = "log(1 + exp(beta*x))/beta; x where beta*x > threshold",
	 .citation = "Dugas et al. 2001", .nhyper = 2,
	 .hyper = {{"beta", 1.0, NULL, "sharpness"},
		   {"threshold", 20.0, NULL, "linear above beta*x > threshold"}},
	 NOPARAMS, .check_lo = -8, .check_hi = 8, .kinks = kink_softplus, AL_ELEM(softplus)},
	{.name = "softsign", .kind = AL_ACT_ELEMENT, .family = "sigmoid", .formula = "x/(1 + |x|)",
	 .citation = "Turian et al. 2009", NOPARAMS, .check_lo = -5, .check_hi = 5,
	 .kinks = kink_zero, AL_ELEM(softsign)},
	{.name = "logsigmoid", .kind = AL_ACT_ELEMENT, .family = "sigmoid",
	 .formula = "log(sigmoid(x)) = -softplus(-x)", .citation = "-", NOPARAMS, .check_lo = -8,
	 .check_hi = 8, AL_ELEM(logsigmoid)},
	{.name = "tanhshrink", .kind = AL_ACT_ELEMENT, .family = "shrink",
	 .formula = "x - tanh(x)", .citation = "-", NOPARAMS, .check_lo = -5, .check_hi = 5,
	 AL_ELEM(tanhshrink)},
	{.name = "softshrink", .kind = AL_ACT_ELEMENT, .family = "shrink",
	 .formula = "x - lambda*sgn(x) if |x| > lambda else 0", .citation = "Donoho 1995",
	 .nhyper = 1, .hyper = {{"lambda", 0.5, NULL, "dead zone half-width"}}, NOPARAMS,
	 .check_lo = -3, .check_hi = 3, .kinks = kink_pm_h0, AL_ELEM(softshrink)},
	{.name = "hardshrink", .kind = AL_ACT_ELEMENT, .family = "shrink",
	 .formula = "x if |x| > lambda else 0", .citation = "-", .nhyper = 1,
	 .hyper = {{"lambda", 0.5, NULL, "dead zone half-width"}}, NOPARAMS, .check_lo = -3,
	 .check_hi = 3, .kinks = kink_pm_h0, AL_ELEM(hardshrink)},
	{.name = "sqrt", .kind = AL_ACT_ELEMENT, .family = "sqrt",
	 .formula = "sgn(x)*sqrt(|x|); derivative 1/(2 sqrt(max(|x|, 1e-6)))",
	 .citation = "Yang et al. 2018 (seed 004)", NOPARAMS, .check_lo = -3, .check_hi = 3,
	 .kinks = kink_zero, AL_ELEM(sqrt)},
	{.name = "tanhexp", .kind = AL_ACT_ELEMENT, .family = "gated",
	 .formula = "x*tanh(exp(x)); x beyond x = 20", .citation = "Liu & Di 2020 (seed 004)",
	 NOPARAMS, .check_lo = -6, .check_hi = 3, AL_ELEM(tanhexp)},
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
