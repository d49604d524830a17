// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * Byte-level BPE as llama.cpp (c392e5094dea) runs it for
 * `tokenizer.ggml.model = gpt2`: GPT-2, Phi-2, Llama 3, Qwen2, StarCoder,
 * Falcon, DeepSeek and their relatives.
 *
 * 1. Pre-tokenization cuts the text into words with the patterns of the
 *    vocabulary's tokenizer.ggml.pre, applied one after another, each
 *    cutting the pieces the previous ones left. llama.cpp hands most patterns
 *    to std::regex (over a copy of the text with every non-ASCII code point
 *    collapsed to one byte naming its category, or over code points with
 *    non-ASCII whitespace replaced by \v) and has hand-written matchers for
 *    GPT-2's and Llama 3's. Here every pattern is a hand-written matcher
 *    that finds what std::regex finds on those copies; there is no regex
 *    engine, and no matcher backtracks more than a character or two.
 * 2. Each word's UTF-8 bytes become GPT-2's printable characters
 *    (bytes_to_unicode), one symbol per byte.
 * 3. The adjacent pair with the lowest merge rank merges first (ties: the
 *    leftmost), until no pair is in tokenizer.ggml.merges. Symbols that are
 *    no token fall back to one-byte tokens, or vanish, as in llama.cpp.
 */
#include "model.h"
#include "unicode.h"

/* ---- GPT-2's byte <-> character mapping ---- */

/*
 * bytes_to_unicode: printable Latin-1 bytes stand for themselves; the other
 * 68 (0x00-0x20, 0x7F-0xA0, 0xAD) become U+0100.. in byte order.
 */
static uint32_t byte_to_char(unsigned int b)
{
	if ((b >= 0x21 && b <= 0x7E) || (b >= 0xA1 && b <= 0xAC) || b >= 0xAE)
		return b;
	if (b <= 0x20)
		return 0x100 + b;
	if (b <= 0xA0)
		return 0x100 + 33 + (b - 0x7F);
	return 0x100 + 67;	/* 0xAD */
}

int lx_bpe_char_to_byte(uint32_t cpt)
{
	if ((cpt >= 0x21 && cpt <= 0x7E) || (cpt >= 0xA1 && cpt <= 0xAC) ||
	    (cpt >= 0xAE && cpt <= 0xFF))
		return (int)cpt;
	if (cpt < 0x100 || cpt >= 0x100 + 68)
		return -1;
	cpt -= 0x100;
	if (cpt < 33)
		return (int)cpt;
	if (cpt < 67)
		return (int)(0x7F + cpt - 33);
	return 0xAD;
}

/* ---- pre-tokenizer names and pattern sequences ---- */

enum pattern {
	/* 's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S) */
	PAT_GPT2,
	/*
	 * (?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|
	 * [^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|
	 * \s*[\r\n]+|\s+(?!\S)|\s+
	 */
	PAT_LLAMA3,
	PAT_QWEN2,		/* the same with \p{N} for \p{N}{1,3} */
	PAT_NUMBER,		/* \p{N} */
	PAT_NUMBERS,		/* \p{N}+ */
	PAT_PUNCT_FALCON,	/* [\p{P}\$\+<=>\^~\|`]+ */
	PAT_PUNCT_DEFAULT,	/* [\p{P}\$\+<=>\^~\|]+ */
	PAT_DIGIT3,		/* [0-9][0-9][0-9] */
	PAT_NEWLINE,		/* [\r\n] */
	PAT_SPACE_LETTERS,	/* \s?\p{L}+ */
	PAT_SPACE_PUNCT,	/* \s?\p{P}+ */
	PAT_CJK,		/* [一-龥ࠀ-一가-퟿]+ */
	PAT_SPACE_CASED,	/* \s?[A-Za-zµÀ-ÖØ-öø-ƺ...𞤀-𞥃]+ (cased letters) */
	PAT_SPACE_SYMBOLS,	/* \s?[!-/:-~！-／：-～‘-‟　-。]+ */
	PAT_TRAILING_SPACE,	/* \s+$ */
	PAT_END = 0xFF
};

#define MAX_PATS 6

/* llama.cpp's regex_exprs per pre-tokenizer (llm_tokenizer_bpe). */
static const uint8_t pre_pats[][MAX_PATS + 1] = {
	[LX_PRE_DEFAULT] = { PAT_PUNCT_DEFAULT, PAT_GPT2, PAT_NUMBERS,
			     PAT_DIGIT3, PAT_END },
	[LX_PRE_GPT2] = { PAT_GPT2, PAT_END },
	[LX_PRE_LLAMA3] = { PAT_LLAMA3, PAT_END },
	[LX_PRE_QWEN2] = { PAT_QWEN2, PAT_END },
	[LX_PRE_STARCODER] = { PAT_NUMBER, PAT_GPT2, PAT_END },
	[LX_PRE_FALCON] = { PAT_PUNCT_FALCON, PAT_GPT2, PAT_DIGIT3, PAT_END },
	[LX_PRE_DEEPSEEK_CODER] = { PAT_NEWLINE, PAT_SPACE_LETTERS,
				    PAT_SPACE_PUNCT, PAT_CJK, PAT_NUMBER,
				    PAT_END },
	[LX_PRE_DEEPSEEK_LLM] = { PAT_NEWLINE, PAT_SPACE_CASED,
				  PAT_SPACE_SYMBOLS, PAT_TRAILING_SPACE,
				  PAT_CJK, PAT_NUMBERS, PAT_END },
};

