/* test_learned.c — the learned-shape entries (adact, apl, pau, vaf,
 * bspline, meta): finite-difference gradient checks of the double
 * reference and of the float kernels in every granularity, over several
 * hyper-parameter settings each; semantics (adact and vaf at init=relu are
 * relu exactly, pau's fit to relu is within its stated error, the B-spline
 * basis sums to one, meta's parameter count); parse errors; NaN; training
 * through the CLI. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"
#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/data.h"
#include "actlab/nn.h"
#include "actlab/train.h"
#include "test.h"

static const char *variants[] = {
	"adact", "adact:init=leaky_relu,slope=0.1", "adact:ns=17,lo=-2,hi=2", "adact:ns=5,lo=0,hi=4",
	"apl", "apl:S=1", "apl:S=3,per=channel",
	"pau", "pau:init=tanh", "pau:m=3,n=2,init=silu", "pau:m=2,n=1,init=leaky_relu",
	"vaf", "vaf:g=tanh,init=relu", "vaf:k=2,g=sigmoid", "vaf:k=7,g=elu",
	"bspline", "bspline:k=0", "bspline:k=1", "bspline:k=2,G=9", "bspline:G=1,lo=-1,hi=3",
	"bspline:k=5,G=4,lo=-1,hi=3", "bspline:k=4,G=14", /* vector path, 2-vector table */
	"bspline:G=30", /* wider than the vector path's table: the chain/gather path */
	"meta", "meta:g=tanh", "meta:g=tanh,L=2", "meta:g=silu,L=3,residual=post",
	"meta:io=0,L=2", "meta:H=2,L=4,g=sigmoid", "meta:H=8,L=2,g=tanh,residual=post",
	"lut", "lut:size=7,lo=-1,hi=2,per=layer", "adact:ns=6,lo=-1.3,hi=2.9,zero=any",
	"adact:ns=21,lo=-5,hi=5", /* more segments than the select chain takes: gathers */
	"meta:H=3,io=0", "meta:H=8,per=channel", /* fused L=1 relu kernels */
};

TEST(learned_gradcheck_variants)
{
	for (size_t v = 0; v < sizeof variants / sizeof *variants; v++) {
		al_act_spec s;
		REQUIRE_OK(al_act_parse(variants[v], &s));
		for (int random = 0; random < 2; random++) {
			al_gradcheck_result g;
			REQUIRE_OK(al_act_gradcheck(&s, random, 31 + v, 200, &g));
			CHECK(g.worst < 1e-6, "%s (%s params): worst relative error %.3g at %s",
			      variants[v], random ? "random" : "default", g.worst, g.worst_at);
			CHECK(g.kernel_err < 1e-4, "%s: float kernel error %.3g at %s", variants[v],
			      g.kernel_err, g.kernel_at);
			CHECK(g.points > 150, "%s: only %d points checked", variants[v], g.points);
		}
	}
	/* every learned row of the catalog is among the variants */
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_LEARNED)
			continue;
		int found = 0;
		for (size_t v = 0; v < sizeof variants / sizeof *variants; v++)
			found |= strcmp(variants[v], d->name) == 0;
		CHECK(found, "learned entry %s has no gradient check variant", d->name);
	}
}

/* runs the forward kernel of SPEC at its initial parameters on x */
static void run_init(const char *spec, al_per per, int n, int c, int h, int w, const float *x,
		     float *y)
{
	al_act_spec s;
	if (al_act_parse(spec, &s) != AL_OK)
		return;
	s.per = per;
	size_t G = al_act_groups(&s, c, h, w);
	float *p = malloc(G * (size_t)al_act_nparams(&s) * sizeof *p);
	al_rng r;
	al_rng_seed(&r, 3);
	al_act_init_params(&s, p, G, &r);
	al_act_forward(&s, p, n, c, h, w, x, y, 1, &r);
	free(p);
}

