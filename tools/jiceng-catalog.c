/*
 * jiceng-catalog: print the schema catalog built into libjiceng: every schema version's id,
 * event type, version, CRC-64-AVRO fingerprint (of the Parsing Canonical Form, as the 64-bit
 * value Java's SchemaNormalization.parsingFingerprint64 returns) and topic; or one schema's
 * text with --schema ID. Options come from the shared configuration mechanism (cli.h); the
 * catalog needs no service, so the program takes no Kafka properties.
 */
#include <limits.h>
#include <stdio.h>

#include "cli.h"
#include "jiceng/catalog.h"

static const jc_option_t options[] = {
    {"catalog.schema", "schema", NULL, NULL, "ID", "print the Avro schema with this id"},
    {"catalog.csv", "csv", NULL, "false", NULL,
     "print the catalog as CSV (id,type,version,fingerprint,topic,file,latest)"},
};

static const jc_program_t program = {
    .name = "jiceng-catalog",
    .synopsis = "[--schema ID] [--csv]",
    .about = "Prints the schema catalog built into libjiceng (ids are fixed in\n"
             "schemas/avro/catalog.csv and never reused).",
    .epilogue = "exit status: 0 ok, 1 unknown id or unusable catalog, 2 usage error",
    .options = options,
    .noptions = sizeof options / sizeof options[0],
    .no_kafka = true,
};

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

static jc_exit_t print_schema(long id)
{
    const jc_schema_info_t *s = jc_catalog_by_id((int)id);
    if (s == NULL)
        return jc_cli_fail(program.name, JC_EXIT_FAILURE, "no schema with id %ld", id);
    fputs(s->json, stdout);
    return JC_EXIT_OK;
}

int main(int argc, char **argv)
{
    jc_config_t *cfg = NULL;
    int rc = jc_config_main(&program, argc, argv, &cfg);
    if (rc >= 0)
        return rc;
    int noperands;
    jc_config_operands(cfg, &noperands);
    bool csv = false;
    long id = 0;
    jc_error_t err;
    const char *schema = jc_config_get(cfg, "catalog.schema");
    if (noperands != 0)
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "no operands expected\n%s: see --help",
                         program.name);
    else if (jc_config_get_bool(cfg, "catalog.csv", &csv, &err) != JC_OK ||
             (schema != NULL &&
              jc_config_get_long(cfg, "catalog.schema", 0, INT_MAX, &id, &err) != JC_OK))
        rc = jc_cli_fail(program.name, JC_EXIT_USAGE, "%s", err.message);
    else if (jc_catalog_init(&err) != JC_OK)
        rc = jc_cli_fail(program.name, JC_EXIT_FAILURE, "%s", err.message);
    else if (schema != NULL)
        rc = print_schema(id);
    else {
        print_table(csv);
        rc = JC_EXIT_OK;
    }
    jc_config_free(cfg);
    return rc;
}
