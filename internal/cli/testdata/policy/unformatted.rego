package acme.unformatted
deny[msg] {
  msg := "v0, not formatted"
}
