/* adact.c — the AdAct trainer of seed 003 (SPEC.md 4.2-4.9): data
 * preparation, the piecewise-linear hinge activation, the forward pass,
 * OWO, the MOLF step with its backtracking safeguard, the hinge (AdAct)
 * step with its exact learning factor, and one iteration of the adact,
 * molf and owo-bp algorithms. Not for: CG, LM and back-prop baselines
 * (baselines.c), whole runs with evaluation (fit.c).
 */
#include <cblas.h>
#include <math.h>
#include <string.h>

#include "internal.h"

/* ---- parallel GEMM helpers ---------------------------------------------- */
static void part_range(int n, int parts, int p, int *a, int *b)
{
	*a = (int)((long long)n * p / parts);
	*b = (int)((long long)n * (p + 1) / parts);
}

static int nparts(int n)
{
	int th = al_get_threads();
	return n < th ? (n > 0 ? n : 1) : th;
}

/* Parts for a product of `flops` multiply-adds: one below 2^18, where
 * waking a second thread costs more than it saves on a shared machine. */
static int nparts_work(int n, double flops)
{
	return flops < 262144.0 ? 1 : nparts(n);
}

void al__gemm_rows(int n, int k, int m, const double *A, int lda, const double *B, int ldb,
		   double beta, double *C, int ldc)
{
	int parts = nparts_work(n, (double)n * k * m);
#pragma omp parallel for schedule(static) num_threads(parts)
	for (int p = 0; p < parts; p++) {
		int r0, r1;
		part_range(n, parts, p, &r0, &r1);
		if (r1 > r0)
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, m, k, 1.0,
				    A + (size_t)r0 * lda, lda, B, ldb, beta, C + (size_t)r0 * ldc,
				    ldc);
	}
}

void al__gemm_nn(int n, int k, int m, const double *A, int lda, const double *B, int ldb,
		 double *C, int ldc)
{
	int parts = nparts_work(n, (double)n * k * m);
#pragma omp parallel for schedule(static) num_threads(parts)
	for (int p = 0; p < parts; p++) {
		int r0, r1;
		part_range(n, parts, p, &r0, &r1);
		if (r1 > r0)
			cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, m, k, 1.0,
				    A + (size_t)r0 * lda, lda, B, ldb, 0.0, C + (size_t)r0 * ldc,
				    ldc);
	}
}

void al__gemm_tn(int n, int a, int b, double alpha, const double *A, int lda, const double *B,
		 int ldb, double *C, int ldc)
{
	if (a >= b) {
		int parts = nparts_work(a, (double)n * a * b);
#pragma omp parallel for schedule(static) num_threads(parts)
		for (int p = 0; p < parts; p++) {
			int c0, c1;
			part_range(a, parts, p, &c0, &c1);
			if (c1 > c0)
				cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, c1 - c0, b, n,
					    alpha, A + c0, lda, B, ldb, 0.0, C + (size_t)c0 * ldc,
					    ldc);
		}
	} else {
		int parts = nparts_work(b, (double)n * a * b);
#pragma omp parallel for schedule(static) num_threads(parts)
		for (int p = 0; p < parts; p++) {
			int c0, c1;
			part_range(b, parts, p, &c0, &c1);
			if (c1 > c0)
				cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, a, c1 - c0, n,
					    alpha, A, lda, B + c0, ldb, 0.0, C + c0, ldc);
		}
	}
}


/* ---- products with the input matrix X (double, or mixed precision) ------ */
/* In mixed precision the MOLF products (the gradient G = Q^T X / N_v and the
 * net changes D = X G^T) and the nets X W^T run as sgemm on a float copy of
 * X; A^T X sums over samples in chunks of XCHUNK whose float partial results
 * are accumulated in double, so the rounding error does not grow with the
 * number of samples. The OWO correlations stay double (see al_adact_owo). */
enum { XCHUNK = 1024 };

/* C (n x m, ldc) = X B^T, B: m x ni (ldb). */
void al__xbt(struct al_adact *t, int m, const double *B, int ldb, double *C, int ldc)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni;
	if (!t->Xf) {
		al__gemm_rows(n, ni, m, d->X, ni, B, ldb, 0.0, C, ldc);
		return;
	}
	float *Bf = t->Bf;
	for (int i = 0; i < m; i++)
		for (int j = 0; j < ni; j++)
			Bf[(size_t)i * ni + j] = (float)B[(size_t)i * ldb + j];
	int parts = nparts_work(n, (double)n * ni * m);
#pragma omp parallel for schedule(static) num_threads(parts)
	for (int p = 0; p < parts; p++) {
		int r0, r1;
		part_range(n, parts, p, &r0, &r1);
		for (int c0 = r0; c0 < r1; c0 += XCHUNK) {
			int cs = r1 - c0 < XCHUNK ? r1 - c0 : XCHUNK;
			float *Cf = t->Cf + (size_t)c0 * m;
			cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, cs, m, ni, 1.0f,
				    t->Xf + (size_t)c0 * ni, ni, Bf, ni, 0.0f, Cf, m);
			for (int q = 0; q < cs; q++)
				for (int j = 0; j < m; j++)
					C[(size_t)(c0 + q) * ldc + j] = Cf[(size_t)q * m + j];
		}
	}
}

/* C (a x ni, ldc) = alpha A^T X, A: n x a (lda); A may be X itself. */
void al__atx(struct al_adact *t, int a, double alpha, const double *A, int lda, double *C,
	     int ldc)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni;
	if (!t->Xf) {
		al__gemm_tn(n, a, ni, alpha, A, lda, d->X, ni, C, ldc);
		return;
	}
	const int is_x = A == d->X;
	int parts = nparts_work(ni, (double)n * a * ni);
	size_t per = (size_t)XCHUNK * a + (size_t)a * ni;
	float *buf = al_malloc((size_t)parts * per * sizeof *buf);
	if (!buf) { /* fall back to double */
		al__gemm_tn(n, a, ni, alpha, A, lda, d->X, ni, C, ldc);
		return;
	}