/*
 * tokenizer.ggml.pre names llama.cpp maps to these pre-tokenizers with no
 * other effect on tokenization than the flags here (names that also change
 * special tokens or add separators are left out).
 */
static const struct {
	const char *name;
	uint8_t pre;
	bool ignore_merges, add_bos;
} pre_names[] = {
	{ "default", LX_PRE_DEFAULT, false, false },
	{ "gpt-2", LX_PRE_GPT2, false, false },
	{ "phi-2", LX_PRE_GPT2, false, false },
	{ "mpt", LX_PRE_GPT2, false, false },
	{ "olmo", LX_PRE_GPT2, false, false },
	{ "jais", LX_PRE_GPT2, false, false },
	{ "llama3", LX_PRE_LLAMA3, true, true },
	{ "llama-v3", LX_PRE_LLAMA3, true, true },
	{ "llama-bpe", LX_PRE_LLAMA3, true, true },
	{ "falcon3", LX_PRE_LLAMA3, true, true },
	{ "dbrx", LX_PRE_LLAMA3, false, false },
	{ "smaug-bpe", LX_PRE_LLAMA3, false, false },
	{ "qwen2", LX_PRE_QWEN2, false, false },
	{ "deepseek-r1-qwen", LX_PRE_QWEN2, false, false },
	{ "stablelm2", LX_PRE_QWEN2, false, false },
	{ "megrez", LX_PRE_QWEN2, false, false },
	{ "starcoder", LX_PRE_STARCODER, false, false },
	{ "refact", LX_PRE_STARCODER, false, false },
	{ "smollm", LX_PRE_STARCODER, false, false },
	{ "command-r", LX_PRE_STARCODER, false, false },
	{ "codeshell", LX_PRE_STARCODER, false, false },
	{ "exaone", LX_PRE_STARCODER, false, false },
	{ "minerva-7b", LX_PRE_STARCODER, false, false },
	{ "falcon", LX_PRE_FALCON, false, false },
	{ "deepseek-coder", LX_PRE_DEEPSEEK_CODER, false, false },
	{ "deepseek-llm", LX_PRE_DEEPSEEK_LLM, false, false },
};

bool lx_bpe_pre_find(const char *name, size_t len, enum lx_bpe_pre *pre,
		     bool *ignore_merges, bool *add_bos)
{
	size_t i;

	for (i = 0; i < LX_ARRAY_SIZE(pre_names); i++) {
		if (!lx_str_eq(name, len, pre_names[i].name))
			continue;
		*pre = (enum lx_bpe_pre)pre_names[i].pre;
		*ignore_merges = pre_names[i].ignore_merges;
		*add_bos = pre_names[i].add_bos;
		return true;
	}
	return false;
}

_Static_assert(LX_ARRAY_SIZE(pre_names) == 12 + 14,
	       "lx_bpe_pre_names counts the names");

const char *lx_bpe_pre_names(void)
{
	/* Short enough for an error line; the table has the aliases. */
	return "default, gpt-2, phi-2, llama3, llama-bpe, qwen2, starcoder, refact, smollm, falcon, deepseek-coder, deepseek-llm and 14 aliases";
}

/* ---- character classes of the patterns ---- */

/*
 * std::regex's \s on llama.cpp's copies of the text: ASCII space, \t..\r,
 * and every non-ASCII White_Space character (llama.cpp turns those into \v
 * first). Everything else std::regex sees of a non-ASCII code point is its
 * category (the collapsed byte) or, for patterns without \p{..}, its value.
 */
static bool re_space(uint32_t c)
{
	if (c < 0x80)
		return c == ' ' || (c >= 0x09 && c <= 0x0D);
	return lx_cpt_flags(c) & LX_CPT_WHITESPACE;
}

/* A non-ASCII code point that the collapsed text shows as category `flag`. */
static bool collapsed_is(uint32_t c, uint32_t flag)
{
	uint32_t f = lx_cpt_flags(c);

	return !(f & LX_CPT_WHITESPACE) && (f & flag);
}

static bool is_ascii_letter(uint32_t c)
{
	return (c | 0x20) >= 'a' && (c | 0x20) <= 'z';
}

/* ASCII \p{P}: !"#%&'()*,-./:;?@[\]_{} (llama.cpp's k_ucat_map). */
static bool is_ascii_punct(uint32_t c)
{
	return (c >= 0x21 && c <= 0x23) || (c >= 0x25 && c <= 0x2A) ||
	       (c >= 0x2C && c <= 0x2F) || c == 0x3A || c == 0x3B ||
	       c == 0x3F || c == 0x40 || (c >= 0x5B && c <= 0x5D) ||
	       c == 0x5F || c == 0x7B || c == 0x7D;
}

