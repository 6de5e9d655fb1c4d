/*
 * secrets.c: recognising secrets in the programs' settings and masking them for display
 * (cli.h, "secrets").
 *
 * A setting holds a secret when its name says so (a word such as password, passphrase, secret or
 * token in it, or librdkafka's inline private key ssl.key.pem) or when its value is a PostgreSQL
 * conninfo that carries a password: keyword form `password=...` (quoted or not), a URI's
 * `user:password@` or its query parameter `password=...`. Masking replaces exactly those
 * password texts with "***" and leaves the rest (host, port, user, database) readable, so a
 * message can still say where a program tried to connect.
 */
#include "cli.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

/* Words that make a setting's name a secret's (case-insensitive, anywhere in the name). */
static const char *const secret_words[] = {"password", "passwd", "passphrase", "secret",
                                           "token", "key.pem"};

static bool contains_word(const char *s, const char *word)
{
    size_t n = strlen(word);
    for (; *s; s++)
        if (strncasecmp(s, word, n) == 0)
            return true;
    return false;
}

bool jc_cli_secret_name(const char *name)
{
    if (name == NULL)
        return false;
    for (size_t i = 0; i < sizeof secret_words / sizeof secret_words[0]; i++)
        if (contains_word(name, secret_words[i]))
            return true;
    return false;
}

/* A password found in a value: the bytes [start, end) are the secret. */
struct span {
    size_t start, end;
};

/* In a URI "scheme://user:password@host...", the password of the user information. */
static bool uri_userinfo_password(const char *v, struct span *out)
{
    const char *scheme_end = strstr(v, "://");
    if (scheme_end == NULL)
        return false;
    const char *auth = scheme_end + 3;
    size_t auth_len = strcspn(auth, "/?#");
    const char *at = NULL;
    for (size_t i = 0; i < auth_len; i++) /* the last '@' of the authority ends userinfo */
        if (auth[i] == '@')
            at = auth + i;
    if (at == NULL)
        return false;
    const char *colon = memchr(auth, ':', (size_t)(at - auth));
    if (colon == NULL)
        return false;
    out->start = (size_t)(colon + 1 - v);
    out->end = (size_t)(at - v);
    return true;
}

/* The end of a keyword-form value starting at i: a quoted one ends after its closing quote
 * (backslash escapes), a bare one at white space; in a URI (uri) at '&' or '#' as well. */
static size_t value_end(const char *v, size_t i, bool uri)
{
    if (!uri && v[i] == '\'') {
        for (i++; v[i] != '\0' && v[i] != '\''; i++)
            if (v[i] == '\\' && v[i + 1] != '\0')
                i++;
        return v[i] == '\'' ? i + 1 : i;
    }
    while (v[i] != '\0' && !isspace((unsigned char)v[i]) && !(uri && (v[i] == '&' || v[i] == '#')))
        i++;
    return i;
}

/* The next "password = value" at or after *from (keyword form, or a URI query parameter). */
static bool keyword_password(const char *v, size_t *from, struct span *out)
{
    static const char kw[] = "password";
    bool uri = strstr(v, "://") != NULL;
    for (size_t i = *from; v[i] != '\0'; i++) {
        bool boundary = i == 0 || isspace((unsigned char)v[i - 1]) || v[i - 1] == '?' ||
                        v[i - 1] == '&';
        if (!boundary || strncasecmp(v + i, kw, sizeof kw - 1) != 0)
            continue;
        size_t j = i + sizeof kw - 1;
        while (isspace((unsigned char)v[j]))
            j++;
        if (v[j] != '=')
            continue;
        j++;
        while (!uri && isspace((unsigned char)v[j]))
            j++;
        out->start = j;
        out->end = value_end(v, j, uri);
        *from = out->end > j ? out->end : j + 1;
        return true;
    }
    return false;
}

bool jc_cli_value_has_password(const char *value)
{
    struct span s;
    size_t from = 0;
    return value != NULL &&
           (uri_userinfo_password(value, &s) || keyword_password(value, &from, &s));
}

/* Append n bytes of s to buf (size len) at *pos, truncating. */
static void put(char *buf, size_t len, size_t *pos, const char *s, size_t n)
{
    while (n-- > 0 && *pos + 1 < len)
        buf[(*pos)++] = *s++;
    buf[*pos < len ? *pos : len - 1] = '\0';
}

const char *jc_cli_mask(const char *value, char *buf, size_t len)
{
    if (buf == NULL || len == 0)
        return "";
    buf[0] = '\0';
    if (value == NULL)
        return buf;
    struct span spans[16];
    size_t n = 0, from = 0;
    if (uri_userinfo_password(value, &spans[0]))
        n = 1;
    while (n < sizeof spans / sizeof spans[0] && keyword_password(value, &from, &spans[n]))
        n++;
    if (n == sizeof spans / sizeof spans[0]) {
        put(buf, len, &(size_t){0}, "***", 3); /* too many to show safely: show none */
        return buf;
    }
    size_t pos = 0, at = 0;
    for (size_t k = 0; k < n; k++) { /* spans come in order: userinfo first, then keywords */
        if (spans[k].start < at)
            continue;
        put(buf, len, &pos, value + at, spans[k].start - at);
        put(buf, len, &pos, "***", 3);
        at = spans[k].end;
    }
    put(buf, len, &pos, value + at, strlen(value + at));
    return buf;
}
