/*
 * sendmail-fast - the common sendmail submission, without starting Node
 *
 * SYNOPSIS
 *   sendmail-fast [-f sender|-r sender] [-F name] [-i|-oi] [-t] [-N dsn]
 *                 [-R ret] [-V envid] [-B type] [-C dir] [-bm] [ignored
 *                 options] [--] [recipient ...]
 *
 * DESCRIPTION
 *   bin/sendmail runs this program (built by scripts/build-native.mjs into
 *   dist/sendmail-fast) when it is fresh. It writes the maildrop file
 *   exactly as src/sendmail/run.ts and submit.ts do: same records in the
 *   same order, same attributes, same line rules (-i, a lone dot, a leading
 *   "From " line, sendmail_fix_line_endings, long lines cut into 4096-byte
 *   pieces), same queue ID forms, same temporary name, mode, fsync, link
 *   and directory sync, then the same pickup trigger (a hint only).
 *
 *   Anything else goes to the Node implementation, untouched: it executes
 *   bin/sendmail again with POSTROOM_SENDMAIL_FAST=no, same arguments, same
 *   standard input. That decision is made before standard input is read,
 *   with one exception: a -t header whose addresses this parser is not
 *   certain about (8-bit bytes, quotes, backslashes). Then the bytes read so
 *   far are replayed to Node through a pipe, followed by the rest of the
 *   input, so Node sees the input it would have seen.
 *
 *   With POSTROOM_SENDMAIL_FAST=test (tests only) it exits 99 instead of
 *   handing over, so a test can tell which path ran.
 *
 *   Errors after the input was read end as Node's do: "sendmail: fatal:
 *   user(uid): queue file write error: <strerror>", exit 75.
 *
 * C99 with POSIX and Linux calls, libc only. Every length is checked;
 * every buffer grows on the heap.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define EX_TEMPFAIL 75
#define PIECE 4096            /* DEFAULT_CONTENT_RECORD */
#define FLUSH_AT (64 * 1024)  /* the writer's batch size */
#define SIZE_PAYLOAD 79       /* 5 fields of 15, 4 spaces */

struct buf {
	unsigned char *p;
	size_t len, cap;
};

static char **g_argv;
static struct buf replay;     /* -t: every byte read while the header is open */
static int replaying;

/* ---- memory ---- */

static int grow(struct buf *b, size_t more)
{
	if (more > SIZE_MAX / 4 - b->len) {
		errno = ENOMEM;
		return -1;
	}
	size_t need = b->len + more, cap = b->cap ? b->cap : 256;
	if (need <= b->cap)
		return 0;
	while (cap < need)
		cap *= 2;
	unsigned char *p = realloc(b->p, cap);
	if (p == NULL) {
		errno = ENOMEM;
		return -1;
	}
	b->p = p;
	b->cap = cap;
	return 0;
}

static int add(struct buf *b, const void *s, size_t n)
{
	if (grow(b, n) < 0)
		return -1;
	if (n > 0)
		memcpy(b->p + b->len, s, n);
	b->len += n;
	return 0;
}

/* ---- handing over to Node ---- */

/* Execute bin/sendmail with the Node path forced; never returns. */
static void slow(void)
{
	static char exe[4096];
	const char *mode = getenv("POSTROOM_SENDMAIL_FAST");
	if (mode != NULL && strcmp(mode, "test") == 0) {
		/* tests: show that the fast path did not handle this */
		static char sink[65536];
		while (read(0, sink, sizeof sink) > 0)
			; /* the input, so that the caller's write does not fail */
		fprintf(stderr, "sendmail-fast: handed over\n");
		exit(99);
	}
	ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 32);
	char *slash = n > 0 ? memrchr(exe, '/', (size_t)n) : NULL;
	if (slash == NULL) {
		fprintf(stderr, "sendmail: fatal: cannot find the sendmail launcher\n");
		exit(EX_TEMPFAIL);
	}
	strcpy(slash, "/../bin/sendmail");
	if (replaying && replay.len > 0) {
		/* Node must see every byte: what was read, then the rest. */
		int pfd[2];
		if (pipe(pfd) < 0) {
			fprintf(stderr, "sendmail: fatal: pipe: %s\n", strerror(errno));
			exit(EX_TEMPFAIL);
		}
		pid_t pid = fork();
		if (pid < 0) {
			fprintf(stderr, "sendmail: fatal: fork: %s\n", strerror(errno));
			exit(EX_TEMPFAIL);
		}
		if (pid == 0) {
			signal(SIGPIPE, SIG_IGN);
			close(pfd[0]);
			static unsigned char chunk[65536];
			const unsigned char *p = replay.p;
			size_t left = replay.len;
			for (;;) {
				while (left > 0) {
					ssize_t w = write(pfd[1], p, left);
					if (w < 0 && errno == EINTR)
						continue;
					if (w <= 0)
						_exit(0);
					p += w;
					left -= (size_t)w;
				}
				ssize_t r = read(0, chunk, sizeof chunk);
				if (r < 0 && errno == EINTR)
					continue;
				if (r <= 0)
					_exit(0);
				p = chunk;
				left = (size_t)r;
			}
		}
		if (dup2(pfd[0], 0) < 0) {
			fprintf(stderr, "sendmail: fatal: dup2: %s\n", strerror(errno));
			exit(EX_TEMPFAIL);
		}
		close(pfd[0]);
		close(pfd[1]);
	}
	setenv("POSTROOM_SENDMAIL_FAST", "no", 1);
	g_argv[0] = exe;
	execv(exe, g_argv);
	fprintf(stderr, "sendmail: fatal: execv %s: %s\n", exe, strerror(errno));
	exit(EX_TEMPFAIL);
}

