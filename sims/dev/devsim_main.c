/* zhanye-devsim MODE ... — dispatches to the mode's main (devsim.h). */
#include "devsim.h"

#include <stdio.h>
#include <string.h>

static const struct devsim_mode MODES[] = {
    {.mode = "idcard",
     .main_fn = devsim_idcard_main,
     .usage = "idcard --pty-link PATH [--control 127.0.0.1:PORT] [--watch-pid PID]"},
    {.mode = "pin",
     .main_fn = devsim_pin_main,
     .usage = "pin --pty-link PATH --control 127.0.0.1:PORT [--master-key HEX] [--watch-pid PID]"},
    {.mode = "sig",
     .main_fn = devsim_sig_main,
     .usage = "sig --pty-link PATH --control 127.0.0.1:PORT [--watch-pid PID]"},
    {.mode = "card",
     .main_fn = devsim_card_main,
     .usage =
         "card --vpcd HOST:PORT [--script FILE|--control 127.0.0.1:PORT] [--pan --expiry --seq "
         "--name --aids --fault luhn|no5a|chain|remove]"},
    {.mode = "finger",
     .main_fn = devsim_finger_main,
     .usage = "finger --pty-link PATH --control 127.0.0.1:PORT [--watch-pid PID]"},
};

int main(int argc, char **argv)
{
    if (argc >= 2)
        for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++)
            if (strcmp(argv[1], MODES[i].mode) == 0)
                return MODES[i].main_fn(argc - 1, argv + 1);
    fprintf(stderr, "usage: zhanye-devsim MODE ...\n");
    for (size_t i = 0; i < sizeof MODES / sizeof MODES[0]; i++)
        fprintf(stderr, "  zhanye-devsim %s\n", MODES[i].usage);
    return 2;
}
