#include "foundation/ini_lines.h"

char *ini_lines_read(char *str, int num, void *stream)
{
    struct ini_lines *r = stream;
    int c = EOF, n = 0;
    while (n < num - 1 && (c = getc(r->f)) != EOF && c != '\0') {
        str[n++] = (char)c;
        if (c == '\n')
            break;
    }
    if (n == 0 && c == EOF)
        return NULL;
    r->line++;
    if (c == '\0') {
        snprintf(r->refused, sizeof r->refused, "NUL byte in the file");
        return NULL;
    }
    if (n == num - 1 && c != '\n' && (c = getc(r->f)) != '\n' && c != EOF) {
        snprintf(r->refused, sizeof r->refused, "line longer than %d bytes", num - 1);
        return NULL;
    }
    str[n] = '\0';
    return str;
}
