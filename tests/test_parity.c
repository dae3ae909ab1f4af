/* test_parity.c — parity with PyTorch 1.13 (Debian's python3-torch as the
 * oracle) through committed fixtures: models (dense MLPs with every
 * activation PyTorch has, a small CNN with conv/maxpool/grouped conv/avgpool
 * and a batchnorm variant) forward and backward, losses, optimizer
 * trajectories (SGD with momentum / Nesterov / weight decay, Adam, AdamW, the
 * activation parameter group), batchnorm running statistics, and every
 * catalog activation through the library and through the CLI's
 * `actlab act eval` .npy contract.
 *
 * The fixtures and the cfg files in tests/fixtures/parity/ are written by
 * tests/fixtures/gen_parity.py; its MANIFEST drives these tests, so a new
 * case or activation there needs no edit here. Only parity_fixtures_fresh
 * needs torch at run time (it regenerates the fixtures and requires them to
 * match the committed ones: byte-identical for text, within the model
 * tolerance for arrays, since PyTorch may round differently on another CPU). Paths are relative to the repo
 * root, where the runner runs.
 * Not for: finite-difference checks (the catalog and layer tests do those).
 */
#include <dirent.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/nn.h"
#include "actlab/optim.h"
#include "actlab/tensor.h"
#include "test.h"

#define FIX_DIR "tests/fixtures/parity"
#define GEN_CMD "/usr/bin/python3 tests/fixtures/gen_parity.py"

/* Tolerances. Both sides compute in float32 with different summation orders
 * (OpenBLAS partitions vs PyTorch's kernels, double vs float loss sums), so
 * results agree to a few float32 ulps of the largest magnitudes involved:
 *  - models (logits, loss, gradients, input gradients, running stats,
 *    parameters after every optimizer step): per array,
 *        max |actlab - torch| <= TOL_MODEL * (1 + max |torch|);
 *  - activations (y, dx): per element,
 *        |actlab - torch| <= TOL_ACT * (1 + |torch|);
 *    activation parameter gradients (sums over many elements) per array
 *    with TOL_MODEL, as above.
 * The observed worst cases are ~10x below these bounds (ACTLAB_PARITY_VERBOSE=1
 * prints them). */
#define TOL_MODEL 1e-5
#define TOL_ACT 2e-6

static int verbose(void)
{
	const char *v = getenv("ACTLAB_PARITY_VERBOSE");
	return v && *v && strcmp(v, "0") != 0;
}

/* ---- comparisons ---------------------------------------------------------- */
/* Per array: max |a - ref| <= tol * (1 + max |ref|); a NaN on either side
 * fails. Returns 1 when close. */
static int close_array(const char *what, const float *a, const float *ref, size_t n, double tol)
{
	double maxref = 0, maxd = 0;
	size_t at = 0;
	int nan = 0;
	for (size_t i = 0; i < n; i++) {
		double r = fabs((double)ref[i]);
		if (r > maxref)
			maxref = r;
	}
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)ref[i]);
		if (d != d) {
			nan = 1;
			at = i;
			break;
		}
		if (d > maxd) {
			maxd = d;
			at = i;
		}
	}
	double bound = tol * (1 + maxref);
	if (verbose())
		printf("    %-40s n=%-5zu max|diff| %.3g (%.3g of bound)\n", what, n, maxd,
		       maxd / bound);
	if (nan || !(maxd <= bound)) {
		test_fail(__FILE__, __LINE__,
			  "%s: max |actlab - torch| = %.3g at [%zu] (actlab %.9g, torch %.9g), "
			  "bound %.3g = %g * (1 + max|torch| %.3g)",
			  what, nan ? (double)NAN : maxd, at, (double)a[at], (double)ref[at], bound, tol,
			  maxref);
		return 0;
	}
	return 1;
}

/* Per element: |a - ref| <= tol * (1 + |ref|). */
static int close_elems(const char *what, const float *a, const float *ref, size_t n, double tol)
{
	double worst = 0;
	for (size_t i = 0; i < n; i++) {
		double d = fabs((double)a[i] - (double)ref[i]);
		double bound = tol * (1 + fabs((double)ref[i]));
		if (!(d <= bound)) {
			test_fail(__FILE__, __LINE__,
				  "%s: element %zu: actlab %.9g, torch %.9g, |diff| %.3g > %.3g", what,
				  i, (double)a[i], (double)ref[i], d, bound);
			return 0;
		}
		if (d / bound > worst)
			worst = d / bound;
	}
	if (verbose())
		printf("    %-40s n=%-5zu worst |diff| %.3g of bound\n", what, n, worst);
	return 1;
}

