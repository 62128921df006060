"""Devices and the hub: the sync protocol, the client that pushes and pulls, the replica,
and the board stream a display follows.
"""