TEST(learned_adact_init_is_relu_exactly)
{
	enum { N = 4 * 3 * 10 * 10 };
	float x[N], y[N];
	al_rng r;
	al_rng_seed(&r, 5);
	for (int i = 0; i < N; i++) {
		double u = al_rng_uniform(&r);
		/* wide range, tiny values, exact hinges and non-finite inputs */
		x[i] = (float)(i % 4 == 0 ? (u - 0.5) * 1e-6 : (u - 0.5) * 20);
	}
	x[0] = 0, x[1] = -0.0f, x[2] = 1, x[3] = -4, x[5] = 4, x[6] = 3.9999998f;
	static const char *specs[] = {"adact", "adact:ns=17,lo=-2,hi=2", "adact:ns=5,lo=-8,hi=8"};
	for (int sp = 0; sp < 3; sp++)
		for (int per = 0; per < 3; per++) {
			run_init(specs[sp], (al_per)per, 4, 3, 10, 10, x, y);
			int bad = 0;
			for (int i = 0; i < N; i++) {
				float want = x[i] > 0 ? x[i] : 0.0f;
				if (y[i] != want && bad++ < 3)
					CHECK(0, "%s per=%d: x=%.9g gives %.9g, relu %.9g", specs[sp],
					      per, (double)x[i], (double)y[i], (double)want);
			}
		}
	/* leaky_relu init: the hinge values are slope*hinge; equal to leaky_relu
	 * within float rounding of slope */
	run_init("adact:init=leaky_relu,slope=0.01", AL_PER_CHANNEL, 4, 3, 10, 10, x, y);
	for (int i = 0; i < N; i++) {
		double xv = (double)x[i], want = xv > 0 ? xv : 0.01 * xv; /* leaky */
		CHECK(fabs((double)y[i] - want) <= 1e-6 * (1 + fabs(want)), "leaky init x=%g: %g vs %g",
		      (double)x[i], (double)y[i], want);
	}
}

TEST(learned_vaf_relu_init_is_g)
{
	enum { N = 2 * 3 * 7 };
	float x[N], y[N];
	for (int i = 0; i < N; i++)
		x[i] = (float)(i - N / 2) * 0.37f;
	for (int per = 0; per < 3; per++) {
		run_init("vaf:init=relu", (al_per)per, 2, 3, 7, 1, x, y);
		for (int i = 0; i < N; i++)
			CHECK(y[i] == (x[i] > 0 ? x[i] : 0.0f), "vaf init=relu x=%g: %g", (double)x[i],
			      (double)y[i]);
	}
}

/* pau's initial fit over [-3, 3]: stated bounds (docs/activations.md and
 * docs/design.md): relu max 0.035, RMS 0.006; smooth entries much closer. */
TEST(learned_pau_fit)
{
	static const struct {
		const char *spec, *base;
		double max, rms;
	} cases[] = {
		{"pau", "relu", 0.035, 0.006},
		{"pau:init=leaky_relu", "leaky_relu", 0.035, 0.006},
		{"pau:init=tanh", "tanh", 1e-5, 2e-6},
		{"pau:init=silu", "silu", 1e-5, 1e-6},
		{"pau:init=sigmoid", "sigmoid", 1e-6, 1e-6},
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		al_act_spec s, b;
		REQUIRE_OK(al_act_parse(cases[c].spec, &s));
		REQUIRE_OK(al_act_parse(cases[c].base, &b));
		int P = al_act_nparams(&s);
		float p[32];
		double pd[32], g[32], d;
		al_rng r;
		al_rng_seed(&r, 1);
		al_act_init_params(&s, p, 1, &r);
		for (int k = 0; k < P; k++)
			pd[k] = p[k];
		double mx = 0, ss = 0;
		int n = 0;
		for (int i = 0; i <= 6000; i++, n++) {
			double x = -3 + i * 0.001;
			double e = s.desc->ref(s.hyper, pd, x, &d, g) -
				   b.desc->ref(b.hyper, NULL, x, &d, NULL);
			mx = fmax(mx, fabs(e));
			ss += e * e;
		}
		CHECK(mx < cases[c].max && sqrt(ss / n) < cases[c].rms,
		      "%s: max error %.3g (bound %g), RMS %.3g (bound %g)", cases[c].spec, mx,
		      cases[c].max, sqrt(ss / n), cases[c].rms);
	}
	/* the fit itself on exact rational data recovers it */
	double xs[201], fs[201], coef[4];
	for (int i = 0; i < 201; i++) {
		xs[i] = -2 + i * 0.02;
		fs[i] = (1 + 2 * xs[i] - 0.5 * xs[i] * xs[i]) / (1 + fabs(0.7 * xs[i]));
	}
	double rms = al_ln_rational_fit(xs, fs, 201, 2, 1, coef);
	CHECK(rms >= 0 && rms < 1e-9, "exact rational fit RMS %g", rms);
	CHECK(fabs(coef[0] - 1) < 1e-6 && fabs(coef[1] - 2) < 1e-6 && fabs(coef[2] + 0.5) < 1e-6 &&
		      fabs(fabs(coef[3]) - 0.7) < 1e-6,
	      "coefficients %g %g %g %g", coef[0], coef[1], coef[2], coef[3]);
}

