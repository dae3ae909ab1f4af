/* baselines.c — the trainers AdAct is compared with, on the same network
 * and from the same initial point (net control + OWO):
 *   cg   conjugate gradient (Polak-Ribiere, restarted when not a descent
 *        direction) over all weights W and Wo, with the Gauss-Newton optimal
 *        learning factor along the direction and the backtracking safeguard;
 *   lm   Levenberg-Marquardt over W and Wo with the full Jacobian (small
 *        networks only), (J^T J + mu I) d = J^T e by LAPACK Cholesky;
 *   sgd / adam  mini-batch back-prop of W, Wo and the hinge values A on the
 *        same MSE (one call = one epoch).
 * Not for: the AdAct/MOLF/OWO-BP iterations (adact.c).
 */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <string.h>

#include "internal.h"

static size_t nweights(const struct al_adact *t)
{
	return (size_t)t->net.nh * t->net.ni + (size_t)t->net.no * t->nu;
}

al_status al__baselines_alloc(struct al_adact *t)
{
	const al_adact_opts *o = &t->o;
	const size_t nw = nweights(t);
	const int n = t->d->n, ni = t->net.ni, nh = t->net.nh, no = t->net.no;
	if (o->algo == AL_ADACT_CG) {
		t->cg_g = al_calloc(nw, sizeof(double));
		t->cg_gn = al_calloc(nw + (size_t)nh * t->net.ns, sizeof(double));
		t->cg_p = al_calloc(nw, sizeof(double));
		if (!t->cg_g || !t->cg_gn || !t->cg_p)
			return al_err(AL_ENOMEM, "cg: cannot allocate %zu weights", nw);
	}
	if (o->algo == AL_ADACT_LM) {
		if (nw > (size_t)o->lm_max_weights)
			return al_err(AL_ERANGE, "lm: the network has %zu weights, more than the "
						 "limit %d for Levenberg-Marquardt (use fewer hidden "
						 "units or inputs, or another algorithm)",
				      nw, o->lm_max_weights);
		size_t rows = ((size_t)1 << 21) / nw;
		if (rows < (size_t)no)
			rows = no;
		t->lm_chunk = (int)(rows / no);
		if (t->lm_chunk > n)
			t->lm_chunk = n;
		t->lm_JtJ = al_malloc(nw * nw * sizeof(double));
		t->lm_A = al_malloc(nw * nw * sizeof(double));
		t->lm_J = al_malloc((size_t)t->lm_chunk * no * nw * sizeof(double));
		t->lm_Jte = al_malloc(nw * sizeof(double));
		t->lm_delta = al_malloc(nw * sizeof(double));
		if (!t->lm_JtJ || !t->lm_A || !t->lm_J || !t->lm_Jte || !t->lm_delta)
			return al_err(AL_ENOMEM, "lm: cannot allocate a %zu x %zu system", nw, nw);
		t->lm_mu = o->lm_mu;
	}
	if (o->algo == AL_ADACT_SGD || o->algo == AL_ADACT_ADAM) {
		size_t np = nw + (size_t)nh * t->net.ns;
		int b = o->batch < n ? o->batch : n;
		t->bp_m = al_calloc(np, sizeof(double));
		t->bp_v = al_calloc(np, sizeof(double));
		t->bp_grad = al_calloc(np, sizeof(double));
		t->bp_Xb = al_malloc((size_t)b * ni * sizeof(double));
		t->bp_Tb = al_malloc((size_t)b * no * sizeof(double));
		t->bp_N = al_malloc((size_t)b * nh * sizeof(double));
		t->bp_O = al_malloc((size_t)b * nh * sizeof(double));
		t->bp_Fp = al_malloc((size_t)b * nh * sizeof(double));
		t->bp_dO = al_malloc((size_t)b * nh * sizeof(double));
		t->bp_Y = al_malloc((size_t)b * no * sizeof(double));
		t->bp_dY = al_malloc((size_t)b * no * sizeof(double));
		t->bp_idx = al_malloc((size_t)n * sizeof(int32_t));
		if (!t->bp_m || !t->bp_v || !t->bp_grad || !t->bp_Xb || !t->bp_Tb || !t->bp_N ||
		    !t->bp_O || !t->bp_Fp || !t->bp_dO || !t->bp_Y || !t->bp_dY || !t->bp_idx)
			return al_err(AL_ENOMEM, "%s: out of memory", al_adact_algo_name(o->algo));
	}
	return AL_OK;
}