#pragma omp parallel for schedule(static) num_threads(parts)
	for (int p = 0; p < parts; p++) {
		int j0, j1;
		part_range(ni, parts, p, &j0, &j1);
		const int w = j1 - j0;
		float *Af = buf + (size_t)p * per, *Pf = Af + (size_t)XCHUNK * a;
		for (int i = 0; i < a; i++)
			for (int j = j0; j < j1; j++)
				C[(size_t)i * ldc + j] = 0;
		if (w <= 0)
			continue;
		for (int c0 = 0; c0 < n; c0 += XCHUNK) {
			int cs = n - c0 < XCHUNK ? n - c0 : XCHUNK;
			const float *Ac = t->Xf + (size_t)c0 * ni;
			int ldac = ni;
			if (!is_x) {
				for (int q = 0; q < cs; q++)
					for (int i = 0; i < a; i++)
						Af[(size_t)q * a + i] = (float)A[(size_t)(c0 + q) * lda + i];
				Ac = Af;
				ldac = a;
			}
			cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, a, w, cs, 1.0f, Ac, ldac,
				    t->Xf + (size_t)c0 * ni + j0, ni, 0.0f, Pf, w);
			for (int i = 0; i < a; i++)
				for (int j = 0; j < w; j++)
					C[(size_t)i * ldc + j0 + j] += (double)Pf[(size_t)i * w + j];
		}
		for (int i = 0; i < a; i++)
			for (int j = j0; j < j1; j++)
				C[(size_t)i * ldc + j] *= alpha;
	}
	al_free(buf);
}

/* ---- data ---------------------------------------------------------------- */
al_status al_adact_data_alloc(int n, int ni, int no, al_adact_data *out)
{
	memset(out, 0, sizeof *out);
	if (n < 1 || ni < 1 || no < 1)
		return al_err(AL_EINVAL, "adact data: bad shape n=%d ni=%d no=%d", n, ni, no);
	out->X = al_malloc((size_t)n * ni * sizeof(double));
	out->T = al_calloc((size_t)n * no, sizeof(double));
	out->labels = al_malloc((size_t)n * sizeof(int32_t));
	if (!out->X || !out->T || !out->labels) {
		al_adact_data_free(out);
		return al_err(AL_ENOMEM, "adact data: cannot allocate %d x %d inputs", n, ni);
	}
	out->n = n;
	out->ni = ni;
	out->no = no;
	return AL_OK;
}

void al_adact_data_free(al_adact_data *d)
{
	if (!d)
		return;
	al_free(d->X);
	al_free(d->T);
	al_free(d->labels);
	memset(d, 0, sizeof *d);
}

al_status al_adact_input_stats(const al_dataset *d, const int32_t *idx, int n, double *mean,
			       double *std)
{
	if (!d || !mean || !std || n < 1)
		return al_err(AL_EINVAL, "adact input stats: no samples");
	if (!d->images && !d->features)
		return al_err(AL_EINVAL, "adact input stats: %s holds no samples", d->name);
	size_t f = (size_t)d->c * d->h * d->w;
	for (size_t j = 0; j < f; j++) {
		double m, var;
		if (d->images) { /* pixels are bytes: exact integer sums, in [0,1] units */
			unsigned long long s = 0, s2 = 0;
			for (int i = 0; i < n; i++) {
				size_t r = idx ? (size_t)idx[i] : (size_t)i;
				unsigned v = d->images[r * f + j];
				s += v;
				s2 += (unsigned long long)v * v;
			}
			m = (double)s / n;
			var = (double)s2 / n - m * m;
			m /= 255.0;
			var /= 255.0 * 255.0;
		} else { /* two passes in double */
			double s = 0, s2 = 0;
			for (int i = 0; i < n; i++) {
				size_t r = idx ? (size_t)idx[i] : (size_t)i;
				s += (double)d->features[r * f + j];
			}
			m = s / n;
			for (int i = 0; i < n; i++) {
				size_t r = idx ? (size_t)idx[i] : (size_t)i;
				double v = (double)d->features[r * f + j] - m;
				s2 += v * v;
			}
			var = s2 / n;
		}
		mean[j] = m;
		std[j] = var > 1e-18 * (1 + m * m) ? sqrt(var) : 1.0;
	}
	return AL_OK;
}

al_status al_adact_data_make(const al_dataset *d, const int32_t *idx, int n, const double *mean,
			     const double *std, al_adact_data *out)
{
	if (!d || !out)
		return al_err(AL_EINVAL, "adact data: NULL argument");
	if (!d->images && !d->features)
		return al_err(AL_EINVAL, "adact data: %s holds no samples", d->name);
	size_t f = (size_t)d->c * d->h * d->w;
	if (f + 1 > (size_t)1 << 24)
		return al_err(AL_ERANGE, "adact data: %zu features per sample is too many", f);
	AL_TRY(al_adact_data_alloc(n, (int)f + 1, d->classes, out));
	for (int i = 0; i < n; i++) {
		size_t r = idx ? (size_t)idx[i] : (size_t)i;
		double *x = out->X + (size_t)i * out->ni;
		if (d->images) {
			const uint8_t *img = d->images + r * f;
			for (size_t j = 0; j < f; j++)
				x[j] = (img[j] / 255.0 - mean[j]) / std[j];
		} else {
			const float *ft = d->features + r * f;
			for (size_t j = 0; j < f; j++)
				x[j] = ((double)ft[j] - mean[j]) / std[j];
		}
		x[f] = 1.0;
		int32_t y = d->labels[r];
		if (y < 0 || y >= d->classes) {
			al_adact_data_free(out);
			return al_err(AL_ERANGE, "%s: sample %zu has label %d outside [0, %d)", d->name,
				      r, y, d->classes);
		}
		out->labels[i] = y;
		out->T[(size_t)i * out->no + y] = 1.0;
	}
	return AL_OK;
}

