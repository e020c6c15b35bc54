/* config: defaults, overrides, named sections, and one precise error per bad file. */
#include "foundation/config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static char dir[64];
static char file[128];

static int setup(void **state)
{
    snprintf(dir, sizeof dir, "/tmp/zhanye-cfg-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    snprintf(file, sizeof file, "%s/zhanye.conf", dir);
    return 0;
}

static int teardown(void **state)
{
    unlink(file);
    rmdir(dir);
    return 0;
}

static int load_text(struct config *cfg, const char *text, char *err, size_t cap)
{
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    return config_load(cfg, dir, file, err, cap);
}

static void defaults_and_overrides(void **state)
{
    static struct config cfg;
    char err[256];
    assert_int_equal(load_text(&cfg,
                               "[server]\nlisten = 0.0.0.0:9000 ; inline comment\n"
                               "body_limit = 512K\n[log]\nlevel = debug\n",
                               err, sizeof err),
                     0);
    assert_string_equal(cfg.server.listen, "0.0.0.0:9000");
    assert_int_equal(cfg.server.body_limit, 512 * 1024);
    assert_int_equal(cfg.server.request_timeout_s, 30);
    assert_int_equal(cfg.log.level, 0);
    assert_int_equal(cfg.channel.window_ms, 300000);
    char want[256];
    snprintf(want, sizeof want, "%s/zhanye.db", dir);
    assert_string_equal(cfg.store.path, want);
    config_free(&cfg);
}

static void named_sections(void **state)
{
    static struct config cfg;
    char err[256];
    assert_int_equal(load_text(&cfg,
                               "[flow.LOGIN]\nrate = 200\nburst = 20\n[flow.default]\nqueue = 5\n",
                               err, sizeof err),
                     0);
    assert_string_equal(config_named_get(&cfg, "flow", "LOGIN", "rate"), "200");
    assert_string_equal(config_named_get(&cfg, "flow", "LOGIN", "max_wait_ms"), "200");
    assert_string_equal(config_named_get(&cfg, "flow", "default", "queue"), "5");
    assert_null(config_named_get(&cfg, "flow", "CUSTOMER_QUERY", "rate"));
    config_free(&cfg);
}

/* config_named_set: the file's validation for a value set from elsewhere
 * (the console's overrides); a refusal changes nothing. */
static void named_set_validates_as_the_file(void **state)
{
    static struct config cfg;
    char err[256];
    assert_int_equal(load_text(&cfg, "[flow.LOGIN]\nrate = 200\n", err, sizeof err), 0);
    assert_int_equal(config_named_set(&cfg, "flow", "LOGIN", "rate", "7", err, sizeof err), 0);
    assert_string_equal(config_named_get(&cfg, "flow", "LOGIN", "rate"), "7");
    assert_int_equal(config_named_set(&cfg, "flow", "NEWTX", "queue", "0", err, sizeof err), 0);
    assert_string_equal(config_named_get(&cfg, "flow", "NEWTX", "queue"), "0");
    assert_int_equal(config_named_set(&cfg, "flow", "LOGIN", "rate", "0", err, sizeof err), -1);
    assert_non_null(strstr(err, "'rate'"));
    assert_string_equal(config_named_get(&cfg, "flow", "LOGIN", "rate"), "7");
    assert_int_equal(config_named_set(&cfg, "flow", "LOGIN", "colour", "1", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown key"));
    assert_int_equal(config_named_set(&cfg, "flow", "a b", "rate", "1", err, sizeof err), -1);
    assert_int_equal(config_named_set(&cfg, "server", "x", "rate", "1", err, sizeof err), -1);
    assert_int_equal(
        config_named_set(&cfg, "egress", "core", "max_concurrent", "10001", err, sizeof err), -1);
    config_free(&cfg);
}

static void errors_name_file_line_key(void **state)
{
    static struct config cfg;
    char err[256], want[200];
    assert_int_equal(load_text(&cfg, "[server]\nthreads = 2\nlisten = nowhere\n", err, sizeof err),
                     -1);
    snprintf(want, sizeof want, "%s:3: bad value 'nowhere' for key 'listen' in [server]", file);
    assert_memory_equal(err, want, strlen(want));
    assert_int_equal(load_text(&cfg, "\n[store]\nbackend = oracle\n", err, sizeof err), -1);
    assert_non_null(strstr(err, ":3: bad value 'oracle' for key 'backend'"));
    assert_int_equal(load_text(&cfg, "[channel]\nkeys = k1,bad key!\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "'keys'"));
    assert_int_equal(load_text(&cfg, "[server\nlisten=1\n", err, sizeof err), -1);
    assert_non_null(strstr(err, ":1: "));
    assert_int_equal(load_text(&cfg, "listen = 1:2\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown section"));
    assert_int_equal(load_text(&cfg, "[flow.bad name]\nrate=1\n", err, sizeof err), -1);
    assert_non_null(strstr(err, "unknown section [flow.bad name]"));
    assert_int_equal(load_text(&cfg, "[server]\nthreads = 99999\n", err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: bad value '99999' for key 'threads'"));
}

static int load_bytes(struct config *cfg, const char *bytes, size_t n, char *err, size_t cap)
{
    FILE *f = fopen(file, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(bytes, 1, n, f), n);
    fclose(f);
    return config_load(cfg, dir, file, err, cap);
}

/* inih reads at most 199 bytes of a line and took the rest for a line of its
 * own: a value was cut short without a word when the rest looked like a
 * comment, and errors named lines past the end of the file; a NUL byte cut a
 * value too (found by fuzz_config). */
static void long_lines_and_nul_bytes_are_errors(void **state)
{
    static struct config cfg;
    char text[512], err[512];
    int n = snprintf(text, sizeof text, "[log]\npath = %0192d;%0150d\n", 0, 0);
    assert_int_equal(load_bytes(&cfg, text, (size_t)n, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: line longer than 199 bytes"));
    n = snprintf(text, sizeof text, "[log]\npath = %0250d\n", 0);
    assert_int_equal(load_bytes(&cfg, text, (size_t)n, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: line longer than 199 bytes"));
    static const char nul[] = "[server]\nlisten = 127.0.0.1:808\0 ; 9\nthreads = 2\n";
    assert_int_equal(load_bytes(&cfg, nul, sizeof nul - 1, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: NUL byte in the file"));
    /* The first error still wins, and a line of exactly 199 bytes loads. */
    n = snprintf(text, sizeof text, "[log]\nlevel = loud\npath = %0250d\n", 0);
    assert_int_equal(load_bytes(&cfg, text, (size_t)n, err, sizeof err), -1);
    assert_non_null(strstr(err, ":2: bad value 'loud'"));
    n = snprintf(text, sizeof text, "[log]\npath = %0192d\n[server]\nthreads = 3", 0);
    assert_int_equal(load_bytes(&cfg, text, (size_t)n, err, sizeof err), 0);
    assert_int_equal(strlen(cfg.log.path), strlen(dir) + 1 + 192);
    assert_int_equal(cfg.server.threads, 3);
    config_free(&cfg);
}

static void default_file_loads(void **state)
{
    static struct config cfg;
    char err[256];
    unlink(file);
    assert_int_equal(config_write_default(file), 0);
    assert_int_equal(config_write_default(file), -1); /* never overwrites */
    assert_int_equal(config_load(&cfg, dir, file, err, sizeof err), 0);
    assert_string_equal(cfg.server.listen, "127.0.0.1:8080");
    config_free(&cfg);
}

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    p[n] = '\0';
    fclose(f);
    return p;
}

/* Every key config.c declares is documented with its default in
 * docs/configuration.md: the default file lists each as "; key = default". */
static void every_key_is_documented(void **state)
{
    char docs_path[512], line[512], want[600];
    snprintf(docs_path, sizeof docs_path, "%s/docs/configuration.md",
             getenv("ZHANYE_SRC") ? getenv("ZHANYE_SRC") : ".");
    char *docs = slurp(docs_path);
    unlink(file);
    assert_int_equal(config_write_default(file), 0);
    FILE *f = fopen(file, "r");
    assert_non_null(f);
    int checked = 0;
    while (fgets(line, sizeof line, f)) {
        char key[128], def[256] = "";
        if (!strstr(line, " = ") || strchr(line, '[') ||
            sscanf(line, "; %127[a-z_0-9] = %255[^\n]", key, def) < 1)
            continue;
        if (def[0])
            snprintf(want, sizeof want, "| `%s` | `%s` |", key, def);
        else
            snprintf(want, sizeof want, "| `%s` | (required) |", key);
        /* An empty default is either required (in a named section) or
         * optional, documented as (empty). */
        char empty[300];
        snprintf(empty, sizeof empty, "| `%s` | (empty) |", key);
        if (!strstr(docs, want) && (def[0] || !strstr(docs, empty)))
            fail_msg("docs/configuration.md lacks the row %s", want);
        checked++;
    }
    fclose(f);
    free(docs);
    assert_true(checked > 30);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(defaults_and_overrides),
        cmocka_unit_test(named_sections),
        cmocka_unit_test(named_set_validates_as_the_file),
        cmocka_unit_test(errors_name_file_line_key),
        cmocka_unit_test(long_lines_and_nul_bytes_are_errors),
        cmocka_unit_test(default_file_loads),
        cmocka_unit_test(every_key_is_documented),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
