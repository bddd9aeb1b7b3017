-- Made-up advisories for TestRealGrype, against testdata/src (go.mod,
-- requirements.txt, package-lock.json). Rows follow grype's v6 model:
-- a vulnerability handle and its JSON blob, a package, and an affected
-- package handle whose blob holds the version ranges and the fix.
INSERT INTO db_metadata VALUES ('2025-01-02 00:00:00+00:00', 6, 1, 10);
INSERT INTO providers VALUES ('github', '1', 'dracon-test', '2025-01-02 00:00:00+00:00', 'xxh64:0000000000000000');
INSERT INTO package_specifier_overrides VALUES ('go', 'go-module'), ('golang', 'go-module'), ('python', 'python'),
  ('pypi', 'python'), ('javascript', 'npm');

-- 1. github.com/google/uuid v1.6.0 < 1.6.1: HIGH, CVE alias.
INSERT INTO blobs VALUES (1, '{"id":"GHSA-test-uuid-0001","assigner":["dracon"],"description":"Predictable UUIDs in github.com/google/uuid (test advisory)","refs":[{"url":"https://example.com/advisories/GHSA-test-uuid-0001"}],"aliases":["CVE-2099-2001"],"severities":[{"scheme":"CHMLN","value":"high","rank":1}]}');
INSERT INTO vulnerability_handles VALUES (1, 'GHSA-test-uuid-0001', 'active', '2025-01-01 00:00:00+00:00', '2025-01-02 00:00:00+00:00', NULL, 'github', 1);
INSERT INTO vulnerability_aliases VALUES ('GHSA-test-uuid-0001', 'CVE-2099-2001');
INSERT INTO packages VALUES (1, 'go-module', 'github.com/google/uuid');
INSERT INTO blobs VALUES (2, '{"ranges":[{"version":{"type":"go","constraint":"<1.6.1"},"fix":{"version":"1.6.1","state":"fixed"}}]}');
INSERT INTO affected_package_handles VALUES (1, 1, NULL, 1, 2);

-- 2. django 3.2.0 in >=3.0,<3.2.1: severity from a CVSS 3.1 vector (9.8, CRITICAL).
INSERT INTO blobs VALUES (3, '{"id":"GHSA-test-djan-0002","assigner":["dracon"],"description":"SQL injection in Django QuerySet (test advisory)","refs":[{"url":"https://example.com/advisories/GHSA-test-djan-0002"}],"severities":[{"scheme":"CVSS","value":{"vector":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H","version":"3.1"},"rank":1}]}');
INSERT INTO vulnerability_handles VALUES (2, 'GHSA-test-djan-0002', 'active', '2025-01-01 00:00:00+00:00', '2025-01-02 00:00:00+00:00', NULL, 'github', 3);
INSERT INTO packages VALUES (2, 'python', 'django');
INSERT INTO blobs VALUES (4, '{"ranges":[{"version":{"type":"python","constraint":">=3.0,<3.2.1"},"fix":{"version":"3.2.1","state":"fixed"}}]}');
INSERT INTO affected_package_handles VALUES (2, 2, NULL, 2, 4);

-- 3. lodash < 4.17.0: does not affect 4.17.11, grype must not report it.
INSERT INTO blobs VALUES (5, '{"id":"GHSA-test-loda-0003","assigner":["dracon"],"description":"Old lodash bug (test advisory)","severities":[{"scheme":"CHMLN","value":"medium","rank":1}]}');
INSERT INTO vulnerability_handles VALUES (3, 'GHSA-test-loda-0003', 'active', '2025-01-01 00:00:00+00:00', '2025-01-02 00:00:00+00:00', NULL, 'github', 5);
INSERT INTO packages VALUES (3, 'npm', 'lodash');
INSERT INTO blobs VALUES (6, '{"ranges":[{"version":{"type":"semver","constraint":"<4.17.0"},"fix":{"version":"4.17.0","state":"fixed"}}]}');
INSERT INTO affected_package_handles VALUES (3, 3, NULL, 3, 6);

-- 4. lodash 4.17.11 < 4.17.12, with no severity at all: grype says Unknown.
INSERT INTO blobs VALUES (7, '{"id":"GHSA-test-loda-0004","assigner":["dracon"],"description":"Prototype pollution in lodash (test advisory)"}');
INSERT INTO vulnerability_handles VALUES (4, 'GHSA-test-loda-0004', 'active', '2025-01-01 00:00:00+00:00', '2025-01-02 00:00:00+00:00', NULL, 'github', 7);
INSERT INTO blobs VALUES (8, '{"ranges":[{"version":{"type":"semver","constraint":">=4.0.0,<4.17.12"},"fix":{"version":"4.17.12","state":"fixed"}}]}');
INSERT INTO affected_package_handles VALUES (4, 4, NULL, 3, 8);
