/* test_adact.c — tests of the seed-003 trainer: the OLS solver against
 * LAPACK least squares (well-conditioned and rank-deficient), OWO
 * optimality, the MOLF gradient and Gauss-Newton Hessian and the hinge
 * gradient against finite differences of E, the hinge learning factor as
 * the exact line minimiser, monotone E with the safeguard, the hinge
 * activation at init, back-prop gradients, k-fold runs, thread invariance
 * and CLI behaviour including error paths.
 */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/adact.h"
#include "actlab/core.h"
#include "test.h"

/* Random problem: n samples of nf Gaussian features (+ constant 1), labels
 * from a random nonlinear teacher over no classes. */
static int make_problem(int n, int nf, int no, uint64_t seed, al_adact_data *d)
{
	if (al_adact_data_alloc(n, nf + 1, no, d) != AL_OK)
		return -1;
	al_rng r;
	al_rng_seed(&r, seed);
	double *V = malloc(sizeof(double) * (size_t)no * nf);
	for (int i = 0; i < no * nf; i++)
		V[i] = al_rng_normal(&r);
	for (int p = 0; p < n; p++) {
		double *x = d->X + (size_t)p * d->ni;
		for (int j = 0; j < nf; j++)
			x[j] = al_rng_normal(&r);
		x[nf] = 1;
		int best = 0;
		double bv = -1e300;
		for (int i = 0; i < no; i++) {
			double s = 0;
			for (int j = 0; j < nf; j++)
				s += V[i * nf + j] * tanh(x[j] * (1 + (i + j) % 3));
			if (s > bv)
				bv = s, best = i;
		}
		d->labels[p] = best;
		for (int i = 0; i < no; i++)
			d->T[(size_t)p * no + i] = i == best;
	}
	free(V);
	return 0;
}

static al_adact_opts small_opts(al_adact_algo algo, int nh)
{
	al_adact_opts o = al_adact_opts_default();
	o.algo = algo;
	o.hidden = nh;
	o.hinges = 7;
	o.lo = -3;
	o.hi = 3;
	o.seed = 5;
	o.precision = AL_ADACT_DOUBLE; /* finite differences need double throughout */
	return o;
}

/* ---- OLS ------------------------------------------------------------------ */
/* R = B^T B / n, C = T^T B / n for a basis B (n x nb) and targets T (n x m). */
static void correlations(int n, int nb, int m, const double *B, const double *T, double *R,
			 double *C)
{
	for (int u = 0; u < nb; u++)
		for (int v = 0; v < nb; v++) {
			double s = 0;
			for (int p = 0; p < n; p++)
				s += B[p * nb + u] * B[p * nb + v];
			R[u * nb + v] = s / n;
		}
	for (int i = 0; i < m; i++)
		for (int u = 0; u < nb; u++) {
			double s = 0;
			for (int p = 0; p < n; p++)
				s += T[p * m + i] * B[p * nb + u];
			C[i * nb + u] = s / n;
		}
}

/* LAPACK least squares min |B w - t| for each column t of T on the columns
 * listed in cols (ncols of them); W (m x nb) gets the weights, 0 elsewhere. */
static int lapack_ls(int n, int nb, int m, const double *B, const double *T, const int *cols,
		     int ncols, double *W)
{
	double *A = malloc(sizeof(double) * (size_t)n * ncols);
	double *Y = malloc(sizeof(double) * (size_t)n * m);
	for (int p = 0; p < n; p++) {
		for (int c = 0; c < ncols; c++)
			A[p * ncols + c] = B[p * nb + cols[c]];
		for (int i = 0; i < m; i++)
			Y[p * m + i] = T[p * m + i];
	}
	int rc = LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', n, ncols, m, A, ncols, Y, m);
	memset(W, 0, sizeof(double) * (size_t)m * nb);
	for (int c = 0; c < ncols; c++)
		for (int i = 0; i < m; i++)
			W[i * nb + cols[c]] = Y[c * m + i];
	free(A);
	free(Y);
	return rc;
}

TEST(adact_ols_matches_lapack_least_squares)
{
	enum { N = 300, NB = 14, M = 3 };
	static double B[N * NB], T[N * M], R[NB * NB], C[M * NB], W[M * NB], WL[M * NB];
	al_rng r;
	al_rng_seed(&r, 11);
	for (int i = 0; i < N * NB; i++)
		B[i] = al_rng_normal(&r) + (i % NB == 0 ? 2.0 : 0.0);
	for (int i = 0; i < N * M; i++)
		T[i] = al_rng_normal(&r);
	correlations(N, NB, M, B, T, R, C);
	int nk = -1;
	REQUIRE_OK(al_ols_solve(NB, R, M, C, W, 1e-10, 1e-12, &nk));
	CHECK(nk == NB, "kept %d of %d", nk, NB);
	int cols[NB];
	for (int c = 0; c < NB; c++)
		cols[c] = c;
	REQUIRE(lapack_ls(N, NB, M, B, T, cols, NB, WL) == 0, "dgels failed");
	for (int i = 0; i < M * NB; i++)
		CHECK_NEAR(W[i], WL[i], 1e-9 * (1 + fabs(WL[i])));
	/* factoring in two parts (a fixed leading block first) gives the same */
	static double L[NB * NB], W2[M * NB];
	unsigned char kept[NB];
	al_ols_factor(NB, R, NB, L, NB, kept, 0, 1e-10, 1e-12);
	for (int i = 6 * NB; i < NB * NB; i++)
		L[i] = 12345; /* rows 6.. must be recomputed */
	al_ols_factor(NB, R, NB, L, NB, kept, 6, 1e-10, 1e-12);
	al_ols_apply(NB, L, NB, kept, M, C, NB, W2, NB);
	for (int i = 0; i < M * NB; i++)
		CHECK_NEAR(W2[i], W[i], 1e-12 * (1 + fabs(W[i])));
}

