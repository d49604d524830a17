// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * The core's Unicode table (core/unicode_data.h, generated) and UTF-8
 * decoding: the general category of 450 code points across scripts and
 * planes, the flags the pre-tokenizers test, the table's structure (sorted
 * runs covering every code point, compact), and invalid bytes decoded as
 * llama.cpp decodes them.
 */
#include <string.h>

#include "unicode.h"
#include "testlib.h"

/*
 * Expected categories from UnicodeData.txt 14.0, chosen among code points
 * whose category no later version changes, so a regenerated table passes.
 */
static const struct {
	uint32_t cpt;
	const char *cat;
} known[] = {
	{ 0x0, "Cc" }, { 0x1, "Cc" }, { 0x2, "Cc" }, { 0x3, "Cc" }, { 0x4, "Cc" },
	{ 0x5, "Cc" }, { 0x6, "Cc" }, { 0x7, "Cc" }, { 0x8, "Cc" }, { 0x9, "Cc" },
	{ 0xA, "Cc" }, { 0xB, "Cc" }, { 0xC, "Cc" }, { 0xD, "Cc" }, { 0xE, "Cc" },
	{ 0xF, "Cc" }, { 0x10, "Cc" }, { 0x11, "Cc" }, { 0x12, "Cc" },
	{ 0x13, "Cc" }, { 0x14, "Cc" }, { 0x15, "Cc" }, { 0x16, "Cc" },
	{ 0x17, "Cc" }, { 0x18, "Cc" }, { 0x19, "Cc" }, { 0x1A, "Cc" },
	{ 0x1B, "Cc" }, { 0x1C, "Cc" }, { 0x1D, "Cc" }, { 0x1E, "Cc" },
	{ 0x1F, "Cc" }, { 0x20, "Zs" }, { 0x21, "Po" }, { 0x22, "Po" },
	{ 0x23, "Po" }, { 0x24, "Sc" }, { 0x25, "Po" }, { 0x26, "Po" },
	{ 0x27, "Po" }, { 0x28, "Ps" }, { 0x29, "Pe" }, { 0x2A, "Po" },
	{ 0x2B, "Sm" }, { 0x2C, "Po" }, { 0x2D, "Pd" }, { 0x2E, "Po" },
	{ 0x2F, "Po" }, { 0x30, "Nd" }, { 0x31, "Nd" }, { 0x32, "Nd" },
	{ 0x33, "Nd" }, { 0x34, "Nd" }, { 0x35, "Nd" }, { 0x36, "Nd" },
	{ 0x37, "Nd" }, { 0x38, "Nd" }, { 0x39, "Nd" }, { 0x3A, "Po" },
	{ 0x3B, "Po" }, { 0x3C, "Sm" }, { 0x3D, "Sm" }, { 0x3E, "Sm" },
	{ 0x3F, "Po" }, { 0x40, "Po" }, { 0x41, "Lu" }, { 0x42, "Lu" },
	{ 0x43, "Lu" }, { 0x44, "Lu" }, { 0x45, "Lu" }, { 0x46, "Lu" },
	{ 0x47, "Lu" }, { 0x48, "Lu" }, { 0x49, "Lu" }, { 0x4A, "Lu" },
	{ 0x4B, "Lu" }, { 0x4C, "Lu" }, { 0x4D, "Lu" }, { 0x4E, "Lu" },
	{ 0x4F, "Lu" }, { 0x50, "Lu" }, { 0x51, "Lu" }, { 0x52, "Lu" },
	{ 0x53, "Lu" }, { 0x54, "Lu" }, { 0x55, "Lu" }, { 0x56, "Lu" },
	{ 0x57, "Lu" }, { 0x58, "Lu" }, { 0x59, "Lu" }, { 0x5A, "Lu" },
	{ 0x5B, "Ps" }, { 0x5C, "Po" }, { 0x5D, "Pe" }, { 0x5E, "Sk" },
	{ 0x5F, "Pc" }, { 0x60, "Sk" }, { 0x61, "Ll" }, { 0x62, "Ll" },
	{ 0x63, "Ll" }, { 0x64, "Ll" }, { 0x65, "Ll" }, { 0x66, "Ll" },
	{ 0x67, "Ll" }, { 0x68, "Ll" }, { 0x69, "Ll" }, { 0x6A, "Ll" },
	{ 0x6B, "Ll" }, { 0x6C, "Ll" }, { 0x6D, "Ll" }, { 0x6E, "Ll" },
	{ 0x6F, "Ll" }, { 0x70, "Ll" }, { 0x71, "Ll" }, { 0x72, "Ll" },
	{ 0x73, "Ll" }, { 0x74, "Ll" }, { 0x75, "Ll" }, { 0x76, "Ll" },
	{ 0x77, "Ll" }, { 0x78, "Ll" }, { 0x79, "Ll" }, { 0x7A, "Ll" },
	{ 0x7B, "Ps" }, { 0x7C, "Sm" }, { 0x7D, "Pe" }, { 0x7E, "Sm" },
	{ 0x7F, "Cc" }, { 0x85, "Cc" }, { 0xA0, "Zs" }, { 0xA1, "Po" },
	{ 0xA6, "So" }, { 0xA7, "Po" }, { 0xAA, "Lo" }, { 0xAB, "Pi" },
	{ 0xAD, "Cf" }, { 0xB2, "No" }, { 0xB5, "Ll" }, { 0xBA, "Lo" },
	{ 0xBC, "No" }, { 0xC0, "Lu" }, { 0xD7, "Sm" }, { 0xDF, "Ll" },
	{ 0xF7, "Sm" }, { 0xFF, "Ll" }, { 0x100, "Lu" }, { 0x101, "Ll" },
	{ 0x149, "Ll" }, { 0x17F, "Ll" }, { 0x180, "Ll" }, { 0x1BB, "Lo" },
	{ 0x1C5, "Lt" }, { 0x1C8, "Lt" }, { 0x1F2, "Lt" }, { 0x250, "Ll" },
	{ 0x2B0, "Lm" }, { 0x2C2, "Sk" }, { 0x2EC, "Lm" }, { 0x300, "Mn" },
	{ 0x36F, "Mn" }, { 0x370, "Lu" }, { 0x374, "Lm" }, { 0x375, "Sk" },
	{ 0x378, "Cn" }, { 0x37E, "Po" }, { 0x386, "Lu" }, { 0x387, "Po" },
	{ 0x391, "Lu" }, { 0x3C9, "Ll" }, { 0x3F6, "Sm" }, { 0x400, "Lu" },
	{ 0x42F, "Lu" }, { 0x44F, "Ll" }, { 0x482, "So" }, { 0x483, "Mn" },
	{ 0x488, "Me" }, { 0x531, "Lu" }, { 0x55A, "Po" }, { 0x561, "Ll" },
	{ 0x589, "Po" }, { 0x58A, "Pd" }, { 0x5BE, "Pd" }, { 0x5D0, "Lo" },
	{ 0x5F3, "Po" }, { 0x600, "Cf" }, { 0x60C, "Po" }, { 0x61C, "Cf" },
	{ 0x627, "Lo" }, { 0x660, "Nd" }, { 0x66A, "Po" }, { 0x6D4, "Po" },
	{ 0x6DD, "Cf" }, { 0x6F0, "Nd" }, { 0x900, "Mn" }, { 0x903, "Mc" },
	{ 0x905, "Lo" }, { 0x93C, "Mn" }, { 0x964, "Po" }, { 0x966, "Nd" },
	{ 0x970, "Po" }, { 0x9F2, "Sc" }, { 0x9F4, "No" }, { 0xA66, "Nd" },
	{ 0xB83, "Lo" }, { 0xBF3, "So" }, { 0xC7F, "So" }, { 0xD79, "So" },
	{ 0xE01, "Lo" }, { 0xE31, "Mn" }, { 0xE3F, "Sc" }, { 0xE50, "Nd" },
	{ 0xE5A, "Po" }, { 0xEDC, "Lo" }, { 0xF00, "Lo" }, { 0xF20, "Nd" },
	{ 0xF2A, "No" }, { 0xF3A, "Ps" }, { 0xF3E, "Mc" }, { 0x1000, "Lo" },
	{ 0x1040, "Nd" }, { 0x10A0, "Lu" }, { 0x10D0, "Ll" }, { 0x10FB, "Po" },
	{ 0x10FC, "Lm" }, { 0x1100, "Lo" }, { 0x1160, "Lo" }, { 0x1200, "Lo" },
	{ 0x1369, "No" }, { 0x13A0, "Lu" }, { 0x13F8, "Ll" }, { 0x1400, "Pd" },
	{ 0x1680, "Zs" }, { 0x1681, "Lo" }, { 0x16EE, "Nl" }, { 0x1780, "Lo" },
	{ 0x17B4, "Mn" }, { 0x17DB, "Sc" }, { 0x17E0, "Nd" }, { 0x1800, "Po" },
	{ 0x180B, "Mn" }, { 0x180E, "Cf" }, { 0x1810, "Nd" }, { 0x1C90, "Lu" },
	{ 0x1D00, "Ll" }, { 0x1D2C, "Lm" }, { 0x1E00, "Lu" }, { 0x1E9E, "Lu" },
	{ 0x1F00, "Ll" }, { 0x1F88, "Lt" }, { 0x1FBD, "Sk" }, { 0x1FFE, "Sk" },
	{ 0x2000, "Zs" }, { 0x2007, "Zs" }, { 0x200A, "Zs" }, { 0x200B, "Cf" },
	{ 0x200C, "Cf" }, { 0x200D, "Cf" }, { 0x2010, "Pd" }, { 0x2018, "Pi" },
	{ 0x2019, "Pf" }, { 0x201C, "Pi" }, { 0x2022, "Po" }, { 0x2028, "Zl" },
	{ 0x2029, "Zp" }, { 0x202A, "Cf" }, { 0x202F, "Zs" }, { 0x2030, "Po" },
	{ 0x2044, "Sm" }, { 0x205F, "Zs" }, { 0x2060, "Cf" }, { 0x2070, "No" },
	{ 0x2071, "Lm" }, { 0x2074, "No" }, { 0x207A, "Sm" }, { 0x20A0, "Sc" },
	{ 0x20AC, "Sc" }, { 0x20C0, "Sc" }, { 0x20D0, "Mn" }, { 0x20DD, "Me" },
	{ 0x2100, "So" }, { 0x2102, "Lu" }, { 0x2115, "Lu" }, { 0x2126, "Lu" },
	{ 0x212A, "Lu" }, { 0x2135, "Lo" }, { 0x2160, "Nl" }, { 0x2183, "Lu" },
	{ 0x2189, "No" }, { 0x2190, "Sm" }, { 0x2200, "Sm" }, { 0x2300, "So" },
	{ 0x2308, "Ps" }, { 0x2460, "No" }, { 0x2500, "So" }, { 0x25A0, "So" },
	{ 0x2600, "So" }, { 0x2705, "So" }, { 0x2764, "So" }, { 0x2776, "No" },
	{ 0x27E6, "Ps" }, { 0x2800, "So" }, { 0x2C00, "Lu" }, { 0x2C30, "Ll" },
	{ 0x2E00, "Po" }, { 0x2E80, "So" }, { 0x2FF0, "So" }, { 0x3000, "Zs" },
	{ 0x3001, "Po" }, { 0x3005, "Lm" }, { 0x3007, "Nl" }, { 0x3008, "Ps" },
	{ 0x3012, "So" }, { 0x3021, "Nl" }, { 0x3030, "Pd" }, { 0x3041, "Lo" },
	{ 0x3099, "Mn" }, { 0x309B, "Sk" }, { 0x30A0, "Pd" }, { 0x30A1, "Lo" },
	{ 0x30FB, "Po" }, { 0x30FC, "Lm" }, { 0x3131, "Lo" }, { 0x3190, "So" },
	{ 0x3192, "No" }, { 0x31F0, "Lo" }, { 0x3220, "No" }, { 0x3280, "No" },
	{ 0x3400, "Lo" }, { 0x4DBF, "Lo" }, { 0x4DC0, "So" }, { 0x4E00, "Lo" },
	{ 0x9FA5, "Lo" }, { 0x9FFF, "Lo" }, { 0xA000, "Lo" }, { 0xA015, "Lm" },
	{ 0xA4D0, "Lo" }, { 0xA500, "Lo" }, { 0xA620, "Nd" }, { 0xA640, "Lu" },
	{ 0xA66F, "Mn" }, { 0xA670, "Me" }, { 0xA722, "Lu" }, { 0xA788, "Lm" },
	{ 0xA8E0, "Mn" }, { 0xA900, "Nd" }, { 0xAA7B, "Mc" }, { 0xAB70, "Ll" },
	{ 0xAC00, "Lo" }, { 0xD7A3, "Lo" }, { 0xD7A4, "Cn" }, { 0xD7B0, "Lo" },
	{ 0xD800, "Cs" }, { 0xDBFF, "Cs" }, { 0xDC00, "Cs" }, { 0xDFFF, "Cs" },
	{ 0xE000, "Co" }, { 0xF8FF, "Co" }, { 0xF900, "Lo" }, { 0xFB00, "Ll" },
	{ 0xFB1D, "Lo" }, { 0xFB1E, "Mn" }, { 0xFB29, "Sm" }, { 0xFD3E, "Pe" },
	{ 0xFD3F, "Ps" }, { 0xFDFC, "Sc" }, { 0xFE00, "Mn" }, { 0xFE10, "Po" },
	{ 0xFE31, "Pd" }, { 0xFE33, "Pc" }, { 0xFE69, "Sc" }, { 0xFEFF, "Cf" },
	{ 0xFF01, "Po" }, { 0xFF04, "Sc" }, { 0xFF10, "Nd" }, { 0xFF21, "Lu" },
	{ 0xFF3F, "Pc" }, { 0xFF41, "Ll" }, { 0xFF5E, "Sm" }, { 0xFF61, "Po" },
	{ 0xFF65, "Po" }, { 0xFF70, "Lm" }, { 0xFF9E, "Lm" }, { 0xFFE0, "Sc" },
	{ 0xFFF9, "Cf" }, { 0xFFFC, "So" }, { 0xFFFD, "So" }, { 0xFFFE, "Cn" },
	{ 0xFFFF, "Cn" }, { 0x10000, "Lo" }, { 0x1000C, "Cn" }, { 0x10100, "Po" },
	{ 0x10140, "Nl" }, { 0x10330, "Lo" }, { 0x10341, "Nl" }, { 0x1034A, "Nl" },
	{ 0x10400, "Lu" }, { 0x10428, "Ll" }, { 0x10570, "Lu" }, { 0x10900, "Lo" },
	{ 0x10A01, "Mn" }, { 0x11000, "Mc" }, { 0x11066, "Nd" }, { 0x1107F, "Mn" },
	{ 0x12000, "Lo" }, { 0x12400, "Nl" }, { 0x13000, "Lo" },
	{ 0x16A40, "Lo" }, { 0x16FE4, "Mn" }, { 0x17000, "Lo" }, { 0x1B000, "Lo" },
	{ 0x1D100, "So" }, { 0x1D165, "Mc" }, { 0x1D400, "Lu" }, { 0x1D41A, "Ll" },
	{ 0x1D6C1, "Sm" }, { 0x1D7CE, "Nd" }, { 0x1E900, "Lu" }, { 0x1E922, "Ll" },
	{ 0x1EE00, "Lo" }, { 0x1F000, "So" }, { 0x1F100, "No" }, { 0x1F1E6, "So" },
	{ 0x1F300, "So" }, { 0x1F3FB, "Sk" }, { 0x1F600, "So" }, { 0x1F64F, "So" },
	{ 0x1F680, "So" }, { 0x1F999, "So" }, { 0x1FA70, "So" }, 
	{ 0x1FBF0, "Nd" }, { 0x20000, "Lo" }, { 0x2A6DF, "Lo" }, { 0x2A6E0, "Cn" },
	{ 0x2B739, "Cn" }, { 0x2FFFF, "Cn" }, { 0x30000, "Lo" }, { 0x3134A, "Lo" },
	{ 0x3134B, "Cn" }, { 0xE0001, "Cf" }, { 0xE0020, "Cf" }, { 0xE007F, "Cf" },
	{ 0xE0100, "Mn" }, { 0xE01EF, "Mn" }, { 0xEFFFF, "Cn" }, { 0xF0000, "Co" },
	{ 0xFFFFD, "Co" }, { 0xFFFFE, "Cn" }, { 0x100000, "Co" },
	{ 0x10FFFD, "Co" }, { 0x10FFFF, "Cn" },
};

