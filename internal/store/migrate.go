package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The schema's versions, one folder per backend, one NNNN_name.up.sql and
// one NNNN_name.down.sql per version. The same number means the same
// schema on both backends.
//
//go:embed migrations
var migrationFS embed.FS

type migration struct {
	version  int
	name     string
	up, down string
}

// migrations returns a backend's migrations in version order.
func migrations(b Backend) ([]migration, error) {
	dir := path.Join("migrations", string(b))
	ents, err := fs.ReadDir(migrationFS, dir)
	if err != nil {
		return nil, err
	}
	byVersion := map[int]*migration{}
	for _, e := range ents {
		name := e.Name()
		var dirn string
		switch {
		case strings.HasSuffix(name, ".up.sql"):
			dirn = "up"
		case strings.HasSuffix(name, ".down.sql"):
			dirn = "down"
		default:
			continue
		}
		num, rest, ok := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must be NNNN_name.{up,down}.sql", name)
		}
		body, err := fs.ReadFile(migrationFS, path.Join(dir, name))
		if err != nil {
			return nil, err
		}
		m := byVersion[v]
		if m == nil {
			m = &migration{version: v, name: strings.TrimSuffix(strings.TrimSuffix(rest, ".up.sql"), ".down.sql")}
			byVersion[v] = m
		}
		if dirn == "up" {
			m.up = string(body)
		} else {
			m.down = string(body)
		}
	}
	var out []migration
	for _, m := range byVersion {
		if m.up == "" || m.down == "" {
			return nil, fmt.Errorf("migration %s/%04d_%s: needs both an up and a down file", b, m.version, m.name)
		}
		out = append(out, *m)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migrations %s: version %d missing", b, i+1)
		}
	}
	return out, nil
}

// SchemaVersion is the schema version this binary writes: the newest
// embedded migration.
func SchemaVersion() int {
	ms, err := migrations(BackendSQLite)
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].version
}

// migrator is what migrate needs of an open database.
type migrator interface {
	backend() Backend
	// beginMigration starts the transaction migrations run in, holding
	// whatever lock keeps two processes from migrating at once.
	beginMigration(ctx context.Context) (sqlTx, error)
}

// migrateTo moves the schema up or down to version target (-1: the
// newest) in one transaction, recording each step in schema_version.
func migrateTo(ctx context.Context, m migrator, target int) error {
	ms, err := migrations(m.backend())
	if err != nil {
		return err
	}
	if target < 0 {
		target = len(ms)
	}
	if target > len(ms) {
		return fmt.Errorf("schema version %d is newer than this binary knows (%d)", target, len(ms))
	}
	tx, err := m.beginMigration(ctx)
	if err != nil {
		return err
	}
	defer tx.rollback(ctx) //nolint:errcheck // a no-op after commit
	if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`); err != nil {
		return fmt.Errorf("schema_version: %w", err)
	}
	cur, err := currentVersion(ctx, tx)
	if err != nil {
		return err
	}
	if cur > len(ms) {
		return fmt.Errorf("the store's schema is version %d, newer than this binary knows (%d): upgrade dracon", cur, len(ms))
	}
	if cur == target {
		unchanged(tx)
		return tx.commit(ctx)
	}
	for _, mg := range ms {
		if mg.version <= cur || mg.version > target {
			continue
		}
		if _, err := tx.exec(ctx, mg.up); err != nil {
			return fmt.Errorf("migration %04d_%s up: %w", mg.version, mg.name, err)
		}
		if _, err := tx.exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, `+nowSQL(m.backend())+`)`, mg.version, mg.name); err != nil {
			return err
		}
	}
	for i := len(ms) - 1; i >= 0; i-- {
		mg := ms[i]
		if mg.version > cur || mg.version <= target {
			continue
		}
		if _, err := tx.exec(ctx, mg.down); err != nil {
			return fmt.Errorf("migration %04d_%s down: %w", mg.version, mg.name, err)
		}
		if _, err := tx.exec(ctx, `DELETE FROM schema_version WHERE version = ?`, mg.version); err != nil {
			return err
		}
	}
	return tx.commit(ctx)
}

// unchanged tells a migration transaction that it migrated nothing, so
// its commit need not check every foreign key of the store (on SQLite a
// scan of every table: half a second at 100,000 findings, more at a
// million, on every open).
func unchanged(tx sqlTx) {
	if u, ok := tx.(interface{ unchanged() }); ok {
		u.unchanged()
	}
}

func nowSQL(b Backend) string {
	if b == BackendPostgres {
		return `to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"')`
	}
	return `strftime('%Y-%m-%dT%H:%M:%SZ', 'now')`
}

func currentVersion(ctx context.Context, q querier) (int, error) {
	rows, err := q.query(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_version`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	v := 0
	if rows.Next() {
		if err := rows.Scan(&v); err != nil {
			return 0, err
		}
	}
	return v, rows.Err()
}

// Migrate moves the store a DSN names to schema version target (0 undoes
// every migration; -1 is the newest), without opening it for use. Open
// migrates up by itself; this is for tests and for going back.
func Migrate(ctx context.Context, dsn string, target int) error {
	kind, t, err := ParseDSN(dsn)
	if err != nil {
		return err
	}
	var m interface {
		migrator
		closeDB() error
	}
	switch kind {
	case BackendPostgres:
		p, err := dialPostgres(ctx, t)
		if err != nil {
			return err
		}
		m = p
	default:
		s, err := dialSQLite(t)
		if err != nil {
			return err
		}
		m = s
	}
	defer m.closeDB() //nolint:errcheck
	return migrateTo(ctx, m, target)
}

// Version returns the schema version of the store a DSN names.
func Version(ctx context.Context, dsn string) (int, error) {
	kind, t, err := ParseDSN(dsn)
	if err != nil {
		return 0, err
	}
	var m interface {
		migrator
		closeDB() error
	}
	switch kind {
	case BackendPostgres:
		p, err := dialPostgres(ctx, t)
		if err != nil {
			return 0, err
		}
		m = p
	default:
		s, err := dialSQLite(t)
		if err != nil {
			return 0, err
		}
		m = s
	}
	defer m.closeDB() //nolint:errcheck
	tx, err := m.beginMigration(ctx)
	if err != nil {
		return 0, err
	}
	defer tx.rollback(ctx) //nolint:errcheck
	if _, err := tx.exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
	version    INTEGER PRIMARY KEY,
	name       TEXT NOT NULL,
	applied_at TEXT NOT NULL
)`); err != nil {
		return 0, err
	}
	v, err := currentVersion(ctx, tx)
	if err != nil {
		return 0, err
	}
	unchanged(tx)
	return v, tx.commit(ctx)
}