/* ---- options --------------------------------------------------------------- */
static const char *algo_names[] = {
	[AL_ADACT_ADACT] = "adact", [AL_ADACT_MOLF] = "molf", [AL_ADACT_OWOBP] = "owo-bp",
	[AL_ADACT_CG] = "cg",       [AL_ADACT_LM] = "lm",     [AL_ADACT_SGD] = "sgd",
	[AL_ADACT_ADAM] = "adam"};

al_status al_adact_parse_algo(const char *name, al_adact_algo *out)
{
	for (int a = 0; a < (int)(sizeof algo_names / sizeof *algo_names); a++)
		if (name && !strcmp(name, algo_names[a])) {
			*out = (al_adact_algo)a;
			return AL_OK;
		}
	return al_err(AL_EINVAL, "unknown algorithm '%s' (valid: adact, molf, owo-bp, cg, lm, "
				 "sgd, adam)",
		      name ? name : "");
}

const char *al_adact_algo_name(al_adact_algo a)
{
	return (unsigned)a < sizeof algo_names / sizeof *algo_names ? algo_names[a] : "?";
}

al_adact_opts al_adact_opts_default(void)
{
	al_adact_opts o = {0};
	o.algo = AL_ADACT_ADACT;
	o.hidden = 100;
	o.hinges = 9;
	o.lo = -4;
	o.hi = 4;
	o.iters = 50;
	o.safeguard = 5;
	o.ols_rel = 1e-10;
	o.ols_abs = 1e-12;
	o.net_mean = 0;
	o.net_std = 1;
	o.seed = 1;
	o.precision = AL_ADACT_MIXED;
	o.lr = 0; /* algorithm default */
	o.momentum = 0.9;
	o.beta1 = 0.9;
	o.beta2 = 0.999;
	o.eps = 1e-8;
	o.batch = 64;
	o.lm_mu = 0.01;
	o.lm_max_weights = 4000;
	return o;
}

al_status al_adact_opts_check(const al_adact_opts *o)
{
	if ((unsigned)o->algo > AL_ADACT_ADAM)
		return al_err(AL_EINVAL, "adact: unknown algorithm %d", (int)o->algo);
	if (o->hidden < 1 || o->hidden > 100000)
		return al_err(AL_ERANGE, "adact: hidden = %d, expected 1..100000", o->hidden);
	if (o->hinges < 2 || o->hinges > 1000)
		return al_err(AL_ERANGE, "adact: hinges = %d, expected 2..1000", o->hinges);
	if (!(isfinite(o->lo) && isfinite(o->hi) && o->lo < o->hi))
		return al_err(AL_ERANGE, "adact: hinge range %g,%g must be finite with LO < HI",
			      o->lo, o->hi);
	if (o->iters < 0)
		return al_err(AL_ERANGE, "adact: iters = %d must be >= 0", o->iters);
	if (o->safeguard < 0 || o->safeguard > 60)
		return al_err(AL_ERANGE, "adact: safeguard = %d, expected 0..60", o->safeguard);
	if (!(o->ols_rel >= 0 && o->ols_rel < 1) || !(o->ols_abs >= 0))
		return al_err(AL_ERANGE, "adact: OLS thresholds rel=%g abs=%g out of range",
			      o->ols_rel, o->ols_abs);
	if (!(o->net_std > 0) || !isfinite(o->net_mean))
		return al_err(AL_ERANGE, "adact: net control mean=%g std=%g (std must be > 0)",
			      o->net_mean, o->net_std);
	if (!(o->lr >= 0) || !(o->momentum >= 0 && o->momentum < 1) ||
	    !(o->beta1 >= 0 && o->beta1 < 1) || !(o->beta2 >= 0 && o->beta2 < 1) || !(o->eps > 0))
		return al_err(AL_ERANGE, "adact: back-prop constants out of range (lr=%g "
					 "momentum=%g beta1=%g beta2=%g eps=%g)",
			      o->lr, o->momentum, o->beta1, o->beta2, o->eps);
	if (o->precision != AL_ADACT_DOUBLE && o->precision != AL_ADACT_MIXED)
		return al_err(AL_EINVAL, "adact: unknown precision %d", (int)o->precision);
	if (o->batch < 1)
		return al_err(AL_ERANGE, "adact: batch = %d must be >= 1", o->batch);
	if (!(o->ridge >= 0 && isfinite(o->ridge)) || !(o->wd >= 0 && isfinite(o->wd)))
		return al_err(AL_ERANGE, "adact: ridge=%g wd=%g must be finite and >= 0", o->ridge,
			      o->wd);
	if (o->ridge > 0 && (o->algo == AL_ADACT_CG || o->algo == AL_ADACT_LM))
		return al_err(AL_EINVAL, "adact: ridge is not supported by %s (only adact, molf, "
					 "owo-bp, sgd, adam)",
			      al_adact_algo_name(o->algo));
	if (o->wd > 0 && o->algo != AL_ADACT_SGD && o->algo != AL_ADACT_ADAM)
		return al_err(AL_EINVAL, "adact: wd is weight decay of the back-prop baselines "
					 "(sgd, adam), not of %s (use ridge)",
			      al_adact_algo_name(o->algo));
	if (!(o->lm_mu > 0) || o->lm_max_weights < 1)
		return al_err(AL_ERANGE, "adact: lm mu=%g max weights=%d out of range", o->lm_mu,
			      o->lm_max_weights);
	return AL_OK;
}