TEST(adact_ols_rank_deficient_drops_dependent_columns)
{
	enum { N = 250, NB = 10, M = 2 };
	static double B[N * NB], T[N * M], R[NB * NB], C[M * NB], W[M * NB], WL[M * NB];
	al_rng r;
	al_rng_seed(&r, 12);
	for (int p = 0; p < N; p++) {
		double *b = B + p * NB;
		for (int j = 0; j < NB; j++)
			b[j] = al_rng_normal(&r);
		b[4] = b[1] - 2.0 * b[2]; /* dependent on earlier columns */
		b[7] = 0.0;               /* no energy */
		b[9] = 3.0 * b[4] + b[0]; /* dependent */
	}
	for (int i = 0; i < N * M; i++)
		T[i] = al_rng_normal(&r) + B[(i / M) * NB + 3];
	correlations(N, NB, M, B, T, R, C);
	int nk = -1;
	REQUIRE_OK(al_ols_solve(NB, R, M, C, W, 1e-10, 1e-12, &nk));
	CHECK(nk == NB - 3, "kept %d, expected %d", nk, NB - 3);
	for (int i = 0; i < M; i++) {
		CHECK(W[i * NB + 4] == 0.0, "dependent column 4 has weight %g", W[i * NB + 4]);
		CHECK(W[i * NB + 7] == 0.0, "empty column 7 has weight %g", W[i * NB + 7]);
		CHECK(W[i * NB + 9] == 0.0, "dependent column 9 has weight %g", W[i * NB + 9]);
	}
	int cols[] = {0, 1, 2, 3, 5, 6, 8};
	REQUIRE(lapack_ls(N, NB, M, B, T, cols, 7, WL) == 0, "dgels failed");
	for (int i = 0; i < M * NB; i++)
		CHECK_NEAR(W[i], WL[i], 1e-9 * (1 + fabs(WL[i])));
	/* the dropped columns were really needed to be dropped: a plain
	 * Cholesky of R fails (LAPACK reports a non-positive pivot) */
	static double Rc[NB * NB];
	memcpy(Rc, R, sizeof Rc);
	CHECK(LAPACKE_dpotrf(LAPACK_ROW_MAJOR, 'L', NB, Rc, NB) != 0 ||
		      fabs(Rc[4 * NB + 4]) < 1e-6,
	      "R should be singular");
}

TEST(adact_ols_bad_arguments)
{
	double R[1] = {1}, C[1] = {1}, W[1];
	CHECK(al_ols_solve(0, R, 1, C, W, 1e-10, 1e-12, NULL) == AL_EINVAL, "n = 0");
	CHECK(al_ols_solve(1, NULL, 1, C, W, 1e-10, 1e-12, NULL) == AL_EINVAL, "R NULL");
	/* NaN energy drops the row instead of producing NaN weights */
	double Rn[1] = {NAN};
	int nk = -1;
	REQUIRE_OK(al_ols_solve(1, Rn, 1, C, W, 1e-10, 1e-12, &nk));
	CHECK(nk == 0 && W[0] == 0.0, "NaN row kept (nk=%d, w=%g)", nk, W[0]);
}

/* ---- network pieces ---------------------------------------------------------- */
/* Independent forward pass (scalar loops) of a network on row p. */
static void ref_forward(const al_adact_net *net, const double *x, double *o, double *y)
{
	for (int k = 0; k < net->nh; k++) {
		double s = 0;
		for (int j = 0; j < net->ni; j++)
			s += net->W[k * net->ni + j] * x[j];
		o[k] = al_adact_pla(net, k, s, NULL);
	}
	int nu = net->ni + net->nh;
	for (int i = 0; i < net->no; i++) {
		double s = 0;
		for (int j = 0; j < net->ni; j++)
			s += net->Wo[i * nu + j] * x[j];
		for (int k = 0; k < net->nh; k++)
			s += net->Wo[i * nu + net->ni + k] * o[k];
		y[i] = s;
	}
}

/* |d(E + mu |Wo|^2)/dWo| (bias column unpenalised) relative to |dE/dWo at
 * Wo = 0|, from the independent forward; mu = 0: OWO's optimality. */
static double ridge_relative_gradient(const al_adact_net *net, const al_adact_data *d, double mu)
{
	int nu = net->ni + net->nh;
	double *g = calloc((size_t)net->no * nu, sizeof *g), *g0 = calloc((size_t)net->no * nu, 8);
	double o[64], y[16], b[256];
	for (int p = 0; p < d->n; p++) {
		const double *x = d->X + (size_t)p * d->ni;
		ref_forward(net, x, o, y);
		memcpy(b, x, sizeof(double) * net->ni);
		memcpy(b + net->ni, o, sizeof(double) * net->nh);
		for (int i = 0; i < net->no; i++) {
			double e = d->T[p * d->no + i] - y[i];
			for (int u = 0; u < nu; u++) {
				g[i * nu + u] += 2 * e * b[u] / d->n;
				g0[i * nu + u] += 2 * d->T[p * d->no + i] * b[u] / d->n;
			}
		}
	}
	double a = 0, a0 = 0;
	for (int i = 0; i < net->no; i++)
		for (int u = 0; u < nu; u++) {
			double r = -g[i * nu + u] + (u != net->ni - 1 ? 2 * mu * net->Wo[i * nu + u] : 0);
			a += r * r, a0 += g0[i * nu + u] * g0[i * nu + u];
		}
	free(g);
	free(g0);
	return sqrt(a / a0);
}

TEST(adact_owo_output_gradient_zero)
{
	al_adact_data d;
	REQUIRE(make_problem(400, 9, 3, 21, &d) == 0, "alloc");
	al_adact_opts o = small_opts(AL_ADACT_ADACT, 8);
	al_adact *t;
	REQUIRE_OK(al_adact_create(&o, &d, &t));
	double rel = ridge_relative_gradient(al_adact_network(t), &d, 0);
	CHECK(rel < 1e-6, "after the initial OWO |dE/dWo| is %g relative", rel);
	for (int it = 0; it < 3; it++)
		REQUIRE_OK(al_adact_iterate(t, NULL));
	rel = ridge_relative_gradient(al_adact_network(t), &d, 0);
	CHECK(rel < 1e-6, "after 3 iterations |dE/dWo| is %g relative", rel);
	/* the trainer's E agrees with the independent evaluation */
	double mse;
	REQUIRE_OK(al_adact_evaluate(al_adact_network(t), &d, &mse, NULL));
	CHECK_NEAR(al_adact_mse(t), mse, 1e-12 * mse);
	al_adact_free(t);
	al_adact_data_free(&d);
}