TEST(learned_bspline_partition_of_unity)
{
	static const char *specs[] = {"bspline:k=0", "bspline:k=1", "bspline:k=2,G=9",
				      "bspline", "bspline:k=5,G=4,lo=-1,hi=3"};
	for (size_t sp = 0; sp < 5; sp++) {
		al_act_spec s;
		REQUIRE_OK(al_act_parse(specs[sp], &s));
		int P = al_act_nparams(&s), nc = P - 2;
		double p[AL_LN_MAXP], g[AL_LN_MAXP], d;
		float pf[AL_LN_MAXP];
		for (int k = 0; k < nc; k++)
			p[k] = pf[k] = 1;
		p[nc] = pf[nc] = 0; /* wb */
		p[nc + 1] = pf[nc + 1] = 1; /* ws */
		double lo = s.hyper[2], hi = s.hyper[3];
		enum { M = 999 };
		float x[M], y[M];
		for (int i = 0; i < M; i++) {
			x[i] = (float)(lo + (hi - lo) * i / M);
			double v = s.desc->ref(s.hyper, p, (double)x[i], &d, g);
			CHECK(fabs(v - 1) < 1e-12, "%s: sum of bases at %g is %.17g", specs[sp],
			      (double)x[i], v);
			double sum = 0;
			for (int k = 0; k < nc; k++)
				sum += g[k];
			CHECK(fabs(sum - 1) < 1e-12, "%s: d/dc sum %g", specs[sp], sum);
		}
		s.per = AL_PER_LAYER;
		al_act_forward(&s, pf, 1, 1, 1, M, x, y, 0, NULL);
		for (int i = 0; i < M; i++)
			CHECK(fabs(y[i] - 1) < 1e-5, "%s float at %g: %.9g", specs[sp], (double)x[i],
			      (double)y[i]);
		/* and zero beyond the extended grid */
		double far = hi + 10 * (hi - lo);
		CHECK(s.desc->ref(s.hyper, p, far, &d, g) == 0, "%s: non-zero far from the grid",
		      specs[sp]);
	}
}

/* equal bit for bit, or both NaN (a NaN's sign bit depends on which
 * operation produced it, which differs between the kernels' paths and
 * between optimisation levels) */
static int same_bits_or_nans(float a, float b)
{
	return (isnan(a) && isnan(b)) || !memcmp(&a, &b, sizeof a);
}

/* per=neuron with every unit given the same parameters runs the same
 * float operations per element as per=layer (the unit-block paths of meta
 * and bspline against the shared-parameter ones): y and dx are equal bit
 * for bit; and 1 vs 2 threads give the same parameter gradients. */
TEST(learned_unit_paths_match_shared)
{
	static const char *specs[] = {"meta", "meta:io=0,H=3", "meta:H=8", "meta:g=tanh",
				      "bspline", "bspline:k=1", "bspline:k=5,G=4,lo=-1,hi=3",
				      "bspline:G=30"};
	enum { n = 5, c = 3, hh = 7, w = 11, N = n * c * hh * w };
	static float x[N], dy[N], y1[N], y2[N], dx1[N], dx2[N];
	al_rng r;
	al_rng_seed(&r, 9);
	for (int i = 0; i < N; i++) {
		x[i] = (float)(al_rng_uniform(&r) * 10 - 5);
		dy[i] = (float)(al_rng_uniform(&r) * 2 - 1);
	}
	x[3] = NAN;
	const int threads = al_get_threads();
	for (size_t sp = 0; sp < sizeof specs / sizeof *specs; sp++) {
		al_act_spec sl, sn;
		REQUIRE_OK(al_act_parse(specs[sp], &sl));
		sn = sl;
		sl.per = AL_PER_LAYER;
		sn.per = AL_PER_NEURON;
		size_t P = (size_t)al_act_nparams(&sl), G = al_act_groups(&sn, c, hh, w);
		float *pl = malloc(P * 4), *pn = malloc(G * P * 4), *dpl = calloc(P, 4),
		      *dpn = calloc(G * P, 4), *dpn2 = calloc(G * P, 4),
		      *sc = calloc(al_act_scratch_floats(&sl, n, c, hh, w) + 1, 4);
		REQUIRE(pl && pn && dpl && dpn && dpn2 && sc, "alloc");
		al_act_init_params(&sl, pl, 1, &r);
		for (size_t k = 0; k < P; k++)
			pl[k] += (float)(al_rng_uniform(&r) - 0.5) * 0.2f;
		for (size_t g = 0; g < G; g++)
			memcpy(pn + g * P, pl, P * 4);
		al_act_forward(&sl, pl, n, c, hh, w, x, y1, 0, NULL);
		al_act_forward(&sn, pn, n, c, hh, w, x, y2, 0, NULL);
		al_act_backward(&sl, pl, n, c, hh, w, x, y1, dy, dx1, dpl, sc, 0, NULL);
		al_set_threads(1);
		al_act_backward(&sn, pn, n, c, hh, w, x, y2, dy, dx2, dpn, sc, 0, NULL);
		al_set_threads(2);
		al_act_backward(&sn, pn, n, c, hh, w, x, y2, dy, dx2, dpn2, sc, 0, NULL);
		al_set_threads(threads);
		int bad = 0;
		for (int i = 0; i < N; i++)
			if (!same_bits_or_nans(y1[i], y2[i]) || !same_bits_or_nans(dx1[i], dx2[i]))
				if (bad++ < 3)
					CHECK(0, "%s at x=%g: per=layer y %.9g dx %.9g, per=neuron %.9g %.9g",
					      specs[sp], (double)x[i], (double)y1[i], (double)dx1[i],
					      (double)y2[i], (double)dx2[i]);
		CHECK(isnan(y2[3]), "%s: NaN input gives %g", specs[sp], (double)y2[3]);
		CHECK(!memcmp(dpn, dpn2, G * P * 4), "%s: per=neuron gradients differ by threads",
		      specs[sp]);
		free(pl);
		free(pn);
		free(dpl);
		free(dpn);
		free(dpn2);
		free(sc);
	}
}

