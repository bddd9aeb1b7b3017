module example.com/caller

go 1.22

require example.com/fakelib v1.0.0
