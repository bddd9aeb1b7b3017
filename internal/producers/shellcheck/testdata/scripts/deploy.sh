#!/bin/sh
# Deliberately sloppy script for Dracon's ShellCheck test.
target=$1
cd /srv/app
rm -rf $target/
for f in $(ls *.tar); do
  tar xf $f
done
if [ $USER == "root" ]; then
  echo "running as root"
fi
now=`date`
echo "deployed at $now"