static const char *const cat_names[LX_UCAT_COUNT] = {
	"Cn", "Cc", "Cf", "Co", "Cs", "Ll", "Lm", "Lo", "Lt", "Lu",
	"Mc", "Me", "Mn", "Nd", "Nl", "No",
	"Pc", "Pd", "Pe", "Pf", "Pi", "Po", "Ps",
	"Sc", "Sk", "Sm", "So", "Zl", "Zp", "Zs",
};

/* The flag each category's first letter gives (llama.cpp's categories). */
static uint32_t flag_of(const char *cat)
{
	if (!strcmp(cat, "Cn"))
		return LX_CPT_UNDEFINED;
	switch (cat[0]) {
	case 'C':
		return LX_CPT_CONTROL;
	case 'L':
		return LX_CPT_LETTER;
	case 'M':
		return LX_CPT_MARK;
	case 'N':
		return LX_CPT_NUMBER;
	case 'P':
		return LX_CPT_PUNCT;
	case 'S':
		return LX_CPT_SYMBOL;
	default:
		return LX_CPT_SEPARATOR;
	}
}

#define CATEGORY_FLAGS (LX_CPT_UNDEFINED | LX_CPT_NUMBER | LX_CPT_LETTER | \
			LX_CPT_SEPARATOR | LX_CPT_MARK | LX_CPT_PUNCT |    \
			LX_CPT_SYMBOL | LX_CPT_CONTROL)

