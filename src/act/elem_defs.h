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
F(relu) { return x > C(0) ? x : C(0); }
DF(relu) { return x > C(0) ? C(1) : C(0); }

/* ---- leaky_relu: x for x > 0, slope*x otherwise; h[0] = slope ------------ */
F(leaky_relu) { return x > C(0) ? x : (T)h[0] * x; }
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
F(prelu) { return x > C(0) ? x : p[0] * x; }
DF(prelu)
{
	dp[0] = x > C(0) ? C(0) : x;
	return x > C(0) ? C(1) : p[0];
}
