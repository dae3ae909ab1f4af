/* util.c — helpers shared by the tests: running the CLI, temp dirs. */
#define _GNU_SOURCE
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

int run_cmd(const char *cmd, char *out, size_t cap)
{
	char full[8192];
	snprintf(full, sizeof full, "%s 2>&1", cmd);
	FILE *p = popen(full, "r");
	if (!p)
		return -1;
	size_t len = 0;
	if (out && cap)
		out[0] = 0;
	char buf[4096];
	size_t r;
	while ((r = fread(buf, 1, sizeof buf, p)) > 0) {
		if (out && len + 1 < cap) {
			size_t k = r < cap - 1 - len ? r : cap - 1 - len;
			memcpy(out + len, buf, k);
			len += k;
			out[len] = 0;
		}
	}
	int st = pclose(p);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

const char *actlab_bin(void)
{
	const char *b = getenv("ACTLAB_BIN");
	return b && *b ? b : "./actlab";
}

static char tmpdir[256];
static void rm_tmpdir(void)
{
	if (tmpdir[0]) {
		char cmd[300];
		snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
		if (system(cmd) != 0)
			fprintf(stderr, "could not remove %s\n", tmpdir);
	}
}

const char *test_tmpdir(void)
{
	if (!tmpdir[0]) {
		snprintf(tmpdir, sizeof tmpdir, "/tmp/actlab-test-XXXXXX");
		if (!mkdtemp(tmpdir)) {
			perror("mkdtemp");
			return "/tmp";
		}
		atexit(rm_tmpdir);
	}
	return tmpdir;
}

int have_torch(void)
{
	static int cached = -1;
	if (cached < 0)
		cached = system("/usr/bin/python3 -c 'import torch, numpy' >/dev/null 2>&1") == 0;
	return cached;
}

double ulp_at(double r)
{
	r = fabs(r);
	if (r < 0x1p-126)
		return 0x1p-149;
	int e;
	frexp(r, &e);
	return ldexp(1.0, e - 24);
}
