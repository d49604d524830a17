// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Scalar reference for GGUF tensor types: block layouts, dequantization
 * (to_float), activation quantization (from_float) and dot products
 * (vec_dot), following ggml's reference C code so that results track
 * llama.cpp. Everything here is plain, readable C on purpose: the SIMD
 * kernels are tested against it.
 *
 * Conventions:
 *  - Blocks are read as byte arrays (structs of uint8_t/int8_t only, so
 *    alignment 1): a Q8_0 block is 34 bytes, so its fp16 scale sits at odd
 *    addresses in a row, and GGUF data is little-endian whatever the host.
 *  - vec_dot(n, w, x): w holds n weights of the type, x holds n activations
 *    already quantized to the type's vec_dot_type. As in ggml, each block's
 *    products are summed exactly in integers and only then scaled in float.
 */
#include "quant.h"

/* ---------------------------------------------------------------------- */
/* Little-endian byte access and float bit casts                          */
/* ---------------------------------------------------------------------- */

static inline uint16_t get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | (p[1] << 8));
}

static inline int32_t get_s16(const uint8_t *p)
{
	int32_t u = get_u16(p);

	return u - ((u & 0x8000) << 1);
}

static inline uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline void put_u16(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static inline void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t f32_bits(float f)
{
	uint32_t u;

	memcpy(&u, &f, sizeof(u));
	return u;
}

static inline float f32_from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, sizeof(f));
	return f;
}

static inline float get_f32(const uint8_t *p)
{
	return f32_from_bits(get_u32(p));
}

static inline float get_f16(const uint8_t *p)
{
	return lx_fp16_to_fp32(get_u16(p));
}

static inline float get_bf16(const uint8_t *p)
{
	return lx_bf16_to_fp32(get_u16(p));
}

/* fabsf(): clear the sign bit, so -0.0 and NaN behave as in libm. */
static inline float abs_f32(float x)
{
	return f32_from_bits(f32_bits(x) & 0x7fffffffu);
}

/* ---------------------------------------------------------------------- */
/* Half and bfloat16                                                      */
/* ---------------------------------------------------------------------- */

/*
 * binary16: 1 sign, 5 exponent (bias 15), 10 mantissa bits. Every half is
 * exactly representable as a float, so this is pure bit rearranging.
 */
float lx_fp16_to_fp32(uint16_t h)
{
	uint32_t sign = (uint32_t)(h & 0x8000) << 16;
	uint32_t exp = (h >> 10) & 0x1f;
	uint32_t mant = h & 0x3ff;

	if (exp == 0x1f)		/* inf, or NaN keeping its payload */
		return f32_from_bits(sign | 0x7f800000u | mant << 13);
	if (exp != 0)			/* normal: rebias 15 -> 127 */
		return f32_from_bits(sign | (exp + 112) << 23 | mant << 13);
	if (mant == 0)
		return f32_from_bits(sign);
	/*
	 * Subnormal, mant * 2^-24: shift the leading one up to the implicit
	 * bit position (bit 10), lowering the exponent once per shift.
	 */
	exp = 113;
	while (!(mant & 0x400)) {
		mant <<= 1;
		exp--;
	}
	return f32_from_bits(sign | exp << 23 | (mant & 0x3ff) << 13);
}

uint16_t lx_fp32_to_fp16(float f)
{
	uint32_t u = f32_bits(f);
	uint32_t sign = (u >> 16) & 0x8000;
	uint32_t a = u & 0x7fffffffu;
	uint32_t m, shift, q, rem, half;

	if (a > 0x7f800000u)		/* NaN: ggml's canonical quiet NaN */
		return (uint16_t)(sign | 0x7e00);
	/*
	 * 65520 (0x477ff000) is halfway between the largest half, 65504, and
	 * 65536; ties go to even, and 65504's mantissa is odd, so 65520 and
	 * everything above it (inf included) become inf.
	 */
	if (a >= 0x477ff000u)
		return (uint16_t)(sign | 0x7c00);
	if (a >= 0x38800000u) {
		/*
		 * Normal half (>= 2^-14). Rebias the exponent (127 -> 15) and
		 * drop 13 mantissa bits, adding just under half an ulp plus the
		 * kept lsb: round to nearest, ties to even. A carry out of the
		 * mantissa correctly bumps the exponent.
		 */
		a -= 112u << 23;
		a += 0xfff + ((a >> 13) & 1);
		return (uint16_t)(sign | a >> 13);
	}
	/*
	 * Subnormal half or zero: the result counts units of 2^-24. The float
	 * is m * 2^(e - 150) with the implicit bit in m, which is
	 * m >> (126 - e) units; below 2^-25 everything rounds to zero.
	 */
	shift = 126 - (a >> 23);
	if (shift > 24)
		return (uint16_t)sign;
	m = (a & 0x7fffff) | 0x800000;
	q = m >> shift;
	rem = m & ((1u << shift) - 1);
	half = 1u << (shift - 1);
	if (rem > half || (rem == half && (q & 1)))
		q++;	/* may reach 0x400: the smallest normal, still right */
	return (uint16_t)(sign | q);
}

/* bfloat16 is the top half of a float. */
float lx_bf16_to_fp32(uint16_t h)
{
	return f32_from_bits((uint32_t)h << 16);
}

uint16_t lx_fp32_to_bf16(float f)
{
	uint32_t u = f32_bits(f);

	/* NaN: truncate (payload's top bits stay) and set the quiet bit. */
	if ((u & 0x7fffffffu) > 0x7f800000u)
		return (uint16_t)((u >> 16) | 0x40);
	/* Round to nearest even; overflow carries into inf by itself. */
	return (uint16_t)((u + 0x7fff + ((u >> 16) & 1)) >> 16);
}