/* ---- fixtures --------------------------------------------------------------- */
static const char *fx_path(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static const char *fx_path(const char *fmt, ...)
{
	static char buf[4][512];
	static int slot;
	char *p = buf[slot++ % 4];
	char name[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(name, sizeof name, fmt, ap);
	va_end(ap);
	snprintf(p, 512, "%s/%s", FIX_DIR, name);
	return p;
}

static int fx_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0;
}

/* A MANIFEST line: "KIND NAME [SUB] key=value ...". */
typedef struct {
	char kind[16], name[64], sub[64];
	char kv[512];
} mline;

#define MAXLINES 256
static mline manifest[MAXLINES];
static int nmanifest = -1;

/* Loads MANIFEST once; returns the number of lines or -1 (with a failure). */
static int manifest_load(void)
{
	if (nmanifest >= 0)
		return nmanifest;
	FILE *f = fopen(FIX_DIR "/MANIFEST", "r");
	if (!f) {
		test_fail(__FILE__, __LINE__,
			  "cannot open " FIX_DIR "/MANIFEST (run " GEN_CMD " from the repo root)");
		return -1;
	}
	char line[1024];
	int n = 0;
	while (fgets(line, sizeof line, f) && n < MAXLINES) {
		line[strcspn(line, "\r\n")] = 0;
		if (!line[0] || line[0] == '#')
			continue;
		mline *m = &manifest[n];
		memset(m, 0, sizeof *m);
		char *save = NULL, *tok = strtok_r(line, " ", &save);
		int field = 0;
		size_t kl = 0;
		for (; tok; tok = strtok_r(NULL, " ", &save), field++) {
			if (field == 0)
				snprintf(m->kind, sizeof m->kind, "%s", tok);
			else if (field == 1)
				snprintf(m->name, sizeof m->name, "%s", tok);
			else if (field == 2 && !strchr(tok, '='))
				snprintf(m->sub, sizeof m->sub, "%s", tok);
			else if (kl + strlen(tok) + 2 < sizeof m->kv)
				kl += (size_t)snprintf(m->kv + kl, sizeof m->kv - kl, " %s", tok);
		}
		n++;
	}
	fclose(f);
	nmanifest = n;
	return n;
}

/* Value of key in a line's " k=v k=v" list; def when absent. */
static const char *kv_str(const mline *m, const char *key, const char *def)
{
	static char buf[128];
	size_t kl = strlen(key);
	for (const char *p = m->kv; (p = strchr(p, ' ')) != NULL;) {
		p++;
		if (strncmp(p, key, kl) == 0 && p[kl] == '=') {
			size_t vl = strcspn(p + kl + 1, " ");
			snprintf(buf, sizeof buf, "%.*s", (int)vl, p + kl + 1);
			return buf;
		}
	}
	return def;
}

static double kv_num(const mline *m, const char *key, double def)
{
	const char *v = kv_str(m, key, NULL);
	return v ? strtod(v, NULL) : def;
}

/* "mlp_*" matches by prefix, anything else exactly. */
static int name_match(const char *name, const char *pat)
{
	size_t l = strlen(pat);
	if (l && pat[l - 1] == '*')
		return strncmp(name, pat, l - 1) == 0;
	return strcmp(name, pat) == 0;
}

/* ---- models ------------------------------------------------------------------ */
typedef struct {
	al_model *m;
	al_tensor x, params;
	int32_t *y;
	int n, k;
	size_t insz;
	int mse;
} pcase;

static void case_close(pcase *c)
{
	al_model_free(c->m);
	al_tensor_free(&c->x);
	al_tensor_free(&c->params);
	free(c->y);
	memset(c, 0, sizeof *c);
}

/* Builds the case's model from its cfg file, with the fixture's initial
 * parameters copied into the flat arena. */
static al_status case_open(const char *name, const char *loss, pcase *c)
{
	memset(c, 0, sizeof *c);
	c->mse = strcmp(loss, "mse") == 0;
	if (!c->mse && strcmp(loss, "xent") != 0)
		return al_err(AL_EINVAL, "MANIFEST: case %s: unknown loss '%s'", name, loss);
	al_tensor logits = {0};
	al_npy lab = {0};
	AL_TRY(al_npy_read_f32(fx_path("%s_x.npy", name), &c->x));
	AL_TRY(al_npy_read_f32(fx_path("%s_params.npy", name), &c->params));
	AL_TRY(al_npy_read_f32(fx_path("%s_logits.npy", name), &logits));
	c->k = logits.ndim == 2 ? (int)logits.shape[1] : 0;
	al_tensor_free(&logits);
	AL_TRY(al_npy_read(fx_path("%s_y.npy", name), &lab));
	al_model_opts o = al_model_opts_default();
	c->n = (int)c->x.shape[0];
	if (c->x.ndim == 2) {
		o.in_c = (int)c->x.shape[1];
		o.in_h = o.in_w = 1;
	} else if (c->x.ndim == 4) {
		o.in_c = (int)c->x.shape[1];
		o.in_h = (int)c->x.shape[2];
		o.in_w = (int)c->x.shape[3];
	} else {
		al_npy_free(&lab);
		return al_err(AL_EFORMAT, "%s_x.npy: expected 2-D or 4-D, got %d-D", name, c->x.ndim);
	}
	c->insz = (size_t)o.in_c * (size_t)o.in_h * (size_t)o.in_w;
	o.classes = c->k;
	if (lab.dtype != AL_NPY_I64 || lab.ndim != 1 || lab.shape[0] != c->n || c->k <= 0) {
		al_npy_free(&lab);
		return al_err(AL_EFORMAT, "%s: labels must be int64 (%d,), logits (%d, K)", name,
			      c->n, c->n);
	}
	c->y = malloc((size_t)c->n * sizeof *c->y);
	if (!c->y) {
		al_npy_free(&lab);
		return al_err(AL_ENOMEM, "out of memory");
	}
	for (int i = 0; i < c->n; i++)
		c->y[i] = (int32_t)((const int64_t *)lab.data)[i];
	al_npy_free(&lab);
	AL_TRY(al_model_create(fx_path("%s.cfg", name), &o, &c->m));
	size_t np = al_model_nparams(c->m);
	if (np != al_tensor_numel(&c->params))
		return al_err(AL_EINVAL,
			      "%s: actlab model has %zu parameters, the PyTorch twin %zu (layout "
			      "differs)",
			      name, np, al_tensor_numel(&c->params));
	memcpy(al_model_params(c->m), c->params.data, np * sizeof(float));
	return AL_OK;
}

static double case_loss(const pcase *c, const float *logits, float *dlogits)
{
	return c->mse ? al_mse_onehot(logits, c->y, c->n, c->k, dlogits)
		      : al_softmax_xent(logits, c->y, c->n, c->k, dlogits);
}

/* Reads a reference array and requires n elements. */
static al_status ref_read(al_tensor *t, size_t n, const char *path)
{
	AL_TRY(al_npy_read_f32(path, t));
	if (al_tensor_numel(t) != n) {
		size_t got = al_tensor_numel(t);
		al_tensor_free(t);
		return al_err(AL_EFORMAT, "%s: %zu values, actlab has %zu", path, got, n);
	}
	return AL_OK;
}

/* One reference comparison: fixture file vs n actlab values. */
static void cmp_fixture(const char *what, const float *a, size_t n, const char *path)
{
	al_tensor r = {0};
	if (ref_read(&r, n, path) != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: %s", what, al_errmsg());
		return;
	}
	close_array(what, a, r.data, n, TOL_MODEL);
	al_tensor_free(&r);
}

/* Forward (training mode), loss, backward, input gradient; running stats and
 * evaluation logits when the model has batchnorm. */
static void check_forward_backward(const mline *ml)
{
	const char *name = ml->name;
	pcase c;
	al_status st = case_open(name, kv_str(ml, "loss", "xent"), &c);
	if (st != AL_OK) {
		test_fail(__FILE__, __LINE__, "%s: %s", name, al_errmsg());
		case_close(&c);
		return;
	}
	char what[128];
	const float *logits = NULL;
	float *dl = malloc((size_t)c.n * (size_t)c.k * sizeof(float));
	if (!dl) {
		test_fail(__FILE__, __LINE__, "out of memory");
		case_close(&c);
		return;
	}
	al_model_want_input_grad(c.m, 1);
	al_model_zero_grad(c.m);
	if ((st = al_model_forward(c.m, c.x.data, c.n, 1, &logits)) != AL_OK)
		goto fail;
	snprintf(what, sizeof what, "%s logits", name);
	cmp_fixture(what, logits, (size_t)c.n * (size_t)c.k, fx_path("%s_logits.npy", name));
	float loss = (float)case_loss(&c, logits, dl);
	snprintf(what, sizeof what, "%s loss", name);
	cmp_fixture(what, &loss, 1, fx_path("%s_loss.npy", name));
	if ((st = al_model_backward(c.m, dl)) != AL_OK)
		goto fail;
	snprintf(what, sizeof what, "%s parameter gradients", name);
	cmp_fixture(what, al_model_grads(c.m), al_model_nparams(c.m),
		    fx_path("%s_grads.npy", name));
	snprintf(what, sizeof what, "%s input gradient", name);
	cmp_fixture(what, al_model_input_grad(c.m), (size_t)c.n * c.insz,
		    fx_path("%s_dx.npy", name));
	if (kv_num(ml, "state", 0) != 0) {
		snprintf(what, sizeof what, "%s running mean/var", name);
		cmp_fixture(what, al_model_state(c.m), al_model_nstate(c.m),
			    fx_path("%s_state.npy", name));
		if ((st = al_model_forward(c.m, c.x.data, c.n, 0, &logits)) != AL_OK)
			goto fail;
		snprintf(what, sizeof what, "%s evaluation logits", name);
		cmp_fixture(what, logits, (size_t)c.n * (size_t)c.k,
			    fx_path("%s_eval_logits.npy", name));
	} else {
		/* trainable activations keep only their input record */
		CHECK(al_model_nstate_format(c.m, 1) == 0, "%s: unexpected model state (%zu floats)", name,
		      al_model_nstate_format(c.m, 1));
	}
	free(dl);
	case_close(&c);
	return;
fail:
	test_fail(__FILE__, __LINE__, "%s: %s", name, al_errmsg());
	free(dl);
	case_close(&c);
}

/* The loss of the case's model line (optim lines do not repeat it). */
static const char *case_loss_kind(const char *name)
{
	for (int i = 0; i < nmanifest; i++)
		if (!strcmp(manifest[i].kind, "model") && !strcmp(manifest[i].name, name))
			return kv_str(&manifest[i], "loss", "xent");
	return "xent";
}

/* Optimizer trajectory: from the initial parameters, `steps` times
 * zero_grad, forward (training), loss, backward, step, project; compares the
 * loss before and the parameters after every step (and running stats). */
static void check_trajectory(const mline *ml)
{
	const char *name = ml->name, *oname = ml->sub;
	char lossk[16];
	snprintf(lossk, sizeof lossk, "%s", case_loss_kind(name));
	pcase c;
	al_optim *opt = NULL;
	al_tensor rp = {0}, rl = {0}, rs = {0};
	float *dl = NULL;
	char what[160];
	al_status st = case_open(name, lossk, &c);
	if (st != AL_OK)
		goto fail;
	int steps = (int)kv_num(ml, "steps", 0);
	al_optim_opts o = al_optim_opts_default();
	if ((st = al_optim_parse_kind(kv_str(ml, "kind", "?"), &o.kind)) != AL_OK)
		goto fail;
	o.lr = kv_num(ml, "lr", o.lr);
	o.momentum = kv_num(ml, "momentum", 0);
	o.wd = kv_num(ml, "wd", 0);
	o.nesterov = (int)kv_num(ml, "nesterov", 0);
	o.beta1 = kv_num(ml, "beta1", o.beta1);
	o.beta2 = kv_num(ml, "beta2", o.beta2);
	o.eps = kv_num(ml, "eps", o.eps);
	o.act_lr = kv_num(ml, "act_lr", -1);
	o.act_wd = kv_num(ml, "act_wd", 0);
	size_t np = al_model_nparams(c.m), ns = al_model_nstate(c.m);
	int has_state = fx_exists(fx_path("%s_%s_state.npy", name, oname));
	if ((st = al_optim_create(&o, np, al_model_nweights(c.m), &opt)) != AL_OK ||
	    (st = ref_read(&rp, (size_t)steps * np, fx_path("%s_%s_params.npy", name, oname))) !=
		    AL_OK ||
	    (st = ref_read(&rl, (size_t)steps, fx_path("%s_%s_loss.npy", name, oname))) != AL_OK)
		goto fail;
	if (has_state &&
	    (st = ref_read(&rs, (size_t)steps * ns, fx_path("%s_%s_state.npy", name, oname))) !=
		    AL_OK)
		goto fail;
	if (steps < 1) {
		st = al_err(AL_EFORMAT, "MANIFEST: %s %s: steps=%d", name, oname, steps);
		goto fail;
	}
	dl = malloc((size_t)c.n * (size_t)c.k * sizeof(float));
	if (!dl) {
		st = al_err(AL_ENOMEM, "out of memory");
		goto fail;
	}
	float *params = al_model_params(c.m);
	for (int s = 0; s < steps; s++) {
		const float *logits;
		al_model_zero_grad(c.m);
		if ((st = al_model_forward(c.m, c.x.data, c.n, 1, &logits)) != AL_OK)
			goto fail;
		float loss = (float)case_loss(&c, logits, dl);
		snprintf(what, sizeof what, "%s/%s loss before step %d", name, oname, s + 1);
		int ok = close_array(what, &loss, rl.data + s, 1, TOL_MODEL);
		if (has_state) {
			snprintf(what, sizeof what, "%s/%s running stats at step %d", name, oname,
				 s + 1);
			ok &= close_array(what, al_model_state(c.m), rs.data + (size_t)s * ns, ns,
					  TOL_MODEL);
		}
		if ((st = al_model_backward(c.m, dl)) != AL_OK)
			goto fail;
		al_optim_step(opt, params, al_model_grads(c.m), 1.0);
		al_model_project(c.m);
		snprintf(what, sizeof what, "%s/%s parameters after step %d", name, oname, s + 1);
		ok &= close_array(what, params, rp.data + (size_t)s * np, np, TOL_MODEL);
		if (!ok)
			break; /* later steps only repeat the divergence */
	}
	goto done;
fail:
	test_fail(__FILE__, __LINE__, "%s/%s: %s", name, oname, al_errmsg());
done:
	free(dl);
	al_tensor_free(&rp);
	al_tensor_free(&rl);
	al_tensor_free(&rs);
	al_optim_free(opt);
	case_close(&c);
}

/* Runs the model lines (forward/backward) and/or optim lines of matching
 * cases; returns how many lines ran. */
static int run_cases(const char *pat, int fwd, int optim)
{
	if (manifest_load() < 0)
		return 0;
	int ran = 0;
	for (int i = 0; i < nmanifest; i++) {
		const mline *ml = &manifest[i];
		if (!name_match(ml->name, pat))
			continue;
		if (fwd && !strcmp(ml->kind, "model")) {
			check_forward_backward(ml);
			ran++;
		} else if (optim && !strcmp(ml->kind, "optim")) {
			check_trajectory(ml);
			ran++;
		}
	}
	return ran;
}

TEST(parity_mlp)
{
	int ran = run_cases("mlp_*", 1, 0);
	CHECK(ran >= 4, "expected the MLP cases (relu, tanh, sigmoid, leaky_relu) in MANIFEST, ran %d",
	      ran);
}

TEST(parity_mlp_optim)
{
	int ran = run_cases("mlp_*", 0, 1);
	CHECK(ran >= 16, "expected >= 16 MLP optimizer trajectories in MANIFEST, ran %d", ran);
}

TEST(parity_mse)
{
	int ran = run_cases("mse_*", 1, 1);
	CHECK(ran >= 1, "expected an MSE case in MANIFEST, ran %d", ran);
}

TEST(parity_cnn)
{
	int ran = run_cases("cnn", 1, 1);
	CHECK(ran >= 2, "expected the cnn case and its trajectory in MANIFEST, ran %d", ran);
}

TEST(parity_cnn_bn)
{
	int ran = run_cases("cnn_bn", 1, 1);
	CHECK(ran >= 2, "expected the cnn_bn case and its trajectory in MANIFEST, ran %d", ran);
}

/* Every model and optimizer line of the manifest belongs to one of the tests
 * above (a new case must match one of their patterns). */
TEST(parity_manifest)
{
	REQUIRE(manifest_load() > 0, "empty MANIFEST");
	static const char *pats[] = {"mlp_*", "mse_*", "cnn", "cnn_bn"};
	int acts = 0;
	for (int i = 0; i < nmanifest; i++) {
		const mline *ml = &manifest[i];
		if (!strcmp(ml->kind, "act")) {
			acts++;
			continue;
		}
		CHECK(!strcmp(ml->kind, "model") || !strcmp(ml->kind, "optim"),
		      "MANIFEST: unknown line kind '%s'", ml->kind);
		int covered = 0;
		for (size_t k = 0; k < sizeof pats / sizeof *pats; k++)
			covered |= name_match(ml->name, pats[k]);
		CHECK(covered, "MANIFEST case '%s' is run by no parity_* test (name it mlp_*, mse_*)",
		      ml->name);
	}
	CHECK(acts > 0, "MANIFEST lists no activations");
}

/* ---- activations ------------------------------------------------------------ */
typedef struct {
	al_act_spec spec;
	al_tensor x, dy, y, dx, p, dp; /* inputs and torch's results */
	int n, c, h, w;
	size_t np;
} pact;

static void act_close(pact *a)
{
	al_tensor_free(&a->x);
	al_tensor_free(&a->dy);
	al_tensor_free(&a->y);
	al_tensor_free(&a->dx);
	al_tensor_free(&a->p);
	al_tensor_free(&a->dp);
}

static al_status act_open(const mline *ml, pact *a)
{
	memset(a, 0, sizeof *a);
	const char *base = ml->sub;
	AL_TRY(al_act_parse(ml->name, &a->spec));
	AL_TRY(al_npy_read_f32(fx_path("act_x.npy"), &a->x));
	AL_TRY(al_npy_read_f32(fx_path("act_dy.npy"), &a->dy));
	AL_TRY(al_npy_read_f32(fx_path("%s_y.npy", base), &a->y));
	AL_TRY(al_npy_read_f32(fx_path("%s_dx.npy", base), &a->dx));
	if (a->x.ndim != 4)
		return al_err(AL_EFORMAT, "act_x.npy: expected (N, C, H, W)");
	size_t n = al_tensor_numel(&a->x);
	if (al_tensor_numel(&a->dy) != n || al_tensor_numel(&a->y) != n ||
	    al_tensor_numel(&a->dx) != n)
		return al_err(AL_EFORMAT, "%s: fixture sizes differ from act_x.npy", base);
	a->n = (int)a->x.shape[0];
	a->c = (int)a->x.shape[1];
	a->h = (int)a->x.shape[2];
	a->w = (int)a->x.shape[3];
	a->np = al_act_groups(&a->spec, a->c, a->h, a->w) * (size_t)al_act_nparams(&a->spec);
	int has_p = kv_num(ml, "params", 0) != 0;
	if (has_p) {
		AL_TRY(al_npy_read_f32(fx_path("%s_p.npy", base), &a->p));
		AL_TRY(al_npy_read_f32(fx_path("%s_dp.npy", base), &a->dp));
		if (al_tensor_numel(&a->p) != a->np || al_tensor_numel(&a->dp) != a->np)
			return al_err(AL_EFORMAT,
				      "%s: %s has %zu parameters on (%d, %d, %d), the fixture %zu",
				      base, a->spec.text, a->np, a->c, a->h, a->w,
				      al_tensor_numel(&a->p));
	} else if (a->np) {
		return al_err(AL_EFORMAT,
			      "%s: %s has %zu parameters but the fixture none (give the entry "
			      "param(...) in gen_parity.py)",
			      base, a->spec.text, a->np);
	}
	return AL_OK;
}

/* Library path: al_act_parse / al_act_forward / al_act_backward. */
TEST(parity_act_lib)
{
	REQUIRE(manifest_load() > 0, "empty MANIFEST");
	int ran = 0;
	for (int i = 0; i < nmanifest; i++) {
		const mline *ml = &manifest[i];
		if (strcmp(ml->kind, "act"))
			continue;
		pact a;
		al_status st = act_open(ml, &a);
		if (st != AL_OK) {
			test_fail(__FILE__, __LINE__, "act %s: %s", ml->name, al_errmsg());
			act_close(&a);
			continue;
		}
		size_t n = al_tensor_numel(&a.x);
		float *y = malloc(n * sizeof(float)), *dx = malloc(n * sizeof(float));
		float *dp = calloc(a.np + 1, sizeof(float));
		float *scratch =
			calloc(al_act_scratch_floats(&a.spec, a.n, a.c, a.h, a.w) + 1, sizeof(float));
		if (!y || !dx || !dp || !scratch) {
			test_fail(__FILE__, __LINE__, "out of memory");
		} else {
			al_rng rng;
			al_rng_seed(&rng, 1);
			const float *params = a.np ? a.p.data : NULL;
			char what[160];
			al_act_forward(&a.spec, params, a.n, a.c, a.h, a.w, a.x.data, y, 0, &rng);
			snprintf(what, sizeof what, "%s y (library)", ml->name);
			close_elems(what, y, a.y.data, n, TOL_ACT);
			al_act_backward(&a.spec, params, a.n, a.c, a.h, a.w, a.x.data, y, a.dy.data, dx,
					dp, scratch, 0, &rng);
			snprintf(what, sizeof what, "%s dx (library)", ml->name);
			close_elems(what, dx, a.dx.data, n, TOL_ACT);
			if (a.np) {
				snprintf(what, sizeof what, "%s dparams (library)", ml->name);
				/* a parameter gradient sums n*h*w (or more) terms */
				close_array(what, dp, a.dp.data, a.np, TOL_MODEL);
			}
		}
		free(y);
		free(dx);
		free(dp);
		free(scratch);
		act_close(&a);
		ran++;
	}
	CHECK(ran >= 6, "expected >= 6 activations in MANIFEST, ran %d", ran);
	/* The catalog entries PyTorch has are listed in gen_parity.py's ACTS;
	 * name the others so a missing fixture is visible. */
	char missing[1024];
	size_t ml = 0;
	missing[0] = 0;
	for (int k = 0; k < al_act_count(); k++) {
		const char *nm = al_act_get(k)->name;
		int found = 0;
		for (int i = 0; i < nmanifest && !found; i++) {
			if (strcmp(manifest[i].kind, "act"))
				continue;
			al_act_spec s;
			found = al_act_parse(manifest[i].name, &s) == AL_OK && s.desc == al_act_get(k);
		}
		if (!found && ml + strlen(nm) + 3 < sizeof missing)
			ml += (size_t)snprintf(missing + ml, sizeof missing - ml, " %s", nm);
	}
	if (ml)
		printf("  note: catalog entries without PyTorch fixtures (not in PyTorch, or "
		       "missing from gen_parity.py's ACTS):%s\n",
		       missing);
}

/* CLI path: `actlab act eval` writes y, dx and dparams as .npy files. */
TEST(parity_act_cli)
{
	REQUIRE(manifest_load() > 0, "empty MANIFEST");
	int ran = 0;
	for (int i = 0; i < nmanifest; i++) {
		const mline *ml = &manifest[i];
		if (strcmp(ml->kind, "act"))
			continue;
		pact a;
		al_status st = act_open(ml, &a);
		if (st != AL_OK) {
			test_fail(__FILE__, __LINE__, "act %s: %s", ml->name, al_errmsg());
			act_close(&a);
			continue;
		}
		ran++;
		const char *tmp = test_tmpdir();
		char cmd[4096], out[4096], pathy[512], pathdx[512], pathdp[512], what[160];
		snprintf(pathy, sizeof pathy, "%s/%s_y.npy", tmp, ml->sub);
		snprintf(pathdx, sizeof pathdx, "%s/%s_dx.npy", tmp, ml->sub);
		snprintf(pathdp, sizeof pathdp, "%s/%s_dp.npy", tmp, ml->sub);
		int l = snprintf(cmd, sizeof cmd,
				 "'%s' act eval --act '%s' --in '%s' --out '%s' --dy '%s' --dx '%s' "
				 "--dparams '%s'",
				 actlab_bin(), ml->name, fx_path("act_x.npy"), pathy,
				 fx_path("act_dy.npy"), pathdx, pathdp);
		if (a.np)
			snprintf(cmd + l, sizeof cmd - (size_t)l, " --params '%s'",
				 fx_path("%s_p.npy", ml->sub));
		int rc = run_cmd(cmd, out, sizeof out);
		CHECK(rc == 0, "%s: exit %d: %s", cmd, rc, out);
		if (rc != 0) {
			act_close(&a);
			continue;
		}
		al_tensor y = {0}, dx = {0};
		al_npy dp = {0};
		size_t n = al_tensor_numel(&a.x);
		if (al_npy_read_f32(pathy, &y) != AL_OK || al_npy_read_f32(pathdx, &dx) != AL_OK ||
		    al_npy_read(pathdp, &dp) != AL_OK) {
			test_fail(__FILE__, __LINE__, "%s: reading the CLI's output: %s", ml->name,
				  al_errmsg());
		} else {
			CHECK(y.ndim == 4 && dx.ndim == 4 &&
				      !memcmp(y.shape, a.x.shape, sizeof y.shape[0] * 4) &&
				      !memcmp(dx.shape, a.x.shape, sizeof dx.shape[0] * 4),
			      "%s: CLI outputs must have the input's shape (N, C, H, W)", ml->name);
			snprintf(what, sizeof what, "%s y (CLI)", ml->name);
			if (al_tensor_numel(&y) == n)
				close_elems(what, y.data, a.y.data, n, TOL_ACT);
			snprintf(what, sizeof what, "%s dx (CLI)", ml->name);
			if (al_tensor_numel(&dx) == n)
				close_elems(what, dx.data, a.dx.data, n, TOL_ACT);
			CHECK(dp.dtype == AL_NPY_F32, "%s: dparams dtype must be float32", ml->name);
			if (!a.np) {
				CHECK(dp.ndim == 1 && dp.shape[0] == 0,
				      "%s: parameter-free entry: dparams must be an empty array, got "
				      "%d-D with %lld values",
				      ml->name, dp.ndim, dp.ndim ? (long long)dp.shape[0] : 1LL);
			} else {
				/* same layout as the parameters: [P] per layer, [G, P] otherwise */
				int same = dp.ndim == a.p.ndim;
				for (int k = 0; same && k < dp.ndim; k++)
					same = dp.shape[k] == a.p.shape[k];
				CHECK(same, "%s: dparams shape differs from the parameters' shape",
				      ml->name);
				snprintf(what, sizeof what, "%s dparams (CLI)", ml->name);
				if (same && dp.dtype == AL_NPY_F32)
					close_array(what, dp.data, a.dp.data, a.np, TOL_MODEL);
			}
		}
		al_tensor_free(&y);
		al_tensor_free(&dx);
		al_npy_free(&dp);
		act_close(&a);
	}
	CHECK(ran >= 6, "expected >= 6 activations in MANIFEST, ran %d", ran);
}

/* ---- freshness --------------------------------------------------------------- */
/* Reads a whole (small) file; returns NULL on failure. */
static unsigned char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	size_t cap = 1 << 16, l = 0, r;
	unsigned char *b = malloc(cap);
	while (b && (r = fread(b + l, 1, cap - l, f)) > 0) {
		l += r;
		if (l == cap) {
			unsigned char *nb = realloc(b, cap * 2);
			if (!nb)
				free(b);
			b = nb;
			cap *= 2;
		}
	}
	fclose(f);
	*len = l;
	return b;
}

