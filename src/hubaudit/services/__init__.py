"""The use cases: audit a portal, take a snapshot, council decisions, triage, history, KPIs, runs.

The one rule this layer keeps: services are the only code that touches both the store and HubSpot,
and every edge (the CLI, the scheduler, the web app) calls them instead of the store or a client.
A service takes typed values (an :class:`~hubaudit.services.actor.Actor` for the person behind a
decision) and returns typed results; it never prints, never exits, and names no CLI option.
"""
