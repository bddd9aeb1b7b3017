-- The test advisories for grype (its v6 model, as in
-- internal/producers/grype/testdata/grypedb/advisories.sql): GitHub's ids,
-- which alias the CVEs govulncheck's GO- entries name.
INSERT INTO db_metadata VALUES ('2025-01-02 00:00:00+00:00', 6, 1, 10);
INSERT INTO providers VALUES ('github', '1', 'dracon-test', '2025-01-02 00:00:00+00:00', 'xxh64:0000000000000000');
INSERT INTO package_specifier_overrides VALUES ('go', 'go-module'), ('golang', 'go-module');
INSERT INTO packages VALUES (1, 'go-module', 'example.com/fakelib');

-- 1. GO-2099-0101: Parse, which caller and idle/tools call.
INSERT INTO blobs VALUES (1, '{"id":"GHSA-fake-lib0-pars","assigner":["dracon"],"description":"Out-of-bounds read in example.com/fakelib Parse (test advisory)","refs":[{"url":"https://example.com/advisories/GHSA-fake-lib0-pars"}],"aliases":["CVE-2099-0101"],"severities":[{"scheme":"CHMLN","value":"high","rank":1}]}');
INSERT INTO vulnerability_handles VALUES (1, 'GHSA-fake-lib0-pars', 'active', '2025-01-01 00:00:00+00:00', '2025-01-02 00:00:00+00:00', NULL, 'github', 1);
INSERT INTO vulnerability_aliases VALUES ('GHSA-fake-lib0-pars', 'CVE-2099-0101');
INSERT INTO blobs VALUES (2, '{"ranges":[{"version":{"type":"go","constraint":"<1.0.1"},"fix":{"version":"1.0.1","state":"fixed"}}]}');
INSERT INTO affected_package_handles VALUES (1, 1, NULL, 1, 2);

-- 2. GO-2099-0102: a package no test module imports.
INSERT INTO blobs VALUES (3, '{"id":"GHSA-fake-lib0-wire","assigner":["dracon"],"description":"Panic in example.com/fakelib/wire Decode (test advisory)","aliases":["CVE-2099-0102"],"severities":[{"scheme":"CHMLN","value":"medium","rank":1}]}');
INSERT INTO vulnerability_handles VALUES (2, 'GHSA-fake-lib0-wire', 'active', '2025-01-01 00:00:00+00:00', '2025-01-02 00:00:00+00:00', NULL, 'github', 3);
INSERT INTO vulnerability_aliases VALUES ('GHSA-fake-lib0-wire', 'CVE-2099-0102');
INSERT INTO blobs VALUES (4, '{"ranges":[{"version":{"type":"go","constraint":"<1.0.1"},"fix":{"version":"1.0.1","state":"fixed"}}]}');
INSERT INTO affected_package_handles VALUES (2, 2, NULL, 1, 4);
