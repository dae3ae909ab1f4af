/* test_optim.c — tests of src/optim: SGD (plain, momentum, Nesterov,
 * weight decay) against closed forms written out by hand, Adam and AdamW
 * against a double-precision re-implementation of PyTorch 1.13's update,
 * the two parameter groups (weights | activation parameters), option
 * validation, optimizer state for resume, and learning-rate schedules.
 * Not for: the training loop or activation-parameter projections.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/core.h"
#include "actlab/optim.h"
#include "test.h"

/* |got - want| <= rel * |want| (+ a tiny absolute floor for want == 0) */
#define CHECK_REL(got, want, rel, ...)                                                   \
	do {                                                                             \
		double r__g = (got), r__w = (want);                                      \
		if (!(fabs(r__g - r__w) <= (rel) * fabs(r__w) + 1e-12)) {               \
			test_fail(__FILE__, __LINE__, __VA_ARGS__);                      \
			test_fail(__FILE__, __LINE__, "  got %.10g, want %.10g (rel %.3g)", \
				  r__g, r__w, fabs(r__g - r__w) / (fabs(r__w) + 1e-300));  \
		}                                                                        \
	} while (0)

enum { NP = 4, T = 3 };
static const double P0[NP] = {1.0, -2.0, 0.5, 3.0};
/* a different gradient at every step, mixed signs and sizes */
static const double G[T][NP] = {
	{0.5, -1.0, 0.25, 2.0},
	{-0.3, 0.8, 0.125, 1.5},
	{0.7, 0.2, -0.6, -0.4},
};

/* Runs T steps of an optimizer over NP parameters (all in the weights
 * group); writes the parameters after each step into out[t][i]. */
static int run_steps(const al_optim_opts *o, float out[T][NP], float *state_out)
{
	al_optim *opt;
	if (al_optim_create(o, NP, NP, &opt) != AL_OK)
		return -1;
	float p[NP], g[NP];
	for (int i = 0; i < NP; i++)
		p[i] = (float)P0[i];
	for (int t = 0; t < T; t++) {
		for (int i = 0; i < NP; i++)
			g[i] = (float)G[t][i];
		al_optim_step(opt, p, g, 1.0);
		memcpy(out[t], p, sizeof p);
	}
	if (state_out) {
		size_t n;
		float *s = al_optim_state(opt, &n);
		memcpy(state_out, s, n * sizeof(float));
	}
	al_optim_free(opt);
	return 0;
}

/* ---- SGD ---------------------------------------------------------------- */
TEST(optim_sgd_plain)
{
	al_optim_opts o = al_optim_opts_default();
	o.kind = AL_OPT_SGD;
	o.lr = 0.1;
	float p[T][NP];
	REQUIRE(run_steps(&o, p, NULL) == 0, "create: %s", al_errmsg());
	const double lr = 0.1;
	for (int i = 0; i < NP; i++) {
		/* p_t = p0 - lr * (g1 + ... + gt) */
		double p1 = P0[i] - lr * G[0][i];
		double p2 = P0[i] - lr * (G[0][i] + G[1][i]);
		double p3 = P0[i] - lr * (G[0][i] + G[1][i] + G[2][i]);
		CHECK_NEAR(p[0][i], p1, 1e-6);
		CHECK_NEAR(p[1][i], p2, 1e-6);
		CHECK_NEAR(p[2][i], p3, 1e-6);
	}
	/* plain SGD keeps no state */
	al_optim *opt;
	REQUIRE_OK(al_optim_create(&o, NP, NP, &opt));
	size_t n = 99;
	al_optim_state(opt, &n);
	CHECK(n == 0, "plain SGD has %zu state floats", n);
	al_optim_free(opt);
	al_optim_free(NULL);
}

TEST(optim_sgd_momentum)
{
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.1;
	o.momentum = 0.9;
	float p[T][NP], buf[NP];
	REQUIRE(run_steps(&o, p, buf) == 0, "create: %s", al_errmsg());
	const double lr = 0.1, mu = 0.9;
	for (int i = 0; i < NP; i++) {
		/* dampening 0, first buffer = g1 (PyTorch):
		 * b1 = g1, b2 = mu g1 + g2, b3 = mu^2 g1 + mu g2 + g3 */
		double b1 = G[0][i];
		double b2 = mu * G[0][i] + G[1][i];
		double b3 = mu * mu * G[0][i] + mu * G[1][i] + G[2][i];
		CHECK_NEAR(p[0][i], P0[i] - lr * b1, 1e-6);
		CHECK_NEAR(p[1][i], P0[i] - lr * (b1 + b2), 1e-6);
		CHECK_NEAR(p[2][i], P0[i] - lr * ((1 + mu + mu * mu) * G[0][i] + (1 + mu) * G[1][i] +
						  G[2][i]),
			   1e-6);
		CHECK_NEAR(buf[i], b3, 1e-6);
	}
}

