"""Running as a systemd service: sd_notify, watchdog health, credentials."""
