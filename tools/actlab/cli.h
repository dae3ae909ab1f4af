/* cli.h — helpers shared by the subcommands: option scanning, errors with
 * the right exit code, JSON output. The CLI is a thin layer: argv -> option
 * struct -> one library call -> print. */
#ifndef ACTLAB_CLI_H
#define ACTLAB_CLI_H

#include <stdio.h>

#include "actlab/status.h"

enum { EXIT_OK = 0, EXIT_RUNTIME = 1, EXIT_USAGE = 2 };

/* Iterates `--name value` / `--name=value` / `--flag` arguments. */
typedef struct {
	int argc, i;
	char **argv;
	char name[64];
	const char *value; /* NULL for a bare flag followed by another option */
	char inline_val[1024];
	const char *positional;
} cli_args;

void cli_init(cli_args *a, int argc, char **argv);
/* Next option; returns 0 at the end. Positional arguments are returned
 * with name "" and value set. */
int cli_next(cli_args *a);
/* The option's value, or a usage error if it has none. */
const char *cli_value(cli_args *a);

int cli_usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int cli_runtime_error(al_status s);
void json_string(FILE *f, const char *s);

/* This process's rank and the job's size under an MPI launcher (0 and 1
 * otherwise); set by main before the command runs. */
extern int cli_rank, cli_size;

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_act(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_gradcheck(int argc, char **argv);
int cmd_act_plot(int argc, char **argv);
int cmd_act_params(int argc, char **argv);
int cmd_adact(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_act_shapes(int argc, char **argv);
int cmd_distill(int argc, char **argv);

#endif