/* ---- activation and forward ------------------------------------------------- */
double al_adact_pla(const al_adact_net *net, int k, double n, double *slope)
{
	int m;
	double t, inv = 1.0 / net->delta;
	al_pla_segment(n, net->lo, inv, net->ns, &m, &t);
	const double *a = net->A + (size_t)k * net->ns;
	if (slope)
		*slope = (a[m + 1] - a[m]) * inv;
	return a[m] + t * (a[m + 1] - a[m]);
}

void al__act_forward(const al_adact_net *net, int n, const double *N, double *O, double *Fp)
{
	const int nh = net->nh, ns = net->ns;
	const double lo = net->lo, inv = 1.0 / net->delta;
#pragma omp parallel for schedule(static) if ((size_t)n * nh > 65536)
	for (int p = 0; p < n; p++) {
		for (int k = 0; k < nh; k++) {
			size_t i = (size_t)p * nh + k;
			int m;
			double t;
			al_pla_segment(N[i], lo, inv, ns, &m, &t);
			const double *a = net->A + (size_t)k * ns;
			double da = a[m + 1] - a[m];
			if (O)
				O[i] = a[m] + t * da;
			if (Fp)
				Fp[i] = da * inv;
		}
	}
}

double al__outputs(struct al_adact *t, const double *XWoi, const double *O, const double *Wo,
		   double *Y, double *E)
{
	const al_adact_data *d = t->d;
	const int n = d->n, no = d->no, nh = t->net.nh;
	memcpy(Y, XWoi, (size_t)n * no * sizeof *Y);
	al__gemm_rows(n, nh, no, O, nh, Wo + t->net.ni, t->nu, 1.0, Y, no);
	/* fixed-order sum: per-row partial sums, then rows in order */
	double s = 0;
	for (int p = 0; p < n; p++) {
		double r = 0;
		for (int i = 0; i < no; i++) {
			size_t j = (size_t)p * no + i;
			E[j] = d->T[j] - Y[j];
			r += E[j] * E[j];
		}
		s += r;
	}
	return s / n;
}

double al__forward(struct al_adact *t)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh;
	al__xbt(t, nh, t->net.W, ni, t->Net, nh);
	al__act_forward(&t->net, n, t->Net, t->O, t->Fp);
	al__xbt(t, d->no, t->net.Wo, t->nu, t->XWoi, d->no);
	t->mse = al__outputs(t, t->XWoi, t->O, t->net.Wo, t->Y, t->E);
	return t->mse;
}

/* Trial error of nets Nt: fills Ot, Fpt, Yt, Et (with the current Wo). */
static double trial_error(struct al_adact *t)
{
	al__act_forward(&t->net, t->d->n, t->Nt, t->Ot, t->Fpt);
	return al__outputs(t, t->XWoi, t->Ot, t->net.Wo, t->Yt, t->Et);
}

#define SWAP(a, b)                   \
	do {                         \
		double *s__ = (a);   \
		(a) = (b);           \
		(b) = s__;           \
	} while (0)

static void accept_trial(struct al_adact *t, double mse)
{
	SWAP(t->Net, t->Nt);
	SWAP(t->O, t->Ot);
	SWAP(t->Fp, t->Fpt);
	SWAP(t->Y, t->Yt);
	SWAP(t->E, t->Et);
	t->mse = mse;
}

double al_adact_mse(al_adact *t) { return t->mse; }

al_adact_net *al_adact_network(al_adact *t) { return &t->net; }

/* ---- OWO (SPEC.md 4.4) ---------------------------------------------------- */
/* mu |Wo|^2 over the output weights but the constant input's column. */
static double ridge_penalty(const struct al_adact *t, const double *Wo)
{
	const double mu = t->o.ridge;
	if (!(mu > 0))
		return 0;
	const int ni = t->net.ni, nu = t->nu;
	double s = 0;
	for (int i = 0; i < t->net.no; i++)
		for (int u = 0; u < nu; u++)
			if (u != ni - 1)
				s += Wo[(size_t)i * nu + u] * Wo[(size_t)i * nu + u];
	return mu * s;
}

