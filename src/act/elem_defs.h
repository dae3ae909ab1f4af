/* elem_defs.h — scalar functions of the element-wise catalog entries.
 *
 * Included twice by catalog.c: with T=float (suffix _s, the project's
 * vector math) and with T=double (suffix _d, libm). Write every function
 * once, branch-free (ternaries compile to selects), with constants as C(v).
 * F(name): returns f(x). DF(name): returns df/dx and writes dp[k] = df/dp_k;
 * it may use y = f(x). Parameters p[k] and hypers h[k] follow the row's
 * declaration order in catalog.c. EXPN(v) is exp(v) for v <= 0 (float:
 * al_expf_fast, about half of al_expf's operations, 0.89 ulp); EXP43(v) the
 * same for v <= 43; EXPX(v) exp(v) for any v (float: al_expf_fast_ovf, +inf
 * on overflow); LOGP(v) log(v) for v >= FLT_MIN (float: al_logf_pos);
 * TANHP(v) tanh(v) for |v| < 0.6875 (float: al_tanhf's polynomial).
 * PREP(name) { ... } fills derived slots
 * p[NP..] from p[0..NP) (see AL_ELEM_KERNELS_X in elem.h). No include guard on purpose.
 */

/* SIG_PAIR(u, s, sd): s = sigma(u) and sd = sigma'(u) = sigma(u) sigma(-u)
 * from one exponential e = e^-|u| and one division: sigma(|u|) = 1/(1+e),
 * sigma(-|u|) = e/(1+e), sigma' = e/(1+e)^2 (no 1 - s cancellation). */
#define SIG_PAIR(u, s, sd)                                                         \
	T s, sd;                                                                   \
	{                                                                          \
		T e_ = EXPN(-ABS(u)), r_ = C(1) / (C(1) + e_);                      \
		s = (u) >= C(0) ? r_ : e_ * r_;                                    \
		sd = e_ * r_ * r_;                                                 \
	}

/* TANH_SECH2(v, t, s2): t = tanh(v) and s2 = sech^2(v) = 1 - t^2 from one
 * exponential w = e^(-2|v|) and one division r = 1/(1 + w): s2 = 4 w r^2
 * (no 1 - t^2 cancellation), t = (1 - w) r for |v| >= 0.6875 (w <= 0.253:
 * no cancellation either) and tanh's polynomial below, sign copied from v.
 * Replaces TANH(v) plus a second exponential and division for sech^2. */
#define TANH_SECH2(v, t, s2)                                                        \
	T t, s2;                                                                   \
	{                                                                          \
		T a_ = ABS(v), w_ = EXPN(C(-2) * a_), r_ = C(1) / (C(1) + w_);    \
		t = COPYSIGN(a_ < C(0.6875) ? TANHP(a_) : (C(1) - w_) * r_, v);     \
		s2 = C(4) * w_ * r_ * r_;                                          \
	}

/* TANH_SECH2_1M(v, t, s2): as TANH_SECH2, but t = (1 - w) r at every |v|,
 * with 1 - w from EXPN1M (float: al_expf_fast_1m, no cancellation) instead
 * of tanh's polynomial below 0.6875 and a select: tanh within 2.7 ulp
 * (TANH_SECH2's: 1.6), five fewer operations. */
#define TANH_SECH2_1M(v, t, s2)                                                     \
	T t, s2;                                                                   \
	{                                                                          \
		T a_ = ABS(v), om_, w_ = EXPN1M(C(-2) * a_, om_);                  \
		T r_ = C(1) / (C(1) + w_);                                         \
		t = COPYSIGN(om_ * r_, v);                                         \
		s2 = C(4) * w_ * r_ * r_;                                          \
	}

/* SIG1(u, s): T s = sigma(u) from one exponential and one division, as
 * SIG_PAIR forms it (no rounding compensation: about 2 ulp, where
 * al_sigmoidf spends four more operations for 1.97). TANH1(v, t): T t =
 * tanh(v) as TANH_SECH2 forms it (about 2 ulp; al_tanhf's compensation
 * costs four more operations for 1.23). For the forwards of trainable
 * entries, whose backwards already use SIG_PAIR / TANH_SECH2. */
#define SIG1(u, s)                                                                 \
	T s;                                                                       \
	{                                                                          \
		T e_ = EXPN(-ABS(u)), r_ = C(1) / (C(1) + e_);                      \
		s = (u) >= C(0) ? r_ : e_ * r_;                                    \
	}
#define TANH1(v, t)                                                                 \
	T t;                                                                       \
	{                                                                          \
		T a_ = ABS(v), om_, w_ = EXPN1M(C(-2) * a_, om_);                  \
		t = COPYSIGN(om_ / (C(1) + w_), v);                                \
	}

