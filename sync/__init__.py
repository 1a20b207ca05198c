"""Everything that crosses the wire between a field device and HQ."""
