-- Version 4 undone: the signature rows lose their covers digests.
-- Migrated with earlier versions in one transaction, their deferred
-- foreign-key checks must run before the table can change.
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE signatures DROP COLUMN covers;
SET CONSTRAINTS ALL DEFERRED;