al_status al_adact_owo(al_adact *t)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh, no = d->no, nu = t->nu;
	const double inv = 1.0 / n;
	/* R = [X O]^T [X O] / n, C = T^T [X O] / n; the input blocks are fixed */
	/* always in double: OLS tells dependent basis functions by energies of
	 * 1e-10 relative, far below single-precision rounding */
	/* with the ridge mu on every diagonal entry but the constant input's
	 * (the last input), so that Wo minimises E + mu |Wo|^2 without
	 * shrinking the output biases; the input block, ridge included, is
	 * computed (and factored) once */
	const double mu = t->o.ridge;
	if (!t->inputs_correlated) {
		al__gemm_tn(n, ni, ni, inv, d->X, ni, d->X, ni, t->R, nu);
		al__gemm_tn(n, no, ni, inv, d->T, no, d->X, ni, t->C, nu);
		for (int j = 0; j < ni - 1; j++)
			t->R[(size_t)j * nu + j] += mu;
		t->inputs_correlated = 1;
	}
	/* hidden rows: R[ni+k][0:ni] = O^T X / n, written straight into R */
	al__gemm_tn(n, nh, ni, inv, t->O, nh, d->X, ni, t->R + (size_t)ni * nu, nu);
	al__gemm_tn(n, nh, nh, inv, t->O, nh, t->O, nh, t->R + (size_t)ni * nu + ni, nu);
	for (int k = 0; k < nh; k++)
		t->R[(size_t)(ni + k) * nu + ni + k] += mu;
	al__gemm_tn(n, no, nh, inv, d->T, no, t->O, nh, t->C + ni, nu);
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < ni; j++)
			t->R[(size_t)j * nu + ni + k] = t->R[(size_t)(ni + k) * nu + j];
	for (size_t i = 0; i < (size_t)nu * nu; i++)
		if (!isfinite(t->R[i]))
			return al_err(AL_ENUMERIC, "owo: non-finite correlation (hidden outputs "
						   "overflowed)");
	/* OWO is the minimiser of E over the kept basis, so E may not exceed the
	 * error before it (at initialisation: with Wo = 0). When it does, the
	 * kept set is numerically dependent (more basis functions than the data
	 * support, e.g. fewer samples than inputs) and the weights amplify
	 * rounding: raise the OLS threshold by 100x (up to 1e-4) and solve
	 * again; the raised threshold stays for the rest of the run. A
	 * rounding-level increase that remains keeps the old weights. */
	double before = t->mse, ref = before + ridge_penalty(t, t->net.Wo);
	if (!isfinite(ref)) {
		ref = 0;
		for (size_t i = 0; i < (size_t)n * no; i++)
			ref += d->T[i] * d->T[i];
		ref /= n;
	}
	memcpy(t->Wo_old, t->net.Wo, (size_t)no * nu * sizeof(double));
	double obj = ref;
	for (;;) {
		al_ols_factor(nu, t->R, nu, t->L, nu, t->kept, t->inputs_factored ? ni : 0,
			      t->ols_rel, t->o.ols_abs);
		t->inputs_factored = 1;
		al_ols_apply(nu, t->L, nu, t->kept, no, t->C, nu, t->net.Wo, nu);
		al__xbt(t, no, t->net.Wo, nu, t->XWoi, no);
		t->mse = al__outputs(t, t->XWoi, t->O, t->net.Wo, t->Y, t->E);
		obj = t->mse + ridge_penalty(t, t->net.Wo);
		if (obj <= ref || t->ols_rel >= 1e-4 || obj <= 1.001 * ref)
			break;
		t->ols_rel = t->ols_rel * 100 < 1e-4 ? t->ols_rel * 100 : 1e-4;
		t->inputs_factored = 0;
	}
	if (!(obj <= ref)) {
		memcpy(t->net.Wo, t->Wo_old, (size_t)no * nu * sizeof(double));
		al__xbt(t, no, t->net.Wo, nu, t->XWoi, no);
		t->mse = al__outputs(t, t->XWoi, t->O, t->net.Wo, t->Y, t->E);
	}
	return AL_OK;
}

/* ---- MOLF (SPEC.md 4.7) --------------------------------------------------- */
/* H = (2/n) (Wo_h^T Wo_h) o (Q^T Q), g(k) = (2/n) sum_p Q(p,k) P(p,k). */
static void molf_hg(struct al_adact *t, const double *Q, const double *P, double *H, double *g)
{
	const int n = t->d->n, nh = t->net.nh, no = t->d->no, nu = t->nu;
	const double *Woh = t->net.Wo + t->net.ni;
	al__gemm_tn(n, nh, nh, 2.0 / n, Q, nh, Q, nh, H, nh);
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < nh; j++) {
			double s = 0;
			for (int i = 0; i < no; i++)
				s += Woh[(size_t)i * nu + k] * Woh[(size_t)i * nu + j];
			H[(size_t)k * nh + j] *= s;
		}
	int parts = nparts_work(nh, (double)n * nh);
#pragma omp parallel for schedule(static) num_threads(parts)
	for (int q = 0; q < parts; q++) {
		int k0, k1;
		part_range(nh, parts, q, &k0, &k1);
		for (int k = k0; k < k1; k++)
			g[k] = 0;
		for (int p = 0; p < n; p++)
			for (int k = k0; k < k1; k++)
				g[k] += Q[(size_t)p * nh + k] * P[(size_t)p * nh + k];
		for (int k = k0; k < k1; k++)
			g[k] *= 2.0 / n;
	}
}

/* From the current state: P = E Wo_h, G, D = X G^T, Q = Fp o D, H, g. */
static void molf_system(struct al_adact *t, double *G, double *H, double *g)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh, no = d->no;
	al__gemm_nn(n, no, nh, t->E, no, t->net.Wo + ni, t->nu, t->P, nh);
	/* delta_p(k) = 2 f'(n_pk) P(p,k) into Q (scratch) */
	for (size_t i = 0; i < (size_t)n * nh; i++)
		t->Q[i] = 2.0 * t->Fp[i] * t->P[i];
	al__atx(t, nh, 1.0 / n, t->Q, nh, G, ni);
	al__xbt(t, nh, G, ni, t->D, nh);
	for (size_t i = 0; i < (size_t)n * nh; i++)
		t->Q[i] = t->Fp[i] * t->D[i];
	molf_hg(t, t->Q, t->P, H, g);
}

al_status al_adact_molf_system(al_adact *t, double *G, double *H, double *g)
{
	molf_system(t, t->G, t->H, t->g);
	const size_t nh = (size_t)t->net.nh;
	if (G)
		memcpy(G, t->G, nh * t->net.ni * sizeof *G);
	if (H)
		memcpy(H, t->H, nh * nh * sizeof *H);
	if (g)
		memcpy(g, t->g, nh * sizeof *g);
	return AL_OK;
}

