module example.com/idle

go 1.22

require example.com/fakelib v1.0.0