/* ---- text checks ---- */

static int is_ws(int c) /* what Postfix's config parser and JS's \s agree on, ASCII */
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/* Node decodes argv as UTF-8 and replaces bad sequences: only valid text passes. */
static int valid_utf8(const unsigned char *s)
{
	while (*s) {
		unsigned c = *s++;
		int more;
		unsigned min, cp;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			more = 1, min = 0x80, cp = c & 0x1f;
		else if (c >= 0xe0 && c <= 0xef)
			more = 2, min = 0x800, cp = c & 0x0f;
		else if (c >= 0xf0 && c <= 0xf4)
			more = 3, min = 0x10000, cp = c & 0x07;
		else
			return 0;
		while (more-- > 0) {
			if ((*s & 0xc0) != 0x80)
				return 0;
			cp = cp << 6 | (*s++ & 0x3f);
		}
		if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return 0;
	}
	return 1;
}

/* ---- addresses: src/sendmail/headers.ts parseAddressList, ASCII only ---- */

struct tok {
	const unsigned char *s;
	size_t n;
	char op;     /* operator character, or 0 for a word */
	char quoted; /* a "quoted string" */
};

static const char *SPECIALS = "()\"<>,;:@.[]";

/* The address in toks[a..b) (the part inside <> when there is one); 0: uncertain. */
static int address_of(struct tok *t, size_t a, size_t b, struct buf *list)
{
	size_t lt, gt;
	for (lt = a; lt < b && t[lt].op != '<'; lt++)
		;
	if (lt < b) {
		for (gt = lt + 1; gt < b && t[gt].op != '>'; gt++)
			;
		a = lt + 1;
		b = gt;
	}
	size_t start = list->len;
	for (size_t i = a; i < b; i++) {
		/* unquote822Local would have work to do: leave it to Node. */
		if (t[i].quoted || memchr(t[i].s, '\\', t[i].n) != NULL)
			return 0;
		if (add(list, t[i].s, t[i].n) < 0)
			return -1;
	}
	if (list->len > start && add(list, "", 1) < 0)
		return -1;
	return 1;
}

/*
 * Append the addresses of `text` to `list`, each NUL-terminated. Returns 1,
 * 0 when the text holds anything this parser is not certain about, -1 on
 * memory exhaustion.
 */
static int parse_address_list(const unsigned char *s, size_t n, struct buf *list)
{
	struct buf tb = {0};
	size_t i = 0, count = 0, from = 0;
	int angle = 0, ok = 1;
	struct tok *t;
	for (i = 0; i < n; i++)
		if (s[i] == 0 || s[i] >= 0x80)
			return 0; /* Node decodes, and its \s knows more spaces */
	i = 0;
	while (i < n && ok == 1) {
		unsigned char c = s[i];
		struct tok k = {s + i, 0, 0, 0};
		if (is_ws(c)) {
			i++;
			continue;
		}
		if (c == '(') {
			int depth = 0;
			for (; i < n; i++) {
				if (s[i] == '\\')
					i++;
				else if (s[i] == '(')
					depth++;
				else if (s[i] == ')' && --depth == 0)
					break;
			}
			i++;
			continue;
		}
		if (c == '"') {
			for (i++; i < n && s[i] != '"'; i++)
				if (s[i] == '\\' && i + 1 < n)
					i++;
			i++;
			k.quoted = 1;
			k.n = (i <= n ? i : n) - (size_t)(k.s - s);
		} else if (c == '[') {
			const unsigned char *e = memchr(s + i, ']', n - i);
			size_t stop = e == NULL ? n : (size_t)(e - s) + 1;
			k.n = stop - i;
			i = stop;
		} else if (strchr("<>,;:@.", c) != NULL) {
			k.op = (char)c;
			k.n = 1;
			i++;
		} else {
			while (i < n && !is_ws(s[i]) && strchr(SPECIALS, s[i]) == NULL)
				i++;
			if (i == (size_t)(k.s - s))
				i++;
			k.n = i - (size_t)(k.s - s);
		}
		if (add(&tb, &k, sizeof k) < 0)
			ok = -1;
	}
	t = (struct tok *)tb.p;
	count = tb.len / sizeof(struct tok);
	for (i = 0; i < count && ok == 1; i++) {
		if (t[i].op == '<')
			angle = 1;
		if (t[i].op == '>')
			angle = 0;
		if (!angle && (t[i].op == ',' || t[i].op == ';')) {
			ok = address_of(t, from, i, list);
			from = i + 1;
		} else if (!angle && t[i].op == ':') {
			from = i + 1; /* a group's display name */
		}
	}
	if (ok == 1)
		ok = address_of(t, from, count, list);
	free(tb.p);
	return ok;
}