void al__baselines_free(struct al_adact *t)
{
	void *bufs[] = {t->cg_g,   t->cg_gn, t->cg_p,    t->lm_JtJ, t->lm_A,  t->lm_J,
			t->lm_Jte, t->lm_delta, t->bp_m, t->bp_v, t->bp_grad, t->bp_Xb,
			t->bp_Tb,  t->bp_N,  t->bp_O,    t->bp_Fp,  t->bp_dO, t->bp_Y,
			t->bp_dY,  t->bp_idx};
	for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++)
		al_free(bufs[i]);
}

/* Gradient of E_b = (1/bs) sum_p |t_p - y_p|^2 over the rows X (bs x ni),
 * T (bs x no) w.r.t. theta = [W | Wo | A] into grad; scratch N, O, Fp, dO
 * (bs x nh), Y, dY (bs x no). Returns E_b. Used by back-prop (batches),
 * CG and al_adact_gradient (the whole set). */
static double batch_gradient(struct al_adact *t, const double *X, const double *T, int bs,
			     double *N, double *O, double *Fp, double *Y, double *dY, double *dO,
			     double *grad)
{
	const int ni = t->net.ni, nh = t->net.nh, no = t->net.no, nu = t->nu, ns = t->net.ns;
	const size_t nW = (size_t)nh * ni, nWo = (size_t)no * nu, nA = (size_t)nh * ns;
	const double lo = t->net.lo, inv = 1.0 / t->net.delta;
	double *gW = grad, *gWo = gW + nW, *gA = gWo + nWo;
	al__gemm_rows(bs, ni, nh, X, ni, t->net.W, ni, 0.0, N, nh);
	al__act_forward(&t->net, bs, N, O, Fp);
	al__gemm_rows(bs, ni, no, X, ni, t->net.Wo, nu, 0.0, Y, no);
	al__gemm_rows(bs, nh, no, O, nh, t->net.Wo + ni, nu, 1.0, Y, no);
	double e = 0;
	for (size_t i = 0; i < (size_t)bs * no; i++) {
		e += (T[i] - Y[i]) * (T[i] - Y[i]);
		dY[i] = -2.0 * (T[i] - Y[i]) / bs;
	}
	al__gemm_tn(bs, no, ni, 1.0, dY, no, X, ni, gWo, nu);
	al__gemm_tn(bs, no, nh, 1.0, dY, no, O, nh, gWo + ni, nu);
	al__gemm_nn(bs, no, nh, dY, no, t->net.Wo + ni, nu, dO, nh);
	memset(gA, 0, nA * sizeof *gA);
	for (int q = 0; q < bs; q++)
		for (int k = 0; k < nh; k++) {
			size_t i = (size_t)q * nh + k;
			int m;
			double tt;
			al_pla_segment(N[i], lo, inv, ns, &m, &tt);
			gA[(size_t)k * ns + m] += dO[i] * (1 - tt);
			gA[(size_t)k * ns + m + 1] += dO[i] * tt;
			dO[i] *= Fp[i];
		}
	al__gemm_tn(bs, nh, ni, 1.0, dO, nh, X, ni, gW, ni);
	return e / bs;
}

al_status al_adact_gradient(al_adact *t, double *grad)
{
	const al_adact_data *d = t->d;
	batch_gradient(t, d->X, d->T, d->n, t->Nt, t->Ot, t->Fpt, t->Yt, t->Et, t->Q, grad);
	return AL_OK;
}

