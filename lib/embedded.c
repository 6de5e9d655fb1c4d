/*
 * embedded.c: finding a file among those the build embedded (cmake/embed.cmake).
 */
#include <string.h>

#include "internal.h"

const jc_embedded_file_t *jc_embedded_find(const jc_embedded_file_t *set, size_t count,
                                           const char *name)
{
    for (size_t i = 0; i < count; i++)
        if (strcmp(set[i].name, name) == 0)
            return &set[i];
    return NULL;
}