/* Every regular file of dir a has a byte-identical twin in dir b; returns
 * the number of files compared. */
static int compare_dirs(const char *a, const char *b, const char *role_a, const char *role_b,
			int bytes)
{
	DIR *d = opendir(a);
	if (!d) {
		test_fail(__FILE__, __LINE__, "cannot list %s", a);
		return 0;
	}
	int count = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL) {
		if (e->d_name[0] == '.')
			continue;
		char pa[1024], pb[1024];
		snprintf(pa, sizeof pa, "%s/%s", a, e->d_name);
		snprintf(pb, sizeof pb, "%s/%s", b, e->d_name);
		struct stat st;
		if (stat(pa, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		count++;
		if (!fx_exists(pb)) {
			test_fail(__FILE__, __LINE__, "%s file %s has no %s counterpart", role_a,
				  e->d_name, role_b);
			continue;
		}
		if (!bytes)
			continue;
		size_t la = 0, lb = 0;
		unsigned char *ba = slurp(pa, &la), *bb = slurp(pb, &lb);
		if (!ba || !bb) {
			test_fail(__FILE__, __LINE__, "cannot read %s or %s", pa, pb);
		} else if (la != lb || memcmp(ba, bb, la) != 0) {
			/* say how far apart the numbers are: staleness or last-bit noise */
			/* PyTorch's float32 kernels may round differently on another
			 * CPU: numbers within the model tolerance are last-bit noise,
			 * anything beyond is a stale fixture. */
			char extra[160] = "";
			int noise = 0;
			al_tensor ta = {0}, tb = {0};
			size_t nl = strlen(e->d_name);
			if (nl > 4 && !strcmp(e->d_name + nl - 4, ".npy") &&
			    al_npy_read_f32(pa, &ta) == AL_OK && al_npy_read_f32(pb, &tb) == AL_OK &&
			    al_tensor_numel(&ta) == al_tensor_numel(&tb)) {
				double md = 0, mr = 0;
				for (size_t i = 0; i < al_tensor_numel(&ta); i++) {
					double dd = fabs((double)ta.data[i] - (double)tb.data[i]);
					md = dd > md || dd != dd ? dd : md;
					mr = fabs((double)ta.data[i]) > mr ? fabs((double)ta.data[i]) : mr;
				}
				noise = md <= TOL_MODEL * (1 + mr);
				snprintf(extra, sizeof extra, " (max |diff| %.3g)", md);
			}
			al_tensor_free(&ta);
			al_tensor_free(&tb);
			if (!noise)
				test_fail(__FILE__, __LINE__,
				  "stale fixture: %s differs from what the generator writes now%s; "
				  "rerun " GEN_CMD " and commit",
				  pa, extra);
		}
		free(ba);
		free(bb);
	}
	closedir(d);
	return count;
}

TEST(parity_fixtures_fresh)
{
	if (!have_torch()) {
		printf("  note: parity_fixtures_fresh skipped: /usr/bin/python3 cannot import torch "
		       "and numpy (Debian's python3-torch); the committed fixtures were used as "
		       "they are\n");
		return;
	}
	char dir[600], cmd[1024], out[8192];
	snprintf(dir, sizeof dir, "%s/parity_fresh", test_tmpdir());
	snprintf(cmd, sizeof cmd, GEN_CMD " --out '%s'", dir);
	int rc = run_cmd(cmd, out, sizeof out);
	REQUIRE(rc == 0, "%s: exit %d: %s", cmd, rc, out);
	int n1 = compare_dirs(FIX_DIR, dir, "committed", "regenerated", 1);
	int n2 = compare_dirs(dir, FIX_DIR, "regenerated", "committed", 0);
	CHECK(n1 == n2 && n1 > 0, "committed %d files, regenerated %d", n1, n2);
}
