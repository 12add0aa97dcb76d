/*
 * RFC 4122 version 4 UUIDs as the agent validates them: 16 raw bytes, the
 * version nibble (high nibble of byte 6) set to 4 and the variant bits of
 * byte 8 set to 10xx.
 */
#ifndef EXECUTOR_CORE_UUID_H
#define EXECUTOR_CORE_UUID_H

#include <stddef.h>
#include <stdint.h>

#define UUID_LEN 16

/* Fill out with a fresh random v4 UUID (getrandom; never fails: falls back to
 * /dev/urandom and then aborts rather than send a predictable id). */
void uuid_v4(uint8_t out[UUID_LEN]);

/* Stamp the version/variant bits onto 16 random bytes (pure; used by uuid_v4). */
void uuid_set_v4_bits(uint8_t b[UUID_LEN]);

/* 1 if (p, len) is a UUID the agent accepts: 16 bytes, version 1..5. */
int uuid_is_valid(const uint8_t *p, size_t len);

/* Canonical text form, 36 chars + NUL, into out[37]. Returns out. */
const char *uuid_format(const uint8_t b[UUID_LEN], char out[37]);

#endif /* EXECUTOR_CORE_UUID_H */
