-- legacy.sql: a state directory made before the stack was secured had one application role,
-- jiceng, with CREATEROLE (which lets it make itself superuser-equivalent) and the superuser's
-- password. deploy/local/stack up migrates such a cluster instead of refusing it, so that no
-- one loses a stack's data to this change: this file runs as the superuser in each database
-- (template0 excepted), after roles.sql, and hands everything jiceng owned to jiceng_migrate
-- and removes every privilege granted to jiceng; then the stack drops the role (in database
-- postgres) and applies database.sql to each database it migrated.
\set ON_ERROR_STOP on
set client_min_messages = warning;
reassign owned by jiceng to jiceng_migrate;
drop owned by jiceng;
