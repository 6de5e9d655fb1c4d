/*
 * jiceng/reference.h: the province's reference data: counties, prefectures and code changes.
 *
 * schemas/reference/ holds the 88 county-level divisions, the 9 prefectures and the code
 * changes since 2011 as CSV; the build embeds them, and jc_reference_init parses them once per
 * process (thread-safe) into the built-in snapshot. Lookups are by six-digit code. An old code
 * resolves to the current one by following the changes' chain (522423 -> 520522 -> 520581).
 *
 * Snapshots: the lookups below (jc_county_resolve, jc_county_by_code, ...) read the INSTALLED
 * snapshot: the built-in one unless a program installs another, e.g. one loaded from
 * PostgreSQL (jc_reference_load_pg: jiceng.counties, jiceng.prefectures, jiceng.code_changes,
 * migration 009), which is what a running aggregator does at start, on SIGHUP and when the
 * database's reference version moves (jiceng/aggregator.h). A snapshot is built from rows
 * (jc_reference_new, jc_reference_add_*, jc_reference_finish), and is immutable once finished.
 * Installing one is a single atomic pointer store; a lookup is one atomic load of that pointer,
 * a bounds check and one load from a table indexed by code. A snapshot that was ever installed
 * is never freed, so a lookup racing an install (another thread) sees the old snapshot or the
 * new one, whole, and every pointer these functions returned stays valid for the life of the
 * process. Only a changed snapshot should be installed (jc_reference_equal): each one installed
 * keeps about 130 KB.
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

/** An old code and the code it became (a county, another old code, or a prefecture for an old
 *  prefecture's code). */
typedef struct jc_code_change {
    int32_t old_code;
    int32_t new_code;
    int32_t year;       /**< the year of the change; 0: not recorded */
    const char *change; /**< what happened, free text; "" if not recorded */
} jc_code_change_t;

/** Parse the embedded reference data and install it, once; idempotent and thread-safe (other
 *  calls run it). */
JC_API jc_status_t jc_reference_init(jc_error_t *err);

/* ---- lookups in the installed snapshot ---- */

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

/* ---- snapshots ---- */

typedef struct jc_reference jc_reference_t;
struct pg_conn; /* libpq's PGconn (libpq-fe.h): this header needs no libpq */

/** The installed snapshot (the built-in one unless another was installed); NULL only if the
 *  built-in data failed to parse (jc_reference_init says why). */
JC_API const jc_reference_t *jc_reference_current(void);
/** The built-in snapshot (the embedded CSVs), whatever is installed; NULL as above. */
JC_API const jc_reference_t *jc_reference_builtin(void);

/** An empty snapshot to fill with the jc_reference_add_* calls, then jc_reference_finish. */
JC_API jc_status_t jc_reference_new(jc_reference_t **out, jc_error_t *err);
/** Add a row (its strings are copied). Codes must be Guizhou's (52xxxx) and names non-empty;
 *  a code listed twice, or an old code changed twice, is refused. JC_ERR_PARSE, naming the row,
 *  for bad data; JC_ERR_INVALID_ARG once the snapshot is finished. */
JC_API jc_status_t jc_reference_add_prefecture(jc_reference_t *r, const jc_prefecture_t *p,
                                               jc_error_t *err);
JC_API jc_status_t jc_reference_add_county(jc_reference_t *r, const jc_county_t *c,
                                           jc_error_t *err);
JC_API jc_status_t jc_reference_add_change(jc_reference_t *r, const jc_code_change_t *ch,
                                           jc_error_t *err);
/** Index the rows and resolve every code's chain; version is only recorded (the database's
 *  jiceng.reference_version, 0 for the built-in data). JC_ERR_PARSE if there is no county, a
 *  county's prefecture is missing, a county code is listed twice or the changes form a cycle. */
JC_API jc_status_t jc_reference_finish(jc_reference_t *r, int64_t version, jc_error_t *err);

/** Read jiceng.prefectures, jiceng.counties, jiceng.code_changes and the version (migration
 *  009) in one repeatable-read transaction into a finished snapshot. JC_ERR_PG if a statement
 *  failed, JC_ERR_PARSE (naming the table and code) if the data is inconsistent. */
JC_API jc_status_t jc_reference_load_pg(struct pg_conn *conn, jc_reference_t **out,
                                        jc_error_t *err);
/** jiceng.reference_version: bumped by every change of the three tables. */
JC_API jc_status_t jc_reference_version_pg(struct pg_conn *conn, int64_t *version,
                                           jc_error_t *err);

/** Make the finished snapshot r the installed one. From then on the library owns it and never
 *  frees it (jc_reference_free ignores it); installing one installed before is allowed. */
JC_API jc_status_t jc_reference_install(const jc_reference_t *r, jc_error_t *err);
/** Free a snapshot that was never installed (NULL and installed ones are ignored). */
JC_API void jc_reference_free(jc_reference_t *r);

/** Do a and b hold the same prefectures and counties (codes, names, kind) and map the same old
 *  codes to the same new ones (the version, years and texts of the changes aside)? */
JC_API int jc_reference_equal(const jc_reference_t *a, const jc_reference_t *b);
/** How many codes resolve differently in a and b (a county added, a mapping changed, ...). */
JC_API size_t jc_reference_diff(const jc_reference_t *a, const jc_reference_t *b);
JC_API int64_t jc_reference_version(const jc_reference_t *r);
/** The rows, counties in code order (valid as long as r). */
JC_API const jc_county_t *jc_reference_counties(const jc_reference_t *r, size_t *n);
JC_API const jc_prefecture_t *jc_reference_prefectures(const jc_reference_t *r, size_t *n);
JC_API const jc_code_change_t *jc_reference_changes(const jc_reference_t *r, size_t *n);
/** jc_county_resolve in snapshot r. */
JC_API jc_status_t jc_reference_resolve(const jc_reference_t *r, int32_t code, int32_t *current,
                                        jc_error_t *err);

#ifdef __cplusplus
}
#endif
#endif
