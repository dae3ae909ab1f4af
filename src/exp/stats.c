/* stats.c — statistics of the reports: mean and sample std, Student's t
 * distribution (CDF through the regularised incomplete beta function,
 * evaluated by its continued fraction; quantile by bisection), the paired
 * t-test with a 95% confidence interval of the mean difference, the
 * Wilcoxon signed-rank test (exact null distribution by dynamic
 * programming, normal approximation with tie correction for n > 50 or when
 * zero differences were dropped), and the area under a loss curve.
 *
 * Conventions follow scipy.stats (ttest_rel, wilcoxon with its defaults:
 * zero_method "wilcox", no continuity correction, "auto" method), which
 * the tests use as the independent reference. One deliberate difference:
 * with tied |differences| (and no zeros) scipy 1.10 truncates the
 * average-rank sum and uses the exact table; here ties use the normal
 * approximation with the tie correction, which is the textbook treatment.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "actlab/exp.h"

double al_stats_mean(const double *x, int n)
{
	if (n <= 0)
		return (double)NAN;
	double s = 0;
	for (int i = 0; i < n; i++)
		s += x[i];
	return s / n;
}

double al_stats_std(const double *x, int n)
{
	if (n < 2)
		return 0;
	double m = al_stats_mean(x, n), s = 0;
	for (int i = 0; i < n; i++)
		s += (x[i] - m) * (x[i] - m);
	return sqrt(s / (n - 1));
}

double al_stats_aulc(const double *loss, int e)
{
	double a = 0;
	for (int i = 0; i + 1 < e; i++)
		a += 0.5 * (loss[i] + loss[i + 1]);
	return a;
}

/* Continued fraction of I_x(a, b) (modified Lentz), valid for
 * x < (a + 1) / (a + b + 2). */
static double beta_cf(double a, double b, double x)
{
	const double tiny = 1e-300, eps = 1e-16;
	double c = 1, d = 1 - (a + b) * x / (a + 1);
	if (fabs(d) < tiny)
		d = tiny;
	d = 1 / d;
	double f = d;
	for (int m = 1; m <= 10000; m++) {
		/* even step: m (b - m) x / ((a + 2m - 1)(a + 2m)) */
		double num = m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m));
		d = 1 + num * d;
		c = 1 + num / c;
		if (fabs(d) < tiny)
			d = tiny;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		f *= d * c;
		/* odd step: -(a + m)(a + b + m) x / ((a + 2m)(a + 2m + 1)) */
		num = -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1));
		d = 1 + num * d;
		c = 1 + num / c;
		if (fabs(d) < tiny)
			d = tiny;
		if (fabs(c) < tiny)
			c = tiny;
		d = 1 / d;
		double delta = d * c;
		f *= delta;
		if (fabs(delta - 1) < eps)
			break;
	}
	return f;
}

/* Regularised incomplete beta I_x(a, b). */
static double betainc(double a, double b, double x)
{
	if (x <= 0)
		return 0;
	if (x >= 1)
		return 1;
	double lfront = a * log(x) + b * log1p(-x) - (lgamma(a) + lgamma(b) - lgamma(a + b));
	if (x < (a + 1) / (a + b + 2))
		return exp(lfront) * beta_cf(a, b, x) / a;
	double lback = b * log1p(-x) + a * log(x) - (lgamma(a) + lgamma(b) - lgamma(a + b));
	return 1 - exp(lback) * beta_cf(b, a, 1 - x) / b;
}

double al_stats_t_cdf(double t, double df)
{
	if (isnan(t) || !(df > 0))
		return (double)NAN;
	if (isinf(t))
		return t > 0 ? 1 : 0;
	double x = df / (df + t * t);
	double tail = 0.5 * betainc(df / 2, 0.5, x); /* P(T > |t|) */
	return t > 0 ? 1 - tail : tail;
}

double al_stats_t_quantile(double p, double df)
{
	if (!(p > 0 && p < 1) || !(df > 0))
		return (double)NAN;
	if (p == 0.5)
		return 0;
	if (p < 0.5)
		return -al_stats_t_quantile(1 - p, df);
	double lo = 0, hi = 1;
	while (al_stats_t_cdf(hi, df) < p && hi < 1e300)
		hi *= 2;
	for (int i = 0; i < 200; i++) {
		double mid = 0.5 * (lo + hi);
		if (al_stats_t_cdf(mid, df) < p)
			lo = mid;
		else
			hi = mid;
		if (hi - lo <= 1e-15 * hi)
			break;
	}
	return 0.5 * (lo + hi);
}