/* ---------------------------------------------------------------------- */
/* Rounding without libm                                                  */
/* ---------------------------------------------------------------------- */

/*
 * Round to nearest, ties to even: ggml's nearest_int() (1.5 * 2^23 added,
 * low mantissa bits read; quantize_row_q8_K_ref) and the vroundps of its
 * x86 quantize_row_q8_0/q8_1. Saturates to the int8 range (NaN gives 0) so
 * that no input can make a float-to-int conversion undefined; quantizer
 * inputs are within [-127, 127] up to a few ulps, where they are exact
 * roundings. For |x| < 2^23, x - trunc(x) is exact in float, so the
 * fraction test is too.
 */
static int8_t round_even_i8(float x)
{
	int i;
	float frac;

	if (!(x > -128.0f))
		return x != x ? 0 : -128;
	if (x >= 127.0f)
		return 127;
	i = (int)x;
	frac = x - (float)i;
	if (frac > 0.5f || (frac == 0.5f && i % 2 != 0))
		i++;
	else if (frac < -0.5f || (frac == -0.5f && i % 2 != 0))
		i--;
	return (int8_t)i;
}

/* ---------------------------------------------------------------------- */
/* Block layouts (ggml-common.h); fp16 fields are 2-byte arrays           */
/* ---------------------------------------------------------------------- */

/*
 * Simple quants, 32 elements per block. A byte qs[j] holds element j in its
 * low nibble and element j + 16 in its high nibble (not j and j + 1), so a
 * block's two halves are unpacked with one mask and one shift.
 */
struct blk_q4_0 {
	uint8_t d[2];		/* fp16 scale: x = d * (q - 8) */
	uint8_t qs[LX_QK / 2];
};

struct blk_q4_1 {
	uint8_t d[2];		/* fp16: x = d * q + m */
	uint8_t m[2];		/* fp16 */
	uint8_t qs[LX_QK / 2];
};

/* Q5: the fifth bit of element j is bit j of the little-endian u32 qh. */
struct blk_q5_0 {
	uint8_t d[2];		/* fp16: x = d * (q - 16) */
	uint8_t qh[4];
	uint8_t qs[LX_QK / 2];
};

struct blk_q5_1 {
	uint8_t d[2];		/* fp16: x = d * q + m */
	uint8_t m[2];		/* fp16 */
	uint8_t qh[4];
	uint8_t qs[LX_QK / 2];
};

struct blk_q8_0 {
	uint8_t d[2];		/* fp16: x = d * q */
	int8_t qs[LX_QK];
};

/*
 * Activation type for Q4_1/Q5_1: s = d * sum(q), precomputed so that the
 * weight offset m contributes m * s to a block's dot without a second pass.
 */
struct blk_q8_1 {
	uint8_t d[2];		/* fp16 */
	uint8_t s[2];		/* fp16 */
	int8_t qs[LX_QK];
};

/*
 * k-quants: 256-element super-blocks of 16 or 32-element sub-blocks, each
 * with a small integer scale (and min) multiplied by the fp16 super-block
 * scale d (and dmin).
 *
 * Q2_K: 16 sub-blocks of 16. scales[i]: low nibble scale, high nibble min:
 * x = d * sc * q - dmin * m, q in 0..3. Element e = 32 * s + l (s < 8,
 * l < 32) is bits 2 * (s % 4) of qs[32 * (s / 4) + l]: each run of 32 bytes
 * holds four 32-element slices, one per bit pair.
 */
struct blk_q2_k {
	uint8_t scales[LX_QK_K / 16];
	uint8_t qs[LX_QK_K / 4];
	uint8_t d[2];
	uint8_t dmin[2];
};

/*
 * Q3_K: 16 sub-blocks of 16, x = d * (sc - 32) * q, q in -4..3. The two
 * low bits of element e = 32 * s + l lie as in Q2_K; its third bit is bit s
 * of hmask[l], and when it is CLEAR the value is lowered by 4. The sixteen
 * 6-bit scales are packed into 12 bytes, see unpack_scales_q3_k().
 */
struct blk_q3_k {
	uint8_t hmask[LX_QK_K / 8];
	uint8_t qs[LX_QK_K / 4];
	uint8_t scales[12];
	uint8_t d[2];
};

/*
 * Q4_K: 8 sub-blocks of 32, x = d * sc * q - dmin * m, q in 0..15, with
 * 6-bit sc and m packed into 12 bytes (unpack_scale_min_k4()). Element
 * e = 32 * s + l is the low nibble (s even) or high nibble (s odd) of
 * qs[32 * (s / 2) + l].
 */
struct blk_q4_k {
	uint8_t d[2];
	uint8_t dmin[2];
	uint8_t scales[12];
	uint8_t qs[LX_QK_K / 2];
};

/* Q5_K: Q4_K plus a fifth bit: bit s of qh[l] adds 16 to element 32s + l. */
struct blk_q5_k {
	uint8_t d[2];
	uint8_t dmin[2];
	uint8_t scales[12];
	uint8_t qh[LX_QK_K / 8];
	uint8_t qs[LX_QK_K / 2];
};

/*
 * Q6_K: 16 sub-blocks of 16 with int8 scales, x = d * sc * (q - 32), q in
 * 0..63. Each half h of 128 elements uses ql[64h..64h+63] and
 * qh[32h..32h+31]: element 128h + 32g + l (g < 4, l < 32) takes its low
 * four bits from nibble g / 2 of ql[64h + 32 * (g % 2) + l] and its high
 * two bits from bits 2g of qh[32h + l].
 */
