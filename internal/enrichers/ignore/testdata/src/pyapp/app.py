import subprocess

subprocess.call(cmd, shell=True)  # dracon:ignore B602 cmd is a constant from settings
password = "x"  # dracon:ignore * test fixture

print("dracon:ignore B101 not a comment")
