/*
 * banned.h - functions Horcrux code must not call (after git's banned.h).
 *
 * Each is replaced by a macro that breaks the build, with a name that says
 * what to use instead. Included last by hx-util.h, so every file that uses
 * the project's helpers gets it.
 */
#ifndef HX_BANNED_H
#define HX_BANNED_H

#define BANNED(func) sorry_##func##_is_banned_in_horcrux

#undef strcpy
#define strcpy(x, y) BANNED(strcpy_use_hx_strlcpy)
#undef strcat
#define strcat(x, y) BANNED(strcat_use_hx_buf)
#undef sprintf
#define sprintf(...) BANNED(sprintf_use_snprintf)
#undef vsprintf
#define vsprintf(...) BANNED(vsprintf_use_vsnprintf)
#undef strtok
#define strtok(x, y) BANNED(strtok_use_strtok_r)
#undef gmtime
#define gmtime(t) BANNED(gmtime_use_gmtime_r)
#undef localtime
#define localtime(t) BANNED(localtime_use_localtime_r)

#endif
