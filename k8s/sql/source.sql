-- Once, on the source database, as the owner of the replicated tables:  psql -v ON_ERROR_STOP=1 -f k8s/sql/source.sql
-- Put your tables in place of public.customers and public.orders (three lists), then give both roles a password:
--   \password debezium
--   \password replicator_read

-- Debezium Server: logical replication of the published tables, nothing more (no superuser).
CREATE ROLE debezium LOGIN REPLICATION;
-- Its offsets: the unqualified table debezium_offsets lands in this schema through the default search_path
-- ("$user", public), outside the publication.
CREATE SCHEMA debezium AUTHORIZATION debezium;
GRANT USAGE ON SCHEMA public TO debezium;
GRANT SELECT ON public.customers, public.orders TO debezium;
-- Exactly the replicated tables: debezium.source.publication.autocreate.mode=disabled uses this one.
CREATE PUBLICATION replicator FOR TABLE public.customers, public.orders;

-- replicator's backfill, verify, rowref and repair only read the source.
CREATE ROLE replicator_read LOGIN;
ALTER ROLE replicator_read SET default_transaction_read_only = on;
GRANT USAGE ON SCHEMA public TO replicator_read;
GRANT SELECT ON public.customers, public.orders TO replicator_read;
-- The sequences of the replicated tables' serial and identity columns, read to move the target's forward
-- (replicator.sequences.sync, POST /sequences): pg_sequences shows last_value only to a role that may read them.
GRANT SELECT ON SEQUENCE public.customers_id_seq TO replicator_read;