/* ---- conjugate gradient ---------------------------------------------------- */
al_status al__cg_iterate(struct al_adact *t, al_adact_iter *info)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh, no = d->no, nu = t->nu;
	const size_t nw = nweights(t), nW = (size_t)nh * ni;
	double *g = t->cg_gn, *p = t->cg_p;
	al_adact_gradient(t, g);
	for (size_t i = 0; i < nw; i++)
		g[i] = -g[i];
	double gg = 0, gy = 0;
	for (size_t i = 0; i < nw; i++) {
		gg += g[i] * g[i];
		gy += g[i] * (g[i] - t->cg_g[i]);
	}
	double beta = t->cg_iter > 0 && t->cg_gg > 0 ? gy / t->cg_gg : 0;
	if (beta < 0)
		beta = 0;
	double gp = 0;
	for (size_t i = 0; i < nw; i++) {
		p[i] = g[i] + beta * p[i];
		gp += g[i] * p[i];
	}
	if (!(gp > 0)) /* not a descent direction: restart along the gradient */
		memcpy(p, g, nw * sizeof *p);
	memcpy(t->cg_g, g, nw * sizeof *g);
	t->cg_gg = gg;
	t->cg_iter++;

	/* directional change of the outputs (Gauss-Newton):
	 * dY = X pWoi^T + O pWoh^T + (Fp o X pW^T) Wo_h^T */
	const double *pW = p, *pWo = p + nW;
	double *XP = t->XWoit, *DY = t->DY;
	al__xbt(t, nh, pW, ni, t->D, nh);
	al__xbt(t, no, pWo, nu, XP, no);
	memcpy(DY, XP, (size_t)n * no * sizeof *DY);
	al__gemm_rows(n, nh, no, t->O, nh, pWo + ni, nu, 1.0, DY, no);
	for (size_t i = 0; i < (size_t)n * nh; i++)
		t->Q[i] = t->Fp[i] * t->D[i];
	al__gemm_rows(n, nh, no, t->Q, nh, t->net.Wo + ni, nu, 1.0, DY, no);
	double num = 0, den = 0;
	for (size_t i = 0; i < (size_t)n * no; i++) {
		num += t->E[i] * DY[i];
		den += DY[i] * DY[i];
	}
	double z = den > 1e-300 ? num / den : 0;

	double *Wo_try = t->Wo_old, *XWoi_try = DY;
	const double e0 = t->mse;
	for (int h = 0; h <= t->o.safeguard; h++) {
		for (size_t i = 0; i < (size_t)n * nh; i++)
			t->Nt[i] = t->Net[i] + z * t->D[i];
		for (size_t i = 0; i < (size_t)no * nu; i++)
			Wo_try[i] = t->net.Wo[i] + z * pWo[i];
		for (size_t i = 0; i < (size_t)n * no; i++)
			XWoi_try[i] = t->XWoi[i] + z * XP[i];
		al__act_forward(&t->net, n, t->Nt, t->Ot, t->Fpt);
		double e1 = al__outputs(t, XWoi_try, t->Ot, Wo_try, t->Yt, t->Et);
		if (t->o.safeguard == 0 || e1 <= e0) {
			for (size_t i = 0; i < nW; i++)
				t->net.W[i] += z * pW[i];
			memcpy(t->net.Wo, Wo_try, (size_t)no * nu * sizeof(double));
			memcpy(t->XWoi, XWoi_try, (size_t)n * no * sizeof(double));
			double *s;
			s = t->Net, t->Net = t->Nt, t->Nt = s;
			s = t->O, t->O = t->Ot, t->Ot = s;
			s = t->Fp, t->Fp = t->Fpt, t->Fpt = s;
			s = t->Y, t->Y = t->Yt, t->Yt = s;
			s = t->E, t->E = t->Et, t->Et = s;
			t->mse = e1;
			info->z_mean = z;
			return AL_OK;
		}
		if (h < t->o.safeguard) {
			z *= 0.5;
			info->halvings++;
		}
	}
	info->rejected++;
	t->cg_iter = 0; /* restart next time */
	return AL_OK;
}

