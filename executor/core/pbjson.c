/*
 * protobuf-c <-> Mesos JSON, driven by descriptors. See pbjson.h for the
 * mapping.
 *
 * Printing walks the message struct through its descriptor and builds a cJSON
 * tree. Parsing does not use cJSON: a small recursive-descent JSON reader
 * walks the text together with the descriptor and writes protobuf wire bytes
 * into a buffer, which protobuf_c_message_unpack() then turns into a message,
 * so allocation and freeing are protobuf-c's own. Reading the text directly
 * keeps integers exact (cJSON would round 64-bit numbers through a double),
 * sees \u0000 inside strings and duplicate keys, and lets required fields be
 * checked, and named, per object before unpacking.
 */
#include "pbjson.h"
#include "utf8.h"

#include <errno.h>
#include <float.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --- allocation ----------------------------------------------------------- */

static void
pbjson_oom(void)
{
	fputs("spex: pbjson: out of memory\n", stderr);
	abort();
}

static void *
pbjson_xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (!q)
		pbjson_oom();
	return q;
}

static void *
pbjson_xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (!p)
		pbjson_oom();
	return p;
}

static cJSON *
pbjson_chk(cJSON *item)
{
	if (!item)
		pbjson_oom();
	return item;
}

/* --- growable byte buffer --------------------------------------------------- */

struct pbjson_buf {
	uint8_t *data;
	size_t len;
	size_t cap;
};

static void
pbjson_buf_reserve(struct pbjson_buf *b, size_t extra)
{
	size_t need, cap;

	if (extra > SIZE_MAX - b->len - 1)
		pbjson_oom();
	need = b->len + extra;
	if (need <= b->cap)
		return;
	cap = b->cap ? b->cap : 64;
	while (cap < need)
		cap = cap > SIZE_MAX / 2 ? need : cap * 2;
	b->data = pbjson_xrealloc(b->data, cap);
	b->cap = cap;
}

