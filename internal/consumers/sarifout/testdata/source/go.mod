module example.com/goapp

go 1.22

require example.com/lib v1.0.0