struct blk_q6_k {
	uint8_t ql[LX_QK_K / 2];
	uint8_t qh[LX_QK_K / 4];
	int8_t scales[LX_QK_K / 16];
	uint8_t d[2];
};

/*
 * Activation type for k-quants: a float scale (not fp16) and the sums of
 * each 16 quants, which let a dot apply the weights' mins per sub-block
 * without touching the quants again.
 */
struct blk_q8_k {
	uint8_t d[4];			/* float, little-endian */
	int8_t qs[LX_QK_K];
	uint8_t bsums[LX_QK_K / 16 * 2];	/* int16, little-endian */
};

_Static_assert(sizeof(struct blk_q4_0) == 18, "q4_0 block size");
_Static_assert(sizeof(struct blk_q4_1) == 20, "q4_1 block size");
_Static_assert(sizeof(struct blk_q5_0) == 22, "q5_0 block size");
_Static_assert(sizeof(struct blk_q5_1) == 24, "q5_1 block size");
_Static_assert(sizeof(struct blk_q8_0) == 34, "q8_0 block size");
_Static_assert(sizeof(struct blk_q8_1) == 36, "q8_1 block size");
_Static_assert(sizeof(struct blk_q2_k) == 84, "q2_k block size");
_Static_assert(sizeof(struct blk_q3_k) == 110, "q3_k block size");
_Static_assert(sizeof(struct blk_q4_k) == 144, "q4_k block size");
_Static_assert(sizeof(struct blk_q5_k) == 176, "q5_k block size");
_Static_assert(sizeof(struct blk_q6_k) == 210, "q6_k block size");
_Static_assert(sizeof(struct blk_q8_k) == 292, "q8_k block size");

/* ---------------------------------------------------------------------- */
/* k-quant unpacking shared by to_float and vec_dot                       */
/* ---------------------------------------------------------------------- */

/*
 * Q4_K/Q5_K scales and mins, 8 of each, 6 bits, in 12 bytes. The first four
 * pairs sit whole in the low 6 bits of bytes 0-3 (scales) and 4-7 (mins).
 * The last four take their low 4 bits from the nibbles of bytes 8-11 (scale
 * low, min high) and their top 2 bits from the spare top bits of bytes 0-3
 * (scales) and 4-7 (mins).
 */
static void unpack_scale_min_k4(const uint8_t s[12], uint8_t sc[8],
				uint8_t mn[8])
{
	int j;

	for (j = 0; j < 4; j++) {
		sc[j] = s[j] & 63;
		mn[j] = s[j + 4] & 63;
	}
	for (j = 4; j < 8; j++) {
		sc[j] = (uint8_t)((s[j + 4] & 0xf) | (s[j - 4] >> 6) << 4);
		mn[j] = (uint8_t)((s[j + 4] >> 4) | (s[j] >> 6) << 4);
	}
}

/*
 * Q3_K's sixteen 6-bit scales in 12 bytes: the low 4 bits of scale j are
 * the low nibble of byte j (j < 8) or the high nibble of byte j - 8; its
 * top 2 bits are bits 2 * (j / 4) of byte 8 + j % 4. Stored biased by 32.
 */
static void unpack_scales_q3_k(const uint8_t s[12], int sc[16])
{
	int j, lo, hi;

	for (j = 0; j < 16; j++) {
		lo = j < 8 ? s[j] & 0xf : s[j - 8] >> 4;
		hi = (s[8 + j % 4] >> (2 * (j / 4))) & 3;
		sc[j] = (lo | hi << 4) - 32;
	}
}

/* Quants of one super-block, in element order (see the layouts above). */
static void unpack_q2_k(const struct blk_q2_k *b, int8_t q[LX_QK_K])
{
	int s, l;

	for (s = 0; s < 8; s++)
		for (l = 0; l < 32; l++)
			q[32 * s + l] = (int8_t)((b->qs[32 * (s / 4) + l] >>
						  (2 * (s % 4))) & 3);
}

static void unpack_q3_k(const struct blk_q3_k *b, int8_t q[LX_QK_K])
{
	int s, l, lo;

	for (s = 0; s < 8; s++)
		for (l = 0; l < 32; l++) {
			lo = (b->qs[32 * (s / 4) + l] >> (2 * (s % 4))) & 3;
			q[32 * s + l] = (int8_t)((b->hmask[l] >> s) & 1 ?
						 lo : lo - 4);
		}
}

static void unpack_q4_k(const uint8_t qs[LX_QK_K / 2], int8_t q[LX_QK_K])
{
	int s, l;

	for (s = 0; s < 8; s++)
		for (l = 0; l < 32; l++)
			q[32 * s + l] = (int8_t)((qs[32 * (s / 2) + l] >>
						  (4 * (s % 2))) & 0xf);
}

static void unpack_q5_k(const struct blk_q5_k *b, int8_t q[LX_QK_K])
{
	int s, l;

	unpack_q4_k(b->qs, q);
	for (s = 0; s < 8; s++)
		for (l = 0; l < 32; l++)
			q[32 * s + l] |= (int8_t)(((b->qh[l] >> s) & 1) << 4);
}

static void unpack_q6_k(const struct blk_q6_k *b, int8_t q[LX_QK_K])
{
	int h, g, l, lo, hi;

	for (h = 0; h < 2; h++)
		for (g = 0; g < 4; g++)
			for (l = 0; l < 32; l++) {
				lo = (b->ql[64 * h + 32 * (g % 2) + l] >>
				      (4 * (g / 2))) & 0xf;
				hi = (b->qh[32 * h + l] >> (2 * g)) & 3;
				q[128 * h + 32 * g + l] =
					(int8_t)((lo | hi << 4) - 32);
			}
}

