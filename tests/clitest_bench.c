// SPDX-License-Identifier: GPL-2.0 OR MIT
/*
 * `llamux bench` on stories260K with tiny settings: the markdown table has
 * llama-bench's columns and one row per test and thread count in its order,
 * the JSON is a well-formed array of objects with llama-bench's field names
 * and positive speeds, the CSV has a header and matching rows, the first
 * token and peak RSS lines reach stderr, and bad arguments give a one-line
 * reason (plus the usage line) with exit 2. Timings are only checked > 0.
 */
#include <ctype.h>
#include <string.h>

#include "testlib.h"

#define STORIES "../shared/models/stories260K.gguf"

static const char *bin;

#define ARGS(...) ((const char *const[]){ __VA_ARGS__, NULL })

/* Runs llamux bench with args; returns the exit code, out/err malloc'ed. */
static int bench(const char *const *args, char **out, char **err)
{
	char *argv[40] = { (char *)bin, "bench" };
	int i;

	for (i = 0; args[i] && i < 37; i++)
		argv[i + 2] = (char *)args[i];
	return tl_run(argv, out, NULL, err);
}

static int count_lines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* ---- markdown ---- */

/* Splits "| a | b |" into trimmed cells; returns how many. */
static int md_cells(const char *line, char cells[][64], int max)
{
	int n = 0;
	const char *p = strchr(line, '|');

	while (p && n < max) {
		const char *q = strchr(p + 1, '|');
		const char *nl = strchr(p + 1, '\n');
		size_t len;

		if (!q || (nl && nl < q))
			break;
		p++;
		while (p < q && *p == ' ')
			p++;
		len = (size_t)(q - p);
		while (len && p[len - 1] == ' ')
			len--;
		if (len > 63)
			len = 63;
		memcpy(cells[n], p, len);
		cells[n][len] = '\0';
		n++;
		p = q;
	}
	return n;
}

static void check_md(void)
{
	static const char *const want_cols[] = { "model", "size", "params",
						 "backend", "threads", "test",
						 "t/s" };
	static const char *const want_rows[][2] = {
		{ "1", "pp16" }, { "1", "tg4" }, { "2", "pp16" }, { "2", "tg4" },
	};
	char *out = NULL, *err = NULL, cells[16][64];
	const char *line;
	int rc, n, i, row = 0;

	rc = bench(ARGS("-m", STORIES, "-p", "16", "-n", "4", "-r", "2", "-t",
			"1,2"), &out, &err);
	CHECK(rc == 0, "md: exit %d: %s", rc, err);
	line = out;
	n = md_cells(line, cells, 16);
	CHECK(n == 7, "md header has %d columns: %s", n, out);
	for (i = 0; i < n && i < 7; i++)
		CHECK(!strcmp(cells[i], want_cols[i]), "md column %d is '%s'",
		      i, cells[i]);
	line = strchr(line, '\n');
	CHECK(line && strstr(line, "| ------------------------------ | ---------: |"),
	      "md separator: %s", out);
	for (line = line ? strchr(line + 1, '\n') : NULL; line && line[1] == '|';
	     line = strchr(line + 1, '\n')) {
		double ts;

		n = md_cells(line + 1, cells, 16);
		CHECK(n == 7, "md row has %d cells", n);
		if (n != 7 || row >= 4) {
			row++;
			continue;
		}
		CHECK(!strncmp(cells[0], "llama ", 6), "model '%s'", cells[0]);
		CHECK(strstr(cells[1], "MiB") != NULL, "size '%s'", cells[1]);
		CHECK(!strcmp(cells[2], "0.29 M"), "params '%s'", cells[2]);
		CHECK(!strncmp(cells[3], "CPU (", 5), "backend '%s'", cells[3]);
		CHECK(!strcmp(cells[4], want_rows[row][0]) &&
		      !strcmp(cells[5], want_rows[row][1]),
		      "row %d: threads '%s' test '%s', expected %s %s", row,
		      cells[4], cells[5], want_rows[row][0], want_rows[row][1]);
		ts = strtod(cells[6], NULL);
		CHECK(ts > 0 && strstr(cells[6], " \xc2\xb1 "), "t/s '%s'",
		      cells[6]);
		row++;
	}
	CHECK(row == 4, "md: %d rows, expected 4: %s", row, out);
	CHECK(strstr(out, "\nbuild: llamux ") != NULL, "md footer: %s", out);
	CHECK(strstr(err, "first token: " STORIES ", 16-token prompt, 1 thread: ") &&
	      strstr(err, "first token: " STORIES ", 16-token prompt, 2 threads: "),
	      "first token lines: %s", err);
	CHECK(strstr(err, "llamux bench: peak RSS: ") != NULL, "peak RSS: %s",
	      err);
	CHECK(!strchr(err, '\r'), "progress written off a terminal: %s", err);
	free(out);
	free(err);

	/* -p 0 skips pp; --first-token=0 skips that. */
	rc = bench(ARGS("-m", STORIES, "-p", "0", "-n", "3", "-r", "1", "-t", "1",
			"--first-token=0"), &out, &err);
	CHECK(rc == 0 && !strstr(out, "pp") && strstr(out, " tg3 |") &&
	      !strstr(err, "first token"), "-p 0: %s %s", out, err);
	free(out);
	free(err);
}

