/* elem_defs.h — scalar functions of the element-wise catalog entries.
 *
 * Included twice by catalog.c: with T=float (suffix _s, the project's
 * vector math) and with T=double (suffix _d, libm). Write every function
 * once, branch-free (ternaries compile to selects), with constants as C(v).
 * F(name): returns f(x). DF(name): returns df/dx and writes dp[k] = df/dp_k;
 * it may use y = f(x). Parameters p[k] and hypers h[k] follow the row's
 * declaration order in catalog.c. No include guard on purpose.
 */

/* ---- identity --------------------------------------------------------- */
F(identity) { return x; }
DF(identity) { return C(1); }

/* ---- relu: max(0, x); derivative at 0 is 0 ------------------------------ */
F(relu) { return x < C(0) ? C(0) : x; } /* NaN propagates */
DF(relu) { return x > C(0) ? C(1) : C(0); }

/* ---- leaky_relu: x for x > 0, slope*x otherwise; h[0] = slope ------------ */
F(leaky_relu) { return x < C(0) ? (T)h[0] * x : x; }
DF(leaky_relu) { return x > C(0) ? C(1) : (T)h[0]; }

/* ---- sigmoid: 1/(1+e^-x), from e^-|x| so it never overflows ------------- */
F(sigmoid) { return SIGMOID(x); }
/* sigma'(x) = e/(1+e)^2 with e = exp(-|x|): exact even where y(1-y) cancels */
DF(sigmoid)
{
	T e = EXP(-ABS(x)), q = C(1) + e;
	return e / (q * q);
}

/* ---- tanh ---------------------------------------------------------------- */
F(tanh) { return TANH(x); }
/* tanh'(x) = 4e/(1+e)^2 with e = exp(-2|x|): no cancellation near |y| = 1 */
DF(tanh)
{
	T e = EXP(C(-2) * ABS(x)), q = C(1) + e;
	return C(4) * e / (q * q);
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
/* Phi(x) + x phi(x) */
DF(gelu_none) { return C(0.5) * (C(1) + ERF(x * SQRT1_2)) + x * INV_SQRT_2PI * EXP(C(-0.5) * x * x); }
F(gelu_tanh) { return C(0.5) * x * (C(1) + TANH(SQRT_2_PI * (x + C(0.044715) * x * x * x))); }
/* 0.5(1 + t) + 0.5 x sech^2(u) u', sech^2 from e^(-2|u|) (no cancellation) */
DF(gelu_tanh)
{
	T u = SQRT_2_PI * (x + C(0.044715) * x * x * x);
	T e = EXP(C(-2) * ABS(u)), q = C(1) + e;
	return C(0.5) * (C(1) + TANH(u)) +
	       C(0.5) * x * (C(4) * e / (q * q)) * SQRT_2_PI * (C(1) + C(3) * C(0.044715) * x * x);
}

/* ---- silu / swish: x sigma(x) ----------------------------------------------- */
F(silu) { return x * SIGMOID(x); }
DF(silu)
{
	T s = SIGMOID(x);
	return s + x * s * SIGMOID(-x);
}

/* ---- mish: x tanh(softplus(x)) ---------------------------------------------- */
F(mish) { return x * TANH(SOFTPLUS(x)); }
DF(mish)
{
	/* m = e^(-2 sp) - 1 (expm1: no cancellation when sp is tiny):
	 * tanh(sp) = -m/(2+m), sech^2(sp) = 4(1+m)/(2+m)^2 */
	T m = EXPM1(C(-2) * SOFTPLUS(x)), q = C(2) + m;
	return -m / q + x * (C(4) * (C(1) + m) / (q * q)) * SIGMOID(x);
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

/* ---- tanhexp (Liu & Di 2020): x tanh(e^x); y = x, y' = 1 beyond x = 20 ------- */
F(tanhexp)
{
	T xc = x < C(20) ? x : C(20);
	return x > C(20) ? x : x * TANH(EXP(xc));
}
DF(tanhexp)
{
	T xc = x < C(20) ? x : C(20);
	T E = EXP(xc), w = EXP(C(-2) * E), q = C(1) + w;
	T d = TANH(E) + x * E * (C(4) * w / (q * q));
	return x > C(20) ? C(1) : d;
}
