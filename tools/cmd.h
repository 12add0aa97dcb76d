/*
 * The verbs of the spex CLI: each has a run function (argv[0] is the verb;
 * returns the exit status, CLI_OK/CLI_ERROR/CLI_USAGE) and a usage
 * function (the text of `spex help VERB` and `spex VERB --help`). The verb
 * table is in spex.c.
 */
#ifndef TOOLS_CMD_H
#define TOOLS_CMD_H

#include <stdio.h>

int cmd_du(int argc, char **argv);
void cmd_du_usage(FILE *f);

int cmd_inspect(int argc, char **argv);
void cmd_inspect_usage(FILE *f);

int cmd_ls(int argc, char **argv);
void cmd_ls_usage(FILE *f);

int cmd_gc(int argc, char **argv);
void cmd_gc_usage(FILE *f);

#endif /* TOOLS_CMD_H */
