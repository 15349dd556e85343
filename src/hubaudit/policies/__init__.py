"""Architecture policies: how bad a change is, and (later) breaches of the council's rules."""
