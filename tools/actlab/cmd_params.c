/* cmd_params.c — `actlab act params`: the learned activation parameters of
 * a run folder (its act_params.csv), per layer, at one epoch: the tables of
 * learned values per layer that seed 002 reports. For method1/method2 the
 * blend weights X, Y, Z are derived from theta with the run's mode. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/train.h"
#include "cli.h"

typedef struct {
	char layer[64], act[64], param[48];
	double sum, sumsq;
	long n;
} cell;

static const char *help =
	"usage: actlab act params --run DIR [--epoch N|last] [--csv]\n\n"
	"Prints the learned activation parameters recorded in DIR/act_params.csv\n"
	"(written by `actlab train --out DIR`), one row per layer: mean (and std over\n"
	"channels/neurons when there are several) of each parameter at the epoch\n"
	"(default: last; 0 is the initial value). For method1/method2 the blend\n"
	"weights X, Y, Z follow from theta with the mode in DIR/ckpt.bin.\n";

int cmd_act_params(int argc, char **argv)
{
	const char *run = NULL;
	int epoch = -1, csv = 0;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			fputs(help, stdout);
			return 0;
		} else if (!strcmp(a.name, "csv")) {
			csv = 1;
		} else if (!a.name[0] || !a.value) {
			return cli_usage_error("act params: bad argument '%s'",
					       a.name[0] ? a.name : a.value);
		} else if (!strcmp(a.name, "run")) {
			run = a.value;
		} else if (!strcmp(a.name, "epoch")) {
			epoch = strcmp(a.value, "last") ? atoi(a.value) : -1;
		} else {
			return cli_usage_error("act params: unknown option --%s", a.name);
		}
	}
	if (!run)
		return cli_usage_error("act params needs --run DIR");
	char path[1024];
	snprintf(path, sizeof path, "%s/act_params.csv", run);
	FILE *f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "actlab: error: %s: cannot open (was the run trained with --out?)\n",
			path);
		return EXIT_RUNTIME;
	}
	char line[512];
	int last = -1;
	while (fgets(line, sizeof line, f)) {
		int ep;
		if (sscanf(line, "%d,", &ep) == 1 && ep > last)
			last = ep;
	}
	if (last < 0) {
		fclose(f);
		fprintf(stderr, "actlab: error: %s holds no parameters (no trainable activation?)\n",
			path);
		return EXIT_RUNTIME;
	}
	if (epoch < 0)
		epoch = last;
	if (epoch > last) {
		fclose(f);
		fprintf(stderr, "actlab: error: %s: epoch %d not recorded (last is %d)\n", path, epoch,
			last);
		return EXIT_RUNTIME;
	}
	rewind(f);
	cell *cells = NULL;
	int nc = 0, cap = 0, lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		if (lineno == 1)
			continue;
		int ep;
		size_t g;
		double v;
		cell c = {0};
		if (sscanf(line, "%d,%63[^,],%63[^,],%zu,%47[^,],%lf", &ep, c.layer, c.act, &g, c.param,
			   &v) != 6) {
			fprintf(stderr, "actlab: error: %s:%d: malformed line\n", path, lineno);
			fclose(f);
			free(cells);
			return EXIT_RUNTIME;
		}
		if (ep != epoch)
			continue;
		int k;
		for (k = 0; k < nc; k++)
			if (!strcmp(cells[k].layer, c.layer) && !strcmp(cells[k].param, c.param))
				break;
		if (k == nc) {
			if (nc == cap) {
				cap = cap ? 2 * cap : 64;
				cell *nw = realloc(cells, (size_t)cap * sizeof *cells);
				if (!nw) {
					fclose(f);
					free(cells);
					return cli_runtime_error(AL_ENOMEM);
				}
				cells = nw;
			}
			cells[nc++] = c;
		}
		cells[k].sum += v;
		cells[k].sumsq += v * v;
		cells[k].n++;
	}
	fclose(f);
	/* blend mode from the run's checkpoint, when there is one */
	int mode = 0;
	double fixed[3] = {1.0 / 3, 1.0 / 3, 1.0 / 3};
	al_checkpoint ck;
	snprintf(path, sizeof path, "%s/ckpt.bin", run);
	if (al_checkpoint_load(path, &ck) == AL_OK) {
		al_act_spec s;
		if (al_act_parse(ck.config.act, &s) == AL_OK &&
		    (!strcmp(s.desc->name, "method1") || !strcmp(s.desc->name, "method2"))) {
			mode = (int)s.hyper[0];
			for (int r = 0; r < 3; r++)
				fixed[r] = s.hyper[1 + r];
		}
		al_checkpoint_free(&ck);
	}
	if (csv)
		printf("epoch,layer,act,param,mean,std,groups\n");
	else
		printf("epoch %d (of %d)\n%-12s %-12s %-12s %14s %12s %7s\n", epoch, last, "layer",
		       "act", "param", "mean", "std", "groups");
	for (int k = 0; k < nc; k++) {
		double mean = cells[k].sum / (double)cells[k].n;
		double var = cells[k].n > 1 ? (cells[k].sumsq - cells[k].n * mean * mean) /
						      (double)(cells[k].n - 1)
					    : 0;
		double sd = var > 0 ? sqrt(var) : 0;
		if (csv)
			printf("%d,%s,%s,%s,%.9g,%.9g,%ld\n", epoch, cells[k].layer, cells[k].act,
			       cells[k].param, mean, sd, cells[k].n);
		else
			printf("%-12s %-12s %-12s %14.6g %12.4g %7ld\n", cells[k].layer, cells[k].act,
			       cells[k].param, mean, sd, cells[k].n);
		/* after theta3 of a blend, the weights X, Y, Z of the layer (group means) */
		if (!strcmp(cells[k].param, "theta3") && k >= 2 &&
		    !strcmp(cells[k - 2].param, "theta1")) {
			double t[3], w[3], sum = 0, mx = -HUGE_VAL;
			for (int r = 0; r < 3; r++) {
				t[r] = cells[k - 2 + r].sum / (double)cells[k - 2 + r].n;
				mx = t[r] > mx ? t[r] : mx;
			}
			for (int r = 0; r < 3; r++) {
				w[r] = mode == 0 ? exp(t[r] - mx) : (mode == 1 ? t[r] : fixed[r]);
				sum += w[r];
			}
			static const char *nm[3] = {"X", "Y", "Z"};
			for (int r = 0; r < 3; r++) {
				double v = mode == 2 ? w[r] : w[r] / sum;
				if (csv)
					printf("%d,%s,%s,%s,%.9g,0,1\n", epoch, cells[k].layer,
					       cells[k].act, nm[r], v);
				else
					printf("%-12s %-12s %-12s %14.6g\n", cells[k].layer, cells[k].act,
					       nm[r], v);
			}
		}
	}
	free(cells);
	return 0;
}
