-- Once, on the target database, as the owner of the replicated tables:  psql -v ON_ERROR_STOP=1 -f k8s/sql/target.sql
-- Put your tables in place of public.customers and public.orders, then give the role a password:
--   \password replicator_write

-- replicator writes the mapped tables (TRUNCATE only for replicator.apply-truncate) and nothing else of yours.
CREATE ROLE replicator_write LOGIN;
GRANT USAGE ON SCHEMA public TO replicator_write;
GRANT SELECT, INSERT, UPDATE, DELETE, TRUNCATE ON public.customers, public.orders TO replicator_write;
-- The sequences of their serial and identity columns, which replicator moves forward after each pull and backfill
-- (replicator.sequences.sync): it reads each first, so that one ahead is never moved back. One line per sequence.
GRANT SELECT, UPDATE ON SEQUENCE public.customers_id_seq TO replicator_write;
-- Its own tables (row positions, backfill progress, parked events), which it creates at start in this schema
-- (replicator.ordering.schema).
CREATE SCHEMA replicator AUTHORIZATION replicator_write;
-- replicator runs CREATE SCHEMA IF NOT EXISTS at start, which PostgreSQL refuses without CREATE on the database even
-- when the schema exists. The grant also lets the role create other (empty, its own) schemas; it gives no access to
-- anyone else's tables. (Replace app with your database's name.)
GRANT CREATE ON DATABASE app TO replicator_write;
-- Before PostgreSQL 15 every role may create tables in public: REVOKE CREATE ON SCHEMA public FROM PUBLIC.
-- Only with replicator.schema.evolution=add, where replicator adds columns to the replicated tables and creates the
-- tables, enums and domains the target lacks: it must own the tables (ALTER TABLE ... ADD COLUMN) and may create in
-- their schema. Without these, such a change is answered 422 naming the privilege, and nothing of it is written.
--   ALTER TABLE public.customers OWNER TO replicator_write;
--   ALTER TABLE public.orders OWNER TO replicator_write;
--   GRANT CREATE ON SCHEMA public TO replicator_write;