TEST(learned_param_counts_and_names)
{
	static const struct {
		const char *spec;
		int P;
		const char *first, *last;
	} cases[] = {
		{"adact", 9, "a0", "a8"},
		{"apl", 10, "a1", "b5"},
		{"pau", 10, "a0", "b4"},
		{"vaf", 16, "alpha1", "delta"},
		{"bspline", 10, "c0", "ws"},
		{"meta", 16, "w1_1", "c"},               /* N*(2H + (L-1)(H^2+H) + H + 1) per unit */
		{"meta:L=2", 46, "w1_1", "c"},
		{"meta:H=3,L=3", 34, "w1_1", "c"},
	};
	for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
		al_act_spec s;
		REQUIRE_OK(al_act_parse(cases[c].spec, &s));
		char a[64], b[64];
		int P = al_act_nparams(&s);
		CHECK(P == cases[c].P, "%s: %d parameters, expected %d", cases[c].spec, P, cases[c].P);
		al_act_param_name(&s, 0, a, sizeof a);
		al_act_param_name(&s, P - 1, b, sizeof b);
		CHECK(!strcmp(a, cases[c].first) && !strcmp(b, cases[c].last), "%s: names %s .. %s",
		      cases[c].spec, a, b);
		/* names are unique */
		for (int i = 0; i < P; i++)
			for (int j = i + 1; j < P; j++) {
				al_act_param_name(&s, i, a, sizeof a);
				al_act_param_name(&s, j, b, sizeof b);
				CHECK(strcmp(a, b), "%s: parameters %d and %d are both %s", cases[c].spec,
				      i, j, a);
			}
	}
	al_act_spec s;
	REQUIRE_OK(al_act_parse("meta:L=2", &s));
	char nm[64];
	al_act_param_name(&s, 10, nm, sizeof nm);
	CHECK(!strcmp(nm, "w2_1_1"), "meta L=2 parameter 10 is %s", nm);
}

TEST(learned_parse_errors)
{
	static const struct {
		const char *spec, *frag;
	} bad[] = {
		{"adact:ns=8", "0 must be a hinge"},     {"adact:ns=1", "ns=1"},
		{"lut:size=0", "size=0"},                {"lut:lo=1,hi=1", "lo < hi"},
		{"adact:lo=2,hi=1", "lo < hi"},          {"adact:ns=2.5", "ns=2.5"},
		{"apl:S=0", "S=0"},                      {"apl:b_std=-1", "b_std"},
		{"pau:m=20", "m=20"},                    {"pau:n=0", "n=0"},
		{"pau:init=nosuch", "init=nosuch"},      {"pau:init=prelu", "init=prelu"},
		{"vaf:k=0", "k=0"},                      {"vaf:g=rrelu", "g=rrelu"},
		{"bspline:k=6", "k=6"},                  {"bspline:G=0", "G=0"},
		{"meta:H=17", "H=17"},                   {"meta:H=16,L=3", "parameters"},
		{"meta:residual=mid", "residual=mid"},   {"meta:io=2", "io=2"},
	};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		al_act_spec s;
		CHECK(al_act_parse(bad[i].spec, &s) == AL_EINVAL, "%s accepted", bad[i].spec);
		CHECK(strstr(al_errmsg(), bad[i].frag) != NULL, "%s: message '%s' lacks '%s'",
		      bad[i].spec, al_errmsg(), bad[i].frag);
	}
}