/* [\p{P}\$\+<=>\^~\|] */
static bool punct_or_ascii_symbol(uint32_t c)
{
	if (c >= 0x80)
		return collapsed_is(c, LX_CPT_PUNCT);
	return is_ascii_punct(c) || c == '$' || c == '+' || c == '<' ||
	       c == '=' || c == '>' || c == '^' || c == '~' || c == '|';
}

/* DeepSeek LLM's letter class: cased letters of an older Unicode. */
static const uint32_t cased_ranges[][2] = {
	{ 0x41, 0x5A }, { 0x61, 0x7A }, { 0xB5, 0xB5 }, { 0xC0, 0xD6 },
	{ 0xD8, 0xF6 }, { 0xF8, 0x1BA }, { 0x1BC, 0x1BF }, { 0x1C4, 0x293 },
	{ 0x295, 0x2AF }, { 0x370, 0x373 }, { 0x376, 0x377 },
	{ 0x37B, 0x37D }, { 0x37F, 0x37F }, { 0x386, 0x386 },
	{ 0x388, 0x38A }, { 0x38C, 0x38C }, { 0x38E, 0x3A1 },
	{ 0x3A3, 0x3F5 }, { 0x3F7, 0x481 }, { 0x48A, 0x52F },
	{ 0x531, 0x556 }, { 0x10A0, 0x10C5 }, { 0x13A0, 0x13F5 },
	{ 0x13F8, 0x13FD }, { 0x1C90, 0x1CBA }, { 0x1CBD, 0x1CBF },
	{ 0x1D00, 0x1D2B }, { 0x1D6B, 0x1D77 }, { 0x1D79, 0x1D9A },
	{ 0x1E00, 0x1F15 }, { 0x1F18, 0x1F1D }, { 0x1F20, 0x1F45 },
	{ 0x1F48, 0x1F4D }, { 0x1F50, 0x1F57 }, { 0x1F59, 0x1F59 },
	{ 0x1F5B, 0x1F5B }, { 0x1F5D, 0x1F5D }, { 0x1F5F, 0x1F7D },
	{ 0x1F80, 0x1FB4 }, { 0x1FB6, 0x1FBC }, { 0x1FBE, 0x1FBE },
	{ 0x1FC2, 0x1FC4 }, { 0x1FC6, 0x1FCC }, { 0x1FD0, 0x1FD3 },
	{ 0x1FD6, 0x1FDB }, { 0x1FE0, 0x1FEC }, { 0x1FF2, 0x1FF4 },
	{ 0x1FF6, 0x1FFC }, { 0x2102, 0x2102 }, { 0x2107, 0x2107 },
	{ 0x210A, 0x2113 }, { 0x2115, 0x2115 }, { 0x2119, 0x211D },
	{ 0x2124, 0x2124 }, { 0x2126, 0x2126 }, { 0x2128, 0x2128 },
	{ 0x212A, 0x212D }, { 0x212F, 0x2134 }, { 0x2139, 0x2139 },
	{ 0x213C, 0x213F }, { 0x2145, 0x2149 }, { 0x214E, 0x214E },
	{ 0x2183, 0x2184 }, { 0x2C00, 0x2C7B }, { 0x2C7E, 0x2CE4 },
	{ 0x2CEB, 0x2CEE }, { 0x2CF2, 0x2CF3 }, { 0xA640, 0xA66D },
	{ 0xA680, 0xA69B }, { 0xA722, 0xA76F }, { 0xA771, 0xA787 },
	{ 0xA78B, 0xA78E }, { 0xAB70, 0xABBF }, { 0xFB00, 0xFB06 },
	{ 0xFB13, 0xFB17 }, { 0xFF21, 0xFF3A }, { 0xFF41, 0xFF5A },
	{ 0x10400, 0x1044F }, { 0x104B0, 0x104D3 }, { 0x104D8, 0x104FB },
	{ 0x10C80, 0x10CB2 }, { 0x10CC0, 0x10CF2 }, { 0x118A0, 0x118DF },
	{ 0x1E900, 0x1E943 },
};

static bool is_cased(uint32_t c)
{
	size_t lo = 0, hi = LX_ARRAY_SIZE(cased_ranges);

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (cased_ranges[mid][1] < c)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < LX_ARRAY_SIZE(cased_ranges) && cased_ranges[lo][0] <= c;
}

/* Is c in the character class that pattern pat repeats? */
static bool in_class(enum pattern pat, uint32_t c)
{
	switch (pat) {
	case PAT_NUMBER:
	case PAT_NUMBERS:
		return c < 0x80 ? c >= '0' && c <= '9' :
				  collapsed_is(c, LX_CPT_NUMBER);
	case PAT_SPACE_LETTERS:
		return c < 0x80 ? is_ascii_letter(c) :
				  collapsed_is(c, LX_CPT_LETTER);
	case PAT_SPACE_PUNCT:
		return c < 0x80 ? is_ascii_punct(c) :
				  collapsed_is(c, LX_CPT_PUNCT);
	case PAT_PUNCT_FALCON:
		return c == '`' || punct_or_ascii_symbol(c);
	case PAT_PUNCT_DEFAULT:
		return punct_or_ascii_symbol(c);
	case PAT_DIGIT3:
		return c >= '0' && c <= '9';
	case PAT_NEWLINE:
		return c == '\r' || c == '\n';
	/* Classes of literal code points: whitespace is \v by then. */
	case PAT_CJK:
		return ((c >= 0x800 && c <= 0x9FA5) ||
			(c >= 0xAC00 && c <= 0xD7FF)) && !re_space(c);
	case PAT_SPACE_CASED:
		return is_cased(c) && !re_space(c);
	case PAT_SPACE_SYMBOLS:
		return (c >= 0x21 && c <= 0x2F) || (c >= 0x3A && c <= 0x7E) ||
		       (c >= 0xFF01 && c <= 0xFF0F) ||
		       (c >= 0xFF1A && c <= 0xFF5E) ||
		       (c >= 0x2018 && c <= 0x201F) ||
		       (c >= 0x3001 && c <= 0x3002);	/* U+3000 is \v */
	default:
		return false;
	}
}

