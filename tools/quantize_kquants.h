/* SPDX-License-Identifier: GPL-2.0 OR MIT */
/*
 * The k-quant quantizers (Q2_K .. Q6_K), written once for any vector width:
 * tools/quantize_weights.c includes this file twice, with four lanes
 * (portable) and with eight under target("avx2"), and picks one at run
 * time. Before including it defines LANES, the vector types vf_t and vi_t of
 * LANES floats and ints, FN(name) (the instance's function names) and
 * TARGET (a function attribute, or nothing). Both instances compute the
 * same bits.
 */

TARGET static inline void FN(iclamp)(vi_t *v, int lo, int hi)
{
	vi_t m = *v < lo;

	*v = ISEL(m, (vi_t){ 0 } + lo, *v);
	m = *v > hi;
	*v = ISEL(m, (vi_t){ 0 } + hi, *v);
}

TARGET static inline bool FN(any)(const vi_t *m)
{
	int j;

	for (j = 0; j < LANES; j++)
		if ((*m)[j])
			return true;
	return false;
}

/*
 * In the searches below lane j of a vector holds sub-block j (x[i]: element
 * i of each of LANES sub-blocks) and every lane performs exactly ggml's
 * scalar operations in their order; conditions become lane masks.
 */

/*
 * make_qkx2_quants: quants L in [0, nmax] and a scale and min (min <= 0,
 * returned as -min) for x = scale * L + min, minimizing the weighted
 * absolute (use_mad) or squared error: first the plain min/max split, then
 * nstep + 1 candidate scales ((rmin + rdelta * is + nmax) / range), each
 * refined by a weighted least-squares fit of scale and min to the quants it
 * rounds to; a better fit also moves min for the candidates after it.
 */
TARGET static void FN(qkx2_lanes)(int n, int nmax, const vf_t *x,
				  const vf_t *w, vi_t *L, float *scale_out,
				  float *min_out, float rmin, float rdelta,
				  int nstep, bool use_mad)
{
	const vf_t zero = { 0 };
	vf_t min = x[0], max = x[0], sum_w = w[0], sum_x = sum_w * x[0];
	vf_t min0, iscale, scale, best, diff, sl, sl2, sxl, wl, den, ts, tm, cur;
	vi_t Laux[32], flat, l, ok, better, pos;
	float num;
	int i, is, j;

	for (i = 1; i < n; i++) {
		min = VSEL(x[i] < min, x[i], min);
		max = VSEL(x[i] > max, x[i], max);
		sum_w += w[i];
		sum_x += w[i] * x[i];
	}
	min = VSEL(min > zero, zero, min);
	min0 = min;
	flat = max == min;
	iscale = (float)nmax / (max - min);
	scale = 1.0f / iscale;
	best = zero;
	for (i = 0; i < n; i++) {
		l = VNEAREST(iscale * (x[i] - min));
		FN(iclamp)(&l, 0, nmax);
		L[i] = l;
		diff = scale * VFLOAT(l) + min - x[i];
		diff = use_mad ? VABS(diff) : diff * diff;
		best += w[i] * diff;
	}
	for (is = 0; is <= nstep; is++) {
		num = rmin + rdelta * is + nmax;
		iscale = num / (max - min);
		sl = zero;
		sl2 = zero;
		sxl = zero;
		for (i = 0; i < n; i++) {
			l = VNEAREST(iscale * (x[i] - min));
			FN(iclamp)(&l, 0, nmax);
			Laux[i] = l;
			wl = w[i] * VFLOAT(l);
			sl += wl;
			sl2 += wl * VFLOAT(l);
			sxl += wl * x[i];
		}
		den = sum_w * sl2 - sl * sl;
		ok = den > zero;
		if (!FN(any)(&ok))
			continue;
		ts = (sum_w * sxl - sum_x * sl) / den;
		tm = (sl2 * sum_x - sl * sxl) / den;
		pos = tm > zero;
		tm = VSEL(pos, zero, tm);
		ts = VSEL(pos, sxl / sl2, ts);
		cur = zero;
		for (i = 0; i < n; i++) {
			diff = ts * VFLOAT(Laux[i]) + tm - x[i];
			diff = use_mad ? VABS(diff) : diff * diff;
			cur += w[i] * diff;
		}
		better = ok & (cur < best);
		if (!FN(any)(&better))
			continue;
		for (i = 0; i < n; i++)
			L[i] = ISEL(better, Laux[i], L[i]);
		best = VSEL(better, cur, best);
		scale = VSEL(better, ts, scale);
		min = VSEL(better, tm, min);
	}
	for (j = 0; j < LANES; j++) {
		scale_out[j] = flat[j] ? 0.0f : scale[j];
		min_out[j] = flat[j] ? -min0[j] : -min[j];
		for (i = 0; flat[j] && i < n; i++)
			L[i][j] = 0;
	}
}