/* ---- main.cf: only plain values of the parameters sendmail reads ---- */

static struct param {
	const char *name, *dflt;
	char *val;
} params[] = {
	{"queue_directory", "/var/spool/postfix", NULL},
	{"hash_queue_names", "deferred, defer", NULL},
	{"hash_queue_depth", "1", NULL},
	{"enable_long_queue_ids", "no", NULL},
	{"message_size_limit", "10240000", NULL},
	{"sendmail_fix_line_endings", "always", NULL},
};
enum { P_QDIR, P_HNAMES, P_HDEPTH, P_LONG, P_SIZE, P_FIX, NPARAMS };

/* The whole of a small file (at most 4 MB); -1 when it cannot be opened or read. */
static int read_file(const char *name, struct buf *text)
{
	int fd = open(name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	for (;;) {
		if (grow(text, 65536) < 0)
			slow();
		ssize_t r = read(fd, text->p + text->len, 65536);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || (text->len += (size_t)r) > (1 << 22)) {
			close(fd);
			return r == 0 ? 0 : -1;
		}
	}
}

/* Read main.cf; falls back to Node on anything that would warn, fail or expand. */
static void read_main_cf(const char *dir)
{
	struct buf path = {0}, text = {0};
	if (add(&path, dir, strlen(dir)) < 0 || add(&path, "/main.cf", 9) < 0)
		slow();
	if (read_file((char *)path.p, &text) < 0)
		slow();
	if (add(&text, "\n", 1) < 0 || memchr(text.p, 0, text.len) != NULL)
		slow();
	/* Logical lines: a line starting with whitespace continues the last one. */
	struct buf logical = {0};
	char **names = NULL, **values = NULL;
	size_t count = 0;
	unsigned char *p = text.p, *end = text.p + text.len;
	int have = 0;
	while (p < end) {
		unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		unsigned char *q = p;
		while (q < nl && is_ws(*q))
			q++;
		int skip = q == nl || *q == '#';
		int cont = !skip && q > p;
		if (!skip && !cont && have) {
			/* finish the previous logical line */
			if (add(&logical, "", 1) < 0)
				slow();
			have = 0;
		}
		if (cont && !have && logical.len == 0)
			slow(); /* "logical line must not start with whitespace" */
		if (!skip) {
			if (add(&logical, p, (size_t)(nl - p)) < 0)
				slow();
			have = 1;
		}
		p = nl + 1;
	}
	if (have && add(&logical, "", 1) < 0)
		slow();
	for (char *l = (char *)logical.p, *next; logical.len > 0 && l < (char *)logical.p + logical.len; l = next) {
		char *n0 = l, *e = l;
		next = l + strlen(l) + 1;
		while (*e && !is_ws((unsigned char)*e) && *e != '=')
			e++;
		if (e == n0)
			slow();
		char *v = e;
		while (is_ws((unsigned char)*v))
			v++;
		if (*v != '=')
			slow();
		v++;
		while (is_ws((unsigned char)*v))
			v++;
		char *ve = v + strlen(v);
		while (ve > v && is_ws((unsigned char)ve[-1]))
			ve--;
		*e = 0;
		*ve = 0;
		size_t k;
		for (k = 0; k < count && strcmp(names[k], n0) != 0; k++)
			;
		if (k < count) {
			if (strcmp(values[k], v) != 0)
				slow(); /* "overriding earlier entry" */
			continue;
		}
		char **nn = realloc(names, (count + 1) * sizeof *nn), **nv;
		if (nn == NULL)
			slow();
		names = nn;
		nv = realloc(values, (count + 1) * sizeof *nv);
		if (nv == NULL)
			slow();
		values = nv;
		names[count] = n0;
		values[count++] = v;
	}
	for (int i = 0; i < NPARAMS; i++) {
		const char *v = params[i].dflt;
		for (size_t k = 0; k < count; k++)
			if (strcmp(names[k], params[i].name) == 0)
				v = values[k];
		for (const char *c = v; *c; c++)
			if (*c == '$' || *c < 0x20 || *c > 0x7e)
				slow(); /* expansion, or bytes Node may decode otherwise */
		params[i].val = (char *)v;
	}
}

