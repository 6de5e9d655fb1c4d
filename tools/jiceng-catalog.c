/*
 * jiceng-catalog: print the schema catalog built into libjiceng: every schema version's id,
 * event type, version, CRC-64-AVRO fingerprint (of the Parsing Canonical Form, as the 64-bit
 * value Java's SchemaNormalization.parsingFingerprint64 returns) and topic; or one schema's
 * text with --schema ID.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "jiceng/catalog.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: jiceng-catalog [--schema ID] [--csv]\n"
            "\n"
            "Prints the schema catalog built into libjiceng (ids are fixed in\n"
            "schemas/avro/catalog.csv and never reused).\n"
            "\n"
            "  --schema ID   print the Avro schema with this id\n"
            "  --csv         print the catalog as CSV (id,type,version,fingerprint,topic,file,latest)\n"
            "  -h, --help    this text\n"
            "\n"
            "exit status: 0 ok, 1 unknown id or unusable catalog, 2 usage error\n");
}

static void print_table(int csv)
{
    if (csv)
        printf("id,type,version,fingerprint,topic,file,latest\n");
    else
        printf("%-4s %-20s %-7s %-18s %-26s %s\n", "id", "type", "version", "fingerprint", "topic",
               "file");
    for (size_t i = 0; i < jc_catalog_count(); i++) {
        const jc_schema_info_t *s = jc_catalog_at(i);
        const char *fmt = csv ? "%d,%s,%d,0x%016llx,%s,%s,%s\n" : "%-4d %-20s %-7d 0x%016llx %-26s %s%s\n";
        printf(fmt, (int)s->id, jc_event_type_name(s->type), s->version,
               (unsigned long long)s->fingerprint, jc_event_topic(s->type), s->file,
               csv ? (s->latest ? "true" : "false") : (s->latest ? "  (newest)" : ""));
    }
}

int main(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"schema", required_argument, NULL, 's'},
        {"csv", no_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, csv = 0;
    const char *schema = NULL;
    while ((ch = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's': schema = optarg; break;
        case 'c': csv = 1; break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc) {
        usage(stderr);
        return 2;
    }
    jc_error_t err;
    if (jc_catalog_init(&err) != JC_OK) {
        fprintf(stderr, "jiceng-catalog: %s\n", err.message);
        return 1;
    }
    if (schema == NULL) {
        print_table(csv);
        return 0;
    }
    const jc_schema_info_t *s = jc_catalog_by_id(atoi(schema));
    if (s == NULL) {
        fprintf(stderr, "jiceng-catalog: no schema with id %s\n", schema);
        return 1;
    }
    fputs(s->json, stdout);
    return 0;
}