/* Sum over k of a[k] * b[k]: exact, |a|, |b| <= 128 and k <= 256. */
static int32_t dot_i8(const int8_t *a, const int8_t *b, int k)
{
	int32_t sum = 0;
	int i;

	for (i = 0; i < k; i++)
		sum += a[i] * b[i];
	return sum;
}

/* ---------------------------------------------------------------------- */
/* F32, F16, BF16                                                         */
/* ---------------------------------------------------------------------- */

static void to_float_f32(const void *src, float *dst, size_t n)
{
	memcpy(dst, src, n * sizeof(float));
}

static void from_float_f32(const float *src, void *dst, size_t n)
{
	memcpy(dst, src, n * sizeof(float));
}

/*
 * ggml_vec_dot_f32/f16/bf16 (scalar): each product is rounded to float and
 * accumulated in double (ggml_float). Products of halves and of bfloat16s
 * are exact in float; only the F32 one rounds.
 */
static float vec_dot_f32(size_t n, const void *w, const void *x)
{
	const uint8_t *pw = w, *px = x;
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (double)(get_f32(pw + 4 * i) * get_f32(px + 4 * i));
	return (float)sum;
}

static void to_float_f16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = get_f16(p + 2 * i);
}

static void from_float_f16(const float *src, void *dst, size_t n)
{
	uint8_t *p = dst;
	size_t i;

	for (i = 0; i < n; i++)
		put_u16(p + 2 * i, lx_fp32_to_fp16(src[i]));
}

static float vec_dot_f16(size_t n, const void *w, const void *x)
{
	const uint8_t *pw = w, *px = x;
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (double)(get_f16(pw + 2 * i) * get_f16(px + 2 * i));
	return (float)sum;
}

static void to_float_bf16(const void *src, float *dst, size_t n)
{
	const uint8_t *p = src;
	size_t i;

	for (i = 0; i < n; i++)
		dst[i] = get_bf16(p + 2 * i);
}

static void from_float_bf16(const float *src, void *dst, size_t n)
{
	uint8_t *p = dst;
	size_t i;

	for (i = 0; i < n; i++)
		put_u16(p + 2 * i, lx_fp32_to_bf16(src[i]));
}

static float vec_dot_bf16(size_t n, const void *w, const void *x)
{
	const uint8_t *pw = w, *px = x;
	double sum = 0.0;
	size_t i;

	for (i = 0; i < n; i++)
		sum += (double)(get_bf16(pw + 2 * i) * get_bf16(px + 2 * i));
	return (float)sum;
}

/* ---------------------------------------------------------------------- */
/* Activation quantizers: Q8_0, Q8_1, Q8_K                                */
/* ---------------------------------------------------------------------- */

/*
 * quantize_row_q8_0 as ggml runs it on x86 (AVX2 and AVX-512 builds; the
 * llama.cpp references were made there): d = amax / 127 stored as fp16,
 * quants src * (127 / amax) rounded to nearest even. Its _ref version
 * (src * (1 / d), rounded half away from zero) gives other quants for a
 * few elements a row, and each such difference moves the logits of a
 * quantized model by up to several hundredths of a sigma.
 */
static void from_float_q8_0(const float *src, void *dst, size_t n)
{
	struct blk_q8_0 *b = dst;
	size_t i, nb = n / LX_QK;
	float amax, d, id;
	int j;

	for (i = 0; i < nb; i++, src += LX_QK) {
		amax = 0.0f;
		for (j = 0; j < LX_QK; j++)
			amax = LX_MAX(amax, abs_f32(src[j]));
		d = amax / 127.0f;
		id = amax != 0.0f ? 127.0f / amax : 0.0f;
		put_u16(b[i].d, lx_fp32_to_fp16(d));
		for (j = 0; j < LX_QK; j++)
			b[i].qs[j] = round_even_i8(src[j] * id);
	}
}

static void to_float_q8_0(const void *src, float *dst, size_t n)
{
	const struct blk_q8_0 *b = src;
	size_t i, nb = n / LX_QK;
	float d;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK) {
		d = get_f16(b[i].d);
		for (j = 0; j < LX_QK; j++)
			dst[j] = b[i].qs[j] * d;
	}
}

/* quantize_row_q8_1 on x86: Q8_0's rounding, plus s = fp16(sum(q) * d). */
static void from_float_q8_1(const float *src, void *dst, size_t n)
{
	struct blk_q8_1 *b = dst;
	size_t i, nb = n / LX_QK;
	float amax, d, id;
	int j, sum;

	for (i = 0; i < nb; i++, src += LX_QK) {
		amax = 0.0f;
		for (j = 0; j < LX_QK; j++)
			amax = LX_MAX(amax, abs_f32(src[j]));
		d = amax / 127.0f;
		id = amax != 0.0f ? 127.0f / amax : 0.0f;
		put_u16(b[i].d, lx_fp32_to_fp16(d));
		sum = 0;
		for (j = 0; j < LX_QK; j++) {
			b[i].qs[j] = round_even_i8(src[j] * id);
			sum += b[i].qs[j];
		}
		put_u16(b[i].s, lx_fp32_to_fp16((float)sum * d));
	}
}

static void to_float_q8_1(const void *src, float *dst, size_t n)
{
	const struct blk_q8_1 *b = src;
	size_t i, nb = n / LX_QK;
	float d;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK) {
		d = get_f16(b[i].d);
		for (j = 0; j < LX_QK; j++)
			dst[j] = b[i].qs[j] * d;
	}
}

/*
 * quantize_row_q8_K_ref: the element of largest magnitude (the first one,
 * on ties), sign included, maps to -127: iscale = -127 / max, d = 1 / iscale
 * (so d is negative when max is positive), quants rounded to nearest even.
 * ggml's comment keeps -128 / max as the old choice; -127 is current.
 */