static int plain_number(const char *v, size_t digits)
{
	size_t n = strlen(v);
	return n > 0 && n <= digits && strspn(v, "0123456789") == n;
}

/* ---- the queue file ---- */

static struct buf out;       /* records not yet written */
static int qfd = -1;
static char *tmp_path;
static off_t written;        /* bytes of the file already on disk */
static uint64_t offset;      /* file offset of the next record */
static const char *who;      /* "user(uid)" for messages */

static void fail(const char *text, int err)
{
	if (qfd >= 0) {
		close(qfd);
		unlink(tmp_path);
	}
	if (err)
		fprintf(stderr, "sendmail: fatal: %s: %s: %s\n", who, text, strerror(err));
	else
		fprintf(stderr, "sendmail: fatal: %s: %s\n", who, text);
	exit(EX_TEMPFAIL);
}

static void write_all(const unsigned char *p, size_t n, off_t at)
{
	while (n > 0) {
		ssize_t w = pwrite(qfd, p, n, at);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			fail("queue file write error", errno);
		p += w;
		n -= (size_t)w;
		at += w;
	}
}

static void flush(void)
{
	write_all(out.p, out.len, written);
	written += (off_t)out.len;
	out.len = 0;
}

static void put(int type, const void *data, size_t n)
{
	unsigned char head[8];
	size_t h = 0;
	size_t len = n;
	head[h++] = (unsigned char)type;
	do {
		unsigned char b = len & 0x7f;
		len >>= 7;
		head[h++] = b | (len ? 0x80 : 0);
	} while (len > 0 && h < sizeof head);
	if (n > (1u << 24) || add(&out, head, h) < 0 || add(&out, data, n) < 0)
		fail("queue file write error", ENOMEM);
	offset += h + n;
	if (out.len >= FLUSH_AT)
		flush();
}

static void put_str(int type, const char *s)
{
	put(type, s, strlen(s));
}

/* ---- the message ---- */

static struct {
	int ignore_dots, extract, strip_cr, first, strict, done;
	uint64_t size, limit, content_length;
	struct buf line;      /* the line being read */
	struct buf header;    /* -t: the header lines, each as (size_t length, bytes) */
	size_t header_lines;
	struct buf extracted; /* -t: addresses, NUL-terminated */
} m;

static void content_line(const unsigned char *p, size_t n)
{
	m.content_length += n + 1;
	while (n > PIECE) {
		put('L', p, PIECE);
		p += PIECE;
		n -= PIECE;
	}
	put('N', p, n);
}

/* Length of "NAME[ \t]*:" at the start of the line, or 0. */
static size_t name_len(const unsigned char *p, size_t n)
{
	size_t i = 0, j;
	while (i < n && p[i] >= 0x21 && p[i] <= 0x7e && p[i] != ':')
		i++;
	for (j = i; j < n && (p[j] == ' ' || p[j] == '\t'); j++)
		;
	return i > 0 && j < n && p[j] == ':' ? j + 1 : 0;
}

static int blank(const unsigned char *p, size_t n) /* JS trim() leaves nothing (latin1) */
{
	for (size_t i = 0; i < n; i++)
		if (!is_ws(p[i]) && p[i] != 0xa0)
			return 0;
	return 1;
}

static int continuation(const unsigned char *p, size_t n)
{
	return n > 0 && (p[0] == ' ' || p[0] == '\t') && !blank(p, n);
}

/* Is the header name in p (length nl, from name_len) one of the list? */
static int name_in(const unsigned char *p, size_t nl, const char *const *names)
{
	while (nl > 0 && (p[nl - 1] == ':' || p[nl - 1] == ' ' || p[nl - 1] == '\t'))
		nl--;
	for (; *names; names++)
		if (nl == strlen(*names) && strncasecmp((const char *)p, *names, nl) == 0)
			return 1;
	return 0;
}

static const char *const TO_CC_BCC[] = {"to", "cc", "bcc", NULL};
static const char *const RESENT_TO_CC_BCC[] = {"resent-to", "resent-cc", "resent-bcc", NULL};
static const char *const BCC[] = {"bcc", "resent-bcc", NULL};

/* The next stored header line. */
static unsigned char *next_line(unsigned char *at, const unsigned char **p, size_t *n)
{
	memcpy(n, at, sizeof *n);
	*p = at + sizeof *n;
	return at + sizeof *n + *n;
}

static void parse_value(struct buf *value, int *pending)
{
	if (!*pending)
		return;
	*pending = 0;
	int r = parse_address_list(value->p, value->len, &m.extracted);
	value->len = 0;
	if (r < 0)
		fail("queue file write error", ENOMEM);
	if (r == 0) {
		/* Not certain: Node reads the whole input again. */
		close(qfd);
		unlink(tmp_path);
		slow();
	}
}