/* Ridge (SPEC.md 4.4's optional R + mu I): after OWO the gradient of
 * E + mu |Wo|^2 (bias column unpenalised) w.r.t. Wo is zero, from the
 * independent forward; the penalised weights are smaller; and with more
 * basis functions than samples the solution is the unique, finite one. */
static double wo_norm(const al_adact_net *net)
{
	double s = 0;
	for (int i = 0; i < net->no * (net->ni + net->nh); i++)
		s += net->Wo[i] * net->Wo[i];
	return sqrt(s);
}

TEST(adact_owo_ridge_minimises_penalised_error)
{
	al_adact_data d;
	REQUIRE(make_problem(400, 9, 3, 21, &d) == 0, "alloc");
	double norm0 = 0;
	for (int r = 0; r < 3; r++) {
		const double mu = r == 0 ? 0 : r == 1 ? 0.05 : 1.0;
		al_adact_opts o = small_opts(AL_ADACT_ADACT, 8);
		o.ridge = mu;
		al_adact *t;
		REQUIRE_OK(al_adact_create(&o, &d, &t));
		for (int it = 0; it < 3; it++)
			REQUIRE_OK(al_adact_iterate(t, NULL));
		double rel = ridge_relative_gradient(al_adact_network(t), &d, mu);
		CHECK(rel < 1e-6, "mu %g: |d(E + mu|Wo|^2)/dWo| is %g relative after 3 iterations", mu,
		      rel);
		if (mu > 0) {
			/* the unpenalised gradient is not zero: the ridge acts */
			double rel0 = ridge_relative_gradient(al_adact_network(t), &d, 0);
			CHECK(rel0 > 1e-4, "mu %g: unpenalised gradient %g", mu, rel0);
		}
		double nrm = wo_norm(al_adact_network(t));
		if (r == 0)
			norm0 = nrm;
		else
			CHECK(nrm < norm0, "mu %g: |Wo| %g not below the unpenalised %g", mu, nrm, norm0);
		double mse;
		REQUIRE_OK(al_adact_evaluate(al_adact_network(t), &d, &mse, NULL));
		CHECK_NEAR(al_adact_mse(t), mse, 1e-12 * mse);
		al_adact_free(t);
	}
	al_adact_data_free(&d);
	/* 69 basis functions, 50 samples: the ridge solution is unique and
	 * small where mu = 0 interpolates */
	REQUIRE(make_problem(50, 60, 3, 32, &d) == 0, "alloc");
	al_adact_opts o = small_opts(AL_ADACT_ADACT, 8);
	o.ridge = 0.1;
	al_adact *t;
	REQUIRE_OK(al_adact_create(&o, &d, &t));
	double rel = ridge_relative_gradient(al_adact_network(t), &d, 0.1);
	CHECK(rel < 1e-6, "N_u > N_v: penalised gradient %g relative", rel);
	CHECK(al_adact_mse(t) > 1e-3, "N_u > N_v with ridge still interpolates (E %g)",
	      al_adact_mse(t));
	al_adact_free(t);
	al_adact_data_free(&d);
}

/* Back-prop penalties: one full-batch SGD step without momentum moves the
 * weights by -lr (g + wd w) on W and Wo and -lr (g + 2 mu Wo) on Wo, bias
 * columns excluded: the difference to the unpenalised step is exact. */
TEST(adact_backprop_ridge_and_weight_decay_step)
{
	al_adact_data d;
	REQUIRE(make_problem(64, 7, 3, 23, &d) == 0, "alloc");
	const double lr = 0.01, wd = 0.3, mu = 0.2;
	al_adact_net init;
	double *mem[3][2];
	for (int c = 0; c < 3; c++) {
		al_adact_opts o = small_opts(AL_ADACT_SGD, 5);
		o.lr = lr;
		o.momentum = 0;
		o.batch = 64;
		o.wd = c == 1 ? wd : 0;
		o.ridge = c == 2 ? mu : 0;
		al_adact *t;
		REQUIRE_OK(al_adact_create(&o, &d, &t));
		al_adact_net *n = al_adact_network(t);
		size_t nW = (size_t)n->nh * n->ni, nWo = (size_t)n->no * (n->ni + n->nh);
		if (c == 0) {
			init = *n;
			init.W = malloc(nW * sizeof(double));
			init.Wo = malloc(nWo * sizeof(double));
			memcpy(init.W, n->W, nW * sizeof(double));
			memcpy(init.Wo, n->Wo, nWo * sizeof(double));
		} else { /* the ridge also shapes the initial OWO: start all three alike */
			memcpy(n->W, init.W, nW * sizeof(double));
			memcpy(n->Wo, init.Wo, nWo * sizeof(double));
		}
		REQUIRE_OK(al_adact_iterate(t, NULL));
		mem[c][0] = malloc(nW * sizeof(double));
		mem[c][1] = malloc(nWo * sizeof(double));
		memcpy(mem[c][0], n->W, nW * sizeof(double));
		memcpy(mem[c][1], n->Wo, nWo * sizeof(double));
		al_adact_free(t);
	}
	const int ni = init.ni, nh = init.nh, nu = init.ni + init.nh;
	double worst = 0;
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < ni; j++) {
			double w0 = init.W[k * ni + j], dw = mem[1][0][k * ni + j] - mem[0][0][k * ni + j];
			double want = j == ni - 1 ? 0 : -lr * wd * w0;
			worst = fmax(worst, fabs(dw - want));
			/* the ridge leaves the input weights alone */
			worst = fmax(worst, fabs(mem[2][0][k * ni + j] - mem[0][0][k * ni + j]));
		}
	for (int i = 0; i < init.no; i++)
		for (int u = 0; u < nu; u++) {
			double w0 = init.Wo[i * nu + u];
			double d1 = mem[1][1][i * nu + u] - mem[0][1][i * nu + u];
			double d2 = mem[2][1][i * nu + u] - mem[0][1][i * nu + u];
			worst = fmax(worst, fabs(d1 - (u == ni - 1 ? 0 : -lr * wd * w0)));
			worst = fmax(worst, fabs(d2 - (u == ni - 1 ? 0 : -lr * 2 * mu * w0)));
		}
	CHECK(worst < 1e-12, "penalty step off by %g", worst);
	for (int c = 0; c < 3; c++)
		free(mem[c][0]), free(mem[c][1]);
	free(init.W);
	free(init.Wo);
	al_adact_data_free(&d);
}

