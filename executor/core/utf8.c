#include "utf8.h"
#include "util.h"

#include <string.h>

size_t
utf8_seq_len(const unsigned char *s, size_t avail)
{
	unsigned char c = s[0], lo = 0x80, hi = 0xbf;
	size_t need;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		need = 2;
	else if (c >= 0xe0 && c <= 0xef)
		need = 3;
	else if (c >= 0xf0 && c <= 0xf4)
		need = 4;
	else
		return 0;
	if (c == 0xe0)
		lo = 0xa0; /* overlong */
	else if (c == 0xed)
		hi = 0x9f; /* surrogates */
	else if (c == 0xf0)
		lo = 0x90; /* overlong */
	else if (c == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (avail < need || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < need; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	return need;
}

size_t
utf8_decode(const char *s, uint32_t *ret_cp)
{
	const unsigned char *p = (const unsigned char *)s;
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};

	if (!*s) {
		*ret_cp = 0;
		return 1;
	}
	size_t n = utf8_seq_len(p, strnlen(s, 4));
	if (n == 0)
		return 0;
	uint32_t cp = p[0] & lead_mask[n];
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	*ret_cp = cp;
	return n;
}

int
utf8_valid(const char *s, size_t n, size_t *ret_bad)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t k;

	for (size_t i = 0; i < n; i += k) {
		if ((k = utf8_seq_len(u + i, n - i)) == 0) {
			if (ret_bad)
				*ret_bad = i;
			return 0;
		}
	}
	return 1;
}

const char *
utf8_clean(const char *s, char **ret_copy)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), bad, o = 0;

	*ret_copy = NULL;
	if (utf8_valid(s, n, &bad))
		return s;
	/* At most every byte becomes the 3 bytes of U+FFFD. */
	char *out = xmalloc(3 * n + 1);
	memcpy(out, s, bad);
	o = bad;
	for (size_t i = bad, k; i < n; i += k) {
		k = utf8_seq_len(u + i, n - i);
		if (k == 0) {
			memcpy(out + o, "\xef\xbf\xbd", 3);
			o += 3;
			k = 1;
		} else {
			memcpy(out + o, u + i, k);
			o += k;
		}
	}
	out[o] = '\0';
	*ret_copy = out;
	return out;
}

void
utf8_trim_partial(char *s)
{
	size_t n = strlen(s), i = n;

	/* Back to the start of the last sequence (at most 3 continuation bytes). */
	while (i > 0 && n - i < 4 && ((unsigned char)s[i - 1] & 0xc0) == 0x80)
		i--;
	if (i == 0)
		return;
	i--;
	if ((unsigned char)s[i] >= 0xc0 && utf8_seq_len((const unsigned char *)s + i, n - i) == 0)
		s[i] = '\0';
}