/* ---- JSON: a small strict parser, enough for bench's output ---- */

struct jp {
	const char *p;
	bool ok;
};

static void ws(struct jp *j)
{
	while (*j->p == ' ' || *j->p == '\n' || *j->p == '\t' || *j->p == '\r')
		j->p++;
}

static bool parse_value(struct jp *j);

/* A string; copies it (escapes kept as written) into buf when given. */
static bool parse_string(struct jp *j, char *buf, size_t cap)
{
	size_t n = 0;

	if (*j->p != '"')
		return false;
	for (j->p++; *j->p != '"'; j->p++) {
		if ((unsigned char)*j->p < 0x20)
			return false;
		if (*j->p == '\\') {
			j->p++;
			if (*j->p == 'u') {
				int k;

				for (k = 1; k <= 4; k++)
					if (!isxdigit((unsigned char)j->p[k]))
						return false;
				j->p += 4;
			} else if (!strchr("\"\\/bfnrt", *j->p) || !*j->p) {
				return false;
			}
		}
		if (buf && n + 1 < cap)
			buf[n++] = *j->p;
	}
	if (buf)
		buf[n] = '\0';
	j->p++;
	return true;
}

static bool parse_number(struct jp *j, double *v)
{
	char *end;

	if (!(*j->p == '-' || isdigit((unsigned char)*j->p)))
		return false;
	*v = strtod(j->p, &end);
	if (end == j->p)
		return false;
	j->p = end;
	return true;
}

static bool parse_array(struct jp *j)
{
	j->p++;
	ws(j);
	if (*j->p == ']') {
		j->p++;
		return true;
	}
	for (;;) {
		if (!parse_value(j))
			return false;
		ws(j);
		if (*j->p == ']') {
			j->p++;
			return true;
		}
		if (*j->p != ',')
			return false;
		j->p++;
	}
}

/* Object members; the keys seen and avg_ts are recorded when given. */
struct obj {
	char keys[64][32];
	int n_keys;
	double avg_ts;
};

static bool parse_object(struct jp *j, struct obj *o)
{
	j->p++;
	ws(j);
	if (*j->p == '}') {
		j->p++;
		return true;
	}
	for (;;) {
		char key[32];
		const char *v;

		ws(j);
		if (!parse_string(j, key, sizeof(key)))
			return false;
		ws(j);
		if (*j->p != ':')
			return false;
		j->p++;
		ws(j);
		v = j->p;
		if (!parse_value(j))
			return false;
		if (o && o->n_keys < 64)
			strcpy(o->keys[o->n_keys++], key);
		if (o && !strcmp(key, "avg_ts"))
			o->avg_ts = strtod(v, NULL);
		ws(j);
		if (*j->p == '}') {
			j->p++;
			return true;
		}
		if (*j->p != ',')
			return false;
		j->p++;
	}
}

static bool parse_value(struct jp *j)
{
	double d;

	ws(j);
	switch (*j->p) {
	case '{':
		return parse_object(j, NULL);
	case '[':
		return parse_array(j);
	case '"':
		return parse_string(j, NULL, 0);
	case 't':
		return !strncmp(j->p, "true", 4) && (j->p += 4);
	case 'f':
		return !strncmp(j->p, "false", 5) && (j->p += 5);
	case 'n':
		return !strncmp(j->p, "null", 4) && (j->p += 4);
	default:
		return parse_number(j, &d);
	}
}

static bool has_key(const struct obj *o, const char *key)
{
	int i;

	for (i = 0; i < o->n_keys; i++)
		if (!strcmp(o->keys[i], key))
			return true;
	return false;
}

