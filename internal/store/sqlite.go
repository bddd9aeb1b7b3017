package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite: the embedded store needs no cgo and no server
)

// SQLite is the embedded default store: one file, no server.
type SQLite struct {
	db *sql.DB
}

const schema = `
CREATE TABLE IF NOT EXISTS findings (
	hash       TEXT PRIMARY KEY,
	tool       TEXT NOT NULL,
	first_seen INTEGER NOT NULL,
	last_seen  INTEGER NOT NULL,
	count      INTEGER NOT NULL,
	first_scan TEXT NOT NULL,
	last_scan  TEXT NOT NULL
)`

// OpenSQLite opens (creating if needed) a store file.
func OpenSQLite(path string) (*SQLite, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)")
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1) // one writer; SQLite serialises anyway
	if _, err := db.Exec(schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("findings store %s: %w", path, err)
	}
	return &SQLite{db: db}, nil
}

// Observe implements Store.
func (s *SQLite) Observe(ctx context.Context, scanID string, at time.Time, sightings []Sighting) ([]Record, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback() //nolint:errcheck // a no-op after Commit
	get, err := tx.PrepareContext(ctx, `SELECT first_seen, last_seen, count, first_scan, last_scan FROM findings WHERE hash = ?`)
	if err != nil {
		return nil, err
	}
	ins, err := tx.PrepareContext(ctx, `INSERT INTO findings (hash, tool, first_seen, last_seen, count, first_scan, last_scan) VALUES (?, ?, ?, ?, 1, ?, ?)`)
	if err != nil {
		return nil, err
	}
	upd, err := tx.PrepareContext(ctx, `UPDATE findings SET last_seen = ?, count = count + 1, last_scan = ? WHERE hash = ?`)
	if err != nil {
		return nil, err
	}
	now := at.UnixMilli()
	out := make([]Record, len(sightings))
	for i, si := range sightings {
		var first, last int64
		var count uint64
		var firstScan, lastScan string
		err := get.QueryRowContext(ctx, si.Hash).Scan(&first, &last, &count, &firstScan, &lastScan)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			if _, err := ins.ExecContext(ctx, si.Hash, si.Tool, now, now, scanID, scanID); err != nil {
				return nil, err
			}
			out[i] = Record{Hash: si.Hash, FirstSeen: at, LastSeen: at, Count: 1, New: true}
		case err != nil:
			return nil, err
		case lastScan == scanID: // this scan already counted it
			out[i] = Record{Hash: si.Hash, FirstSeen: time.UnixMilli(first), LastSeen: time.UnixMilli(last), Count: count, New: firstScan == scanID}
		default:
			if _, err := upd.ExecContext(ctx, now, scanID, si.Hash); err != nil {
				return nil, err
			}
			out[i] = Record{Hash: si.Hash, FirstSeen: time.UnixMilli(first), LastSeen: at, Count: count + 1}
		}
	}
	return out, tx.Commit()
}

// Close implements Store.
func (s *SQLite) Close() error { return s.db.Close() }
