"""The service the apps call: one interface, implemented locally over the store."""