static void check_known(void)
{
	size_t i;

	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++) {
		enum lx_ucat c = lx_cpt_category(known[i].cpt);
		uint32_t f = lx_cpt_flags(known[i].cpt);

		CHECK(c < LX_UCAT_COUNT && !strcmp(cat_names[c], known[i].cat),
		      "U+%04X: category %s, want %s", (unsigned)known[i].cpt,
		      c < LX_UCAT_COUNT ? cat_names[c] : "?", known[i].cat);
		CHECK((f & CATEGORY_FLAGS) == flag_of(known[i].cat),
		      "U+%04X: flags %#x for %s", (unsigned)known[i].cpt,
		      (unsigned)f, known[i].cat);
	}
	printf("%zu code points with known categories\n", i);
}

/* White_Space: exactly these 25 code points (llama.cpp's \s). */
static void check_whitespace(void)
{
	static const uint32_t ws[] = {
		0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x20, 0x85, 0xA0, 0x1680,
		0x2000, 0x2001, 0x2002, 0x2003, 0x2004, 0x2005, 0x2006,
		0x2007, 0x2008, 0x2009, 0x200A, 0x2028, 0x2029, 0x202F,
		0x205F, 0x3000,
	};
	uint32_t cpt, n = 0;
	size_t i;

	for (i = 0; i < sizeof(ws) / sizeof(ws[0]); i++)
		CHECK(lx_cpt_flags(ws[i]) & LX_CPT_WHITESPACE,
		      "U+%04X is whitespace", (unsigned)ws[i]);
	for (cpt = 0; cpt <= 0x10FFFF; cpt++)
		n += !!(lx_cpt_flags(cpt) & LX_CPT_WHITESPACE);
	CHECK(n == sizeof(ws) / sizeof(ws[0]), "%u whitespace code points",
	      (unsigned)n);
	/* Not White_Space, though some libraries say so. */
	CHECK(!(lx_cpt_flags(0x1C) & LX_CPT_WHITESPACE), "U+001C");
	CHECK(!(lx_cpt_flags(0x200B) & LX_CPT_WHITESPACE), "U+200B");
	CHECK(!(lx_cpt_flags(0x180E) & LX_CPT_WHITESPACE), "U+180E");
	CHECK(!(lx_cpt_flags(0xFEFF) & LX_CPT_WHITESPACE), "U+FEFF");
}

