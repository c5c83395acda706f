/*
 * fuzz/cache-fuzz.c - libFuzzer harness for the answer checker of
 * miodnsd's cache (daemon/dns/cache.c): upstream answers are the one input of
 * the cache that comes from the network.
 *
 * The input is an answer without its question: its first 12 bytes are the
 * header, and the fixed question "www.example.test A IN" is put after them
 * so that mutations reach the records instead of dying on a question that
 * does not match. An input whose first byte is 0xff is taken whole, with
 * its own question, to reach that check too. Whatever is stored must be
 * served at once (and, if still alive, a minute later) with the client's
 * ID and question, no AA, TC or OPT, records up to its last byte, and
 * owner names that a client can decompress, the same ones both times:
 * counting TTLs down must not change a name.
 * The seeds in t/fuzz-corpus/cache are in this format.
 *
 *	make fuzz-cache FUZZ_SECONDS=300
 */
#include "config.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dns/cache.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const uint8_t fuzz_question[] = { 3, 'W', 'w', 'W', 7, 'e', 'x',
	'a', 'm', 'p', 'l', 'e', 4, 't', 'e', 's', 't', 0, 0, 1, 0, 1 };

static void
fuzz_check(bool condition)
{
	if (!condition)
		abort();
}

static size_t
fuzz_skip_name(const uint8_t *msg, size_t len, size_t pos)
{
	while (pos < len) {
		if ((msg[pos] & 0xc0) == 0xc0)
			return pos + 2 <= len ? pos + 2 : 0;
		if (msg[pos] == 0)
			return pos + 1;
		pos += 1 + (size_t)msg[pos];
	}
	return 0;
}

/*
 * Decompresses the name at pos as a client would (within the message, 255
 * octets, at most 128 pointers) into out; returns its length.
 */
static size_t
fuzz_decompress(const uint8_t *msg, size_t len, size_t pos, uint8_t *out)
{
	size_t n = 0;
	int hops = 0;

	for (;;) {
		fuzz_check(pos < len);
		if (msg[pos] >= 0xc0) {
			fuzz_check(pos + 1 < len && ++hops <= 128);
			pos = (size_t)(msg[pos] & 0x3f) << 8 | msg[pos + 1];
			continue;
		}
		fuzz_check(msg[pos] < 64 && pos + 1 + msg[pos] <= len);
		fuzz_check(n + 1 + msg[pos] <= 255);
		memcpy(out + n, msg + pos, 1 + (size_t)msg[pos]);
		n += 1 + (size_t)msg[pos];
		if (msg[pos] == 0)
			return n;
		pos += 1 + (size_t)msg[pos];
	}
}

/* The owner names of the first answer served, for the second. */
static uint8_t fuzz_owners[65536 * 4];
static size_t fuzz_owners_len;

/*
 * The served answer: our ID and question, records up to the last byte,
 * owners that decompress; with first set, the owners are remembered, else
 * compared with those remembered.
 */
static void
fuzz_check_served(const uint8_t *msg, size_t len, bool first)
{
	size_t pos = 12 + sizeof(fuzz_question), owners = 0;
	unsigned records = 0;
	uint8_t name[256];

	fuzz_check(len >= pos && msg[0] == 0xab && msg[1] == 0xcd);
	fuzz_check(memcmp(msg + 12, fuzz_question, sizeof(fuzz_question)) == 0);
	fuzz_check((msg[2] & 0x06) == 0);	/* neither AA nor TC */
	for (int i = 6; i < 12; i += 2)
		records += (unsigned)(msg[i] << 8 | msg[i + 1]);
	for (unsigned i = 0; i < records; i++) {
		size_t n = fuzz_decompress(msg, len, pos, name);
		fuzz_check(owners + n <= sizeof(fuzz_owners));
		if (first)
			memcpy(fuzz_owners + owners, name, n);
		else
			fuzz_check(memcmp(fuzz_owners + owners, name, n) == 0);
		owners += n;
		pos = fuzz_skip_name(msg, len, pos);
		fuzz_check(pos != 0 && pos + 10 <= len);
		fuzz_check((msg[pos] << 8 | msg[pos + 1]) != 41); /* no OPT */
		pos += 10 + ((size_t)msg[pos + 8] << 8 | msg[pos + 9]);
		fuzz_check(pos <= len);
	}
	fuzz_check(pos == len);
	if (first)
		fuzz_owners_len = owners;
	else
		fuzz_check(owners == fuzz_owners_len);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct cache *cache;
	static uint8_t answer[65536 + 64], out[65536];
	struct cache_client client = { 0xabcd, fuzz_question,
		sizeof(fuzz_question) };
	struct cache_key key;
	size_t len, outlen;

	if (cache == NULL) {
		struct cache_config conf;
		cache_config_defaults(&conf);
		conf.max_entries = 4;
		if (cache_new(&cache, &conf) != 0)
			abort();
	}
	if (size > 65535)
		return 0;
	if (size > 0 && data[0] == 0xff) {
		memcpy(answer, data + 1, size - 1);
		len = size - 1;
	} else {
		memset(answer, 0, 12);
		memcpy(answer, data, size < 12 ? size : 12);
		memcpy(answer + 12, fuzz_question, sizeof(fuzz_question));
		len = 12 + sizeof(fuzz_question);
		if (size > 12) {
			memcpy(answer + len, data + 12, size - 12);
			len += size - 12;
		}
	}
	fuzz_check(cache_key_init(&key, cache, fuzz_question,
	    sizeof(fuzz_question) - 4, 1, 1, 0) == 0);
	if (cache_insert(cache, &key, 1000, answer, len) != CACHE_INSERT_STORED)
		return 0;
	fuzz_check(cache_lookup(cache, &key, 1000, &client, out, sizeof(out),
	    &outlen));
	fuzz_check(outlen <= len);
	fuzz_check_served(out, outlen, true);
	if (cache_lookup(cache, &key, 1060, &client, out, sizeof(out),
	    &outlen))
		fuzz_check_served(out, outlen, false);
	cache_flush(cache);
	return 0;
}
