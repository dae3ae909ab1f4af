/* test_zoo.c — the model zoo and the layers it needs, against PyTorch:
 * layer cases (adaptive pooling, local response normalisation,
 * squeeze-excitation, ...) forward and backward against fixtures written by
 * tests/fixtures/gen_zoo.py, parameter counts against torchvision's
 * reference networks (the same fixtures' MANIFEST), every zoo network's
 * forward/backward on a batch of its input size, and short overfit runs.
 * Only zoo_fixtures_fresh needs torch at run time.
 * Not for: finite-difference checks of single layers (test_layers.c).
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actlab/core.h"
#include "actlab/nn.h"
#include "actlab/optim.h"
#include "actlab/tensor.h"
#include "test.h"

#define ZOO_DIR "tests/fixtures/zoo"
#define ZOO_GEN "/usr/bin/python3 tests/fixtures/gen_zoo.py"
/* per array: max |actlab - torch| <= TOL * (1 + max |torch|) */
#define TOL 1e-5

int run_cmd(const char *cmd, char *out, size_t cap);
const char *test_tmpdir(void);
int have_torch(void);

/* ---- MANIFEST ------------------------------------------------------------------ */
typedef struct {
	char kind[16], name[64], kv[256];
} zline;

#define ZMAX 256
static zline zl[ZMAX];
static int nzl = -1;

static int zoo_manifest(void)
{
	if (nzl >= 0)
		return nzl;
	FILE *f = fopen(ZOO_DIR "/MANIFEST", "r");
	if (!f) {
		test_fail(__FILE__, __LINE__, "cannot open " ZOO_DIR "/MANIFEST (run " ZOO_GEN ")");
		return -1;
	}
	char line[512];
	int n = 0;
	while (fgets(line, sizeof line, f) && n < ZMAX) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		zline *z = &zl[n];
		memset(z, 0, sizeof *z);
		int off = 0;
		if (sscanf(line, "%15s %63s %n", z->kind, z->name, &off) < 2)
			continue;
		snprintf(z->kv, sizeof z->kv, " %s", line + off);
		n++;
	}
	fclose(f);
	nzl = n;
	return n;
}

static long kv_long(const zline *z, const char *key)
{
	char pat[64];
	snprintf(pat, sizeof pat, " %s=", key);
	const char *p = strstr(z->kv, pat);
	return p ? strtol(p + strlen(pat), NULL, 10) : -1;
}

static int close_arr_tol(const char *what, const float *a, const float *ref, size_t n,
			 double tol);
static int close_arr(const char *what, const float *a, const float *ref, size_t n)
{
	return close_arr_tol(what, a, ref, n, TOL);
}

static int close_arr_tol(const char *what, const float *a, const float *ref, size_t n,
			 double tol)
{
	double maxref = 0, maxd = 0;
	size_t at = 0;
	for (size_t i = 0; i < n; i++)
		maxref = fmax(maxref, fabs((double)ref[i]));
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)ref[i]);
		if (!(d <= maxd)) {
			maxd = d;
			at = i;
		}
	}
	if (getenv("AL_TEST_VERBOSE"))
		printf("    %-44s max|diff| %.3g, max|ref| %.3g\n", what, maxd, maxref);
	if (!(maxd <= tol * (1 + maxref))) {
		test_fail(__FILE__, __LINE__, "%s: max |actlab - torch| = %.3g at [%zu] (%.9g vs %.9g)",
			  what, maxd, at, n ? (double)a[at] : 0.0, n ? (double)ref[at] : 0.0);
		return 0;
	}
	return 1;
}

static al_status fx_read(const char *name, const char *suffix, size_t want, al_tensor *t)
{
	char path[256];
	snprintf(path, sizeof path, ZOO_DIR "/%s_%s.npy", name, suffix);
	AL_TRY(al_npy_read_f32(path, t));
	if (want != (size_t)-1 && al_tensor_numel(t) != want) {
		size_t got = al_tensor_numel(t);
		al_tensor_free(t);
		return al_err(AL_EFORMAT, "%s: %zu values, expected %zu", path, got, want);
	}
	return AL_OK;
}

/* One layer case: forward (training mode) and backward with the fixture's
 * dy, compared with torch's output and gradients. */