static void
pbjson_buf_put(struct pbjson_buf *b, const void *p, size_t n)
{
	if (n == 0)
		return;
	pbjson_buf_reserve(b, n);
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void
pbjson_buf_putc(struct pbjson_buf *b, uint8_t c)
{
	pbjson_buf_reserve(b, 1);
	b->data[b->len++] = c;
}

/* NUL after the contents, not counted in len. */
static void
pbjson_buf_terminate(struct pbjson_buf *b)
{
	pbjson_buf_reserve(b, 1);
	b->data[b->len] = 0;
}

static void
pbjson_buf_free(struct pbjson_buf *b)
{
	free(b->data);
	b->data = NULL;
	b->len = b->cap = 0;
}

/* --- wire format ------------------------------------------------------------ */

enum {
	PBJSON_WT_VARINT = 0,
	PBJSON_WT_FIXED64 = 1,
	PBJSON_WT_LEN = 2,
	PBJSON_WT_FIXED32 = 5,
};

static void
pbjson_put_varint(struct pbjson_buf *b, uint64_t v)
{
	uint8_t tmp[10];
	size_t n = 0;

	while (v >= 0x80) {
		tmp[n++] = (uint8_t)(v | 0x80);
		v >>= 7;
	}
	tmp[n++] = (uint8_t)v;
	pbjson_buf_put(b, tmp, n);
}

static void
pbjson_put_tag(struct pbjson_buf *b, uint32_t id, unsigned wt)
{
	pbjson_put_varint(b, ((uint64_t)id << 3) | wt);
}

static void
pbjson_put_fixed32(struct pbjson_buf *b, uint32_t v)
{
	uint8_t tmp[4];

	for (int i = 0; i < 4; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	pbjson_buf_put(b, tmp, 4);
}

static void
pbjson_put_fixed64(struct pbjson_buf *b, uint64_t v)
{
	uint8_t tmp[8];

	for (int i = 0; i < 8; i++)
		tmp[i] = (uint8_t)(v >> (8 * i));
	pbjson_buf_put(b, tmp, 8);
}

static void
pbjson_put_len_field(struct pbjson_buf *b, uint32_t id, const void *p, size_t n)
{
	pbjson_put_tag(b, id, PBJSON_WT_LEN);
	pbjson_put_varint(b, n);
	pbjson_buf_put(b, p, n);
}

/* --- base64 ----------------------------------------------------------------- */

static const char pbjson_b64_alphabet[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

static char *
pbjson_b64_encode(const uint8_t *p, size_t n)
{
	size_t olen, i, o = 0;
	char *out;

	if (n > (SIZE_MAX - 1) / 4 * 3 - 3)
		pbjson_oom();
	olen = (n + 2) / 3 * 4;
	out = pbjson_xrealloc(NULL, olen + 1);
	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		out[o++] = pbjson_b64_alphabet[v >> 18 & 63];
		out[o++] = pbjson_b64_alphabet[v >> 12 & 63];
		out[o++] = pbjson_b64_alphabet[v >> 6 & 63];
		out[o++] = pbjson_b64_alphabet[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)p[i + 1] << 8;
		out[o++] = pbjson_b64_alphabet[v >> 18 & 63];
		out[o++] = pbjson_b64_alphabet[v >> 12 & 63];
		out[o++] = i + 1 < n ? pbjson_b64_alphabet[v >> 6 & 63] : '=';
		out[o++] = '=';
	}
	out[o] = 0;
	return out;
}

static int
pbjson_b64_value(uint8_t c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+' || c == '-')
		return 62;
	if (c == '/' || c == '_')
		return 63;
	return -1;
}

/* Decode s[0..n) and append to out. Accepts the standard and the URL-safe
 * alphabet, with or without padding. Returns 0, or -1 if s is not base64. */
static int
pbjson_b64_decode(const uint8_t *s, size_t n, struct pbjson_buf *out)
{
	size_t pad = 0, i;
	uint32_t acc = 0;
	int bits = 0;

	while (n > 0 && s[n - 1] == '=' && pad < 2) {
		n--;
		pad++;
	}
	if (pad && (n + pad) % 4 != 0)
		return -1;
	if (n % 4 == 1)
		return -1;
	pbjson_buf_reserve(out, n / 4 * 3 + 2);
	for (i = 0; i < n; i++) {
		int v = pbjson_b64_value(s[i]);
		if (v < 0)
			return -1;
		acc = (acc << 6 | (uint32_t)v) & 0xffffff;
		bits += 6;
		if (bits >= 8) {
			bits -= 8;
			out->data[out->len++] = (uint8_t)(acc >> bits);
		}
	}
	return 0;
}

/* --- descriptor helpers ---------------------------------------------------- */

/* protoc gives a map<K, V> field "foo_bar" a nested message type
 * "<Parent>.FooBarEntry" with key = 1 and value = 2; protobuf-c keeps no
 * map_entry flag, so recognise that shape. */
static int
pbjson_is_map(const ProtobufCMessageDescriptor *parent, const ProtobufCFieldDescriptor *f)
{
	const ProtobufCMessageDescriptor *e;
	const char *n, *s;
	size_t plen;
	int cap = 1;

	if (f->label != PROTOBUF_C_LABEL_REPEATED || f->type != PROTOBUF_C_TYPE_MESSAGE)
		return 0;
	e = f->descriptor;
	if (!e || e->n_fields != 2 || e->fields[0].id != 1 || e->fields[1].id != 2 ||
	    strcmp(e->fields[0].name, "key") != 0 || strcmp(e->fields[1].name, "value") != 0 ||
	    e->fields[0].label == PROTOBUF_C_LABEL_REPEATED ||
	    e->fields[1].label == PROTOBUF_C_LABEL_REPEATED)
		return 0;
	plen = strlen(parent->name);
	if (strncmp(e->name, parent->name, plen) != 0 || e->name[plen] != '.')
		return 0;
	n = e->name + plen + 1;
	for (s = f->name; *s; s++) {
		if (*s == '_') {
			cap = 1;
			continue;
		}
		if (*n++ != (cap && *s >= 'a' && *s <= 'z' ? *s - 'a' + 'A' : *s))
			return 0;
		cap = 0;
	}
	return strcmp(n, "Entry") == 0;
}

static size_t
pbjson_elem_size(ProtobufCType t)
{
	switch (t) {
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
	case PROTOBUF_C_TYPE_DOUBLE:
		return 8;
	case PROTOBUF_C_TYPE_BOOL:
		return sizeof(protobuf_c_boolean);
	case PROTOBUF_C_TYPE_STRING:
		return sizeof(char *);
	case PROTOBUF_C_TYPE_BYTES:
		return sizeof(ProtobufCBinaryData);
	case PROTOBUF_C_TYPE_MESSAGE:
		return sizeof(ProtobufCMessage *);
	default:
		return 4;
	}
}

/* Whether field f of m is to be printed (see pbjson.h). */
static int
pbjson_field_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *member = base + f->offset;

	if (f->label == PROTOBUF_C_LABEL_REPEATED)
		return *(const size_t *)(const void *)(base + f->quantifier_offset) > 0;
	if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
		return *(const uint32_t *)(const void *)(base + f->quantifier_offset) == f->id;
	if (f->type == PROTOBUF_C_TYPE_MESSAGE)
		return *(const void *const *)member != NULL;
	if (f->label == PROTOBUF_C_LABEL_REQUIRED)
		return 1;
	if (f->type == PROTOBUF_C_TYPE_STRING) {
		const char *s = *(const char *const *)member;
		if (s == NULL || (const void *)s == f->default_value)
			return 0;
		return f->label == PROTOBUF_C_LABEL_OPTIONAL || s[0] != 0;
	}
	if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
		return *(const protobuf_c_boolean *)(const void *)(base + f->quantifier_offset) !=
		       0;
	/* proto3 (LABEL_NONE): present when not zero. */
	if (f->type == PROTOBUF_C_TYPE_BYTES)
		return ((const ProtobufCBinaryData *)member)->len > 0;
	{
		static const uint8_t zero[8];
		return memcmp(member, zero, pbjson_elem_size(f->type)) != 0;
	}
}

/* --- printing --------------------------------------------------------------- */

static cJSON *pbjson_encode_message(const ProtobufCMessage *m);

static cJSON *
pbjson_raw_int(int neg, uint64_t mag)
{
	char tmp[32];

	snprintf(tmp, sizeof(tmp), "%s%" PRIu64, neg ? "-" : "", mag);
	return pbjson_chk(cJSON_CreateRaw(tmp));
}

/* d (within float range after rounding, or not finite) as a float: values a
 * little above FLT_MAX round to it, where (float)d would be undefined. */
static float
pbjson_to_float(double d)
{
	if (isfinite(d) && fabs(d) > FLT_MAX)
		return d > 0 ? FLT_MAX : -FLT_MAX;
	return (float)d;
}

/* A float or double as the shortest decimal that parses back (through
 * strtod, then to float for a float field, as pbjson_parse does) to the same
 * value: a raw item, since cJSON's own printing may drop digits. */
static cJSON *
pbjson_encode_double(double d, int is_float)
{
	char tmp[40];

	if (isnan(d))
		return pbjson_chk(cJSON_CreateString("NaN"));
	if (isinf(d))
		return pbjson_chk(cJSON_CreateString(d > 0 ? "Infinity" : "-Infinity"));
	for (int prec = is_float ? 6 : 15; prec <= 17; prec++) {
		double back;

		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		back = strtod(tmp, NULL);
		if (is_float ? pbjson_to_float(back) == (float)d : back == d)
			break;
	}
	return pbjson_chk(cJSON_CreateRaw(tmp));
}
/* One value of field f stored at member (an element, for repeated fields). */
static cJSON *
pbjson_encode_value(const ProtobufCFieldDescriptor *f, const void *member)
{
	switch (f->type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
		return pbjson_chk(cJSON_CreateNumber(*(const int32_t *)member));
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		return pbjson_chk(cJSON_CreateNumber(*(const uint32_t *)member));
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64: {
		int64_t v = *(const int64_t *)member;
		return pbjson_raw_int(v < 0, v < 0 ? 0 - (uint64_t)v : (uint64_t)v);
	}
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		return pbjson_raw_int(0, *(const uint64_t *)member);
	case PROTOBUF_C_TYPE_FLOAT:
		return pbjson_encode_double(*(const float *)member, 1);
	case PROTOBUF_C_TYPE_DOUBLE:
		return pbjson_encode_double(*(const double *)member, 0);
	case PROTOBUF_C_TYPE_BOOL:
		return pbjson_chk(cJSON_CreateBool(*(const protobuf_c_boolean *)member != 0));
	case PROTOBUF_C_TYPE_ENUM: {
		int32_t v = *(const int32_t *)member;
		const ProtobufCEnumValue *ev =
		    protobuf_c_enum_descriptor_get_value(f->descriptor, v);
		if (ev)
			return pbjson_chk(cJSON_CreateString(ev->name));
		return pbjson_chk(cJSON_CreateNumber(v));
	}
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)member;
		char *copy;
		cJSON *item = pbjson_chk(cJSON_CreateString(utf8_clean(s ? s : "", &copy)));
		free(copy);
		return item;
	}
	case PROTOBUF_C_TYPE_BYTES: {
		const ProtobufCBinaryData *bd = member;
		char *s = pbjson_b64_encode(bd->data, bd->data ? bd->len : 0);
		cJSON *item = pbjson_chk(cJSON_CreateString(s));
		free(s);
		return item;
	}
	case PROTOBUF_C_TYPE_MESSAGE:
		return pbjson_encode_message(*(const ProtobufCMessage *const *)member);
	}
	return pbjson_chk(cJSON_CreateNull());
}

