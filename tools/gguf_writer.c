// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * GGUF writer: builds the header (magic, version 3, counts, key/values,
 * tensor infos, padding) in memory, then streams tensor data into a
 * temporary file created next to the destination, inserting the zero
 * padding that aligns every tensor (and ends the file), and renames the
 * file into place on commit. Writes bypass the page cache (O_DIRECT) where
 * the filesystem allows. SIGINT/SIGTERM/SIGHUP while a file is open remove
 * the temporary file before the process dies.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gguf_writer.h"
#include "llamux/llamux.h"

#define GGUF_VERSION 3
#define WBUF_SIZE (8u << 20)	/* staging buffer, a multiple of DIO_ALIGN */
#define DIO_ALIGN 4096u		/* O_DIRECT buffer, length and offset unit */

struct kv_entry {
	char *key;
	uint32_t type;		/* enum lx_gguf_vtype */
	uint8_t *val;		/* serialized value (array: type, count, items) */
	size_t val_len;
};

struct tensor_entry {
	char *name;
	size_t name_len;
	uint32_t n_dims;
	uint64_t ne[LX_GGUF_MAX_DIMS];
	uint32_t type;
	uint64_t size;
	uint64_t offset;	/* in the data section */
};

struct lt_gguf_writer {
	struct kv_entry *kv;
	uint64_t n_kv, cap_kv;
	struct tensor_entry *t;
	uint64_t n_t, cap_t;
	uint32_t alignment;

	int fd;			/* -1 unless open */
	char *path;		/* destination */
	char *tmp;		/* temporary file while open */
	uint64_t cur;		/* tensor being written */
	uint64_t cur_done;	/* its bytes written so far */
	uint8_t *wbuf;		/* DIO_ALIGN-aligned staging buffer */
	size_t wbuf_len;
	bool direct;		/* fd has O_DIRECT */
	bool failed;
};

/* ---------------------------------------------------------------------- */
/* Removing the temporary file when killed                                 */
/* ---------------------------------------------------------------------- */

static char sig_path[PATH_MAX];
static volatile sig_atomic_t sig_armed;
static const struct lt_gguf_writer *sig_owner;
static struct sigaction sig_old[3];
static bool sig_set[3];
static const int sig_nums[3] = { SIGINT, SIGTERM, SIGHUP };

static void on_signal(int sig)
{
	int i;

	if (sig_armed)
		unlink(sig_path);
	for (i = 0; i < 3; i++)
		if (sig_nums[i] == sig)
			sigaction(sig, &sig_old[i], NULL);
	raise(sig);
}

/* Signals that are ignored (e.g. SIGINT of a background job) stay so. */
static void arm_cleanup(const struct lt_gguf_writer *w)
{
	struct sigaction sa;
	int i;

	if (sig_owner || strlen(w->tmp) >= sizeof(sig_path))
		return;
	memcpy(sig_path, w->tmp, strlen(w->tmp) + 1);
	sig_owner = w;
	sig_armed = 1;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	for (i = 0; i < 3; i++) {
		sig_set[i] = !sigaction(sig_nums[i], NULL, &sig_old[i]) &&
			     sig_old[i].sa_handler != SIG_IGN &&
			     !sigaction(sig_nums[i], &sa, NULL);
	}
}

static void disarm_cleanup(const struct lt_gguf_writer *w)
{
	int i;

	if (sig_owner != w)
		return;
	sig_armed = 0;
	for (i = 0; i < 3; i++)
		if (sig_set[i])
			sigaction(sig_nums[i], &sig_old[i], NULL);
	sig_owner = NULL;
}

/* ---------------------------------------------------------------------- */
/* Metadata                                                               */
/* ---------------------------------------------------------------------- */

struct lt_gguf_writer *lt_gguf_writer_new(void)
{
	struct lt_gguf_writer *w = calloc(1, sizeof(*w));

	if (w) {
		w->fd = -1;
		w->alignment = LX_GGUF_DEFAULT_ALIGNMENT;
	}
	return w;
}