static void check_layer(const zline *z)
{
	int n = (int)kv_long(z, "n");
	al_model_opts o = al_model_opts_default();
	o.in_c = (int)kv_long(z, "c");
	o.in_h = (int)kv_long(z, "h");
	o.in_w = (int)kv_long(z, "w");
	size_t nin = (size_t)n * (size_t)o.in_c * (size_t)o.in_h * (size_t)o.in_w;
	al_tensor x = {0}, p = {0}, dy = {0}, y = {0}, dx = {0}, dp = {0};
	al_model *m = NULL;
	char path[256], what[160];
	al_status st;
	if ((st = fx_read(z->name, "x", nin, &x)) != AL_OK ||
	    (st = fx_read(z->name, "y", (size_t)-1, &y)) != AL_OK)
		goto fail;
	o.classes = (int)(al_tensor_numel(&y) / (size_t)n);
	snprintf(path, sizeof path, ZOO_DIR "/%s.cfg", z->name);
	if ((st = al_model_create(path, &o, &m)) != AL_OK)
		goto fail;
	size_t np = al_model_nparams(m);
	if ((st = fx_read(z->name, "params", np, &p)) != AL_OK ||
	    (st = fx_read(z->name, "dy", al_tensor_numel(&y), &dy)) != AL_OK ||
	    (st = fx_read(z->name, "dx", nin, &dx)) != AL_OK ||
	    (st = fx_read(z->name, "dparams", np, &dp)) != AL_OK)
		goto fail;
	memcpy(al_model_params(m), p.data, np * sizeof(float));
	al_model_want_input_grad(m, 1);
	al_model_zero_grad(m);
	const float *out;
	if ((st = al_model_forward(m, x.data, n, 1, &out)) != AL_OK)
		goto fail;
	snprintf(what, sizeof what, "%s output", z->name);
	close_arr(what, out, y.data, al_tensor_numel(&y));
	if ((st = al_model_backward(m, dy.data)) != AL_OK)
		goto fail;
	snprintf(what, sizeof what, "%s input gradient", z->name);
	close_arr(what, al_model_input_grad(m), dx.data, nin);
	snprintf(what, sizeof what, "%s parameter gradients", z->name);
	close_arr(what, al_model_grads(m), dp.data, np);
	goto done;
fail:
	test_fail(__FILE__, __LINE__, "%s: %s", z->name, al_errmsg());
done:
	al_model_free(m);
	al_tensor_free(&x);
	al_tensor_free(&p);
	al_tensor_free(&dy);
	al_tensor_free(&y);
	al_tensor_free(&dx);
	al_tensor_free(&dp);
}

static int run_layers(const char *prefix)
{
	int ran = 0;
	if (zoo_manifest() < 0)
		return 0;
	for (int i = 0; i < nzl; i++)
		if (!strcmp(zl[i].kind, "layer") && !strncmp(zl[i].name, prefix, strlen(prefix))) {
			check_layer(&zl[i]);
			ran++;
		}
	return ran;
}

TEST(zoo_parity_adaptive_pool)
{
	int ran = run_layers("adaptive_");
	CHECK(ran >= 8, "expected the adaptive pooling cases in MANIFEST, ran %d", ran);
}

TEST(zoo_parity_lrn)
{
	int ran = run_layers("lrn_");
	CHECK(ran >= 3, "expected the LRN cases in MANIFEST, ran %d", ran);
}

TEST(zoo_parity_squeeze_excitation)
{
	int ran = run_layers("se_");
	CHECK(ran >= 1, "expected the squeeze-excitation case in MANIFEST, ran %d", ran);
}

TEST(zoo_parity_pool_pad)
{
	int ran = run_layers("pool_");
	CHECK(ran >= 1, "expected the pool padding case in MANIFEST, ran %d", ran);
}

/* pad = same with even kernels (PyTorch's padding='same'), depthwise convs */
TEST(zoo_parity_conv)
{
	int ran = run_layers("conv_");
	CHECK(ran >= 3, "expected the conv cases in MANIFEST, ran %d", ran);
}

/* Seed 000's ResNet-38 against its PyTorch twin (SPEC.md 1.13): wiring of
 * the residual modules, pooling and head. */
TEST(zoo_parity_resnet38_window)
{
	int ran = run_layers("net_resnet38_window");
	CHECK(ran == 1, "expected net_resnet38_window in MANIFEST, ran %d", ran);
}

/* Where torchvision has the network, the zoo's twin has exactly its
 * parameter count, for every class count the fixtures list. */
TEST(zoo_torchvision_param_counts)
{
	REQUIRE(zoo_manifest() > 0, "empty MANIFEST");
	int ran = 0;
	for (int i = 0; i < nzl; i++) {
		if (strcmp(zl[i].kind, "count") != 0)
			continue;
		al_model_opts o = al_model_opts_default();
		al_model *m;
		if (al_model_defaults(zl[i].name, &o.in_c, &o.in_h, &o.in_w, &o.classes) != AL_OK) {
			test_fail(__FILE__, __LINE__, "%s: %s", zl[i].name, al_errmsg());
			continue;
		}
		o.classes = (int)kv_long(&zl[i], "classes");
		o.no_init = 1;
		if (al_model_create(zl[i].name, &o, &m) != AL_OK) {
			test_fail(__FILE__, __LINE__, "%s: %s", zl[i].name, al_errmsg());
			continue;
		}
		long want = kv_long(&zl[i], "params");
		CHECK((long)al_model_nparams(m) == want, "%s, %d classes: %zu parameters, torchvision %ld",
		      zl[i].name, o.classes, al_model_nparams(m), want);
		al_model_free(m);
		ran++;
	}
	CHECK(ran >= 12, "expected counts of resnet18, resnet50, vgg11, efficientnet-b0, ran %d", ran);
}

