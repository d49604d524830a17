// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * GGUF reader over untrusted bytes. A cursor never reads past the end of the
 * buffer, every count is bounded by the bytes that remain before anything is
 * allocated for it, and every tensor must lie inside the data section, aligned,
 * without overlapping another. Layout: header, key/value metadata, tensor
 * infos, padding to general.alignment, tensor data.
 */
#include "gguf.h"
#include "platform.h"
#include "quant.h"

#define GGUF_MAGIC 0x46554747u	/* "GGUF" little-endian */

struct cursor {
	const uint8_t *p;
	uint64_t size;
	uint64_t pos;
	struct lx_err *err;
	char what[112];		/* what is being read, for messages */
};

/* Names the part of the file read next, for truncation messages. */
static void where(struct cursor *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void where(struct cursor *c, const char *fmt, ...)
{
	lx_va_list ap;

	lx_va_start(ap, fmt);
	lx_vsnprintf(c->what, sizeof(c->what), fmt, ap);
	lx_va_end(ap);
}

static bool need(struct cursor *c, uint64_t n)
{
	if (n > c->size - c->pos)
		return lx_fail(c->err,
			       "file truncated in %s at byte %llu: needs %llu more bytes but only %llu remain",
			       c->what, (unsigned long long)c->pos,
			       (unsigned long long)n,
			       (unsigned long long)(c->size - c->pos));
	return true;
}

static uint64_t rd_le(const uint8_t *p, unsigned int n)
{
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

static bool read_u32(struct cursor *c, uint32_t *v)
{
	if (!need(c, 4))
		return false;
	*v = (uint32_t)rd_le(c->p + c->pos, 4);
	c->pos += 4;
	return true;
}

static bool read_u64(struct cursor *c, uint64_t *v)
{
	if (!need(c, 8))
		return false;
	*v = rd_le(c->p + c->pos, 8);
	c->pos += 8;
	return true;
}

static bool read_str(struct cursor *c, struct lx_gguf_str *s)
{
	uint64_t len;

	if (!read_u64(c, &len))
		return false;
	if (len > c->size - c->pos)
		return lx_fail(c->err,
			       "string length %llu at byte %llu in %s runs past the end of the file",
			       (unsigned long long)len,
			       (unsigned long long)(c->pos - 8), c->what);
	s->ptr = (const char *)c->p + c->pos;
	s->len = len;
	c->pos += len;
	return true;
}

/*
 * A key or tensor name from the file, made fit for a one-line message: at
 * most 64 bytes shown, control characters (newlines, terminal escapes) as
 * '?'. Names have no length limit in GGUF and are not trusted.
 */
static const char *show_name(char *buf, const char *p, uint64_t len)
{
	size_t i, n = (size_t)LX_MIN(len, 64);

	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)p[i];

		buf[i] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (len > n) {
		memcpy(buf + n, "...", 3);
		n += 3;
	}
	buf[n] = '\0';
	return buf;
}

#define SHOW(str) show_name((char [72]) { 0 }, (str).ptr, (str).len)

static const uint8_t vtype_size[LX_GGUF_VTYPE_COUNT] = {
	[LX_GGUF_U8] = 1,  [LX_GGUF_I8] = 1,  [LX_GGUF_U16] = 2,
	[LX_GGUF_I16] = 2, [LX_GGUF_U32] = 4, [LX_GGUF_I32] = 4,
	[LX_GGUF_F32] = 4, [LX_GGUF_BOOL] = 1, [LX_GGUF_U64] = 8,
	[LX_GGUF_I64] = 8, [LX_GGUF_F64] = 8,
};

const char *lx_gguf_vtype_name(uint32_t type)
{
	static const char *const names[LX_GGUF_VTYPE_COUNT] = {
		"u8", "i8", "u16", "i16", "u32", "i32", "f32", "bool",
		"string", "array", "u64", "i64", "f64",
	};

	return type < LX_GGUF_VTYPE_COUNT ? names[type] : "unknown";
}

/* Skips one value of the given type; arrays recurse with a depth limit. */
static bool skip_value(struct cursor *c, uint32_t type, int depth,
		       const struct lx_gguf_str *key)
{
	struct lx_gguf_str s;
	uint32_t et;
	uint64_t n, i, bytes;

	if (type >= LX_GGUF_VTYPE_COUNT)
		return lx_fail(c->err, "metadata key '%s' has unknown value type %u",
			       SHOW(*key), type);
	if (type == LX_GGUF_STRING)
		return read_str(c, &s);
	if (type != LX_GGUF_ARRAY) {
		if (!need(c, vtype_size[type]))
			return false;
		c->pos += vtype_size[type];
		return true;
	}
	if (depth >= LX_GGUF_MAX_NESTING)
		return lx_fail(c->err,
			       "metadata key '%s' nests arrays deeper than %d levels",
			       SHOW(*key),
			       LX_GGUF_MAX_NESTING);
	if (!read_u32(c, &et) || !read_u64(c, &n))
		return false;
	if (et >= LX_GGUF_VTYPE_COUNT)
		return lx_fail(c->err,
			       "metadata key '%s' is an array of unknown type %u",
			       SHOW(*key), et);
	if (et != LX_GGUF_STRING && et != LX_GGUF_ARRAY) {
		if (lx_mul_overflow(n, vtype_size[et], &bytes) ||
		    bytes > c->size - c->pos)
			return lx_fail(c->err,
				       "metadata array '%s' claims %llu elements of %s, more than the file holds",
				       SHOW(*key),
				       (unsigned long long)n,
				       lx_gguf_vtype_name(et));
		c->pos += bytes;
		return true;
	}
	/* Each string or array element takes at least 8 bytes: bound n first. */
	if (n > (c->size - c->pos) / 8)
		return lx_fail(c->err,
			       "metadata array '%s' claims %llu elements, more than the file holds",
			       SHOW(*key),
			       (unsigned long long)n);
	for (i = 0; i < n; i++)
		if (!skip_value(c, et, depth + 1, key))
			return false;
	return true;
}

static int cmp_kv_key(const void *a, const void *b, void *arg)
{
	const struct lx_gguf_kv *kv = arg;
	const struct lx_gguf_str *x = &kv[*(const uint32_t *)a].key;
	const struct lx_gguf_str *y = &kv[*(const uint32_t *)b].key;
	uint64_t n = LX_MIN(x->len, y->len);
	int r = memcmp(x->ptr, y->ptr, n);

	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int cmp_str(const struct lx_gguf_str *x, const struct lx_gguf_str *y)
{
	uint64_t n = LX_MIN(x->len, y->len);
	int r = memcmp(x->ptr, y->ptr, n);

	if (r)
		return r;
	return x->len < y->len ? -1 : x->len > y->len;
}

static int cmp_tensor_name(const void *a, const void *b, void *arg)
{
	const struct lx_gguf_tensor *t = arg;

	return cmp_str(&t[*(const uint32_t *)a].name,
		       &t[*(const uint32_t *)b].name);
}

static int cmp_tensor_offset(const void *a, const void *b, void *arg)
{
	const struct lx_gguf_tensor *t = arg;
	uint64_t x = t[*(const uint32_t *)a].offset;
	uint64_t y = t[*(const uint32_t *)b].offset;

	return x < y ? -1 : x > y;
}

static bool parse_kvs(struct lx_gguf *g, struct cursor *c)
{
	uint32_t *order;
	uint64_t i;

	where(c, "metadata");
	/* A key/value takes at least 8 (key length) + 4 (type) + 1 bytes. */
	if (g->n_kv > LX_GGUF_MAX_KV || g->n_kv > (c->size - c->pos) / 13)
		return lx_fail(c->err,
			       "header claims %llu metadata entries, more than the file can hold (limit %u)",
			       (unsigned long long)g->n_kv, LX_GGUF_MAX_KV);
	g->kv = lx_host_alloc((g->n_kv + 1) * sizeof(*g->kv));
	if (!g->kv)
		return lx_fail(c->err, "out of memory for %llu metadata entries",
			       (unsigned long long)g->n_kv);
	for (i = 0; i < g->n_kv; i++) {
		struct lx_gguf_kv *kv = &g->kv[i];
		uint64_t start;

		where(c, "the key of metadata entry %llu", (unsigned long long)i);
		if (!read_str(c, &kv->key))
			return false;
		if (kv->key.len == 0)
			return lx_fail(c->err, "metadata entry %llu has an empty key",
				       (unsigned long long)i);
		if (!lx_utf8_valid(kv->key.ptr, kv->key.len))
			return lx_fail(c->err,
				       "metadata entry %llu has a key that is not valid UTF-8",
				       (unsigned long long)i);
		where(c, "the value of metadata key '%s'", SHOW(kv->key));
		if (!read_u32(c, &kv->type))
			return false;
		if (kv->type >= LX_GGUF_VTYPE_COUNT)
			return lx_fail(c->err,
				       "metadata key '%s' has unknown value type %u",
				       SHOW(kv->key),
				       kv->type);
		if (kv->type == LX_GGUF_ARRAY) {
			uint64_t save = c->pos;

			if (!read_u32(c, &kv->arr_type) ||
			    !read_u64(c, &kv->arr_count))
				return false;
			start = c->pos;
			c->pos = save;
		} else {
			start = c->pos;
		}
		if (!skip_value(c, kv->type, 0, &kv->key))
			return false;
		kv->value = c->p + start;
		kv->value_size = c->pos - start;
	}

	/* Duplicate keys would make lookups ambiguous: refuse them. */
	order = lx_host_alloc((g->n_kv + 1) * sizeof(*order));
	if (!order)
		return lx_fail(c->err, "out of memory checking metadata keys");
	for (i = 0; i < g->n_kv; i++)
		order[i] = (uint32_t)i;
	lx_sort(order, g->n_kv, sizeof(*order), cmp_kv_key, g->kv);
	for (i = 1; i < g->n_kv; i++) {
		const struct lx_gguf_kv *kv = &g->kv[order[i]];

		if (cmp_kv_key(&order[i - 1], &order[i], g->kv) == 0) {
			lx_fail(c->err, "metadata key '%s' appears twice",
				SHOW(kv->key));
			lx_host_free(order);
			return false;
		}
	}
	lx_host_free(order);
	return true;
}

static bool parse_tensor_info(struct lx_gguf *g, struct cursor *c, uint64_t i)
{
	struct lx_gguf_tensor *t = &g->tensors[i];
	const struct lx_type_traits *tt;
	uint64_t n = 1, rows, row_bytes;
	uint32_t d;

	where(c, "the name of tensor %llu", (unsigned long long)i);
	if (!read_str(c, &t->name))
		return false;
	if (t->name.len == 0)
		return lx_fail(c->err, "tensor %llu has an empty name",
			       (unsigned long long)i);
	if (t->name.len > LX_GGUF_MAX_NAME)
		return lx_fail(c->err, "tensor %llu has a name of %llu bytes (limit %d)",
			       (unsigned long long)i,
			       (unsigned long long)t->name.len, LX_GGUF_MAX_NAME);
	if (!lx_utf8_valid(t->name.ptr, t->name.len))
		return lx_fail(c->err, "tensor %llu has a name that is not valid UTF-8",
			       (unsigned long long)i);
	where(c, "tensor info '%s'", SHOW(t->name));
	if (!read_u32(c, &t->n_dims))
		return false;
	if (t->n_dims < 1 || t->n_dims > LX_GGUF_MAX_DIMS)
		return lx_fail(c->err, "tensor '%s' has %u dimensions (must be 1 to %d)",
			       SHOW(t->name), t->n_dims,
			       LX_GGUF_MAX_DIMS);
	for (d = 0; d < LX_GGUF_MAX_DIMS; d++)
		t->ne[d] = 1;
	for (d = 0; d < t->n_dims; d++) {
		if (!read_u64(c, &t->ne[d]))
			return false;
		if (t->ne[d] == 0 || t->ne[d] > (uint64_t)INT64_MAX)
			return lx_fail(c->err,
				       "tensor '%s' has invalid size %llu in dimension %u (must be 1 to 2^63-1)",
				       SHOW(t->name),
				       (unsigned long long)t->ne[d], d);
		if (lx_mul_overflow(n, t->ne[d], &n) || n > (uint64_t)INT64_MAX)
			return lx_fail(c->err,
				       "tensor '%s' has too many elements (dimensions overflow)",
				       SHOW(t->name));
	}
	t->n_elements = n;
	if (!read_u32(c, &t->type) || !read_u64(c, &t->offset))
		return false;
	tt = lx_type_traits(t->type);
	if (!tt)
		return lx_fail(c->err, "tensor '%s' has unknown type %u",
			       SHOW(t->name), t->type);
	if (t->ne[0] % tt->block_size)
		return lx_fail(c->err,
			       "tensor '%s' of type %s has a row of %llu elements, not a multiple of the block size %u",
			       SHOW(t->name), tt->name,
			       (unsigned long long)t->ne[0], tt->block_size);
	/* F32 rows of 2^62 elements take 2^64 bytes: check both products. */
	rows = n / t->ne[0];
	if (lx_mul_overflow(t->ne[0] / tt->block_size, tt->type_size,
			    &row_bytes) ||
	    lx_mul_overflow(row_bytes, rows, &t->size))
		return lx_fail(c->err, "tensor '%s' is too large (size overflows)",
			       SHOW(t->name));
	if (t->offset % g->alignment)
		return lx_fail(c->err,
			       "tensor '%s' is at offset %llu, not a multiple of the alignment %u",
			       SHOW(t->name),
			       (unsigned long long)t->offset, g->alignment);
	return true;
}

static bool check_tensors(struct lx_gguf *g, struct cursor *c)
{
	uint32_t *order;
	uint64_t i;
	bool ok = true;

	g->by_name = lx_host_alloc((g->n_tensors + 1) * sizeof(*g->by_name));
	order = lx_host_alloc((g->n_tensors + 1) * sizeof(*order));
	if (!g->by_name || !order) {
		lx_host_free(order);
		return lx_fail(c->err, "out of memory indexing %llu tensors",
			       (unsigned long long)g->n_tensors);
	}
	for (i = 0; i < g->n_tensors; i++) {
		struct lx_gguf_tensor *t = &g->tensors[i];
		uint64_t end;

		if (lx_add_overflow(t->offset, t->size, &end) ||
		    end > g->data_size) {
			lx_fail(c->err,
				"tensor '%s' (%llu bytes at data offset %llu) lies outside the data section (%llu bytes)",
				SHOW(t->name),
				(unsigned long long)t->size,
				(unsigned long long)t->offset,
				(unsigned long long)g->data_size);
			ok = false;
			goto out;
		}
		t->data = g->base + g->data_offset + t->offset;
		g->by_name[i] = (uint32_t)i;
		order[i] = (uint32_t)i;
	}
	lx_sort(g->by_name, g->n_tensors, sizeof(uint32_t), cmp_tensor_name,
		g->tensors);
	for (i = 1; i < g->n_tensors; i++) {
		const struct lx_gguf_tensor *t = &g->tensors[g->by_name[i]];

		if (cmp_str(&g->tensors[g->by_name[i - 1]].name, &t->name) == 0) {
			lx_fail(c->err, "tensor name '%s' appears twice",
				SHOW(t->name));
			ok = false;
			goto out;
		}
	}
	lx_sort(order, g->n_tensors, sizeof(uint32_t), cmp_tensor_offset,
		g->tensors);
	for (i = 1; i < g->n_tensors; i++) {
		const struct lx_gguf_tensor *a = &g->tensors[order[i - 1]];
		const struct lx_gguf_tensor *b = &g->tensors[order[i]];

		if (a->offset + a->size > b->offset) {
			lx_fail(c->err, "tensors '%s' and '%s' overlap",
				SHOW(a->name), SHOW(b->name));
			ok = false;
			goto out;
		}
	}
out:
	lx_host_free(order);
	return ok;
}

static bool parse(struct lx_gguf *g, struct cursor *c)
{
	uint32_t magic;
	const struct lx_gguf_kv *kv;
	uint64_t i, pad;

	where(c, "header");
	if (c->size < 4)
		return lx_fail(c->err, "file is too small to be GGUF (%llu bytes)",
			       (unsigned long long)c->size);
	if (!read_u32(c, &magic) || magic != GGUF_MAGIC)
		return lx_fail(c->err, "not a GGUF file (bad magic; expected \"GGUF\")");
	if (!read_u32(c, &g->version))
		return false;
	if (g->version == 1)
		return lx_fail(c->err,
			       "GGUF version 1 is not supported; convert the model again with a current llama.cpp");
	if ((g->version & 0xFFFF) == 0 && g->version)
		return lx_fail(c->err,
			       "big-endian GGUF files are not supported; use a little-endian conversion");
	if (g->version != 2 && g->version != 3)
		return lx_fail(c->err, "GGUF version %u is not supported (only 2 and 3)",
			       g->version);
	if (!read_u64(c, &g->n_tensors) || !read_u64(c, &g->n_kv))
		return false;
	if (!parse_kvs(g, c))
		return false;

	g->alignment = LX_GGUF_DEFAULT_ALIGNMENT;
	kv = lx_gguf_find(g, "general.alignment");
	if (kv) {
		if (kv->type != LX_GGUF_U32)
			return lx_fail(c->err,
				       "general.alignment has type %s, expected u32",
				       lx_gguf_vtype_name(kv->type));
		g->alignment = (uint32_t)rd_le(kv->value, 4);
		if (g->alignment == 0 || (g->alignment & (g->alignment - 1)) ||
		    g->alignment > (1u << 20))
			return lx_fail(c->err,
				       "general.alignment is %u; it must be a power of two up to 1 MiB",
				       g->alignment);
	}

	where(c, "tensor infos");
	/* A tensor info takes at least 8 + 1 + 4 + 8 + 4 + 8 = 33 bytes. */
	if (g->n_tensors > LX_GGUF_MAX_TENSORS ||
	    g->n_tensors > (c->size - c->pos) / 33)
		return lx_fail(c->err,
			       "header claims %llu tensors, more than the file can hold (limit %u)",
			       (unsigned long long)g->n_tensors,
			       LX_GGUF_MAX_TENSORS);
	g->tensors = lx_host_alloc((g->n_tensors + 1) * sizeof(*g->tensors));
	if (!g->tensors)
		return lx_fail(c->err, "out of memory for %llu tensor infos",
			       (unsigned long long)g->n_tensors);
	for (i = 0; i < g->n_tensors; i++)
		if (!parse_tensor_info(g, c, i))
			return false;

	pad = (g->alignment - c->pos % g->alignment) % g->alignment;
	g->data_offset = c->pos + pad;
	if (g->data_offset > c->size) {
		/* A file without tensors may end right after its metadata. */
		if (g->n_tensors)
			return lx_fail(c->err,
				       "file truncated before its data section (needs %llu bytes, has %llu)",
				       (unsigned long long)g->data_offset,
				       (unsigned long long)c->size);
		g->data_offset = c->size;
	}
	g->data_size = c->size - g->data_offset;
	return check_tensors(g, c);
}

bool lx_gguf_parse(struct lx_gguf *g, const void *data, size_t size,
		   struct lx_err *err)
{
	struct cursor c = { data, size, 0, err, "header" };


	memset(g, 0, sizeof(*g));
	g->base = data;
	g->size = size;
	if (err)
		err->msg[0] = '\0';
	if (!parse(g, &c)) {
		if (err && !err->msg[0])
			lx_fail(err, "invalid GGUF file");
		lx_gguf_free(g);
		return false;
	}
	return true;
}

void lx_gguf_free(struct lx_gguf *g)
{
	lx_host_free(g->kv);
	lx_host_free(g->tensors);
	lx_host_free(g->by_name);
	memset(g, 0, sizeof(*g));
}

const struct lx_gguf_kv *lx_gguf_find(const struct lx_gguf *g, const char *key)
{
	uint64_t i;

	for (i = 0; i < g->n_kv; i++)
		if (lx_str_eq(g->kv[i].key.ptr, g->kv[i].key.len, key))
			return &g->kv[i];
	return NULL;
}

const struct lx_gguf_tensor *lx_gguf_find_tensor(const struct lx_gguf *g,
						 const char *name)
{
	struct lx_gguf_str key = { name, lx_strlen(name) };
	uint64_t lo = 0, hi = g->n_tensors;

	while (lo < hi) {
		uint64_t mid = lo + (hi - lo) / 2;
		const struct lx_gguf_tensor *t = &g->tensors[g->by_name[mid]];
		int r = cmp_str(&t->name, &key);

		if (r == 0)
			return t;
		if (r < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool absent(const char *key, bool required, struct lx_err *err)
{
	if (required)
		return lx_fail(err, "required metadata key '%s' is missing", key);
	if (err)
		err->msg[0] = '\0';
	return false;
}

static bool get_int(const struct lx_gguf_kv *kv, int64_t *v)
{
	switch (kv->type) {
	case LX_GGUF_U8:
		*v = kv->value[0];
		return true;
	case LX_GGUF_I8:
		*v = (int8_t)kv->value[0];
		return true;
	case LX_GGUF_U16:
		*v = (uint16_t)rd_le(kv->value, 2);
		return true;
	case LX_GGUF_I16:
		*v = (int16_t)rd_le(kv->value, 2);
		return true;
	case LX_GGUF_U32:
		*v = (uint32_t)rd_le(kv->value, 4);
		return true;
	case LX_GGUF_I32:
		*v = (int32_t)rd_le(kv->value, 4);
		return true;
	case LX_GGUF_U64:
		/* Beyond int64: saturate, so callers report "out of range". */
		*v = rd_le(kv->value, 8) > (uint64_t)INT64_MAX ?
		     INT64_MAX : (int64_t)rd_le(kv->value, 8);
		return true;
	case LX_GGUF_I64:
		*v = (int64_t)rd_le(kv->value, 8);
		return true;
	default:
		return false;
	}
}

bool lx_gguf_get_u32(const struct lx_gguf *g, const char *key, uint32_t *out,
		     bool required, struct lx_err *err)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);
	int64_t v;

	if (!kv)
		return absent(key, required, err);
	if (!get_int(kv, &v))
		return lx_fail(err, "metadata key '%s' has type %s, expected an integer",
			       key, lx_gguf_vtype_name(kv->type));
	if (v < 0 || v > (int64_t)UINT32_MAX)
		return lx_fail(err, "metadata key '%s' is %s%lld, out of range (must be 0 to %u)",
			       key, v == INT64_MAX ? ">= " : "", (long long)v,
			       UINT32_MAX);
	*out = (uint32_t)v;
	return true;
}

static float f32_from_bits(uint32_t u)
{
	float f;

	memcpy(&f, &u, 4);
	return f;
}

bool lx_gguf_get_f32(const struct lx_gguf *g, const char *key, float *out,
		     bool required, struct lx_err *err)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);
	uint64_t u;
	double d;

	if (!kv)
		return absent(key, required, err);
	if (kv->type == LX_GGUF_F32) {
		*out = f32_from_bits((uint32_t)rd_le(kv->value, 4));
	} else if (kv->type == LX_GGUF_F64) {
		u = rd_le(kv->value, 8);
		memcpy(&d, &u, 8);
		*out = (float)d;
	} else {
		return lx_fail(err, "metadata key '%s' has type %s, expected a float",
			       key, lx_gguf_vtype_name(kv->type));
	}
	if (*out != *out || *out > FLT_MAX || *out < -FLT_MAX)
		return lx_fail(err, "metadata key '%s' is not a finite number", key);
	return true;
}

bool lx_gguf_get_bool(const struct lx_gguf *g, const char *key, bool *out,
		      bool required, struct lx_err *err)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);

	if (!kv)
		return absent(key, required, err);
	if (kv->type != LX_GGUF_BOOL)
		return lx_fail(err, "metadata key '%s' has type %s, expected bool",
			       key, lx_gguf_vtype_name(kv->type));
	*out = kv->value[0] != 0;
	return true;
}