/* A NaN input gives a NaN output (and does not crash) in every entry. */
TEST(learned_nan_propagates)
{
	for (int i = 0; i < al_act_count(); i++) {
		const al_act_desc *d = al_act_get(i);
		if (d->kind != AL_ACT_LEARNED)
			continue;
		al_act_spec s;
		REQUIRE_OK(al_act_parse(d->name, &s));
		for (int per = 0; per < 3; per++) {
			s.per = (al_per)per;
			float x[6] = {NAN, 1, -1, 0.5f, INFINITY, -INFINITY}, y[6], dy[6] = {1, 1, 1, 1, 1, 1},
			      dx[6];
			size_t G = al_act_groups(&s, 3, 1, 2), P = (size_t)al_act_nparams(&s);
			float *p = malloc(G * P * 4), *dp = calloc(G * P, 4),
			      *sc = calloc(al_act_scratch_floats(&s, 1, 3, 1, 2) + 1, 4);
			al_rng r;
			al_rng_seed(&r, 1);
			al_act_init_params(&s, p, G, &r);
			al_act_forward(&s, p, 1, 3, 1, 2, x, y, 1, &r);
			al_act_backward(&s, p, 1, 3, 1, 2, x, y, dy, dx, dp, sc, 1, &r);
			CHECK(isnan(y[0]),
			      "%s per=%d: NaN input gives %g", d->name, per, (double)y[0]);
			for (int k = 1; k < 4; k++)
				CHECK(isfinite(y[k]) && isfinite(dx[k]), "%s per=%d: x=%g gives %g, %g",
				      d->name, per, (double)x[k], (double)y[k], (double)dx[k]);
			free(p);
			free(dp);
			free(sc);
		}
	}
}

/* Each entry trains inside a small network through the CLI. */
TEST(learned_cli_train)
{
	static char out[65536];
	static const char *specs[] = {"adact", "apl", "pau", "vaf", "bspline", "meta",
				      "adact:per=layer", "pau:per=channel"};
	for (size_t i = 0; i < sizeof specs / sizeof *specs; i++) {
		char cmd[512];
		snprintf(cmd, sizeof cmd,
			 "%s train --act %s --data synthetic --model mlp:16 --epochs 2 --seed 3",
			 actlab_bin(), specs[i]);
		int rc = run_cmd(cmd, out, sizeof out);
		CHECK(rc == 0, "%s: exit %d: %.500s", specs[i], rc, out);
	}
}

static int file_exists(const char *p)
{
	FILE *f = fopen(p, "r");
	if (f)
		fclose(f);
	return f != NULL;
}

/* act shapes on a trained checkpoint: curves over the observed range, the
 * histogram of every input value, a plot; errors name what is wrong. */
