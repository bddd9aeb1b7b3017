package example.conflict

# Two values for one complete rule when the title is "boom": a runtime error.
allow := true if input.title == "boom"

allow := false if input.title == "boom"

allow := true if input.title != "boom"
