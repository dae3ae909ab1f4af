/* test_model.c — the model builder and the dense/act/flatten layers:
 * finite-difference gradients of whole models (random-projection loss),
 * gradient summation at fan-out, cfg errors with file:line, $ACT sites,
 * losses against closed form, zoo models. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/nn.h"
#include "test.h"

/* L = sum(r * logits). Returns the worst relative error between analytic
 * and central-difference gradients over every parameter and input. */
static double model_gradcheck(al_model *m, int n, uint64_t seed, char *where, size_t cap)
{
	int c, h, w;
	al_model_input_shape(m, &c, &h, &w);
	int k = al_model_classes(m);
	size_t nin = (size_t)n * c * h * w, nout = (size_t)n * k;
	float *x = malloc(nin * 4), *r = malloc(nout * 4);
	al_rng g;
	al_rng_seed(&g, seed);
	for (size_t i = 0; i < nin; i++)
		x[i] = (float)al_rng_normal(&g);
	for (size_t i = 0; i < nout; i++)
		r[i] = (float)al_rng_normal(&g);
	al_model_want_input_grad(m, 1);
	const float *z;
	al_rng step;
	al_rng_seed(&step, 5);
	al_model_set_rng(m, &step);
	al_model_forward(m, x, n, 1, &z);
	al_model_zero_grad(m);
	al_model_backward(m, r);
	size_t np = al_model_nparams(m);
	float *ga = malloc((np + 1) * 4), *gx = malloc(nin * 4);
	memcpy(ga, al_model_grads(m), np * 4);
	memcpy(gx, al_model_input_grad(m), nin * 4);
	float *p = al_model_params(m);
	double worst = 0;
	for (size_t i = 0; i < np + nin; i++) {
		float *v = i < np ? &p[i] : &x[i - np];
		float old = *v;
		double eps = 1e-2 * (fabs((double)old) > 1 ? fabs((double)old) : 1);
		double L[2];
		for (int s = 0; s < 2; s++) {
			*v = (float)((double)old + (s ? -eps : eps));
			al_model_set_rng(m, &step);
			al_model_forward(m, x, n, 1, &z);
			double acc = 0;
			for (size_t j = 0; j < nout; j++)
				acc += (double)z[j] * (double)r[j];
			L[s] = acc;
		}
		double dv = (double)((float)((double)old + eps) - (float)((double)old - eps));
		*v = old;
		double num = (L[0] - L[1]) / dv;
		double ana = i < np ? (double)ga[i] : (double)gx[i - np];
		double err = fabs(num - ana) / (1e-2 + fabs(num) + fabs(ana));
		if (err > worst) {
			worst = err;
			snprintf(where, cap, "%s %zu: analytic %.6g numeric %.6g",
				 i < np ? "param" : "input", i < np ? i : i - np, ana, num);
		}
	}
	free(x);
	free(r);
	free(ga);
	free(gx);
	return worst;
}

static al_model *build(const char *cfg, int c, int h, int w, int k, const char *act)
{
	al_model_opts o = al_model_opts_default();
	o.in_c = c;
	o.in_h = h;
	o.in_w = w;
	o.classes = k;
	o.act = act;
	o.seed = 3;
	al_model *m = NULL;
	if (al_model_create_text(cfg, "test.cfg", &o, &m) != AL_OK)
		return NULL;
	return m;
}

TEST(model_dense_gradcheck)
{
	static const char *acts[] = {"tanh", "sigmoid", "leaky_relu:slope=0.3", "prelu:per=channel",
				     "prelu:per=layer", "identity"};
	for (int a = 0; a < 6; a++) {
		al_model *m = build("[dense]\nout = 7\nact = $ACT\n[dense]\nout = 5\nact = $ACT\n"
				    "[dense]\nout = $CLASSES\n",
				    1, 2, 3, 4, acts[a]);
		REQUIRE(m, "build failed: %s", al_errmsg());
		char where[256] = "";
		double e = model_gradcheck(m, 3, 7, where, sizeof where);
		CHECK(e < 2e-2, "%s: worst relative error %.3g at %s", acts[a], e, where);
		al_model_free(m);
	}
}

/* One output feeding two consumers: gradients must be summed. */
TEST(model_fanout_gradient_sum)
{
	al_model *m = build("[dense]\nname = a\nout = 6\nact = tanh\n"
			    "[dense]\nname = b\ninputs = -1\nout = 6\n"
			    "[dense]\nname = c\ninputs = -2\nout = 6\n"
			    "[concat]\nlayers = b, c\n"
			    "[dense]\nout = $CLASSES\n",
			    1, 1, 5, 3, "relu");
	if (!m) {
		/* concat is a layer of the conv/pool module; without it, a plain
		 * fan-out through a shortcut-free graph is still checked below */
		CHECK(0, "build failed: %s", al_errmsg());
		return;
	}
	char where[256] = "";
	double e = model_gradcheck(m, 2, 9, where, sizeof where);
	CHECK(e < 2e-2, "fan-out: worst relative error %.3g at %s", e, where);
	al_model_free(m);
}

