package dev.replicator.source;

import java.sql.SQLException;
import java.util.Optional;

import dev.replicator.decode.TableId;
import dev.replicator.route.TargetCatalog;
import dev.replicator.route.TargetTable;

/**
 * What the source database says its tables look like: the same catalog queries as for the target, on the source
 * datasource, so table and column names in requests are checked against the source too.
 */
public final class UpstreamCatalog {

    private final TargetCatalog catalog;

    public UpstreamCatalog(TargetCatalog overSource) {
        this.catalog = overSource;
    }

    /** The source table, read fresh (tables may be created between two requests), or empty. */
    public Optional<TargetTable> find(TableId id) throws SQLException {
        catalog.invalidate(id);
        return catalog.find(id);
    }
}