static void from_float_q8_k(const float *src, void *dst, size_t n)
{
	struct blk_q8_k *b = dst;
	size_t i, nb = n / LX_QK_K;
	float amax, max, ax, iscale;
	int j, g, sum;

	for (i = 0; i < nb; i++, src += LX_QK_K) {
		amax = 0.0f;
		max = 0.0f;
		for (j = 0; j < LX_QK_K; j++) {
			ax = abs_f32(src[j]);
			if (ax > amax) {
				amax = ax;
				max = src[j];
			}
		}
		if (amax == 0.0f) {
			/* ggml leaves bsums unset here; zero fits */
			memset(&b[i], 0, sizeof(b[i]));
			continue;
		}
		iscale = -127.0f / max;
		for (j = 0; j < LX_QK_K; j++)
			b[i].qs[j] = round_even_i8(iscale * src[j]);
		for (g = 0; g < LX_QK_K / 16; g++) {
			sum = 0;
			for (j = 0; j < 16; j++)
				sum += b[i].qs[16 * g + j];
			put_u16(b[i].bsums + 2 * g, (uint32_t)sum);
		}
		put_u32(b[i].d, f32_bits(1.0f / iscale));
	}
}

static void to_float_q8_k(const void *src, float *dst, size_t n)
{
	const struct blk_q8_k *b = src;
	size_t i, nb = n / LX_QK_K;
	float d;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK_K) {
		d = get_f32(b[i].d);
		for (j = 0; j < LX_QK_K; j++)
			dst[j] = d * b[i].qs[j];
	}
}

/* ---------------------------------------------------------------------- */
/* Simple quants: Q4_0, Q4_1, Q5_0, Q5_1, Q8_0                            */
/* ---------------------------------------------------------------------- */

static void to_float_q4_0(const void *src, float *dst, size_t n)
{
	const struct blk_q4_0 *b = src;
	size_t i, nb = n / LX_QK;
	float d;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK) {
		d = get_f16(b[i].d);
		for (j = 0; j < LX_QK / 2; j++) {
			dst[j] = ((b[i].qs[j] & 0xf) - 8) * d;
			dst[j + LX_QK / 2] = ((b[i].qs[j] >> 4) - 8) * d;
		}
	}
}

static float vec_dot_q4_0_q8_0(size_t n, const void *w, const void *x)
{
	const struct blk_q4_0 *bw = w;
	const struct blk_q8_0 *bx = x;
	size_t i, nb = n / LX_QK;
	float sumf = 0.0f;
	int j, sumi;

	for (i = 0; i < nb; i++) {
		sumi = 0;
		for (j = 0; j < LX_QK / 2; j++) {
			sumi += ((bw[i].qs[j] & 0xf) - 8) * bx[i].qs[j];
			sumi += ((bw[i].qs[j] >> 4) - 8) *
				bx[i].qs[j + LX_QK / 2];
		}
		sumf += (float)sumi * get_f16(bw[i].d) * get_f16(bx[i].d);
	}
	return sumf;
}

static void to_float_q4_1(const void *src, float *dst, size_t n)
{
	const struct blk_q4_1 *b = src;
	size_t i, nb = n / LX_QK;
	float d, m;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK) {
		d = get_f16(b[i].d);
		m = get_f16(b[i].m);
		for (j = 0; j < LX_QK / 2; j++) {
			dst[j] = (b[i].qs[j] & 0xf) * d + m;
			dst[j + LX_QK / 2] = (b[i].qs[j] >> 4) * d + m;
		}
	}
}

/*
 * sum(d_w * q_w + m) * (d_x * q_x) = d_w * d_x * sum(q_w * q_x) + m * s_x,
 * with s_x = d_x * sum(q_x) taken from the Q8_1 block (itself rounded to
 * fp16, as in ggml).
 */
static float vec_dot_q4_1_q8_1(size_t n, const void *w, const void *x)
{
	const struct blk_q4_1 *bw = w;
	const struct blk_q8_1 *bx = x;
	size_t i, nb = n / LX_QK;
	float sumf = 0.0f;
	int j, sumi;

	for (i = 0; i < nb; i++) {
		sumi = 0;
		for (j = 0; j < LX_QK / 2; j++) {
			sumi += (bw[i].qs[j] & 0xf) * bx[i].qs[j];
			sumi += (bw[i].qs[j] >> 4) * bx[i].qs[j + LX_QK / 2];
		}
		sumf += get_f16(bw[i].d) * get_f16(bx[i].d) * (float)sumi +
			get_f16(bw[i].m) * get_f16(bx[i].s);
	}
	return sumf;
}

/* Element j's 5-bit quant: nibble from qs, fifth bit j of qh. */
static inline int q5_quant(const uint8_t qs[LX_QK / 2], uint32_t qh, int j)
{
	int lo = j < LX_QK / 2 ? qs[j] & 0xf : qs[j - LX_QK / 2] >> 4;

	return lo | (int)((qh >> j) & 1) << 4;
}

static void to_float_q5_0(const void *src, float *dst, size_t n)
{
	const struct blk_q5_0 *b = src;
	size_t i, nb = n / LX_QK;
	uint32_t qh;
	float d;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK) {
		d = get_f16(b[i].d);
		qh = get_u32(b[i].qh);
		for (j = 0; j < LX_QK; j++)
			dst[j] = (q5_quant(b[i].qs, qh, j) - 16) * d;
	}
}

