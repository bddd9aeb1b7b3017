"""A deliberately vulnerable Python helper for Dracon's demo."""
import hashlib
import pickle
import sqlite3
import subprocess

import yaml


def run(cmd):
    # Command injection: the caller's string goes to a shell.
    return subprocess.call(cmd, shell=True)


def find_user(conn: sqlite3.Connection, name):
    # SQL injection: the query is built from a string.
    return conn.execute("SELECT * FROM users WHERE name = '%s'" % name).fetchall()


def load_config(text):
    # yaml.load without a safe loader runs arbitrary constructors.
    return yaml.load(text)


def load_session(blob):
    # Unpickling untrusted data runs arbitrary code.
    return pickle.loads(blob)


def fingerprint(data):
    return hashlib.md5(data).hexdigest()


def calculate(expr):
    return eval(expr)