/* The CIFAR ResNet-20 against its PyTorch twin (batch norm in training
 * mode, option-A shortcuts). */
TEST(zoo_parity_resnet20)
{
	int ran = run_layers("net_resnet20");
	CHECK(ran == 1, "expected net_resnet20 in MANIFEST, ran %d", ran);
}

/* The parameters gen_zoo.py's lcg_params draws: scale * ((s >> 8) / 2^23 - 1)
 * with s = 1664525 s + 1013904223 (mod 2^32), exact in both programs. */
static void lcg_fill(float *p, size_t n, uint32_t seed, float scale)
{
	uint32_t s = seed;
	for (size_t i = 0; i < n; i++) {
		s = s * 1664525u + 1013904223u;
		p[i] = scale * ((float)(s >> 8) / (float)(1 << 23) - 1.0f);
	}
}

/* A zoo network against torchvision's own module with the same parameters
 * (batch norm in training mode, dropout and stochastic depth off; the
 * reference computed in float64): logits and input gradient on 4 64x64
 * images. Deep networks accumulate float32 rounding, hence the wider
 * tolerance (relative to the largest value). */
static void check_tvnet(const zline *z)
{
	char model[64];
	const char *mp = strstr(z->kv, " model=");
	REQUIRE(mp && sscanf(mp, " model=%63s", model) == 1, "%s: no model=", z->name);
	const char *sp = strstr(z->kv, " scale=");
	float scale = sp ? strtof(sp + 7, NULL) : 0.0f;
	al_tensor x = {0}, y = {0}, dy = {0}, dx = {0};
	al_model *m = NULL;
	char what[160];
	al_status st;
	if ((st = fx_read(z->name, "x", (size_t)-1, &x)) != AL_OK ||
	    (st = fx_read(z->name, "y", (size_t)-1, &y)) != AL_OK ||
	    (st = fx_read(z->name, "dy", al_tensor_numel(&y), &dy)) != AL_OK ||
	    (st = fx_read(z->name, "dx", al_tensor_numel(&x), &dx)) != AL_OK)
		goto fail;
	al_model_opts o = al_model_opts_default();
	int n = (int)x.shape[0];
	o.in_c = (int)x.shape[1];
	o.in_h = (int)x.shape[2];
	o.in_w = (int)x.shape[3];
	o.classes = (int)(al_tensor_numel(&y) / (size_t)n);
	o.no_init = 1;
	char act[32] = "relu";
	const char *ap = strstr(z->kv, " act=");
	if (ap)
		sscanf(ap, " act=%31s", act);
	o.act = act;
	/* dropout off, as on the torch side */
	const char *cfg = al_zoo_cfg(model);
	REQUIRE(cfg, "%s: no zoo model %s", z->name, model);
	char *text = malloc(strlen(cfg) + 1), *q;
	strcpy(text, cfg);
	while ((q = strstr(text, "\np = 0.")) != NULL)
		q[7] = '0', q[5] = '0', memmove(q + 6, q + 7, strlen(q + 7) + 1);
	st = al_model_create_text(text, model, &o, &m);
	free(text);
	if (st != AL_OK)
		goto fail;
	CHECK((long)al_model_nparams(m) == kv_long(z, "params"), "%s: %zu parameters, torch %ld",
	      z->name, al_model_nparams(m), kv_long(z, "params"));
	lcg_fill(al_model_params(m), al_model_nparams(m), (uint32_t)kv_long(z, "seed"), scale);
	al_model_want_input_grad(m, 1);
	const float *out;
	if ((st = al_model_forward(m, x.data, n, 1, &out)) != AL_OK)
		goto fail;
	snprintf(what, sizeof what, "%s logits", z->name);
	close_arr_tol(what, out, y.data, al_tensor_numel(&y), 1e-4);
	if ((st = al_model_backward(m, dy.data)) != AL_OK)
		goto fail;
	snprintf(what, sizeof what, "%s input gradient", z->name);
	const char *tp = strstr(z->kv, " dxtol=");
	close_arr_tol(what, al_model_input_grad(m), dx.data, al_tensor_numel(&x),
		      tp ? strtod(tp + 7, NULL) : 1e-4);
	goto done;
fail:
	test_fail(__FILE__, __LINE__, "%s: %s", z->name, al_errmsg());
done:
	al_model_free(m);
	al_tensor_free(&x);
	al_tensor_free(&y);
	al_tensor_free(&dy);
	al_tensor_free(&dx);
}

static int run_tvnet(const char *name)
{
	int ran = 0;
	if (zoo_manifest() < 0)
		return 0;
	for (int i = 0; i < nzl; i++)
		if (!strcmp(zl[i].kind, "tvnet") && !strcmp(zl[i].name, name)) {
			check_tvnet(&zl[i]);
			ran++;
		}
	return ran;
}

