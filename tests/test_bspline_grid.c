/* test_bspline_grid.c — the B-spline grid update (bspline:update=N): the
 * refit keeps the spline over the new grid (exactly when the old knots are
 * new knots), the trimmed range comes from the histogram, nothing happens
 * when it should not; through training, the grid moves at the first N
 * epoch ends, the checkpoint keeps it (evaluation reproduces the run),
 * format-2 checkpoints load with the spec's grid, distill and the parse
 * errors. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "act/learned.h"
#include "actlab/act.h"
#include "actlab/core.h"
#include "actlab/nn.h"
#include "actlab/train.h"
#include "test.h"

static double spline_at(const al_act_spec *s, const double *h, const float *pf, double x)
{
	double p[AL_LN_MAXP], g[AL_LN_MAXP], d;
	int P = al_act_nparams(s);
	for (int k = 0; k < P; k++)
		p[k] = pf[k];
	return s->desc->ref(h, p, x, &d, g);
}

/* a histogram of `count` values spread evenly over bins [b0, b1] of [lo, hi] */
static void flat_record(al_act_record *r, double *bins, double lo, double hi, int b0, int b1)
{
	memset(bins, 0, sizeof(double) * AL_ACT_HIST_BINS);
	r->lo = lo;
	r->hi = hi;
	r->count = 0;
	for (int b = b0; b <= b1; b++) {
		bins[b] = 100;
		r->count += 100;
	}
	r->bins = bins;
	r->nbins = AL_ACT_HIST_BINS;
}

TEST(bspline_grid_refit)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("bspline:G=4,k=3,update=1", &s));
	REQUIRE(s.desc->t_epoch_end && s.desc->n_state_hyper == 2, "bspline rewrites its grid");
	int P = al_act_nparams(&s), nc = P - 2;
	enum { GR = 3 };
	float p[GR * AL_LN_MAXP], p0[GR * AL_LN_MAXP];
	al_rng r;
	al_rng_seed(&r, 5);
	for (int i = 0; i < GR * P; i++)
		p[i] = (float)(2 * al_rng_uniform(&r) - 1);
	memcpy(p0, p, sizeof p);
	double h0[AL_ACT_MAXH], bins[AL_ACT_HIST_BINS];
	memcpy(h0, s.hyper, sizeof h0);
	al_act_record rec;
	/* inputs seen on [-1, 1]: knots -2..2 step 1 -> -1..1 step 0.5, the
	 * old knots inside [-1, 1] are new knots: the spline is kept exactly */
	flat_record(&rec, bins, -1, 1, 0, AL_ACT_HIST_BINS - 1);
	int changed = 0;
	REQUIRE_OK(s.desc->t_epoch_end(s.hyper, 1, &rec, p, GR, &changed));
	CHECK(changed && s.hyper[AL_BS_LO] == -1 && s.hyper[AL_BS_HI] == 1, "grid [%g, %g]",
	      s.hyper[AL_BS_LO], s.hyper[AL_BS_HI]);
	double worst = 0;
	for (int g = 0; g < GR; g++) {
		CHECK(p[g * P + nc] == p0[g * P + nc] && p[g * P + nc + 1] == p0[g * P + nc + 1],
		      "group %d: wb, ws unchanged", g);
		for (int i = 0; i <= 400; i++) {
			double x = -1 + 2.0 * i / 400;
			double e = fabs(spline_at(&s, s.hyper, p + g * P, x) -
					spline_at(&s, h0, p0 + g * P, x));
			worst = e > worst ? e : worst;
		}
	}
	CHECK(worst < 1e-5, "refit onto a refined grid changes the function by %g", worst);
	/* the float kernel follows the new grid */
	float xs[5] = {-0.9f, -0.3f, 0.f, 0.45f, 0.99f}, ys[5];
	al_act_spec one = s;
	one.per = AL_PER_LAYER;
	al_act_forward(&one, p, 1, 5, 1, 1, xs, ys, 0, NULL);
	for (int i = 0; i < 5; i++)
		CHECK(fabs(ys[i] - spline_at(&s, s.hyper, p, xs[i])) < 1e-5, "kernel at %g: %g vs %g",
		      (double)xs[i], (double)ys[i], spline_at(&s, s.hyper, p, xs[i]));

	/* a wider range: the old spline (zero beyond its extended grid) is fitted
	 * in the least-squares sense; where the inputs are dense it stays close */
	memcpy(p, p0, sizeof p);
	memcpy(s.hyper, h0, sizeof h0);
	flat_record(&rec, bins, -6, 6, 0, AL_ACT_HIST_BINS - 1);
	REQUIRE_OK(s.desc->t_epoch_end(s.hyper, 1, &rec, p, GR, &changed));
	CHECK(changed && s.hyper[AL_BS_LO] == -6 && s.hyper[AL_BS_HI] == 6, "wide grid [%g, %g]",
	      s.hyper[AL_BS_LO], s.hyper[AL_BS_HI]);
	double se = 0, so = 0;
	for (int i = 0; i <= 600; i++) {
		double x = -6 + 12.0 * i / 600;
		double a = spline_at(&s, s.hyper, p, x), b = spline_at(&s, h0, p0, x);
		se += (a - b) * (a - b);
		so += b * b;
	}
	CHECK(se < 0.05 * so, "wide refit: relative squared error %g", se / so);

	/* no update: after the last update epoch, without a record, same grid */
	memcpy(p, p0, sizeof p);
	memcpy(s.hyper, h0, sizeof h0);
	flat_record(&rec, bins, -1, 1, 0, AL_ACT_HIST_BINS - 1);
	REQUIRE_OK(s.desc->t_epoch_end(s.hyper, 2, &rec, p, GR, &changed));
	CHECK(!changed && s.hyper[AL_BS_LO] == -2, "epoch 2 of update=1 changed the grid");
	rec.count = 0;
	REQUIRE_OK(s.desc->t_epoch_end(s.hyper, 1, &rec, p, GR, &changed));
	CHECK(!changed, "an empty record changed the grid");
	flat_record(&rec, bins, -2, 2, 0, AL_ACT_HIST_BINS - 1);
	REQUIRE_OK(s.desc->t_epoch_end(s.hyper, 1, &rec, p, GR, &changed));
	CHECK(!changed && !memcmp(p, p0, sizeof p), "the same grid refitted the coefficients");
}