static void check_json(void)
{
	static const char *const fields[] = {
		"model_filename", "model_type", "model_size", "model_n_params",
		"n_batch", "n_threads", "type_k", "n_prompt", "n_gen",
		"test_time", "avg_ns", "stddev_ns", "avg_ts", "stddev_ts",
		"samples_ns", "samples_ts", "cpu_info", "backends",
	};
	char *out = NULL, *err = NULL;
	struct obj objs[4];
	struct jp j;
	int rc, n = 0;
	size_t f;

	rc = bench(ARGS("-m", STORIES, "-p", "8", "-n", "2", "-r", "2", "-t",
			"1", "-o", "json"), &out, &err);
	CHECK(rc == 0, "json: exit %d: %s", rc, err);
	memset(objs, 0, sizeof(objs));
	j.p = out;
	j.ok = true;
	ws(&j);
	CHECK(*j.p == '[', "json does not start with '[': %s", out);
	if (*j.p == '[') {
		j.p++;
		for (;;) {
			ws(&j);
			if (*j.p != '{' || n == 4 || !parse_object(&j, &objs[n])) {
				j.ok = false;
				break;
			}
			n++;
			ws(&j);
			if (*j.p == ']') {
				j.p++;
				break;
			}
			if (*j.p != ',') {
				j.ok = false;
				break;
			}
			j.p++;
		}
		ws(&j);
		CHECK(j.ok && !*j.p, "json malformed near '%.40s'", j.p);
	}
	CHECK(n == 2, "json: %d objects, expected 2 (pp8, tg2)", n);
	for (rc = 0; rc < n; rc++) {
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++)
			CHECK(has_key(&objs[rc], fields[f]),
			      "json object %d lacks \"%s\"", rc, fields[f]);
		CHECK(objs[rc].avg_ts > 0, "json object %d: avg_ts %g", rc,
		      objs[rc].avg_ts);
	}
	CHECK(strstr(out, "\"n_prompt\": 8,") && strstr(out, "\"n_gen\": 2,") &&
	      strstr(out, "\"model_filename\": \"" STORIES "\""),
	      "json values: %s", out);
	free(out);
	free(err);
}

/* ---- CSV ---- */

/* Fields of one CSV line (quoted or not); -1 when malformed. */
static int csv_fields(const char *line, size_t len)
{
	size_t i = 0;
	int n = 0;

	for (;;) {
		if (i < len && line[i] == '"') {
			for (i++;; i++) {
				if (i >= len)
					return -1;
				if (line[i] == '"') {
					if (i + 1 < len && line[i + 1] == '"') {
						i++;
						continue;
					}
					i++;
					break;
				}
			}
		} else {
			while (i < len && line[i] != ',')
				i++;
		}
		n++;
		if (i == len)
			return n;
		if (line[i] != ',')
			return -1;
		i++;
	}
}

static void check_csv(void)
{
	char *out = NULL, *err = NULL, *line, *next;
	int rc, header = 0, rows = 0;

	rc = bench(ARGS("-m", STORIES, "-p", "8", "-n", "2", "-r", "1", "-t",
			"1,2", "-o", "csv"), &out, &err);
	CHECK(rc == 0, "csv: exit %d: %s", rc, err);
	CHECK(!strncmp(out, "build_commit,cpu_info,", 22), "csv header: %s",
	      out);
	CHECK(strstr(out, ",model_filename,model_type,model_size,model_n_params,n_batch,") &&
	      strstr(out, ",n_threads,type_k,") &&
	      strstr(out, ",n_prompt,n_gen,test_time,avg_ns,stddev_ns,avg_ts,stddev_ts"),
	      "csv header fields: %s", out);
	for (line = out; *line; line = next) {
		size_t len;
		int n;

		next = strchr(line, '\n');
		CHECK(next != NULL, "csv: last line unterminated");
		if (!next)
			break;
		len = (size_t)(next - line);
		next++;
		n = csv_fields(line, len);
		if (line == out) {
			header = n;
			continue;
		}
		CHECK(n == header, "csv row has %d fields, header %d: %.*s", n,
		      header, (int)len, line);
		CHECK(!strncmp(line, "\"", 1) && strstr(line, STORIES),
		      "csv row: %.*s", (int)len, line);
		rows++;
	}
	CHECK(header >= 20, "csv header has %d fields", header);
	CHECK(rows == 4, "csv: %d rows, expected 4", rows);
	free(out);
	free(err);
}

/* ---- --mmap / --no-mmap: the model read in rather than mapped ---- */

