"""Reading a portal: one paced, retrying HTTP transport; HubSpot's published paths on top."""
