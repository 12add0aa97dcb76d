#include "settings_print.h"
#include "log.h"
#include "settings_layer.h"
#include "util.h"

#include <cjson/cJSON.h>
#include <string.h>

#define VALUE_COLUMN_MAX 32 /* longer values push their source to the right */

static const char *const source_names[] = {"default", "env", "file"};

/* The value of s as printed: quoted like a log value, "(unset)" if none. */
static const char *
shown_value(const struct setting *s, char *buf, size_t n, enum setting_source *ret_src)
{
	const char *v;
	*ret_src = settings_layer_source(s, &v);
	if (*ret_src == SRC_DEFAULT)
		v = s->def;
	return v ? log_quote(buf, n, v) : "(unset)";
}

void
settings_print_text(FILE *out, config_getenv_fn get, const char *default_path)
{
	const char *file = settings_layer_file();
	const char *from_env = get("SPEX_CONFIG");
	int name_w = 0, value_w = 0;
	char buf[512];
	enum setting_source src;

	if (file && from_env && *from_env)
		fprintf(out, "# config file: %s (from SPEX_CONFIG)\n",
		        log_quote(buf, sizeof(buf), file));
	else if (file)
		fprintf(out, "# config file: %s\n", log_quote(buf, sizeof(buf), file));
	else
		fprintf(out, "# config file: none (SPEX_CONFIG unset, %s absent)\n",
		        default_path ? default_path : "no default");
	for (size_t i = 0; i < settings_count; i++) {
		int nw = (int)strlen(settings_table[i].env);
		int vw = (int)strlen(shown_value(&settings_table[i], buf, sizeof(buf), &src));
		name_w = nw > name_w ? nw : name_w;
		value_w = vw > value_w && vw <= VALUE_COLUMN_MAX ? vw : value_w;
	}
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		const char *v = shown_value(s, buf, sizeof(buf), &src);
		fprintf(out, "%-*s  %-*s  %s", name_w, s->env, value_w, v, source_names[src]);
		if (src == SRC_FILE)
			fprintf(out, " %s", log_quote(buf, sizeof(buf), file));
		fputc('\n', out);
	}
}

static cJSON *
chk(cJSON *item)
{
	if (!item)
		abort(); /* out of memory, as xmalloc */
	return item;
}

static cJSON *
string_or_null(const char *s)
{
	return chk(s ? cJSON_CreateString(s) : cJSON_CreateNull());
}

void
settings_print_json(FILE *out)
{
	cJSON *root = chk(cJSON_CreateObject());
	cJSON *all = chk(cJSON_CreateObject());

	cJSON_AddItemToObject(root, "config_file", string_or_null(settings_layer_file()));
	cJSON_AddItemToObject(root, "settings", all);
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		const char *v;
		enum setting_source src = settings_layer_source(s, &v);
		cJSON *o = chk(cJSON_CreateObject());
		cJSON_AddItemToObject(all, s->env, o);
		cJSON_AddItemToObject(o, "key", string_or_null(s->key));
		cJSON_AddItemToObject(o, "value", string_or_null(src == SRC_DEFAULT ? s->def : v));
		cJSON_AddItemToObject(o, "source", string_or_null(source_names[src]));
		cJSON_AddItemToObject(o, "default", string_or_null(s->def));
	}
	char *text = cJSON_Print(root);
	if (!text)
		abort();
	fprintf(out, "%s\n", text);
	cJSON_free(text);
	cJSON_Delete(root);
}

int
settings_print_config(config_getenv_fn get, const char *default_path, bool json, FILE *out,
                      FILE *errout)
{
	struct spx_error err = {0};

	if (settings_setup(get, default_path, &err) < 0) {
		fprintf(errout, "spex-executor: %s\n", spx_error_msg(&err));
		spx_error_clear(&err);
		return 1;
	}
	if (json)
		settings_print_json(out);
	else
		settings_print_text(out, get, default_path);
	settings_layer_reset();
	return fflush(out) == 0 ? 0 : 1;
}
