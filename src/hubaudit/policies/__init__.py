"""Architecture policies: how bad a change is (severity, impact), the council's rules a portal
must keep (findings), and which parts of a portal are governed how (surface)."""
