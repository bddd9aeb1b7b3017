module example.com/dracon-demo

go 1.22