bool lx_gguf_get_str(const struct lx_gguf *g, const char *key,
		     struct lx_gguf_str *out, bool required, struct lx_err *err)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);

	if (!kv)
		return absent(key, required, err);
	if (kv->type != LX_GGUF_STRING)
		return lx_fail(err, "metadata key '%s' has type %s, expected string",
			       key, lx_gguf_vtype_name(kv->type));
	out->len = rd_le(kv->value, 8);
	out->ptr = (const char *)kv->value + 8;
	if (!lx_utf8_valid(out->ptr, out->len))
		return lx_fail(err, "metadata key '%s' is not valid UTF-8", key);
	return true;
}

bool lx_gguf_get_arr(const struct lx_gguf *g, const char *key, uint32_t type,
		     const struct lx_gguf_kv **kv_out, bool required,
		     struct lx_err *err)
{
	const struct lx_gguf_kv *kv = lx_gguf_find(g, key);

	if (!kv)
		return absent(key, required, err);
	if (kv->type != LX_GGUF_ARRAY || kv->arr_type != type)
		return lx_fail(err, "metadata key '%s' has type %s%s%s, expected array of %s",
			       key, lx_gguf_vtype_name(kv->type),
			       kv->type == LX_GGUF_ARRAY ? " of " : "",
			       kv->type == LX_GGUF_ARRAY ?
			       lx_gguf_vtype_name(kv->arr_type) : "",
			       lx_gguf_vtype_name(type));
	*kv_out = kv;
	return true;
}