TEST(zoo_parity_torchvision_resnet18) { CHECK(run_tvnet("tv_resnet18") == 1, "no tv_resnet18"); }
TEST(zoo_parity_torchvision_resnet50) { CHECK(run_tvnet("tv_resnet50") == 1, "no tv_resnet50"); }
TEST(zoo_parity_torchvision_efficientnet_b0)
{
	CHECK(run_tvnet("tv_efficientnet_b0") == 1, "no tv_efficientnet_b0");
}

/* Every layer case belongs to one of the tests above. */
TEST(zoo_manifest_covered)
{
	REQUIRE(zoo_manifest() > 0, "empty MANIFEST");
	static const char *prefixes[] = {"adaptive_", "lrn_", "se_", "conv_", "net_", "pool_"};
	for (int i = 0; i < nzl; i++) {
		if (strcmp(zl[i].kind, "layer") != 0)
			continue;
		int hit = 0;
		for (size_t k = 0; k < sizeof prefixes / sizeof *prefixes; k++)
			hit |= !strncmp(zl[i].name, prefixes[k], strlen(prefixes[k]));
		CHECK(hit, "MANIFEST case %s is run by no test", zl[i].name);
	}
}

/* The generator still writes the committed fixtures (same text, arrays
 * within TOL). */
TEST(zoo_fixtures_fresh)
{
	if (!have_torch() ||
	    system("/usr/bin/python3 -c 'import torchvision' >/dev/null 2>&1") != 0) {
		printf("  note: zoo_fixtures_fresh skipped: /usr/bin/python3 cannot import torch and "
		       "torchvision (Debian's python3-torchvision); the committed fixtures were used "
		       "as they are\n");
		return;
	}
	char dir[600], cmd[1024], out[4096];
	snprintf(dir, sizeof dir, "%s/zoo_fresh", test_tmpdir());
	snprintf(cmd, sizeof cmd, ZOO_GEN " --out '%s'", dir);
	int rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "%s: exit %d: %s", cmd, rc, out);
	snprintf(cmd, sizeof cmd, "diff -r -q -x '*.npy' " ZOO_DIR " '%s'", dir);
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 0, "stale fixtures (rerun " ZOO_GEN " and commit): %s", out);
	REQUIRE(zoo_manifest() > 0, "empty MANIFEST");
	static const char *sfx[] = {"x", "params", "dy", "y", "dx", "dparams"};
	for (int i = 0; i < nzl; i++) {
		if (strcmp(zl[i].kind, "layer") != 0)
			continue;
		for (int k = 0; k < 6; k++) {
			char a[700], b[256];
			snprintf(a, sizeof a, "%s/%s_%s.npy", dir, zl[i].name, sfx[k]);
			snprintf(b, sizeof b, ZOO_DIR "/%s_%s.npy", zl[i].name, sfx[k]);
			al_tensor ta = {0}, tb = {0};
			if (al_npy_read_f32(a, &ta) != AL_OK || al_npy_read_f32(b, &tb) != AL_OK) {
				test_fail(__FILE__, __LINE__, "%s", al_errmsg());
			} else if (al_tensor_numel(&ta) != al_tensor_numel(&tb)) {
				test_fail(__FILE__, __LINE__, "%s: size changed", b);
			} else {
				char what[300];
				snprintf(what, sizeof what, "stale fixture %s", b);
				close_arr(what, ta.data, tb.data, al_tensor_numel(&tb));
			}
			al_tensor_free(&ta);
			al_tensor_free(&tb);
		}
	}
}

/* ---- networks ------------------------------------------------------------------- */

static al_model *zoo_build(const char *name, const char *act, const char *sites, int *c, int *h,
			   int *w, int *classes)
{
	al_model_opts o = al_model_opts_default();
	if (al_model_defaults(name, &o.in_c, &o.in_h, &o.in_w, &o.classes) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: defaults: %s", name, al_errmsg());
		return NULL;
	}
	if (act)
		o.act = act;
	if (sites)
		o.act_sites = sites;
	o.seed = 3;
	al_model *m = NULL;
	if (al_model_create(name, &o, &m) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: %s", name, al_errmsg());
		return NULL;
	}
	*c = o.in_c;
	*h = o.in_h;
	*w = o.in_w;
	*classes = o.classes;
	return m;
}

/* Seed 000's ResNet-38 as SPEC.md 1.13 gives it: 754,724 parameters for 100
 * classes, six activation sites on 32, 32, 32, 16, 16, 8 pixel maps for
 * 32x32 inputs (64, 64, 64, 32, 32, 16 for 64x64), all 128 channels. */