/* Largest magnitude per lane (the first one on ties), sign kept. */
TARGET static void FN(lanes_max)(int n, const vf_t *x, vf_t *max_out,
				 vf_t *amax_out)
{
	vf_t max = { 0 }, amax = { 0 }, ax;
	vi_t m;
	int i;

	for (i = 0; i < n; i++) {
		ax = VABS(x[i]);
		m = ax > amax;
		amax = VSEL(m, ax, amax);
		max = VSEL(m, x[i], max);
	}
	*amax_out = amax;
	*max_out = max;
}

/*
 * make_q3_quants with do_rmse: symmetric quants in [-nmax, nmax), weights
 * x^2, scale = sum(w x l) / sum(w l^2); up to five passes move single quants
 * while the fit improves. A lane that stopped changing would not change in
 * another pass either, so lanes simply run until all have settled. L gets
 * the quants offset by nmax.
 */
TARGET static void FN(q3_lanes)(int n, int nmax, const vf_t *x, vi_t *L,
				float *scale_out)
{
	const vf_t zero = { 0 };
	vf_t amax, max, iscale, sumlx = zero, suml2 = zero, w, lf, nf, slx, sl2;
	vi_t l, nl, m, changed, tiny;
	int i, itry, j;

	FN(lanes_max)(n, x, &max, &amax);
	tiny = amax < GROUP_MAX_EPS;
	iscale = (float)-nmax / max;
	for (i = 0; i < n; i++) {
		l = VNEAREST(iscale * x[i]);
		FN(iclamp)(&l, -nmax, nmax - 1);
		L[i] = l;
		w = x[i] * x[i];
		sumlx += w * x[i] * VFLOAT(l);
		suml2 += w * VFLOAT(l) * VFLOAT(l);
	}
	for (itry = 0; itry < 5; itry++) {
		changed = (vi_t){ 0 };
		for (i = 0; i < n; i++) {
			w = x[i] * x[i];
			lf = VFLOAT(L[i]);
			slx = sumlx - w * x[i] * lf;
			sl2 = suml2 - w * lf * lf;
			nl = VNEAREST(x[i] * sl2 / slx);
			FN(iclamp)(&nl, -nmax, nmax - 1);
			m = (slx > zero) & (nl != L[i]);
			nf = VFLOAT(nl);
			slx += w * x[i] * nf;
			sl2 += w * nf * nf;
			m &= (sl2 > zero) & (slx * slx * suml2 > sumlx * sumlx * sl2);
			L[i] = ISEL(m, nl, L[i]);
			sumlx = VSEL(m, slx, sumlx);
			suml2 = VSEL(m, sl2, suml2);
			changed |= m;
		}
		if (!FN(any)(&changed))
			break;
	}
	for (i = 0; i < n; i++)
		L[i] = ISEL(tiny, (vi_t){ 0 }, L[i] + nmax);
	for (j = 0; j < LANES; j++)
		scale_out[j] = tiny[j] || !(suml2[j] > 0.0f) ? 0.0f :
			       sumlx[j] / suml2[j];
}

/*
 * make_qx_quants with rmse_type 1 and no importance weights: symmetric
 * quants (offset by nmax into L), weights x^2, the best fit among the
 * scales -(nmax + 0.1 * is) / max for is in -9..9.
 */
