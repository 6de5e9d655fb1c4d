/*
 * FlinkPeer: the Flink SQL job that bench/peers/flink.sh runs beside jiceng-aggregate, what a
 * data team would deploy instead of it (issue 14, item 5).
 *
 * How it works. A plain main: the TableEnvironment starts an in-process mini-cluster
 * (parallelism 2, the machine's cores). A Kafka table reads the visits as JSON (one object a
 * record, the Avro schema's fields, occurred_at in epoch milliseconds) from the topic's first
 * offset to its end at start (bounded: the job finishes there), over TLS with a client
 * certificate (PEM key store and trust store). A view maps an old county code to its current
 * one (a scalar function over schemas/reference/guizhou_code_changes.csv) and takes the
 * Asia/Shanghai day of occurred_at. Then, by variant:
 *   nodedup    visits_daily grouped by county, day and cadre level, every record counted;
 *   dedup      the same after a first-row deduplication by event_id (ROW_NUMBER over proctime);
 *   same-work  dedup, plus the distinct (county, day, cadre) table visit_cadres: the work
 *              jiceng-aggregate does.
 * Each result is upserted into PostgreSQL by the JDBC connector (primary key = the group key)
 * into SCHEMA.visits_daily and SCHEMA.visit_cadres, tables flink.sh makes in a scratch database.
 * The JDBC URL names the role and TLS (sslmode=verify-full); the password comes from the
 * PGPASSFILE the driver reads, never from the command line.
 *
 * Whatever the mini-cluster listens on (REST, blob server, shuffle) binds 127.0.0.1 only.
 *
 * It prints one line, "flink-peer VARIANT: job S s, job cpu C s, process cpu P s, peak rss K
 * KiB": the wall time from submitting the statements to the job's end (JVM start and planning
 * excluded), the process's CPU time over that window and in all, and its peak resident set.
 *
 * usage: FlinkPeer VARIANT BOOTSTRAP TOPIC GROUP KEYSTORE_PEM CA_PEM JDBC_URL SCHEMA CODE_CHANGES_CSV
 */
package jiceng.peers;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;

import org.apache.flink.configuration.Configuration;
import org.apache.flink.table.api.EnvironmentSettings;
import org.apache.flink.table.api.StatementSet;
import org.apache.flink.table.api.TableEnvironment;
import org.apache.flink.table.functions.ScalarFunction;

public final class FlinkPeer {
    private FlinkPeer() {}

    /** An old county code mapped to its current one; any other code unchanged. */
    public static final class CurrentCounty extends ScalarFunction {
        private final HashMap<Integer, Integer> changes;

        public CurrentCounty(HashMap<Integer, Integer> changes) {
            this.changes = changes;
        }

        public Integer eval(Integer code) {
            Integer c = code;
            for (int hops = 0; c != null && hops < 8 && changes.containsKey(c); hops++) {
                c = changes.get(c);
            }
            return c;
        }
    }

    /** old_code -> new_code from the reference CSV (rows without an old code are skipped). */
    static HashMap<Integer, Integer> readChanges(Path csv) throws IOException {
        HashMap<Integer, Integer> m = new HashMap<>();
        List<String> lines = Files.readAllLines(csv, StandardCharsets.UTF_8);
        for (String line : lines.subList(1, lines.size())) {
            String[] f = line.split(",", 4);
            if (f.length >= 3 && f[0].matches("[0-9]{6}") && f[2].matches("[0-9]{6}")) {
                m.put(Integer.valueOf(f[0]), Integer.valueOf(f[2]));
            }
        }
        return m;
    }

    /** The job's settings, KEY, VALUE pairs. */
    static final String[] SETTINGS = {
        "parallelism.default", "2",
        "table.local-time-zone", "Asia/Shanghai",
        "table.exec.mini-batch.enabled", "true",
        "table.exec.mini-batch.allow-latency", "2 s",
        "table.exec.mini-batch.size", "5000",
        "table.optimizer.agg-phase-strategy", "TWO_PHASE",
        "pipeline.object-reuse", "true",
        "rest.bind-address", "127.0.0.1",
        "rest.address", "127.0.0.1",
        "rest.bind-port", "0",
        "jobmanager.bind-host", "127.0.0.1",
        "taskmanager.bind-host", "127.0.0.1",
        "taskmanager.host", "127.0.0.1",
    };

    static Configuration settings() {
        Configuration c = new Configuration();
        for (int i = 0; i < SETTINGS.length; i += 2) {
            c.setString(SETTINGS[i], SETTINGS[i + 1]);
        }
        return c;
    }

    static String quote(String s) {
        return "'" + s.replace("'", "''") + "'";
    }