static void check_mmap(void)
{
	char *out = NULL, *err = NULL, cells[16][64];
	const char *line;
	int rc, n, row = 0;

	rc = bench(ARGS("-m", STORIES, "-p", "0", "-n", "2", "-r", "1", "-t",
			"1", "-mmp", "0,1", "--first-token=4"), &out, &err);
	CHECK(rc == 0, "-mmp 0,1: exit %d: %s", rc, err);
	n = md_cells(out, cells, 16);
	CHECK(n == 8 && !strcmp(cells[4], "threads") &&
	      !strcmp(cells[5], "mmap") && !strcmp(cells[6], "test"),
	      "-mmp 0,1: md header: %s", out);
	line = strchr(out, '\n');
	for (line = line ? strchr(line + 1, '\n') : NULL; line && line[1] == '|';
	     line = strchr(line + 1, '\n')) {
		n = md_cells(line + 1, cells, 16);
		CHECK(n == 8 && !strcmp(cells[5], row ? "1" : "0") &&
		      !strcmp(cells[6], "tg2") && strtod(cells[7], NULL) > 0,
		      "-mmp 0,1: row %d: %.120s", row, line + 1);
		row++;
	}
	CHECK(row == 2, "-mmp 0,1: %d rows, expected 2: %s", row, out);
	CHECK(strstr(err, "4-token prompt, 1 thread, read in (mmap 0): ") &&
	      strstr(err, "4-token prompt, 1 thread: "),
	      "-mmp 0,1: first token lines: %s", err);
	free(out);
	free(err);

	rc = bench(ARGS("-m", STORIES, "-p", "0", "-n", "2", "-r", "1", "-t",
			"1", "--no-mmap", "-o", "json", "--first-token=0"),
		   &out, &err);
	CHECK(rc == 0 && strstr(out, "\"use_mmap\": false,") &&
	      !strstr(out, "\"use_mmap\": true"),
	      "--no-mmap json: exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
	rc = bench(ARGS("-m", STORIES, "-p", "0", "-n", "2", "-r", "1", "-t",
			"1", "-o", "json", "--first-token=0"), &out, &err);
	CHECK(rc == 0 && strstr(out, "\"use_mmap\": true,"),
	      "default json: exit %d: %s%s", rc, out, err);
	free(out);
	free(err);
}

/* ---- errors ---- */

static void expect_usage(const char *want, const char *const *args)
{
	char *out = NULL, *err = NULL;
	int rc = bench(args, &out, &err);

	CHECK(rc == 2, "expected exit 2 for '%s', got %d: %s", want, rc, err);
	CHECK(!strncmp(err, "llamux bench: ", 14) && strstr(err, want),
	      "stderr lacks '%s': %s", want, err);
	CHECK(count_lines(err) == 2 && strstr(err, "\nusage: llamux bench -m MODEL"),
	      "expected the reason and the usage line: %s", err);
	CHECK(!*out, "stdout not empty: %s", out);
	free(out);
	free(err);
}

static void check_errors(void)
{
	char *out = NULL, *err = NULL;
	char *help[] = { (char *)bin, "bench", "--help", NULL };
	int rc;

	expect_usage("missing -m MODEL", ARGS("-p", "8"));
	expect_usage("-p expects a whole number, got 'abc'",
		     ARGS("-m", STORIES, "-p", "abc"));
	expect_usage("-p expects a whole number, got 'x'",
		     ARGS("-m", STORIES, "-p", "8,x"));
	expect_usage("-n expects a whole number, got ''",
		     ARGS("-m", STORIES, "-n", "4,"));
	expect_usage("-t must be between 1 and 1024, got 0",
		     ARGS("-m", STORIES, "-t", "0"));
	expect_usage("this machine runs at most 2 threads",
		     ARGS("-m", STORIES, "-t", "1,3"));
	expect_usage("-r must be between 1 and 1000, got 0",
		     ARGS("-m", STORIES, "-r", "0"));
	expect_usage("-o must be md, json or csv, got 'xml'",
		     ARGS("-m", STORIES, "-o", "xml"));
	expect_usage("--first-token expects a whole number, got 'many'",
		     ARGS("-m", STORIES, "--first-token=many"));
	expect_usage("unknown option '--bogus'", ARGS("-m", STORIES, "--bogus"));
	expect_usage("--mmap must be between 0 and 1, got 2",
		     ARGS("-m", STORIES, "--mmap", "2"));
	expect_usage("-m needs a value", ARGS("-p", "8", "-m"));
	expect_usage("unexpected argument 'extra'",
		     ARGS("-m", STORIES, "extra"));
	expect_usage("nothing to measure",
		     ARGS("-m", STORIES, "-p", "0", "-n", "0",
			  "--first-token=0"));

	/* A model that cannot be read: exit 1, one line. */
	rc = bench(ARGS("-m", "/nonexistent/model.gguf"), &out, &err);
	CHECK(rc == 1 && count_lines(err) == 1 &&
	      strstr(err, "cannot open it: No such file or directory"),
	      "missing model: exit %d: %s", rc, err);
	CHECK(!*out, "missing model: no table header expected: %s", out);
	free(out);
	free(err);

	CHECK(tl_run(help, &out, NULL, NULL) == 0 &&
	      strstr(out, "usage: llamux bench -m MODEL") &&
	      strstr(out, "--first-token"), "bench --help: %s", out);
	free(out);
}

int main(int argc, char **argv)
{
	if (argc < 2)
		return 2;
	bin = argv[1];
	/* Two threads are allowed whatever the machine has. */
	setenv("LLAMUX_MAX_THREADS", "2", 1);
	check_md();
	check_json();
	check_csv();
	check_mmap();
	check_errors();
	return tl_finish("clitest_bench");
}