/* Every code point: one category flag; Ll/Lu give LOWER/UPPER. */
static void check_all_flags(void)
{
	uint32_t cpt, bad = 0, n_letter = 0, n_number = 0;

	for (cpt = 0; cpt <= 0x10FFFF; cpt++) {
		enum lx_ucat c = lx_cpt_category(cpt);
		uint32_t f = lx_cpt_flags(cpt), cf = f & CATEGORY_FLAGS;

		if (c >= LX_UCAT_COUNT || !cf || (cf & (cf - 1)) ||
		    cf != flag_of(cat_names[c]) ||
		    !!(f & LX_CPT_LOWER) != (c == LX_UCAT_LL) ||
		    !!(f & LX_CPT_UPPER) != (c == LX_UCAT_LU)) {
			if (bad++ < 5)
				CHECK(0, "U+%04X: category %d flags %#x",
				      (unsigned)cpt, (int)c, (unsigned)f);
		}
		n_letter += !!(f & LX_CPT_LETTER);
		n_number += !!(f & LX_CPT_NUMBER);
	}
	CHECK(bad == 0, "%u code points with inconsistent flags",
	      (unsigned)bad);
	/* Sizes of \p{L} and \p{N} in Unicode 14 and later (grow only). */
	CHECK(n_letter >= 131756 && n_number >= 1791,
	      "\\p{L} has %u, \\p{N} %u code points", (unsigned)n_letter,
	      (unsigned)n_number);
	CHECK(lx_cpt_flags(0x110000) == LX_CPT_UNDEFINED &&
	      lx_cpt_flags(0xFFFFFFFF) == LX_CPT_UNDEFINED,
	      "beyond U+10FFFF: undefined");
}

