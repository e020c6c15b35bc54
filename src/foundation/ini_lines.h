/* ini_lines — the strict line reader every INI file of ours goes through.
 *
 * inih reads a line into a buffer of num bytes and takes the rest of a
 * longer line for a line of its own: a value would be cut short (silently,
 * if the rest looks like a comment) and line numbers would be off; a NUL
 * byte would end a value early too. This reader refuses both, ending the
 * parse there with `refused` saying why, and counts lines for messages.
 * Use: ini_parse_stream(ini_lines_read, &r, handler, user). */
#ifndef ZHANYE_INI_LINES_H
#define ZHANYE_INI_LINES_H

#include <stdio.h>

struct ini_lines {
    FILE *f;
    int line;         /* lines read so far */
    char refused[48]; /* why the reader stopped the parse, "" if it did not */
};

char *ini_lines_read(char *str, int num, void *stream);

#endif