TARGET static void FN(qx_lanes)(int n, int nmax, const vf_t *x, vi_t *L,
				float *scale_out)
{
	const vf_t zero = { 0 };
	vf_t amax, max, iscale, sumlx, suml2, w, scale, best;
	vi_t Laux[16], l, better, tiny;
	int i, is, j;

	FN(lanes_max)(n, x, &max, &amax);
	tiny = amax < GROUP_MAX_EPS;
	iscale = (float)-nmax / max;
	sumlx = zero;
	suml2 = zero;
	for (i = 0; i < n; i++) {
		l = VNEAREST(iscale * x[i]);
		FN(iclamp)(&l, -nmax, nmax - 1);
		L[i] = l + nmax;
		w = x[i] * x[i];
		sumlx += w * x[i] * VFLOAT(l);
		suml2 += w * VFLOAT(l) * VFLOAT(l);
	}
	scale = VSEL(suml2 != zero, sumlx / suml2, zero);
	best = scale * sumlx;
	for (is = -9; is <= 9; is++) {
		if (is == 0)
			continue;
		iscale = -(nmax + 0.1f * is) / max;
		sumlx = zero;
		suml2 = zero;
		for (i = 0; i < n; i++) {
			l = VNEAREST(iscale * x[i]);
			FN(iclamp)(&l, -nmax, nmax - 1);
			Laux[i] = l;
			w = x[i] * x[i];
			sumlx += w * x[i] * VFLOAT(l);
			suml2 += w * VFLOAT(l) * VFLOAT(l);
		}
		better = (suml2 > zero) & (sumlx * sumlx > best * suml2);
		if (!FN(any)(&better))
			continue;
		for (i = 0; i < n; i++)
			L[i] = ISEL(better, Laux[i] + nmax, L[i]);
		scale = VSEL(better, sumlx / suml2, scale);
		best = VSEL(better, scale * sumlx, best);
	}
	for (i = 0; i < n; i++)
		L[i] = ISEL(tiny, (vi_t){ 0 }, L[i]);
	for (j = 0; j < LANES; j++)
		scale_out[j] = tiny[j] ? 0.0f : scale[j];
}

/* Sub-blocks of n elements, LANES of them from g * LANES, into lanes. */
TARGET static void FN(to_lanes)(const float *x, int n, int g, vf_t *xt)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < LANES; j++)
			xt[i][j] = x[(g * LANES + j) * n + i];
}

TARGET static void FN(from_lanes)(const vi_t *Lt, int n, int g, uint8_t *L)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < LANES; j++)
			L[(g * LANES + j) * n + i] = (uint8_t)Lt[i][j];
}

/* L[k] = clamp(nearest_int((x[k] + dm) / d), lo, hi) for k < n (n % 8 == 0). */
TARGET static void FN(requant)(const float *x, float dm, float d, int lo,
			       int hi, uint8_t *L, int off, int n)
{
	vf_t v;
	vi_t l;
	int k, j;

	for (k = 0; k < n; k += LANES) {
		memcpy(&v, x + k, sizeof(v));
		l = VNEAREST((v + dm) / d);
		FN(iclamp)(&l, lo, hi);
		for (j = 0; j < LANES; j++)
			L[k + j] = (uint8_t)(l[j] + off);
	}
}

/* ---------------------------------------------------------------------- */
/* k-quants                                                               */
/* ---------------------------------------------------------------------- */

/*
 * quantize_row_q2_K_ref. Block: scales[16] qs[64] d[2] dmin[2]; 16
 * sub-blocks of 16 weighted by |x|, 4-bit scales and mins.
 */
