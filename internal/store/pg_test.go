package store

import (
	"context"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// The PostgreSQL tests run against a real server: DRACON_TEST_POSTGRES
// (a DSN), by default the local one CI starts. They fail, not skip, when
// it does not answer. One database is created per test run (and dropped
// when it ends); each test gets its own schema in it.

const defaultTestPostgres = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

var testPG struct {
	once    sync.Once
	admin   string // DSN of the server's maintenance database
	dbName  string
	err     error
	schemas atomic.Int64
}

func TestMain(m *testing.M) {
	code := m.Run()
	removeBenchStores()
	if testPG.dbName != "" {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if c, err := pgx.Connect(ctx, testPG.admin); err == nil {
			if _, err := c.Exec(ctx, `DROP DATABASE IF EXISTS `+testPG.dbName+` WITH (FORCE)`); err != nil {
				fmt.Fprintln(os.Stderr, "store tests: dropping", testPG.dbName+":", err)
			}
			c.Close(ctx)
		}
		cancel()
	}
	os.Exit(code)
}

// withParam adds a connection parameter to a URL or key=value DSN.
func withParam(dsn, key, value string) string {
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		if key == "dbname" {
			u.Path = "/" + value
			return u.String()
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " " + key + "=" + value
}

func testDatabase(t testing.TB) string {
	testPG.once.Do(func() {
		testPG.admin = os.Getenv("DRACON_TEST_POSTGRES")
		if testPG.admin == "" {
			testPG.admin = defaultTestPostgres
		}
		ctx, cancel := context.WithTimeout(context.Background(), 15*time.Second)
		defer cancel()
		c, err := pgx.Connect(ctx, testPG.admin)
		if err != nil {
			testPG.err = err
			return
		}
		defer c.Close(ctx)
		name := fmt.Sprintf("dracon_store_test_%d_%d", os.Getpid(), time.Now().UnixNano()%1_000_000)
		if _, err := c.Exec(ctx, `CREATE DATABASE `+name); err != nil {
			testPG.err = err
			return
		}
		testPG.dbName = name
	})
	if testPG.err != nil {
		t.Fatalf("PostgreSQL at %s (set DRACON_TEST_POSTGRES to use another): %v", redact(testPG.admin), testPG.err)
	}
	return withParam(testPG.admin, "dbname", testPG.dbName)
}

// postgresDSN returns the DSN of a fresh, empty schema for one test.
func postgresDSN(t testing.TB) string {
	t.Helper()
	db := testDatabase(t)
	schema := fmt.Sprintf("t%d_%s", testPG.schemas.Add(1), strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			return r
		}
		return '_'
	}, strings.ToLower(t.Name())))
	if len(schema) > 60 {
		schema = schema[:60]
	}
	ctx := context.Background()
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{schema}.Sanitize()); err != nil {
		t.Fatal(err)
	}
	return withParam(db, "search_path", schema)
}
