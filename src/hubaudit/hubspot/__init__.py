"""Reading a portal: one paced, retrying HTTP transport; the SDK and raw paths on top of it."""
