// Package main is a deliberately vulnerable web service for Dracon's demo.
package main

import (
	"crypto/md5"
	"crypto/tls"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"os/exec"
)

var db *sql.DB

// ping runs a command built from the request: command injection.
func ping(w http.ResponseWriter, r *http.Request) {
	host := r.URL.Query().Get("host")
	out, _ := exec.Command("sh", "-c", "ping -c 1 "+host).CombinedOutput()
	w.Write(out)
}

// user builds SQL from the request: SQL injection.
func user(w http.ResponseWriter, r *http.Request) {
	q := fmt.Sprintf("SELECT name FROM users WHERE id = '%s'", r.URL.Query().Get("id"))
	rows, err := db.Query(q)
	if err == nil {
		rows.Close()
	}
}

// fetch turns off TLS certificate checks.
func fetch(url string) (*http.Response, error) {
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: true},
	}}
	return client.Get(url)
}

// token hashes with MD5.
func token(s string) string {
	return fmt.Sprintf("%x", md5.Sum([]byte(s)))
}

func main() {
	http.HandleFunc("/ping", ping)
	http.HandleFunc("/user", user)
	_ = os.WriteFile("/tmp/demo.log", []byte(token("demo")), 0o666)
	_, _ = fetch("https://example.com")
	http.ListenAndServe(":8080", nil)
}
