#include "uuid.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/random.h>
#include <unistd.h>

void
uuid_set_v4_bits(uint8_t b[UUID_LEN])
{
	b[6] = (uint8_t)((b[6] & 0x0F) | 0x40);
	b[8] = (uint8_t)((b[8] & 0x3F) | 0x80);
}

static void
random_bytes(uint8_t *b, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = getrandom(b + got, n - got, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		got += (size_t)r;
	}
	if (got == n)
		return;
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || read(fd, b, n) != (ssize_t)n)
		abort();
	close(fd);
}

void
uuid_v4(uint8_t out[UUID_LEN])
{
	random_bytes(out, UUID_LEN);
	uuid_set_v4_bits(out);
}

int
uuid_is_valid(const uint8_t *p, size_t len)
{
	if (!p || len != UUID_LEN)
		return 0;
	int version = p[6] >> 4;
	return version >= 1 && version <= 5;
}

const char *
uuid_format(const uint8_t b[UUID_LEN], char out[37])
{
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
	         b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
	         b[13], b[14], b[15]);
	return out;
}
