/*
 * Generic conversion between protobuf-c messages and the Mesos JSON mapping
 * (stout's protobuf.hpp / mesos src/common/http.cpp), driven only by the
 * protobuf-c descriptors: no per-message code.
 *
 * The mapping:
 *  - keys are the proto field names (snake_case); unknown keys are ignored
 *    when parsing; a known key given twice is an error;
 *  - enums are strings holding the value name ("TASK_RUNNING"). Parsing also
 *    accepts a JSON integer as the numeric value (lenient; stout rejects it,
 *    Google's json_format accepts it). An unknown name leaves an optional
 *    field unset, drops the element of a repeated field or the entry of a
 *    map, and is an error for a required field. A number that names no value
 *    is printed back as a number;
 *  - bytes are base64, standard alphabet with padding when printing; parsing
 *    accepts missing padding and the URL-safe alphabet ('-', '_');
 *  - 32-bit integers print as cJSON numbers. 64-bit integers print as exact
 *    JSON numbers, as cJSON_Raw items (a cJSON double loses precision above
 *    2^53); float and double also print as cJSON_Raw items holding the
 *    shortest decimal that reads back to the same value (cJSON's own
 *    printing may drop the last digit), "-0" for -0.0, and NaN, Infinity,
 *    -Infinity as the strings "NaN", "Infinity", "-Infinity" (as Google's
 *    json_format; JSON has no such numbers). Parsing takes a number or a
 *    string holding one (Python's json_format prints int64 as "123"),
 *    exactly for every integer type: 1e3 or 5.0 is accepted for an integer
 *    field, 1.5 or an out-of-range value is an error; a float field takes
 *    what rounds to a finite float;
 *  - bool is true/false; strings are UTF-8: parsing rejects invalid UTF-8,
 *    raw control characters, lone surrogates and \u0000; printing replaces
 *    each byte of a string that is not valid UTF-8 with U+FFFD (so a
 *    TaskStatus.message built from process output still gives valid JSON);
 *  - repeated fields are arrays, messages objects; a map field (protobuf-c
 *    has only the repeated <Name>Entry message with key = 1 and value = 2) is
 *    an object {key: value}. Duplicate map keys are kept as separate entries;
 *  - a JSON null value means "field absent";
 *  - printing emits the set fields only, in field-number order: an unset
 *    optional field is not printed even when the proto declares a default
 *    (our choice; stout prints the default), a required field is always
 *    printed, even when it is 0 or empty (TaskStatus.state TASK_STARTING =
 *    0). A required message field left NULL is skipped.
 */
#ifndef EXECUTOR_CORE_PBJSON_H
#define EXECUTOR_CORE_PBJSON_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <protobuf-c/protobuf-c.h>

/* Deepest nesting of JSON objects and arrays pbjson_parse() accepts. */
#define PBJSON_MAX_DEPTH 64
/* Longest JSON text pbjson_parse() accepts (as RECORDIO_DEFAULT_MAX). */
#define PBJSON_MAX_INPUT (16u * 1024 * 1024)

/* Encode msg as a cJSON object following the Mesos JSON mapping. Never NULL
 * (aborts on OOM; a NULL msg gives an empty object). Caller frees with
 * cJSON_Delete. 64-bit integers, float and double are cJSON_Raw items (see
 * above). */
cJSON *pbjson_encode(const ProtobufCMessage *msg);

/* Encode and print compactly; returns a malloc'd NUL-terminated string (free
 * with free()), its length in *ret_len if ret_len is non-NULL. Never NULL
 * (aborts on OOM). */
char *pbjson_print(const ProtobufCMessage *msg, size_t *ret_len);

/* Parse JSON text of length len (not necessarily NUL-terminated; must be a
 * single JSON object, surrounding whitespace allowed, trailing garbage
 * rejected; at most PBJSON_MAX_INPUT bytes and PBJSON_MAX_DEPTH levels) into
 * a newly allocated message of type desc. Returns NULL on failure and writes
 * a one-line reason into err (errlen bytes; err may be NULL when errlen is 0),
 * e.g. "field 'task_id': expected object" or "missing required field
 * 'TaskInfo.name'"; field paths are dotted from the root
 * ("launch.task.resources[1].scalar"). The returned message is freed with
 * protobuf_c_message_free_unpacked(msg, NULL). */
ProtobufCMessage *pbjson_parse(const ProtobufCMessageDescriptor *desc, const char *json, size_t len,
                               char *err, size_t errlen);

#endif /* EXECUTOR_CORE_PBJSON_H */