/* A map key as JSON object key text, into tmp (or a pointer to the string). */
static const char *
pbjson_map_key(const ProtobufCMessage *entry, char *tmp, size_t tmplen)
{
	const ProtobufCFieldDescriptor *kf = &entry->descriptor->fields[0];
	const void *member = (const char *)entry + kf->offset;

	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING: {
		const char *s = *(const char *const *)member;
		return s ? s : "";
	}
	case PROTOBUF_C_TYPE_BOOL:
		return *(const protobuf_c_boolean *)member ? "true" : "false";
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		snprintf(tmp, tmplen, "%" PRId32, *(const int32_t *)member);
		return tmp;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		snprintf(tmp, tmplen, "%" PRIu32, *(const uint32_t *)member);
		return tmp;
	case PROTOBUF_C_TYPE_INT64:
	case PROTOBUF_C_TYPE_SINT64:
	case PROTOBUF_C_TYPE_SFIXED64:
		snprintf(tmp, tmplen, "%" PRId64, *(const int64_t *)member);
		return tmp;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		snprintf(tmp, tmplen, "%" PRIu64, *(const uint64_t *)member);
		return tmp;
	default:
		/* Not a legal map key type; print something stable. */
		return "";
	}
}

static cJSON *
pbjson_encode_field(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
	const char *base = (const char *)m;
	const void *member = base + f->offset;
	cJSON *arr;
	size_t n, i, sz;

	if (f->label != PROTOBUF_C_LABEL_REPEATED)
		return pbjson_encode_value(f, member);

	n = *(const size_t *)(const void *)(base + f->quantifier_offset);
	if (pbjson_is_map(m->descriptor, f)) {
		ProtobufCMessage *const *entries = *(ProtobufCMessage *const *const *)member;
		cJSON *obj = pbjson_chk(cJSON_CreateObject());
		for (i = 0; i < n; i++) {
			const ProtobufCMessage *e = entries[i];
			const ProtobufCFieldDescriptor *vf;
			char tmp[32], *copy;
			const char *key;
			cJSON *val;

			if (!e)
				continue;
			vf = &e->descriptor->fields[1];
			key = utf8_clean(pbjson_map_key(e, tmp, sizeof(tmp)), &copy);
			val = pbjson_encode_value(vf, (const char *)e + vf->offset);
			if (!cJSON_AddItemToObject(obj, key, val))
				pbjson_oom();
			free(copy);
		}
		return obj;
	}

	arr = pbjson_chk(cJSON_CreateArray());
	sz = pbjson_elem_size(f->type);
	for (i = 0; i < n; i++) {
		const char *elems = *(const char *const *)member;
		if (!cJSON_AddItemToArray(arr, pbjson_encode_value(f, elems + i * sz)))
			pbjson_oom();
	}
	return arr;
}

/* A NULL message (an unset map value) prints as an empty object. */
static cJSON *
pbjson_encode_message(const ProtobufCMessage *m)
{
	cJSON *obj = pbjson_chk(cJSON_CreateObject());
	const ProtobufCMessageDescriptor *d;

	if (!m)
		return obj;
	d = m->descriptor;
	for (unsigned i = 0; i < d->n_fields; i++) {
		const ProtobufCFieldDescriptor *f = &d->fields[i];
		if (!pbjson_field_present(m, f))
			continue;
		if (!cJSON_AddItemToObject(obj, f->name, pbjson_encode_field(m, f)))
			pbjson_oom();
	}
	return obj;
}

cJSON *
pbjson_encode(const ProtobufCMessage *msg)
{
	return pbjson_encode_message(msg);
}

char *
pbjson_print(const ProtobufCMessage *msg, size_t *ret_len)
{
	cJSON *root = pbjson_encode(msg);
	char *s = cJSON_PrintUnformatted(root);
	size_t n;
	char *out;

	cJSON_Delete(root);
	if (!s)
		pbjson_oom();
	/* Copy so the caller frees with free() whatever cJSON hooks are set. */
	n = strlen(s);
	out = pbjson_xrealloc(NULL, n + 1);
	memcpy(out, s, n + 1);
	cJSON_free(s);
	if (ret_len)
		*ret_len = n;
	return out;
}

/* --- parsing ---------------------------------------------------------------- */

struct pbjson_parser {
	const char *start;
	const char *cur;
	const char *end;
	int depth;
	char *err;
	size_t errlen;
	char path[256];
	size_t pathlen;
	struct pbjson_buf key;     /* the object key being looked at */
	struct pbjson_buf scratch; /* decoded string values, number text */
	int has_nul;               /* the last string decoded held \u0000 */
};

static void pbjson_vfail(struct pbjson_parser *p, const char *fmt, va_list ap)
    __attribute__((format(printf, 2, 0)));

static void
pbjson_vfail(struct pbjson_parser *p, const char *fmt, va_list ap)
{
	if (p->errlen == 0 || p->err[0] != 0)
		return; /* keep the first (innermost) reason */
	vsnprintf(p->err, p->errlen, fmt, ap);
}