static float vec_dot_q5_0_q8_0(size_t n, const void *w, const void *x)
{
	const struct blk_q5_0 *bw = w;
	const struct blk_q8_0 *bx = x;
	size_t i, nb = n / LX_QK;
	float sumf = 0.0f;
	uint32_t qh;
	int j, sumi;

	for (i = 0; i < nb; i++) {
		qh = get_u32(bw[i].qh);
		sumi = 0;
		for (j = 0; j < LX_QK; j++)
			sumi += (q5_quant(bw[i].qs, qh, j) - 16) * bx[i].qs[j];
		sumf += get_f16(bw[i].d) * get_f16(bx[i].d) * (float)sumi;
	}
	return sumf;
}

static void to_float_q5_1(const void *src, float *dst, size_t n)
{
	const struct blk_q5_1 *b = src;
	size_t i, nb = n / LX_QK;
	uint32_t qh;
	float d, m;
	int j;

	for (i = 0; i < nb; i++, dst += LX_QK) {
		d = get_f16(b[i].d);
		m = get_f16(b[i].m);
		qh = get_u32(b[i].qh);
		for (j = 0; j < LX_QK; j++)
			dst[j] = q5_quant(b[i].qs, qh, j) * d + m;
	}
}

/* As Q4_1: the offset m meets the Q8_1 block's precomputed s. */
static float vec_dot_q5_1_q8_1(size_t n, const void *w, const void *x)
{
	const struct blk_q5_1 *bw = w;
	const struct blk_q8_1 *bx = x;
	size_t i, nb = n / LX_QK;
	float sumf = 0.0f;
	uint32_t qh;
	int j, sumi;

	for (i = 0; i < nb; i++) {
		qh = get_u32(bw[i].qh);
		sumi = 0;
		for (j = 0; j < LX_QK; j++)
			sumi += q5_quant(bw[i].qs, qh, j) * bx[i].qs[j];
		sumf += get_f16(bw[i].d) * get_f16(bx[i].d) * (float)sumi +
			get_f16(bw[i].m) * get_f16(bx[i].s);
	}
	return sumf;
}

static float vec_dot_q8_0_q8_0(size_t n, const void *w, const void *x)
{
	const struct blk_q8_0 *bw = w;
	const struct blk_q8_0 *bx = x;
	size_t i, nb = n / LX_QK;
	float sumf = 0.0f;
	int32_t sumi;

	for (i = 0; i < nb; i++) {
		sumi = dot_i8(bw[i].qs, bx[i].qs, LX_QK);
		sumf += (float)sumi * (get_f16(bw[i].d) * get_f16(bx[i].d));
	}
	return sumf;
}

/* ---------------------------------------------------------------------- */
/* k-quants: Q2_K, Q3_K, Q4_K, Q5_K, Q6_K (dotted with Q8_K)              */
/* ---------------------------------------------------------------------- */

/*
 * With mins (Q2_K, Q4_K, Q5_K) a super-block's dot is
 *   d_w * d_x * sum_s(sc_s * sum(q_w * q_x))
 *     - dmin_w * d_x * sum_s(m_s * sum(q_x)),
 * where sum(q_x) over each 16 elements is the Q8_K block's bsums.
 */

static void to_float_q2_k(const void *src, float *dst, size_t n)
{
	const struct blk_q2_k *b = src;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float d, dmin, dl, ml;
	int g, l;

	for (i = 0; i < nb; i++, dst += LX_QK_K) {
		d = get_f16(b[i].d);
		dmin = get_f16(b[i].dmin);
		unpack_q2_k(&b[i], q);
		for (g = 0; g < 16; g++) {
			dl = d * (b[i].scales[g] & 0xf);
			ml = dmin * (b[i].scales[g] >> 4);
			for (l = 0; l < 16; l++)
				dst[16 * g + l] = dl * q[16 * g + l] - ml;
		}
	}
}

static float vec_dot_q2_k_q8_k(size_t n, const void *w, const void *x)
{
	const struct blk_q2_k *bw = w;
	const struct blk_q8_k *bx = x;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float sumf = 0.0f, dall, dmin;
	int32_t isum, summs;
	int g;

	for (i = 0; i < nb; i++) {
		unpack_q2_k(&bw[i], q);
		isum = 0;
		summs = 0;
		for (g = 0; g < 16; g++) {
			isum += (bw[i].scales[g] & 0xf) *
				dot_i8(q + 16 * g, bx[i].qs + 16 * g, 16);
			summs += (bw[i].scales[g] >> 4) *
				 get_s16(bx[i].bsums + 2 * g);
		}
		dall = get_f32(bx[i].d) * get_f16(bw[i].d);
		dmin = get_f32(bx[i].d) * get_f16(bw[i].dmin);
		sumf += dall * (float)isum - dmin * (float)summs;
	}
	return sumf;
}

static void to_float_q3_k(const void *src, float *dst, size_t n)
{
	const struct blk_q3_k *b = src;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	int sc[16], g, l;
	float d, dl;

	for (i = 0; i < nb; i++, dst += LX_QK_K) {
		d = get_f16(b[i].d);
		unpack_scales_q3_k(b[i].scales, sc);
		unpack_q3_k(&b[i], q);
		for (g = 0; g < 16; g++) {
			dl = d * sc[g];
			for (l = 0; l < 16; l++)
				dst[16 * g + l] = dl * q[16 * g + l];
		}
	}
}

static float vec_dot_q3_k_q8_k(size_t n, const void *w, const void *x)
{
	const struct blk_q3_k *bw = w;
	const struct blk_q8_k *bx = x;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float sumf = 0.0f, d;
	int sc[16], g;
	int32_t isum;

	for (i = 0; i < nb; i++) {
		unpack_scales_q3_k(bw[i].scales, sc);
		unpack_q3_k(&bw[i], q);
		isum = 0;
		for (g = 0; g < 16; g++)
			isum += sc[g] *
				dot_i8(q + 16 * g, bx[i].qs + 16 * g, 16);
		d = get_f16(bw[i].d) * get_f32(bx[i].d);
		sumf += d * (float)isum;
	}
	return sumf;
}

