/* main.c — the test runner: runs every registered test (or those whose
 * name contains argv[1]) and ends with "N passed, N failed". */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "actlab/core.h"
#include "test.h"

#define MAXT 2048
static struct {
	const char *name, *file;
	test_fn fn;
} tests[MAXT];
static int ntests;
int test_failures;
static const char *current;

void test_register(const char *name, test_fn fn, const char *file)
{
	if (ntests < MAXT) {
		tests[ntests].name = name;
		tests[ntests].fn = fn;
		tests[ntests].file = file;
		ntests++;
	}
}

void test_fail(const char *file, int line, const char *fmt, ...)
{
	if (test_failures < 5) {
		va_list ap;
		va_start(ap, fmt);
		fprintf(stdout, "  FAIL %s (%s:%d): ", current, file, line);
		vfprintf(stdout, fmt, ap);
		fputc('\n', stdout);
		va_end(ap);
	}
	test_failures++;
}

static double now(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Spinning OpenMP barriers collapse on a shared machine (see
 * tools/actlab/main.c): run the tests with passive waiting too, unless a
 * policy was chosen. libgomp reads it at load time, hence the re-exec. */
static void prefer_passive_wait(char **argv)
{
	if (getenv("OMP_WAIT_POLICY") || getenv("GOMP_SPINCOUNT") || getenv("ACTLAB_REEXEC"))
		return;
	setenv("OMP_WAIT_POLICY", "passive", 1);
	setenv("ACTLAB_REEXEC", "1", 1);
	execv("/proc/self/exe", argv);
}

int main(int argc, char **argv)
{
	prefer_passive_wait(argv);
	const char *filter = argc > 1 ? argv[1] : NULL;
	int passed = 0, failed = 0;
	al_set_threads(2);
	double t0 = now();
	for (int i = 0; i < ntests; i++) {
		if (filter && !strstr(tests[i].name, filter))
			continue;
		current = tests[i].name;
		test_failures = 0;
		double ts = now();
		tests[i].fn();
		double dt = now() - ts;
		if (test_failures) {
			failed++;
			printf("FAIL %s (%d checks failed, %.2fs)\n", tests[i].name, test_failures, dt);
		} else {
			passed++;
			printf("ok   %s (%.2fs)\n", tests[i].name, dt);
		}
		fflush(stdout);
	}
	printf("total %.1fs\n", now() - t0);
	printf("%d passed, %d failed\n", passed, failed);
	return failed ? 1 : 0;
}
