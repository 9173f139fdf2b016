package dev.replicator.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import javax.sql.DataSource;

import org.postgresql.PGConnection;
import org.postgresql.ds.PGSimpleDataSource;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

/**
 * Two real PostgreSQL servers for tests, one playing the source and one the target, started once per JVM. Tests
 * create their own databases on them so they do not see each other's rows.
 */
public final class TestDatabases {

    private static EmbeddedPostgres source;
    private static EmbeddedPostgres target;

    private TestDatabases() {
    }

    public static synchronized EmbeddedPostgres source() {
        if (source == null) {
            source = start();
        }
        return source;
    }

    public static synchronized EmbeddedPostgres target() {
        if (target == null) {
            target = start();
        }
        return target;
    }

    private static EmbeddedPostgres start() {
        return start(Map.of("max_connections", "200"));
    }

    /** A server of its own, in UTC, with these settings, stopped when the JVM exits. */
    static EmbeddedPostgres start(Map<String, String> serverConfig) {
        try {
            EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder().setServerConfig("timezone", "UTC");
            serverConfig.forEach(builder::setServerConfig);
            EmbeddedPostgres postgres = builder.start();
            Runtime.getRuntime().addShutdownHook(new Thread(() -> {
                try {
                    postgres.close();
                } catch (IOException ignored) {
                    // the JVM is exiting
                }
            }));
            return postgres;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Creates a fresh, empty database on the server (dropping one of that name) and returns its data source. */
    public static DataSource freshDatabase(EmbeddedPostgres server, String name) {
        try (Connection connection = server.getPostgresDatabase().getConnection();
                Statement statement = connection.createStatement()) {
            statement.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
            statement.execute("CREATE DATABASE " + name);
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return dataSource(server, name);
    }

    public static PGSimpleDataSource dataSource(EmbeddedPostgres server, String name) {
        PGSimpleDataSource ds = new PGSimpleDataSource();
        ds.setServerNames(new String[] { "localhost" });
        ds.setPortNumbers(new int[] { server.getPort() });
        ds.setDatabaseName(name);
        ds.setUser("postgres");
        return ds;
    }

    public static String jdbcUrl(EmbeddedPostgres server, String database) {
        return "jdbc:postgresql://localhost:" + server.getPort() + "/" + database;
    }

    public static void execute(DataSource ds, String sql) {
        try (Connection connection = ds.getConnection(); Statement statement = connection.createStatement()) {
            statement.execute(sql);
        } catch (SQLException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** Runs a SQL script; psql meta-commands ({@code \\set ...} lines) are left out. */
    public static void runScript(DataSource ds, String resource) {
        execute(ds, resource(resource).replaceAll("(?m)^\\\\.*$", ""));
    }

    public static String resource(String resource) {
        try (InputStream in = TestDatabases.class.getResourceAsStream(resource)) {
            if (in == null) {
                throw new IllegalArgumentException("no test resource " + resource);
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The table's rows as PostgreSQL's COPY text, ordered by the given expression. */
    public static String copy(DataSource ds, String select) {
        try (Connection connection = ds.getConnection()) {
            StringWriter out = new StringWriter();
            connection.unwrap(PGConnection.class).getCopyAPI().copyOut("COPY (" + select + ") TO STDOUT", out);
            return out.toString();
        } catch (SQLException | IOException e) {
            throw new IllegalStateException(e.getMessage(), e);
        }
    }

    /** User tables of the public schema, by name. */
    public static List<String> tables(DataSource ds) {
        List<String> tables = new ArrayList<>();
        try (Connection connection = ds.getConnection();
                var rs = connection.createStatement().executeQuery(
                        "SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")) {
            while (rs.next()) {
                tables.add(rs.getString(1));
            }
        } catch (SQLException e) {
            throw new IllegalStateException(e);
        }
        return tables;
    }
}
