"""The portal emulator: a real HTTP server that serves a portal's configuration from files."""

from hubaudit.emulator.server import DEMO_TOKEN, EmulatedOAuthApp, PortalEmulator

__all__ = ["DEMO_TOKEN", "EmulatedOAuthApp", "PortalEmulator"]