TEST(optim_sgd_nesterov)
{
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.1;
	o.momentum = 0.9;
	o.nesterov = 1;
	float p[T][NP];
	REQUIRE(run_steps(&o, p, NULL) == 0, "create: %s", al_errmsg());
	const double lr = 0.1, mu = 0.9;
	for (int i = 0; i < NP; i++) {
		/* update u_t = g_t + mu b_t */
		double b1 = G[0][i];
		double b2 = mu * G[0][i] + G[1][i];
		double b3 = mu * mu * G[0][i] + mu * G[1][i] + G[2][i];
		double u1 = G[0][i] + mu * b1, u2 = G[1][i] + mu * b2, u3 = G[2][i] + mu * b3;
		CHECK_NEAR(p[0][i], P0[i] - lr * u1, 1e-6);
		CHECK_NEAR(p[1][i], P0[i] - lr * (u1 + u2), 1e-6);
		CHECK_NEAR(p[2][i], P0[i] - lr * (u1 + u2 + u3), 1e-6);
	}
}

TEST(optim_sgd_weight_decay)
{
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.1;
	o.wd = 0.5; /* large, so a wrong decay shows */
	float p[T][NP];
	REQUIRE(run_steps(&o, p, NULL) == 0, "create: %s", al_errmsg());
	const double lr = 0.1, a = 0.1 * 0.5, k = 1 - a;
	for (int i = 0; i < NP; i++) {
		/* p_t = (1 - lr wd) p_{t-1} - lr g_t, unrolled */
		double p1 = k * P0[i] - lr * G[0][i];
		double p2 = k * k * P0[i] - lr * (k * G[0][i] + G[1][i]);
		double p3 = k * k * k * P0[i] - lr * (k * k * G[0][i] + k * G[1][i] + G[2][i]);
		CHECK_NEAR(p[0][i], p1, 1e-6);
		CHECK_NEAR(p[1][i], p2, 1e-6);
		CHECK_NEAR(p[2][i], p3, 1e-6);
	}
}

TEST(optim_sgd_momentum_nesterov_weight_decay)
{
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.05;
	o.momentum = 0.8;
	o.nesterov = 1;
	o.wd = 0.1;
	float p[T][NP];
	REQUIRE(run_steps(&o, p, NULL) == 0, "create: %s", al_errmsg());
	const double lr = 0.05, mu = 0.8, wd = 0.1;
	for (int i = 0; i < NP; i++) {
		/* PyTorch: d = g + wd p; b = d (t=1) or mu b + d; u = d + mu b */
		double q = P0[i];
		double d1 = G[0][i] + wd * q, b1 = d1;
		q -= lr * (d1 + mu * b1);
		CHECK_NEAR(p[0][i], q, 1e-6);
		double d2 = G[1][i] + wd * q, b2 = mu * b1 + d2;
		q -= lr * (d2 + mu * b2);
		CHECK_NEAR(p[1][i], q, 1e-6);
		double d3 = G[2][i] + wd * q, b3 = mu * b2 + d3;
		q -= lr * (d3 + mu * b3);
		CHECK_NEAR(p[2][i], q, 1e-6);
	}
}

TEST(optim_sgd_lr_scale)
{
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.2;
	al_optim *opt;
	REQUIRE_OK(al_optim_create(&o, 2, 2, &opt));
	float p[2] = {1, 1}, g[2] = {1, -2};
	al_optim_step(opt, p, g, 0.25);
	CHECK_NEAR(p[0], 1 - 0.05 * 1, 1e-7);
	CHECK_NEAR(p[1], 1 + 0.05 * 2, 1e-7);
	al_optim_step(opt, p, g, 0.0);
	CHECK_NEAR(p[0], 0.95, 1e-7);
	CHECK(al_optim_steps(opt) == 2, "steps %lld", (long long)al_optim_steps(opt));
	al_optim_free(opt);
}

/* ---- Adam / AdamW ---------------------------------------------------------- */
/* PyTorch 1.13 Adam/AdamW (torch/optim/adam.py, _single_tensor_adam), in
 * double: AdamW decays p *= 1 - lr wd first, Adam adds wd p to the grad;
 * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; bc1 = 1 - b1^t;
 * bc2 = 1 - b2^t; denom = sqrt(v)/sqrt(bc2) + eps; p -= lr/bc1 m/denom. */
typedef struct {
	double p, m, v;
} ref_adam;

