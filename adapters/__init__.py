"""Venues and feeds behind one interface (`adapters.base`): simulated, hinance, replay."""