double al_adact_molf_error(al_adact *t, const double *G, const double *z)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh;
	al__xbt(t, nh, G, ni, t->D, nh);
	for (int p = 0; p < n; p++)
		for (int k = 0; k < nh; k++) {
			size_t i = (size_t)p * nh + k;
			t->Nt[i] = t->Net[i] + z[k] * t->D[i];
		}
	return trial_error(t);
}

/* Applies W += diag(z) G along the net changes D with backtracking; z is
 * scaled in place (zeroed when rejected). */
static void apply_hidden_step(struct al_adact *t, double *z, al_adact_iter *info)
{
	const int n = t->d->n, nh = t->net.nh, ni = t->net.ni;
	const double e0 = t->mse;
	int accepted = 0;
	for (int h = 0; h <= t->o.safeguard; h++) {
		for (int p = 0; p < n; p++)
			for (int k = 0; k < nh; k++) {
				size_t i = (size_t)p * nh + k;
				t->Nt[i] = t->Net[i] + z[k] * t->D[i];
			}
		double e1 = trial_error(t);
		if (t->o.safeguard == 0 || e1 <= e0) {
			accept_trial(t, e1);
			accepted = 1;
			break;
		}
		if (h == t->o.safeguard)
			break;
		for (int k = 0; k < nh; k++)
			z[k] *= 0.5;
		info->halvings++;
	}
	if (!accepted) {
		for (int k = 0; k < nh; k++)
			z[k] = 0;
		info->rejected++;
		return;
	}
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < ni; j++)
			t->net.W[(size_t)k * ni + j] += z[k] * t->G[(size_t)k * ni + j];
}

static void solve_factors(struct al_adact *t, const double *H, const double *g, double *z)
{
	const int nh = t->net.nh;
	al_ols_factor(nh, H, nh, t->LH, nh, t->keptH, 0, t->o.ols_rel, t->o.ols_abs);
	al_ols_apply(nh, t->LH, nh, t->keptH, 1, g, nh, z, nh);
}

static void molf_step(struct al_adact *t, al_adact_iter *info)
{
	const int nh = t->net.nh;
	molf_system(t, t->G, t->H, t->g);
	solve_factors(t, t->H, t->g, t->z);
	apply_hidden_step(t, t->z, info);
	double s = 0;
	for (int k = 0; k < nh; k++)
		s += t->z[k];
	info->z_mean = s / nh;
}

/* OWO-BP: back-prop direction G with one optimal learning factor
 * z = g_1 / H_1 (SPEC.md 4.7, single-OLF variant). */
static void owobp_step(struct al_adact *t, al_adact_iter *info)
{
	const int nh = t->net.nh;
	molf_system(t, t->G, t->H, t->g);
	double g1 = 0, h1 = 0;
	for (int k = 0; k < nh; k++) {
		g1 += t->g[k];
		for (int j = 0; j < nh; j++)
			h1 += t->H[(size_t)k * nh + j];
	}
	double z = h1 > 0 ? g1 / h1 : 0;
	for (int k = 0; k < nh; k++)
		t->z[k] = z;
	apply_hidden_step(t, t->z, info);
	info->z_mean = t->z[0];
}

/* ---- hinge step (SPEC.md 4.8) -------------------------------------------- */
/* Ga (nh x ns) = -dE/dA from the current state, and U (n x nh) = the change
 * of every hidden output per unit step along Ga. Uses P = E Wo_h. */
static void hinge_gradient(struct al_adact *t, double *Ga, double *U)
{
	const al_adact_data *d = t->d;
	const int n = d->n, nh = t->net.nh, ns = t->net.ns, no = d->no;
	const double lo = t->net.lo, inv = 1.0 / t->net.delta;
	al__gemm_nn(n, no, nh, t->E, no, t->net.Wo + t->net.ni, t->nu, t->P, nh);
	int parts = nparts_work(nh, 8.0 * n * nh);
#pragma omp parallel for schedule(static) num_threads(parts)
	for (int q = 0; q < parts; q++) {
		int k0, k1;
		part_range(nh, parts, q, &k0, &k1);
		memset(Ga + (size_t)k0 * ns, 0, (size_t)(k1 - k0) * ns * sizeof *Ga);
		for (int p = 0; p < n; p++)
			for (int k = k0; k < k1; k++) {
				size_t i = (size_t)p * nh + k;
				int m;
				double tt;
				al_pla_segment(t->Net[i], lo, inv, ns, &m, &tt);
				Ga[(size_t)k * ns + m] += t->P[i] * (1 - tt);
				Ga[(size_t)k * ns + m + 1] += t->P[i] * tt;
			}
		for (size_t i = (size_t)k0 * ns; i < (size_t)k1 * ns; i++)
			Ga[i] *= 2.0 / n;
	}
#pragma omp parallel for schedule(static) if ((size_t)n * nh > 65536)
	for (int p = 0; p < n; p++)
		for (int k = 0; k < nh; k++) {
			size_t i = (size_t)p * nh + k;
			int m;
			double tt;
			al_pla_segment(t->Net[i], lo, inv, ns, &m, &tt);
			const double *ga = Ga + (size_t)k * ns;
			U[i] = ga[m] + tt * (ga[m + 1] - ga[m]);
		}
}

/* Exact minimiser of E(Y + z DY) = sum (E - z DY)^2 / n. */
static double exact_factor(const struct al_adact *t, const double *DY)
{
	const size_t nn = (size_t)t->d->n * t->d->no;
	double num = 0, den = 0;
	for (size_t i = 0; i < nn; i++) {
		num += t->E[i] * DY[i];
		den += DY[i] * DY[i];
	}
	return den > 1e-300 ? num / den : 0;
}