/* ---- Levenberg-Marquardt --------------------------------------------------- */
al_status al__lm_iterate(struct al_adact *t, al_adact_iter *info)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh, no = d->no, nu = t->nu;
	const int nw = (int)nweights(t), nW = nh * ni;
	double *JtJ = t->lm_JtJ, *J = t->lm_J, *Jte = t->lm_Jte;
	const double *Woh = t->net.Wo + ni;
	memset(JtJ, 0, (size_t)nw * nw * sizeof *JtJ);
	memset(Jte, 0, (size_t)nw * sizeof *Jte);
	for (int p0 = 0; p0 < n; p0 += t->lm_chunk) {
		int cs = n - p0 < t->lm_chunk ? n - p0 : t->lm_chunk, rows = cs * no;
		memset(J, 0, (size_t)rows * nw * sizeof *J);
		for (int q = 0; q < cs; q++) {
			int p = p0 + q;
			const double *x = d->X + (size_t)p * ni, *o = t->O + (size_t)p * nh;
			const double *fp = t->Fp + (size_t)p * nh;
			for (int i = 0; i < no; i++) {
				double *r = J + ((size_t)q * no + i) * nw;
				/* dy_i/dW(k,j) = Wo_h(i,k) f'_k x_j ; dy_i/dWo(i,u) = [x o]_u */
				for (int k = 0; k < nh; k++) {
					double c = Woh[(size_t)i * nu + k] * fp[k];
					if (c != 0)
						for (int j = 0; j < ni; j++)
							r[(size_t)k * ni + j] = c * x[j];
				}
				double *ro = r + nW + (size_t)i * nu;
				memcpy(ro, x, (size_t)ni * sizeof *ro);
				memcpy(ro + ni, o, (size_t)nh * sizeof *ro);
			}
		}
		cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, nw, rows, 1.0 / n, J, nw, 1.0,
			    JtJ, nw);
		cblas_dgemv(CblasRowMajor, CblasTrans, rows, nw, 1.0 / n, J, nw,
			    t->E + (size_t)p0 * no, 1, 1.0, Jte, 1);
	}
	const double e0 = t->mse;
	double *Wtry = t->G, *Wotry = t->Wo_old;
	for (int attempt = 0; attempt < 12; attempt++) {
		memcpy(t->lm_A, JtJ, (size_t)nw * nw * sizeof *JtJ);
		for (int i = 0; i < nw; i++)
			t->lm_A[(size_t)i * nw + i] += t->lm_mu;
		memcpy(t->lm_delta, Jte, (size_t)nw * sizeof *Jte);
		lapack_int rc =
			LAPACKE_dposv(LAPACK_ROW_MAJOR, 'U', nw, 1, t->lm_A, nw, t->lm_delta, 1);
		if (rc == 0) {
			for (int i = 0; i < nW; i++)
				Wtry[i] = t->net.W[i] + t->lm_delta[i];
			for (int i = 0; i < no * nu; i++)
				Wotry[i] = t->net.Wo[i] + t->lm_delta[nW + i];
			al__xbt(t, nh, Wtry, ni, t->Nt, nh);
			al__act_forward(&t->net, n, t->Nt, t->Ot, t->Fpt);
			al__xbt(t, no, Wotry, nu, t->XWoit, no);
			double e1 = al__outputs(t, t->XWoit, t->Ot, Wotry, t->Yt, t->Et);
			if (e1 < e0) {
				memcpy(t->net.W, Wtry, (size_t)nW * sizeof *Wtry);
				memcpy(t->net.Wo, Wotry, (size_t)no * nu * sizeof *Wotry);
				double *s;
				s = t->Net, t->Net = t->Nt, t->Nt = s;
				s = t->O, t->O = t->Ot, t->Ot = s;
				s = t->Fp, t->Fp = t->Fpt, t->Fpt = s;
				s = t->Y, t->Y = t->Yt, t->Yt = s;
				s = t->E, t->E = t->Et, t->Et = s;
				s = t->XWoi, t->XWoi = t->XWoit, t->XWoit = s;
				t->mse = e1;
				t->lm_mu = t->lm_mu / 10 > 1e-12 ? t->lm_mu / 10 : 1e-12;
				info->z_mean = t->lm_mu;
				return AL_OK;
			}
		}
		t->lm_mu = t->lm_mu * 10 < 1e12 ? t->lm_mu * 10 : 1e12;
		info->halvings++;
	}
	info->rejected++;
	info->z_mean = t->lm_mu;
	return AL_OK;
}