int64_t lx_gguf_arr_int(const struct lx_gguf_kv *kv, uint64_t i)
{
	struct lx_gguf_kv e = *kv;

	e.type = kv->arr_type;
	e.value = kv->value + i * vtype_size[kv->arr_type];
	{
		int64_t v = 0;

		get_int(&e, &v);
		return v;
	}
}

float lx_gguf_arr_f32(const struct lx_gguf_kv *kv, uint64_t i)
{
	if (kv->arr_type == LX_GGUF_F32)
		return f32_from_bits((uint32_t)rd_le(kv->value + 4 * i, 4));
	return (float)lx_gguf_arr_int(kv, i);
}

bool lx_gguf_arr_strings(const struct lx_gguf_kv *kv, struct lx_gguf_str **out,
			 struct lx_err *err)
{
	struct lx_gguf_str *s;
	const uint8_t *p = kv->value;
	uint64_t i;

	*out = NULL;
	if (kv->type != LX_GGUF_ARRAY || kv->arr_type != LX_GGUF_STRING)
		return lx_fail(err, "metadata key '%s' is not an array of strings",
			       SHOW(kv->key));
	s = lx_host_alloc((kv->arr_count + 1) * sizeof(*s));
	if (!s)
		return lx_fail(err, "out of memory for %llu strings of '%s'",
			       (unsigned long long)kv->arr_count,
			       SHOW(kv->key));
	/* Lengths were bounds-checked by the parser's walk over this array. */
	for (i = 0; i < kv->arr_count; i++) {
		s[i].len = rd_le(p, 8);
		s[i].ptr = (const char *)p + 8;
		p += 8 + s[i].len;
	}
	*out = s;
	return true;
}