TEST(adact_molf_gradient_hessian_finite_differences)
{
	al_adact_data d;
	REQUIRE(make_problem(300, 6, 3, 22, &d) == 0, "alloc");
	al_adact_opts o = small_opts(AL_ADACT_ADACT, 5);
	al_adact *t;
	REQUIRE_OK(al_adact_create(&o, &d, &t));
	REQUIRE_OK(al_adact_iterate(t, NULL)); /* hinges no longer relu */
	REQUIRE_OK(al_adact_iterate(t, NULL));
	const al_adact_net *net = al_adact_network(t);
	const int nh = net->nh, ni = net->ni;
	double G[5 * 7], H[25], g[5], z[5];
	REQUIRE_OK(al_adact_molf_system(t, G, H, g));
	/* step so that the largest net change is 1e-5 */
	double dmax = 0;
	for (int p = 0; p < d.n; p++)
		for (int k = 0; k < nh; k++) {
			double s = 0;
			for (int j = 0; j < ni; j++)
				s += G[k * ni + j] * d.X[p * ni + j];
			dmax = fmax(dmax, fabs(s));
		}
	double h = 1e-5 / dmax, gmax = 0, hmax = 0;
	for (int k = 0; k < nh; k++) {
		gmax = fmax(gmax, fabs(g[k]));
		for (int j = 0; j < nh; j++)
			hmax = fmax(hmax, fabs(H[k * nh + j]));
	}
	REQUIRE(gmax > 0 && hmax > 0, "zero MOLF system");
	for (int k = 0; k < nh; k++) {
		memset(z, 0, sizeof z);
		z[k] = h;
		double ep = al_adact_molf_error(t, G, z);
		z[k] = -h;
		double em = al_adact_molf_error(t, G, z);
		CHECK_NEAR(g[k], -(ep - em) / (2 * h), 1e-6 * gmax);
		for (int j = 0; j < nh; j++) {
			double e[4];
			for (int s = 0; s < 4; s++) {
				memset(z, 0, sizeof z);
				z[k] += s & 1 ? -h : h;
				z[j] += s & 2 ? -h : h;
				e[s] = al_adact_molf_error(t, G, z);
			}
			double fd = (e[0] - e[1] - e[2] + e[3]) / (4 * h * h);
			CHECK_NEAR(H[k * nh + j], fd, 1e-4 * hmax);
		}
	}
	/* G is the negative gradient of E w.r.t. W: compare with back-prop */
	size_t np = (size_t)nh * ni + (size_t)net->no * (ni + nh) + (size_t)nh * net->ns;
	double *grad = malloc(np * sizeof *grad);
	REQUIRE_OK(al_adact_gradient(t, grad));
	for (int i = 0; i < nh * ni; i++)
		CHECK_NEAR(G[i], -grad[i], 1e-12 * (1 + fabs(G[i])));
	free(grad);
	al_adact_free(t);
	al_adact_data_free(&d);
}

/* Golden-section search of E(s) = hinge_error(Ga, s) on [a, b]. */
static double line_search(al_adact *t, const double *Ga, double a, double b)
{
	const double r = (sqrt(5.0) - 1) / 2;
	double c = b - r * (b - a), e = a + r * (b - a);
	double fc = al_adact_hinge_error(t, Ga, c), fe = al_adact_hinge_error(t, Ga, e);
	for (int i = 0; i < 200 && fabs(b - a) > 1e-10 * (fabs(a) + fabs(b)); i++) {
		if (fc < fe) {
			b = e, e = c, fe = fc;
			c = b - r * (b - a);
			fc = al_adact_hinge_error(t, Ga, c);
		} else {
			a = c, c = e, fc = fe;
			e = a + r * (b - a);
			fe = al_adact_hinge_error(t, Ga, e);
		}
	}
	return (a + b) / 2;
}

TEST(adact_hinge_factor_is_exact_line_minimiser)
{
	al_adact_data d;
	REQUIRE(make_problem(300, 6, 3, 23, &d) == 0, "alloc");
	al_adact_opts o = small_opts(AL_ADACT_ADACT, 6);
	al_adact *t;
	REQUIRE_OK(al_adact_create(&o, &d, &t));
	REQUIRE_OK(al_adact_iterate(t, NULL));
	const al_adact_net *net = al_adact_network(t);
	const int na = net->nh * net->ns;
	double *Ga = malloc(sizeof(double) * na), *dir = calloc(na, sizeof(double)), z = 0;
	REQUIRE_OK(al_adact_hinge_step_factor(t, Ga, &z));
	REQUIRE(z > 0, "hinge factor %g should be positive along the negative gradient", z);
	double e0 = al_adact_mse(t), ez = al_adact_hinge_error(t, Ga, z);
	CHECK(ez < e0, "E(z) = %g not below E(0) = %g", ez, e0);
	double s = line_search(t, Ga, 0, 4 * z);
	CHECK_NEAR(s, z, 1e-6 * z);
	CHECK(ez <= al_adact_hinge_error(t, Ga, z * 1.001) &&
		      ez <= al_adact_hinge_error(t, Ga, z * 0.999),
	      "z is not a minimiser");
	/* Ga is the negative gradient of E w.r.t. A (E is quadratic in A) */
	double gmax = 0;
	for (int i = 0; i < na; i++)
		gmax = fmax(gmax, fabs(Ga[i]));
	for (int i = 0; i < na; i++) {
		dir[i] = 1;
		double h = 1e-3;
		double fd = (al_adact_hinge_error(t, dir, h) - al_adact_hinge_error(t, dir, -h)) /
			    (2 * h);
		CHECK_NEAR(Ga[i], -fd, 1e-7 * gmax);
		dir[i] = 0;
	}
	free(Ga);
	free(dir);
	al_adact_free(t);
	al_adact_data_free(&d);
}