    static String source(String bootstrap, String topic, String group, String keystore, String ca) {
        return "CREATE TEMPORARY TABLE visits_json (\n"
                + "  event_id STRING, occurred_at BIGINT, county_code INT, source STRING,\n"
                + "  cadre_id STRING, cadre_level STRING, township STRING, village STRING,\n"
                + "  households_visited INT, people_met INT, deeds_done INT, problems_solved INT,\n"
                + "  stayed_overnight BOOLEAN, hours_on_site INT, proc AS PROCTIME()\n"
                + ") WITH (\n"
                + "  'connector' = 'kafka', 'topic' = " + quote(topic) + ",\n"
                + "  'properties.bootstrap.servers' = " + quote(bootstrap) + ",\n"
                + "  'properties.group.id' = " + quote(group) + ",\n"
                + "  'properties.security.protocol' = 'SSL',\n"
                + "  'properties.ssl.keystore.type' = 'PEM',\n"
                + "  'properties.ssl.keystore.location' = " + quote(keystore) + ",\n"
                + "  'properties.ssl.truststore.type' = 'PEM',\n"
                + "  'properties.ssl.truststore.location' = " + quote(ca) + ",\n"
                + "  'scan.startup.mode' = 'earliest-offset',\n"
                + "  'scan.bounded.mode' = 'latest-offset',\n"
                + "  'format' = 'json', 'json.fail-on-missing-field' = 'true'\n"
                + ")";
    }

    static String sink(String name, String columns, String key, String url, String schema) {
        return "CREATE TEMPORARY TABLE " + name + " (" + columns + ", PRIMARY KEY (" + key
                + ") NOT ENFORCED) WITH ('connector' = 'jdbc', 'url' = " + quote(url)
                + ", 'table-name' = " + quote(schema + "." + name)
                + ", 'sink.buffer-flush.max-rows' = '5000', 'sink.buffer-flush.interval' = '1 s')";
    }

    static final String DAILY_COLUMNS = "county_code INT, `day` DATE, cadre_level STRING, visits BIGINT,"
            + " households_visited BIGINT, people_met BIGINT, deeds_done BIGINT, problems_solved BIGINT,"
            + " overnight_stays BIGINT, hours_on_site BIGINT";

    static final String DAILY_INSERT = "INSERT INTO visits_daily SELECT county_code, `day`, cadre_level,"
            + " COUNT(*), SUM(CAST(households_visited AS BIGINT)), SUM(CAST(people_met AS BIGINT)),"
            + " SUM(CAST(deeds_done AS BIGINT)), SUM(CAST(problems_solved AS BIGINT)),"
            + " SUM(CAST(CASE WHEN stayed_overnight THEN 1 ELSE 0 END AS BIGINT)),"
            + " SUM(CAST(hours_on_site AS BIGINT)) FROM %s GROUP BY county_code, `day`, cadre_level";

    static long peakRssKib() throws IOException {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmHWM:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        return -1;
    }

    static double cpuSeconds() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime() / 1e9;
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 9 || !List.of("nodedup", "dedup", "same-work").contains(args[0])) {
            System.err.println("usage: FlinkPeer nodedup|dedup|same-work BOOTSTRAP TOPIC GROUP"
                    + " KEYSTORE_PEM CA_PEM JDBC_URL SCHEMA CODE_CHANGES_CSV");
            System.exit(2);
        }
        String variant = args[0], url = args[6], schema = args[7];
        TableEnvironment env = TableEnvironment.create(
                EnvironmentSettings.newInstance().inStreamingMode().withConfiguration(settings()).build());
        env.createTemporarySystemFunction("CURRENT_COUNTY", new CurrentCounty(readChanges(Path.of(args[8]))));
        env.executeSql(source(args[1], args[2], args[3], args[4], args[5]));
        env.executeSql("CREATE TEMPORARY VIEW visits AS SELECT event_id, CURRENT_COUNTY(county_code) AS county_code,"
                + " CAST(TO_TIMESTAMP_LTZ(occurred_at, 3) AS DATE) AS `day`, cadre_id, cadre_level,"
                + " households_visited, people_met, deeds_done, problems_solved, stayed_overnight,"
                + " hours_on_site, proc FROM visits_json");
        env.executeSql("CREATE TEMPORARY VIEW first_visits AS SELECT * FROM (SELECT *, ROW_NUMBER()"
                + " OVER (PARTITION BY event_id ORDER BY proc ASC) AS rn FROM visits) WHERE rn = 1");
        env.executeSql(sink("visits_daily", DAILY_COLUMNS, "county_code, `day`, cadre_level", url, schema));
        StatementSet set = env.createStatementSet();
        set.addInsertSql(String.format(DAILY_INSERT, variant.equals("nodedup") ? "visits" : "first_visits"));
        if (variant.equals("same-work")) {
            env.executeSql(sink("visit_cadres", "county_code INT, `day` DATE, cadre_id STRING",
                    "county_code, `day`, cadre_id", url, schema));
            set.addInsertSql("INSERT INTO visit_cadres SELECT DISTINCT county_code, `day`, cadre_id FROM first_visits");
        }
        double cpu0 = cpuSeconds();
        long t0 = System.nanoTime();
        set.execute().await();
        double job = (System.nanoTime() - t0) / 1e9, cpu1 = cpuSeconds();
        System.out.printf("flink-peer %s: job %.3f s, job cpu %.2f s, process cpu %.2f s, peak rss %d KiB%n",
                variant, job, cpu1 - cpu0, cpu1, peakRssKib());
        System.exit(0);
    }
}