/* ---- identity --------------------------------------------------------- */
F(identity) { return x; }
DF(identity) { return C(1); }

/* ---- relu: max(0, x); derivative at 0 is 0 ------------------------------ */
F(relu) { return x < C(0) ? C(0) : x; } /* NaN propagates */
DF(relu) { return x > C(0) ? C(1) : C(0); }

/* ---- leaky_relu: x for x > 0, slope*x otherwise; h[0] = slope ------------ */
F(leaky_relu) { return x < C(0) ? (T)h[0] * x : x; }
DF(leaky_relu) { return x > C(0) ? C(1) : (T)h[0]; }

/* ---- sigmoid: 1/(1+e^-x), from e = e^-|x| so it never overflows -------- */
/* (x >= 0 ? 1 : e) / (1 + e): one division, the rounding of 1 + e not
 * compensated: 2.40 ulp, relative 1.8e-7 (al_sigmoidf's compensation
 * costs five more operations and, on Zen 5, 30% more forward time in the
 * generic loop and 55% in the 16-lane one, for 1.97 ulp and the same
 * relative 1.8e-7). catalog.c runs it on 16 lanes (al_sigmoidf16,
 * vmath16.h, with a table-driven exponential: same maximum error) where
 * the target has AVX-512. */
F(sigmoid)
{
	T e = EXPN(-ABS(x));
	return (x >= C(0) ? C(1) : e) / (C(1) + e);
}
/* sigma'(x) = e / (1 + e)^2 with e = e^-|x| (4.22 ulp): recomputed from x,
 * so the backward reads two streams (x, dy), not three (x, y, dy); no
 * 1 - y cancellation (y (1 - y) from the saved output, PyTorch's form, is
 * off by up to 2^-25 e^x relative: 4e-6 at x = 5, 7e-4 at 10, and 0 beyond
 * 17.3). One division instead of SIG_PAIR's reciprocal and two products
 * (5.08 ulp). */
DF(sigmoid)
{
	T e = EXPN(-ABS(x)), d = C(1) + e;
	(void)y;
	return e / (d * d);
}

/* ---- tanh ---------------------------------------------------------------- */
F(tanh) { return TANH(x); }
/* tanh'(x) = (1 - |y|)(1 + |y|) = e (1 + |y|)^2 with e = exp(-2|x|)
 * (1 - |y| = 2e/(1+e) = e (1 + |y|)): no cancellation near |y| = 1, no
 * division. */
DF(tanh)
{
	T e = EXPN(C(-2) * ABS(x)), a = C(1) + ABS(y);
	return e * a * a;
}

/* ---- prelu: x for x > 0, alpha*x otherwise; p[0] = alpha --------------- */
F(prelu) { return x < C(0) ? p[0] * x : x; }
DF(prelu)
{
	dp[0] = x > C(0) ? C(0) : x;
	return x > C(0) ? C(1) : p[0];
}

/* ---- relu6: min(max(0, x), 6) --------------------------------------------- */
F(relu6) { return x < C(0) ? C(0) : (x > C(6) ? C(6) : x); }
DF(relu6) { return (x > C(0) && x < C(6)) ? C(1) : C(0); }

/* ---- hardtanh: clamp(x, min_val, max_val); h = {min_val, max_val} --------- */
F(hardtanh) { return x < (T)h[0] ? (T)h[0] : (x > (T)h[1] ? (T)h[1] : x); }
DF(hardtanh) { return (x > (T)h[0] && x < (T)h[1]) ? C(1) : C(0); }

/* ---- elu: x > 0 ? x : alpha (e^x - 1); h = {alpha} ------------------------- */
F(elu) { return x > C(0) ? x : (T)h[0] * EXPM1(x); }
DF(elu) { return x > C(0) ? C(1) : (T)h[0] * EXP(x); }

/* ---- celu: max(0, x) + min(0, alpha (e^(x/alpha) - 1)); h = {alpha} -------- */
F(celu) { return x > C(0) ? x : (T)h[0] * EXPM1(x / (T)h[0]); }
DF(celu) { return x > C(0) ? C(1) : EXP(x / (T)h[0]); }

/* ---- selu: scale * (x > 0 ? x : alpha (e^x - 1)) --------------------------- */
#define SELU_L C(1.0507009873554804934193349852946)
#define SELU_A C(1.6732632423543772848170429916717)
F(selu) { return SELU_L * (x > C(0) ? x : SELU_A * EXPM1(x)); }
DF(selu) { return x > C(0) ? SELU_L : SELU_L * SELU_A * EXP(x); }