/* The -t header is complete: take its recipients, write it without Bcc. */
static void end_header(void)
{
	const unsigned char *p;
	size_t n, i, end = 0;
	unsigned char *at = m.header.p;
	int resent = 0, pending = 0, keep = 0;
	struct buf value = {0};
	/* Where the header stops, as splitHeader() sees it; any Resent- header? */
	for (i = 0; i < m.header_lines; i++) {
		at = next_line(at, &p, &n);
		size_t nl = name_len(p, n);
		if (nl == 0 && !(i > 0 && continuation(p, n)))
			break;
		if (nl > 0 && n >= 7 && strncasecmp((const char *)p, "resent-", 7) == 0)
			resent = 1;
	}
	end = i;
	at = m.header.p;
	for (i = 0; i < end; i++) {
		at = next_line(at, &p, &n);
		size_t nl = name_len(p, n);
		if (nl > 0) {
			parse_value(&value, &pending);
			if (name_in(p, nl, resent ? RESENT_TO_CC_BCC : TO_CC_BCC)) {
				pending = 1;
				if (add(&value, p + nl, n - nl) < 0)
					fail("queue file write error", ENOMEM);
			}
		} else if (pending && (add(&value, " ", 1) < 0 || add(&value, p, n) < 0)) {
			fail("queue file write error", ENOMEM);
		}
	}
	parse_value(&value, &pending);
	free(value.p);
	at = m.header.p;
	for (i = 0; i < m.header_lines; i++) {
		at = next_line(at, &p, &n);
		size_t nl = i < end ? name_len(p, n) : 0;
		if (nl > 0)
			keep = !name_in(p, nl, BCC);
		if (i >= end || keep)
			content_line(p, n);
	}
	free(m.header.p);
	m.header = (struct buf){0};
	m.extract = 0;
	replaying = 0;
	free(replay.p);
	replay = (struct buf){0};
}

static void emit(const unsigned char *p, size_t n)
{
	if (!m.extract) {
		content_line(p, n);
		return;
	}
	if (add(&m.header, &n, sizeof n) < 0 || add(&m.header, p, n) < 0)
		fail("queue file write error", ENOMEM);
	m.header_lines++;
	if (!(name_len(p, n) > 0 || (m.header_lines > 1 && continuation(p, n))))
		end_header();
}

static int over(uint64_t size)
{
	return m.limit > 0 && size > m.limit;
}

/* One input line, its LF removed (messageLines() in submit.ts). */
static void input_line(const unsigned char *p, size_t n)
{
	if (m.first) {
		m.first = 0;
		if (m.strict)
			m.strip_cr = n > 0 && p[n - 1] == '\r';
		if (n >= 5 && memcmp(p, "From ", 5) == 0)
			return;
	}
	if (m.strip_cr && n > 0 && p[n - 1] == '\r')
		n--;
	if (!m.ignore_dots && n == 1 && p[0] == '.') {
		m.done = 1;
		return;
	}
	m.size += n + 1;
	if (over(m.size))
		fail("message file too big", 0);
	emit(p, n);
}

/* The input's last line, when no LF ends it. */
static void last_line(const unsigned char *p, size_t n)
{
	if (m.first && n >= 5 && memcmp(p, "From ", 5) == 0)
		return;
	if (m.strip_cr && n > 0 && p[n - 1] == '\r')
		n--;
	if (!m.ignore_dots && n == 1 && p[0] == '.')
		return;
	if (over(m.size + n + 1))
		fail("message file too big", 0);
	emit(p, n);
}

static void read_message(void)
{
	static unsigned char chunk[65536];
	for (;;) {
		ssize_t r = read(0, chunk, sizeof chunk);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			fail("queue file write error", errno);
		if (r == 0)
			break;
		if (replaying && add(&replay, chunk, (size_t)r) < 0)
			fail("queue file write error", ENOMEM);
		unsigned char *p = chunk, *e = chunk + r;
		while (p < e && !m.done) {
			unsigned char *nl = memchr(p, '\n', (size_t)(e - p));
			if (nl == NULL) {
				if (add(&m.line, p, (size_t)(e - p)) < 0)
					fail("queue file write error", ENOMEM);
				break;
			}
			if (m.line.len > 0) {
				if (add(&m.line, p, (size_t)(nl - p)) < 0)
					fail("queue file write error", ENOMEM);
				input_line(m.line.p, m.line.len);
				m.line.len = 0;
			} else {
				input_line(p, (size_t)(nl - p));
			}
			p = nl + 1;
		}
		if (m.done)
			return;
		if (over(m.size + m.line.len))
			fail("message file too big", 0);
	}
	if (m.line.len > 0)
		last_line(m.line.p, m.line.len);
}

