/* cmd_act.c — `actlab act list` and `actlab act eval`, the .npy contract by
 * which outside tools (NumPy, PyTorch) check actlab's numbers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/act.h"
#include "actlab/tensor.h"
#include "cli.h"

static int act_list(int argc, char **argv)
{
	int json = 0, md = 0;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "json"))
			json = 1;
		else if (!strcmp(a.name, "markdown"))
			md = 1;
		else if (!strcmp(a.name, "help")) {
			puts("usage: actlab act list [--json|--markdown]\n\n"
			     "Lists every catalog entry with its hyper-parameters and defaults and its\n"
			     "trainable parameters with initial values. Default output: a plain table.");
			return 0;
		} else
			return cli_usage_error("act list: unknown option '%s'",
					       a.name[0] ? a.name : a.value);
	}
	if (json)
		al_act_list_json(stdout);
	else if (md)
		al_act_list_markdown(stdout);
	else
		al_act_list_text(stdout);
	return 0;
}

static const char *eval_help =
	"usage: actlab act eval --act SPEC --in x.npy --out y.npy [--params p.npy]\n"
	"                       [--dy dy.npy --dx dx.npy [--dparams dp.npy]] [--train]\n"
	"                       [--seed N] [--threads N] [--json]\n\n"
	"x is (N, F) or (N, C, H, W) float32 (other dtypes are converted). Parameters are\n"
	"[P] for per=layer, [C, P] for per=channel, [C*H*W, P] (or [C, H, W, P]) for\n"
	"per=neuron, in the order `actlab act list --json` gives; without --params the\n"
	"entry's initial values are used. With --dy, writes dx = dL/dx and dparams =\n"
	"dL/dparams (same layout as the parameters; an empty array for entries without\n"
	"parameters). --train selects training behaviour of stochastic entries.\n"
	"Defaults: --threads 1 --seed 1.\n";

static int act_eval(int argc, char **argv)
{
	const char *spec = NULL, *in = NULL, *outp = NULL, *pp = NULL, *dyp = NULL, *dxp = NULL,
		   *dpp = NULL;
	int json = 0, train = 0, threads = 1;
	unsigned long long seed = 1;
	cli_args a;
	cli_init(&a, argc, argv);
	while (cli_next(&a)) {
		if (!strcmp(a.name, "help")) {
			fputs(eval_help, stdout);
			return 0;
		}
		if (!strcmp(a.name, "json")) {
			json = 1;
			continue;
		}
		if (!strcmp(a.name, "train")) {
			train = 1;
			continue;
		}
		if (!a.name[0])
			return cli_usage_error("act eval: unexpected argument '%s'", a.value);
		if (!a.value)
			return cli_usage_error("act eval: --%s needs a value", a.name);
		if (!strcmp(a.name, "act"))
			spec = a.value;
		else if (!strcmp(a.name, "in"))
			in = a.value;
		else if (!strcmp(a.name, "out"))
			outp = a.value;
		else if (!strcmp(a.name, "params"))
			pp = a.value;
		else if (!strcmp(a.name, "dy"))
			dyp = a.value;
		else if (!strcmp(a.name, "dx"))
			dxp = a.value;
		else if (!strcmp(a.name, "dparams"))
			dpp = a.value;
		else if (!strcmp(a.name, "threads"))
			threads = atoi(a.value);
		else if (!strcmp(a.name, "seed"))
			seed = strtoull(a.value, NULL, 10);
		else
			return cli_usage_error("act eval: unknown option --%s", a.name);
	}
	if (!spec || !in || !outp)
		return cli_usage_error("act eval needs --act SPEC --in x.npy --out y.npy");
	if ((dyp != NULL) != (dxp != NULL))
		return cli_usage_error("act eval: --dy and --dx go together");
	if (dpp && !dyp)
		return cli_usage_error("act eval: --dparams needs --dy and --dx");
	if (threads < 1)
		return cli_usage_error("act eval: --threads must be >= 1");
	al_set_threads(threads);
	al_act_spec s;
	al_status st = al_act_parse(spec, &s);
	if (st != AL_OK)
		return cli_usage_error("--act: %s", al_errmsg());
	al_tensor x = {0}, p = {0}, dy = {0}, y = {0}, dx = {0};
	float *params = NULL, *dparams = NULL, *scratch = NULL;
	int rc = 0;
	if ((st = al_npy_read_f32(in, &x)) != AL_OK)
		goto fail;
	int n, c, h = 1, w = 1;
	if (x.ndim == 2) {
		n = (int)x.shape[0];
		c = (int)x.shape[1];
	} else if (x.ndim == 4) {
		n = (int)x.shape[0];
		c = (int)x.shape[1];
		h = (int)x.shape[2];
		w = (int)x.shape[3];
	} else {
		st = al_err(AL_EINVAL, "%s: input must be 2-D (N, F) or 4-D (N, C, H, W), got %d-D",
			    in, x.ndim);
		goto fail;
	}
	int P = al_act_nparams(&s);
	size_t G = al_act_groups(&s, c, h, w);
	size_t np = G * (size_t)P;
	params = al_calloc(np + 1, sizeof(float));
	dparams = al_calloc(np + 1, sizeof(float));
	scratch = al_calloc(al_act_scratch_floats(&s, n, c, h, w) + 1, sizeof(float));
	if (!params || !dparams || !scratch) {
		st = al_err(AL_ENOMEM, "act eval: out of memory");
		goto fail;
	}
	al_rng rng;
	al_rng_seed(&rng, seed);
	al_act_init_params(&s, params, G, &rng);
	if (pp) {
		if ((st = al_npy_read_f32(pp, &p)) != AL_OK)
			goto fail;
		size_t pn = al_tensor_numel(&p);
		int last = (int)p.shape[p.ndim - 1];
		if (pn != np || (P > 1 && last != P)) {
			st = al_err(AL_EINVAL,
				    "%s: %s with per=%s on input %dx%dx%d needs %zu groups x %d "
				    "parameters ([%zu, %d]), got %zu values",
				    pp, s.desc->name,
				    s.per == AL_PER_LAYER ? "layer"
							  : s.per == AL_PER_CHANNEL ? "channel" : "neuron",
				    c, h, w, G, P, G, P, pn);
			goto fail;
		}
		memcpy(params, p.data, np * sizeof(float));
	}
	if ((st = al_tensor_alloc(&y, x.ndim, x.shape)) != AL_OK)
		goto fail;
	al_act_forward(&s, params, n, c, h, w, x.data, y.data, train, &rng);
	if ((st = al_npy_write_f32(outp, &y)) != AL_OK)
		goto fail;
	if (dyp) {
		if ((st = al_npy_read_f32(dyp, &dy)) != AL_OK)
			goto fail;
		int same = dy.ndim == x.ndim;
		for (int i = 0; same && i < x.ndim; i++)
			same = dy.shape[i] == x.shape[i];
		if (!same) {
			st = al_err(AL_EINVAL, "%s: shape does not match the shape of %s", dyp, in);
			goto fail;
		}
		if ((st = al_tensor_alloc(&dx, x.ndim, x.shape)) != AL_OK)
			goto fail;
		al_act_backward(&s, params, n, c, h, w, x.data, y.data, dy.data, dx.data, dparams,
				scratch, train, &rng);
		if ((st = al_npy_write_f32(dxp, &dx)) != AL_OK)
			goto fail;
		if (dpp) {
			int64_t shp[2] = {(int64_t)G, P};
			if (np == 0) {
				int64_t z = 0;
				st = al_npy_write(dpp, AL_NPY_F32, 1, &z, dparams);
			} else if (s.per == AL_PER_LAYER) {
				int64_t one = P;
				st = al_npy_write(dpp, AL_NPY_F32, 1, &one, dparams);
			} else {
				st = al_npy_write(dpp, AL_NPY_F32, 2, shp, dparams);
			}
			if (st != AL_OK)
				goto fail;
		}
	}
	if (json) {
		printf("{\"act\": ");
		json_string(stdout, s.text);
		printf(", \"n\": %d, \"c\": %d, \"h\": %d, \"w\": %d, \"params\": %zu, "
		       "\"backward\": %s}\n",
		       n, c, h, w, np, dyp ? "true" : "false");
	}
	goto done;
fail:
	rc = cli_runtime_error(st);
done:
	al_tensor_free(&x);
	al_tensor_free(&p);
	al_tensor_free(&dy);
	al_tensor_free(&y);
	al_tensor_free(&dx);
	al_free(params);
	al_free(dparams);
	al_free(scratch);
	return rc;
}

int cmd_act(int argc, char **argv)
{
	if (argc < 1) {
		fputs("usage: actlab act list|eval [options]\n", stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[0], "list"))
		return act_list(argc - 1, argv + 1);
	if (!strcmp(argv[0], "eval"))
		return act_eval(argc - 1, argv + 1);
	if (!strcmp(argv[0], "plot"))
		return cmd_act_plot(argc - 1, argv + 1);
	if (!strcmp(argv[0], "params"))
		return cmd_act_params(argc - 1, argv + 1);
	if (!strcmp(argv[0], "shapes"))
		return cmd_act_shapes(argc - 1, argv + 1);
	if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "help")) {
		puts("usage: actlab act list [--json|--markdown]\n       actlab act eval --help\n"
		     "       actlab act plot --help\n       actlab act params --help\n"
		     "       actlab act shapes --help");
		return 0;
	}
	return cli_usage_error("act: unknown subcommand '%s' (list, eval, plot, params, shapes)",
			       argv[0]);
}