static void ref_adam_step(ref_adam *s, double g, int t, double lr, double b1, double b2,
			  double eps, double wd, int adamw)
{
	if (adamw)
		s->p *= 1 - lr * wd;
	else
		g += wd * s->p;
	s->m = b1 * s->m + (1 - b1) * g;
	s->v = b2 * s->v + (1 - b2) * g * g;
	double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
	double denom = sqrt(s->v) / sqrt(bc2) + eps;
	s->p -= lr / bc1 * s->m / denom;
}

/* Gradient of parameter i at step t: mixed signs, magnitudes scaled by gs. */
static double adam_grad(int t, int i, double gs)
{
	return gs * (sin(1.7 * t + 0.9 * i) + 0.3 * cos(3.1 * i - t));
}

static void check_adam(const char *what, al_opt_kind kind, double lr, double b1, double b2,
		       double eps, double wd, double gs, int steps)
{
	enum { N = 8 };
	al_optim_opts o = al_optim_opts_default();
	o.kind = kind;
	o.lr = lr;
	o.beta1 = b1;
	o.beta2 = b2;
	o.eps = eps;
	o.wd = wd;
	al_optim *opt;
	if (al_optim_create(&o, N, N, &opt) != AL_OK) {
		CHECK(0, "%s: create: %s", what, al_errmsg());
		return;
	}
	float p[N], g[N];
	ref_adam r[N];
	for (int i = 0; i < N; i++) {
		/* |p| >= 0.5 so relative error means something */
		p[i] = (float)((i % 2 ? -1 : 1) * (0.5 + 0.25 * i));
		r[i] = (ref_adam){p[i], 0, 0};
	}
	int worst = 0;
	double worst_rel = 0;
	for (int t = 1; t <= steps; t++) {
		for (int i = 0; i < N; i++) {
			g[i] = (float)adam_grad(t, i, gs);
			ref_adam_step(&r[i], g[i], t, lr, b1, b2, eps, wd, kind == AL_OPT_ADAMW);
		}
		al_optim_step(opt, p, g, 1.0);
		for (int i = 0; i < N; i++) {
			double rel = fabs((double)p[i] - r[i].p) / fabs(r[i].p);
			if (rel > worst_rel) {
				worst_rel = rel;
				worst = i;
			}
		}
		CHECK(worst_rel <= 1e-6, "%s: step %d param %d: %.9g vs reference %.9g (rel %.2g)",
		      what, t, worst, (double)p[worst], r[worst].p, worst_rel);
	}
	CHECK(al_optim_steps(opt) == steps, "%s: steps %lld", what,
	      (long long)al_optim_steps(opt));
	size_t ns;
	al_optim_state(opt, &ns);
	CHECK(ns == 2 * N, "%s: %zu state floats, expected %d", what, ns, 2 * N);
	al_optim_free(opt);
}

TEST(optim_adam_matches_pytorch)
{
	check_adam("adam", AL_OPT_ADAM, 0.01, 0.9, 0.999, 1e-8, 0, 1.0, 6);
	/* L2 weight decay added to the gradient */
	check_adam("adam wd", AL_OPT_ADAM, 0.01, 0.9, 0.999, 1e-8, 0.1, 0.5, 6);
	/* eps comparable to sqrt(v): its position in the denominator matters */
	check_adam("adam eps", AL_OPT_ADAM, 0.01, 0.8, 0.99, 1e-2, 0, 1e-3, 6);
	/* other betas, large gradients */
	check_adam("adam betas", AL_OPT_ADAM, 0.005, 0.5, 0.9, 1e-8, 0, 100.0, 6);
}

TEST(optim_adamw_matches_pytorch)
{
	check_adam("adamw", AL_OPT_ADAMW, 0.01, 0.9, 0.999, 1e-8, 0.1, 1.0, 6);
	/* decay large enough that applying it as L2 (or not at all) shows */
	check_adam("adamw strong", AL_OPT_ADAMW, 0.01, 0.9, 0.999, 1e-8, 2.0, 0.01, 6);
	check_adam("adamw eps", AL_OPT_ADAMW, 0.01, 0.8, 0.99, 1e-2, 0.5, 1e-3, 6);
}

