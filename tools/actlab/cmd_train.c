/* cmd_train.c — `actlab train`, `actlab eval` and `actlab models`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actlab/data.h"
#include "actlab/dist.h"
#include "actlab/nn.h"
#include "actlab/train.h"
#include "cli.h"

static void train_help(FILE *f)
{
	al_train_config d = al_train_config_default();
	fprintf(f,
		"usage: actlab train [options]\n\n"
		"  --model NAME|FILE.cfg  zoo name or cfg file (default %s; `actlab models`)\n"
		"  --act SPEC             activation at $ACT sites (default %s; `actlab act list`)\n"
		"  --act-sites S          all | first | none | 1,3,... (default %s)\n"
		"  --width F              multiply the model's literal conv filter counts and\n"
		"                         dense widths by F (default 1; --match-params in sweeps)\n"
		"  --data SPEC            fashion-mnist | mnist:DIR | idx:DIR | cifar10:DIR |\n"
		"                         cifar100:DIR | folder:DIR[,size=S] | csv:FILE |\n"
		"                         synthetic[:...];\n"
		"                         options :train=N,test=N (default %s; docs/formats.md)\n"
		"                         images are adapted to the input a model's [net] declares\n"
		"  --kfold K --fold I     K-fold cross-validation of the training part: fold I\n"
		"                         (0-based) is the test set (--kfold-seed N: fold assignment,\n"
		"                         default 1)\n"
		"  --skip-bad             skip unreadable or corrupt images with a warning\n"
		"  --epochs N             (default %d)\n"
		"  --batch N              (default %d)\n"
		"  --opt sgd|adam|adamw   (default %s)\n"
		"  --lr X                 weights learning rate (default %g)\n"
		"  --momentum X           SGD momentum (default %g)\n"
		"  --nesterov             Nesterov momentum\n"
		"  --wd X                 weight decay of the weights group (default %g)\n"
		"  --beta1 X --beta2 X --eps X   Adam constants (default %g, %g, %g)\n"
		"  --act-lr X             activation-parameter learning rate (default: --lr)\n"
		"  --act-wd X             activation-parameter weight decay (default %g)\n"
		"  --sched S              constant | step:N[,gamma=G] | multistep:E1,E2[,gamma=G] |\n"
		"                         cosine[:min=F] (default %s)\n"
		"  --warmup E             linear warm-up epochs (default 0)\n"
		"  --loss xent|mse        (default xent)\n"
		"  --norm standard|none   per-channel standardisation from the training set\n"
		"                         (default %s)\n"
		"  --val F                stratified validation fraction of the training set\n"
		"                         (default 0)\n"
		"  --crop P --flip        augmentation: random crop after padding P, h-flip\n"
		"  --seed N               (default %llu)\n"
		"  --threads N            OpenMP threads (default %d)\n"
		"  --eval-batch N         evaluation batch (default %d)\n"
		"  --out DIR              run folder: log.csv, act_params.csv, ckpt.bin\n"
		"  --resume FILE          continue from a checkpoint (bit-identical)\n"
		"  --json                 end with one JSON object on stdout\n"
		"  --quiet                no per-epoch lines\n\n"
		"Under mpirun/srun (./actlab-mpi, docs/scale-out.md) the run is data-parallel:\n"
		"--batch is the global batch, split over the ranks; rank 0 logs and writes --out.\n"
		"  --sync-bn              batch-norm statistics over the global batch (default:\n"
		"                         per rank)\n"
		"  --check-sync           check after every step that all ranks hold the same\n"
		"                         parameters (costs a hash of them per step)\n",
		d.model, d.act, d.act_sites, d.data, d.epochs, d.batch, al_optim_kind_name(d.opt.kind),
		d.opt.lr, d.opt.momentum, d.opt.wd, d.opt.beta1, d.opt.beta2, d.opt.eps, d.opt.act_wd,
		d.sched, d.norm, (unsigned long long)d.seed, d.threads, d.eval_batch);
}

static void print_json(const al_train_config *c, const al_train_result *r)
{
	printf("{\"model\": ");
	json_string(stdout, c->model);
	printf(", \"act\": ");
	json_string(stdout, c->act);
	printf(", \"data\": ");
	json_string(stdout, c->data);
	printf(", \"seed\": %llu, \"threads\": %d", (unsigned long long)c->seed, c->threads);
	printf(", \"test_acc\": %.6f, \"test_loss\": %.6f, \"macro_precision\": %.6f",
	       r->last.test_acc, r->last.test_loss, r->last.macro_precision);
	printf(", \"train_loss\": %.6f, \"train_acc\": %.6f", r->last.train_loss, r->last.train_acc);
	printf(", \"img_per_s\": %.1f, \"params\": %zu, \"peak_rss_mb\": %.1f, \"epochs\": %d, "
	       "\"seconds\": %.3f",
	       r->img_per_s, r->params, r->peak_rss_mb, r->epochs_done, r->seconds);
	printf(", \"history\": [");
	for (int i = 0; i < r->epochs_done; i++) {
		const al_epoch_stats *e = &r->epochs[i];
		printf("%s{\"epoch\": %d, \"train_loss\": %.6f, \"train_acc\": %.6f, \"test_loss\": "
		       "%.6f, \"test_acc\": %.6f, \"macro_precision\": %.6f, \"img_per_s\": %.1f}",
		       i ? ", " : "", e->epoch, e->train_loss, e->train_acc, e->test_loss, e->test_acc,
		       e->macro_precision, e->img_per_s);
	}
	printf("]}\n");
}

int cmd_train(int argc, char **argv)
{
	al_train_config c = al_train_config_default();
	al_train_hooks hk = {0};
	hk.progress = isatty(2);
	hk.verbose = 1;
	int json = 0;
	al_dist_train_opts dopt = {0};
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!a.name[0])
			return cli_usage_error("train: unexpected argument '%s'", a.value);
		if (!strcmp(a.name, "sync_bn") || !strcmp(a.name, "check_sync")) {
			if (a.value)
				return cli_usage_error("--%s is a flag", a.name);
			if (a.name[0] == 's')
				dopt.sync_bn = 1;
			else
				dopt.check_sync = 1;
			continue;
		}
		if (!strcmp(a.name, "help") || !strcmp(a.name, "h")) {
			train_help(stdout);
			return 0;
		}
		if (!strcmp(a.name, "json")) {
			json = 1;
			continue;
		}
		if (!strcmp(a.name, "quiet")) {
			hk.verbose = 0;
			hk.progress = 0;
			continue;
		}
		if (!strcmp(a.name, "resume")) {
			if (!a.value)
				return cli_usage_error("--resume needs a checkpoint file");
			hk.resume = a.value;
			continue;
		}
		if (!strcmp(a.name, "nesterov") || !strcmp(a.name, "flip") ||
		    !strcmp(a.name, "skip_bad")) {
			if (a.value && strcmp(a.value, "0") && strcmp(a.value, "1")) {
				/* a bare flag followed by a positional: put it back */
				return cli_usage_error("--%s is a flag (or give 0/1)", a.name);
			}
			if (al_train_config_set(&c, a.name, a.value ? a.value : "1") != AL_OK)
				return cli_usage_error("%s", al_errmsg());
			continue;
		}
		if (!a.value)
			return cli_usage_error("--%s needs a value (see actlab train --help)", a.name);
		if (al_train_config_set(&c, a.name, a.value) != AL_OK)
			return cli_usage_error("--%s: %s", a.name, al_errmsg());
	}
	al_act_spec probe;
	if (al_act_parse(c.act, &probe) != AL_OK)
		return cli_usage_error("--act: %s", al_errmsg());
	al_sched sched = al_sched_default();
	if (al_sched_parse(c.sched, &sched) != AL_OK)
		return cli_usage_error("--sched: %s", al_errmsg());
	if (cli_rank != 0) { /* rank 0 speaks for the job */
		hk.verbose = hk.progress = 0;
		json = 0;
	}
	al_train_result r;
	al_status st = al_dist_train(&c, &hk, &dopt, &r);
	if (st != AL_OK) {
		al_train_result_free(&r);
		if (st == AL_EUNSUPPORTED) {
			fprintf(stderr, "actlab: error: %s\n", al_errmsg());
			return EXIT_USAGE;
		}
		return cli_runtime_error(st);
	}
	if (json)
		print_json(&c, &r);
	else if (hk.verbose)
		fprintf(stderr, "final test accuracy %.4f (%.0f img/s, %zu parameters, %.1fs)\n",
			r.last.test_acc, r.img_per_s, r.params, r.seconds);
	al_train_result_free(&r);
	return 0;
}