TEST(bspline_grid_trim)
{
	al_act_spec s;
	REQUIRE_OK(al_act_parse("bspline:update=1,trim=0.01", &s));
	int P = al_act_nparams(&s);
	float p[AL_LN_MAXP] = {0};
	p[P - 1] = 1;
	double bins[AL_ACT_HIST_BINS];
	al_act_record rec;
	/* [-10, 10] in 60 bins of 1/3: 600 values on bins 27..32 ([-1, 1]),
	 * 3 outliers in each end bin */
	flat_record(&rec, bins, -10, 10, 27, 32);
	bins[0] = bins[AL_ACT_HIST_BINS - 1] = 3;
	rec.count += 6;
	int changed = 0;
	REQUIRE_OK(s.desc->t_epoch_end(s.hyper, 1, &rec, p, 1, &changed));
	/* 1% of 606 = 6.06 values: 3 in the end bin, 3.06 of bin 27's 100 */
	double want = (double)(float)(-10 + (27 + 3.06 / 100) * 20.0 / 60);
	CHECK(changed && fabs(s.hyper[AL_BS_LO] - want) < 1e-6 &&
		      fabs(s.hyper[AL_BS_HI] + want) < 1e-6,
	      "trimmed grid [%g, %g], want [%g, %g]", s.hyper[AL_BS_LO], s.hyper[AL_BS_HI], want,
	      -want);
}

TEST(bspline_grid_parse_errors)
{
	static const char *bad[] = {"bspline:update=-1", "bspline:update=1.5", "bspline:trim=0.5",
				    "bspline:trim=-0.1"};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		al_act_spec s;
		al_status st = al_act_parse(bad[i], &s);
		CHECK(st == AL_EINVAL && strstr(al_errmsg(), bad[i] + 8), "%s: %s", bad[i],
		      al_errmsg());
	}
}