TEST(optim_adam_moments_match_pytorch)
{
	/* The moments themselves, and a first step from p = 0 (so the
	 * parameter *is* the update), within 1e-6 relative of PyTorch. PyTorch
	 * passes 1 - beta2 (computed in double) as the scalar of addcmul_, so
	 * its v is (float)0.001 * g^2, not (1 - (float)0.999) * g^2. */
	enum { N = 4 };
	const float g[N] = {0.3f, -1.2f, 2.5f, 0.01f};
	al_optim_opts o = al_optim_opts_default();
	o.kind = AL_OPT_ADAM;
	o.lr = 0.01;
	al_optim *opt;
	REQUIRE_OK(al_optim_create(&o, N, N, &opt));
	float p[N] = {0, 0, 0, 0};
	ref_adam r[N] = {{0, 0, 0}};
	for (int t = 1; t <= 3; t++) {
		for (int i = 0; i < N; i++)
			ref_adam_step(&r[i], g[i], t, 0.01, 0.9, 0.999, 1e-8, 0, 0);
		al_optim_step(opt, p, g, 1.0);
		size_t ns;
		const float *s = al_optim_state(opt, &ns);
		REQUIRE(ns == 2 * N, "state size %zu", ns);
		for (int i = 0; i < N; i++) {
			CHECK_REL(s[i], r[i].m, 1e-6, "step %d: first moment of param %d", t, i);
			CHECK_REL(s[N + i], r[i].v, 1e-6, "step %d: second moment of param %d", t, i);
			CHECK_REL(p[i], r[i].p, 1e-6, "step %d: param %d (started at 0)", t, i);
		}
	}
	al_optim_free(opt);
}

/* ---- parameter groups ---------------------------------------------------- */
TEST(optim_groups_sgd)
{
	/* 5 params, the first 3 are weights, the last 2 activation params */
	const float g[5] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f};
	al_optim_opts o = al_optim_opts_default();
	CHECK(o.act_lr < 0, "default act_lr %g should mean 'same as lr'", o.act_lr);
	CHECK(o.act_wd == 0, "default act_wd %g, expected 0", o.act_wd);
	o.lr = 0.1;
	o.wd = 0.05;
	o.act_lr = 0.5;
	o.act_wd = 0.2;
	al_optim *opt;
	REQUIRE_OK(al_optim_create(&o, 5, 3, &opt));
	float p[5] = {1, 2, 3, 4, 5};
	double q[5];
	for (int i = 0; i < 5; i++)
		q[i] = p[i];
	al_optim_step(opt, p, g, 1.0);
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(p[i], q[i] - 0.1 * ((double)g[i] + 0.05 * q[i]), 1e-6);
	for (int i = 3; i < 5; i++)
		CHECK_NEAR(p[i], q[i] - 0.5 * ((double)g[i] + 0.2 * q[i]), 1e-6);
	/* lr_scale multiplies both groups */
	for (int i = 0; i < 5; i++)
		q[i] = p[i];
	al_optim_step(opt, p, g, 0.3);
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(p[i], q[i] - 0.03 * ((double)g[i] + 0.05 * q[i]), 1e-6);
	for (int i = 3; i < 5; i++)
		CHECK_NEAR(p[i], q[i] - 0.15 * ((double)g[i] + 0.2 * q[i]), 1e-6);
	al_optim_free(opt);

	/* act_lr < 0: same as lr; act_wd left at its default 0 while wd > 0 */
	o = al_optim_opts_default();
	o.lr = 0.1;
	o.wd = 0.05;
	REQUIRE_OK(al_optim_create(&o, 5, 3, &opt));
	float p2[5] = {1, 2, 3, 4, 5};
	for (int i = 0; i < 5; i++)
		q[i] = p2[i];
	al_optim_step(opt, p2, g, 2.0);
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(p2[i], q[i] - 0.2 * ((double)g[i] + 0.05 * q[i]), 1e-6);
	for (int i = 3; i < 5; i++)
		CHECK_NEAR(p2[i], q[i] - 0.2 * (double)g[i], 1e-6); /* no decay on activation params */
	al_optim_free(opt);

	/* act_lr = 0 freezes the activation parameters */
	o.act_lr = 0;
	REQUIRE_OK(al_optim_create(&o, 5, 3, &opt));
	float p3[5] = {1, 2, 3, 4, 5};
	al_optim_step(opt, p3, g, 1.0);
	CHECK(p3[3] == 4 && p3[4] == 5, "act_lr = 0 moved activation params: %g %g", (double)p3[3],
	      (double)p3[4]);
	CHECK(p3[0] != 1, "weights did not move");
	al_optim_free(opt);
}

TEST(optim_groups_momentum_buffers_per_group)
{
	/* momentum buffers are per parameter; groups differ only in lr/wd */
	const float g[5] = {1, 1, 1, 1, 1};
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.1;
	o.momentum = 0.5;
	o.act_lr = 0.01;
	al_optim *opt;
	REQUIRE_OK(al_optim_create(&o, 5, 3, &opt));
	float p[5] = {0, 0, 0, 0, 0};
	al_optim_step(opt, p, g, 1.0);
	al_optim_step(opt, p, g, 1.0);
	/* b1 = 1, b2 = 1.5: p = -lr (1 + 1.5) */
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(p[i], -0.1 * 2.5, 1e-6);
	for (int i = 3; i < 5; i++)
		CHECK_NEAR(p[i], -0.01 * 2.5, 1e-7);
	size_t ns;
	const float *s = al_optim_state(opt, &ns);
	REQUIRE(ns == 5, "state %zu", ns);
	for (int i = 0; i < 5; i++)
		CHECK_NEAR(s[i], 1.5, 1e-7);
	al_optim_free(opt);
}