int cmd_eval(int argc, char **argv)
{
	const char *ckpt = NULL, *data = NULL;
	int json = 0, batch = 500, threads = 2;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			puts("usage: actlab eval --ckpt FILE [--data SPEC] [--batch N] [--threads N] "
			     "[--json]\n\n"
			     "Evaluates a checkpoint on the test part of SPEC (default: the data set it "
			     "was trained on,\nits k-fold test fold included), with the normalisation "
			     "stored in the checkpoint. "
			     "Defaults: --batch 500 --threads 2.");
			return 0;
		}
		if (!strcmp(a.name, "json")) {
			json = 1;
			continue;
		}
		if (!a.name[0] || !a.value)
			return cli_usage_error("eval: bad argument '%s'", a.name[0] ? a.name : a.value);
		if (!strcmp(a.name, "ckpt"))
			ckpt = a.value;
		else if (!strcmp(a.name, "data"))
			data = a.value;
		else if (!strcmp(a.name, "batch"))
			batch = atoi(a.value);
		else if (!strcmp(a.name, "threads"))
			threads = atoi(a.value);
		else
			return cli_usage_error("eval: unknown option --%s", a.name);
	}
	if (!ckpt)
		return cli_usage_error("eval needs --ckpt FILE");
	if (batch < 1 || threads < 1)
		return cli_usage_error("eval: --batch and --threads must be >= 1");
	al_set_threads(threads);
	al_checkpoint ck;
	al_status st = al_checkpoint_load(ckpt, &ck);
	if (st != AL_OK)
		return cli_runtime_error(st);
	al_model *m = NULL;
	al_dataset tr = {0}, te = {0};
	al_eval_stats ev;
	st = al_checkpoint_model(&ck, &m);
	if (st == AL_OK)
		st = data ? al_data_load(data, &tr, &te) : al_train_load_data(&ck.config, &tr, &te);
	if (st == AL_OK && (te.c != ck.in_c || te.h != ck.in_h || te.w != ck.in_w)) {
		/* the same adaptation training applied (padding, channels) */
		char what[320];
		st = al_dataset_adapt(&te, ck.in_c, ck.in_h, ck.in_w, what, sizeof what);
		if (st != AL_OK)
			st = al_err_ctx(st, "data does not match the checkpoint's %dx%dx%d input",
					ck.in_c, ck.in_h, ck.in_w);
		else
			fprintf(stderr, "note: %s\n", what);
	}
	double t0 = al_now(), secs = 0;
	if (st == AL_OK) {
		st = al_evaluate(m, &te, NULL, te.n, &ck.norm, batch, ck.config.loss, &ev);
		secs = al_now() - t0; /* inference time (forward passes and scoring) */
		secs = secs > 1e-9 ? secs : 1e-9;
	}
	if (st == AL_OK) {
		if (json)
			printf("{\"test_acc\": %.6f, \"test_loss\": %.6f, \"macro_precision\": %.6f, "
			       "\"weighted_precision\": %.6f, \"macro_recall\": %.6f, \"macro_f1\": "
			       "%.6f, \"samples\": %d, \"epoch\": %d, \"seconds\": %.4f, "
			       "\"img_per_s\": %.1f}\n",
			       ev.acc, ev.loss, ev.macro_precision, ev.weighted_precision,
			       ev.macro_recall, ev.macro_f1, te.n, ck.epoch, secs, te.n / secs);
		else
			printf("test accuracy %.4f  loss %.4f  macro precision %.4f  (%d samples, "
			       "epoch %d, %.0f img/s)\n",
			       ev.acc, ev.loss, ev.macro_precision, te.n, ck.epoch, te.n / secs);
	}
	al_model_free(m);
	al_dataset_free(&tr);
	al_dataset_free(&te);
	al_checkpoint_free(&ck);
	return st == AL_OK ? 0 : cli_runtime_error(st);
}