/* the grid of the first bspline layer of a checkpoint */
static void ckpt_grid(const char *path, unsigned *version, double *lo, double *hi, double *count)
{
	al_checkpoint ck;
	al_model *m = NULL;
	*lo = *hi = NAN;
	if (al_checkpoint_load(path, &ck) != AL_OK)
		return;
	*version = ck.version;
	if (al_checkpoint_model(&ck, &m) == AL_OK) {
		const char *nm;
		const al_act_spec *sp;
		const float *pp;
		size_t G;
		al_model_act_layer(m, 0, &nm, &sp, &pp, &G);
		*lo = sp->hyper[AL_BS_LO];
		*hi = sp->hyper[AL_BS_HI];
		*count = al_model_act_layer_hist(m, 0, NULL, NULL, NULL);
		al_model_free(m);
	}
	al_checkpoint_free(&ck);
}

static double json_num(const char *s, const char *key)
{
	const char *p = strstr(s, key);
	return p ? atof(p + strlen(key)) : NAN;
}

TEST(bspline_grid_training)
{
	static char out[65536];
	char cmd[1024], dir[600], ck[700];
	snprintf(dir, sizeof dir, "%s/bsgrid", test_tmpdir());
	snprintf(ck, sizeof ck, "%s/ckpt.bin", dir);
	snprintf(cmd, sizeof cmd,
		 "%s train --act bspline:update=2 --data synthetic --model mlp:16 --epochs 3 "
		 "--seed 3 --out %s",
		 actlab_bin(), dir);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "train: %.500s", out);
	/* two updates, reported; none at epoch 3 */
	const char *a = strstr(out, "(bspline): lo "), *b = a ? strstr(a + 1, "(bspline): lo ") : NULL;
	CHECK(a && b && !strstr(b + 1, "(bspline): lo "), "two grid updates: %.500s", out);
	const char *e3 = strstr(out, "epoch 3/3");
	CHECK(e3 && b && b < e3, "the updates come before epoch 3: %.500s", out);
	unsigned ver = 0;
	double lo, hi, cnt = 0;
	ckpt_grid(ck, &ver, &lo, &hi, &cnt);
	CHECK(ver == 3 && cnt > 0, "format %u, %g values recorded", ver, cnt);
	CHECK(lo != -2 && hi != 2 && lo < hi, "grid in the checkpoint [%g, %g]", lo, hi);
	char want[128];
	snprintf(want, sizeof want, "lo %g, hi %g", lo, hi);
	CHECK(b && !strncmp(strstr(b, "lo "), want, strlen(want)),
	      "the checkpoint holds the last update (%s): %.200s", want, b ? b : "");
	/* evaluation of the checkpoint reproduces the run's last test loss */
	double run_loss = json_num(e3 ? e3 : "", "test loss ");
	snprintf(cmd, sizeof cmd, "%s eval --ckpt %s --json", actlab_bin(), ck);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "eval: %.500s", out);
	double ev_loss = json_num(out, "\"test_loss\": ");
	CHECK(fabs(ev_loss - run_loss) < 1e-4, "eval test loss %g, run %g", ev_loss, run_loss);

	/* resume continues from the updated grid: a 4th epoch does not update */
	snprintf(cmd, sizeof cmd,
		 "%s train --act bspline:update=2 --data synthetic --model mlp:16 --epochs 4 "
		 "--seed 3 --out %s --resume %s",
		 actlab_bin(), dir, ck);
	REQUIRE(run_cmd(cmd, out, sizeof out) == 0, "resume: %.500s", out);
	CHECK(!strstr(out, "(bspline): lo "), "no update after resuming at epoch 3: %.300s", out);
	double lo4, hi4;
	ckpt_grid(ck, &ver, &lo4, &hi4, &cnt);
	CHECK(lo4 == lo && hi4 == hi, "grid after resuming [%g, %g], was [%g, %g]", lo4, hi4, lo, hi);

	/* distill reads the spline on its updated grid */
	char dst[700];
	snprintf(dst, sizeof dst, "%s/distilled.ckpt", dir);
	snprintf(cmd, sizeof cmd, "%s distill --ckpt %s --to lut:size=64 --out %s", actlab_bin(), ck,
		 dst);
	CHECK(run_cmd(cmd, out, sizeof out) == 0, "distill: %.500s", out);
}