/* ---- gelu: h[0] = approximate (none: x Phi(x); tanh: 0.5x(1+tanh(u))) ----- */
/* Two scalar forms; catalog.c picks one per call, outside the loop. */
#define SQRT1_2 C(0.70710678118654752440084436210485)
#define INV_SQRT_2PI C(0.39894228040143267793994605993438)
#define SQRT_2_PI C(0.79788456080286535587989211986876)
F(gelu_none) { return C(0.5) * x * (C(1) + ERF(x * SQRT1_2)); }
/* Phi(x) + x phi(x), with Phi(x) = y / x read back from the forward's
 * output (one division instead of a second erf; the same value up to one
 * rounding) and Phi = 1/2 where |x| < 1e-30 (x = 0, and y subnormal). */
DF(gelu_none)
{
	T Phi = ABS(x) > C(1e-30) ? y / x : C(0.5);
	return Phi + x * INV_SQRT_2PI * EXPN(C(-0.5) * x * x);
}
F(gelu_tanh) { return C(0.5) * x * (C(1) + TANH(SQRT_2_PI * (x + C(0.044715) * x * x * x))); }
/* 0.5(1 + t) + 0.5 x sech^2(u) u', t and sech^2 from one e^(-2|u|)
 * (TANH_SECH2: no cancellation in sech^2) */
DF(gelu_tanh)
{
	T u = SQRT_2_PI * (x + C(0.044715) * x * x * x);
	TANH_SECH2(u, t, s2);
	return C(0.5) * (C(1) + t) +
	       C(0.5) * x * s2 * SQRT_2_PI * (C(1) + C(3) * C(0.044715) * x * x);
}

/* ---- silu / swish: x sigma(x) ----------------------------------------------- */
F(silu) { return x * SIGMOID(x); }
DF(silu)
{
	SIG_PAIR(x, s, sd);
	return s + x * sd;
}

/* ---- mish: x tanh(softplus(x)) ---------------------------------------------- */
/* One exponential: with e = e^x and n = e(e + 2) = (1 + e)^2 - 1,
 * tanh(softplus(x)) = n / (n + 2) (no cancellation: every term is positive),
 * and its derivative is 4 e (1 + e) / (n + 2)^2. Beyond x = 20 the factor is
 * 1 in float and in double, so e is clamped there (no overflow) and the
 * derivative is 1. */
F(mish)
{
	T e = EXP(x < C(20) ? x : C(20)), n = e * (e + C(2));
	return x * (n / (n + C(2)));
}
DF(mish)
{
	T e = EXP(x < C(20) ? x : C(20)), n = e * (e + C(2)), q = n + C(2);
	T d = n / q + x * (C(4) * e * (C(1) + e) / (q * q));
	return x > C(20) ? C(1) : d;
}

/* ---- hardswish: x relu6(x+3)/6 ---------------------------------------------- */
F(hardswish) { return x <= C(-3) ? C(0) : (x >= C(3) ? x : x * (x + C(3)) / C(6)); }
DF(hardswish) { return x <= C(-3) ? C(0) : (x >= C(3) ? C(1) : (C(2) * x + C(3)) / C(6)); }

/* ---- hardsigmoid: relu6(x+3)/6 ---------------------------------------------- */
F(hardsigmoid) { return x <= C(-3) ? C(0) : (x >= C(3) ? C(1) : (x + C(3)) / C(6)); }
DF(hardsigmoid) { return (x > C(-3) && x < C(3)) ? C(1) / C(6) : C(0); }

/* ---- softplus: log(1 + e^(beta x)) / beta; x where beta x > threshold ------- */
F(softplus)
{
	T bx = (T)h[0] * x;
	return bx > (T)h[1] ? x : SOFTPLUS(bx) / (T)h[0];
}
DF(softplus)
{
	T bx = (T)h[0] * x;
	return bx > (T)h[1] ? C(1) : SIGMOID(bx);
}

/* ---- softsign: x / (1 + |x|) ------------------------------------------------ */
F(softsign) { return x / (C(1) + ABS(x)); }
DF(softsign)
{
	T q = C(1) + ABS(x);
	return C(1) / (q * q);
}

/* ---- logsigmoid: log sigma(x) = -softplus(-x) ------------------------------- */
F(logsigmoid) { return -SOFTPLUS(-x); }
DF(logsigmoid) { return SIGMOID(-x); }

/* ---- tanhshrink: x - tanh(x) ------------------------------------------------ */
F(tanhshrink) { return x - TANH(x); }
DF(tanhshrink)
{
	T t = TANH(x);
	return t * t;
}

/* ---- softshrink: x - lambda sgn(x) outside [-lambda, lambda], else 0 -------- */
F(softshrink)
{
	T l = (T)h[0];
	return (x >= -l && x <= l) ? C(0) : (x > C(0) ? x - l : x + l);
}
DF(softshrink) { return (x > (T)h[0] || x < -(T)h[0]) ? C(1) : C(0); }