TEST(learned_cli_shapes)
{
	static char out[65536];
	char cmd[1024], run[512], dir[512], path[600];
	snprintf(run, sizeof run, "%s/shapes_run", test_tmpdir());
	snprintf(dir, sizeof dir, "%s/shapes_out", test_tmpdir());
	snprintf(cmd, sizeof cmd,
		 "%s train --act adact --data synthetic --model mlp:4,12 --epochs 2 --seed 1 --out %s",
		 actlab_bin(), run);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "train: %.400s", out);
	snprintf(cmd, sizeof cmd,
		 "%s act shapes --ckpt %s/ckpt.bin --out %s --samples 100 --data synthetic",
		 actlab_bin(), run, dir);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "shapes: %.400s", out);
	/* 4 units: one column per unit; 12 units: mean and band */
	static const struct {
		const char *layer, *header;
		long values;
	} want[] = {{"dense1_act", "x,unit0,unit1,unit2,unit3", 100 * 4},
		    {"dense2_act", "x,mean,lo,hi,min,max", 100 * 12}};
	for (int k = 0; k < 2; k++) {
		char line[512];
		snprintf(path, sizeof path, "%s/%s.csv", dir, want[k].layer);
		FILE *f = fopen(path, "r");
		REQUIRE(f, "%s missing", path);
		int rows = 0;
		CHECK(fgets(line, sizeof line, f) && !strncmp(line, want[k].header, strlen(want[k].header)),
		      "%s header %s", path, line);
		double x0 = NAN, x1 = NAN, prev = -INFINITY;
		while (fgets(line, sizeof line, f)) {
			double x = atof(line);
			CHECK(x > prev, "%s: x not increasing at row %d", path, rows);
			prev = x;
			x0 = rows == 0 ? x : x0;
			x1 = x;
			rows++;
		}
		fclose(f);
		CHECK(rows == 201, "%s: %d rows", path, rows);
		snprintf(path, sizeof path, "%s/%s_hist.csv", dir, want[k].layer);
		f = fopen(path, "r");
		REQUIRE(f, "%s missing", path);
		long total = 0;
		double c0 = NAN, c1 = NAN;
		(void)!fgets(line, sizeof line, f);
		while (fgets(line, sizeof line, f)) {
			double c;
			long n;
			if (sscanf(line, "%lf,%ld", &c, &n) == 2) {
				total += n;
				c0 = isnan(c0) ? c : c0;
				c1 = c;
			}
		}
		fclose(f);
		CHECK(total == want[k].values, "%s: histogram holds %ld values, expected %ld", path,
		      total, want[k].values);
		/* the curve covers the observed range the histogram spans */
		CHECK(x0 < c0 && x1 > c1, "%s: curve [%g, %g] vs histogram centres [%g, %g]",
		      want[k].layer, x0, x1, c0, c1);
		snprintf(path, sizeof path, "%s/%s.png", dir, want[k].layer);
		CHECK(file_exists(path), "%s missing", path);
	}
	/* without --data: the range and histogram recorded in training (every
	 * 8th training batch; all of one layer's units each time) */
	snprintf(dir, sizeof dir, "%s/shapes_rec", test_tmpdir());
	snprintf(cmd, sizeof cmd, "%s act shapes --ckpt %s/ckpt.bin --out %s --no-plot",
		 actlab_bin(), run, dir);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "shapes (recorded): %.400s", out);
	for (int k = 0; k < 2; k++) {
		char line[512];
		snprintf(path, sizeof path, "%s/%s_hist.csv", dir, want[k].layer);
		FILE *f = fopen(path, "r");
		REQUIRE(f, "%s missing", path);
		double total = 0, c, n;
		(void)!fgets(line, sizeof line, f);
		while (fgets(line, sizeof line, f))
			if (sscanf(line, "%lf,%lf", &c, &n) == 2)
				total += n;
		fclose(f);
		long units = want[k].values / 100;
		CHECK(total > 0 && fmod(total, (double)units) == 0,
		      "%s: recorded histogram holds %g values, not a positive multiple of %ld", path,
		      total, units);
	}
	snprintf(cmd, sizeof cmd, "%s act shapes --ckpt %s/ckpt.bin --out %s --layer nosuch",
		 actlab_bin(), run, dir);
	CHECK(run_cmd(cmd, out, sizeof out) == 1 && strstr(out, "nosuch") && strstr(out, "dense1_act"),
	      "unknown layer: %.300s", out);
	snprintf(cmd, sizeof cmd, "%s act shapes --ckpt %s/ckpt.bin", actlab_bin(), run);
	CHECK(run_cmd(cmd, out, sizeof out) == 2 && strstr(out, "--out"), "missing --out: %.300s",
	      out);
	snprintf(cmd, sizeof cmd, "%s act shapes --ckpt %s/nothere.bin --out %s", actlab_bin(), run,
		 dir);
	CHECK(run_cmd(cmd, out, sizeof out) == 1, "missing checkpoint: %.300s", out);
}

static double json_num(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	return p ? atof(p + strlen(key)) : (double)NAN;
}

/* distill: each form runs end to end, its checkpoint evaluates to the
 * accuracy it reports, the fit errors are small for fine forms; errors. */