al_status al_stats_ttest_paired(const double *a, const double *b, int n, al_ttest *out)
{
	memset(out, 0, sizeof *out);
	out->n = n;
	out->t = out->p = out->ci_lo = out->ci_hi = out->df = (double)NAN;
	if (n < 1)
		return al_err(AL_EINVAL, "paired t-test: no pairs");
	double *d = malloc((size_t)n * sizeof *d);
	if (!d)
		return al_err(AL_ENOMEM, "out of memory");
	for (int i = 0; i < n; i++)
		d[i] = a[i] - b[i];
	out->mean_diff = al_stats_mean(d, n);
	out->std_diff = n > 1 ? al_stats_std(d, n) : (double)NAN;
	free(d);
	if (n < 2)
		return AL_OK;
	out->df = n - 1;
	double se = out->std_diff / sqrt((double)n);
	if (se > 0) {
		out->t = out->mean_diff / se;
		out->p = 2 * al_stats_t_cdf(-fabs(out->t), out->df);
		double q = al_stats_t_quantile(0.975, out->df);
		out->ci_lo = out->mean_diff - q * se;
		out->ci_hi = out->mean_diff + q * se;
	} else if (out->mean_diff != 0) {
		/* every difference equal and non-zero: scipy gives t = ±inf, p = 0 */
		out->t = out->mean_diff > 0 ? (double)INFINITY : -(double)INFINITY;
		out->p = 0;
		out->ci_lo = out->ci_hi = out->mean_diff;
	}
	return AL_OK;
}

typedef struct {
	double v;
	int sign;
} absdiff;

static int cmp_abs(const void *x, const void *y)
{
	double a = ((const absdiff *)x)->v, b = ((const absdiff *)y)->v;
	return (a > b) - (a < b);
}

al_status al_stats_wilcoxon(const double *a, const double *b, int n, al_wilcoxon *out)
{
	memset(out, 0, sizeof *out);
	out->w = out->p = (double)NAN;
	if (n < 1)
		return al_err(AL_EINVAL, "Wilcoxon test: no pairs");
	absdiff *d = malloc((size_t)n * sizeof *d);
	double *rank = malloc((size_t)n * sizeof *rank);
	if (!d || !rank) {
		free(d);
		free(rank);
		return al_err(AL_ENOMEM, "out of memory");
	}
	int m = 0, zeros = 0;
	for (int i = 0; i < n; i++) {
		double x = a[i] - b[i];
		if (x == 0) {
			zeros++;
			continue;
		}
		d[m].v = fabs(x);
		d[m].sign = x > 0 ? 1 : -1;
		m++;
	}
	out->n = m;
	if (m == 0) {
		free(d);
		free(rank);
		return AL_OK;
	}
	qsort(d, (size_t)m, sizeof *d, cmp_abs);
	int ties = 0;
	double tie_term = 0;
	for (int i = 0; i < m;) {
		int j = i;
		while (j + 1 < m && d[j + 1].v == d[i].v)
			j++;
		double r = 0.5 * (i + j) + 1; /* average rank, 1-based */
		for (int k = i; k <= j; k++)
			rank[k] = r;
		int t = j - i + 1;
		if (t > 1) {
			ties = 1;
			tie_term += (double)t * ((double)t * t - 1);
		}
		i = j + 1;
	}
	double rp = 0, rm = 0;
	for (int i = 0; i < m; i++)
		if (d[i].sign > 0)
			rp += rank[i];
		else
			rm += rank[i];
	out->w = rp < rm ? rp : rm;
	if (n <= 50 && zeros == 0 && !ties) {
		/* exact: number of subsets of {1..m} with each rank sum */
		int total = m * (m + 1) / 2;
		double *cnt = calloc((size_t)total + 1, sizeof *cnt);
		if (!cnt) {
			free(d);
			free(rank);
			return al_err(AL_ENOMEM, "out of memory");
		}
		cnt[0] = 1;
		for (int k = 1; k <= m; k++)
			for (int s = total; s >= k; s--)
				cnt[s] += cnt[s - k];
		double all = ldexp(1.0, m);
		int r = (int)rp;
		if (2 * r == total) {
			out->p = 1;
		} else {
			double less = 0, greater = 0;
			for (int s = 0; s <= r; s++)
				less += cnt[s];
			for (int s = r; s <= total; s++)
				greater += cnt[s];
			double p = 2 * (less < greater ? less : greater) / all;
			out->p = p > 1 ? 1 : p;
		}
		out->exact = 1;
		free(cnt);
	} else {
		double mn = m * (m + 1.0) * 0.25;
		double se = m * (m + 1.0) * (2.0 * m + 1.0) - 0.5 * tie_term;
		se = sqrt(se / 24);
		double z = (out->w - mn) / se;
		out->p = erfc(fabs(z) / sqrt(2.0));
		out->exact = 0;
	}
	free(d);
	free(rank);
	return AL_OK;
}