/* ---- hardshrink: x outside [-lambda, lambda], else 0 ------------------------ */
F(hardshrink) { return (x >= -(T)h[0] && x <= (T)h[0]) ? C(0) : x; }
DF(hardshrink) { return (x > (T)h[0] || x < -(T)h[0]) ? C(1) : C(0); }

/* ---- sqrt (seed 004, Yang 2018): sgn(x) sqrt(|x|); derivative with |x| >= eps */
F(sqrt) { return COPYSIGN(SQRT(ABS(x)), x); }
DF(sqrt)
{
	T a = ABS(x) > C(1e-6) ? ABS(x) : C(1e-6);
	return C(0.5) / SQRT(a);
}

/* ---- tanhexp (Liu & Di 2020): x tanh(e^x); y = x, y' = 1 beyond x = 20 -------
 * E = e^x with x <= 20 (the cheap exponential); tanh(E), E > 0, as
 * om/(1 + w) with w = e^(-2E) and om = 1 - w from EXPN1M (no cancellation
 * for small E, no polynomial and select), sech^2(E) = 4 w r^2 with
 * r = 1/(1 + w). Written as stages FS(tex_e) -> FS(tst_w) (tsqrt_tanh uses
 * it too) -> FS(tex_y) or FS(tex_d); catalog.c's float kernels run each stage
 * over a block before the next (the single loop was one dependent chain
 * of two exponentials and a division, latency-bound). */
/* w = e^(-2E) and om = 1 - w: tanh(E) = om / (1 + w), E > 0 */
static inline __attribute__((always_inline)) T FS(tst_w)(T E, T *om)
{
	return EXPN1M(C(-2) * E, *om);
}
static inline __attribute__((always_inline)) T FS(tex_e)(T x)
{
	return EXP43(x < C(20) ? x : C(20));
}
static inline __attribute__((always_inline)) T FS(tex_y)(T x, T w, T om)
{
	return x * (om / (C(1) + w));
}
static inline __attribute__((always_inline)) T FS(tex_d)(T x, T E, T w, T om)
{
	T r = C(1) / (C(1) + w), t = om * r, s2 = C(4) * w * r * r;
	return x > C(20) ? C(1) : t + x * E * s2;
}
/* f and f' together with one division (f = x om r: within an ulp or so of
 * FS(tex_y)), for the fused f, f' of adaptive:base=tanhexp */
static inline __attribute__((always_inline)) T FS(tex_fd)(T x, T E, T w, T om, T *f)
{
	T r = C(1) / (C(1) + w), t = om * r, s2 = C(4) * w * r * r;
	*f = x * t;
	return x > C(20) ? C(1) : t + x * E * s2;
}
F(tanhexp)
{
	T om, w = FS(tst_w)(FS(tex_e)(x), &om);
	return FS(tex_y)(x, w, om);
}
DF(tanhexp)
{
	(void)y;
	T E = FS(tex_e)(x), om, w = FS(tst_w)(E, &om);
	return FS(tex_d)(x, E, w, om);
}

/* ======================================================================
 * Trainable entries. p[k] follow the row's parameter order.
 * ====================================================================== */

/* ---- frelu (Qiu et al. 2018; seed 001): relu(x + delta) + eta ------------
 * h[0] = hshift: 1 trains delta (seed 001's form), 0 keeps delta fixed. */
F(frelu)
{
	T u = x + p[0];
	return (u < C(0) ? C(0) : u) + p[1];
}
DF(frelu)
{
	T g = x + p[0] > C(0) ? C(1) : C(0), tr = h[0] != 0 ? C(1) : C(0);
	dp[0] = g * tr; /* tr: a factor, not a select on h, so no loop versioning */
	dp[1] = C(1);
	return g;
}

/* ---- agsig (Hu 1992; seed 001): alpha / (1 + exp(-beta x)) --------------- */
F(agsig)
{
	T u = p[1] * x;
	SIG1(u, s);
	return p[0] * s;
}
DF(agsig)
{
	SIG_PAIR(p[1] * x, s, sd);
	dp[0] = s;
	dp[1] = p[0] * x * sd;
	return p[0] * p[1] * sd;
}

/* ---- swish_beta (Ramachandran et al. 2017): x sigmoid(beta x) ------------ */
F(swish_beta)
{
	T u = p[0] * x;
	SIG1(u, s);
	return x * s;
}
DF(swish_beta)
{
	SIG_PAIR(p[0] * x, s, sd);
	dp[0] = x * x * sd;
	return s + p[0] * x * sd;
}

