/*
 * console.c — see console.h.
 *
 * Data flow: readable -> hal_serial_read (CON_IN_CHUNK) -> le_feed ->
 * the editor's echo is moved into the output ring after every le_feed
 * call -> on a line: con_cmd_run (or the password check) -> le_begin.
 * The ring is flushed right away and again on EV_WRITE; the descriptor
 * waits for EV_WRITE only while the ring holds bytes.
 *
 * Ring invariant: out_len <= CON_OUT_MAX, out_head < CON_OUT_MAX.
 */
#include "console_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/clock.h"
#include "hex.h"
#include "log.h"
#include "mbedtls/sha256.h"

#define DROP_NOTE_MAX 64 /* "\r\n[18446744073709551615 bytes of output dropped]\r\n" */

/* ---- output ring ---- */

static void ring_put(struct con *c, const void *p, size_t n)
{
	const uint8_t *b = p;

	if (n > CON_OUT_MAX - c->out_len) {
		c->out_dropped += n - (CON_OUT_MAX - c->out_len);
		n = CON_OUT_MAX - c->out_len;
	}
	for (size_t i = 0; i < n; i++) /* O(n): simple beats two memcpy */
		c->out[(c->out_head + c->out_len + i) % CON_OUT_MAX] = b[i];
	c->out_len += n;
}

static void note_drops(struct con *c)
{
	char note[DROP_NOTE_MAX];
	int n;

	if (c->out_len != 0 || c->out_dropped == c->drop_noted)
		return;
	n = snprintf(note, sizeof note, "\r\n[%llu bytes of output dropped]"
		     "\r\n", (unsigned long long)(c->out_dropped -
						  c->drop_noted));
	c->drop_noted = c->out_dropped;
	if (n > 0 && (size_t)n < sizeof note)
		ring_put(c, note, (size_t)n);
}

static void line_lost(struct con *c, const char *why);
static void want_write(struct con *c, int on);
static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg);

/* Writes what the line takes now; waits for EV_WRITE for the rest. */
static void flush(struct con *c)
{
	while (c->fd >= 0 && c->out_len > 0) {
		size_t n = CON_OUT_MAX - c->out_head;
		int w;

		if (n > c->out_len)
			n = c->out_len;
		w = hal_serial_write(&c->ser, c->out + c->out_head, n);
		if (w == -EAGAIN || w == 0)
			break;
		if (w < 0) {
			line_lost(c, "write failed");
			return;
		}
		c->out_head = (c->out_head + (size_t)w) % CON_OUT_MAX;
		c->out_len -= (size_t)w;
		if (c->out_len == 0)
			note_drops(c);
	}
	want_write(c, c->out_len != 0);
}

/* Moves the editor's echo into the ring (raw: it has its own CR LF). */
static void take_echo(struct con *c)
{
	size_t n;
	const uint8_t *p = le_output(&c->ed, &n);

	if (c->crlf) {
		ring_put(c, p, n);
	} else {
		for (size_t i = 0; i < n; i++)
			if (p[i] != '\r')
				ring_put(c, p + i, 1);
	}
	le_output_take(&c->ed, n);
}

/* see console.h */
void con_write(struct con *c, const char *s, size_t n)
{
	size_t from = 0;

	for (size_t i = 0; i < n; i++) {
		if (s[i] != '\n' || !c->crlf)
			continue;
		ring_put(c, s + from, i - from);
		ring_put(c, "\r\n", 2);
		from = i + 1;
	}
	ring_put(c, s + from, n - from);
}

/* see console.h */
void con_puts(struct con *c, const char *s)
{
	con_write(c, s, strlen(s));
}

/* see console.h */
void con_flush(struct con *c)
{
	flush(c);
}

/* see console.h */
void con_printf(struct con *c, const char *fmt, ...)
{
	char buf[CON_MSG_MAX];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof buf) { /* cut: make it visible */
		memcpy(buf + sizeof buf - 5, "...\n", 5);
		n = (int)sizeof buf - 1;
	}
	con_write(c, buf, (size_t)n);
}

/* ---- password hashes ---- */

