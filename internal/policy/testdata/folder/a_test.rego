package acme.folder_test

test_nothing if true