/* ---- pelu (Trottier et al. 2017): (a/b) x for x >= 0, a (e^(x/b) - 1) else */
/* e^(x/b) and e^(x/b) - 1 for x < 0 from one exponential (EXPN1M: w and
 * 1 - w without cancellation; expm1 1.28 ulp against al_expm1f's 0.87) */
F(pelu)
{
	T u = (x >= C(0) ? C(0) : x) / p[1], om, w = EXPN1M(u, om); /* NaN passes */
	(void)w;
	return x >= C(0) ? p[0] / p[1] * x : -(p[0] * om);
}
DF(pelu)
{
	T a = p[0], b = p[1], u = (x >= C(0) ? C(0) : x) / b, om, e = EXPN1M(u, om);
	int pos = x >= C(0);
	dp[0] = pos ? x / b : -om;
	dp[1] = pos ? -a * x / (b * b) : -a * x / (b * b) * e;
	return pos ? a / b : a / b * e;
}

/* ---- asigmoid (seed 002): b sigmoid(a x + c) + d -------------------------- */
F(asigmoid)
{
	T u = p[0] * x + p[2];
	SIG1(u, s);
	return p[1] * s + p[3];
}
DF(asigmoid)
{
	T u = p[0] * x + p[2];
	SIG_PAIR(u, s, sd);
	dp[0] = p[1] * sd * x;
	dp[1] = s;
	dp[2] = p[1] * sd;
	dp[3] = C(1);
	return p[0] * p[1] * sd;
}

/* ---- atanh (seed 002): b tanh(a x + c) + d -------------------------------- */
F(atanh)
{
	T u = p[0] * x + p[2];
	TANH1(u, t);
	return p[1] * t + p[3];
}
DF(atanh)
{
	T u = p[0] * x + p[2];
	TANH_SECH2_1M(u, tt, td);
	dp[0] = p[1] * td * x;
	dp[1] = tt;
	dp[2] = p[1] * td;
	dp[3] = C(1);
	return p[0] * p[1] * td;
}

/* ---- arelu (seed 002): max(a x + c, b x + d); ties to the first line ------ */
F(arelu)
{
	T u1 = p[0] * x + p[2], u2 = p[1] * x + p[3];
	return u1 >= u2 ? u1 : u2;
}
DF(arelu)
{
	T u1 = p[0] * x + p[2], u2 = p[1] * x + p[3];
	int first = u1 >= u2;
	dp[0] = first ? x : C(0);
	dp[1] = first ? C(0) : x;
	dp[2] = first ? C(1) : C(0);
	dp[3] = first ? C(0) : C(1);
	return first ? p[0] : p[1];
}

/* ---- method2 (seed 002): X tanh(x) + Y sigmoid(x) + Z relu(x) -------------
 * h[0] mode: 0 softmax (X,Y,Z = softmax(theta)), 1 ratio (theta_r / sum),
 * 2 fixed (h[1..3]). The weights depend only on the parameters, so PREP
 * computes them once per run of shared parameters into the derived slots
 * p[B..B+2] (X, Y, Z) and p[B+3..B+5] (G_r, with df/dtheta_r =
 * G_r (phi_r - f): softmax X_r, ratio 1 / sum, fixed 0); B = NP. */
#define BLEND_PREP(B)                                                              \
	{                                                                          \
		T m_ = p[0] > p[1] ? p[0] : p[1];                                  \
		m_ = m_ > p[2] ? m_ : p[2];                                        \
		T e_[3] = {EXP(p[0] - m_), EXP(p[1] - m_), EXP(p[2] - m_)};        \
		T se = e_[0] + e_[1] + e_[2], sr = p[0] + p[1] + p[2];             \
		int md = (int)h[0];                                                \
		for (int r_ = 0; r_ < 3; r_++) {                                   \
			p[B + r_] = md == 0 ? e_[r_] / se                          \
					    : (md == 1 ? p[r_] / sr : (T)h[1 + r_]);   \
			p[B + 3 + r_] = md == 0 ? p[B + r_] : (md == 1 ? C(1) / sr : C(0)); \
		}                                                                  \
	}
#define BLEND_THETA_GRADS(B, phi, f)                                                \
	for (int r_ = 0; r_ < 3; r_++)                                              \
		dp[r_] = p[B + 3 + r_] * (phi[r_] - f);

PREP(method2) BLEND_PREP(3)
/* tanh(x) and sigma(x) from one exponential e1 = e^-|x| (EXPN1M, with
 * om1 = 1 - e1 without cancellation): tanh|x| = (1 - e1^2)/(1 + e1^2) =
 * om1 (1 + e1)/(1 + e1^2), sigma from r1 = 1/(1 + e1) as SIG_PAIR; two
 * divisions, about 3 ulp for tanh (al_tanhf + al_sigmoidf: two
 * exponentials and their rounding compensations). */