TEST(adact_error_never_increases_with_safeguard)
{
	al_adact_data d;
	REQUIRE(make_problem(300, 8, 4, 24, &d) == 0, "alloc");
	const al_adact_algo algos[] = {AL_ADACT_ADACT, AL_ADACT_MOLF, AL_ADACT_OWOBP,
				       AL_ADACT_CG, AL_ADACT_LM};
	int halvings = 0;
	for (int per_unit = 0; per_unit < 2; per_unit++)
		for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
			if (per_unit && algos[a] != AL_ADACT_ADACT)
				continue;
			al_adact_opts o = small_opts(algos[a], 10);
			o.per_unit = per_unit;
			al_adact *t;
			REQUIRE_OK(al_adact_create(&o, &d, &t));
			double prev = al_adact_mse(t), first = prev;
			for (int it = 0; it < 12; it++) {
				al_adact_iter info;
				REQUIRE_OK(al_adact_iterate(t, &info));
				halvings += info.halvings;
				CHECK(info.mse <= prev, "%s%s: E rose from %.17g to %.17g at iteration %d",
				      al_adact_algo_name(algos[a]), per_unit ? " per-unit" : "", prev,
				      info.mse, it + 1);
				prev = info.mse;
			}
			CHECK(prev < 0.9 * first, "%s: E only went from %g to %g",
			      al_adact_algo_name(algos[a]), first, prev);
			al_adact_free(t);
		}
	CHECK(halvings > 0, "the safeguard never acted; the test does not exercise it");
	al_adact_data_free(&d);
}

TEST(adact_hinges_at_init_reproduce_relu_and_leaky_relu)
{
	al_adact_data d;
	REQUIRE(make_problem(50, 3, 2, 25, &d) == 0, "alloc");
	const struct {
		int ns;
		double lo, hi;
	} grids[] = {{9, -4, 4}, {5, -2, 2}, {3, -1, 1}, {13, -6, 6}};
	for (size_t gi = 0; gi < sizeof grids / sizeof *grids; gi++)
		for (int leaky = 0; leaky < 2; leaky++) {
			al_adact_opts o = small_opts(AL_ADACT_ADACT, 3);
			o.hinges = grids[gi].ns;
			o.lo = grids[gi].lo;
			o.hi = grids[gi].hi;
			o.init_leaky = leaky;
			al_adact *t;
			REQUIRE_OK(al_adact_create(&o, &d, &t));
			const al_adact_net *net = al_adact_network(t);
			for (int k = 0; k < net->nh; k++)
				for (double x = -9; x <= 9; x += 0.0625 + 1e-3) {
					double want = x > 0 ? x : leaky ? 0.01 * x : 0.0, sl;
					double dwant = x > 0 ? 1.0 : leaky ? 0.01 : 0.0;
					double f = al_adact_pla(net, k, x, &sl);
					CHECK(fabs(f - want) <= 1e-14 * (1 + fabs(x)),
					      "grid %zu leaky %d: f(%g) = %.17g, want %.17g", gi, leaky,
					      x, f, want);
					CHECK(fabs(sl - dwant) <= 1e-14, "slope at %g = %g", x, sl);
				}
			/* exactly at the hinges, including 0 (right-segment slope) */
			for (int j = 0; j < net->ns; j++) {
				double x = net->lo + j * net->delta, sl;
				double f = al_adact_pla(net, 0, x, &sl);
				CHECK(f == (x > 0 ? x : leaky ? 0.01 * x : 0.0), "hinge %d: %g", j, f);
			}
			double sl;
			al_adact_pla(net, 0, 0.0, &sl);
			CHECK(sl == 1.0, "slope at 0 is the right segment's (got %g)", sl);
			al_adact_free(t);
		}
	al_adact_data_free(&d);
}

TEST(adact_pla_derivative_finite_differences)
{
	al_adact_net net = {.ni = 1, .nh = 1, .no = 1, .ns = 6, .lo = -2.5, .delta = 1.0};
	double A[6] = {0.3, -1.2, 0.7, 2.0, 1.1, -0.4};
	net.A = A;
	for (double x = -6; x <= 6; x += 0.37) {
		double sl, h = 1e-6;
		al_adact_pla(&net, 0, x, &sl);
		double fd = (al_adact_pla(&net, 0, x + h, NULL) - al_adact_pla(&net, 0, x - h, NULL)) /
			    (2 * h);
		CHECK_NEAR(sl, fd, 1e-6);
	}
	/* linear in A: f = sum_j A_j B_j(x), interpolation at the hinges */
	for (int j = 0; j < 6; j++)
		CHECK_NEAR(al_adact_pla(&net, 0, -2.5 + j, NULL), A[j], 1e-15);
	CHECK_NEAR(al_adact_pla(&net, 0, -1.75, NULL), 0.25 * 0.3 + 0.75 * -1.2, 1e-15);
}

TEST(adact_backprop_gradient_finite_differences)
{
	al_adact_data d;
	REQUIRE(make_problem(120, 4, 3, 26, &d) == 0, "alloc");
	al_adact_opts o = small_opts(AL_ADACT_ADAM, 4);
	al_adact *t;
	REQUIRE_OK(al_adact_create(&o, &d, &t));
	REQUIRE_OK(al_adact_iterate(t, NULL)); /* hinges moved by back-prop */
	al_adact_net *net = al_adact_network(t);
	const int nW = net->nh * net->ni, nWo = net->no * (net->ni + net->nh);
	const int np = nW + nWo + net->nh * net->ns;
	double *grad = malloc(sizeof(double) * np);
	REQUIRE_OK(al_adact_gradient(t, grad));
	double gmax = 0;
	for (int i = 0; i < np; i++)
		gmax = fmax(gmax, fabs(grad[i]));
	for (int i = 0; i < np; i++) {
		double *w = i < nW ? net->W + i : i < nW + nWo ? net->Wo + (i - nW)
							       : net->A + (i - nW - nWo);
		double h = 1e-6, w0 = *w, ep, em;
		*w = w0 + h;
		REQUIRE_OK(al_adact_evaluate(net, &d, &ep, NULL));
		*w = w0 - h;
		REQUIRE_OK(al_adact_evaluate(net, &d, &em, NULL));
		*w = w0;
		CHECK_NEAR(grad[i], (ep - em) / (2 * h), 1e-6 * gmax);
	}
	free(grad);
	al_adact_free(t);
	al_adact_data_free(&d);
}

