// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Code point properties from the generated table (core/unicode_data.h) and
 * llama.cpp-compatible UTF-8 decoding, for the byte-level BPE pre-tokenizers.
 */
#include "unicode.h"
#include "unicode_data.h"

/* Flags of each category (whitespace is added per code point). */
static const uint16_t cat_flags[LX_UCAT_COUNT] = {
	[LX_UCAT_CN] = LX_CPT_UNDEFINED,
	[LX_UCAT_CC] = LX_CPT_CONTROL,
	[LX_UCAT_CF] = LX_CPT_CONTROL,
	[LX_UCAT_CO] = LX_CPT_CONTROL,
	[LX_UCAT_CS] = LX_CPT_CONTROL,
	[LX_UCAT_LL] = LX_CPT_LETTER | LX_CPT_LOWER,
	[LX_UCAT_LM] = LX_CPT_LETTER,
	[LX_UCAT_LO] = LX_CPT_LETTER,
	[LX_UCAT_LT] = LX_CPT_LETTER,
	[LX_UCAT_LU] = LX_CPT_LETTER | LX_CPT_UPPER,
	[LX_UCAT_MC] = LX_CPT_MARK,
	[LX_UCAT_ME] = LX_CPT_MARK,
	[LX_UCAT_MN] = LX_CPT_MARK,
	[LX_UCAT_ND] = LX_CPT_NUMBER,
	[LX_UCAT_NL] = LX_CPT_NUMBER,
	[LX_UCAT_NO] = LX_CPT_NUMBER,
	[LX_UCAT_PC] = LX_CPT_PUNCT,
	[LX_UCAT_PD] = LX_CPT_PUNCT,
	[LX_UCAT_PE] = LX_CPT_PUNCT,
	[LX_UCAT_PF] = LX_CPT_PUNCT,
	[LX_UCAT_PI] = LX_CPT_PUNCT,
	[LX_UCAT_PO] = LX_CPT_PUNCT,
	[LX_UCAT_PS] = LX_CPT_PUNCT,
	[LX_UCAT_SC] = LX_CPT_SYMBOL,
	[LX_UCAT_SK] = LX_CPT_SYMBOL,
	[LX_UCAT_SM] = LX_CPT_SYMBOL,
	[LX_UCAT_SO] = LX_CPT_SYMBOL,
	[LX_UCAT_ZL] = LX_CPT_SEPARATOR,
	[LX_UCAT_ZP] = LX_CPT_SEPARATOR,
	[LX_UCAT_ZS] = LX_CPT_SEPARATOR,
};

enum lx_ucat lx_cpt_category(uint32_t cpt)
{
	uint32_t lo = 0, hi = LX_ARRAY_SIZE(lx_ucd_runs);

	if (cpt < 256)
		return (enum lx_ucat)lx_ucd_latin1[cpt];
	if (cpt > LX_CPT_MAX)
		return LX_UCAT_CN;
	/* The last run starting at or before cpt (run 0 starts at 0). */
	while (hi - lo > 1) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (lx_ucd_runs[mid] >> 5 <= cpt)
			lo = mid;
		else
			hi = mid;
	}
	return (enum lx_ucat)(lx_ucd_runs[lo] & 31);
}

static bool is_whitespace(uint32_t cpt)
{
	uint32_t lo = 0, hi = LX_ARRAY_SIZE(lx_ucd_whitespace);

	if (cpt < 0x85)
		return cpt == ' ' || (cpt >= 0x09 && cpt <= 0x0D);
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;

		if (lx_ucd_whitespace[mid] < cpt)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < LX_ARRAY_SIZE(lx_ucd_whitespace) &&
	       lx_ucd_whitespace[lo] == cpt;
}

uint32_t lx_cpt_flags(uint32_t cpt)
{
	return cat_flags[lx_cpt_category(cpt)] |
	       (is_whitespace(cpt) ? LX_CPT_WHITESPACE : 0);
}

const char *lx_unicode_version(void)
{
	return LX_UNICODE_VERSION;
}

const uint32_t *lx_unicode_runs(size_t *n)
{
	*n = LX_ARRAY_SIZE(lx_ucd_runs);
	return lx_ucd_runs;
}

uint32_t lx_utf8_decode(const char *str, size_t n, size_t *used)
{
	const unsigned char *s = (const unsigned char *)str;
	uint32_t cpt;
	size_t len, k;

	*used = 1;
	if (s[0] < 0x80)
		return s[0];
	/* The lead byte's high bits give the length, as in llama.cpp. */
	if (s[0] < 0xC0)
		return LX_CPT_REPLACEMENT;
	if (s[0] < 0xE0) {
		len = 2;
		cpt = s[0] & 0x1F;
	} else if (s[0] < 0xF0) {
		len = 3;
		cpt = s[0] & 0x0F;
	} else if (s[0] < 0xF8) {
		len = 4;
		cpt = s[0] & 0x07;
	} else {
		return LX_CPT_REPLACEMENT;
	}
	if (n < len)
		return LX_CPT_REPLACEMENT;
	for (k = 1; k < len; k++) {
		if ((s[k] & 0xC0) != 0x80)
			return LX_CPT_REPLACEMENT;
		cpt = (cpt << 6) | (s[k] & 0x3F);
	}
	if (cpt > LX_CPT_MAX)
		return LX_CPT_REPLACEMENT;
	*used = len;
	return cpt;
}

size_t lx_utf8_encode(uint32_t cpt, char *out)
{
	if (cpt < 0x80) {
		out[0] = (char)cpt;
		return 1;
	}
	if (cpt < 0x800) {
		out[0] = (char)(0xC0 | (cpt >> 6));
		out[1] = (char)(0x80 | (cpt & 0x3F));
		return 2;
	}
	if (cpt < 0x10000) {
		out[0] = (char)(0xE0 | (cpt >> 12));
		out[1] = (char)(0x80 | ((cpt >> 6) & 0x3F));
		out[2] = (char)(0x80 | (cpt & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | ((cpt >> 18) & 0x07));
	out[1] = (char)(0x80 | ((cpt >> 12) & 0x3F));
	out[2] = (char)(0x80 | ((cpt >> 6) & 0x3F));
	out[3] = (char)(0x80 | (cpt & 0x3F));
	return 4;
}
