/*
 * codec.c - the binary-to-text encodings of presentation format: base64
 * (RFC 4648 section 4, DNSKEY, RRSIG, CERT...), base32hex without padding
 * (RFC 4648 section 7, NSEC3's next owner), hexadecimal, and the RRSIG
 * times (RFC 4034 section 3.2: YYYYMMDDHHMMSS in UTC, or seconds).
 *
 * Decoders are strict so that text output round-trips: base64 must be
 * padded to a multiple of four with zero pad bits, base32hex must leave
 * no non-zero bits over. Nothing here knows about zone files; every
 * function is pure and thread-safe.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "internal.h"

static const char codec_base64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
static const char codec_base32hex[] = "0123456789abcdefghijklmnopqrstuv";

int
zone_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)zone_lower((uint8_t)c);
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

static int
codec_base64_value(char c)
{
	const char *at = c == '\0' ? NULL : strchr(codec_base64, c);

	return at == NULL ? -1 : (int)(at - codec_base64);
}

/*
 * Decodes one group of four base64 characters into out; returns the
 * number of octets (1 to 3), or -EINVAL. Padding may only end a group,
 * and the bits it leaves over must be zero.
 */
static int
codec_base64_group(const char *in, uint8_t *out)
{
	int v[4], pad = 0;

	for (int i = 0; i < 4; i++) {
		v[i] = in[i] == '=' ? 0 : codec_base64_value(in[i]);
		if (in[i] == '=')
			pad++;
		else if (v[i] < 0 || pad > 0)
			return -EINVAL;
	}
	if (pad > 2 || (pad == 2 && (v[1] & 0x0f) != 0) ||
	    (pad == 1 && (v[2] & 0x03) != 0))
		return -EINVAL;
	out[0] = (uint8_t)(v[0] << 2 | v[1] >> 4);
	out[1] = (uint8_t)(v[1] << 4 | v[2] >> 2);
	out[2] = (uint8_t)(v[2] << 6 | v[3]);
	return 3 - pad;
}

int
zone_base64_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
	size_t n = 0;

	if (len % 4 != 0)
		return -EINVAL;
	for (size_t i = 0; i < len; i += 4) {
		uint8_t group[3];
		int got = codec_base64_group(in + i, group);

		if (got < 0 || (got < 3 && i + 4 < len))
			return -EINVAL;
		if (n + (size_t)got > max)
			return -ENOSPC;
		memcpy(out + n, group, (size_t)got);
		n += (size_t)got;
	}
	return (int)n;
}

size_t
zone_base64_encode(const uint8_t *in, size_t len, char *out)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)in[i + 1] << 8;
		if (left > 2)
			v |= in[i + 2];
		out[n++] = codec_base64[v >> 18 & 63];
		out[n++] = codec_base64[v >> 12 & 63];
		out[n++] = left > 1 ? codec_base64[v >> 6 & 63] : '=';
		out[n++] = left > 2 ? codec_base64[v & 63] : '=';
	}
	return n;
}

int
zone_base32hex_decode(const char *in, size_t len, uint8_t *out, size_t max)
{
	uint32_t bits = 0, value = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		char c = (char)zone_lower((uint8_t)in[i]);
		const char *at = c == '\0' ? NULL : strchr(codec_base32hex, c);

		if (at == NULL)
			return -EINVAL;
		value = (value << 5 | (uint32_t)(at - codec_base32hex)) & 0xfff;
		bits += 5;
		if (bits >= 8) {
			if (n == max)
				return -ENOSPC;
			out[n++] = (uint8_t)(value >> (bits - 8));
			bits -= 8;
		}
	}
	/* What is left must be fewer than 5 zero bits: a whole encoding. */
	if (bits >= 5 || (value & ((1u << bits) - 1)) != 0)
		return -EINVAL;
	return (int)n;
}

