/* zhanye-devsim: the mode dispatch (devsim.h). */
#include "devsim.h"

#include <stdio.h>
#include <string.h>

static const struct devsim_mode modes[] = {
    {.mode = "pin", .main_fn = devsim_pin_main},
    {.mode = "sig", .main_fn = devsim_sig_main},
    {.mode = "finger", .main_fn = devsim_finger_main},
};

int main(int argc, char **argv)
{
    if (argc >= 2)
        for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
            if (strcmp(argv[1], modes[i].mode) == 0)
                return modes[i].main_fn(argc - 1, argv + 1);
    fprintf(stderr, "usage: zhanye-devsim MODE --pty-link PATH --control 127.0.0.1:PORT\nmodes:");
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
        fprintf(stderr, " %s", modes[i].mode);
    fprintf(stderr, "\n");
    return 2;
}