TEST(learned_cli_distill)
{
	static char out[65536];
	char cmd[1024], run[512], dst[512];
	snprintf(run, sizeof run, "%s/distill_run", test_tmpdir());
	snprintf(dst, sizeof dst, "%s/distilled.bin", test_tmpdir());
	snprintf(cmd, sizeof cmd,
		 "%s train --act adact --data synthetic --model mlp:8 --epochs 3 --seed 2 --out %s",
		 actlab_bin(), run);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "train: %.400s", out);
	static const struct {
		const char *to, *spec;
		double max_err;
	} forms[] = {{"pwl:segments=64", "adact:ns=65", 0.05},
		     {"lut:size=128", "lut:size=128", 0.1},
		     {"rational:5,4", "pau:m=5,n=4", 0.1}};
	for (int f = 0; f < 3; f++) {
		snprintf(cmd, sizeof cmd, "%s distill --ckpt %s/ckpt.bin --to %s --out %s --json 2>&1",
			 actlab_bin(), run, forms[f].to, dst);
		REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "distill %s: %.400s", forms[f].to, out);
		CHECK(strstr(out, forms[f].spec), "%s: no %s in %.300s", forms[f].to, forms[f].spec, out);
		double after = json_num(out, "\"test_acc_after\": "), err = json_num(out, "\"max_err\": ");
		CHECK(err >= 0 && err < forms[f].max_err, "%s: max error %g", forms[f].to, err);
		snprintf(cmd, sizeof cmd, "%s eval --ckpt %s --json", actlab_bin(), dst);
		REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "eval distilled: %.400s", out);
		CHECK(fabs(json_num(out, "\"test_acc\": ") - after) < 1e-9,
		      "%s: eval gives %.300s, distill reported %g", forms[f].to, out, after);
	}
	snprintf(cmd, sizeof cmd, "%s distill --ckpt %s/ckpt.bin --to spline:3 --out %s",
		 actlab_bin(), run, dst);
	CHECK(run_cmd(cmd, out, sizeof out) == 2 && strstr(out, "pwl:segments"), "bad --to: %.300s",
	      out);
	snprintf(cmd, sizeof cmd, "%s distill --ckpt %s/ckpt.bin --to lut:size=0 --out %s",
		 actlab_bin(), run, dst);
	CHECK(run_cmd(cmd, out, sizeof out) == 2, "lut:size=0: %.300s", out);
	/* a model without trainable activations */
	snprintf(cmd, sizeof cmd,
		 "%s train --act relu --data synthetic --model mlp:8 --epochs 1 --out %s/relu_run",
		 actlab_bin(), test_tmpdir());
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "train relu: %.300s", out);
	snprintf(cmd, sizeof cmd, "%s distill --ckpt %s/relu_run/ckpt.bin --to lut:size=8 --out %s",
		 actlab_bin(), test_tmpdir(), dst);
	CHECK(run_cmd(cmd, out, sizeof out) == 1 && strstr(out, "trainable"), "relu model: %.300s",
	      out);
}

/* Input statistics recorded in training: sampled every AL_ACT_HIST_EVERY-th
 * training forward, exact range and bins of the sampled inputs, none in
 * evaluation; kept by checkpoints; format-1 checkpoints load without them. */