#define METHOD2_TS                                                                 \
	T om1, e1 = EXPN1M(-ABS(x), om1), r1 = C(1) / (C(1) + e1);                 \
	T t = COPYSIGN(om1 * (C(1) + e1) / (C(1) + e1 * e1), x);                    \
	T s = x >= C(0) ? r1 : e1 * r1;
F(method2)
{
	METHOD2_TS
	return p[3] * t + p[4] * s + p[5] * (x < C(0) ? C(0) : x);
}
DF(method2)
{
	/* sigma' = e1 r1^2, and tanh' = e1^2 (1 + |t|)^2 (1 - |t| = e (1 + |t|)
	 * with e = exp(-2|x|) = e1^2) */
	(void)y;
	METHOD2_TS
	T r = x < C(0) ? C(0) : x, a = C(1) + ABS(t), e = e1 * e1, sd = e1 * r1 * r1;
	T phi[3] = {t, s, r};
	T f = p[3] * t + p[4] * s + p[5] * r;
	BLEND_THETA_GRADS(3, phi, f);
	return p[3] * (e * a * a) + p[4] * sd + p[5] * (x > C(0) ? C(1) : C(0));
}

/* ---- method1 (seed 002): X ATanh(x) + Y ASigmoid(x) + Z AReLU(x), each
 * component with its own (a, b, c, d): p[3..6] tanh, p[7..10] sigmoid,
 * p[11..14] relu; derived weights in p[15..20] (PREP, as method2). */
PREP(method1) BLEND_PREP(15)
/* The forward takes tanh as TANH_SECH2 does and sigma as SIG_PAIR does
 * (one exponential and one division each, no rounding compensation: about
 * 2 ulp instead of al_tanhf's 1.23 and al_sigmoidf's 1.97, before the blend). */
F(method1)
{
	T ut = p[3] * x + p[5];
	TANH1(ut, th);
	T us = p[7] * x + p[9], es = EXPN(-ABS(us)), rs = C(1) / (C(1) + es);
	T ft = p[4] * th + p[6];
	T fs = p[8] * (us >= C(0) ? rs : es * rs) + p[10];
	T u1 = p[11] * x + p[13], u2 = p[12] * x + p[14];
	T fr = u1 >= u2 ? u1 : u2;
	return p[15] * ft + p[16] * fs + p[17] * fr;
}
/* The quantities DF and DFS share: tanh and sech^2 of the tanh component's
 * argument, sigma and sigma' of the sigmoid one's, the AReLU line, and
 * df/dx (dfdx). */
#define METHOD1_CORE                                                               \
	const T X0 = p[15], X1 = p[16], X2 = p[17];                                \
	T ut = p[3] * x + p[5];                                                    \
	TANH_SECH2_1M(ut, tt, td);                                                 \
	T us = p[7] * x + p[9];                                                    \
	SIG_PAIR(us, ss, sd);                                                      \
	T u1 = p[11] * x + p[13], u2 = p[12] * x + p[14];                          \
	int first = u1 >= u2;                                                      \
	T dfdx = X0 * p[3] * p[4] * td + X1 * p[7] * p[8] * sd + X2 * (first ? p[11] : p[12]);
DF(method1)
{
	(void)y;
	METHOD1_CORE
	T phi[3] = {p[4] * tt + p[6], p[8] * ss + p[10], first ? u1 : u2};
	T f = X0 * phi[0] + X1 * phi[1] + X2 * phi[2];
	BLEND_THETA_GRADS(15, phi, f);
	dp[3] = X0 * p[4] * td * x;
	dp[4] = X0 * tt;
	dp[5] = X0 * p[4] * td;
	dp[6] = X0;
	dp[7] = X1 * p[8] * sd * x;
	dp[8] = X1 * ss;
	dp[9] = X1 * p[8] * sd;
	dp[10] = X1;
	dp[11] = first ? X2 * x : C(0);
	dp[12] = first ? C(0) : X2 * x;
	dp[13] = first ? X2 : C(0);
	dp[14] = first ? C(0) : X2;
	return dfdx;
}
/* Shared parameters: the 15 gradient sums are combinations of 10 sums of
 * per-element terms (AL_ELEM_SUMS in elem.h): g = dy times {[first],
 * [!first], x [first], x [!first], tt, td, td x, ss, sd, sd x}. With
 * S_r = sum of dy phi_r and S_f = sum X_r S_r, d/dtheta_r = G_r (S_r - S_f)
 * (the sum of dy G_r (phi_r - f)). */