TEST(zoo_resnet38_window)
{
	int c, h, w, k;
	al_model *m = zoo_build("resnet38-window", "prelu:per=neuron", NULL, &c, &h, &w, &k);
	REQUIRE(m, "build");
	CHECK(c == 3 && h == 32 && w == 32 && k == 100, "defaults %dx%dx%d, %d classes", c, h, w, k);
	CHECK(al_model_nweights(m) == 754724, "%zu weights, SPEC says 754,724",
	      al_model_nweights(m));
	static const int side[6] = {32, 32, 32, 16, 16, 8};
	REQUIRE(al_model_act_layers(m) == 6, "%d activation sites, want 6", al_model_act_layers(m));
	for (int i = 0; i < 6; i++) {
		const char *name;
		const al_act_spec *spec;
		const float *p;
		size_t g;
		al_model_act_layer(m, i, &name, &spec, &p, &g);
		CHECK(g == (size_t)128 * side[i] * side[i], "site %d (%s): %zu elements, want 128x%dx%d",
		      i + 1, name, g, side[i], side[i]);
	}
	al_model_free(m);
	/* 64x64 inputs (Tiny ImageNet, Caltech-101): same parameters, larger maps */
	al_model_opts o = al_model_opts_default();
	o.in_c = 3;
	o.in_h = o.in_w = 64;
	o.classes = 200;
	o.act = "prelu:per=neuron";
	REQUIRE_OK(al_model_create("resnet38-window", &o, &m));
	CHECK(al_model_nweights(m) == 754724 - 100 * 129 + 200 * 129, "200 classes: %zu weights",
	      al_model_nweights(m));
	const char *name;
	const al_act_spec *spec;
	const float *p;
	size_t g;
	al_model_act_layer(m, 5, &name, &spec, &p, &g);
	CHECK(g == (size_t)128 * 16 * 16, "last site on 64x64 input: %zu elements", g);
	al_model_free(m);
	/* grayscale data is refused: the model needs 3 channels */
	o.in_c = 1;
	CHECK(al_model_create("resnet38-window", &o, &m) == AL_EINVAL &&
		      strstr(al_errmsg(), "expects input 3x"),
	      "1-channel input accepted: %s", al_errmsg());
}

/* Each zoo network: forward and backward on a batch of 2 at its default
 * input size (1 image for the 224x224 ImageNet layouts), gradients finite
 * and mostly non-zero; then an overfit run: `steps` optimizer steps on one
 * fixed batch must drive the loss near zero (below `want`). So that the
 * suite stays fast, size-agnostic networks (adaptive or global pooling
 * heads) overfit at a smaller input (side > 0: 32x32 for the ImageNet
 * layouts, their CIFAR use), the ImageNet layouts with 10 classes instead of
 * 1000 (classes > 0), and networks with many dropout layers with dropout
 * off (nodrop: a fixed batch is memorised without the noise; the layers are
 * still built and run). VGG-11, a plain 11-layer stack, passes too weak a
 * signal at PyTorch's default init to tell two random images apart within a
 * few steps (Adam at 1e-4: loss 2.29 -> 1.01 in 10 steps); its overfit run
 * uses He init (he) and plain SGD, which keeps no optimizer state for its
 * 133M parameters. */
typedef struct {
	const char *name;
	int batch, steps;
	double lr, want; /* want: final loss below this */
	int side;        /* train on side x side inputs (0: the default size) */
	int sgd;         /* plain SGD (no optimizer state) instead of Adam */
	int classes;     /* train with this many classes (0: the default) */
	int nodrop;      /* dropout probabilities set to 0 for the overfit run */
	int he;          /* overfit run with `init = he_normal` in [net] */
} zoo_run;

static const zoo_run zoo_runs[] = {
	{"mlp", 8, 60, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"lenet5", 8, 60, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"lenet-hu", 4, 25, 2e-3, 0.05, 0, 0, 0, 0, 0},
	{"alexnet-cifar", 4, 25, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"vgg1", 4, 25, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"vgg2", 4, 25, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"vgg3", 4, 25, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"sqrtnet", 4, 25, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"sqrtnet-bn", 4, 25, 1e-3, 0.05, 0, 0, 0, 0, 0},
	{"resnet20", 4, 25, 2e-3, 0.05, 0, 0, 0, 0, 0},
	{"resnet38-window", 4, 25, 1e-3, 0.05, 8, 0, 0, 0, 0},
	{"resnet56", 2, 12, 3e-3, 0.05, 16, 0, 0, 0, 0},
	{"densenet-bc", 2, 12, 3e-3, 0.05, 8, 0, 0, 0, 0},
	{"densenet-hu", 2, 8, 3e-3, 0.05, 16, 0, 0, 1, 0},
	{"googlenet-cifar", 2, 8, 3e-3, 0.05, 8, 0, 0, 0, 0},
	{"googlenet-hu", 2, 8, 3e-3, 0.05, 0, 0, 0, 1, 0},
	{"resnet18", 2, 8, 3e-3, 0.05, 32, 0, 10, 0, 0},
	{"resnet50", 2, 8, 3e-3, 0.05, 32, 0, 10, 0, 0},
	{"vgg11", 2, 14, 1e-3, 0.05, 32, 1, 10, 1, 1},
	{"efficientnet-b0", 2, 12, 3e-3, 0.05, 32, 0, 10, 1, 0},
};