TARGET static void FN(quantize_q2_k)(const float *x, uint8_t *y, size_t k)
{
	const float q4scale = 15.f;
	uint8_t L[QK_K], *scales;
	float mins[QK_K / 16], sc[QK_K / 16], max_scale, max_min, iscale;
	float d, dm;
	vf_t xt[16], wt[16];
	vi_t Lt[16];
	size_t i;
	int j, l, g;

	for (i = 0; i < k / QK_K; i++, x += QK_K, y += 84) {
		scales = y;
		for (g = 0; g < 16 / LANES; g++) {
			FN(to_lanes)(x, 16, g, xt);
			for (l = 0; l < 16; l++)
				wt[l] = VABS(xt[l]);
			FN(qkx2_lanes)(16, 3, xt, wt, Lt, sc + LANES * g,
				       mins + LANES * g, -0.5f, 0.1f, 15, true);
			FN(from_lanes)(Lt, 16, g, L);
		}
		max_scale = 0;
		max_min = 0;
		for (j = 0; j < QK_K / 16; j++) {
			if (sc[j] > max_scale)
				max_scale = sc[j];
			if (mins[j] > max_min)
				max_min = mins[j];
		}
		if (max_scale > 0) {
			iscale = q4scale / max_scale;
			for (j = 0; j < QK_K / 16; j++)
				scales[j] = (uint8_t)nearest_int(iscale * sc[j]);
			put_f16(y + 80, max_scale / q4scale);
		} else {
			memset(scales, 0, QK_K / 16);
			put_f16(y + 80, 0.f);
		}
		if (max_min > 0) {
			iscale = q4scale / max_min;
			for (j = 0; j < QK_K / 16; j++) {
				l = nearest_int(iscale * mins[j]);
				scales[j] = (uint8_t)(scales[j] | l << 4);
			}
			put_f16(y + 82, max_min / q4scale);
		} else {
			put_f16(y + 82, 0.f);
		}
		for (j = 0; j < QK_K / 16; j++) {
			d = get_f16(y + 80) * (scales[j] & 0xf);
			if (d == 0.0f)
				continue;
			dm = get_f16(y + 82) * (scales[j] >> 4);
			FN(requant)(x + 16 * j, dm, d, 0, 3, L + 16 * j, 0, 16);
		}
		pack_2bit(L, y + 16);
	}
}

/*
 * quantize_row_q3_K_ref. Block: hmask[32] qs[64] scales[12] d[2]; 16
 * symmetric sub-blocks of 16, 6-bit scales against the largest.
 */
TARGET static void FN(quantize_q3_k)(const float *x, uint8_t *y, size_t k)
{
	uint8_t L[QK_K], *hmask, *sc12, hm;
	float scales[QK_K / 16], max_scale, amax, iscale, d;
	vf_t xt[16];
	vi_t Lt[16];
	size_t i;
	int j, l, m, s, g;

	for (i = 0; i < k / QK_K; i++, x += QK_K, y += 110) {
		hmask = y;
		sc12 = y + 96;
		for (g = 0; g < 16 / LANES; g++) {
			FN(to_lanes)(x, 16, g, xt);
			FN(q3_lanes)(16, 4, xt, Lt, scales + LANES * g);
			FN(from_lanes)(Lt, 16, g, L);
		}
		max_scale = 0;
		amax = 0;
		for (j = 0; j < QK_K / 16; j++) {
			if (fabsf(scales[j]) > amax) {
				amax = fabsf(scales[j]);
				max_scale = scales[j];
			}
		}
		memset(sc12, 0, 12);
		if (max_scale != 0.0f) {
			iscale = -32.f / max_scale;
			for (j = 0; j < QK_K / 16; j++) {
				l = (int8_t)nearest_int(iscale * scales[j]);
				l = imax(-32, imin(31, l)) + 32;
				if (j < 8)
					sc12[j] = (uint8_t)(l & 0xf);
				else
					sc12[j - 8] |= (uint8_t)((l & 0xf) << 4);
				l >>= 4;
				sc12[j % 4 + 8] |= (uint8_t)(l << (2 * (j / 4)));
			}
			put_f16(y + 108, 1 / iscale);
		} else {
			put_f16(y + 108, 0.f);
		}
		for (j = 0; j < QK_K / 16; j++) {
			s = j < 8 ? sc12[j] & 0xf : sc12[j - 8] >> 4;
			s = (int8_t)((s | ((sc12[8 + j % 4] >> (2 * (j / 4))) &
					   3) << 4) - 32);
			d = get_f16(y + 108) * s;
			if (d == 0.0f)
				continue;
			FN(requant)(x + 16 * j, 0.0f, d, -4, 3, L + 16 * j, 4, 16);
		}
		/* High bit of element j goes to bit j / 32 of hmask[j % 32]. */
		memset(hmask, 0, QK_K / 8);
		m = 0;
		hm = 1;
		for (j = 0; j < QK_K; j++) {
			if (L[j] > 3) {
				hmask[m] |= hm;
				L[j] = (uint8_t)(L[j] - 4);
			}
			if (++m == QK_K / 8) {
				m = 0;
				hm = (uint8_t)(hm << 1);
			}
		}
		pack_2bit(L, y + 32);
	}
}