static void check_table(void)
{
	size_t n, i;
	const uint32_t *runs = lx_unicode_runs(&n);

	printf("Unicode %s: %zu runs, %zu bytes\n", lx_unicode_version(), n,
	       n * sizeof(*runs));
	CHECK(n > 1000 && n * sizeof(*runs) <= 32 * 1024,
	      "table of %zu runs", n);
	CHECK(runs[0] >> 5 == 0, "the first run starts at U+0000");
	CHECK(runs[n - 1] >> 5 <= 0x10FFFF, "the last run starts in range");
	for (i = 0; i < n; i++) {
		uint32_t start = runs[i] >> 5, cat = runs[i] & 31;
		uint32_t last = i + 1 < n ? (runs[i + 1] >> 5) - 1 : 0x10FFFF;

		CHECK(cat < LX_UCAT_COUNT, "run %zu: category %u", i,
		      (unsigned)cat);
		if (i + 1 < n) {
			CHECK(runs[i + 1] >> 5 > start, "run %zu: not sorted", i);
			CHECK((runs[i + 1] & 31) != cat,
			      "runs %zu and %zu: same category", i, i + 1);
		}
		/* The lookup (and its Latin-1 shortcut) agrees at both ends. */
		CHECK(lx_cpt_category(start) == cat &&
		      lx_cpt_category(last) == cat,
		      "run %zu (U+%04X..U+%04X) looked up differently", i,
		      (unsigned)start, (unsigned)last);
	}
}