static const zoo_run *zoo_run_of(const char *name)
{
	for (size_t i = 0; i < sizeof zoo_runs / sizeof *zoo_runs; i++)
		if (!strcmp(zoo_runs[i].name, name))
			return &zoo_runs[i];
	return NULL;
}

/* The zoo cfg with every `p = NUMBER` (dropout probability) line set to
 * `p = 0` (nodrop; a failure if the model has no such line), and with
 * `init = he_normal` added to [net] (he). */
static char *cfg_variant(const char *name, int nodrop, int he)
{
	const char *cfg = al_zoo_cfg(name);
	if (!cfg) {
		test_fail(__FILE__, __LINE__, "%s: not a zoo model", name);
		return NULL;
	}
	char *out = malloc(strlen(cfg) + 32), *o = out;
	int hits = 0, net = 0;
	for (const char *l = cfg; *l;) {
		const char *e = strchr(l, '\n');
		size_t len = e ? (size_t)(e - l + 1) : strlen(l);
		if (he && !net && !strncmp(l, "[net]\n", 6)) {
			memcpy(o, "[net]\ninit = he_normal\n", 23);
			o += 23;
			net = 1;
		} else if (nodrop && !strncmp(l, "p = ", 4) && l[4] >= '0' && l[4] <= '9') {
			memcpy(o, "p = 0\n", 6);
			o += 6;
			hits++;
		} else {
			memcpy(o, l, len);
			o += len;
		}
		l += len;
	}
	*o = 0;
	if ((nodrop && !hits) || (he && !net)) {
		test_fail(__FILE__, __LINE__, "%s: no dropout layer or no [net] in its cfg", name);
		free(out);
		return NULL;
	}
	return out;
}

/* Runs `steps` optimizer steps (0: one forward/backward) on a fixed random
 * batch; returns the first and last loss. */
static int zoo_fit(const char *name, al_model *m, int n, int c, int h, int w, int k, int steps,
		   double lr, int sgd, double *first, double *last)
{
	size_t nin = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
	float *x = malloc(nin * sizeof(float));
	float *dl = malloc((size_t)n * (size_t)k * sizeof(float));
	int32_t *y = malloc((size_t)n * sizeof(int32_t));
	al_optim *opt = NULL;
	int ok = 0;
	al_rng g;
	al_rng_seed(&g, 7);
	for (size_t i = 0; i < nin; i++)
		x[i] = (float)al_rng_normal(&g);
	for (int i = 0; i < n; i++)
		y[i] = (int32_t)((i * 7 + 3) % k);
	al_model_set_rng(m, &g);
	al_optim_opts oo = al_optim_opts_default();
	oo.kind = sgd ? AL_OPT_SGD : AL_OPT_ADAM;
	oo.lr = lr;
	if (al_optim_create(&oo, al_model_nparams(m), al_model_nweights(m), &opt) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: optimizer: %s", name, al_errmsg());
		goto done;
	}
	for (int s = 0; s <= steps; s++) {
		const float *logits;
		al_model_zero_grad(m);
		if (al_model_forward(m, x, n, 1, &logits) != AL_OK) {
			test_fail(__FILE__, __LINE__, "%s: forward: %s", name, al_errmsg());
			goto done;
		}
		*last = al_softmax_xent(logits, y, n, k, dl);
		if (s == 0)
			*first = *last;
		if (s == steps && s > 0)
			break;
		if (al_model_backward(m, dl) != AL_OK) {
			test_fail(__FILE__, __LINE__, "%s: backward: %s", name, al_errmsg());
			goto done;
		}
		if (s == 0) {
			const float *gr = al_model_grads(m);
			size_t bad = 0, zero = 0, np = al_model_nparams(m);
			for (size_t j = 0; j < np; j++) {
				bad += !isfinite(gr[j]);
				zero += gr[j] == 0.0f;
			}
			CHECK(bad == 0, "%s: %zu non-finite gradients", name, bad);
			/* ReLU zeroes about half the inputs of each dense layer on a tiny
			 * batch; a disconnected branch shows as far more */
			CHECK(zero < np / 10 * 9, "%s: %zu of %zu gradients are zero", name, zero, np);
		}
		if (s == steps)
			break;
		al_optim_step(opt, al_model_params(m), al_model_grads(m), 1.0);
		al_model_project(m);
	}
	ok = 1;
done:
	al_optim_free(opt);
	free(x);
	free(dl);
	free(y);
	return ok;
}

static double zoo_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* One forward/backward at the default input size (batch 2, or 1 at
 * 224x224), then the overfit run of `r`. */
