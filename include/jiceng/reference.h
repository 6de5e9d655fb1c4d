/*
 * jiceng/reference.h: the province's reference data, built into libjiceng.
 *
 * schemas/reference/ holds the 88 county-level divisions, the 9 prefectures and the code
 * changes since 2011 as CSV; the build embeds them and jc_reference_init parses them once per
 * process (thread-safe). Lookups are by six-digit code. An old code resolves to the current
 * one by following the changes file's chain (522423 -> 520522 -> 520581).
 */
#ifndef JICENG_REFERENCE_H
#define JICENG_REFERENCE_H

#include <stddef.h>
#include <stdint.h>

#include "jiceng/common.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct jc_prefecture {
    int32_t code;
    const char *name_zh;
    const char *name_pinyin;
} jc_prefecture_t;

typedef struct jc_county {
    int32_t code;
    const char *name_zh;
    const char *name_pinyin;
    const char *kind;            /**< "district", "county", "city", "autonomous county", ... */
    int32_t prefecture_code;
} jc_county_t;

/** Parse the embedded reference data; idempotent and thread-safe (other calls run it). */
JC_API jc_status_t jc_reference_init(jc_error_t *err);

JC_API size_t jc_county_count(void);
/** The i-th county in code order, or NULL past the end. */
JC_API const jc_county_t *jc_county_at(size_t i);
/** The current county with this code, or NULL (old codes are not found here: resolve them). */
JC_API const jc_county_t *jc_county_by_code(int32_t code);

/** Map code to the current county code: itself if current, else through the changes (chains
 *  followed). JC_ERR_UNKNOWN_COUNTY if it is not, and does not map to, a current county (a
 *  prefecture code, an abolished code with no successor county, anything else). */
JC_API jc_status_t jc_county_resolve(int32_t code, int32_t *current, jc_error_t *err);

JC_API size_t jc_prefecture_count(void);
JC_API const jc_prefecture_t *jc_prefecture_at(size_t i);
JC_API const jc_prefecture_t *jc_prefecture_by_code(int32_t code);

#ifdef __cplusplus
}
#endif
#endif