TEST(adact_all_algorithms_learn)
{
	al_adact_data d, te;
	REQUIRE(make_problem(400, 6, 3, 27, &d) == 0, "alloc");
	REQUIRE(make_problem(200, 6, 3, 27, &te) == 0, "alloc"); /* same teacher */
	for (int a = AL_ADACT_ADACT; a <= AL_ADACT_ADAM; a++) {
		al_adact_opts o = small_opts((al_adact_algo)a, 8);
		o.iters = 15;
		if (a >= AL_ADACT_SGD)
			o.lr = 0.01;
		al_adact_fit_result r;
		REQUIRE_OK(al_adact_fit(&o, &d, NULL, &te, NULL, NULL, &r));
		CHECK(r.iters == o.iters, "%s ran %d iterations", al_adact_algo_name(o.algo),
		      r.iters);
		CHECK(r.mse[r.iters] < (a >= AL_ADACT_SGD ? 0.95 : 0.8) * r.mse[0], "%s: E %g -> %g", al_adact_algo_name(o.algo),
		      r.mse[0], r.mse[r.iters]);
		CHECK(r.test_acc > 0.6, "%s: test accuracy %g", al_adact_algo_name(o.algo),
		      r.test_acc);
		al_adact_fit_result_free(&r);
	}
	al_adact_data_free(&d);
	al_adact_data_free(&te);
}

TEST(adact_threads_give_same_result)
{
	al_adact_data d;
	REQUIRE(make_problem(500, 10, 3, 28, &d) == 0, "alloc");
	al_adact_opts o = small_opts(AL_ADACT_ADACT, 12);
	o.iters = 4;
	double mse[2];
	int saved = al_get_threads();
	for (int th = 1; th <= 2; th++) {
		al_set_threads(th);
		al_adact_fit_result r;
		REQUIRE_OK(al_adact_fit(&o, &d, NULL, NULL, NULL, NULL, &r));
		mse[th - 1] = r.train_mse;
		al_adact_fit_result_free(&r);
	}
	al_set_threads(saved);
	CHECK_NEAR(mse[0], mse[1], 1e-10 * mse[0]);
	al_adact_data_free(&d);
}

TEST(adact_mixed_precision_follows_double)
{
	al_adact_data d;
	REQUIRE(make_problem(2100, 20, 4, 31, &d) == 0, "alloc");
	const al_adact_algo algos[] = {AL_ADACT_ADACT, AL_ADACT_OWOBP, AL_ADACT_CG};
	for (size_t a = 0; a < sizeof algos / sizeof *algos; a++) {
		al_adact_opts o = small_opts(algos[a], 12);
		o.iters = 5;
		al_adact_fit_result r[2];
		for (int p = 0; p < 2; p++) {
			o.precision = p ? AL_ADACT_MIXED : AL_ADACT_DOUBLE;
			REQUIRE_OK(al_adact_fit(&o, &d, NULL, NULL, NULL, NULL, &r[p]));
		}
		for (int it = 0; it <= o.iters; it++)
			CHECK_NEAR(r[1].mse[it], r[0].mse[it], 1e-4 * r[0].mse[it]);
		al_adact_fit_result_free(&r[0]);
		al_adact_fit_result_free(&r[1]);
	}
	al_adact_data_free(&d);
}

TEST(adact_more_basis_functions_than_samples)
{
	/* N_u = 61 + 8 > 50 samples: R is singular; OLS must drop the
	 * dependent functions in both precisions instead of blowing up */
	al_adact_data d;
	REQUIRE(make_problem(50, 60, 3, 32, &d) == 0, "alloc");
	for (int p = 0; p < 2; p++) {
		al_adact_opts o = small_opts(AL_ADACT_ADACT, 8);
		o.precision = p ? AL_ADACT_MIXED : AL_ADACT_DOUBLE;
		al_adact *t;
		REQUIRE_OK(al_adact_create(&o, &d, &t));
		double e0 = al_adact_mse(t);
		CHECK(e0 < 1e-6, "precision %d: an interpolating OWO should fit 50 samples (E %g)", p,
		      e0);
		al_adact_net *net = al_adact_network(t);
		double wmax = 0;
		for (int i = 0; i < net->no * (net->ni + net->nh); i++)
			wmax = fmax(wmax, fabs(net->Wo[i]));
		CHECK(wmax < 100, "precision %d: output weights up to %g", p, wmax);
		for (int it = 0; it < 3; it++)
			REQUIRE_OK(al_adact_iterate(t, NULL));
		CHECK(isfinite(al_adact_mse(t)) && al_adact_mse(t) <= e0, "precision %d: E %g", p,
		      al_adact_mse(t));
		al_adact_free(t);
	}
	al_adact_data_free(&d);
}

TEST(adact_owo_fewer_samples_than_inputs_real_images)
{
	/* 100 Fashion-MNIST images, 785 inputs: the kept OLS basis is
	 * numerically dependent at the default threshold (E after OWO was
	 * ~3e4, against 1 for Wo = 0); OWO must raise the threshold */
	const char *env = getenv("ACTLAB_FASHION_MNIST");
	const char *dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
	FILE *probe = NULL;
	char path[600];
	snprintf(path, sizeof path, "%s/train-images-idx3-ubyte.gz", dir);
	if (!(probe = fopen(path, "rb"))) {
		printf("  (skipped: %s not installed)\n", dir);
		return;
	}
	fclose(probe);
	for (int p = 0; p < 2; p++) {
		al_adact_opts o = small_opts(AL_ADACT_ADACT, 8);
		o.iters = 2;
		o.precision = p ? AL_ADACT_MIXED : AL_ADACT_DOUBLE;
		al_adact_run_opts ro = al_adact_run_opts_default();
		ro.data = "fashion-mnist:train=100,test=200";
		al_adact_report r;
		REQUIRE_OK(al_adact_run(&o, &ro, NULL, NULL, &r));
		CHECK(r.runs[0].mse[0] <= 1.0 && r.runs[0].train_mse <= 1.0,
		      "precision %d: E after the first OWO %g, final train MSE %g (Wo = 0 gives 1)", p,
		      r.runs[0].mse[0], r.runs[0].train_mse);
		al_adact_report_free(&r);
	}
}

