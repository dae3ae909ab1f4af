/* test_train.c — the training loop end to end: determinism (same seed,
 * 1 vs 2 threads: bit-identical), exact resume from a checkpoint, learned
 * activation parameters logged per epoch, evaluation metrics, and a smoke
 * test on the real Fashion-MNIST. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/train.h"
#include "test.h"

static const char *net_cfg =
	"[conv]\nfilters = 4\nsize = 3\npad = 1\n[batchnorm]\n[act]\nact = $ACT\n"
	"[maxpool]\nsize = 2\n[dropout]\np = 0.25\n[dense]\nout = 16\nact = $ACT\n"
	"[dense]\nout = $CLASSES\n";

static const char *write_cfg(void)
{
	static char path[512];
	snprintf(path, sizeof path, "%s/net.cfg", test_tmpdir());
	FILE *f = fopen(path, "w");
	if (f) {
		fputs(net_cfg, f);
		fclose(f);
	}
	return path;
}

static al_train_config small_config(const char *out, int threads, int epochs)
{
	al_train_config c = al_train_config_default();
	snprintf(c.model, sizeof c.model, "%s", write_cfg());
	snprintf(c.act, sizeof c.act, "prelu:per=channel");
	snprintf(c.data, sizeof c.data, "synthetic:n=300,test=100,h=8,w=8,classes=4");
	snprintf(c.out, sizeof c.out, "%s", out);
	c.epochs = epochs;
	c.batch = 32;
	c.threads = threads;
	c.seed = 42;
	c.augment_flip = 1;
	c.augment_crop = 1;
	c.opt.kind = AL_OPT_ADAM;
	c.opt.lr = 3e-3;
	c.opt.act_lr = 1e-2;
	return c;
}

static int load_params(const char *dir, al_checkpoint *ck)
{
	char p[600];
	snprintf(p, sizeof p, "%s/ckpt.bin", dir);
	return al_checkpoint_load(p, ck) == AL_OK;
}

static int same_params(const al_checkpoint *a, const al_checkpoint *b)
{
	return a->nparams == b->nparams && a->nstate == b->nstate && a->nopt == b->nopt &&
	       !memcmp(a->params, b->params, a->nparams * 4) &&
	       !memcmp(a->state, b->state, a->nstate * 4) &&
	       !memcmp(a->opt_state, b->opt_state, a->nopt * 4);
}

TEST(train_deterministic_threads)
{
	char d1[600], d2[600], d3[600];
	snprintf(d1, sizeof d1, "%s/det1", test_tmpdir());
	snprintf(d2, sizeof d2, "%s/det2", test_tmpdir());
	snprintf(d3, sizeof d3, "%s/det3", test_tmpdir());
	al_train_result r1, r2, r3;
	al_train_config c = small_config(d1, 1, 2);
	REQUIRE_OK(al_train_run(&c, NULL, &r1));
	c = small_config(d2, 2, 2);
	REQUIRE_OK(al_train_run(&c, NULL, &r2));
	c = small_config(d3, 2, 2);
	REQUIRE_OK(al_train_run(&c, NULL, &r3));
	al_checkpoint a, b, e;
	REQUIRE(load_params(d1, &a) && load_params(d2, &b) && load_params(d3, &e), "ckpt: %s",
		al_errmsg());
	CHECK(same_params(&b, &e), "same seed, same threads: parameters differ");
	CHECK(same_params(&a, &b), "1 vs 2 threads: parameters differ");
	CHECK(r1.last.test_loss == r2.last.test_loss, "test loss %.9g vs %.9g", r1.last.test_loss,
	      r2.last.test_loss);
	/* a different seed gives a different run */
	c = small_config(d3, 2, 2);
	c.seed = 43;
	al_train_result r4;
	REQUIRE_OK(al_train_run(&c, NULL, &r4));
	al_checkpoint f;
	REQUIRE(load_params(d3, &f), "ckpt");
	CHECK(!same_params(&f, &b), "different seeds gave identical parameters");
	al_checkpoint_free(&a);
	al_checkpoint_free(&b);
	al_checkpoint_free(&e);
	al_checkpoint_free(&f);
	al_train_result_free(&r1);
	al_train_result_free(&r2);
	al_train_result_free(&r3);
	al_train_result_free(&r4);
}

TEST(train_resume_exact)
{
	char full[600], part[600], ck[700];
	snprintf(full, sizeof full, "%s/full", test_tmpdir());
	snprintf(part, sizeof part, "%s/part", test_tmpdir());
	al_train_result r;
	al_train_config c = small_config(full, 2, 3);
	REQUIRE_OK(al_train_run(&c, NULL, &r));
	double full_loss = r.last.test_loss;
	al_train_result_free(&r);
	c = small_config(part, 2, 1);
	REQUIRE_OK(al_train_run(&c, NULL, &r));
	al_train_result_free(&r);
	snprintf(ck, sizeof ck, "%s/ckpt.bin", part);
	c = small_config(part, 1, 3); /* resume with another thread count */
	al_train_hooks hk = {.resume = ck};
	REQUIRE_OK(al_train_run(&c, &hk, &r));
	CHECK(r.epochs_done == 2, "resumed run did %d epochs, expected 2", r.epochs_done);
	CHECK(r.last.test_loss == full_loss, "resumed test loss %.9g vs %.9g", r.last.test_loss,
	      full_loss);
	al_train_result_free(&r);
	al_checkpoint a, b;
	REQUIRE(load_params(full, &a) && load_params(part, &b), "ckpt: %s", al_errmsg());
	CHECK(a.epoch == 3 && b.epoch == 3, "epochs %d %d", a.epoch, b.epoch);
	CHECK(same_params(&a, &b), "resumed parameters differ from the uninterrupted run");
	al_checkpoint_free(&a);
	al_checkpoint_free(&b);
	/* resuming into a different model is refused */
	c = small_config(part, 1, 4);
	snprintf(c.model, sizeof c.model, "mlp:8");
	c.augment_crop = 0;
	CHECK(al_train_run(&c, &hk, &r) == AL_EINVAL && strstr(al_errmsg(), "different model"),
	      "resume into another model: %s", al_errmsg());
	al_train_result_free(&r);
}