static void close_and_remove(struct lt_gguf_writer *w)
{
	if (w->fd >= 0) {
		close(w->fd);
		w->fd = -1;
		unlink(w->tmp);
		disarm_cleanup(w);
	}
}

void lt_gguf_writer_free(struct lt_gguf_writer *w)
{
	uint64_t i;

	if (!w)
		return;
	close_and_remove(w);
	for (i = 0; i < w->n_kv; i++) {
		free(w->kv[i].key);
		free(w->kv[i].val);
	}
	for (i = 0; i < w->n_t; i++)
		free(w->t[i].name);
	free(w->kv);
	free(w->t);
	free(w->path);
	free(w->tmp);
	free(w->wbuf);
	free(w);
}

void lt_gguf_remove_kv(struct lt_gguf_writer *w, const char *key)
{
	uint64_t i;

	for (i = 0; i < w->n_kv; i++) {
		if (strcmp(w->kv[i].key, key))
			continue;
		free(w->kv[i].key);
		free(w->kv[i].val);
		memmove(&w->kv[i], &w->kv[i + 1],
			(w->n_kv - i - 1) * sizeof(w->kv[0]));
		w->n_kv--;
		return;
	}
}

uint64_t lt_gguf_n_kv(const struct lt_gguf_writer *w)
{
	return w->n_kv;
}

/* Appends key = (type, val) after removing any old value; takes val. */
static bool add_kv(struct lt_gguf_writer *w, const char *key, size_t key_len,
		   uint32_t type, uint8_t *val, size_t val_len)
{
	struct kv_entry *e;
	char *k = malloc(key_len + 1);

	if (!k) {
		free(val);
		return false;
	}
	memcpy(k, key, key_len);
	k[key_len] = '\0';
	lt_gguf_remove_kv(w, k);
	if (w->n_kv == w->cap_kv) {
		uint64_t cap = w->cap_kv ? 2 * w->cap_kv : 32;

		e = realloc(w->kv, cap * sizeof(*e));
		if (!e) {
			free(k);
			free(val);
			return false;
		}
		w->kv = e;
		w->cap_kv = cap;
	}
	e = &w->kv[w->n_kv++];
	e->key = k;
	e->type = type;
	e->val = val;
	e->val_len = val_len;
	if (!strcmp(k, "general.alignment") && type == LX_GGUF_U32) {
		uint32_t a = (uint32_t)val[0] | (uint32_t)val[1] << 8 |
			     (uint32_t)val[2] << 16 | (uint32_t)val[3] << 24;

		if (a && !(a & (a - 1)))
			w->alignment = a;
	}
	return true;
}

static bool add_scalar(struct lt_gguf_writer *w, const char *key,
		       uint32_t type, const void *le_bytes, size_t n)
{
	uint8_t *v = malloc(n);

	if (!v)
		return false;
	memcpy(v, le_bytes, n);
	return add_kv(w, key, strlen(key), type, v, n);
}

static void le32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}

static void le64(uint8_t *p, uint64_t v)
{
	le32(p, (uint32_t)v);
	le32(p + 4, (uint32_t)(v >> 32));
}

bool lt_gguf_set_u32(struct lt_gguf_writer *w, const char *key, uint32_t v)
{
	uint8_t b[4];

	le32(b, v);
	return add_scalar(w, key, LX_GGUF_U32, b, 4);
}

bool lt_gguf_set_f32(struct lt_gguf_writer *w, const char *key, float v)
{
	uint8_t b[4];
	uint32_t u;

	memcpy(&u, &v, 4);
	le32(b, u);
	return add_scalar(w, key, LX_GGUF_F32, b, 4);
}

bool lt_gguf_set_str(struct lt_gguf_writer *w, const char *key,
		     const char *s)
{
	size_t n = strlen(s);
	uint8_t *v = malloc(8 + n);

	if (!v)
		return false;
	le64(v, n);
	memcpy(v + 8, s, n);
	return add_kv(w, key, strlen(key), LX_GGUF_STRING, v, 8 + n);
}