TEST(adact_kfold_runs_partition_the_training_part)
{
	al_adact_opts o = small_opts(AL_ADACT_MOLF, 4);
	o.iters = 2;
	al_adact_run_opts ro = al_adact_run_opts_default();
	ro.data = "synthetic:n=200,test=40,c=1,h=3,w=3,classes=3,seed=4";
	ro.kfold = 4;
	int total_test = 0;
	for (int f = 0; f < 4; f++) {
		ro.fold = f;
		al_adact_report r;
		REQUIRE_OK(al_adact_run(&o, &ro, NULL, NULL, &r));
		CHECK(r.nruns == 1 && r.fold[0] == f, "fold %d: %d runs", f, r.nruns);
		CHECK(r.n_train + r.n_test == 200, "fold %d: %d + %d", f, r.n_train, r.n_test);
		CHECK(r.n_test == 50, "fold %d: %d test samples", f, r.n_test);
		total_test += r.n_test;
		al_adact_report_free(&r);
	}
	CHECK(total_test == 200, "held-out folds cover %d of 200", total_test);
	ro.fold = -1;
	al_adact_report r;
	REQUIRE_OK(al_adact_run(&o, &ro, NULL, NULL, &r));
	CHECK(r.nruns == 4, "%d runs", r.nruns);
	double m = 0, v = 0;
	for (int i = 0; i < r.nruns; i++)
		m += r.runs[i].test_acc / r.nruns;
	for (int i = 0; i < r.nruns; i++)
		v += (r.runs[i].test_acc - m) * (r.runs[i].test_acc - m) / (r.nruns - 1);
	CHECK_NEAR(r.test_acc_mean, m, 1e-12);
	CHECK_NEAR(r.test_acc_std, sqrt(v), 1e-12);
	al_adact_report_free(&r);
	/* bad combinations */
	ro.kfold = 1;
	CHECK(al_adact_run(&o, &ro, NULL, NULL, &r) == AL_ERANGE, "kfold 1");
	ro.kfold = 3;
	ro.fold = 3;
	CHECK(al_adact_run(&o, &ro, NULL, NULL, &r) == AL_ERANGE, "fold 3 of 3");
	ro.fold = 1;
	ro.kfold = 4;
	ro.val = 0.25;
	o.iters = 6;
	REQUIRE_OK(al_adact_run(&o, &ro, NULL, NULL, &r));
	CHECK(r.n_train + r.n_val + r.n_test == 200 && r.n_test == 50 && r.n_val >= 36 &&
		      r.n_val <= 39,
	      "train %d val %d test %d", r.n_train, r.n_val, r.n_test);
	/* early stopping: the tested network is the first best on validation
	 * among iterations 1..iters (what the progress callback reports, so the
	 * store's per-iteration rows give the same choice), and its test
	 * accuracy is that iteration's */
	const al_adact_fit_result *f = &r.runs[0];
	REQUIRE(f->val && f->test, "no validation or test history");
	int bi = 1;
	for (int it = 2; it <= f->iters; it++)
		if (f->val[it] > f->val[bi])
			bi = it;
	CHECK(f->best_iter == bi && f->val_acc == f->val[bi], "best %d (%g), expected %d (%g)",
	      f->best_iter, f->val_acc, bi, f->val[bi]);
	CHECK(f->test_acc == f->test[bi], "tested %g, iteration %d had %g", f->test_acc, bi,
	      f->test[bi]);
	al_adact_report_free(&r);
	ro.val = 0.999;
	CHECK(al_adact_run(&o, &ro, NULL, NULL, &r) == AL_ERANGE, "val leaves no training data");
}

TEST(adact_csv_data)
{
	/* two informative features, one constant, labels by name */
	char path[512], cmd[1024], out[16384];
	snprintf(path, sizeof path, "%s/adact.csv", test_tmpdir());
	FILE *f = fopen(path, "w");
	REQUIRE(f, "cannot write %s", path);
	fprintf(f, "a,b,c,kind\n");
	al_rng r;
	al_rng_seed(&r, 40);
	const char *names[3] = {"low", "mid", "high"};
	for (int i = 0; i < 240; i++) {
		double a = 3 * al_rng_normal(&r), b = al_rng_normal(&r);
		int k = a + b < -1.5 ? 0 : a + b < 1.5 ? 1 : 2;
		fprintf(f, "%.6f,%.6f,7,%s\n", a, b, names[k]);
	}
	fclose(f);
	snprintf(cmd, sizeof cmd, "%s adact --data csv:%s,holdout=0.25 --hidden 6 --iters 8 --json --quiet",
		 actlab_bin(), path);
	int rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "exit %d: %s", rc, out);
	const char *p = strstr(out, "], \"test_acc\": ");
	REQUIRE(p, "no test_acc in %s", out);
	double acc = atof(p + 15);
	CHECK(acc > 0.85, "csv test accuracy %g", acc);
	const char *q = strstr(out, "\"n_train\": "), *q2 = strstr(out, "\"n_test\": ");
	REQUIRE(q && q2, "%s", out);
	CHECK(atoi(q + 11) + atoi(q2 + 10) == 240, "%s", out);
	snprintf(cmd, sizeof cmd,
		 "%s adact --data csv:%s,holdout=0 --hidden 6 --iters 4 --kfold 4 --json --quiet",
		 actlab_bin(), path);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && strstr(out, "\"fold\": 3") && strstr(out, "\"n_test\": 60"),
	      "exit %d: %s", rc, out);
}