DFS(method1)
{
	(void)y;
	METHOD1_CORE
	T gx = g_dy * x, gt = g_dy * td, gs = g_dy * sd;
	g[0] = first ? g_dy : C(0);
	g[1] = first ? C(0) : g_dy;
	g[2] = first ? gx : C(0);
	g[3] = first ? C(0) : gx;
	g[4] = g_dy * tt;
	g[5] = gt;
	g[6] = gt * x;
	g[7] = g_dy * ss;
	g[8] = gs;
	g[9] = gs * x;
	return dfdx;
}
FIN(method1)
{
	(void)h;
	double q[21];
	for (int k = 0; k < 21; k++)
		q[k] = (double)p[k];
	const double X0 = q[15], X1 = q[16], X2 = q[17];
	double Sd = S[0] + S[1];
	double Sphi[3] = {q[4] * S[4] + q[6] * Sd, q[8] * S[7] + q[10] * Sd,
			  q[11] * S[2] + q[13] * S[0] + q[12] * S[3] + q[14] * S[1]};
	double Sf = X0 * Sphi[0] + X1 * Sphi[1] + X2 * Sphi[2];
	for (int r = 0; r < 3; r++)
		dp[r] = q[18 + r] * (Sphi[r] - Sf);
	dp[3] = X0 * q[4] * S[6];
	dp[4] = X0 * S[4];
	dp[5] = X0 * q[4] * S[5];
	dp[6] = X0 * Sd;
	dp[7] = X1 * q[8] * S[9];
	dp[8] = X1 * S[7];
	dp[9] = X1 * q[8] * S[8];
	dp[10] = X1 * Sd;
	dp[11] = X2 * S[2];
	dp[12] = X2 * S[3];
	dp[13] = X2 * S[0];
	dp[14] = X2 * S[1];
}

/* ---- seed 004's T-variants ------------------------------------------------ */
/* tleaky_relu: x for x > 0, z x otherwise */
F(tleaky_relu) { return x < C(0) ? p[0] * x : x; }
DF(tleaky_relu)
{
	dp[0] = x > C(0) ? C(0) : x;
	return x > C(0) ? C(1) : p[0];
}

/* thardswish: 0 (x <= -z), x (x >= z), x (x + z) / (2z) between */
F(thardswish)
{
	T z = p[0];
	return x <= -z ? C(0) : (x >= z ? x : x * (x + z) / (C(2) * z));
}
DF(thardswish)
{
	T z = p[0];
	int mid = x > -z && x < z;
	dp[0] = mid ? -x * x / (C(2) * z * z) : C(0);
	return mid ? (C(2) * x + z) / (C(2) * z) : (x >= z ? C(1) : C(0));
}

/* tgelu: z x (1 + erf(x / w)); (1/2, sqrt 2) is GELU */
#define TWO_SQRTPI C(1.1283791670955125738961589031215)
/* p[2] = 1/w (PREP: one division per run of shared parameters) */
PREP(tgelu) { p[2] = C(1) / p[1]; }
F(tgelu) { return p[0] * x * (C(1) + ERF(x * p[2])); }
DF(tgelu)
{
	T z = p[0], iw = p[2], r = x * iw, g = TWO_SQRTPI * EXPN(-r * r), ef = C(1) + ERF(r);
	dp[0] = x * ef;
	dp[1] = -z * x * x * g * (iw * iw);
	return z * ef + z * x * g * iw;
}

/* tselu: z x (x >= 0), z w (e^x - 1) (x < 0); (lambda, alpha) is SELU */
F(tselu) { return x >= C(0) ? p[0] * x : p[0] * p[1] * EXPM1(x); }
DF(tselu)
{
	int pos = x >= C(0);
	T em = EXPM1(pos ? C(0) : x);
	dp[0] = pos ? x : p[1] * em;
	dp[1] = pos ? C(0) : p[0] * em;
	return pos ? p[0] : p[0] * p[1] * (em + C(1));
}

/* tsqrt: sgn(x) |x|^z; derivative with |x| >= 1e-6; d/dz := 0 at x = 0.
 * Backward from one log and one exponential: q = ac^(z-1) (z lnac - lnac,
 * one rounding with FMA), dy/dx = z q, dy/dz = sgn(x) q ac lnac. The float
 * kernels for shared z run the log over a block before the rest
 * (FS(tsq_y), FS(tsq_d): what follows the log; see tsqrt_tanh). */
