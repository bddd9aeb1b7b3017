-- Version 4 undone: the signature rows lose their covers digests.
ALTER TABLE signatures DROP COLUMN covers;