static int pbjson_fail(struct pbjson_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Always returns -1. */
static int
pbjson_fail(struct pbjson_parser *p, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pbjson_vfail(p, fmt, ap);
	va_end(ap);
	return -1;
}

static int pbjson_fail_field(struct pbjson_parser *p, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* "field '<path>': <reason>". Always returns -1. */
static int
pbjson_fail_field(struct pbjson_parser *p, const char *fmt, ...)
{
	char reason[128];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, sizeof(reason), fmt, ap);
	va_end(ap);
	return pbjson_fail(p, "field '%s': %s", p->path, reason);
}

/* "invalid JSON at offset N: <what>". Always returns -1. */
static int
pbjson_fail_syntax(struct pbjson_parser *p, const char *what)
{
	if (p->cur >= p->end)
		return pbjson_fail(p, "invalid JSON: unexpected end of input (%s)", what);
	return pbjson_fail(p, "invalid JSON at offset %zu: %s", (size_t)(p->cur - p->start), what);
}

/* Append n bytes to the field path (truncated, never overflowing, when very
 * long); returns the old length for pbjson_path_pop. */
static size_t
pbjson_path_append(struct pbjson_parser *p, const char *s, size_t n)
{
	size_t old = p->pathlen, room = sizeof(p->path) - 1 - old;

	if (n > room)
		n = room;
	memcpy(p->path + old, s, n);
	p->pathlen = old + n;
	p->path[p->pathlen] = 0;
	return old;
}

static void
pbjson_path_pop(struct pbjson_parser *p, size_t old)
{
	p->pathlen = old;
	p->path[old] = 0;
}

/* ".name" (or "name" at the root). */
static size_t
pbjson_path_push_field(struct pbjson_parser *p, const char *name)
{
	size_t old = p->pathlen;

	if (old)
		pbjson_path_append(p, ".", 1);
	pbjson_path_append(p, name, strlen(name));
	return old;
}

/* "[i]" for an array element (no printf: this runs for every element). */
static size_t
pbjson_path_push_index(struct pbjson_parser *p, size_t i)
{
	char tmp[24];
	size_t o = sizeof(tmp);

	tmp[--o] = ']';
	do {
		tmp[--o] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	tmp[--o] = '[';
	return pbjson_path_append(p, tmp + o, sizeof(tmp) - o);
}

/* "[key]" for a map entry: printable ASCII only, at most 32 bytes. */
static size_t
pbjson_path_push_key(struct pbjson_parser *p, const uint8_t *key, size_t n)
{
	char tmp[40];
	size_t i, o = 0;

	tmp[o++] = '[';
	for (i = 0; i < n && o < 33; i++)
		tmp[o++] = key[i] >= 0x20 && key[i] < 0x7f && key[i] != '\'' ? (char)key[i] : '?';
	if (i < n) {
		memcpy(tmp + o, "...", 3);
		o += 3;
	}
	tmp[o++] = ']';
	return pbjson_path_append(p, tmp, o);
}

static void
pbjson_skip_ws(struct pbjson_parser *p)
{
	while (p->cur < p->end &&
	       (*p->cur == ' ' || *p->cur == '\t' || *p->cur == '\n' || *p->cur == '\r'))
		p->cur++;
}

/* The next byte, or 0 at the end (the input holds no NUL bytes). */
static char
pbjson_peek(struct pbjson_parser *p)
{
	return p->cur < p->end ? *p->cur : 0;
}

static int
pbjson_expect(struct pbjson_parser *p, char c, const char *what)
{
	pbjson_skip_ws(p);
	if (pbjson_peek(p) != c)
		return pbjson_fail_syntax(p, what);
	p->cur++;
	pbjson_skip_ws(p);
	return 0;
}

/* Length of the JSON number at s[0..n), 0 if there is none:
 * -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static size_t
pbjson_lex_number(const char *s, size_t n)
{
	size_t i = 0, j;

	if (i < n && s[i] == '-')
		i++;
	if (i >= n)
		return 0;
	if (s[i] == '0')
		i++;
	else if (s[i] >= '1' && s[i] <= '9')
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
	else
		return 0;
	if (i < n && s[i] == '.') {
		j = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j)
			return 0;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		j = i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == j)
			return 0;
	}
	return i;
}

enum {
	PBJSON_INT_OK = 0,
	PBJSON_INT_FRACTION = -1,
	PBJSON_INT_RANGE = -2,
};

/* The exact integer value of a JSON number s[0..n) (validated by
 * pbjson_lex_number) as sign and magnitude. 1e3 and 5.0 are integers. */
static int
pbjson_number_to_int(const char *s, size_t n, int *neg, uint64_t *mag)
{
	size_t i = 0, ibeg, iend, fbeg = 0, fend = 0, ndig, first, last, k;
	long long exp = 0;

	*neg = 0;
	*mag = 0;
	if (s[i] == '-') {
		*neg = 1;
		i++;
	}
	ibeg = i;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++;
	iend = i;
	if (i < n && s[i] == '.') {
		fbeg = ++i;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++;
		fend = i;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		int eneg = 0;
		i++;
		if (s[i] == '+' || s[i] == '-')
			eneg = s[i++] == '-';
		for (; i < n; i++)
			if (exp < 1000000000LL)
				exp = exp * 10 + (s[i] - '0');
		if (eneg)
			exp = -exp;
	}

	/* Digits d[0..ndig) = integer digits then fraction digits; the value is
	 * d * 10^(exp - fraction digits). */
	ndig = (iend - ibeg) + (fend - fbeg);
#define PBJSON_DIGIT(k) ((k) < iend - ibeg ? s[ibeg + (k)] : s[fbeg + (k) - (iend - ibeg)])
	for (first = 0; first < ndig && PBJSON_DIGIT(first) == '0'; first++)
		;
	if (first == ndig)
		return PBJSON_INT_OK; /* zero */
	for (last = ndig - 1; PBJSON_DIGIT(last) == '0'; last--)
		;
	exp -= (long long)(fend - fbeg);
	exp += (long long)(ndig - 1 - last);
	if (exp < 0)
		return PBJSON_INT_FRACTION;
	if ((long long)(last - first + 1) + exp > 20)
		return PBJSON_INT_RANGE;
	for (k = first; k <= last; k++) {
		unsigned d = (unsigned)(PBJSON_DIGIT(k) - '0');
		if (*mag > (UINT64_MAX - d) / 10)
			return PBJSON_INT_RANGE;
		*mag = *mag * 10 + d;
	}
#undef PBJSON_DIGIT
	for (; exp > 0; exp--) {
		if (*mag > UINT64_MAX / 10)
			return PBJSON_INT_RANGE;
		*mag *= 10;
	}
	return PBJSON_INT_OK;
}

/* Decode the JSON string at p->cur (on the opening quote) into out (NULL:
 * validate only), NUL-terminated. Sets p->has_nul. */
static int
pbjson_lex_string(struct pbjson_parser *p, struct pbjson_buf *out)
{
	const uint8_t *s = (const uint8_t *)p->cur + 1;
	const uint8_t *end = (const uint8_t *)p->end;

	p->has_nul = 0;
	if (out)
		out->len = 0;
	for (;;) {
		const uint8_t *run = s;
		uint8_t c;

		/* Copy a run of plain ASCII at once. */
		while (s < end && *s >= 0x20 && *s < 0x80 && *s != '"' && *s != '\\')
			s++;
		if (out)
			pbjson_buf_put(out, run, (size_t)(s - run));
		if (s >= end) {
			p->cur = (const char *)s;
			return pbjson_fail_syntax(p, "unterminated string");
		}
		c = *s;
		if (c == '"') {
			s++;
			break;
		}
		if (c < 0x20) {
			p->cur = (const char *)s;
			return pbjson_fail_syntax(p, "control character in string");
		}
		if (c == '\\') {
			uint32_t cp = 0;
			uint8_t u[4];
			size_t ulen;

			if (end - s < 2) {
				p->cur = (const char *)end;
				return pbjson_fail_syntax(p, "unterminated string");
			}
			switch (s[1]) {
			case '"':
			case '\\':
			case '/':
				cp = s[1];
				break;
			case 'b':
				cp = '\b';
				break;
			case 'f':
				cp = '\f';
				break;
			case 'n':
				cp = '\n';
				break;
			case 'r':
				cp = '\r';
				break;
			case 't':
				cp = '\t';
				break;
			case 'u':
				break;
			default:
				p->cur = (const char *)s;
				return pbjson_fail_syntax(p, "invalid escape in string");
			}
			if (s[1] != 'u') {
				s += 2;
				if (out)
					pbjson_buf_putc(out, (uint8_t)cp);
				continue;
			}
			for (int half = 0; half < 2; half++) {
				uint32_t v = 0;
				if (end - s < 6 || s[0] != '\\' || s[1] != 'u') {
					p->cur = (const char *)s;
					return pbjson_fail_syntax(
					    p, "lone UTF-16 surrogate in string");
				}
				for (int i = 2; i < 6; i++) {
					uint8_t h = s[i];
					v <<= 4;
					if (h >= '0' && h <= '9')
						v |= (uint32_t)(h - '0');
					else if (h >= 'a' && h <= 'f')
						v |= (uint32_t)(h - 'a' + 10);
					else if (h >= 'A' && h <= 'F')
						v |= (uint32_t)(h - 'A' + 10);
					else {
						p->cur = (const char *)s;
						return pbjson_fail_syntax(p, "invalid \\u escape");
					}
				}
				if (half == 0) {
					s += 6;
					cp = v;
					if (v >= 0xdc00 && v <= 0xdfff) {
						p->cur = (const char *)s - 6;
						return pbjson_fail_syntax(
						    p, "lone UTF-16 surrogate in string");
					}
					if (v < 0xd800 || v > 0xdbff)
						break;
				} else {
					if (v < 0xdc00 || v > 0xdfff) {
						p->cur = (const char *)s;
						return pbjson_fail_syntax(
						    p, "lone UTF-16 surrogate in string");
					}
					s += 6;
					cp = 0x10000 + ((cp - 0xd800) << 10) + (v - 0xdc00);
				}
			}
			if (cp == 0)
				p->has_nul = 1;
			if (cp < 0x80) {
				u[0] = (uint8_t)cp;
				ulen = 1;
			} else if (cp < 0x800) {
				u[0] = (uint8_t)(0xc0 | cp >> 6);
				u[1] = (uint8_t)(0x80 | (cp & 0x3f));
				ulen = 2;
			} else if (cp < 0x10000) {
				u[0] = (uint8_t)(0xe0 | cp >> 12);
				u[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
				u[2] = (uint8_t)(0x80 | (cp & 0x3f));
				ulen = 3;
			} else {
				u[0] = (uint8_t)(0xf0 | cp >> 18);
				u[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
				u[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
				u[3] = (uint8_t)(0x80 | (cp & 0x3f));
				ulen = 4;
			}
			if (out)
				pbjson_buf_put(out, u, ulen);
			continue;
		}
		/* A multi-byte UTF-8 sequence. */
		{
			size_t need = utf8_seq_len(s, (size_t)(end - s));

			if (need == 0) {
				p->cur = (const char *)s;
				return pbjson_fail_syntax(p, "invalid UTF-8 in string");
			}
			if (out)
				pbjson_buf_put(out, s, need);
			s += need;
		}
	}
	p->cur = (const char *)s;
	if (out)
		pbjson_buf_terminate(out);
	return 0;
}

/* Consume the literal word (true, false, null) at p->cur if it is there. */
static int
pbjson_eat_word(struct pbjson_parser *p, const char *word)
{
	size_t n = strlen(word);

	if ((size_t)(p->end - p->cur) < n || memcmp(p->cur, word, n) != 0)
		return 0;
	p->cur += n;
	return 1;
}

static int
pbjson_enter(struct pbjson_parser *p)
{
	if (++p->depth > PBJSON_MAX_DEPTH)
		return pbjson_fail(p, "invalid JSON at offset %zu: nesting deeper than %d levels",
		                   (size_t)(p->cur - p->start), PBJSON_MAX_DEPTH);
	return 0;
}

/* Skip one JSON value of any type (the value of an unknown key). */
static int
pbjson_skip_value(struct pbjson_parser *p)
{
	char c = pbjson_peek(p);
	size_t n;

	switch (c) {
	case '{':
	case '[':
		if (pbjson_enter(p) < 0)
			return -1;
		p->cur++;
		pbjson_skip_ws(p);
		if (pbjson_peek(p) == (c == '{' ? '}' : ']')) {
			p->cur++;
			p->depth--;
			return 0;
		}
		for (;;) {
			if (c == '{') {
				if (pbjson_peek(p) != '"')
					return pbjson_fail_syntax(p, "expected object key");
				if (pbjson_lex_string(p, NULL) < 0 ||
				    pbjson_expect(p, ':', "expected ':'") < 0)
					return -1;
			}
			if (pbjson_skip_value(p) < 0)
				return -1;
			pbjson_skip_ws(p);
			if (pbjson_peek(p) == ',') {
				p->cur++;
				pbjson_skip_ws(p);
				continue;
			}
			if (pbjson_peek(p) == (c == '{' ? '}' : ']')) {
				p->cur++;
				p->depth--;
				return 0;
			}
			return pbjson_fail_syntax(p, c == '{' ? "expected ',' or '}'"
			                                      : "expected ',' or ']'");
		}
	case '"':
		return pbjson_lex_string(p, NULL);
	case 't':
	case 'f':
	case 'n':
		if (pbjson_eat_word(p, "true") || pbjson_eat_word(p, "false") ||
		    pbjson_eat_word(p, "null"))
			return 0;
		return pbjson_fail_syntax(p, "invalid literal");
	default:
		n = pbjson_lex_number(p->cur, (size_t)(p->end - p->cur));
		if (n == 0)
			return pbjson_fail_syntax(p, "expected a value");
		p->cur += n;
		return 0;
	}
}

/* The text of a number given as a JSON number or as a JSON string holding
 * one; *txt points into the input or into p->scratch. 1 if found, 0 if the
 * value is neither (nothing consumed), -1 on error. */
static int
pbjson_number_text(struct pbjson_parser *p, const char **txt, size_t *len, int *quoted)
{
	char c = pbjson_peek(p);
	size_t n;

	*quoted = 0;
	if (c == '"') {
		if (pbjson_lex_string(p, &p->scratch) < 0)
			return -1;
		*quoted = 1;
		*txt = (const char *)p->scratch.data;
		*len = p->scratch.len;
		return 1;
	}
	if (c != '-' && !(c >= '0' && c <= '9'))
		return 0;
	n = pbjson_lex_number(p->cur, (size_t)(p->end - p->cur));
	if (n == 0)
		return pbjson_fail_syntax(p, "invalid number");
	*txt = p->cur;
	*len = n;
	p->cur += n;
	return 1;
}

/* The integer in txt[0..len) (JSON number syntax) checked against the range
 * of type, as the 64-bit pattern to encode (sign-extended for signed). */
static int
pbjson_int_from_text(struct pbjson_parser *p, ProtobufCType type, const char *txt, size_t len,
                     uint64_t *out)
{
	int neg, r;
	uint64_t mag, maxpos, maxneg;

	if (len == 0 || pbjson_lex_number(txt, len) != len)
		return pbjson_fail_field(p, "expected integer");
	r = pbjson_number_to_int(txt, len, &neg, &mag);
	if (r == PBJSON_INT_FRACTION)
		return pbjson_fail_field(p, "expected integer, got a fraction");
	if (r == PBJSON_INT_RANGE)
		return pbjson_fail_field(p, "integer out of range");

	switch (type) {
	case PROTOBUF_C_TYPE_INT32:
	case PROTOBUF_C_TYPE_SINT32:
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_ENUM:
		maxpos = INT32_MAX;
		maxneg = (uint64_t)INT32_MAX + 1;
		break;
	case PROTOBUF_C_TYPE_UINT32:
	case PROTOBUF_C_TYPE_FIXED32:
		maxpos = UINT32_MAX;
		maxneg = 0;
		break;
	case PROTOBUF_C_TYPE_UINT64:
	case PROTOBUF_C_TYPE_FIXED64:
		maxpos = UINT64_MAX;
		maxneg = 0;
		break;
	default:
		maxpos = INT64_MAX;
		maxneg = (uint64_t)INT64_MAX + 1;
		break;
	}
	if (neg && mag > maxneg)
		return pbjson_fail_field(p, maxneg ? "integer out of range"
		                                   : "negative value for an unsigned field");
	if (!neg && mag > maxpos)
		return pbjson_fail_field(p, "integer out of range");
	*out = neg ? 0 - mag : mag;
	return 0;
}

/* An integer field value: a JSON number or a string holding one. */
static int
pbjson_parse_int(struct pbjson_parser *p, ProtobufCType type, uint64_t *out)
{
	const char *txt;
	size_t len;
	int quoted, r;

	r = pbjson_number_text(p, &txt, &len, &quoted);
	if (r < 0)
		return -1;
	if (r == 0)
		return pbjson_fail_field(p, "expected integer");
	return pbjson_int_from_text(p, type, txt, len, out);
}

/* Append integer v of the given type as field id. */
static void
pbjson_put_int(struct pbjson_buf *out, uint32_t id, ProtobufCType type, uint64_t v)
{
	switch (type) {
	case PROTOBUF_C_TYPE_SINT32: {
		uint32_t u = (uint32_t)v;
		pbjson_put_tag(out, id, PBJSON_WT_VARINT);
		pbjson_put_varint(out, (uint32_t)(u << 1) ^ (0 - (u >> 31)));
		break;
	}
	case PROTOBUF_C_TYPE_SINT64:
		pbjson_put_tag(out, id, PBJSON_WT_VARINT);
		pbjson_put_varint(out, (v << 1) ^ (0 - (v >> 63)));
		break;
	case PROTOBUF_C_TYPE_SFIXED32:
	case PROTOBUF_C_TYPE_FIXED32:
		pbjson_put_tag(out, id, PBJSON_WT_FIXED32);
		pbjson_put_fixed32(out, (uint32_t)v);
		break;
	case PROTOBUF_C_TYPE_SFIXED64:
	case PROTOBUF_C_TYPE_FIXED64:
		pbjson_put_tag(out, id, PBJSON_WT_FIXED64);
		pbjson_put_fixed64(out, v);
		break;
	default: /* int32 and enum (sign-extended), int64, uint32, uint64 */
		pbjson_put_tag(out, id, PBJSON_WT_VARINT);
		pbjson_put_varint(out, v);
		break;
	}
}

/* A float or double field value: a JSON number, a string holding one, or
 * "NaN", "Infinity", "-Infinity". */
static int
pbjson_parse_double(struct pbjson_parser *p, int is_float, double *out)
{
	const char *txt;
	size_t len;
	int quoted, r;
	double d;

	r = pbjson_number_text(p, &txt, &len, &quoted);
	if (r < 0)
		return -1;
	if (r == 0)
		return pbjson_fail_field(p, "expected number");
	if (quoted) {
		if (strcmp(txt, "NaN") == 0) {
			*out = NAN;
			return 0;
		}
		if (strcmp(txt, "Infinity") == 0) {
			*out = INFINITY;
			return 0;
		}
		if (strcmp(txt, "-Infinity") == 0) {
			*out = -INFINITY;
			return 0;
		}
		if (len == 0 || pbjson_lex_number(txt, len) != len)
			return pbjson_fail_field(p, "expected number");
	} else {
		/* strtod needs a terminated copy. */
		p->scratch.len = 0;
		pbjson_buf_put(&p->scratch, txt, len);
		pbjson_buf_terminate(&p->scratch);
		txt = (const char *)p->scratch.data;
	}
	errno = 0;
	d = strtod(txt, NULL);
	/* A float field takes what rounds to a finite float: below FLT_MAX plus
	 * half an ulp (the shortest text for FLT_MAX, 3.4028235e+38, is above
	 * FLT_MAX itself). */
	if (isinf(d) || (is_float && fabs(d) >= 0x1.ffffffp+127))
		return pbjson_fail_field(p, "number out of range");
	*out = d;
	return 0;
}

static int pbjson_parse_message(struct pbjson_parser *p, const ProtobufCMessageDescriptor *d,
                                struct pbjson_buf *out);

/* One (non-null) value of field f, appended to out as a tagged wire field.
 * *emitted is 0 if the value is deliberately dropped (an unknown enum name). */
static int
pbjson_parse_single(struct pbjson_parser *p, const ProtobufCFieldDescriptor *f,
                    struct pbjson_buf *out, int *emitted)
{
	char c = pbjson_peek(p);
	uint64_t v = 0;
	double d = 0;

	*emitted = 1;
	switch (f->type) {
	case PROTOBUF_C_TYPE_MESSAGE: {
		struct pbjson_buf sub = {0};
		if (c != '{')
			return pbjson_fail_field(p, "expected object");
		if (pbjson_parse_message(p, f->descriptor, &sub) < 0) {
			pbjson_buf_free(&sub);
			return -1;
		}
		pbjson_put_len_field(out, f->id, sub.data, sub.len);
		pbjson_buf_free(&sub);
		return 0;
	}
	case PROTOBUF_C_TYPE_STRING:
		if (c != '"')
			return pbjson_fail_field(p, "expected string");
		if (pbjson_lex_string(p, &p->scratch) < 0)
			return -1;
		if (p->has_nul)
			return pbjson_fail_field(p, "string contains \\u0000");
		pbjson_put_len_field(out, f->id, p->scratch.data, p->scratch.len);
		return 0;
	case PROTOBUF_C_TYPE_BYTES: {
		struct pbjson_buf bin = {0};
		if (c != '"')
			return pbjson_fail_field(p, "expected base64 string");
		if (pbjson_lex_string(p, &p->scratch) < 0)
			return -1;
		if (pbjson_b64_decode(p->scratch.data, p->scratch.len, &bin) < 0) {
			pbjson_buf_free(&bin);
			return pbjson_fail_field(p, "invalid base64");
		}
		pbjson_put_len_field(out, f->id, bin.data, bin.len);
		pbjson_buf_free(&bin);
		return 0;
	}
	case PROTOBUF_C_TYPE_BOOL:
		if (pbjson_eat_word(p, "true"))
			v = 1;
		else if (pbjson_eat_word(p, "false"))
			v = 0;
		else
			return pbjson_fail_field(p, "expected true or false");
		pbjson_put_tag(out, f->id, PBJSON_WT_VARINT);
		pbjson_put_varint(out, v);
		return 0;
	case PROTOBUF_C_TYPE_ENUM:
		if (c == '"') {
			const ProtobufCEnumDescriptor *ed = f->descriptor;
			const ProtobufCEnumValue *ev = NULL;
			if (pbjson_lex_string(p, &p->scratch) < 0)
				return -1;
			if (!p->has_nul)
				ev = protobuf_c_enum_descriptor_get_value_by_name(
				    ed, (const char *)p->scratch.data);
			if (!ev) {
				if (f->label == PROTOBUF_C_LABEL_REQUIRED)
					return pbjson_fail_field(p, "unknown %s value",
					                         ed->short_name);
				*emitted = 0;
				return 0;
			}
			v = (uint64_t)(int64_t)ev->value;
		} else if (c == '-' || (c >= '0' && c <= '9')) {
			if (pbjson_parse_int(p, PROTOBUF_C_TYPE_ENUM, &v) < 0)
				return -1;
		} else {
			return pbjson_fail_field(p, "expected enum name or integer");
		}
		pbjson_put_tag(out, f->id, PBJSON_WT_VARINT);
		pbjson_put_varint(out, v);
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
		if (pbjson_parse_double(p, f->type == PROTOBUF_C_TYPE_FLOAT, &d) < 0)
			return -1;
		if (f->type == PROTOBUF_C_TYPE_FLOAT) {
			float fl = pbjson_to_float(d);
			uint32_t bits;
			memcpy(&bits, &fl, 4);
			pbjson_put_tag(out, f->id, PBJSON_WT_FIXED32);
			pbjson_put_fixed32(out, bits);
		} else {
			uint64_t bits;
			memcpy(&bits, &d, 8);
			pbjson_put_tag(out, f->id, PBJSON_WT_FIXED64);
			pbjson_put_fixed64(out, bits);
		}
		return 0;
	default:
		if (pbjson_parse_int(p, f->type, &v) < 0)
			return -1;
		pbjson_put_int(out, f->id, f->type, v);
		return 0;
	}
}

/* The key of a map entry (field 1 of the entry) from the JSON object key. */
static int
pbjson_put_map_key(struct pbjson_parser *p, const ProtobufCFieldDescriptor *kf,
                   struct pbjson_buf *entry)
{
	const char *key = (const char *)p->key.data;
	size_t len = p->key.len;
	uint64_t v;

	if (p->has_nul)
		return pbjson_fail_field(p, "map key contains \\u0000");
	switch (kf->type) {
	case PROTOBUF_C_TYPE_STRING:
		pbjson_put_len_field(entry, kf->id, key, len);
		return 0;
	case PROTOBUF_C_TYPE_BOOL:
		if (strcmp(key, "true") != 0 && strcmp(key, "false") != 0)
			return pbjson_fail_field(p, "map key: expected true or false");
		pbjson_put_tag(entry, kf->id, PBJSON_WT_VARINT);
		pbjson_put_varint(entry, key[0] == 't');
		return 0;
	case PROTOBUF_C_TYPE_FLOAT:
	case PROTOBUF_C_TYPE_DOUBLE:
	case PROTOBUF_C_TYPE_BYTES:
	case PROTOBUF_C_TYPE_MESSAGE:
	case PROTOBUF_C_TYPE_ENUM:
		return pbjson_fail_field(p, "unsupported map key type");
	default:
		break;
	}
	/* Integer keys: decimal text. */
	if (pbjson_int_from_text(p, kf->type, key, len, &v) < 0)
		return -1;
	pbjson_put_int(entry, kf->id, kf->type, v);
	return 0;
}

/* A map field: a JSON object {key: value}, one entry message per key. */
static int
pbjson_parse_map(struct pbjson_parser *p, const ProtobufCFieldDescriptor *f, struct pbjson_buf *out)
{
	const ProtobufCMessageDescriptor *ed = f->descriptor;
	const ProtobufCFieldDescriptor *kf = &ed->fields[0], *vf = &ed->fields[1];

	if (pbjson_peek(p) != '{')
		return pbjson_fail_field(p, "expected object");
	if (pbjson_enter(p) < 0)
		return -1;
	p->cur++;
	pbjson_skip_ws(p);
	if (pbjson_peek(p) == '}') {
		p->cur++;
		p->depth--;
		return 0;
	}
	for (;;) {
		struct pbjson_buf entry = {0};
		size_t mark;
		int emitted = 0, r;

		if (pbjson_peek(p) != '"')
			return pbjson_fail_syntax(p, "expected object key");
		if (pbjson_lex_string(p, &p->key) < 0 || pbjson_expect(p, ':', "expected ':'") < 0)
			return -1;
		mark = pbjson_path_push_key(p, p->key.data, p->key.len);
		r = pbjson_put_map_key(p, kf, &entry);
		if (r == 0 && pbjson_peek(p) == 'n' && pbjson_eat_word(p, "null"))
			r = pbjson_fail_field(p, "null map value");
		if (r == 0)
			r = pbjson_parse_single(p, vf, &entry, &emitted);
		pbjson_path_pop(p, mark);
		if (r == 0 && emitted)
			pbjson_put_len_field(out, f->id, entry.data, entry.len);
		pbjson_buf_free(&entry);
		if (r < 0)
			return -1;
		pbjson_skip_ws(p);
		if (pbjson_peek(p) == ',') {
			p->cur++;
			pbjson_skip_ws(p);
			continue;
		}
		if (pbjson_peek(p) == '}') {
			p->cur++;
			p->depth--;
			return 0;
		}
		return pbjson_fail_syntax(p, "expected ',' or '}'");
	}
}

/* A repeated field: a JSON array of values. */
static int
pbjson_parse_array(struct pbjson_parser *p, const ProtobufCFieldDescriptor *f,
                   struct pbjson_buf *out)
{
	size_t i;

	if (pbjson_peek(p) != '[')
		return pbjson_fail_field(p, "expected array");
	if (pbjson_enter(p) < 0)
		return -1;
	p->cur++;
	pbjson_skip_ws(p);
	if (pbjson_peek(p) == ']') {
		p->cur++;
		p->depth--;
		return 0;
	}
	for (i = 0;; i++) {
		size_t mark = pbjson_path_push_index(p, i);
		int emitted, r;

		if (pbjson_peek(p) == 'n' && pbjson_eat_word(p, "null"))
			r = pbjson_fail_field(p, "null in array");
		else
			r = pbjson_parse_single(p, f, out, &emitted);
		pbjson_path_pop(p, mark);
		if (r < 0)
			return -1;
		pbjson_skip_ws(p);
		if (pbjson_peek(p) == ',') {
			p->cur++;
			pbjson_skip_ws(p);
			continue;
		}
		if (pbjson_peek(p) == ']') {
			p->cur++;
			p->depth--;
			return 0;
		}
		return pbjson_fail_syntax(p, "expected ',' or ']'");
	}
}

enum {
	PBJSON_SEEN = 1,    /* the key appeared */
	PBJSON_PRESENT = 2, /* a value was written */
};

/* The value of known field f of message d (p->cur on the value), appended to
 * out; flags[] tracks which fields of this object were seen and written. */
static int
pbjson_parse_field(struct pbjson_parser *p, const ProtobufCMessageDescriptor *d,
                   const ProtobufCFieldDescriptor *f, uint8_t *flags, struct pbjson_buf *out)
{
	size_t idx = (size_t)(f - d->fields);
	size_t mark = pbjson_path_push_field(p, f->name);
	int emitted = 0, r;

	if (flags[idx] & PBJSON_SEEN)
		r = pbjson_fail_field(p, "duplicate key");
	else if (pbjson_peek(p) == 'n' && pbjson_eat_word(p, "null"))
		r = 0; /* null: the field is absent */
	else if (f->label != PROTOBUF_C_LABEL_REPEATED)
		r = pbjson_parse_single(p, f, out, &emitted);
	else if (pbjson_is_map(d, f))
		r = pbjson_parse_map(p, f, out);
	else
		r = pbjson_parse_array(p, f, out);
	flags[idx] |= PBJSON_SEEN;
	if (r == 0 && emitted && (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)) {
		/* Members of one oneof share the case offset. */
		for (unsigned j = 0; j < d->n_fields; j++) {
			const ProtobufCFieldDescriptor *g = &d->fields[j];
			if ((flags[j] & PBJSON_PRESENT) &&
			    (g->flags & PROTOBUF_C_FIELD_FLAG_ONEOF) &&
			    g->quantifier_offset == f->quantifier_offset) {
				r = pbjson_fail_field(p, "more than one field of a oneof is set");
				break;
			}
		}
	}
	if (r == 0 && emitted)
		flags[idx] |= PBJSON_PRESENT;
	pbjson_path_pop(p, mark);
	return r;
}

/* The object at p->cur (on '{') as message d, appended to out as wire bytes
 * (untagged: the caller frames it). */
static int
pbjson_parse_message(struct pbjson_parser *p, const ProtobufCMessageDescriptor *d,
                     struct pbjson_buf *out)
{
	uint8_t *flags;
	int r = -1;

	if (pbjson_enter(p) < 0)
		return -1;
	flags = pbjson_xcalloc(d->n_fields, 1);
	p->cur++;
	pbjson_skip_ws(p);
	if (pbjson_peek(p) == '}') {
		p->cur++;
		goto check;
	}
	for (;;) {
		const ProtobufCFieldDescriptor *f = NULL;

		if (pbjson_peek(p) != '"') {
			pbjson_fail_syntax(p, "expected object key");
			goto out;
		}
		if (pbjson_lex_string(p, &p->key) < 0 || pbjson_expect(p, ':', "expected ':'") < 0)
			goto out;
		if (!p->has_nul)
			f = protobuf_c_message_descriptor_get_field_by_name(
			    d, (const char *)p->key.data);
		if (!f) {
			if (pbjson_skip_value(p) < 0)
				goto out;
		} else if (pbjson_parse_field(p, d, f, flags, out) < 0) {
			goto out;
		}
		pbjson_skip_ws(p);
		if (pbjson_peek(p) == ',') {
			p->cur++;
			pbjson_skip_ws(p);
			continue;
		}
		if (pbjson_peek(p) == '}') {
			p->cur++;
			break;
		}
		pbjson_fail_syntax(p, "expected ',' or '}'");
		goto out;
	}
check:
	for (unsigned i = 0; i < d->n_fields; i++) {
		if (d->fields[i].label != PROTOBUF_C_LABEL_REQUIRED || (flags[i] & PBJSON_PRESENT))
			continue;
		if (p->pathlen)
			pbjson_fail(p, "missing required field '%s.%s' in '%s'", d->short_name,
			            d->fields[i].name, p->path);
		else
			pbjson_fail(p, "missing required field '%s.%s'", d->short_name,
			            d->fields[i].name);
		goto out;
	}
	p->depth--;
	r = 0;
out:
	free(flags);
	return r;
}

ProtobufCMessage *
pbjson_parse(const ProtobufCMessageDescriptor *desc, const char *json, size_t len, char *err,
             size_t errlen)
{
	struct pbjson_parser p = {0};
	struct pbjson_buf wire = {0};
	ProtobufCMessage *msg = NULL;
	static const uint8_t empty[1];

	p.err = err;
	p.errlen = err ? errlen : 0;
	if (p.errlen)
		err[0] = 0;
	if (!desc || desc->magic != PROTOBUF_C__MESSAGE_DESCRIPTOR_MAGIC) {
		pbjson_fail(&p, "invalid message descriptor");
		return NULL;
	}
	if (!json && len) {
		pbjson_fail(&p, "no input");
		return NULL;
	}
	if (len > PBJSON_MAX_INPUT) {
		pbjson_fail(&p, "JSON input of %zu bytes exceeds the limit of %u", len,
		            PBJSON_MAX_INPUT);
		return NULL;
	}
	if (len && memchr(json, 0, len)) {
		pbjson_fail(&p, "invalid JSON at offset %zu: NUL byte",
		            (size_t)((const char *)memchr(json, 0, len) - json));
		return NULL;
	}
	p.start = p.cur = json ? json : (const char *)empty;
	p.end = p.start + len;

	pbjson_skip_ws(&p);
	if (pbjson_peek(&p) != '{') {
		if (p.cur >= p.end)
			pbjson_fail(&p, "empty input: expected a JSON object");
		else
			pbjson_fail(&p, "expected a JSON object for %s", desc->short_name);
		goto out;
	}
	if (pbjson_parse_message(&p, desc, &wire) < 0)
		goto out;
	pbjson_skip_ws(&p);
	if (p.cur != p.end) {
		pbjson_fail_syntax(&p, "trailing data after the object");
		goto out;
	}
	msg = protobuf_c_message_unpack(desc, NULL, wire.len, wire.data ? wire.data : empty);
	if (!msg)
		pbjson_fail(&p, "protobuf-c could not unpack %s (out of memory?)",
		            desc->short_name);
out:
	pbjson_buf_free(&wire);
	pbjson_buf_free(&p.key);
	pbjson_buf_free(&p.scratch);
	return msg;
}
