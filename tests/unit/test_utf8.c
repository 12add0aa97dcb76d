/* The shared UTF-8 checks, and status messages made valid UTF-8. */
#include "harness.h"
#include "mesos_msg.h"
#include "utf8.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

TEST(seq_len_strict)
{
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"a", 1), 1);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xc3\xa9", 2), 2);     /* é */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xe2\x82\xac", 3), 3); /* € */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xf0\x9f\x98\x80", 4), 4);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xc3\xa9", 1), 0);     /* cut */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xc0\xaf", 2), 0);     /* overlong */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xe0\x80\xaf", 3), 0); /* overlong */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xed\xa0\x80", 3), 0); /* surrogate */
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xf4\x90\x80\x80", 4), 0);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\x80", 1), 0);
	CHECK_EQ_INT(utf8_seq_len((const unsigned char *)"\xff", 1), 0);
}

TEST(valid_reports_first_bad_byte)
{
	size_t bad = 99;
	CHECK_EQ_INT(utf8_valid("ok \xc3\xa9", 5, &bad), 1);
	CHECK_EQ_INT(bad, 99);
	CHECK_EQ_INT(utf8_valid("ab\xffz", 4, &bad), 0);
	CHECK_EQ_INT(bad, 2);
	CHECK_EQ_INT(utf8_valid("\xff", 0, NULL), 1);
}

TEST(clean_replaces_each_bad_byte)
{
	char *copy;
	const char *s = "fine \xc3\xa9";
	CHECK(utf8_clean(s, &copy) == s);
	CHECK(copy == NULL);
	const char *r = utf8_clean("a\xff\xfe"
	                           "b\xc3",
	                           &copy);
	CHECK(copy != NULL && r == copy);
	CHECK_EQ_STR(r, "a\xef\xbf\xbd\xef\xbf\xbd"
	                "b\xef\xbf\xbd");
	CHECK(utf8_valid(r, strlen(r), NULL));
	free(copy);
}

TEST(trim_partial_cuts_only_a_cut_sequence)
{
	char a[] = "abc\xe2\x82"; /* "€" cut after 2 of 3 bytes */
	utf8_trim_partial(a);
	CHECK_EQ_STR(a, "abc");
	char b[] = "abc\xe2\x82\xac";
	utf8_trim_partial(b);
	CHECK_EQ_STR(b, "abc\xe2\x82\xac");
	char c[] = "abc\xc3";
	utf8_trim_partial(c);
	CHECK_EQ_STR(c, "abc");
	char d[] = "plain";
	utf8_trim_partial(d);
	CHECK_EQ_STR(d, "plain");
	char e[] = "";
	utf8_trim_partial(e);
	CHECK_EQ_STR(e, "");
}

TEST(status_message_and_labels_are_utf8)
{
	struct status_label lab = {.key = "spex.k\xff", .value = "v\xc3"};
	struct status_spec spec = {.task_id = "t1",
	                           .state = MESOS__V1__TASK_STATE__TASK_FAILED,
	                           .message = "Failed to execute '/opt/\xff\xfe/java'",
	                           .labels = &lab,
	                           .n_labels = 1};
	Mesos__V1__TaskStatus *st = status_new(&spec);
	CHECK_EQ_STR(st->message, "Failed to execute '/opt/\xef\xbf\xbd\xef\xbf\xbd/java'");
	CHECK(st->labels && st->labels->n_labels == 1);
	CHECK_EQ_STR(st->labels->labels[0]->key, "spex.k\xef\xbf\xbd");
	CHECK_EQ_STR(st->labels->labels[0]->value, "v\xef\xbf\xbd");
	mesos__v1__task_status__free_unpacked(st, NULL);
}

int
main(void)
{
	RUN(seq_len_strict);
	RUN(valid_reports_first_bad_byte);
	RUN(clean_replaces_each_bad_byte);
	RUN(trim_partial_cuts_only_a_cut_sequence);
	RUN(status_message_and_labels_are_utf8);
	return harness_done();
}
