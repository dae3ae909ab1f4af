/* loss.c — softmax cross-entropy and one-hot MSE, mean over the batch.
 * Sums run in a fixed order (double accumulators), so results do not depend
 * on threads. */
#include <math.h>
#include <stddef.h>

#include "actlab/nn.h"

double al_softmax_xent(const float *logits, const int32_t *labels, int n, int k, float *dlogits)
{
	double total = 0;
	for (int i = 0; i < n; i++) {
		const float *z = logits + (size_t)i * k;
		float mx = z[0];
		for (int j = 1; j < k; j++)
			mx = z[j] > mx ? z[j] : mx;
		double s = 0;
		for (int j = 0; j < k; j++)
			s += exp((double)(z[j] - mx));
		double lse = log(s) + (double)mx;
		total += lse - (double)z[labels[i]];
		if (dlogits) {
			float *d = dlogits + (size_t)i * k;
			for (int j = 0; j < k; j++)
				d[j] = (float)((exp((double)z[j] - lse) - (j == labels[i])) / n);
		}
	}
	return total / n;
}

double al_mse_onehot(const float *logits, const int32_t *labels, int n, int k, float *dlogits)
{
	double total = 0;
	for (int i = 0; i < n; i++) {
		const float *z = logits + (size_t)i * k;
		for (int j = 0; j < k; j++) {
			double e = (double)z[j] - (j == labels[i] ? 1.0 : 0.0);
			total += e * e;
			if (dlogits)
				dlogits[(size_t)i * k + j] = (float)(2.0 * e / n);
		}
	}
	return total / n;
}