TEST(adact_option_errors)
{
	al_adact_opts o = al_adact_opts_default();
	o.hinges = 1;
	CHECK(al_adact_opts_check(&o) == AL_ERANGE && strstr(al_errmsg(), "hinges"), "%s",
	      al_errmsg());
	o = al_adact_opts_default();
	o.lo = 2;
	o.hi = 1;
	CHECK(al_adact_opts_check(&o) == AL_ERANGE && strstr(al_errmsg(), "range"), "%s",
	      al_errmsg());
	al_adact_algo a;
	CHECK(al_adact_parse_algo("newton", &a) == AL_EINVAL && strstr(al_errmsg(), "owo-bp"),
	      "%s", al_errmsg());
	/* regularisers: ranges, and only where they are defined */
	o = al_adact_opts_default();
	o.ridge = -1;
	CHECK(al_adact_opts_check(&o) == AL_ERANGE && strstr(al_errmsg(), "ridge"), "%s",
	      al_errmsg());
	o = al_adact_opts_default();
	o.ridge = NAN;
	CHECK(al_adact_opts_check(&o) == AL_ERANGE, "ridge NaN: %s", al_errmsg());
	o = al_adact_opts_default();
	o.algo = AL_ADACT_CG;
	o.ridge = 0.1;
	CHECK(al_adact_opts_check(&o) == AL_EINVAL && strstr(al_errmsg(), "cg"), "%s",
	      al_errmsg());
	o = al_adact_opts_default();
	o.wd = 1e-3;
	CHECK(al_adact_opts_check(&o) == AL_EINVAL && strstr(al_errmsg(), "wd"), "%s",
	      al_errmsg());
	o.algo = AL_ADACT_ADAM;
	CHECK(al_adact_opts_check(&o) == AL_OK, "adam with wd: %s", al_errmsg());
	/* LM refuses networks above its weight limit */
	al_adact_data d;
	REQUIRE(make_problem(50, 30, 3, 29, &d) == 0, "alloc");
	o = small_opts(AL_ADACT_LM, 200);
	al_adact *t = NULL;
	CHECK(al_adact_create(&o, &d, &t) == AL_ERANGE && strstr(al_errmsg(), "lm"), "%s",
	      al_errmsg());
	CHECK(t == NULL, "trainer returned on error");
	/* evaluate refuses mismatched data */
	al_adact_data d2;
	REQUIRE(make_problem(10, 5, 3, 30, &d2) == 0, "alloc");
	o = small_opts(AL_ADACT_ADACT, 3);
	REQUIRE_OK(al_adact_create(&o, &d, &t));
	CHECK(al_adact_evaluate(al_adact_network(t), &d2, NULL, NULL) == AL_EINVAL, "mismatch");
	al_adact_free(t);
	al_adact_data_free(&d);
	al_adact_data_free(&d2);
}

TEST(adact_cli)
{
	char out[16384], cmd[1024];
	const char *data = "synthetic:n=120,test=30,c=1,h=3,w=3,classes=3";
	snprintf(cmd, sizeof cmd, "%s adact --data %s --hidden 4 --iters 3 --json --quiet",
		 actlab_bin(), data);
	int rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0, "exit %d: %s", rc, out);
	const char *keys[] = {"\"test_acc\": ", "\"train_mse\": ", "\"seconds_per_iter\": ",
			      "\"iters\": 3}"};
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		CHECK(strstr(out, keys[i]), "missing %s in %s", keys[i], out);
	snprintf(cmd, sizeof cmd, "%s adact --data %s --hidden 4 --iters 2 --kfold 3 --json --quiet",
		 actlab_bin(), data);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0 && strstr(out, "\"fold\": 2") && strstr(out, "\"test_acc_std\": "),
	      "kfold: exit %d: %s", rc, out);
	const struct {
		const char *args;
		int code;
		const char *msg;
	} bad[] = {
		{"--algo newton", 2, "valid"},
		{"--hinges 1", 2, "hinges"},
		{"--range 3,1", 2, "range"},
		{"--fold 1", 2, "--kfold"},
		{"--val 1.5", 2, "--val"},
		{"--init tanh", 2, "leaky_relu"},
		{"--iters x", 2, "iters"},
		{"--bogus 1", 2, "bogus"},
		{"--data mnist:/nonexistent/dir", 1, "nonexistent"},
		{"--algo lm --hidden 400", 1, "lm"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		snprintf(cmd, sizeof cmd, "%s adact --data %s --iters 1 --quiet %s", actlab_bin(),
			 data, bad[i].args);
		rc = run_cmd(cmd, out, sizeof out);
		CHECK(rc == bad[i].code && strstr(out, bad[i].msg), "'%s': exit %d: %s",
		      bad[i].args, rc, out);
	}
}

/* macro precision (SPEC.md 6, 0/0 = 0) of a network whose predictions are
 * set by its bypass weights: predictions 0,0,1,2,2,1 for labels 0,1,1,2,0,1
 * give precisions 1/2, 2/2, 1/2 (macro 2/3) and accuracy 4/6 */
TEST(adact_evaluate_macro_precision)
{
	al_adact_data d;
	REQUIRE_OK(al_adact_data_alloc(6, 3, 3, &d));
	static const double feat[6][2] = {{1, 0}, {1, 0}, {0, 1}, {0, 0}, {0, 0}, {0, 1}};
	static const int lab[6] = {0, 1, 1, 2, 0, 1};
	for (int p = 0; p < 6; p++) {
		d.X[p * 3 + 0] = feat[p][0];
		d.X[p * 3 + 1] = feat[p][1];
		d.X[p * 3 + 2] = 1;
		d.labels[p] = lab[p];
		for (int i = 0; i < 3; i++)
			d.T[p * 3 + i] = i == lab[p];
	}
	double W[3] = {0, 0, 0}, A[3] = {0, 0, 1};
	/* y0 = x0, y1 = x1, y2 = 0.5 (bias); hidden output weight 0 */
	double Wo[12] = {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0.5, 0};
	al_adact_net net = {3, 1, 3, 3, -1, 1, W, A, Wo};
	double mse, acc, prec;
	REQUIRE_OK(al_adact_evaluate_prec(&net, &d, &mse, &acc, &prec));
	CHECK(fabs(acc - 4.0 / 6) < 1e-12, "accuracy %g", acc);
	CHECK(fabs(prec - 2.0 / 3) < 1e-12, "macro precision %g", prec);
	/* a class never predicted counts 0: all predicted class 2 */
	Wo[0] = Wo[5] = 0;
	REQUIRE_OK(al_adact_evaluate_prec(&net, &d, NULL, &acc, &prec));
	CHECK(fabs(acc - 1.0 / 6) < 1e-12 && fabs(prec - (1.0 / 6) / 3) < 1e-12,
	      "acc %g prec %g", acc, prec);
	al_adact_data_free(&d);
}
