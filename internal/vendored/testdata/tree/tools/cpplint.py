"""Google's cpplint, committed as a single file."""