size_t
zone_base32hex_encode(const uint8_t *in, size_t len, char *out)
{
	uint32_t value = 0, bits = 0;
	size_t n = 0;

	for (size_t i = 0; i < len; i++) {
		value = (value << 8 | in[i]) & 0xfff;
		bits += 8;
		while (bits >= 5) {
			out[n++] = codec_base32hex[value >> (bits - 5) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		out[n++] = codec_base32hex[value << (5 - bits) & 31];
	return n;
}

/* Days since 1970-01-01 of a civil date (proleptic Gregorian). */
static int64_t
codec_days_from_civil(int64_t y, unsigned month, unsigned d)
{
	int64_t era;
	unsigned yoe, doy, doe;

	y -= month <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = (unsigned)(y - era * 400);
	doy = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + (int64_t)doe - 719468;
}

static unsigned
codec_digits(const char *t, size_t n)
{
	unsigned v = 0;

	for (size_t i = 0; i < n; i++)
		v = v * 10 + (unsigned)(t[i] - '0');
	return v;
}

/*
 * RFC 4034 section 3.2: YYYYMMDDHHMMSS, a UTC time, stored as seconds
 * since 1970 modulo 2^32 (serial number arithmetic; the text form covers
 * 1970 to 2106). Returns 0 or -EINVAL.
 */
int
zone_time_parse(const char *t, size_t len, uint32_t *out)
{
	static const unsigned mdays[] = {
	    31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
	unsigned y, mo, d, h, mi, s;
	int64_t secs;

	if (len != 14)
		return -EINVAL;
	for (size_t i = 0; i < len; i++)
		if (t[i] < '0' || t[i] > '9')
			return -EINVAL;
	y = codec_digits(t, 4);
	mo = codec_digits(t + 4, 2);
	d = codec_digits(t + 6, 2);
	h = codec_digits(t + 8, 2);
	mi = codec_digits(t + 10, 2);
	s = codec_digits(t + 12, 2);
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] ||
	    h > 23 || mi > 59 || s > 59)
		return -EINVAL;
	if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0)))
		return -EINVAL;
	secs = codec_days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s;
	if (secs > (int64_t)UINT32_MAX)
		return -EINVAL;
	*out = (uint32_t)secs;
	return 0;
}

/* Writes t (seconds since 1970) as YYYYMMDDHHMMSS and a NUL into out[15]. */
void
zone_time_format(uint32_t t, char *out)
{
	int64_t z = t / 86400 + 719468, era = z / 146097;
	unsigned doe = (unsigned)(z - era * 146097);
	unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	unsigned mp = (5 * doy + 2) / 153, d = doy - (153 * mp + 2) / 5 + 1;
	unsigned month = mp < 10 ? mp + 3 : mp - 9;
	int64_t y = (int64_t)yoe + era * 400 + (month <= 2);
	unsigned rest = t % 86400;
	unsigned parts[6] = {(unsigned)y, month, d, rest / 3600, rest / 60 % 60,
	    rest % 60};
	size_t n = 0;

	for (int i = 0; i < 6; i++)
		for (int w = i == 0 ? 4 : 2; w > 0; w--) {
			unsigned div = w == 4 ? 1000 : w == 3 ? 100 : w == 2 ? 10 : 1;

			out[n++] = (char)('0' + parts[i] / div % 10);
		}
	out[n] = '\0';
}

/* ---- text output --------------------------------------------------------- */

void
zone_out_put(struct zone_out *o, const void *data, size_t n)
{
	if (o->overflow || n >= o->size - o->len) {
		o->overflow = true;
		return;
	}
	memcpy(o->buf + o->len, data, n);
	o->len += n;
	o->buf[o->len] = '\0';
}

void
zone_out_printf(struct zone_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

/*
 * Octets as the inside of a quoted <character-string>: printable ASCII as
 * it is, except '"' and '\' with a backslash, and the rest as \DDD.
 */
void
zone_out_escaped(struct zone_out *o, const uint8_t *data, size_t n)
{
	for (size_t i = 0; i < n && !o->overflow; i++) {
		uint8_t c = data[i];

		if (c == '"' || c == '\\')
			zone_out_printf(o, "\\%c", c);
		else if (c < 0x20 || c > 0x7e)
			zone_out_printf(o, "\\%03u", c);
		else
			zone_out_put(o, &c, 1);
	}
}

void
zone_out_hex(struct zone_out *o, const uint8_t *data, size_t n)
{
	static const char digits[] = "0123456789ABCDEF";

	for (size_t i = 0; i < n && !o->overflow; i++) {
		char pair[2] = {digits[data[i] >> 4], digits[data[i] & 15]};

		zone_out_put(o, pair, 2);
	}
}

void
zone_out_base64(struct zone_out *o, const uint8_t *data, size_t n)
{
	char chunk[4 * 48 / 3 + 4];

	for (size_t i = 0; i < n && !o->overflow; i += 48) {
		size_t part = n - i < 48 ? n - i : 48;

		zone_out_put(o, chunk, zone_base64_encode(data + i, part, chunk));
	}
}
