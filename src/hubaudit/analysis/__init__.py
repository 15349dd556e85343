"""Pure computation over canonical items: canonical form and hashing, the drift engine
(compare), attribution, the dependency graph, and two portals matched for promotion. No
database, no HubSpot, no I/O: values in, values out."""
