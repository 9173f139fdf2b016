package dev.replicator.source.pull;

import java.security.Principal;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

import javax.sql.DataSource;

import org.postgresql.Driver;
import org.postgresql.PGProperty;
import org.postgresql.ds.common.BaseDataSource;

import io.agroal.api.AgroalDataSource;
import io.agroal.api.configuration.AgroalConnectionFactoryConfiguration;
import io.agroal.api.security.AgroalSecurityProvider;

import dev.replicator.convert.TextSettings;

/**
 * Opens a replication connection ({@code replication=database}) to the database of a pooled datasource, with the same
 * URL, user and password: a pool cannot lend one, as the connection becomes a WAL sender. Its session has the text
 * settings pinned ({@link TextSettings}), as the peeking session has: pgoutput prints every value in it.
 */
final class ReplicationConnector {

    private final String url;
    private final Properties properties;

    private ReplicationConnector(String url, Properties properties) {
        this.url = url;
        this.properties = properties;
        PGProperty.REPLICATION.set(properties, "database");
        PGProperty.ASSUME_MIN_SERVER_VERSION.set(properties, "10");
        PGProperty.PREFER_QUERY_MODE.set(properties, "simple"); // a WAL sender takes only the simple protocol
    }

    /** The connector for this datasource, or null when its connection details cannot be read (then pull peeks). */
    static ReplicationConnector of(DataSource source) {
        try {
            if (source.isWrapperFor(AgroalDataSource.class)) {
                return ofAgroal(source.unwrap(AgroalDataSource.class).getConfiguration().connectionPoolConfiguration()
                        .connectionFactoryConfiguration());
            }
            if (source.isWrapperFor(BaseDataSource.class)) {
                BaseDataSource pg = source.unwrap(BaseDataSource.class);
                Properties properties = new Properties();
                if (pg.getUser() != null) {
                    PGProperty.USER.set(properties, pg.getUser());
                }
                if (pg.getPassword() != null) {
                    PGProperty.PASSWORD.set(properties, pg.getPassword());
                }
                return new ReplicationConnector(pg.getUrl(), properties);
            }
        } catch (SQLException e) {
            return null;
        }
        return null;
    }

    private static ReplicationConnector ofAgroal(AgroalConnectionFactoryConfiguration factory) {
        if (factory.jdbcUrl() == null || !factory.jdbcUrl().startsWith("jdbc:postgresql:")) {
            return null;
        }
        Properties properties = new Properties();
        properties.putAll(factory.jdbcProperties());
        // as Agroal does for its own connections: each security provider turns what it knows into properties
        List<Object> secrets = new ArrayList<>();
        Principal principal = factory.principal();
        if (principal != null) {
            secrets.add(principal);
        }
        secrets.addAll(factory.credentials());
        for (Object secret : secrets) {
            for (AgroalSecurityProvider provider : factory.securityProviders()) {
                Properties found = provider.getSecurityProperties(secret);
                if (found != null) {
                    properties.putAll(found);
                    break;
                }
            }
        }
        return new ReplicationConnector(factory.jdbcUrl(), properties);
    }

    /** A new replication connection, text settings pinned; the caller closes it. */
    Connection open() throws SQLException {
        // the driver itself, not DriverManager: nothing to look up by service in a native image
        Connection connection = new Driver().connect(url, properties);
        if (connection == null) {
            throw new SQLException("not a PostgreSQL URL: the source datasource's URL is not jdbc:postgresql:", "08001");
        }
        try (Statement pin = connection.createStatement()) {
            pin.execute(TextSettings.SET);
        } catch (SQLException e) {
            connection.close();
            throw e;
        }
        return connection;
    }
}