/* Decodes exactly n (even) hex digits at s into out[n / 2].
 * @retval 0 / -1 not hex */
static int unhex(const char *s, size_t n, uint8_t *out)
{
	for (size_t i = 0; i + 1 < n; i += 2) {
		int hi = hex_digit(s[i]), lo = hex_digit(s[i + 1]);

		if (hi < 0 || lo < 0)
			return -1;
		out[i / 2] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

/* see console.h */
int con_hash_check(const char *hash, const char *password)
{
	uint8_t salt[CON_SALT_MAX], want[32], got[32], diff = 0;
	const char *s, *d;
	size_t slen;
	mbedtls_sha256_context ctx;

	if (!hash || !password || strncmp(hash, "sha256$", 7) != 0)
		return -EINVAL;
	s = hash + 7;
	d = strchr(s, '$');
	if (!d)
		return -EINVAL;
	slen = (size_t)(d - s);
	d++;
	if (slen < 2 || slen > 2 * CON_SALT_MAX || slen % 2 ||
	    strlen(d) != 64 || unhex(s, slen, salt) < 0 ||
	    unhex(d, 64, want) < 0)
		return -EINVAL;
	mbedtls_sha256_init(&ctx);
	if (mbedtls_sha256_starts(&ctx, 0) != 0 ||
	    mbedtls_sha256_update(&ctx, salt, slen / 2) != 0 ||
	    mbedtls_sha256_update(&ctx, (const uint8_t *)password,
				  strlen(password)) != 0 ||
	    mbedtls_sha256_finish(&ctx, got) != 0) {
		mbedtls_sha256_free(&ctx);
		return 0; /* cannot verify: refuse */
	}
	mbedtls_sha256_free(&ctx);
	for (size_t i = 0; i < sizeof got; i++) /* no early exit: timing */
		diff |= (uint8_t)(got[i] ^ want[i]);
	return diff == 0;
}

/* ---- states ---- */

static void prompt(struct con *c)
{
	if (c->st == CON_LOGIN)
		le_begin(&c->ed, CON_PW_PROMPT, LE_F_NOECHO | LE_F_NOHIST);
	else
		le_begin(&c->ed, CON_PROMPT, c->crlf ? 0 : LE_F_NOECHO);
	take_echo(c);
}

static void cancel_timer(struct con *c, int *id)
{
	if (*id > 0)
		(void)ev_timer_cancel(c->loop, *id); /* gone already is fine */
	*id = 0;
}

static int64_t on_idle(struct ev_loop *loop, void *arg)
{
	struct con *c = arg;
	uint64_t idle = ev_now(loop) - c->last_input_ms;

	if (c->st != CON_OPEN || c->hash[0] == '\0' || c->idle_ms == 0) {
		c->idle_timer = 0;
		return EV_STOP;
	}
	if (idle < c->idle_ms)
		return (int64_t)(c->idle_ms - idle);
	c->idle_timer = 0;
	log_info("console", "idle for %llu s: logged out",
		 (unsigned long long)(idle / 1000));
	con_puts(c, "\nidle: logged out\n");
	c->st = CON_LOGIN;
	prompt(c);
	flush(c);
	return EV_STOP;
}

static void arm_idle(struct con *c)
{
	int id;

	cancel_timer(c, &c->idle_timer);
	if (c->hash[0] == '\0' || c->idle_ms == 0 || c->st != CON_OPEN)
		return;
	id = ev_timer_add(c->loop, (int64_t)c->idle_ms, on_idle, c);
	c->idle_timer = id > 0 ? id : 0;
	if (id < 0)
		log_warn("console", "no timer for the idle logout");
}

static int64_t on_unlock(struct ev_loop *loop, void *arg)
{
	struct con *c = arg;

	(void)loop; /* callback signature */
	c->lock_timer = 0;
	if (c->st == CON_LOCKED) {
		c->st = CON_LOGIN;
		prompt(c);
		flush(c);
	}
	return EV_STOP;
}

static void login_line(struct con *c, const char *pw)
{
	uint64_t delay;
	int id;

	if (con_hash_check(c->hash, pw) == 1) {
		c->failures = 0;
		c->st = CON_OPEN;
		log_info("console", "login");
		con_puts(c, "Welcome to vigil.  Type `help` for commands.\n");
		arm_idle(c);
		return;
	}
	c->failures++;
	delay = CON_LOGIN_DELAY_MS;
	for (unsigned i = 1; i < c->failures && delay < CON_LOGIN_DELAY_MAX_MS;
	     i++)
		delay *= 2;
	if (delay > CON_LOGIN_DELAY_MAX_MS)
		delay = CON_LOGIN_DELAY_MAX_MS;
	log_warn("console", "login failed (%u in a row)", c->failures);
	con_printf(c, "Login incorrect; wait %llu s.\n",
		   (unsigned long long)(delay / 1000));
	id = ev_timer_add(c->loop, (int64_t)delay, on_unlock, c);
	c->st = id > 0 ? CON_LOCKED : CON_LOGIN; /* no timer: no lock */
	c->lock_timer = id > 0 ? id : 0;
}

/* Clears a password copy; volatile so the stores are not optimized
 * away as dead (explicit_bzero is not C11). */
static void wipe(char *p, size_t n)
{
	volatile char *v = p;

	while (n--)
		*v++ = 0;
}

/* A finished line in the state the console is in. */
static void on_line(struct con *c, enum le_event ev)
{
	char line[LE_LINE_MAX];

	memcpy(line, le_line(&c->ed), sizeof line);
	if (ev == LE_EV_EOF && c->stdio && c->st == CON_OPEN) {
		c->quit = 1;
		return;
	}
	if (ev == LE_EV_TOOLONG)
		con_printf(c, "error: line longer than %d characters "
			   "ignored\n", LE_LINE_MAX - 1);
	if (ev != LE_EV_LINE)
		return;
	if (c->st == CON_LOGIN) {
		login_line(c, line);
		wipe(line, sizeof line);
		wipe(c->ed.line, sizeof c->ed.line);
		return;
	}
	c->commands++;
	con_cmd_run(c, line);
}

/* ---- the line ---- */

static void want_write(struct con *c, int on)
{
	if (c->fd < 0)
		return;
	if (c->wfd < 0) {
		(void)ev_mod(c->loop, c->fd, EV_READ | (on ? EV_WRITE : 0));
		return; /* ev_mod of our own registration cannot fail */
	}
	if (on && !c->wfd_on)
		c->wfd_on = ev_add(c->loop, c->wfd, EV_WRITE, on_io, c) == 0;
	else if (!on && c->wfd_on)
		c->wfd_on = ev_del(c->loop, c->wfd) != 0;
}

static void leave(struct con *c, const char *why)
{
	log_info("console", "%s: stopping vigild", why);
	flush(c);
	con_close(c);
	ev_stop(c->loop);
}

static void feed_input(struct con *c, const uint8_t *in, size_t n)
{
	size_t off = 0;

	while (off < n && c->fd >= 0 && !c->quit && c->st != CON_LOCKED) {
		enum le_event ev;

		off += le_feed(&c->ed, in + off, n - off, &ev);
		take_echo(c);
		if (ev == LE_EV_NONE)
			continue;
		on_line(c, ev);
		if (!c->quit && c->fd >= 0 && c->st != CON_LOCKED)
			prompt(c);
	}
	/* LOCKED: the rest is dropped; a login delay ignores typing */
}

static void on_io(struct ev_loop *loop, int fd, unsigned events, void *arg)
{
	struct con *c = arg;
	uint8_t in[CON_IN_CHUNK];
	int r;

	if (events & EV_WRITE)
		flush(c);
	if (fd != c->fd || !(events & (EV_READ | EV_ERROR)))
		return;
	r = hal_serial_read(&c->ser, in, sizeof in);
	if (r == -EAGAIN && !(events & EV_ERROR))
		return;
	if (r <= 0) {
		line_lost(c, r == 0 ? "end of input" : "line error");
		return;
	}
	c->last_input_ms = ev_now(loop);
	feed_input(c, in, (size_t)r);
	if (c->quit)
		leave(c, "exit");
	else
		flush(c);
}

static int attach_line(struct con *c)
{
	int ret = c->stdio ? hal_serial_attach(&c->ser, 0, 1)
			   : hal_serial_open(&c->ser, c->device, c->baud);

	if (ret < 0)
		return ret;
	c->fd = c->ser.in_fd;
	c->wfd = c->ser.out_fd != c->ser.in_fd ? c->ser.out_fd : -1;
	ret = ev_add(c->loop, c->fd, EV_READ, on_io, c);
	if (ret < 0) {
		hal_serial_close(&c->ser);
		c->fd = c->wfd = -1;
	}
	return ret;
}

/* Banner and first prompt of a new session on the line. */
static void session(struct con *c)
{
	c->st = c->hash[0] ? CON_LOGIN : CON_OPEN;
	c->last_input_ms = ev_now(c->loop);
	if (c->st == CON_LOGIN)
		con_puts(c, "vigil console: password required\n");
	else
		con_puts(c, "vigil console.  Type `help` for commands.\n");
	prompt(c);
	flush(c);
}

static int64_t on_reopen(struct ev_loop *loop, void *arg)
{
	struct con *c = arg;

	(void)loop; /* callback signature */
	if (attach_line(c) < 0)
		return CON_REOPEN_MS;
	c->reopen_timer = 0;
	log_info("console", "%s is back", c->device);
	session(c);
	return EV_STOP;
}

static void line_lost(struct con *c, const char *why)
{
	int id;

	if (c->stdio) {
		leave(c, why);
		return;
	}
	log_warn("console", "%s: %s; trying again every %d s", c->device, why,
		 CON_REOPEN_MS / 1000);
	con_close(c);
	id = ev_timer_add(c->loop, CON_REOPEN_MS, on_reopen, c);
	c->reopen_timer = id > 0 ? id : 0;
}

/* ---- API ---- */

static int hash_ok(const char *hash)
{
	return !hash || !hash[0] || (strlen(hash) < CON_HASH_MAX &&
				     con_hash_check(hash, "") >= 0);
}

/* see console.h */
int con_open(struct con *c, struct ev_loop *loop, const struct con_opts *o)
{
	int ret = -EIO;

	if (!c || !loop || !o || !hash_ok(o->password_hash) ||
	    (o->device && strlen(o->device) >= sizeof c->device))
		return -EINVAL;
	memset(c, 0, sizeof *c);
	c->fd = c->wfd = -1;
	c->loop = loop;
	c->stdio = o->device == NULL;
	c->crlf = c->stdio ? o->crlf : 1;
	if (o->device)
		memcpy(c->device, o->device, strlen(o->device) + 1);
	c->baud = o->baud;
	if (o->password_hash)
		memcpy(c->hash, o->password_hash, strlen(o->password_hash) + 1);
	c->idle_ms = o->idle_ms;
	c->start_ms = o->start_ms;
	c->env = o->env;
	le_init(&c->ed, con_cmd_complete, c);
	ret = attach_line(c);
	if (ret < 0)
		return ret;
	session(c);
	return 0;
}

/* see console.h */
void con_close(struct con *c)
{
	if (!c || !c->loop)
		return;
	cancel_timer(c, &c->lock_timer);
	cancel_timer(c, &c->idle_timer);
	cancel_timer(c, &c->reopen_timer);
	want_write(c, 0);
	if (c->fd >= 0) {
		(void)ev_del(c->loop, c->fd); /* ours: cannot be missing */
		hal_serial_close(&c->ser);
	}
	c->fd = c->wfd = -1;
	c->out_head = c->out_len = 0;
	c->st = CON_CLOSED;
}

/* see console.h */
int con_set_login(struct con *c, const char *password_hash,
		  uint64_t idle_ms)
{
	if (!c || !hash_ok(password_hash))
		return -EINVAL;
	snprintf(c->hash, sizeof c->hash, "%s",
		 password_hash ? password_hash : "");
	c->idle_ms = idle_ms;
	if (c->st == CON_OPEN)
		arm_idle(c);
	return 0;
}
