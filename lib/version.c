/*
 * version.c: the library's version string, fixed by CMake's project(VERSION) at build time.
 */
#include "jiceng/common.h"

const char *jc_version(void)
{
    return JC_VERSION_STRING;
}
