"""What crosses the wire, shared by the device and HQ.

The sealed batch, device-signed requests and the reference document's format. Imports nothing of
the vault, the device side or HQ.
"""