bool lt_gguf_copy_kv(struct lt_gguf_writer *w, const struct lx_gguf_kv *kv)
{
	size_t hdr = kv->type == LX_GGUF_ARRAY ? 12 : 0;
	uint8_t *v = malloc(hdr + kv->value_size + 1);

	if (!v)
		return false;
	if (hdr) {
		le32(v, kv->arr_type);
		le64(v + 4, kv->arr_count);
	}
	memcpy(v + hdr, kv->value, kv->value_size);
	return add_kv(w, kv->key.ptr, kv->key.len, kv->type, v,
		      hdr + kv->value_size);
}

/* ---------------------------------------------------------------------- */
/* Tensors                                                                */
/* ---------------------------------------------------------------------- */

static int fail(char *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(char *err, const char *fmt, ...)
{
	va_list ap;

	if (err) {
		va_start(ap, fmt);
		vsnprintf(err, LLAMUX_ERR_MAX, fmt, ap);
		va_end(ap);
	}
	return 0;
}

bool lt_gguf_add_tensor(struct lt_gguf_writer *w, const char *name,
			size_t name_len, uint32_t n_dims, const uint64_t *ne,
			enum lx_type type, char *err)
{
	const struct lx_type_traits *tt = lx_type_traits(type);
	struct tensor_entry *e;
	uint64_t i, n = 1;
	uint32_t d;

	if (!tt || n_dims < 1 || n_dims > LX_GGUF_MAX_DIMS || !name_len ||
	    name_len > LX_GGUF_MAX_NAME)
		return fail(err, "tensor '%.*s': invalid type, name or shape",
			    (int)LX_MIN(name_len, 64), name);
	for (d = 0; d < n_dims; d++) {
		if (!ne[d] || __builtin_mul_overflow(n, ne[d], &n))
			return fail(err, "tensor '%.*s' has an invalid shape",
				    (int)name_len, name);
	}
	if (ne[0] % tt->block_size)
		return fail(err, "tensor '%.*s': rows of %llu are not a multiple of %s's block of %u",
			    (int)name_len, name, (unsigned long long)ne[0],
			    tt->name, tt->block_size);
	for (i = 0; i < w->n_t; i++)
		if (w->t[i].name_len == name_len &&
		    !memcmp(w->t[i].name, name, name_len))
			return fail(err, "tensor '%.*s' added twice",
				    (int)name_len, name);
	if (w->n_t == w->cap_t) {
		uint64_t cap = w->cap_t ? 2 * w->cap_t : 64;

		e = realloc(w->t, cap * sizeof(*e));
		if (!e)
			return fail(err, "out of memory");
		w->t = e;
		w->cap_t = cap;
	}
	e = &w->t[w->n_t];
	memset(e, 0, sizeof(*e));
	e->name = malloc(name_len + 1);
	if (!e->name)
		return fail(err, "out of memory");
	memcpy(e->name, name, name_len);
	e->name[name_len] = '\0';
	e->name_len = name_len;
	e->n_dims = n_dims;
	for (d = 0; d < LX_GGUF_MAX_DIMS; d++)
		e->ne[d] = d < n_dims ? ne[d] : 1;
	e->type = type;
	e->size = n / tt->block_size * tt->type_size;
	w->n_t++;
	return true;
}

uint64_t lt_gguf_n_tensors(const struct lt_gguf_writer *w)
{
	return w->n_t;
}

uint64_t lt_gguf_tensor_bytes(const struct lt_gguf_writer *w, uint64_t i)
{
	return i < w->n_t ? w->t[i].size : 0;
}

static uint64_t pad_to(uint64_t x, uint64_t a)
{
	return (x + a - 1) / a * a;
}

uint64_t lt_gguf_data_bytes(const struct lt_gguf_writer *w)
{
	uint64_t i, n = 0;

	for (i = 0; i < w->n_t; i++)
		n = pad_to(n + w->t[i].size, w->alignment);
	return n;
}

/* ---------------------------------------------------------------------- */
/* Writing                                                                */
/* ---------------------------------------------------------------------- */

/*
 * Output goes through the staging buffer and is written with O_DIRECT in
 * whole buffers where the filesystem allows it: a model of gigabytes then
 * neither floods the page cache nor pays for copying into it. The
 * unaligned end of the file is written after switching O_DIRECT off; a
 * filesystem that refuses O_DIRECT gets ordinary writes.
 */
static void set_direct(struct lt_gguf_writer *w, bool on)
{
	int fl = fcntl(w->fd, F_GETFL);

	if (fl == -1 ||
	    fcntl(w->fd, F_SETFL, on ? fl | O_DIRECT : fl & ~O_DIRECT) == -1)
		on = false;
	w->direct = on;
}

static bool write_all(struct lt_gguf_writer *w, const void *data, size_t n,
		      char *err)
{
	const uint8_t *p = data;
	ssize_t r;

	while (n) {
		r = write(w->fd, p, n > (1u << 30) ? (1u << 30) : n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EINVAL && w->direct) {
			set_direct(w, false);	/* O_DIRECT refused after all */
			continue;
		}
		if (r <= 0) {
			w->failed = true;
			return fail(err, "writing '%s' failed: %s", w->path,
				    r < 0 ? strerror(errno) : "no progress");
		}
		p += r;
		n -= (size_t)r;
	}
	return true;
}

/* Writes the staging buffer; `last`: also its unaligned tail. */
static bool flush_buf(struct lt_gguf_writer *w, bool last, char *err)
{
	size_t n = w->wbuf_len, whole = n / DIO_ALIGN * DIO_ALIGN;

	if (!write_all(w, w->wbuf, last ? whole : n, err))
		return false;
	w->wbuf_len = 0;
	if (!last || whole == n)
		return true;
	if (w->direct)
		set_direct(w, false);
	return write_all(w, w->wbuf + whole, n - whole, err);
}

static bool put(struct lt_gguf_writer *w, const void *data, size_t n,
		char *err)
{
	const uint8_t *p = data;
	size_t k;

	while (n) {
		k = WBUF_SIZE - w->wbuf_len;
		k = n < k ? n : k;
		memcpy(w->wbuf + w->wbuf_len, p, k);
		w->wbuf_len += k;
		p += k;
		n -= k;
		if (w->wbuf_len == WBUF_SIZE && !flush_buf(w, false, err))
			return false;
	}
	return true;
}

static bool put_zeros(struct lt_gguf_writer *w, size_t n, char *err)
{
	static const uint8_t zeros[256];

	while (n) {
		size_t k = n < sizeof(zeros) ? n : sizeof(zeros);

		if (!put(w, zeros, k, err))
			return false;
		n -= k;
	}
	return true;
}

struct membuf {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void mb_put(struct membuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		uint8_t *p;

		while (cap < b->len + n)
			cap *= 2;
		p = realloc(b->p, cap);
		if (!p) {
			b->oom = true;
			return;
		}
		b->p = p;
		b->cap = cap;
	}
	memcpy(b->p + b->len, data, n);
	b->len += n;
}

static void mb_u32(struct membuf *b, uint32_t v)
{
	uint8_t x[4];

	le32(x, v);
	mb_put(b, x, 4);
}

static void mb_u64(struct membuf *b, uint64_t v)
{
	uint8_t x[8];

	le64(x, v);
	mb_put(b, x, 8);
}

static bool make_header(struct lt_gguf_writer *w, struct membuf *b)
{
	static const uint8_t zeros[64];
	uint64_t i, off = 0;
	uint32_t d;

	mb_put(b, "GGUF", 4);
	mb_u32(b, GGUF_VERSION);
	mb_u64(b, w->n_t);
	mb_u64(b, w->n_kv);
	for (i = 0; i < w->n_kv; i++) {
		mb_u64(b, strlen(w->kv[i].key));
		mb_put(b, w->kv[i].key, strlen(w->kv[i].key));
		mb_u32(b, w->kv[i].type);
		mb_put(b, w->kv[i].val, w->kv[i].val_len);
	}
	for (i = 0; i < w->n_t; i++) {
		struct tensor_entry *t = &w->t[i];

		t->offset = off;
		off = pad_to(off + t->size, w->alignment);
		mb_u64(b, t->name_len);
		mb_put(b, t->name, t->name_len);
		mb_u32(b, t->n_dims);
		for (d = 0; d < t->n_dims; d++)
			mb_u64(b, t->ne[d]);
		mb_u32(b, t->type);
		mb_u64(b, t->offset);
	}
	while (b->len % w->alignment)
		mb_put(b, zeros, LX_MIN(sizeof(zeros),
				       w->alignment - b->len % w->alignment));
	return !b->oom;
}

bool lt_gguf_open(struct lt_gguf_writer *w, const char *path, char *err)
{
	struct membuf hdr = { 0 };
	mode_t mask;
	bool ok;

	if (w->fd >= 0)
		return fail(err, "internal error: GGUF writer opened twice");
	free(w->path);
	free(w->tmp);
	w->path = strdup(path);
	w->tmp = malloc(strlen(path) + 16);
	if (!w->wbuf && posix_memalign((void **)&w->wbuf, DIO_ALIGN, WBUF_SIZE))
		w->wbuf = NULL;
	if (!w->path || !w->tmp || !w->wbuf)
		return fail(err, "out of memory");
	snprintf(w->tmp, strlen(path) + 16, "%s.tmp-XXXXXX", path);
	w->fd = mkstemp(w->tmp);
	if (w->fd < 0)
		return fail(err, "cannot create '%s' (%s); choose an output path in a writable directory",
			    w->tmp, strerror(errno));
	arm_cleanup(w);
	/*
	 * mkstemp makes the file private; give it the usual permissions
	 * (should that fail, it stays readable by its owner).
	 */
	mask = umask(0);
	umask(mask);
	(void)fchmod(w->fd, 0666 & ~mask);
	set_direct(w, true);
	w->cur = 0;
	w->cur_done = 0;
	w->wbuf_len = 0;
	w->failed = false;
	if (!make_header(w, &hdr)) {
		free(hdr.p);
		close_and_remove(w);
		return fail(err, "out of memory for the GGUF header");
	}
	ok = put(w, hdr.p, hdr.len, err);
	free(hdr.p);
	if (!ok)
		close_and_remove(w);
	return ok;
}

bool lt_gguf_write(struct lt_gguf_writer *w, const void *data, size_t n,
		   char *err)
{
	const uint8_t *p = data;

	if (w->fd < 0 || w->failed)
		return fail(err, "internal error: GGUF file not open");
	while (n) {
		struct tensor_entry *t;
		uint64_t k;

		if (w->cur >= w->n_t)
			return fail(err, "internal error: more tensor data than tensors");
		t = &w->t[w->cur];
		k = LX_MIN((uint64_t)n, t->size - w->cur_done);
		if (!put(w, p, (size_t)k, err))
			return false;
		p += k;
		n -= (size_t)k;
		w->cur_done += k;
		if (w->cur_done == t->size) {
			if (!put_zeros(w, (size_t)(pad_to(t->size, w->alignment) -
						   t->size), err))
				return false;
			w->cur++;
			w->cur_done = 0;
		}
	}
	return true;
}

bool lt_gguf_commit(struct lt_gguf_writer *w, char *err)
{
	if (w->fd < 0 || w->failed) {
		close_and_remove(w);
		return fail(err, "internal error: GGUF file not open");
	}
	if (w->cur != w->n_t) {
		fail(err, "internal error: tensor '%s' was not written",
		     w->t[w->cur].name);
		close_and_remove(w);
		return false;
	}
	if (!flush_buf(w, true, err)) {
		close_and_remove(w);
		return false;
	}
	if (close(w->fd)) {
		w->fd = -1;
		unlink(w->tmp);
		disarm_cleanup(w);
		return fail(err, "writing '%s' failed: %s", w->path,
			    strerror(errno));
	}
	w->fd = -1;
	if (rename(w->tmp, w->path)) {
		int e = errno;

		unlink(w->tmp);
		disarm_cleanup(w);
		return fail(err, "cannot rename '%s' to '%s': %s", w->tmp,
			    w->path, strerror(e));
	}
	disarm_cleanup(w);
	return true;
}