/* a format-2 checkpoint (input records, no grid in the state) loads with
 * the spec's grid and its record */
TEST(bspline_grid_format2)
{
	static const char *cfg = "[dense]\nout = 4\n\n[act]\nact = bspline:update=1\n\n"
				 "[dense]\nout = 2\n";
	al_model_opts o = al_model_opts_default();
	o.in_c = 3;
	o.in_h = o.in_w = 1;
	o.classes = 2;
	o.seed = 3;
	al_model *m = NULL;
	REQUIRE_OK(al_model_create_text(cfg, "grid.cfg", &o, &m));
	REQUIRE(al_model_nstate(m) == al_model_nstate_format(m, 2) + 2, "two grid values in state");
	float x[6] = {0.5f, -1, 3, 2, 0, -4};
	const float *logits;
	al_rng r;
	al_rng_seed(&r, 1);
	al_model_set_rng(m, &r);
	REQUIRE_OK(al_model_forward(m, x, 2, 1, &logits));
	REQUIRE_OK(al_model_epoch_end(m, 1, NULL, NULL));
	const char *nm;
	const al_act_spec *sp;
	const float *pp;
	size_t G;
	al_model_act_layer(m, 0, &nm, &sp, &pp, &G);
	double rlo, rhi;
	double cnt = al_model_act_layer_hist(m, 0, &rlo, &rhi, NULL);
	CHECK(cnt == 8 && sp->hyper[AL_BS_LO] == rlo && sp->hyper[AL_BS_HI] == rhi,
	      "grid [%g, %g] = record [%g, %g]", sp->hyper[AL_BS_LO], sp->hyper[AL_BS_HI], rlo, rhi);

	al_checkpoint ck = {0};
	ck.config = al_train_config_default();
	ck.cfg_text = (char *)al_model_cfg_text(m);
	ck.norm = al_norm_none(3);
	ck.in_c = 3;
	ck.in_h = ck.in_w = 1;
	ck.classes = 2;
	ck.params = al_model_params(m);
	ck.nparams = al_model_nparams(m);
	ck.state = al_model_state(m);
	ck.nstate = al_model_nstate_format(m, 2); /* the record, not the grid */
	char path[1024];
	snprintf(path, sizeof path, "%s/grid2.ckpt", test_tmpdir());
	REQUIRE_OK(al_checkpoint_save(path, &ck));
	FILE *f = fopen(path, "r+b");
	REQUIRE(f, "reopen %s", path);
	fseek(f, 0, SEEK_END);
	long sz = ftell(f);
	unsigned char *buf = malloc((size_t)sz);
	fseek(f, 0, SEEK_SET);
	REQUIRE(buf && fread(buf, 1, (size_t)sz, f) == (size_t)sz, "read back");
	uint32_t two = 2, crc;
	memcpy(buf + 8, &two, 4);
	crc = al_crc32(0, buf, (size_t)sz - 4);
	memcpy(buf + sz - 4, &crc, 4);
	fseek(f, 0, SEEK_SET);
	REQUIRE(fwrite(buf, 1, (size_t)sz, f) == (size_t)sz, "rewrite");
	fclose(f);
	free(buf);
	al_checkpoint ld;
	al_model *m2 = NULL;
	REQUIRE_OK(al_checkpoint_load(path, &ld));
	CHECK(ld.version == 2, "read as format 2: %u", ld.version);
	REQUIRE_OK(al_checkpoint_model(&ld, &m2));
	al_model_act_layer(m2, 0, &nm, &sp, &pp, &G);
	double lo2, hi2;
	CHECK(al_model_act_layer_hist(m2, 0, &lo2, &hi2, NULL) == cnt && lo2 == rlo && hi2 == rhi,
	      "format 2: the record survives");
	CHECK(sp->hyper[AL_BS_LO] == -2 && sp->hyper[AL_BS_HI] == 2, "format 2: spec grid [%g, %g]",
	      sp->hyper[AL_BS_LO], sp->hyper[AL_BS_HI]);
	al_model_free(m2);
	al_checkpoint_free(&ld);
	al_model_free(m);
}