/* `actlab models NAME [--act SPEC] [--act-sites S]`: the layer table of one
 * model at its default input, with the $ACT site numbers. */
static int model_summary(const char *name, const char *act, const char *sites)
{
	al_model_opts o = al_model_opts_default();
	al_model *m = NULL;
	al_status st = al_model_defaults(name, &o.in_c, &o.in_h, &o.in_w, &o.classes);
	o.no_init = 1;
	if (act)
		o.act = act;
	if (sites)
		o.act_sites = sites;
	if (st == AL_OK)
		st = al_model_create(name, &o, &m);
	if (st != AL_OK)
		return cli_runtime_error(st);
	printf("%s: input %dx%dx%d, %d classes\n", name, o.in_c, o.in_h, o.in_w, o.classes);
	al_model_summary(m, stdout);
	al_model_free(m);
	return 0;
}

int cmd_models(int argc, char **argv)
{
	int params = 0;
	const char *one = NULL, *act = NULL, *sites = NULL;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "params"))
			params = 1;
		else if (!strcmp(a.name, "act"))
			act = cli_value(&a);
		else if (!strcmp(a.name, "act_sites"))
			sites = cli_value(&a);
		else if (!a.name[0] && a.value && !one)
			one = a.value;
		else if (!strcmp(a.name, "help")) {
			puts("usage: actlab models [--params]\n       actlab models NAME|FILE.cfg [--act "
			     "SPEC] [--act-sites S]\n\nLists the model zoo (default: names and "
			     "descriptions); --params builds each model for its default input and class "
			     "count (its [net] section: input = CxHxW, classes = K; else 1x28x28 and 10) "
			     "and prints its parameter count. With a model name: its layers, output "
			     "shapes, parameters and the numbers of its $ACT sites (for --act-sites).");
			return 0;
		} else
			return cli_usage_error("models: unknown option '%s'",
					       a.name[0] ? a.name : a.value);
	}
	if ((act || sites) && !one)
		return cli_usage_error("models: --act and --act-sites need a model name");
	if (one)
		return model_summary(one, act, sites);
	if (params)
		printf("%-18s %12s  %-10s %7s  %s\n", "model", "parameters", "input", "classes",
		       "description");
	int failed = 0;
	for (int i = 0; i < al_zoo_count(); i++) {
		if (!params) {
			printf("%-18s %s\n", al_zoo_name(i), al_zoo_doc(i));
			continue;
		}
		al_model *m = NULL;
		al_model_opts o = al_model_opts_default();
		al_status st = al_model_defaults(al_zoo_name(i), &o.in_c, &o.in_h, &o.in_w, &o.classes);
		o.no_init = 1;
		if (st == AL_OK)
			st = al_model_create(al_zoo_name(i), &o, &m);
		if (st != AL_OK) {
			fprintf(stderr, "actlab: error: %s\n", al_errmsg());
			failed = 1;
			continue;
		}
		char shape[32];
		snprintf(shape, sizeof shape, "%dx%dx%d", o.in_c, o.in_h, o.in_w);
		printf("%-18s %12zu  %-10s %7d  %s\n", al_zoo_name(i), al_model_nparams(m), shape,
		       o.classes, al_zoo_doc(i));
		al_model_free(m);
	}
	return failed;
}