al_status al_adact_hinge_step_factor(al_adact *t, double *Ga, double *z)
{
	const int n = t->d->n, nh = t->net.nh;
	hinge_gradient(t, t->Ga, t->D);
	al__gemm_rows(n, nh, t->d->no, t->D, nh, t->net.Wo + t->net.ni, t->nu, 0.0, t->DY,
		      t->d->no);
	*z = exact_factor(t, t->DY);
	if (Ga)
		memcpy(Ga, t->Ga, (size_t)nh * t->net.ns * sizeof *Ga);
	return AL_OK;
}

double al_adact_hinge_error(al_adact *t, const double *Ga, double z)
{
	const size_t na = (size_t)t->net.nh * t->net.ns;
	double *A = t->net.A, *tmp = al_malloc(na * sizeof *tmp);
	if (!tmp)
		return NAN;
	for (size_t i = 0; i < na; i++)
		tmp[i] = A[i] + z * Ga[i];
	t->net.A = tmp;
	al__act_forward(&t->net, t->d->n, t->Net, t->Ot, NULL);
	t->net.A = A;
	al_free(tmp);
	return al__outputs(t, t->XWoi, t->Ot, t->net.Wo, t->Yt, t->Et);
}

static void hinge_step(struct al_adact *t, al_adact_iter *info)
{
	const int n = t->d->n, nh = t->net.nh, ns = t->net.ns, no = t->d->no;
	double *U = t->D;
	hinge_gradient(t, t->Ga, U);
	if (t->o.per_unit) {
		/* one factor per unit: Newton system with the same structure as MOLF */
		molf_hg(t, U, t->P, t->H, t->g);
		solve_factors(t, t->H, t->g, t->z);
		for (size_t i = 0; i < (size_t)n * nh; i++)
			U[i] *= t->z[i % nh];
	} else {
		al__gemm_rows(n, nh, no, U, nh, t->net.Wo + t->net.ni, t->nu, 0.0, t->DY, no);
		double z = exact_factor(t, t->DY);
		for (int k = 0; k < nh; k++)
			t->z[k] = z;
		for (size_t i = 0; i < (size_t)n * nh; i++)
			U[i] *= z;
	}
	/* y is affine in A: the new outputs are O + U exactly */
	for (size_t i = 0; i < (size_t)n * nh; i++)
		t->Ot[i] = t->O[i] + U[i];
	double e1 = al__outputs(t, t->XWoi, t->Ot, t->net.Wo, t->Yt, t->Et);
	if (!(e1 <= t->mse)) { /* rounding-level increase (or NaN): skip */
		info->rejected++;
		info->z_hinge = 0;
		return;
	}
	const size_t na = (size_t)nh * ns;
	memcpy(t->A_old, t->net.A, na * sizeof *t->A_old);
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < ns; j++)
			t->net.A[(size_t)k * ns + j] += t->z[k] * t->Ga[(size_t)k * ns + j];
	/* the slopes changed with A: recompute O and Fp from the nets; keep the
	 * old hinges if rounding made that error larger */
	al__act_forward(&t->net, n, t->Net, t->Ot, t->Fpt);
	e1 = al__outputs(t, t->XWoi, t->Ot, t->net.Wo, t->Yt, t->Et);
	if (!(e1 <= t->mse)) {
		memcpy(t->net.A, t->A_old, na * sizeof *t->A_old);
		info->rejected++;
		info->z_hinge = 0;
		return;
	}
	SWAP(t->O, t->Ot);
	SWAP(t->Fp, t->Fpt);
	SWAP(t->Y, t->Yt);
	SWAP(t->E, t->Et);
	t->mse = e1;
	double s = 0;
	for (int k = 0; k < nh; k++)
		s += t->z[k];
	info->z_hinge = s / nh;
}

/* ---- create / iterate ------------------------------------------------------ */
void al_adact_free(al_adact *t)
{
	if (!t)
		return;
	double **bufs[] = {&t->net.W, &t->net.A, &t->net.Wo, &t->Net, &t->O,   &t->Fp, &t->XWoi,
			   &t->Y,     &t->E,     &t->Nt,     &t->Ot,  &t->Fpt, &t->Yt, &t->Et,
			   &t->XWoit, &t->P,     &t->D,      &t->Q,   &t->DY,  &t->G,  &t->H,
			   &t->g,     &t->z,     &t->LH,     &t->Ga,  &t->R,   &t->L,  &t->C,
			   &t->Wo_old, &t->A_old};
	for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
		al_free(*bufs[i]);
	al_free(t->kept);
	al_free(t->keptH);
	al_free(t->Xf);
	al_free(t->Bf);
	al_free(t->Cf);
	al__baselines_free(t);
	al_free(t);
}