/* Q4_K and Q5_K share scales, mins and arithmetic; only the quants differ. */
static void to_float_k4(const uint8_t dd[2], const uint8_t dm[2],
			const uint8_t scales[12], const int8_t q[LX_QK_K],
			float *dst)
{
	float d = get_f16(dd), dmin = get_f16(dm), d1, m1;
	uint8_t sc[8], mn[8];
	int s, l;

	unpack_scale_min_k4(scales, sc, mn);
	for (s = 0; s < 8; s++) {
		d1 = d * sc[s];
		m1 = dmin * mn[s];
		for (l = 0; l < 32; l++)
			dst[32 * s + l] = d1 * q[32 * s + l] - m1;
	}
}

static float dot_k4(const uint8_t dd[2], const uint8_t dm[2],
		    const uint8_t scales[12], const int8_t q[LX_QK_K],
		    const struct blk_q8_k *bx)
{
	uint8_t sc[8], mn[8];
	int32_t isum = 0, summ = 0;
	float d, dmin;
	int s, g;

	unpack_scale_min_k4(scales, sc, mn);
	for (s = 0; s < 8; s++)
		isum += sc[s] * dot_i8(q + 32 * s, bx->qs + 32 * s, 32);
	/* a 32-element sub-block spans two 16-element bsums */
	for (g = 0; g < 16; g++)
		summ += mn[g / 2] * get_s16(bx->bsums + 2 * g);
	d = get_f16(dd) * get_f32(bx->d);
	dmin = get_f16(dm) * get_f32(bx->d);
	return d * (float)isum - dmin * (float)summ;
}

static void to_float_q4_k(const void *src, float *dst, size_t n)
{
	const struct blk_q4_k *b = src;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];

	for (i = 0; i < nb; i++, dst += LX_QK_K) {
		unpack_q4_k(b[i].qs, q);
		to_float_k4(b[i].d, b[i].dmin, b[i].scales, q, dst);
	}
}

static float vec_dot_q4_k_q8_k(size_t n, const void *w, const void *x)
{
	const struct blk_q4_k *bw = w;
	const struct blk_q8_k *bx = x;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float sumf = 0.0f;

	for (i = 0; i < nb; i++) {
		unpack_q4_k(bw[i].qs, q);
		sumf += dot_k4(bw[i].d, bw[i].dmin, bw[i].scales, q, &bx[i]);
	}
	return sumf;
}

static void to_float_q5_k(const void *src, float *dst, size_t n)
{
	const struct blk_q5_k *b = src;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];

	for (i = 0; i < nb; i++, dst += LX_QK_K) {
		unpack_q5_k(&b[i], q);
		to_float_k4(b[i].d, b[i].dmin, b[i].scales, q, dst);
	}
}

static float vec_dot_q5_k_q8_k(size_t n, const void *w, const void *x)
{
	const struct blk_q5_k *bw = w;
	const struct blk_q8_k *bx = x;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float sumf = 0.0f;

	for (i = 0; i < nb; i++) {
		unpack_q5_k(&bw[i], q);
		sumf += dot_k4(bw[i].d, bw[i].dmin, bw[i].scales, q, &bx[i]);
	}
	return sumf;
}

static void to_float_q6_k(const void *src, float *dst, size_t n)
{
	const struct blk_q6_k *b = src;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float d, dl;
	int g, l;

	for (i = 0; i < nb; i++, dst += LX_QK_K) {
		d = get_f16(b[i].d);
		unpack_q6_k(&b[i], q);
		for (g = 0; g < 16; g++) {
			dl = d * b[i].scales[g];
			for (l = 0; l < 16; l++)
				dst[16 * g + l] = dl * q[16 * g + l];
		}
	}
}

static float vec_dot_q6_k_q8_k(size_t n, const void *w, const void *x)
{
	const struct blk_q6_k *bw = w;
	const struct blk_q8_k *bx = x;
	size_t i, nb = n / LX_QK_K;
	int8_t q[LX_QK_K];
	float sumf = 0.0f, d;
	int32_t isum;
	int g;

	for (i = 0; i < nb; i++) {
		unpack_q6_k(&bw[i], q);
		isum = 0;
		for (g = 0; g < 16; g++)
			isum += bw[i].scales[g] *
				dot_i8(q + 16 * g, bx[i].qs + 16 * g, 16);
		d = get_f16(bw[i].d) * get_f32(bx[i].d);
		sumf += d * (float)isum;
	}
	return sumf;
}

/* ---------------------------------------------------------------------- */
/* Type table                                                             */
/* ---------------------------------------------------------------------- */

/* A GGUF type we can name and size but not compute with. */
#define LX_KNOWN(id, nm, bs, ts)					\
	[id] = { .name = nm, .block_size = bs, .type_size = ts,	\
		 .vec_dot_type = (enum lx_type)(id) }

/*
 * Indexed by ggml type id. Empty slots are ids ggml never used or removed:
 * 4, 5 (Q4_2, Q4_3), 31-33 (Q4_0_4_4, Q4_0_4_8, Q4_0_8_8) and 36-38
 * (IQ4_NL_4_4, ...), which were repacked in-memory layouts, not file types.
 */