/* ---- mini-batch back-prop (SGD with momentum, Adam) ------------------------ */
static void bp_update(struct al_adact *t, double *w, size_t off, size_t cnt)
{
	const al_adact_opts *o = &t->o;
	double *g = t->bp_grad + off, *m = t->bp_m + off, *v = t->bp_v + off;
	double lr = o->lr > 0 ? o->lr : o->algo == AL_ADACT_SGD ? 1e-4 : 1e-3;
	if (o->algo == AL_ADACT_SGD) {
		for (size_t i = 0; i < cnt; i++) {
			m[i] = o->momentum * m[i] + g[i];
			w[i] -= lr * m[i];
		}
		return;
	}
	double bc1 = 1 - pow(o->beta1, (double)t->bp_step);
	double bc2 = 1 - pow(o->beta2, (double)t->bp_step);
	double step = lr / bc1, sq2 = sqrt(bc2);
	for (size_t i = 0; i < cnt; i++) {
		m[i] = o->beta1 * m[i] + (1 - o->beta1) * g[i];
		v[i] = o->beta2 * v[i] + (1 - o->beta2) * g[i] * g[i];
		w[i] -= step * m[i] / (sqrt(v[i]) / sq2 + o->eps);
	}
}

/* Gradients of the penalties on [W | Wo]: wd w on both (weight decay) and
 * 2 mu Wo (ridge), bias columns (the constant input's) excluded. */
static void bp_penalty(struct al_adact *t, double *grad)
{
	const double mu = t->o.ridge, wd = t->o.wd;
	const int ni = t->net.ni, nh = t->net.nh, no = t->net.no, nu = t->nu;
	if (!(mu > 0) && !(wd > 0))
		return;
	double *gWo = grad + (size_t)nh * ni;
	for (int k = 0; k < nh; k++)
		for (int j = 0; j < ni - 1; j++)
			grad[(size_t)k * ni + j] += wd * t->net.W[(size_t)k * ni + j];
	for (int i = 0; i < no; i++)
		for (int u = 0; u < nu; u++)
			if (u != ni - 1)
				gWo[(size_t)i * nu + u] += (wd + 2 * mu) * t->net.Wo[(size_t)i * nu + u];
}

al_status al__bp_epoch(struct al_adact *t, al_adact_iter *info)
{
	const al_adact_data *d = t->d;
	const int n = d->n, ni = d->ni, nh = t->net.nh, no = d->no, nu = t->nu, ns = t->net.ns;
	const size_t nW = (size_t)nh * ni, nWo = (size_t)no * nu, nA = (size_t)nh * ns;
	const int B = t->o.batch < n ? t->o.batch : n;
	for (int i = 0; i < n; i++)
		t->bp_idx[i] = i;
	al_rng_shuffle(&t->rng, t->bp_idx, (size_t)n);
	double *Xb = t->bp_Xb, *Tb = t->bp_Tb, *Nb = t->bp_N, *Ob = t->bp_O, *Fb = t->bp_Fp;
	double *Yb = t->bp_Y, *dY = t->bp_dY, *dO = t->bp_dO;
	for (int b0 = 0; b0 < n; b0 += B) {
		int bs = n - b0 < B ? n - b0 : B;
		for (int q = 0; q < bs; q++) {
			int p = t->bp_idx[b0 + q];
			memcpy(Xb + (size_t)q * ni, d->X + (size_t)p * ni, (size_t)ni * sizeof *Xb);
			memcpy(Tb + (size_t)q * no, d->T + (size_t)p * no, (size_t)no * sizeof *Tb);
		}
		batch_gradient(t, Xb, Tb, bs, Nb, Ob, Fb, Yb, dY, dO, t->bp_grad);
		bp_penalty(t, t->bp_grad);
		t->bp_step++;
		bp_update(t, t->net.W, 0, nW);
		bp_update(t, t->net.Wo, nW, nWo);
		bp_update(t, t->net.A, nW + nWo, nA);
	}
	al__forward(t);
	info->z_mean = t->o.lr > 0 ? t->o.lr : t->o.algo == AL_ADACT_SGD ? 1e-4 : 1e-3;
	return AL_OK;
}