static void zoo_train(const zoo_run *r)
{
	double t0 = zoo_now(), t1 = t0;
	int c, h, w, k;
	double first = 0, loss = 0;
	al_model *m = zoo_build(r->name, "relu", NULL, &c, &h, &w, &k);
	if (!m || !zoo_fit(r->name, m, h * w > 128 * 128 ? 1 : 2, c, h, w, k, 0, r->lr, r->sgd,
			   &first, &loss)) {
		al_model_free(m);
		return;
	}
	t1 = zoo_now();
	if (r->side || r->classes || r->nodrop || r->he) {
		al_model_free(m);
		m = NULL;
		al_model_opts o = al_model_opts_default();
		o.in_c = c;
		o.in_h = h = r->side ? r->side : h;
		o.in_w = w = r->side ? r->side : w;
		o.classes = k = r->classes ? r->classes : k;
		o.seed = 3;
		char *text = NULL;
		al_status st;
		if (r->nodrop || r->he) {
			if (!(text = cfg_variant(r->name, r->nodrop, r->he)))
				return;
			st = al_model_create_text(text, r->name, &o, &m);
			free(text);
		} else {
			st = al_model_create(r->name, &o, &m);
		}
		if (st != AL_OK) {
			test_fail(__FILE__, __LINE__, "%s at %dx%d, %d classes: %s", r->name, h, w, k,
				  al_errmsg());
			return;
		}
	}
	if (zoo_fit(r->name, m, r->batch, c, h, w, k, r->steps, r->lr, r->sgd, &first, &loss)) {
		CHECK(isfinite(loss) && loss < r->want,
		      "%s: loss %.4g after %d steps (from %.4g), want < %g", r->name, loss, r->steps,
		      first, r->want);
		if (getenv("AL_TEST_VERBOSE"))
			printf("  %s: loss %.4g -> %.4g in %d steps, batch %d of %dx%dx%d, %d classes%s%s "
			       "(%.2fs default-size pass, %.2fs overfit)\n",
			       r->name, first, loss, r->steps, r->batch, c, h, w, k,
			       r->nodrop ? ", dropout off" : "", r->he ? ", He init" : "", t1 - t0,
			       zoo_now() - t1);
	}
	al_model_free(m);
}

/* Every zoo network has a training run below. */
TEST(zoo_every_network_has_a_run)
{
	for (int i = 0; i < al_zoo_count(); i++)
		CHECK(zoo_run_of(al_zoo_name(i)), "zoo model %s has no entry in zoo_runs",
		      al_zoo_name(i));
}

TEST(zoo_train_small)
{
	zoo_train(zoo_run_of("mlp"));
	zoo_train(zoo_run_of("lenet5"));
}

TEST(zoo_train_resnet38_window) { zoo_train(zoo_run_of("resnet38-window")); }

TEST(zoo_train_seed_nets)
{
	static const char *names[] = {"lenet-hu", "alexnet-cifar", "vgg1", "vgg2", "vgg3",
				      "sqrtnet", "sqrtnet-bn"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		zoo_train(zoo_run_of(names[i]));
}

TEST(zoo_train_resnet20) { zoo_train(zoo_run_of("resnet20")); }
TEST(zoo_train_resnet56) { zoo_train(zoo_run_of("resnet56")); }
TEST(zoo_train_densenet_bc) { zoo_train(zoo_run_of("densenet-bc")); }
TEST(zoo_train_densenet_hu) { zoo_train(zoo_run_of("densenet-hu")); }
TEST(zoo_train_googlenet_cifar) { zoo_train(zoo_run_of("googlenet-cifar")); }
TEST(zoo_train_googlenet_hu) { zoo_train(zoo_run_of("googlenet-hu")); }
TEST(zoo_train_resnet18) { zoo_train(zoo_run_of("resnet18")); }
TEST(zoo_train_resnet50) { zoo_train(zoo_run_of("resnet50")); }
TEST(zoo_train_vgg11) { zoo_train(zoo_run_of("vgg11")); }
TEST(zoo_train_efficientnet_b0) { zoo_train(zoo_run_of("efficientnet-b0")); }

/* Every training run belongs to a test: names of zoo_runs are zoo models. */
TEST(zoo_runs_are_zoo_models)
{
	for (size_t i = 0; i < sizeof zoo_runs / sizeof *zoo_runs; i++)
		CHECK(al_zoo_cfg(zoo_runs[i].name), "zoo_runs names %s, not a zoo model",
		      zoo_runs[i].name);
}

/* ---- CLI ------------------------------------------------------------------------- */
const char *actlab_bin(void);

/* `actlab models --params` lists every zoo model with its parameter count at
 * its default input; `actlab models NAME` shows the layers and site numbers. */
TEST(zoo_cli_models)
{
	static char out[1 << 16];
	char cmd[512];
	snprintf(cmd, sizeof cmd, "%s models --params", actlab_bin());
	int rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "models --params exited %d: %s", rc, out);
	static const struct {
		const char *name, *count;
	} want[] = {{"resnet38-window", "754724"}, {"resnet18", "11689512"}, {"resnet50", "25557032"},
		    {"vgg11", "132863336"},         {"efficientnet-b0", "5288548"}, {"resnet20", "269722"}};
	for (size_t i = 0; i < sizeof want / sizeof *want; i++) {
		const char *p = strstr(out, want[i].name);
		CHECK(p && strstr(p, want[i].count) && strstr(p, want[i].count) < strchr(p, '\n'),
		      "models --params: %s should list %s parameters", want[i].name, want[i].count);
	}
	for (int i = 0; i < al_zoo_count(); i++)
		CHECK(strstr(out, al_zoo_name(i)), "models --params misses %s", al_zoo_name(i));
	snprintf(cmd, sizeof cmd, "%s models efficientnet-b0 --act relu --act-sites first",
		 actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "models efficientnet-b0 exited %d: %s", rc, out);
	CHECK(strstr(out, "relu (site 1)") && strstr(out, "silu (site 2)"),
	      "--act-sites first: the stem takes --act, the other sites keep silu");
	CHECK(strstr(out, "$ACT sites: 49"), "efficientnet-b0 should have 49 sites");
	snprintf(cmd, sizeof cmd, "%s models resnet20 --act-sites 20", actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 1 && strstr(out, "19 activation sites"), "site 20 of 19: exit %d: %s", rc, out);
	snprintf(cmd, sizeof cmd, "%s models --act relu", actlab_bin());
	rc = run_cmd(cmd, out, sizeof out);
	CHECK(rc == 2, "--act without a model: exit %d", rc);
}