static void check_decode(void)
{
	static const struct {
		const char *s;
		size_t n;
		uint32_t cpt;
		size_t used;
	} cases[] = {
		{ "A", 1, 'A', 1 },
		{ "\x00", 1, 0, 1 },
		{ "\x7f", 1, 0x7F, 1 },
		{ "\xc3\xa9", 2, 0xE9, 2 },
		{ "\xe2\x82\xac", 3, 0x20AC, 3 },
		{ "\xf0\x9f\x98\x80", 4, 0x1F600, 4 },
		{ "\xf4\x8f\xbf\xbf", 4, 0x10FFFF, 4 },
		/* llama.cpp checks neither overlong forms nor surrogates */
		{ "\xc0\x80", 2, 0, 2 },
		{ "\xe0\x80\xaf", 3, 0x2F, 3 },
		{ "\xed\xa0\x80", 3, 0xD800, 3 },
		/* invalid: U+FFFD for one byte */
		{ "\x80", 1, 0xFFFD, 1 },
		{ "\xbf\x80", 2, 0xFFFD, 1 },
		{ "\xc3", 1, 0xFFFD, 1 },
		{ "\xc3\x41", 2, 0xFFFD, 1 },
		{ "\xe2\x82", 2, 0xFFFD, 1 },
		{ "\xe2\x82\x41", 3, 0xFFFD, 1 },
		{ "\xf0\x9f\x98", 3, 0xFFFD, 1 },
		{ "\xf0\x9f\x98\x41", 4, 0xFFFD, 1 },
		{ "\xf8\x88\x80\x80\x80", 5, 0xFFFD, 1 },
		{ "\xff", 1, 0xFFFD, 1 },
		/* above U+10FFFF (llama.cpp would throw re-encoding it) */
		{ "\xf4\x90\x80\x80", 4, 0xFFFD, 1 },
		{ "\xf7\xbf\xbf\xbf", 4, 0xFFFD, 1 },
	};
	uint32_t cpt, bad = 0;
	size_t i, used;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cpt = lx_utf8_decode(cases[i].s, cases[i].n, &used);
		CHECK(cpt == cases[i].cpt && used == cases[i].used,
		      "decode case %zu: U+%04X (%zu bytes), want U+%04X (%zu)",
		      i, (unsigned)cpt, used, (unsigned)cases[i].cpt,
		      cases[i].used);
	}
	/* Every code point round-trips through the encoder. */
	for (cpt = 0; cpt <= 0x10FFFF; cpt++) {
		char u[4];
		size_t n = lx_utf8_encode(cpt, u);

		if (n != (cpt < 0x80 ? 1u : cpt < 0x800 ? 2u :
			  cpt < 0x10000 ? 3u : 4u) ||
		    lx_utf8_decode(u, n, &used) != cpt || used != n)
			bad++;
	}
	CHECK(bad == 0, "%u code points do not round-trip", (unsigned)bad);
}

int main(void)
{
	check_known();
	check_whitespace();
	check_all_flags();
	check_table();
	check_decode();
	return tl_finish("test_unicode");
}