TEST(optim_groups_adam)
{
	/* Adam's first step moves every parameter by ~lr * sign(g): the
	 * weights by lr, the activation params by act_lr; AdamW's act_wd
	 * decays only the activation group. */
	const float g[5] = {0.1f, -0.2f, 0.3f, 0.4f, -0.5f};
	al_optim_opts o = al_optim_opts_default();
	o.kind = AL_OPT_ADAMW;
	o.lr = 0.01;
	o.act_lr = 0.001;
	o.wd = 0;
	o.act_wd = 10;
	al_optim *opt;
	REQUIRE_OK(al_optim_create(&o, 5, 3, &opt));
	float p[5] = {1, 1, 1, 1, 1};
	al_optim_step(opt, p, g, 1.0);
	for (int i = 0; i < 3; i++) {
		ref_adam r = {1, 0, 0};
		ref_adam_step(&r, g[i], 1, 0.01, 0.9, 0.999, 1e-8, 0, 1);
		CHECK_REL(p[i], r.p, 1e-6, "weight %d", i);
	}
	for (int i = 3; i < 5; i++) {
		ref_adam r = {1, 0, 0};
		ref_adam_step(&r, g[i], 1, 0.001, 0.9, 0.999, 1e-8, 10, 1);
		CHECK_REL(p[i], r.p, 1e-6, "activation param %d", i);
	}
	al_optim_free(opt);
}

TEST(optim_groups_edges)
{
	al_optim_opts o = al_optim_opts_default();
	o.lr = 0.1;
	o.act_lr = 1.0;
	al_optim *opt;
	/* no activation params */
	REQUIRE_OK(al_optim_create(&o, 3, 3, &opt));
	float p[3] = {0, 0, 0}, g[3] = {1, 1, 1};
	al_optim_step(opt, p, g, 1.0);
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(p[i], -0.1, 1e-7);
	al_optim_free(opt);
	/* only activation params */
	REQUIRE_OK(al_optim_create(&o, 3, 0, &opt));
	float q[3] = {0, 0, 0};
	al_optim_step(opt, q, g, 1.0);
	for (int i = 0; i < 3; i++)
		CHECK_NEAR(q[i], -1.0, 1e-7);
	al_optim_free(opt);
	/* more weights than parameters */
	opt = (al_optim *)(uintptr_t)1; /* a stale value the call must clear */
	CHECK(al_optim_create(&o, 3, 4, &opt) == AL_EINVAL, "nweights > nparams accepted");
	CHECK(opt == NULL, "out not cleared on failure");
}

/* ---- option validation ----------------------------------------------------- */
static void expect_invalid(const al_optim_opts *o, const char *what, const char *frag)
{
	al_optim *opt = (al_optim *)(uintptr_t)1; /* a stale value the call must clear */
	al_err_clear();
	al_status st = al_optim_create(o, 4, 2, &opt);
	CHECK(st == AL_EINVAL, "%s: status %d, expected AL_EINVAL", what, (int)st);
	CHECK(opt == NULL, "%s: out not NULL on failure", what);
	if (st == AL_OK)
		al_optim_free(opt);
	CHECK(frag == NULL || strstr(al_errmsg(), frag), "%s: message lacks '%s': %s", what, frag,
	      al_errmsg());
}