/* The model input feeding several layers: its gradient is the sum. */
TEST(model_input_fanout_gradient)
{
	al_model *m = build("[dense]\ninputs = input\nout = 4\nact = tanh\n"
			    "[dense]\ninputs = input\nout = 3\n"
			    "[act]\ninputs = input\nact = sigmoid\n[flatten]\n"
			    "[concat]\nlayers = -1, -3, -4\n"
			    "[dense]\nout = $CLASSES\n",
			    2, 1, 3, 3, "relu");
	REQUIRE(m, "build failed: %s", al_errmsg());
	char where[256] = "";
	double e = model_gradcheck(m, 2, 13, where, sizeof where);
	CHECK(e < 2e-2, "input fan-out: worst relative error %.3g at %s", e, where);
	al_model_free(m);
}

TEST(model_cfg_errors)
{
	al_model_opts o = al_model_opts_default();
	al_model *m;
	struct {
		const char *cfg, *expect;
	} cases[] = {
		{"[dense]\nout = 10\n[bogus]\nx = 1\n", "test.cfg:3"},
		{"[dense]\nout = 10\nunits = 4\n", "unknown key 'units'"},
		{"[dense]\nout = abc\n", "not an integer"},
		{"[dense]\nout = 10\nout = 11\n", "given twice"},
		{"[dense]\nout = 4\n", "expected 10 classes"},
		{"[dense]\nout = $NOPE\n", "$NOPE"},
		{"[dense]\nout = 10\n[act]\nact = nosuch\n", "unknown activation 'nosuch'"},
		{"[dense]\ninputs = -3\nout = 10\n", "no earlier layer"},
		{"[dense]\ninputs = ghost\nout = 10\n", "'ghost'"},
		{"[dense\nout = 10\n", "without ']'"},
		{"out = 10\n", "outside any"},
		{"", "no layers"},
		{"[dense]\nout = 10\ninit = magic\n", "unknown initialiser 'magic'"},
		{"[net]\nchannels = 3\n[dense]\nout = 10\n", "expects input 3x28x28"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		m = NULL;
		al_status st = al_model_create_text(cases[i].cfg, "test.cfg", &o, &m);
		CHECK(st != AL_OK && m == NULL, "case %zu accepted", i);
		CHECK(strstr(al_errmsg(), cases[i].expect) != NULL,
		      "case %zu: message '%s' lacks '%s'", i, al_errmsg(), cases[i].expect);
		al_model_free(m);
	}
	CHECK(al_model_create("no/such/model.cfg", &o, &m) != AL_OK &&
		      strstr(al_errmsg(), "no/such/model.cfg") && strstr(al_errmsg(), "lenet5"),
	      "missing file message: %s", al_errmsg());
	o.act = "nosuch";
	CHECK(al_model_create("mlp", &o, &m) == AL_EINVAL, "bad --act accepted");
}

/* $ACT sites: all / first / list / none, `default =` for unselected sites. */
TEST(model_act_sites)
{
	const char *cfg = "[dense]\nout = 4\nact = $ACT\n[dense]\nout = 4\nact = $ACT\n"
			  "[dense]\nout = 4\n[act]\nact = $ACT\ndefault = sigmoid\n"
			  "[dense]\nout = $CLASSES\n";
	struct {
		const char *sites;
		const char *expect[3];
	} cases[] = {
		{"all", {"tanh", "tanh", "tanh"}},
		{"first", {"tanh", "relu", "sigmoid"}},
		{"2,3", {"relu", "tanh", "tanh"}},
		{"none", {"relu", "relu", "sigmoid"}},
	};
	for (int c = 0; c < 4; c++) {
		al_model_opts o = al_model_opts_default();
		o.in_c = 1;
		o.in_h = 1;
		o.in_w = 3;
		o.act = "prelu:per=layer";
		o.act_sites = cases[c].sites;
		al_model *m;
		/* prelu has parameters, so selected sites show up as act layers */
		REQUIRE_OK(al_model_create_text(cfg, "sites.cfg", &o, &m));
		int selected = 0;
		for (int i = 0; i < 3; i++)
			selected += strcmp(cases[c].expect[i], "tanh") == 0;
		CHECK(al_model_act_layers(m) == selected, "sites=%s: %d parametric act layers, want %d",
		      cases[c].sites, al_model_act_layers(m), selected);
		CHECK(al_model_nparams(m) - al_model_nweights(m) == (size_t)selected,
		      "sites=%s: activation parameters %zu", cases[c].sites,
		      al_model_nparams(m) - al_model_nweights(m));
		al_model_free(m);
	}
	al_model_opts o = al_model_opts_default();
	o.act_sites = "0,x";
	al_model *m;
	CHECK(al_model_create("mlp", &o, &m) == AL_EINVAL && strstr(al_errmsg(), "act-sites"),
	      "bad sites accepted: %s", al_errmsg());
	/* the mlp has two sites: naming a third is an error, not a silent no-op */
	o.act_sites = "1,3";
	CHECK(al_model_create("mlp", &o, &m) == AL_EINVAL && strstr(al_errmsg(), "2 activation sites"),
	      "site 3 of 2 accepted: %s", al_errmsg());
	o.act_sites = "2";
	REQUIRE_OK(al_model_create("mlp", &o, &m));
	CHECK(al_model_act_sites(m) == 2, "mlp: %d sites", al_model_act_sites(m));
	al_model_free(m);
}

TEST(model_losses_closed_form)
{
	float z[6] = {1, 2, 3, 0, 0, 0};
	int32_t y[2] = {2, 1};
	float d[6];
	double l = al_softmax_xent(z, y, 2, 3, d);
	double lse = log(exp(1.0) + exp(2.0) + exp(3.0));
	double want = ((lse - 3) + log(3.0)) / 2;
	CHECK_NEAR(l, want, 1e-12);
	CHECK_NEAR(d[0], exp(1 - lse) / 2, 1e-7);
	CHECK_NEAR(d[2], (exp(3 - lse) - 1) / 2, 1e-7);
	CHECK_NEAR(d[4], (1.0 / 3 - 1) / 2, 1e-7);
	/* large logits do not overflow */
	float big[2] = {1000, -1000};
	int32_t yb = 1;
	CHECK(isfinite(al_softmax_xent(big, &yb, 1, 2, d)), "xent overflowed");
	double m = al_mse_onehot(z, y, 2, 3, d);
	CHECK_NEAR(m, ((1 + 4 + 4) + (0 + 1 + 0)) / 2.0, 1e-12);
	CHECK_NEAR(d[2], 2 * (3 - 1) / 2.0, 1e-7);
	CHECK_NEAR(d[4], 2 * (0 - 1) / 2.0, 1e-7);
}

TEST(model_zoo_builds)
{
	CHECK(al_zoo_count() >= 2, "zoo has %d models", al_zoo_count());
	for (int i = 0; i < al_zoo_count(); i++) {
		al_model_opts o = al_model_opts_default();
		al_model *m;
		al_status st = al_model_defaults(al_zoo_name(i), &o.in_c, &o.in_h, &o.in_w,
						 &o.classes);
		o.no_init = 1; /* building is what is tested; vgg11 has 133M weights */
		if (st == AL_OK)
			st = al_model_create(al_zoo_name(i), &o, &m);
		CHECK(st == AL_OK, "%s: %s", al_zoo_name(i), al_errmsg());
		if (st == AL_OK)
			al_model_free(m);
	}
	al_model_opts o = al_model_opts_default();
	al_model *m;
	REQUIRE_OK(al_model_create("mlp", &o, &m));
	/* 784-256-256-10 */
	CHECK(al_model_nparams(m) == 784 * 256 + 256 + 256 * 256 + 256 + 256 * 10 + 10,
	      "mlp has %zu parameters", al_model_nparams(m));
	al_model_free(m);
	REQUIRE_OK(al_model_create("mlp:32,16", &o, &m));
	CHECK(al_model_nparams(m) == 784 * 32 + 32 + 32 * 16 + 16 + 16 * 10 + 10,
	      "mlp:32,16 has %zu parameters", al_model_nparams(m));
	al_model_free(m);
	REQUIRE_OK(al_model_create("lenet5", &o, &m));
	/* torch LeNet-5 on 28x28: 156 + 2416 + 48120 + 10164 + 850 */
	CHECK(al_model_nparams(m) == 61706, "lenet5 has %zu parameters", al_model_nparams(m));
	al_model_free(m);
}

/* Backward before forward is a state error, not a crash. */
TEST(model_state_errors)
{
	al_model_opts o = al_model_opts_default();
	al_model *m;
	REQUIRE_OK(al_model_create("mlp:8", &o, &m));
	float d[10] = {0};
	CHECK(al_model_backward(m, d) == AL_ESTATE, "backward before forward accepted");
	CHECK(al_model_forward(m, d, 0, 0, NULL) == AL_EINVAL, "batch 0 accepted");
	al_model_free(m);
}
