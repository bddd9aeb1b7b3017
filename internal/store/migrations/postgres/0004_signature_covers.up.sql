-- Version 4: a signature row may name a set of signatures that all belong
-- to its finding (covers: the first 16 bytes of a SHA-256 over the set,
-- sorted, each part length-prefixed). A rescan whose sighting brings
-- exactly that set, with this signature first, needs no check that its
-- finding holds the others. NULL: nothing known, check as before. Only
-- ever set on a row after the set's every signature was its finding's;
-- signatures never leave a finding (one that two writers created at once
-- is folded, whole, into the first), so it stays true.
-- Migrated with earlier versions in one transaction, their deferred
-- foreign-key checks must run before the table can change.
SET CONSTRAINTS ALL IMMEDIATE;
ALTER TABLE signatures ADD COLUMN covers bytea;
SET CONSTRAINTS ALL DEFERRED;