size_t lx_gguf_value_to_text(const struct lx_gguf_kv *kv, char *buf, size_t cap)
{
	int64_t v;
	uint64_t u;
	double d;

	switch (kv->type) {
	case LX_GGUF_STRING: {
		uint64_t len = rd_le(kv->value, 8);

		return lx_snprintf(buf, cap, "%.*s", (int)LX_MIN(len, 4096),
				   (const char *)kv->value + 8);
	}
	case LX_GGUF_ARRAY:
		return lx_snprintf(buf, cap, "[%s x %llu]",
				   lx_gguf_vtype_name(kv->arr_type),
				   (unsigned long long)kv->arr_count);
	case LX_GGUF_BOOL:
		return lx_snprintf(buf, cap, "%s", kv->value[0] ? "true" : "false");
	case LX_GGUF_F32:
		return lx_snprintf(buf, cap, "%g",
				   (double)f32_from_bits((uint32_t)rd_le(kv->value, 4)));
	case LX_GGUF_F64:
		u = rd_le(kv->value, 8);
		memcpy(&d, &u, 8);
		return lx_snprintf(buf, cap, "%.10g", d);
	case LX_GGUF_U64:
		return lx_snprintf(buf, cap, "%llu",
				   (unsigned long long)rd_le(kv->value, 8));
	default:
		if (get_int(kv, &v))
			return lx_snprintf(buf, cap, "%lld", (long long)v);
		return lx_snprintf(buf, cap, "?");
	}
}