/* The end-to-end runs: `actlab train --model resnet20|vgg2 --data
 * fashion-mnist` adapts the 1x28x28 images to the models' 3x32x32 input with
 * a note saying how, and trains (the loss falls over 3 epochs of a 64-image
 * subset). Needs Debian's dataset-fashion-mnist (scripts/install-deps.sh). */
TEST(zoo_cli_train_fashion_mnist)
{
	const char *env = getenv("ACTLAB_FASHION_MNIST");
	const char *dir = env && *env ? env : "/usr/share/datasets/fashion-mnist";
	if (access(dir, R_OK) != 0) {
		printf("  note: zoo_cli_train_fashion_mnist skipped: %s not installed\n", dir);
		return;
	}
	static char out[1 << 16];
	static const char *models[] = {"resnet20", "vgg2"};
	for (int i = 0; i < 2; i++) {
		char cmd[512], want[160];
		snprintf(cmd, sizeof cmd,
			 "%s train --model %s --data fashion-mnist:train=64,test=32 --epochs 3 "
			 "--batch 16 --opt adam --lr 1e-3 --json",
			 actlab_bin(), models[i]);
		int rc = run_cmd(cmd, out, sizeof out);
		REQUIRE(rc == 0, "%s: exit %d: %s", cmd, rc, out);
		snprintf(want, sizeof want, "note: fashion-mnist/train: 1x28x28 images adapted to the "
					    "model's 3x32x32 input: channel replicated, zero-padded 2 px");
		CHECK(strstr(out, want) && strstr(out, models[i]), "%s: no adaptation note: %s",
		      models[i], out);
		const char *h = strstr(out, "\"history\"");
		const char *e1 = h ? strstr(h, "\"epoch\": 1, \"train_loss\": ") : NULL;
		const char *e3 = h ? strstr(h, "\"epoch\": 3, \"train_loss\": ") : NULL;
		REQUIRE(e1 && e3, "%s: no per-epoch history in the JSON: %s", models[i], out);
		const size_t skip = strlen("\"epoch\": 1, \"train_loss\": ");
		double l1 = atof(e1 + skip), l3 = atof(e3 + skip);
		CHECK(isfinite(l3) && l3 < 0.9 * l1, "%s: train loss %g (epoch 1) -> %g (epoch 3)",
		      models[i], l1, l3);
		if (getenv("AL_TEST_VERBOSE"))
			printf("  %s on fashion-mnist: train loss %.4f -> %.4f\n", models[i], l1, l3);
	}
}

/* no_init leaves every parameter zero; without it the weights are drawn. */
TEST(zoo_no_init)
{
	al_model_opts o = al_model_opts_default();
	al_model *m;
	o.no_init = 1;
	REQUIRE_OK(al_model_create("lenet5", &o, &m));
	size_t nz = 0;
	for (size_t j = 0; j < al_model_nparams(m); j++)
		nz += al_model_params(m)[j] != 0.0f;
	CHECK(nz == 0, "no_init: %zu non-zero parameters", nz);
	al_model_free(m);
	o.no_init = 0;
	REQUIRE_OK(al_model_create("lenet5", &o, &m));
	nz = 0;
	for (size_t j = 0; j < al_model_nparams(m); j++)
		nz += al_model_params(m)[j] != 0.0f;
	CHECK(nz > al_model_nparams(m) / 2, "initialised: only %zu non-zero parameters", nz);
	al_model_free(m);
}