TEST(optim_invalid_options)
{
	al_optim_opts o;
	o = al_optim_opts_default(), o.lr = -0.1;
	expect_invalid(&o, "negative lr", "lr");
	o = al_optim_opts_default(), o.lr = NAN;
	expect_invalid(&o, "NaN lr", "lr");
	o = al_optim_opts_default(), o.momentum = 1.0;
	expect_invalid(&o, "momentum 1", "momentum");
	o = al_optim_opts_default(), o.momentum = 1.5;
	expect_invalid(&o, "momentum 1.5", "momentum");
	o = al_optim_opts_default(), o.momentum = -0.1;
	expect_invalid(&o, "negative momentum", "momentum");
	o = al_optim_opts_default(), o.nesterov = 1;
	expect_invalid(&o, "nesterov without momentum", "nesterov");
	o = al_optim_opts_default(), o.kind = AL_OPT_ADAM, o.nesterov = 1, o.momentum = 0.9;
	expect_invalid(&o, "nesterov with adam", "nesterov");
	o = al_optim_opts_default(), o.wd = -1e-4;
	expect_invalid(&o, "negative wd", "wd");
	o = al_optim_opts_default(), o.kind = AL_OPT_ADAM, o.beta1 = 1.0;
	expect_invalid(&o, "beta1 = 1", "beta");
	o = al_optim_opts_default(), o.kind = AL_OPT_ADAM, o.beta2 = -0.5;
	expect_invalid(&o, "negative beta2", "beta");
	o = al_optim_opts_default(), o.kind = AL_OPT_ADAM, o.eps = 0;
	expect_invalid(&o, "eps = 0", "eps");

	/* boundary values that are valid */
	al_optim *opt;
	o = al_optim_opts_default(), o.lr = 0, o.momentum = 0.999;
	CHECK(al_optim_create(&o, 4, 2, &opt) == AL_OK, "lr 0, momentum 0.999 rejected: %s",
	      al_errmsg());
	al_optim_free(opt);
	o = al_optim_opts_default(), o.momentum = 0.9, o.nesterov = 1;
	CHECK(al_optim_create(&o, 4, 2, &opt) == AL_OK, "nesterov with momentum rejected: %s",
	      al_errmsg());
	al_optim_free(opt);
}

TEST(optim_invalid_activation_group_options)
{
	/* The activation group is validated like the weights group: a negative
	 * (or NaN) weight decay is an error, not a silent anti-decay. */
	al_optim_opts o = al_optim_opts_default();
	o.act_wd = -0.1;
	expect_invalid(&o, "negative act_wd", "wd");
	o = al_optim_opts_default();
	o.act_wd = NAN;
	expect_invalid(&o, "NaN act_wd", "wd");
}

TEST(optim_parse_kind)
{
	al_opt_kind k = AL_OPT_SGD;
	REQUIRE_OK(al_optim_parse_kind("adamw", &k));
	CHECK(k == AL_OPT_ADAMW, "adamw parsed as %d", (int)k);
	REQUIRE_OK(al_optim_parse_kind("adam", &k));
	CHECK(k == AL_OPT_ADAM, "adam parsed as %d", (int)k);
	REQUIRE_OK(al_optim_parse_kind("sgd", &k));
	CHECK(k == AL_OPT_SGD, "sgd parsed as %d", (int)k);
	for (int i = 0; i < 3; i++) {
		al_opt_kind back;
		REQUIRE_OK(al_optim_parse_kind(al_optim_kind_name((al_opt_kind)i), &back));
		CHECK(back == (al_opt_kind)i, "name round trip of kind %d", i);
	}
	k = AL_OPT_ADAM;
	CHECK(al_optim_parse_kind("rmsprop", &k) == AL_EINVAL, "rmsprop accepted");
	CHECK(k == AL_OPT_ADAM, "failed parse changed the output");
	CHECK(strstr(al_errmsg(), "rmsprop") && strstr(al_errmsg(), "sgd") &&
		      strstr(al_errmsg(), "adamw"),
	      "message should name the bad value and list valid ones: %s", al_errmsg());
	CHECK(al_optim_parse_kind("SGD", &k) == AL_EINVAL, "names are case-sensitive");
	CHECK(al_optim_parse_kind("", &k) == AL_EINVAL, "empty name accepted");
}

/* ---- state and resume ------------------------------------------------------- */
static void check_resume(al_opt_kind kind, double momentum)
{
	enum { N = 6 };
	al_optim_opts o = al_optim_opts_default();
	o.kind = kind;
	o.lr = 0.05;
	o.momentum = momentum;
	o.act_lr = 0.02;
	o.wd = 0.01;
	al_optim *a, *b;
	if (al_optim_create(&o, N, 4, &a) != AL_OK || al_optim_create(&o, N, 4, &b) != AL_OK) {
		CHECK(0, "create: %s", al_errmsg());
		return;
	}
	float pa[N], pb[N], g[N];
	for (int i = 0; i < N; i++)
		pa[i] = (float)(0.3 * i - 0.7);
	for (int t = 1; t <= 5; t++) {
		for (int i = 0; i < N; i++)
			g[i] = (float)adam_grad(t, i, 1.0);
		al_optim_step(a, pa, g, t == 5 ? 0.5 : 1.0);
		if (t == 3) {
			/* "checkpoint": copy params, state and step count into b */
			memcpy(pb, pa, sizeof pa);
			size_t na, nb;
			float *sa = al_optim_state(a, &na), *sb = al_optim_state(b, &nb);
			CHECK(na == nb, "state sizes differ");
			if (na)
				memcpy(sb, sa, na * sizeof(float));
			al_optim_set_steps(b, al_optim_steps(a));
		} else if (t > 3) {
			al_optim_step(b, pb, g, t == 5 ? 0.5 : 1.0);
		}
	}
	CHECK(memcmp(pa, pb, sizeof pa) == 0, "%s (momentum %g): resumed run differs",
	      al_optim_kind_name(kind), momentum);
	CHECK(al_optim_steps(a) == 5 && al_optim_steps(b) == 5, "steps %lld %lld",
	      (long long)al_optim_steps(a), (long long)al_optim_steps(b));
	al_optim_free(a);
	al_optim_free(b);
}