/*
 * Q4_K and Q5_K (quantize_row_q4_K_ref, _q5_K_ref): 8 sub-blocks of 32
 * weighted by av_x + |x| (av_x: the sub-block's RMS), 6-bit scales and
 * mins against the largest. nmax is 15 or 31; L receives the quants.
 */
TARGET static void FN(quantize_k4)(const float *x, uint8_t *dd,
				   uint8_t *dmin, uint8_t *scales, uint8_t *L,
				   int nmax, float rmin, float rdelta, int nstep)
{
	uint8_t ls, lm, sc, m;
	float mins[QK_K / 32], scl[QK_K / 32], av_x[QK_K / 32];
	float max_scale = 0, max_min = 0, sum_x2, inv_scale, inv_min, d, dm;
	vf_t xt[32], wt[32];
	vi_t Lt[32];
	int j, l, g;

	for (j = 0; j < QK_K / 32; j++) {
		sum_x2 = 0;
		for (l = 0; l < 32; l++)
			sum_x2 += x[32 * j + l] * x[32 * j + l];
		av_x[j] = sqrtf(sum_x2 / 32);
	}
	for (g = 0; g < 8 / LANES; g++) {
		FN(to_lanes)(x, 32, g, xt);
		for (l = 0; l < 32; l++)
			for (j = 0; j < LANES; j++)
				wt[l][j] = av_x[LANES * g + j] +
					   fabsf(xt[l][j]);
		FN(qkx2_lanes)(32, nmax, xt, wt, Lt, scl + LANES * g,
			       mins + LANES * g, rmin, rdelta, nstep, false);
		FN(from_lanes)(Lt, 32, g, L);
	}
	for (j = 0; j < QK_K / 32; j++) {
		if (scl[j] > max_scale)
			max_scale = scl[j];
		if (mins[j] > max_min)
			max_min = mins[j];
	}
	inv_scale = max_scale > 0 ? 63.f / max_scale : 0.f;
	inv_min = max_min > 0 ? 63.f / max_min : 0.f;
	for (j = 0; j < QK_K / 32; j++) {
		ls = (uint8_t)nearest_int(inv_scale * scl[j]);
		lm = (uint8_t)nearest_int(inv_min * mins[j]);
		ls = ls < 63 ? ls : 63;
		lm = lm < 63 ? lm : 63;
		if (j < 4) {
			scales[j] = ls;
			scales[j + 4] = lm;
		} else {
			scales[j + 4] = (uint8_t)((ls & 0xf) | (lm & 0xf) << 4);
			scales[j - 4] |= (uint8_t)((ls >> 4) << 6);
			scales[j] |= (uint8_t)((lm >> 4) << 6);
		}
	}
	put_f16(dd, max_scale / 63.f);
	put_f16(dmin, max_min / 63.f);
	for (j = 0; j < QK_K / 32; j++) {
		get_scale_min_k4(j, scales, &sc, &m);
		d = get_f16(dd) * sc;
		if (d == 0.0f)
			continue;
		dm = get_f16(dmin) * m;
		FN(requant)(x + 32 * j, dm, d, 0, nmax, L + 32 * j, 0, 32);
	}
}

/* Block: d[2] dmin[2] scales[12] qs[128]. */
TARGET static void FN(quantize_q4_k)(const float *x, uint8_t *y, size_t k)
{
	uint8_t L[QK_K], *q;
	size_t i;
	int j, l;

	for (i = 0; i < k / QK_K; i++, x += QK_K, y += 144) {
		FN(quantize_k4)(x, y, y + 2, y + 4, L, 15, -1.f, 0.1f, 20);
		q = y + 16;
		for (j = 0; j < QK_K; j += 64, q += 32)
			for (l = 0; l < 32; l++)
				q[l] = (uint8_t)(L[j + l] | L[j + l + 32] << 4);
	}
}