al_status al_adact_create(const al_adact_opts *o, const al_adact_data *d, al_adact **out)
{
	*out = NULL;
	AL_TRY(al_adact_opts_check(o));
	if (!d || d->n < 1 || d->ni < 1 || d->no < 1 || !d->X || !d->T)
		return al_err(AL_EINVAL, "adact: empty training set");
	al_adact *t = al_calloc(1, sizeof *t);
	if (!t)
		return al_err(AL_ENOMEM, "adact: out of memory");
	t->o = *o;
	t->d = d;
	const int n = d->n, ni = d->ni, nh = o->hidden, no = d->no, ns = o->hinges;
	t->nu = ni + nh;
	const int nu = t->nu;
	t->net = (al_adact_net){.ni = ni, .nh = nh, .no = no, .ns = ns, .lo = o->lo,
				.delta = (o->hi - o->lo) / (ns - 1)};
	size_t nxh = (size_t)n * nh, nxo = (size_t)n * no;
	struct {
		double **p;
		size_t n;
	} want[] = {{&t->net.W, (size_t)nh * ni},
		    {&t->net.A, (size_t)nh * ns},
		    {&t->net.Wo, (size_t)no * nu},
		    {&t->Net, nxh},
		    {&t->O, nxh},
		    {&t->Fp, nxh},
		    {&t->XWoi, nxo},
		    {&t->Y, nxo},
		    {&t->E, nxo},
		    {&t->Nt, nxh},
		    {&t->Ot, nxh},
		    {&t->Fpt, nxh},
		    {&t->Yt, nxo},
		    {&t->Et, nxo},
		    {&t->XWoit, nxo},
		    {&t->P, nxh},
		    {&t->D, nxh},
		    {&t->Q, nxh},
		    {&t->DY, nxo},
		    {&t->G, (size_t)nh * ni},
		    {&t->H, (size_t)nh * nh},
		    {&t->g, (size_t)nh},
		    {&t->z, (size_t)nh},
		    {&t->LH, (size_t)nh * nh},
		    {&t->Ga, (size_t)nh * ns},
		    {&t->A_old, (size_t)nh * ns},
		    {&t->R, (size_t)nu * nu},
		    {&t->L, (size_t)nu * nu},
		    {&t->C, (size_t)no * nu},
		    {&t->Wo_old, (size_t)no * nu}};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		*want[i].p = al_calloc(want[i].n, sizeof(double));
		if (!*want[i].p) {
			al_adact_free(t);
			return al_err(AL_ENOMEM, "adact: cannot allocate the workspace (%d samples, "
						 "%d hidden units)",
				      n, nh);
		}
	}
	if (o->precision == AL_ADACT_MIXED) {
		int mw = nh > no ? nh : no;
		t->Xf = al_malloc((size_t)n * ni * sizeof(float));
		t->Bf = al_malloc((size_t)mw * ni * sizeof(float));
		t->Cf = al_malloc((size_t)n * mw * sizeof(float));
		if (!t->Xf || !t->Bf || !t->Cf) {
			al_adact_free(t);
			return al_err(AL_ENOMEM, "adact: cannot allocate the single-precision inputs");
		}
		for (size_t i = 0; i < (size_t)n * ni; i++)
			t->Xf[i] = (float)d->X[i];
	}
	t->kept = al_malloc((size_t)nu);
	t->keptH = al_malloc((size_t)nh);
	if (!t->kept || !t->keptH) {
		al_adact_free(t);
		return al_err(AL_ENOMEM, "adact: out of memory");
	}
	al_status s = al__baselines_alloc(t);
	if (s != AL_OK) {
		al_adact_free(t);
		return s;
	}
	al_rng_seed(&t->rng, o->seed);
	t->ols_rel = o->ols_rel;

	/* random input weights, then net control: every unit's net over the
	 * training set gets mean net_mean and std net_std */
	for (size_t i = 0; i < (size_t)nh * ni; i++)
		t->net.W[i] = al_rng_normal(&t->rng);
	for (int k = 0; k < nh; k++)
		t->net.W[(size_t)k * ni + ni - 1] = 0;
	al__xbt(t, nh, t->net.W, ni, t->Net, nh);
	for (int k = 0; k < nh; k++) {
		double s1 = 0, s2 = 0;
		for (int p = 0; p < n; p++) {
			double v = t->Net[(size_t)p * nh + k];
			s1 += v;
			s2 += v * v;
		}
		double mean = s1 / n, var = s2 / n - mean * mean;
		double sd = var > 1e-300 ? sqrt(var) : 0;
		double scale = sd > 0 ? o->net_std / sd : 1;
		double *w = t->net.W + (size_t)k * ni;
		for (int j = 0; j < ni - 1; j++)
			w[j] *= scale;
		w[ni - 1] = o->net_mean - mean * scale;
	}
	/* hinge values at init: relu or leaky_relu(0.01) at the hinges */
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < ns; j++) {
			double x = t->net.lo + j * t->net.delta;
			if (j == ns - 1)
				x = o->hi;
			t->net.A[(size_t)k * ns + j] = x > 0 ? x : (o->init_leaky ? 0.01 * x : 0.0);
		}
	t->mse = INFINITY;
	al__forward(t);
	t->mse = INFINITY; /* Wo = 0 so far: OWO must not be compared to it */
	s = al_adact_owo(t);
	if (s == AL_OK && !isfinite(t->mse))
		s = al_err(AL_ENUMERIC, "adact: non-finite error after initialisation");
	if (s != AL_OK) {
		al_adact_free(t);
		return s;
	}
	*out = t;
	return AL_OK;
}

al_status al_adact_iterate(al_adact *t, al_adact_iter *info)
{
	al_adact_iter dummy;
	if (!info)
		info = &dummy;
	memset(info, 0, sizeof *info);
	al_status s = AL_OK;
	switch (t->o.algo) {
	case AL_ADACT_ADACT:
		molf_step(t, info);
		hinge_step(t, info);
		s = al_adact_owo(t);
		break;
	case AL_ADACT_MOLF:
		molf_step(t, info);
		s = al_adact_owo(t);
		break;
	case AL_ADACT_OWOBP:
		owobp_step(t, info);
		s = al_adact_owo(t);
		break;
	case AL_ADACT_CG:
		s = al__cg_iterate(t, info);
		break;
	case AL_ADACT_LM:
		s = al__lm_iterate(t, info);
		break;
	case AL_ADACT_SGD:
	case AL_ADACT_ADAM:
		s = al__bp_epoch(t, info);
		break;
	}
	if (s != AL_OK)
		return s;
	info->mse = t->mse;
	if (!isfinite(t->mse))
		return al_err(AL_ENUMERIC, "%s: training error became non-finite",
			      al_adact_algo_name(t->o.algo));
	return AL_OK;
}
