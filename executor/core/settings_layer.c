#include "settings_layer.h"

#include <string.h>

static struct {
	config_getenv_fn env;      /* NULL: no layer installed */
	struct settings_file file; /* path NULL: no file */
} layer;

void
settings_layer_install(config_getenv_fn get, struct settings_file *f)
{
	settings_layer_reset();
	layer.env = get;
	if (f) {
		layer.file = *f;
		memset(f, 0, sizeof(*f));
	}
}

void
settings_layer_reset(void)
{
	settings_file_free(&layer.file);
	layer.env = NULL;
}

/* The file's value for s, or NULL. */
static const char *
file_value(const struct setting *s)
{
	if (!layer.file.values)
		return NULL;
	return layer.file.values[s - settings_table];
}

enum setting_source
settings_layer_source(const struct setting *s, const char **ret_value)
{
	const char *v = layer.env ? layer.env(s->env) : NULL;
	enum setting_source src = SRC_ENV;

	if (!v || !*v) {
		v = file_value(s);
		src = v ? SRC_FILE : SRC_DEFAULT;
	}
	if (ret_value)
		*ret_value = v;
	return src;
}

const char *
settings_layer_get(const char *name)
{
	const struct setting *s;
	const char *v;

	if (!layer.env)
		return NULL;
	s = settings_by_env(name);
	if (!s)
		return layer.env(name);
	settings_layer_source(s, &v);
	return v;
}

const char *
settings_layer_file(void)
{
	return layer.file.path;
}

size_t
settings_layer_file_count(void)
{
	size_t n = 0;
	for (size_t i = 0; layer.file.values && i < settings_count; i++)
		n += layer.file.values[i] != NULL;
	return n;
}

int
settings_layer_check(struct spx_error *err)
{
	for (size_t i = 0; i < settings_count; i++) {
		const struct setting *s = &settings_table[i];
		const char *v;
		enum setting_source src = settings_layer_source(s, &v);
		if (setting_check(s, v, err) < 0) {
			if (src == SRC_FILE)
				spx_error_wrap(err, "%s: key '%s'", layer.file.path, s->key);
			else
				spx_error_wrap(err, "%s", s->env);
			return settings_one_line(err);
		}
	}
	return 0;
}

int
settings_setup(config_getenv_fn get, const char *default_path, struct spx_error *err)
{
	struct settings_file f;

	if (settings_file_load(get, default_path, &f, err) < 0) {
		settings_layer_reset();
		return -1;
	}
	settings_layer_install(get, &f);
	if (settings_layer_check(err) < 0) {
		settings_layer_reset();
		return -1;
	}
	return 0;
}
