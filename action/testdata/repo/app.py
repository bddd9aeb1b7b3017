import subprocess


def run(cmd):
    return subprocess.call(cmd, shell=True)


def digest(data):
    import hashlib
    return hashlib.md5(data).hexdigest()