/* Block: d[2] dmin[2] scales[12] qh[32] qs[128]. */
TARGET static void FN(quantize_q5_k)(const float *x, uint8_t *y, size_t k)
{
	uint8_t L[QK_K], *qh, *ql, m1, m2;
	size_t i;
	int n, j, l1, l2;

	for (i = 0; i < k / QK_K; i++, x += QK_K, y += 176) {
		FN(quantize_k4)(x, y, y + 2, y + 4, L, 31, -0.5f, 0.1f, 15);
		qh = y + 16;
		ql = y + 48;
		memset(qh, 0, QK_K / 8);
		m1 = 1;
		m2 = 2;
		for (n = 0; n < QK_K; n += 64, ql += 32) {
			for (j = 0; j < 32; j++) {
				l1 = L[n + j];
				if (l1 > 15) {
					l1 -= 16;
					qh[j] |= m1;
				}
				l2 = L[n + j + 32];
				if (l2 > 15) {
					l2 -= 16;
					qh[j] |= m2;
				}
				ql[j] = (uint8_t)(l1 | l2 << 4);
			}
			m1 = (uint8_t)(m1 << 2);
			m2 = (uint8_t)(m2 << 2);
		}
	}
}

/*
 * quantize_row_q6_K_ref. Block: ql[128] qh[64] scales[16] (int8) d[2]; 16
 * symmetric sub-blocks of 16, int8 scales against the largest.
 */
TARGET static void FN(quantize_q6_k)(const float *x, uint8_t *y, size_t k)
{
	uint8_t L[QK_K], *ql, *qh, q1, q2, q3, q4;
	float scl[QK_K / 16], max_scale, max_abs_scale, iscale, d;
	int8_t *scales;
	vf_t xt[16];
	vi_t Lt[16];
	size_t i;
	int ib, j, l, g;

	for (i = 0; i < k / QK_K; i++, x += QK_K, y += 210) {
		scales = (int8_t *)(y + 192);
		for (g = 0; g < 16 / LANES; g++) {
			FN(to_lanes)(x, 16, g, xt);
			FN(qx_lanes)(16, 32, xt, Lt, scl + LANES * g);
			FN(from_lanes)(Lt, 16, g, L);
		}
		max_scale = 0;
		max_abs_scale = 0;
		for (ib = 0; ib < QK_K / 16; ib++) {
			if (fabsf(scl[ib]) > max_abs_scale) {
				max_abs_scale = fabsf(scl[ib]);
				max_scale = scl[ib];
			}
		}
		if (max_abs_scale < GROUP_MAX_EPS) {
			memset(y, 0, 210);
			continue;
		}
		iscale = -128.f / max_scale;
		put_f16(y + 208, 1 / iscale);
		for (ib = 0; ib < QK_K / 16; ib++)
			scales[ib] = (int8_t)imin(127,
						  nearest_int(iscale * scl[ib]));
		for (j = 0; j < QK_K / 16; j++) {
			d = get_f16(y + 208) * scales[j];
			if (d == 0.0f)
				continue;
			FN(requant)(x + 16 * j, 0.0f, d, -32, 31, L + 16 * j, 32, 16);
		}
		ql = y;
		qh = y + 128;
		for (j = 0; j < QK_K; j += 128, ql += 64, qh += 32) {
			for (l = 0; l < 32; l++) {
				q1 = L[j + l] & 0xf;
				q2 = L[j + l + 32] & 0xf;
				q3 = L[j + l + 64] & 0xf;
				q4 = L[j + l + 96] & 0xf;
				ql[l] = (uint8_t)(q1 | q3 << 4);
				ql[l + 32] = (uint8_t)(q2 | q4 << 4);
				qh[l] = (uint8_t)((L[j + l] >> 4) |
						  (L[j + l + 32] >> 4) << 2 |
						  (L[j + l + 64] >> 4) << 4 |
						  (L[j + l + 96] >> 4) << 6);
			}
		}
	}
}