F(tsqrt) { return x == C(0) ? x : COPYSIGN(POW(ABS(x), p[0]), x); }
/* F from L = log|x| (float: POW(a, z) is exp(z log a) with these functions) */
static inline __attribute__((always_inline)) T FS(tsq_y)(T x, T z, T L)
{
	T r = EXPX(z * L);
	return x == C(0) ? x : COPYSIGN(z == C(0) ? C(1) : r, x);
}
static inline __attribute__((always_inline)) T FS(tsq_lnac)(T x)
{
	T a = ABS(x), ac = a > C(1e-6) ? a : C(1e-6);
	return LOGP(ac);
}
static inline __attribute__((always_inline)) T FS(tsq_d)(T x, T z, T lnac, T *dz_out)
{
	T a = ABS(x), ac = a > C(1e-6) ? a : C(1e-6);
	T q = EXPX(z * lnac - lnac);
	T dz = q * ac * lnac;
	*dz_out = x == C(0) ? C(0) : (x < C(0) ? -dz : dz);
	return z * q;
}
DF(tsqrt)
{
	(void)y;
	return FS(tsq_d)(x, p[0], FS(tsq_lnac)(x), &dp[0]);
}

/* tswish: x sigmoid(x ln z); z = e is Swish */
F(tswish)
{
	T u = x * LOG(p[0]);
	SIG1(u, s);
	return x * s;
}
DF(tswish)
{
	T b = LOG(p[0]);
	SIG_PAIR(b * x, s, sd);
	dp[0] = x * x * sd / p[0];
	return s + b * x * sd;
}

/* tsqrt_tanh: x tanh(exp(sgn(x) |x|^k)); k = 1 is TanhExp; u clamped at 20.
 * |x|^k = exp(k ln|x|) with k ln|x| clamped at 43 (|x|^k > e^43 saturates
 * either way: u >= 20, or E = e^u = 0), so every exponential is the cheap
 * one. The backward takes tanh(E) and sech^2(E) from one more exponential
 * (TANH_SECH2): four exponentials and a log in all, one division.
 * Written as five stages, FS(tst_ln) -> FS(tst_ak) -> FS(tst_e) ->
 * FS(tst_w) -> FS(tst_y) or FS(tst_d) (tst_pow: the first two): F and DF compose them, and catalog.c's float kernels for
 * shared k run each stage over a block before the next (one chain of a
 * log and four exponentials per element left the single loop
 * latency-bound); with AVX-512 those kernels are 16-lane stages in base 2
 * instead (catalog.c, tsqrt_tanh_fwd_st). */
static inline __attribute__((always_inline)) T FS(tst_ln)(T x)
{
	T a = ABS(x), ac = a > C(1e-30) ? a : C(1e-30);
	return LOGP(ac);
}
static inline __attribute__((always_inline)) T FS(tst_ak)(T x, T k, T lna)
{
	T t = k * lna;
	return ABS(x) > C(0) ? EXP43(t > C(43) ? C(43) : t) : C(0); /* |x|^k */
}
static inline __attribute__((always_inline)) T FS(tst_pow)(T x, T k, T *lna_out)
{
	T lna = FS(tst_ln)(x);
	*lna_out = lna;
	return FS(tst_ak)(x, k, lna);
}
static inline __attribute__((always_inline)) T FS(tst_e)(T x, T ak)
{
	T u = COPYSIGN(ak, x);
	return EXP43(u < C(20) ? u : C(20)); /* E = e^u */
}
/* FS(tst_w): w = e^(-2E) and om = 1 - w, defined with tanhexp above */
static inline __attribute__((always_inline)) T FS(tst_y)(T x, T w, T om)
{
	return x * (om / (C(1) + w));
}
/* tanh(E) = om r and sech^2(E) = 4 w r^2, r = 1/(1 + w), as TANH_SECH2_1M */
static inline __attribute__((always_inline)) T FS(tst_d)(T x, T k, T lna, T ak, T E, T w, T om,
							  T *dk)
{
	/* th's sign copy is a no-op (E > 0) that keeps om r from being fused into
	 * the last addition, which GCC does in some loops and not in others */
	T a = ABS(x), r = C(1) / (C(1) + w), th = COPYSIGN(om * r, E), sech2 = C(4) * w * r * r;
	int sat = COPYSIGN(ak, x) >= C(20);
	*dk = (sat || a == C(0)) ? C(0) : sech2 * E * ak * a * lna;
	return th + (sat ? C(0) : COPYSIGN(k * ak, x) * E * sech2);
}
F(tsqrt_tanh)
{
	T lna, ak = FS(tst_pow)(x, p[0], &lna);
	(void)lna;
	T om, w = FS(tst_w)(FS(tst_e)(x, ak), &om);
	return FS(tst_y)(x, w, om);
}
DF(tsqrt_tanh)
{
	(void)y;
	T lna, ak = FS(tst_pow)(x, p[0], &lna);
	T E = FS(tst_e)(x, ak), om, w = FS(tst_w)(E, &om);
	return FS(tst_d)(x, p[0], lna, ak, E, w, om, &dp[0]);
}
