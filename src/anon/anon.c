/* anon.c - see anon.h. */
#include "anon.h"