TEST(optim_state_resume_bit_identical)
{
	check_resume(AL_OPT_SGD, 0.0);
	check_resume(AL_OPT_SGD, 0.9);
	check_resume(AL_OPT_ADAM, 0.0);
	check_resume(AL_OPT_ADAMW, 0.0);
}

/* ---- schedules ------------------------------------------------------------ */
static al_status parse_sched(const char *text, al_sched *s)
{
	*s = al_sched_default();
	return al_sched_parse(text, s);
}

TEST(optim_sched_parse_valid)
{
	al_sched s;
	REQUIRE_OK(parse_sched("constant", &s));
	CHECK(s.kind == AL_SCHED_CONSTANT, "constant kind %d", (int)s.kind);

	REQUIRE_OK(parse_sched("step:10", &s));
	CHECK(s.kind == AL_SCHED_STEP && s.step_size == 10, "step:10 -> kind %d size %d",
	      (int)s.kind, s.step_size);
	CHECK_NEAR(s.gamma, 0.1, 0);
	REQUIRE_OK(parse_sched("step:7,gamma=0.5", &s));
	CHECK(s.step_size == 7, "step size %d", s.step_size);
	CHECK_NEAR(s.gamma, 0.5, 0);

	REQUIRE_OK(parse_sched("multistep:70,100", &s));
	CHECK(s.kind == AL_SCHED_MULTISTEP && s.nmilestones == 2 && s.milestones[0] == 70 &&
		      s.milestones[1] == 100,
	      "multistep milestones: n=%d %d %d", s.nmilestones, s.milestones[0], s.milestones[1]);
	CHECK_NEAR(s.gamma, 0.1, 0);
	REQUIRE_OK(parse_sched("multistep:30,60,90,gamma=0.2", &s));
	CHECK(s.nmilestones == 3 && s.milestones[2] == 90, "3 milestones: n=%d", s.nmilestones);
	CHECK_NEAR(s.gamma, 0.2, 0);

	REQUIRE_OK(parse_sched("cosine", &s));
	CHECK(s.kind == AL_SCHED_COSINE, "cosine kind");
	CHECK_NEAR(s.min_factor, 0, 0);
	REQUIRE_OK(parse_sched("cosine:min=0.01", &s));
	CHECK_NEAR(s.min_factor, 0.01, 0);

	/* epochs and warm-up are set by the caller and survive parsing */
	s = al_sched_default();
	s.epochs = 50;
	s.warmup = 2.5;
	REQUIRE_OK(al_sched_parse("cosine", &s));
	CHECK(s.epochs == 50, "epochs lost: %d", s.epochs);
	CHECK_NEAR(s.warmup, 2.5, 0);
}

TEST(optim_sched_parse_errors)
{
	static const char *bad[] = {
		"",
		"linear",
		"Constant",
		"step",
		"step:0",
		"step:-3",
		"step:x",
		"step:10,gamma=0",
		"step:10,gamma=-1",
		"step:10,gamma=abc",
		"step:10,gamma=0.5x",
		"step:10,foo=1",
		"multistep",
		"multistep:70,abc",
		"multistep:gamma=0.1",
		"cosine:min=2",
		"cosine:min=-0.1",
		"cosine:min=",
		"cosine:10",
		"constant:5",
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		al_sched s = al_sched_default();
		s.kind = AL_SCHED_COSINE; /* sentinel: a failed parse must not touch it */
		s.epochs = 77;
		al_err_clear();
		al_status st = al_sched_parse(bad[i], &s);
		CHECK(st == AL_EINVAL, "'%s' accepted (status %d)", bad[i], (int)st);
		CHECK(st == AL_OK || al_errmsg()[0], "'%s': no message", bad[i]);
		CHECK(s.kind == AL_SCHED_COSINE && s.epochs == 77, "'%s': failed parse changed *out",
		      bad[i]);
	}
	/* messages name the bad text, and list valid schedules for bad names */
	al_sched s = al_sched_default();
	al_sched_parse("linear", &s);
	CHECK(strstr(al_errmsg(), "linear") && strstr(al_errmsg(), "cosine"),
	      "unknown schedule message: %s", al_errmsg());
	al_sched_parse("step:10,gamma=abc", &s);
	CHECK(strstr(al_errmsg(), "abc"), "bad gamma message: %s", al_errmsg());
}

