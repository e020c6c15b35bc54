/* srcscan.c — see srcscan.h. */
#include "srcscan.h"

#include <ctype.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

char *srcscan_slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)n + 1)) != NULL) {
        if (fread(buf, 1, (size_t)n, f) != (size_t)n) {
            free(buf);
            buf = NULL;
        } else {
            buf[n] = '\0';
        }
    }
    fclose(f);
    return buf;
}

char *srcscan_blank(const char *s, bool literals)
{
    size_t n = strlen(s), i = 0;
    char *o = strdup(s);
    if (!o)
        return NULL;
    while (i < n) {
        if (s[i] == '/' && s[i + 1] == '/') {
            while (i < n && s[i] != '\n')
                o[i++] = ' ';
        } else if (s[i] == '/' && s[i + 1] == '*') {
            o[i] = o[i + 1] = ' ';
            i += 2;
            while (i < n && !(s[i] == '*' && s[i + 1] == '/')) {
                if (s[i] != '\n')
                    o[i] = ' ';
                i++;
            }
            if (i < n) {
                o[i] = o[i + 1] = ' ';
                i += 2;
            }
        } else if (s[i] == '"' || s[i] == '\'') {
            char q = s[i++];
            while (i < n && s[i] != q && s[i] != '\n') {
                size_t step = s[i] == '\\' && i + 1 < n ? 2 : 1;
                for (size_t k = 0; literals && k < step; k++)
                    o[i + k] = ' ';
                i += step;
            }
            i++;
        } else {
            i++;
        }
    }
    return o;
}

int srcscan_line(const char *text, size_t i)
{
    int line = 1;
    for (size_t k = 0; k < i && text[k]; k++)
        line += text[k] == '\n';
    return line;
}

static bool ident_char(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

bool srcscan_word_at(const char *text, size_t i, const char *id)
{
    size_t n = strlen(id);
    return (i == 0 || !ident_char(text[i - 1])) && strncmp(text + i, id, n) == 0 &&
           !ident_char(text[i + n]);
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

int srcscan_walk(const char *root, const char *rel, srcscan_fn fn, void *arg)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/%s", root, rel);
    struct dirent **list = NULL;
    int n = scandir(dir, &list, NULL, by_name);
    if (n < 0)
        return -1;
    int files = 0;
    for (int k = 0; k < n; k++) {
        const char *name = list[k]->d_name;
        char sub[512], full[1536];
        struct stat st;
        snprintf(sub, sizeof sub, "%s/%s", rel, name);
        snprintf(full, sizeof full, "%s/%s", root, sub);
        size_t len = strlen(name);
        if (name[0] == '.' || files < 0 || stat(full, &st) != 0) {
            ;
        } else if (S_ISDIR(st.st_mode)) {
            int m = srcscan_walk(root, sub, fn, arg);
            files = m < 0 ? -1 : files + m;
        } else if (len > 2 && name[len - 2] == '.' &&
                   (name[len - 1] == 'c' || name[len - 1] == 'h')) {
            char *text = srcscan_slurp(full);
            if (text)
                fn(sub, text, arg);
            files = text ? files + 1 : -1;
            free(text);
        }
        free(list[k]);
    }
    free(list);
    return files;
}

const char *srcscan_root(void)
{
    const char *r = getenv("ZHANYE_SRC");
    return r && *r ? r : ".";
}