/* ---- queue IDs (src/global/queue_id.ts) ---- */

static const char SAFE[] = "0123456789BCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz";

static char *encode(char *to, uint64_t n, unsigned base, int pad)
{
	char tmp[32];
	int k = 0;
	do {
		tmp[k++] = SAFE[n % base];
		n /= base;
	} while (n > 0);
	while (k < pad)
		tmp[k++] = '0';
	while (k > 0)
		*to++ = tmp[--k];
	return to;
}

static void queue_id(char *id, int longids, uint64_t ino)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	uint64_t sec = (uint64_t)ts.tv_sec, usec = (uint64_t)ts.tv_nsec / 1000;
	if (!longids) {
		sprintf(id, "%05llX%llX", (unsigned long long)usec, (unsigned long long)ino);
		return;
	}
	char *e = encode(id, sec, 52, 6);
	e = encode(e, usec, 52, 4);
	*e++ = 'z';
	*encode(e, ino, 51, 1) = 0;
}

/* ---- main ---- */

static char *concat(const char *a, const char *b, const char *c)
{
	size_t la = strlen(a), lb = strlen(b), lc = strlen(c);
	char *s = malloc(la + lb + lc + 1);
	if (s == NULL)
		slow();
	memcpy(s, a, la);
	memcpy(s + la, b, lb);
	memcpy(s + la + lb, c, lc + 1);
	return s;
}

static int parse_notify(const char *s)
{
	int bits = 0;
	while (*s) {
		size_t skip = strspn(s, " \t\n\r\f\v,"), n;
		s += skip;
		n = strcspn(s, " \t\n\r\f\v,");
		if (n == 0)
			break;
		if (n == 5 && strncasecmp(s, "never", n) == 0)
			bits |= 1;
		else if (n == 7 && strncasecmp(s, "success", n) == 0)
			bits |= 2;
		else if (n == 7 && strncasecmp(s, "failure", n) == 0)
			bits |= 4;
		else if (n == 5 && strncasecmp(s, "delay", n) == 0)
			bits |= 8;
		else
			slow(); /* Node warns */
		s += n;
	}
	if (bits == 0 || ((bits & 1) && bits != 1))
		slow();
	return bits;
}

/* The first address of text, or "" (cleanSender). */
static char *one_address(const char *text)
{
	struct buf list = {0};
	if (parse_address_list((const unsigned char *)text, strlen(text), &list) != 1)
		slow();
	return list.len > 0 ? (char *)list.p : "";
}

/* The GECOS full name from /etc/passwd, as gecos.ts reads it (latin1 in, UTF-8 out). */
static char *gecos_name(unsigned uid)
{
	struct buf text = {0}, name = {0};
	char want[32];
	if (read_file("/etc/passwd", &text) < 0) {
		if (text.len > (1 << 22))
			slow();
		if (text.len == 0)
			return NULL;
	}
	snprintf(want, sizeof want, "%u", uid);
	unsigned char *p = text.p, *end = text.p + text.len;
	while (p < end) {
		unsigned char *nl = memchr(p, '\n', (size_t)(end - p));
		unsigned char *le = nl ? nl : end, *f[8];
		int k = 0;
		f[k++] = p;
		for (unsigned char *q = p; q < le && k < 8; q++)
			if (*q == ':')
				f[k++] = q + 1;
		p = le + 1;
		if (k < 7 || (size_t)(f[3] - 1 - f[2]) != strlen(want) || memcmp(f[2], want, strlen(want)) != 0)
			continue;
		unsigned char *g = f[4], *ge = f[5] - 1;
		unsigned char *comma = memchr(g, ',', (size_t)(ge - g));
		if (comma)
			ge = comma;
		for (; g < ge; g++) {
			unsigned char c = *g, two[2];
			if (c == '&') {
				/* the login name, its first letter upper-cased */
				for (unsigned char *l = f[0]; l < f[1] - 1; l++) {
					unsigned char lc = *l;
					if (lc >= 0x80)
						slow();
					if (l == f[0] && lc >= 'a' && lc <= 'z')
						lc -= 32;
					if (add(&name, &lc, 1) < 0)
						slow();
				}
				continue;
			}
			two[0] = c < 0x80 ? c : (unsigned char)(0xc0 | c >> 6);
			two[1] = (unsigned char)(0x80 | (c & 0x3f));
			if (add(&name, two, c < 0x80 ? 1 : 2) < 0)
				slow();
		}
		if (add(&name, "", 1) < 0)
			slow();
		free(text.p);
		return (char *)name.p;
	}
	free(text.p);
	return NULL;
}