TEST(learned_act_input_hist)
{
	static const char *cfg = "[dense]\nout = 6\n\n[act]\nact = adact:per=neuron\n\n"
				 "[dense]\nout = 3\n";
	al_model_opts o = al_model_opts_default();
	o.in_c = 5;
	o.in_h = o.in_w = 1;
	o.classes = 3;
	o.seed = 3;
	al_model *m = NULL;
	REQUIRE_OK(al_model_create_text(cfg, "hist.cfg", &o, &m));
	al_rng r;
	al_rng_seed(&r, 9);
	al_model_set_rng(m, &r);
	REQUIRE(al_model_act_layers(m) == 1, "one trainable activation layer");
	CHECK(al_model_act_layer_hist(m, 0, NULL, NULL, NULL) == 0, "nothing recorded at start");
	enum { N = 4, F = 5, U = 6 };
	float x[N * F];
	double lo = INFINITY, hi = -INFINITY, first[U * N];
	const float *logits;
	for (int call = 0; call <= AL_ACT_HIST_EVERY; call++) {
		for (int i = 0; i < N * F; i++)
			x[i] = (float)(4 * al_rng_uniform(&r) - 2) * (float)(1 + call);
		REQUIRE_OK(al_model_forward(m, x, N, 1, &logits));
		const float *in;
		int c, h, w;
		al_model_act_layer_input(m, 0, &in, &c, &h, &w);
		REQUIRE(c * h * w == U, "input of 6 units");
		if (call % AL_ACT_HIST_EVERY == 0)
			for (int i = 0; i < N * U; i++) {
				double v = (double)in[i];
				lo = v < lo ? v : lo;
				hi = v > hi ? v : hi;
				if (call == 0)
					first[i] = in[i];
			}
		if (call == 0) {
			double rlo, rhi, bins[AL_ACT_HIST_BINS], want[AL_ACT_HIST_BINS] = {0};
			CHECK(al_model_act_layer_hist(m, 0, &rlo, &rhi, bins) == N * U,
			      "first batch counted");
			CHECK(rlo == lo && rhi == hi, "range [%g, %g], want [%g, %g]", rlo, rhi, lo, hi);
			for (int i = 0; i < N * U; i++) {
				int b = (int)((first[i] - rlo) * (AL_ACT_HIST_BINS / (rhi - rlo)));
				want[b < AL_ACT_HIST_BINS ? b : AL_ACT_HIST_BINS - 1] += 1;
			}
			for (int b = 0; b < AL_ACT_HIST_BINS; b++)
				CHECK(bins[b] == want[b], "bin %d: %g, want %g", b, bins[b], want[b]);
		}
	}
	/* evaluation forwards do not record */
	REQUIRE_OK(al_model_forward(m, x, N, 0, &logits));
	double rlo, rhi, bins[AL_ACT_HIST_BINS], tot = 0;
	double cnt = al_model_act_layer_hist(m, 0, &rlo, &rhi, bins);
	CHECK(cnt == 2 * N * U, "two sampled batches: %g values", cnt);
	CHECK(rlo == (double)(float)lo && rhi == (double)(float)hi, "range [%g, %g], want [%g, %g]", rlo, rhi, lo, hi);
	for (int b = 0; b < AL_ACT_HIST_BINS; b++)
		tot += bins[b];
	CHECK(tot == cnt, "bins sum to the count: %g vs %g", tot, cnt);

	/* checkpoint round trip, then the same file as format 1 (no statistics) */
	al_checkpoint ck = {0};
	ck.config = al_train_config_default();
	ck.cfg_text = (char *)al_model_cfg_text(m);
	ck.norm = al_norm_none(5);
	ck.in_c = 5;
	ck.in_h = ck.in_w = 1;
	ck.classes = 3;
	ck.params = al_model_params(m);
	ck.nparams = al_model_nparams(m);
	ck.state = al_model_state(m);
	ck.nstate = al_model_nstate(m);
	char path[1024];
	snprintf(path, sizeof path, "%s/hist.ckpt", test_tmpdir());
	REQUIRE_OK(al_checkpoint_save(path, &ck));
	al_checkpoint ld;
	al_model *m2 = NULL;
	REQUIRE_OK(al_checkpoint_load(path, &ld));
	CHECK(ld.version == 3, "format 3 written, read %u", ld.version);
	REQUIRE_OK(al_checkpoint_model(&ld, &m2));
	double lo2, hi2, bins2[AL_ACT_HIST_BINS];
	CHECK(al_model_act_layer_hist(m2, 0, &lo2, &hi2, bins2) == cnt && lo2 == rlo && hi2 == rhi &&
		      !memcmp(bins, bins2, sizeof bins),
	      "statistics survive the checkpoint");
	al_model_free(m2);
	al_checkpoint_free(&ld);
	/* format 1: the state without the statistics, version 1, new CRC */
	ck.nstate = al_model_nstate_format(m, 1);
	CHECK(ck.nstate == 0, "this model has no other state");
	REQUIRE_OK(al_checkpoint_save(path, &ck));
	FILE *f = fopen(path, "rb");
	REQUIRE(f, "reopen %s", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *buf = malloc((size_t)sz);
	REQUIRE(buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz, "read back");
	fclose(f);
	uint32_t one = 1, crc;
	memcpy(buf + 8, &one, 4);
	crc = al_crc32(0, buf, (size_t)sz - 4);
	memcpy(buf + sz - 4, &crc, 4);
	f = fopen(path, "wb");
	REQUIRE(f && fwrite(buf, 1, (size_t)sz, f) == (size_t)sz, "rewrite");
	fclose(f);
	free(buf);
	REQUIRE_OK(al_checkpoint_load(path, &ld));
	CHECK(ld.version == 1, "read as format 1: %u", ld.version);
	REQUIRE_OK(al_checkpoint_model(&ld, &m2));
	CHECK(al_model_act_layer_hist(m2, 0, NULL, NULL, NULL) == 0, "format 1: no statistics");
	CHECK(!memcmp(al_model_params(m2), al_model_params(m), al_model_nparams(m) * sizeof(float)),
	      "format 1: parameters");
	al_model_free(m2);
	al_checkpoint_free(&ld);
	al_model_free(m);
}