/* ---- pre-tokenization ---- */

struct bpe {
	const struct lx_vocab *v;
	uint32_t *cpt;		/* the text's code points */
	size_t n_cpt;
	uint8_t *cut;		/* cut[i]: a piece starts at code point i */
	char *word;		/* a word in byte-level characters */
	struct symbol *sym;
	struct bigram *heap;
	size_t n_heap;
	int32_t *out;
	size_t cap, n_out;
};

#define OUT_OF_RANGE 0xFFFFFFFFu

/* The code point at pos of the piece ending at end (llama.cpp's _get_cpt). */
static uint32_t cpt_at(const struct bpe *b, size_t pos, size_t end)
{
	return pos < end ? b->cpt[pos] : OUT_OF_RANGE;
}

/* Its flags; 0 past the piece (llama.cpp's empty unicode_cpt_flags). */
static uint32_t flags_at(const struct bpe *b, size_t pos, size_t end)
{
	return pos < end ? lx_cpt_flags(b->cpt[pos]) : 0;
}

static uint32_t ascii_lower(uint32_t c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

/*
 * 's|'t|'re|'ve|'m|'ll|'d at pos: its length, or 0. Llama 3 matches any case;
 * llama.cpp lowers the letters with unicode_tolower, and no code point but
 * ASCII A-Z lowers to s, t, r, e, v, m, l or d, so ASCII is enough.
 */
static size_t contraction(const struct bpe *b, size_t pos, size_t end,
			  bool any_case)
{
	uint32_t c1, c2;

	if (b->cpt[pos] != '\'' || pos + 1 >= end)
		return 0;
	c1 = any_case ? ascii_lower(b->cpt[pos + 1]) : b->cpt[pos + 1];
	if (c1 == 's' || c1 == 't' || c1 == 'm' || c1 == 'd')
		return 2;
	if (pos + 2 >= end)
		return 0;
	c2 = any_case ? ascii_lower(b->cpt[pos + 2]) : b->cpt[pos + 2];
	if ((c1 == 'r' && c2 == 'e') || (c1 == 'v' && c2 == 'e') ||
	    (c1 == 'l' && c2 == 'l'))
		return 3;
	return 0;
}

#define WS_L_N (LX_CPT_WHITESPACE | LX_CPT_LETTER | LX_CPT_NUMBER)

/* GPT-2's pattern over the piece [pos, end): llama.cpp's custom matcher. */
static void split_gpt2(struct bpe *b, size_t pos, size_t end)
{
	while (pos < end) {
		uint32_t c = b->cpt[pos], f2;
		size_t k, ws;

		k = contraction(b, pos, end, false);
		if (k) {
			pos += k;
			b->cut[pos] = 1;
			continue;
		}
		f2 = c == ' ' ? flags_at(b, pos + 1, end) : lx_cpt_flags(c);
		if (f2 & (LX_CPT_LETTER | LX_CPT_NUMBER)) {
			/* ' ?\p{L}+' or ' ?\p{N}+' */
			uint32_t want = f2 & LX_CPT_LETTER ? LX_CPT_LETTER :
							     LX_CPT_NUMBER;

			pos += c == ' ';
			while (flags_at(b, pos, end) & want)
				pos++;
			b->cut[pos] = 1;
			continue;
		}
		if (f2 && !(f2 & WS_L_N)) {
			/* ' ?[^\s\p{L}\p{N}]+' */
			pos += c == ' ';
			while ((f2 = flags_at(b, pos, end)) && !(f2 & WS_L_N))
				pos++;
			b->cut[pos] = 1;
			continue;
		}
		ws = 0;
		while (flags_at(b, pos + ws, end) & LX_CPT_WHITESPACE)
			ws++;
		if (ws > 1 && pos + ws < end)
			pos += ws - 1;		/* \s+(?!\S): leave one */
		else if (ws > 0)
			pos += ws;		/* \s+ */
		else
			pos++;			/* nothing matches */
		b->cut[pos] = 1;
	}
}

/*
 * Llama 3's pattern, llama.cpp's custom matcher; with max_digits 1 it is
 * Qwen2's pattern, which llama.cpp runs through std::regex with the same
 * result (every alternative maps to the same branch here).
 */
static void split_llama3(struct bpe *b, size_t pos, size_t end,
			 size_t max_digits)
{
	while (pos < end) {
		uint32_t c = b->cpt[pos], f = lx_cpt_flags(c), f2;
		size_t k, ws, last_nl;

		k = contraction(b, pos, end, true);
		if (k) {
			pos += k;
			b->cut[pos] = 1;
			continue;
		}
		/* [^\r\n\p{L}\p{N}]?\p{L}+ */
		if (c != '\r' && c != '\n' && !(f & LX_CPT_NUMBER) &&
		    ((f & LX_CPT_LETTER) ||
		     (flags_at(b, pos + 1, end) & LX_CPT_LETTER))) {
			pos++;
			while (flags_at(b, pos, end) & LX_CPT_LETTER)
				pos++;
			b->cut[pos] = 1;
			continue;
		}
		/* \p{N}{1,3}: runs cut every max_digits */
		if (f & LX_CPT_NUMBER) {
			size_t ini = pos;

			while (flags_at(b, pos, end) & LX_CPT_NUMBER) {
				if (++pos - ini >= max_digits) {
					b->cut[pos] = 1;
					ini = pos;
				}
			}
			b->cut[pos] = 1;
			continue;
		}
		/*
		 * ' ?[^\s\p{L}\p{N}]+[\r\n]*'. As in llama.cpp, a space that
		 * ends the piece also lands here (flags 0 past the end); the
		 * pattern's \s+ would take it the same.
		 */
		f2 = c == ' ' ? flags_at(b, pos + 1, end) : f;
		if (!(f2 & WS_L_N)) {
			pos += c == ' ';
			while ((f2 = flags_at(b, pos, end)) && !(f2 & WS_L_N))
				pos++;
			while (cpt_at(b, pos, end) == '\r' ||
			       cpt_at(b, pos, end) == '\n')
				pos++;
			b->cut[pos] = 1;
			continue;
		}
		last_nl = 0;
		for (ws = 0; flags_at(b, pos + ws, end) & LX_CPT_WHITESPACE;
		     ws++) {
			uint32_t w = b->cpt[pos + ws];

			if (w == '\r' || w == '\n')
				last_nl = pos + ws + 1;
		}
		if (last_nl)
			pos = last_nl;		/* \s*[\r\n]+ */
		else if (ws > 1 && pos + ws < end)
			pos += ws - 1;		/* \s+(?!\S) */
		else if (ws > 0)
			pos += ws;		/* \s+ */
		else
			pos++;
		b->cut[pos] = 1;
	}
}

/*
 * The length of the match of a class pattern at pos, or 0: X+, or \s?X+
 * where \s? takes a whitespace character only if X follows (ECMAScript
 * backtracking), or [0-9][0-9][0-9], or [\r\n] and \p{N} (one character).
 */
static size_t match_at(const struct bpe *b, enum pattern pat, size_t pos,
		       size_t end)
{
	size_t start = pos;

	switch (pat) {
	case PAT_NUMBER:
	case PAT_NEWLINE:
		return in_class(pat, b->cpt[pos]);
	case PAT_DIGIT3:
		if (end - pos < 3)
			return 0;
		return in_class(pat, b->cpt[pos]) &&
		       in_class(pat, b->cpt[pos + 1]) &&
		       in_class(pat, b->cpt[pos + 2]) ? 3 : 0;
	case PAT_SPACE_LETTERS:
	case PAT_SPACE_PUNCT:
	case PAT_SPACE_CASED:
	case PAT_SPACE_SYMBOLS:
		if (re_space(b->cpt[pos]) && pos + 1 < end &&
		    in_class(pat, b->cpt[pos + 1]))
			pos++;
		break;
	default:
		break;
	}
	while (pos < end && in_class(pat, b->cpt[pos]))
		pos++;
	return pos - start;
}

/*
 * One pattern over the piece [pos, end), as std::regex_iterator walks it:
 * the leftmost match, then the next from its end; matches and the text
 * between them become pieces.
 */
static void split_pattern(struct bpe *b, enum pattern pat, size_t pos,
			  size_t end)
{
	size_t m;

	if (pat == PAT_GPT2) {
		split_gpt2(b, pos, end);
		return;
	}
	if (pat == PAT_LLAMA3 || pat == PAT_QWEN2) {
		split_llama3(b, pos, end, pat == PAT_LLAMA3 ? 3 : 1);
		return;
	}
	if (pat == PAT_TRAILING_SPACE) {
		/* \s+$: the whitespace that ends the piece (found directly,
		 * where a regex engine would retry every start).
		 */
		m = end;
		while (m > pos && re_space(b->cpt[m - 1]))
			m--;
		b->cut[m] = 1;
		return;
	}
	while (pos < end) {
		m = match_at(b, pat, pos, end);
		if (!m) {
			pos++;
			continue;
		}
		b->cut[pos] = 1;
		pos += m;
		b->cut[pos] = 1;
	}
}

/* ---- merges ---- */

struct symbol {
	int32_t prev, next;	/* neighbours in the word, -1 at its ends */
	uint32_t off, n;	/* bytes in b->word; n = 0 once merged away */
	int32_t id;		/* the token of its text, or -1 */
};

struct bigram {
	int32_t left, right;
	uint32_t rank;
	uint32_t size;		/* bytes of the merged text when queued */
	int32_t id;		/* the token of the merged text, or -1 */
};

static int cmp_merge(const void *a, const void *b, void *arg)
{
	const struct lx_bpe_merge *x = a, *y = b;

	(void)arg;
	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	return x->rank < y->rank ? -1 : x->rank > y->rank;
}

static int cmp_bytes(const char *a, size_t na, const char *b, size_t nb)
{
	int r = memcmp(a, b, LX_MIN(na, nb));

	if (r)
		return r;
	return na < nb ? -1 : na > nb;
}

static int cmp_merge_text(const void *a, const void *b, void *arg)
{
	const struct lx_bpe_merge_text *x = a, *y = b;
	int r;

	(void)arg;
	r = cmp_bytes(x->ptr, x->n_left, y->ptr, y->n_left);
	if (!r)
		r = cmp_bytes(x->ptr + x->n_left + 1, x->n_right,
			      y->ptr + y->n_left + 1, y->n_right);
	if (!r)
		r = x->rank < y->rank ? -1 : x->rank > y->rank;
	return r;
}

/* "left right" (the space searched from the second byte, as llama.cpp). */
static bool split_merge(const struct lx_gguf_str *s, uint32_t *n_left)
{
	uint64_t p;

	for (p = 1; p < s->len; p++)
		if (s->ptr[p] == ' ')
			break;
	/* No space, or an empty side: llama.cpp keeps a pair no symbols form. */
	if (p >= s->len || p + 1 == s->len || s->len > UINT32_MAX)
		return false;
	*n_left = (uint32_t)p;
	return true;
}

/*
 * tokenizer.ggml.merges, rank = index, and the token of each byte's
 * character (a word starts as those). Pairs of tokens are indexed by their
 * ids (the common case: every merge of a real vocabulary), the rest by
 * text; llama.cpp's map keeps the first rank of a repeated pair, and so do
 * these after sorting. Sorted arrays rather than hash tables: the texts come
 * from the file, and sorting is O(n log n) whatever they are.
 */
bool lx_bpe_load(struct lx_vocab *v, const struct lx_gguf *g,
		 struct lx_err *err)
{
	const struct lx_gguf_kv *arr;
	struct lx_gguf_str *m = NULL;
	int32_t *pair = NULL;
	char *tmp = NULL;
	uint32_t i, n, n_id = 0, n_text = 0, k, nl, max_len = 0;
	bool ok = false;

	for (i = 0; i < 256; i++) {
		char u[2];
		size_t nu = lx_utf8_encode(byte_to_char(i), u);

		v->byte_token[i] = lx_vocab_find(v, u, nu);
	}
	if (!lx_gguf_get_arr(g, "tokenizer.ggml.merges", LX_GGUF_STRING, &arr,
			     true, err))
		return false;
	if (arr->arr_count > INT32_MAX / 2)
		return lx_fail(err, "tokenizer.ggml.merges has %llu entries",
			       (unsigned long long)arr->arr_count);
	n = (uint32_t)arr->arr_count;
	if (!lx_gguf_arr_strings(arr, &m, err))
		return false;
	pair = lx_host_alloc(((size_t)n + 1) * 2 * sizeof(*pair));
	if (!pair)
		goto oom;
	for (i = 0; i < n; i++) {
		pair[2 * i] = pair[2 * i + 1] = -1;
		if (!split_merge(&m[i], &nl))
			continue;
		pair[2 * i] = lx_vocab_find(v, m[i].ptr, nl);
		pair[2 * i + 1] = lx_vocab_find(v, m[i].ptr + nl + 1,
						m[i].len - nl - 1);
		if (pair[2 * i] >= 0 && pair[2 * i + 1] >= 0) {
			n_id++;
			max_len = LX_MAX(max_len, (uint32_t)m[i].len);
		} else {
			n_text++;
		}
	}
	v->merges = lx_host_alloc(((size_t)n_id + 1) * sizeof(*v->merges));
	v->merge_texts = lx_host_alloc(((size_t)n_text + 1) *
				       sizeof(*v->merge_texts));
	tmp = lx_host_alloc((size_t)max_len + 1);
	if (!v->merges || !v->merge_texts || !tmp)
		goto oom;
	for (i = 0; i < n; i++) {
		struct lx_bpe_merge *e;

		if (!split_merge(&m[i], &nl))
			continue;
		if (pair[2 * i] < 0 || pair[2 * i + 1] < 0) {
			struct lx_bpe_merge_text *x =
				&v->merge_texts[v->n_merge_texts++];

			x->ptr = m[i].ptr;
			x->n_left = nl;
			x->n_right = (uint32_t)m[i].len - nl - 1;
			x->rank = i;
			continue;
		}
		e = &v->merges[v->n_merges++];
		e->key = (uint64_t)pair[2 * i] << 32 |
			 (uint32_t)pair[2 * i + 1];
		e->rank = i;
		/* The merged text is the pair without its space. */
		memcpy(tmp, m[i].ptr, nl);
		memcpy(tmp + nl, m[i].ptr + nl + 1, m[i].len - nl - 1);
		e->id = lx_vocab_find(v, tmp, m[i].len - 1);
	}
	lx_sort(v->merges, v->n_merges, sizeof(*v->merges), cmp_merge, NULL);
	lx_sort(v->merge_texts, v->n_merge_texts, sizeof(*v->merge_texts),
		cmp_merge_text, NULL);
	/* Keep the first (lowest) rank of each pair. */
	for (i = 0, k = 0; i < v->n_merges; i++)
		if (!k || v->merges[i].key != v->merges[k - 1].key)
			v->merges[k++] = v->merges[i];
	v->n_merges = k;
	for (i = 0, k = 0; i < v->n_merge_texts; i++) {
		struct lx_bpe_merge_text *x = &v->merge_texts[i];

		if (k) {
			struct lx_bpe_merge_text y = v->merge_texts[k - 1];

			y.rank = x->rank;
			if (!cmp_merge_text(x, &y, NULL))
				continue;
		}
		v->merge_texts[k++] = *x;
	}
	v->n_merge_texts = k;
	ok = true;
	goto out;
oom:
	lx_fail(err, "out of memory for %u merges", n);
out:
	lx_host_free(m);
	lx_host_free(pair);
	lx_host_free(tmp);
	return ok;
}

/* The merge of the symbols l and r: its rank and result, or false. */
static bool find_merge(const struct bpe *b, const struct symbol *l,
		       const struct symbol *r, uint32_t *rank, int32_t *id)
{
	const struct lx_vocab *v = b->v;
	size_t lo = 0, hi;

	if (l->id >= 0 && r->id >= 0) {
		uint64_t key = (uint64_t)l->id << 32 | (uint32_t)r->id;

		hi = v->n_merges;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (v->merges[mid].key < key)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo == v->n_merges || v->merges[lo].key != key)
			return false;
		*rank = v->merges[lo].rank;
		*id = v->merges[lo].id;
		return true;
	}
	/* A side that is no token can only be in a text-indexed merge. */
	hi = v->n_merge_texts;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		const struct lx_bpe_merge_text *x = &v->merge_texts[mid];
		int c = cmp_bytes(x->ptr, x->n_left, b->word + l->off, l->n);

		if (!c)
			c = cmp_bytes(x->ptr + x->n_left + 1, x->n_right,
				      b->word + r->off, r->n);
		if (!c) {
			*rank = x->rank;
			*id = lx_vocab_find(v, b->word + l->off, l->n + r->n);
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Heap order: lowest rank first, then leftmost (llm_bigram_bpe). */
static bool before(const struct bigram *a, const struct bigram *b)
{
	return a->rank < b->rank || (a->rank == b->rank && a->left < b->left);
}

static void heap_push(struct bpe *b, struct bigram g)
{
	size_t i = b->n_heap++;

	while (i > 0 && before(&g, &b->heap[(i - 1) / 2])) {
		b->heap[i] = b->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	b->heap[i] = g;
}

static struct bigram heap_pop(struct bpe *b)
{
	struct bigram top = b->heap[0], last = b->heap[--b->n_heap];
	size_t i = 0;

	for (;;) {
		size_t c = 2 * i + 1;

		if (c >= b->n_heap)
			break;
		if (c + 1 < b->n_heap && before(&b->heap[c + 1], &b->heap[c]))
			c++;
		if (!before(&b->heap[c], &last))
			break;
		b->heap[i] = b->heap[c];
		i = c;
	}
	if (b->n_heap)
		b->heap[i] = last;
	return top;
}

static void try_add_bigram(struct bpe *b, int32_t left, int32_t right)
{
	const struct symbol *l, *r;
	uint32_t rank;
	int32_t id;

	if (left < 0 || right < 0)
		return;
	l = &b->sym[left];
	r = &b->sym[right];
	if (!find_merge(b, l, r, &rank, &id))
		return;
	heap_push(b, (struct bigram){ left, right, rank, l->n + r->n, id });
}

static void emit(struct bpe *b, int32_t tok)
{
	if (b->n_out < b->cap)
		b->out[b->n_out] = tok;
	b->n_out++;
}

/* One pre-tokenized word: code points [pos, end) to tokens. */
static void merge_word(struct bpe *b, size_t pos, size_t end)
{
	const struct lx_vocab *v = b->v;
	size_t n_sym = 0, n_word = 0, i;
	int32_t k, id;

	for (; pos < end; pos++) {
		char u[4];
		size_t n = lx_utf8_encode(b->cpt[pos], u);

		for (i = 0; i < n; i++) {
			unsigned char byte = (unsigned char)u[i];
			struct symbol *s = &b->sym[n_sym];

			*s = (struct symbol){ (int32_t)n_sym - 1,
					      (int32_t)n_sym + 1,
					      (uint32_t)n_word, 0,
					      v->byte_token[byte] };
			s->n = (uint32_t)lx_utf8_encode(byte_to_char(byte),
							b->word + n_word);
			n_word += s->n;
			n_sym++;
		}
	}
	if (!n_sym)
		return;
	b->sym[n_sym - 1].next = -1;
	/* Llama 3 & co.: a word that is a token is not merged. */
	if (v->ignore_merges) {
		id = lx_vocab_find(v, b->word, n_word);
		if (id >= 0) {
			emit(b, id);
			return;
		}
	}

	b->n_heap = 0;
	for (i = 1; i < n_sym; i++)
		try_add_bigram(b, (int32_t)i - 1, (int32_t)i);
	while (b->n_heap) {
		struct bigram g = heap_pop(b);
		struct symbol *l = &b->sym[g.left], *r = &b->sym[g.right];

		/* Stale: a side has merged since (texts share a start, so
		 * equal sizes mean equal texts).
		 */
		if (l->n == 0 || r->n == 0 || l->n + r->n != g.size)
			continue;
		l->n += r->n;
		l->id = g.id;
		r->n = 0;
		l->next = r->next;
		if (r->next >= 0)
			b->sym[r->next].prev = g.left;
		try_add_bigram(b, l->prev, g.left);
		try_add_bigram(b, g.left, l->next);
	}

	for (k = 0; k >= 0; k = b->sym[k].next) {
		const struct symbol *s = &b->sym[k];

		if (s->id >= 0) {
			emit(b, s->id);
			continue;
		}
		/* No such token: each byte of its text that is a token. */
		for (i = 0; i < s->n; i++) {
			id = lx_vocab_find(v, b->word + s->off + i, 1);
			if (id >= 0)
				emit(b, id);
		}
	}
}

static void free_bpe(struct bpe *b)
{
	lx_host_free(b->cpt);
	lx_host_free(b->cut);
	lx_host_free(b->word);
	lx_host_free(b->sym);
	lx_host_free(b->heap);
}

/* The end of the piece starting at code point pos. */
static size_t piece_end(const struct bpe *b, size_t pos)
{
	for (pos++; pos < b->n_cpt && !b->cut[pos]; pos++)
		;
	return pos;
}

/* Decodes text into b->cpt and cuts it into words (b->cut). */
static bool pretokenize(struct bpe *b, enum lx_bpe_pre pre, const char *text,
			size_t len, struct lx_err *err)
{
	const uint8_t *pats = pre_pats[pre];
	size_t i, used, pos, end;

	if (len > INT32_MAX / 4)
		return lx_fail(err, "text too long to tokenize (%zu bytes)", len);
	b->cpt = lx_host_alloc((len + 1) * sizeof(*b->cpt));
	b->cut = lx_host_alloc(len + 1);
	if (!b->cpt || !b->cut)
		return lx_fail(err, "out of memory tokenizing %zu bytes", len);
	for (i = 0; i < len; i += used)
		b->cpt[b->n_cpt++] = lx_utf8_decode(text + i, len - i, &used);
	/* Each pattern cuts the pieces of the ones before it. */
	for (i = 0; i < MAX_PATS && pats[i] != PAT_END; i++) {
		for (pos = 0; pos < b->n_cpt; pos = end) {
			end = piece_end(b, pos);
			split_pattern(b, (enum pattern)pats[i], pos, end);
		}
	}
	return true;
}

bool lx_tokenize_bpe(const struct lx_vocab *v, const char *text, size_t len,
		     int32_t *out, size_t cap, size_t *n_out,
		     struct lx_err *err)
{
	struct bpe b = { .v = v, .out = out, .cap = cap };
	size_t i, pos, end, max_word = 0;

	*n_out = 0;
	if (!len)
		return true;
	if (!pretokenize(&b, v->pre, text, len, err))
		goto fail;
	/* Buffers for the longest word: a symbol per UTF-8 byte, each of up
	 * to 2 bytes; each merge queues at most 2 bigrams.
	 */
	for (pos = 0; pos < b.n_cpt; pos = end) {
		size_t bytes = 0;
		char u[4];

		end = piece_end(&b, pos);
		for (i = pos; i < end; i++)
			bytes += lx_utf8_encode(b.cpt[i], u);
		max_word = LX_MAX(max_word, bytes);
	}
	b.word = lx_host_alloc(2 * max_word);
	b.sym = lx_host_alloc(max_word * sizeof(*b.sym));
	b.heap = lx_host_alloc(3 * max_word * sizeof(*b.heap));
	if (!b.word || !b.sym || !b.heap) {
		lx_fail(err, "out of memory tokenizing %zu bytes", len);
		goto fail;
	}
	for (pos = 0; pos < b.n_cpt; pos = end) {
		end = piece_end(&b, pos);
		merge_word(&b, pos, end);
	}
	*n_out = b.n_out;
	free_bpe(&b);
	return true;
fail:
	free_bpe(&b);
	return false;
}

int64_t lx_bpe_pretokenize(enum lx_bpe_pre pre, const char *text, size_t len,
			   size_t *ends, size_t cap, struct lx_err *err)
{
	struct bpe b = { 0 };
	size_t i = 0, pos, used, n = 0;

	if (!len)
		return 0;
	if (!pretokenize(&b, pre, text, len, err)) {
		free_bpe(&b);
		return -1;
	}
	/* Code point cuts back to offsets in the input bytes. */
	for (pos = 0; pos < b.n_cpt; pos++) {
		lx_utf8_decode(text + i, len - i, &used);
		i += used;
		if (pos + 1 == b.n_cpt || b.cut[pos + 1]) {
			if (n < cap)
				ends[n] = i;
			n++;
		}
	}
	free_bpe(&b);
	return (int64_t)n;
}