static void wake_pickup(const char *qdir)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int n = snprintf(sa.sun_path, sizeof sa.sun_path, "%s/public/pickup", qdir);
	if (n < 0 || (size_t)n >= sizeof sa.sun_path)
		return;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return;
	if (connect(s, (struct sockaddr *)&sa, sizeof sa) == 0)
		(void)send(s, "W", 1, MSG_NOSIGNAL | MSG_DONTWAIT);
	close(s);
}

int main(int argc, char **argv)
{
	const char *sender = NULL, *full = NULL, *envid = NULL, *conf = NULL, *encoding = NULL;
	int notify = 0, ret = 0, i;
	struct buf rcpts = {0};
	struct stat st;

	g_argv = argv;
	for (i = 0; i <= 2; i++)
		if (fcntl(i, F_GETFD) < 0)
			slow(); /* Node opens /dev/null there; a queue file must never get fd 1 or 2 */
	for (i = 1; i < argc; i++)
		if (!valid_utf8((const unsigned char *)argv[i]))
			slow();
	/* POSIX getopt, no reordering, as src/util/getopt.ts */
	for (i = 1; i < argc; i++) {
		char *w = argv[i];
		if (strcmp(w, "--") == 0) {
			i++;
			break;
		}
		if (w[0] != '-' || w[1] == 0)
			break;
		for (int j = 1; w[j]; j++) {
			char c = w[j], *arg;
			if (strchr("GUcimtx", c)) {
				if (c == 'i')
					m.ignore_dots = 1;
				if (c == 't')
					m.extract = 1;
				continue;
			}
			if (!strchr("BCFLNORVbefhopr", c))
				slow(); /* -I -X -n -q -v, errors: Node */
			arg = w[j + 1] ? w + j + 1 : i + 1 < argc ? argv[++i] : NULL;
			if (arg == NULL)
				slow();
			if (c == 'B') {
				if (strcmp(arg, "8BITMIME") == 0)
					encoding = "8bit";
				else if (strcmp(arg, "7BIT") == 0)
					encoding = "7bit";
				else
					slow();
			} else if (c == 'C') {
				conf = arg;
			} else if (c == 'F') {
				full = arg;
			} else if (c == 'N') {
				notify = parse_notify(arg);
			} else if (c == 'R') {
				if (strcasecmp(arg, "full") == 0)
					ret = 1;
				else if (strcasecmp(arg, "hdrs") == 0)
					ret = 2;
				else
					slow();
			} else if (c == 'V') {
				if (strlen(arg) > 100)
					slow();
				envid = arg;
			} else if (c == 'b') {
				if (strcmp(arg, "m") != 0)
					slow(); /* -bv -bp -bs ...: Node */
			} else if (c == 'f' || c == 'r') {
				sender = one_address(arg);
			} else if (c == 'o') {
				if (strcmp(arg, "i") == 0)
					m.ignore_dots = 1;
			}
			break;
		}
	}
	for (; i < argc; i++)
		if (parse_address_list((const unsigned char *)argv[i], strlen(argv[i]), &rcpts) != 1)
			slow();
	if (rcpts.len == 0 && !m.extract)
		slow(); /* Node says why */

	/* main.cf */
	const char *dir = conf;
	if (dir != NULL) {
		/* -C names the directory or a file in it (config_dir.ts) */
		if (stat(dir, &st) < 0)
			slow();
		if (!S_ISDIR(st.st_mode)) {
			const char *slash = strrchr(dir, '/');
			char *d = concat(dir, "", "");
			if (slash == NULL)
				strcpy(d, ".");
			else
				d[slash == dir ? 1 : slash - dir] = 0;
			dir = d;
		}
	} else if ((dir = getenv("MAIL_CONFIG")) != NULL) {
		if (*dir == 0)
			slow();
	} else {
		dir = "/etc/postfix";
	}
	read_main_cf(dir);
	const char *qdir = params[P_QDIR].val, *fix = params[P_FIX].val;
	int longids = strcasecmp(params[P_LONG].val, "yes") == 0;
	if (!longids && strcasecmp(params[P_LONG].val, "no") != 0)
		slow();
	if (!plain_number(params[P_SIZE].val, 15) || !plain_number(params[P_HDEPTH].val, 9) ||
	    strcasestr(params[P_HNAMES].val, "maildrop") != NULL)
		slow();
	m.limit = strtoull(params[P_SIZE].val, NULL, 10);
	if (strcmp(fix, "always") == 0)
		m.strip_cr = 1;
	else if (strcmp(fix, "strict") == 0)
		m.strict = 1;
	else if (strcmp(fix, "never") != 0)
		slow();
	m.first = 1;

	/* who: Node's os.userInfo() */
	uid_t uid = geteuid();
	struct passwd *pw = getpwuid(uid);
	if (pw == NULL || !valid_utf8((const unsigned char *)pw->pw_name))
		slow();
	char uidtext[32];
	snprintf(uidtext, sizeof uidtext, "%u", (unsigned)uid);
	char *user = concat(pw->pw_name, "", "");
	who = concat(user, "(", concat(uidtext, ")", ""));
	if (full == NULL)
		full = gecos_name((unsigned)uid);
	if (sender == NULL)
		sender = user;
	if (stat(qdir, &st) < 0)
		slow();

	/* The file, under a temporary name until it is complete and synced. */
	uint32_t rnd;
	char name[64];
	if (getrandom(&rnd, sizeof rnd, 0) != (ssize_t)sizeof rnd)
		slow();
	snprintf(name, sizeof name, "/maildrop/t%d.1.%08x", (int)getpid(), (unsigned)rnd);
	tmp_path = concat(qdir, name, "");
	char *maildrop = concat(qdir, "/maildrop", "");
	qfd = open(tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_TRUNC | O_CLOEXEC, 0644);
	if (qfd < 0)
		slow();
	if (fchmod(qfd, 0644) < 0 || fstat(qfd, &st) < 0) {
		close(qfd);
		unlink(tmp_path);
		slow();
	}
	char id[64];
	queue_id(id, longids, (uint64_t)st.st_ino);
	if (m.extract)
		replaying = 1;

	char size_text[SIZE_PAYLOAD + 1], text[64];
	snprintf(size_text, sizeof size_text, "%15d %15d %15d %15d %15d", 0, 0, 0, 0, 0);
	put('C', size_text, SIZE_PAYLOAD);
	struct timeval tv;
	gettimeofday(&tv, NULL);
	uint64_t ms = (uint64_t)tv.tv_sec * 1000 + (uint64_t)tv.tv_usec / 1000;
	snprintf(text, sizeof text, "%llu %llu", (unsigned long long)(ms / 1000),
	         (unsigned long long)(ms % 1000 * 1000));
	put_str('T', text);
	put_str('W', "              0");
	put_str('A', "rewrite_context=local");
	put_str('A', concat("submit_uid=", uidtext, ""));
	if (full != NULL && *full != 0)
		put_str('A', concat("full_name=", full, ""));
	if (encoding != NULL)
		put_str('A', concat("encoding=", encoding, ""));
	if (envid != NULL)
		put_str('i', envid);
	if (ret != 0)
		put_str('<', ret == 1 ? "1" : "2");
	put_str('S', sender);
	snprintf(text, sizeof text, "%d", notify);
	uint64_t rcpt_count = 0;
	for (char *a = (char *)rcpts.p; a != NULL && a < (char *)rcpts.p + rcpts.len; a += strlen(a) + 1) {
		if (notify)
			put_str('n', text);
		put_str('R', a);
		rcpt_count++;
	}
	uint64_t content_offset = offset;
	put('M', "", 0);
	read_message();
	if (m.extract)
		end_header();
	if (rcpt_count == 0 && m.extracted.len == 0)
		fail("No recipient addresses found in message header", 0);
	uint64_t xtra_offset = offset;
	put('X', "", 0);
	for (char *a = (char *)m.extracted.p; a != NULL && a < (char *)m.extracted.p + m.extracted.len;
	     a += strlen(a) + 1) {
		if (notify)
			put_str('n', text);
		put_str('R', a);
		rcpt_count++;
	}
	put('E', "", 0);
	snprintf(size_text, sizeof size_text, "%15llu %15llu %15llu %15llu %15llu",
	         (unsigned long long)content_offset, (unsigned long long)xtra_offset,
	         (unsigned long long)m.content_length, (unsigned long long)rcpt_count,
	         (unsigned long long)offset);
	if (written == 0) {
		memcpy(out.p + 2, size_text, SIZE_PAYLOAD);
		flush();
	} else {
		flush();
		write_all((unsigned char *)size_text, SIZE_PAYLOAD, 2);
	}
	if (fsync(qfd) < 0)
		fail("queue file write error", errno);
	int fd = qfd;
	qfd = -1;
	if (close(fd) < 0) {
		unlink(tmp_path);
		fail("queue file write error", errno);
	}
	/* The queue ID name: a hard link never replaces another message. */
	for (int tries = 0;; tries++) {
		char *final = concat(maildrop, "/", id);
		if (link(tmp_path, final) == 0)
			break;
		int e = errno;
		if (e == EEXIST && tries < 1000) {
			usleep(1000);
			queue_id(id, longids, (uint64_t)st.st_ino);
		} else if (e == ENOENT && tries == 0 && (mkdir(maildrop, 0700) == 0 || errno == EEXIST)) {
			continue;
		} else {
			unlink(tmp_path);
			fail("queue file write error", e);
		}
	}
	if (unlink(tmp_path) < 0)
		fail("queue file write error", errno);
	fd = open(maildrop, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		(void)fsync(fd); /* some file systems refuse; the link is made anyway */
		close(fd);
	}
	wake_pickup(qdir);
	return 0;
}
