/* zhanye-devsim: dispatches to the device simulator named by argv[1]. */
#include "devsim.h"

#include <stdio.h>
#include <string.h>

struct devsim_mode {
    const char *mode;
    int (*main_fn)(int argc, char **argv);
};

static const struct devsim_mode modes[] = {
    {.mode = "card", .main_fn = devsim_card_main},
};

int main(int argc, char **argv)
{
    if (argc >= 2) {
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (strcmp(argv[1], modes[i].mode) == 0)
                return modes[i].main_fn(argc - 1, argv + 1);
    }
    fprintf(stderr, "usage: zhanye-devsim MODE [ARGS...]\nmodes:");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        fprintf(stderr, " %s", modes[i].mode);
    fprintf(stderr, "\n");
    return 2;
}