/* act_params.csv holds every learned parameter per layer and epoch. */
TEST(train_act_params_logged)
{
	char dir[600], path[700];
	snprintf(dir, sizeof dir, "%s/plog", test_tmpdir());
	al_train_result r;
	al_train_config c = small_config(dir, 2, 2);
	REQUIRE_OK(al_train_run(&c, NULL, &r));
	al_train_result_free(&r);
	snprintf(path, sizeof path, "%s/act_params.csv", dir);
	FILE *f = fopen(path, "r");
	REQUIRE(f, "no %s", path);
	char line[256];
	int rows[3] = {0};
	double first = NAN, last = NAN;
	REQUIRE(fgets(line, sizeof line, f) && strstr(line, "epoch,layer,act,group,param,value"),
		"header: %s", line);
	while (fgets(line, sizeof line, f)) {
		int ep;
		char layer[64], act[64], param[32];
		size_t g;
		double v;
		if (sscanf(line, "%d,%63[^,],%63[^,],%zu,%31[^,],%lf", &ep, layer, act, &g, param, &v) !=
		    6)
			continue;
		if (ep >= 0 && ep <= 2)
			rows[ep]++;
		if (g == 0 && strcmp(param, "alpha") == 0 && strcmp(layer, "act1") == 0) {
			if (ep == 0)
				first = v;
			last = v;
		}
	}
	fclose(f);
	/* two prelu sites: conv (4 channels) and dense (16 features, per channel) */
	CHECK(rows[0] == 20 && rows[1] == 20 && rows[2] == 20, "rows per epoch %d %d %d", rows[0],
	      rows[1], rows[2]);
	CHECK(first == 0.25, "initial alpha %g", first);
	CHECK(last != first, "alpha did not move (act-lr 1e-2): %g", last);
	snprintf(path, sizeof path, "%s/log.csv", dir);
	f = fopen(path, "r");
	REQUIRE(f, "no log.csv");
	int n = 0;
	while (fgets(line, sizeof line, f))
		n++;
	fclose(f);
	CHECK(n == 3, "log.csv has %d lines, expected header + 2 epochs", n);
}

TEST(train_eval_metrics)
{
	/* a model that predicts class 0 for everything: accuracy = share of
	 * class 0, macro precision = (1/K) * share of class 0 */
	al_dataset tr, te;
	REQUIRE_OK(al_data_load("synthetic:n=40,test=40,classes=4,h=4,w=4", &tr, &te));
	al_model_opts o = al_model_opts_default();
	o.in_c = 1;
	o.in_h = 4;
	o.in_w = 4;
	o.classes = 4;
	al_model *m;
	REQUIRE_OK(al_model_create_text("[dense]\nout = 4\n", "t", &o, &m));
	float *p = al_model_params(m);
	memset(p, 0, al_model_nparams(m) * 4);
	p[16 * 4] = 5; /* bias of class 0 */
	al_norm nn = al_norm_none(1);
	al_eval_stats ev;
	REQUIRE_OK(al_evaluate(m, &te, NULL, te.n, &nn, 7, AL_LOSS_XENT, &ev));
	int c0 = 0;
	for (int i = 0; i < te.n; i++)
		c0 += te.labels[i] == 0;
	CHECK_NEAR(ev.acc, (double)c0 / te.n, 1e-12);
	CHECK_NEAR(ev.macro_precision, (double)c0 / te.n / 4, 1e-12);
	CHECK_NEAR(ev.macro_recall, 0.25, 1e-12);
	al_model_free(m);
	al_dataset_free(&tr);
	al_dataset_free(&te);
}

TEST(train_fashion_mnist_smoke)
{
	FILE *f = fopen("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", "rb");
	REQUIRE(f, "Fashion-MNIST is not installed (scripts/install-deps.sh)");
	fclose(f);
	al_train_config c = al_train_config_default();
	snprintf(c.model, sizeof c.model, "lenet5");
	snprintf(c.data, sizeof c.data, "fashion-mnist:train=12000,test=2000");
	c.epochs = 1;
	c.opt.lr = 0.01;
	c.opt.momentum = 0.9;
	c.threads = 2;
	al_train_result r;
	REQUIRE_OK(al_train_run(&c, NULL, &r));
	CHECK(r.last.test_acc > 0.65, "LeNet-5 after 1 epoch on 12k images: accuracy %.4f (chance 0.1)",
	      r.last.test_acc);
	CHECK(r.params == 61706, "params %zu", r.params);
	CHECK(r.img_per_s > 0 && r.peak_rss_mb > 0, "img/s %g rss %g", r.img_per_s, r.peak_rss_mb);
	al_train_result_free(&r);
}
