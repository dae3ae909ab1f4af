/* test.h — a minimal self-registering test framework.
 *
 * TEST(name) { ... } defines and registers a test. CHECK(cond, fmt, ...)
 * records a failure (with file:line) and continues; REQUIRE returns from
 * the test. The runner (tests/main.c) prints one line per failed test and
 * ends with "N passed, N failed"; its exit status is non-zero on failure.
 */
#ifndef ACTLAB_TEST_H
#define ACTLAB_TEST_H

#include <math.h>
#include <stdio.h>

typedef void (*test_fn)(void);
void test_register(const char *name, test_fn fn, const char *file);
void test_fail(const char *file, int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
extern int test_failures; /* failures in the current test */

#define TEST(name)                                                              \
	static void test_##name(void);                                          \
	__attribute__((constructor)) static void test_reg_##name(void)          \
	{                                                                       \
		test_register(#name, test_##name, __FILE__);                    \
	}                                                                       \
	static void test_##name(void)

#define CHECK(cond, ...)                                           \
	do {                                                       \
		if (!(cond))                                       \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
	} while (0)

#define REQUIRE(cond, ...)                                         \
	do {                                                       \
		if (!(cond)) {                                     \
			test_fail(__FILE__, __LINE__, __VA_ARGS__); \
			return;                                    \
		}                                                  \
	} while (0)

/* al_status-returning call that must succeed. */
#define REQUIRE_OK(expr)                                                            \
	do {                                                                        \
		al_status t__s = (expr);                                            \
		if (t__s != AL_OK) {                                                \
			test_fail(__FILE__, __LINE__, "%s failed: %s", #expr,       \
				  al_errmsg());                                     \
			return;                                                     \
		}                                                                   \
	} while (0)

#define CHECK_NEAR(a, b, tol)                                                       \
	do {                                                                        \
		double t__a = (a), t__b = (b);                                      \
		if (!(fabs(t__a - t__b) <= (tol)))                                  \
			test_fail(__FILE__, __LINE__, "%s = %.9g, expected %.9g (tol %g)", \
				  #a, t__a, t__b, (double)(tol));                   \
	} while (0)

/* Helpers (tests/util.c). */
/* Runs a shell command, captures stdout+stderr (up to cap bytes) into out,
 * returns the exit code (or -1). */
int run_cmd(const char *cmd, char *out, size_t cap);
/* Path of the CLI under test ($ACTLAB_BIN or ./actlab). */
const char *actlab_bin(void);
/* A fresh temporary directory for this test (removed at exit). */
const char *test_tmpdir(void);
/* Whether Debian's python3 with torch is available. */
int have_torch(void);
/* Float spacing at the value r (2^-149 in the subnormal range): the unit of
 * ulp errors against a double reference. */
double ulp_at(double r);

#endif