TEST(optim_sched_parse_rejects_repeated_step)
{
	/* step takes one period; a second number is a typo, not an override */
	al_sched s;
	al_status st = parse_sched("step:10,20", &s);
	CHECK(st == AL_EINVAL, "'step:10,20' accepted (step_size %d)", s.step_size);
}

TEST(optim_sched_factor_multistep)
{
	al_sched s;
	REQUIRE_OK(parse_sched("multistep:70,100", &s));
	CHECK_NEAR(al_sched_factor(&s, 0), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 69), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 69.99), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 70), 0.1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 70.5), 0.1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 99), 0.1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 100), 0.01, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 150), 0.01, 1e-12);
	REQUIRE_OK(parse_sched("multistep:2,5,gamma=0.5", &s));
	CHECK_NEAR(al_sched_factor(&s, 1.9), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 2), 0.5, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 5), 0.25, 1e-12);
}

TEST(optim_sched_factor_step_constant)
{
	al_sched s;
	REQUIRE_OK(parse_sched("step:30,gamma=0.5", &s));
	CHECK_NEAR(al_sched_factor(&s, 0), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 29.9), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 30), 0.5, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 59), 0.5, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 60), 0.25, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 90), 0.125, 1e-12);
	REQUIRE_OK(parse_sched("constant", &s));
	for (double e = 0; e < 300; e += 17.3)
		CHECK_NEAR(al_sched_factor(&s, e), 1, 0);
}

TEST(optim_sched_factor_cosine)
{
	const double pi = 3.14159265358979323846;
	al_sched s = al_sched_default();
	s.epochs = 10;
	REQUIRE_OK(al_sched_parse("cosine", &s));
	CHECK_NEAR(al_sched_factor(&s, 0), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 5), 0.5, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 10), 0, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 2), 0.5 * (1 + cos(pi * 2 / 10)), 1e-12);
	/* per-epoch, like PyTorch's CosineAnnealingLR stepped each epoch */
	CHECK_NEAR(al_sched_factor(&s, 2.7), 0.5 * (1 + cos(pi * 2 / 10)), 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 7), 0.5 * (1 + cos(pi * 7 / 10)), 1e-12);
	/* stays at the floor after the period */
	CHECK_NEAR(al_sched_factor(&s, 12), 0, 1e-12);
	/* monotone non-increasing over the period */
	for (int e = 1; e <= 10; e++)
		CHECK(al_sched_factor(&s, e) <= al_sched_factor(&s, e - 1), "not monotone at %d", e);

	s = al_sched_default();
	s.epochs = 20;
	REQUIRE_OK(al_sched_parse("cosine:min=0.1", &s));
	CHECK_NEAR(al_sched_factor(&s, 0), 1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 10), 0.1 + 0.9 * 0.5, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 20), 0.1, 1e-12);
	CHECK_NEAR(al_sched_factor(&s, 5), 0.1 + 0.9 * 0.5 * (1 + cos(pi * 5 / 20)), 1e-12);
}

TEST(optim_sched_warmup)
{
	al_sched s = al_sched_default();
	s.warmup = 2;
	REQUIRE_OK(al_sched_parse("constant", &s));
	/* linear in e up to the warm-up length, then exactly 1 */
	CHECK_NEAR(al_sched_factor(&s, 0.1), 0.05, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 0.5), 0.25, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 1.0), 0.5, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 1.5), 0.75, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 1.999), 0.9995, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 2.0), 1, 0);
	CHECK_NEAR(al_sched_factor(&s, 7.3), 1, 0);
	double prev = 0;
	for (double e = 0.01; e < 3; e += 0.01) {
		double f = al_sched_factor(&s, e);
		CHECK(f >= prev && f <= 1, "warm-up not monotone or above 1 at %g: %g", e, f);
		prev = f;
	}
	/* combined with a decay schedule: the product */
	s = al_sched_default();
	s.warmup = 2;
	REQUIRE_OK(al_sched_parse("step:1,gamma=0.5", &s));
	CHECK_NEAR(al_sched_factor(&s, 1.5), 0.5 * 0.75, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 3), 0.125, 1e-12);
	/* fractional warm-up */
	s = al_sched_default();
	s.warmup = 0.5;
	REQUIRE_OK(al_sched_parse("constant", &s));
	CHECK_NEAR(al_sched_factor(&s, 0.25), 0.5, 1e-9);
	CHECK_NEAR(al_sched_factor(&s, 0.5), 1, 0);
	/* no warm-up: no ramp */
	s = al_sched_default();
	REQUIRE_OK(al_sched_parse("constant", &s));
	CHECK_NEAR(al_sched_factor(&s, 0.01), 1, 0);
}