static const struct lx_type_traits traits[LX_TYPE_COUNT] = {
	[LX_TYPE_F32] = {
		.name = "F32", .block_size = 1, .type_size = 4,
		.supported = true, .vec_dot_type = LX_TYPE_F32,
		.to_float = to_float_f32, .from_float = from_float_f32,
		.vec_dot = vec_dot_f32,
	},
	[LX_TYPE_F16] = {
		.name = "F16", .block_size = 1, .type_size = 2,
		.supported = true, .vec_dot_type = LX_TYPE_F16,
		.to_float = to_float_f16, .from_float = from_float_f16,
		.vec_dot = vec_dot_f16,
	},
	[LX_TYPE_Q4_0] = {
		.name = "Q4_0", .block_size = LX_QK, .type_size = 18,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_0,
		.to_float = to_float_q4_0, .vec_dot = vec_dot_q4_0_q8_0,
	},
	[LX_TYPE_Q4_1] = {
		.name = "Q4_1", .block_size = LX_QK, .type_size = 20,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_1,
		.to_float = to_float_q4_1, .vec_dot = vec_dot_q4_1_q8_1,
	},
	[LX_TYPE_Q5_0] = {
		.name = "Q5_0", .block_size = LX_QK, .type_size = 22,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_0,
		.to_float = to_float_q5_0, .vec_dot = vec_dot_q5_0_q8_0,
	},
	[LX_TYPE_Q5_1] = {
		.name = "Q5_1", .block_size = LX_QK, .type_size = 24,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_1,
		.to_float = to_float_q5_1, .vec_dot = vec_dot_q5_1_q8_1,
	},
	[LX_TYPE_Q8_0] = {
		.name = "Q8_0", .block_size = LX_QK, .type_size = 34,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_0,
		.to_float = to_float_q8_0, .from_float = from_float_q8_0,
		.vec_dot = vec_dot_q8_0_q8_0,
	},
	/* Q8_1 and Q8_K are activation types only: no weight vec_dot. */
	[LX_TYPE_Q8_1] = {
		.name = "Q8_1", .block_size = LX_QK, .type_size = 36,
		.vec_dot_type = LX_TYPE_Q8_1,
		.to_float = to_float_q8_1, .from_float = from_float_q8_1,
	},
	[LX_TYPE_Q2_K] = {
		.name = "Q2_K", .block_size = LX_QK_K, .type_size = 84,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_K,
		.to_float = to_float_q2_k, .vec_dot = vec_dot_q2_k_q8_k,
	},
	[LX_TYPE_Q3_K] = {
		.name = "Q3_K", .block_size = LX_QK_K, .type_size = 110,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_K,
		.to_float = to_float_q3_k, .vec_dot = vec_dot_q3_k_q8_k,
	},
	[LX_TYPE_Q4_K] = {
		.name = "Q4_K", .block_size = LX_QK_K, .type_size = 144,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_K,
		.to_float = to_float_q4_k, .vec_dot = vec_dot_q4_k_q8_k,
	},
	[LX_TYPE_Q5_K] = {
		.name = "Q5_K", .block_size = LX_QK_K, .type_size = 176,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_K,
		.to_float = to_float_q5_k, .vec_dot = vec_dot_q5_k_q8_k,
	},
	[LX_TYPE_Q6_K] = {
		.name = "Q6_K", .block_size = LX_QK_K, .type_size = 210,
		.supported = true, .vec_dot_type = LX_TYPE_Q8_K,
		.to_float = to_float_q6_k, .vec_dot = vec_dot_q6_k_q8_k,
	},
	[LX_TYPE_Q8_K] = {
		.name = "Q8_K", .block_size = LX_QK_K, .type_size = 292,
		.vec_dot_type = LX_TYPE_Q8_K,
		.to_float = to_float_q8_k, .from_float = from_float_q8_k,
	},
	LX_KNOWN(16, "IQ2_XXS", LX_QK_K, 66),
	LX_KNOWN(17, "IQ2_XS", LX_QK_K, 74),
	LX_KNOWN(18, "IQ3_XXS", LX_QK_K, 98),
	LX_KNOWN(19, "IQ1_S", LX_QK_K, 50),
	LX_KNOWN(20, "IQ4_NL", LX_QK, 18),
	LX_KNOWN(21, "IQ3_S", LX_QK_K, 110),
	LX_KNOWN(22, "IQ2_S", LX_QK_K, 82),
	LX_KNOWN(23, "IQ4_XS", LX_QK_K, 136),
	LX_KNOWN(24, "I8", 1, 1),
	LX_KNOWN(25, "I16", 1, 2),
	LX_KNOWN(26, "I32", 1, 4),
	LX_KNOWN(27, "I64", 1, 8),
	LX_KNOWN(28, "F64", 1, 8),
	LX_KNOWN(29, "IQ1_M", LX_QK_K, 56),
	[LX_TYPE_BF16] = {
		.name = "BF16", .block_size = 1, .type_size = 2,
		.supported = true, .vec_dot_type = LX_TYPE_BF16,
		.to_float = to_float_bf16, .from_float = from_float_bf16,
		.vec_dot = vec_dot_bf16,
	},
	LX_KNOWN(34, "TQ1_0", LX_QK_K, 54),
	LX_KNOWN(35, "TQ2_0", LX_QK_K, 66),
	/* OCP microscaling FP4: one E8M0 exponent byte + 16 bytes of E2M1 */
	LX_KNOWN(39, "MXFP4", LX_QK, 17),
};

const struct lx_type_traits *lx_type_traits(uint32_t type)
{
	if (type >= LX_TYPE_COUNT || !traits[type].name)
		return NULL;
	return &traits[type];
}

const char *lx_supported_types(void)
{
	return "F32, F16, BF16, Q4_0, Q4_1, Q5_0, Q5_1, Q8_0, "
	       "Q2_K, Q3_K, Q4_K, Q5_K, Q6_K";
}
